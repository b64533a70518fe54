package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// ReadNPZ reads a NumPy .npz archive (np.savez or np.savez_compressed: a zip
// of .npy files) as a Source. Tensor names are the member names without
// ".npy" (flax checkpoints use '/'-joined parameter paths). Only
// little-endian float16/32/64 arrays in C order are accepted.
func ReadNPZ(path string) (*Source, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	src := &Source{Tensors: map[string]Tensor{}, Origin: map[string]string{}, Metadata: map[string]string{}}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("%s: member %q is not a .npy file", path, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		buf, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		t, err := decodeNPY(buf)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		if _, dup := src.Tensors[name]; dup {
			return nil, fmt.Errorf("%s: member %q appears twice", path, f.Name)
		}
		src.Tensors[name], src.Origin[name] = t, path
	}
	return src, nil
}

var (
	npyDescr   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// decodeNPY parses one .npy file (format versions 1-3).
func decodeNPY(buf []byte) (Tensor, error) {
	if len(buf) < 10 || !bytes.Equal(buf[:6], []byte("\x93NUMPY")) {
		return Tensor{}, fmt.Errorf("not a .npy file (bad magic)")
	}
	var hlen, start int
	switch buf[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(buf[8:10])), 10
	case 2, 3:
		if len(buf) < 12 {
			return Tensor{}, fmt.Errorf("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(buf[8:12])), 12
	default:
		return Tensor{}, fmt.Errorf(".npy format version %d is not supported", buf[6])
	}
	if start+hlen > len(buf) {
		return Tensor{}, fmt.Errorf("truncated .npy header")
	}
	header, data := string(buf[start:start+hlen]), buf[start+hlen:]
	d, f, s := npyDescr.FindStringSubmatch(header), npyFortran.FindStringSubmatch(header), npyShape.FindStringSubmatch(header)
	if d == nil || f == nil || s == nil {
		return Tensor{}, fmt.Errorf("unreadable .npy header %q", header)
	}
	if f[1] == "True" {
		return Tensor{}, fmt.Errorf("fortran-order arrays are not supported")
	}
	dt, ok := map[string]DType{"<f2": F16, "<f4": F32, "<f8": F64}[d[1]]
	if !ok {
		return Tensor{}, fmt.Errorf("dtype %q is not a little-endian float16/32/64", d[1])
	}
	shape := []int{}
	for _, p := range strings.Split(s[1], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Tensor{}, fmt.Errorf("bad shape %q", s[1])
		}
		shape = append(shape, n)
	}
	t := Tensor{DType: dt, Shape: shape}
	if want := t.NumElements() * dt.Size(); len(data) != want {
		return Tensor{}, fmt.Errorf("shape %v %s needs %d data bytes, found %d", shape, d[1], want, len(data))
	}
	t.Data = data
	return t, nil
}
