package matv5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unicode/utf16"
)

// Write writes vars as a little-endian MAT v5 file, each variable in its own
// zlib-compressed element when compress is set. It covers what Read decodes
// for double, char and cell arrays, which is enough to build test fixtures
// and small label files. Integral doubles in [0,255] are stored as miUINT8,
// as MATLAB does, so the narrow-type and small-element paths get exercised.
func Write(w io.Writer, vars []*Var, compress bool) error {
	hdr := make([]byte, 128)
	copy(hdr, fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, written by cpllm matv5"))
	binary.LittleEndian.PutUint16(hdr[124:], 0x0100)
	copy(hdr[126:], "IM")
	var out bytes.Buffer
	out.Write(hdr)
	for _, v := range vars {
		var m bytes.Buffer
		if err := writeMatrix(&m, v); err != nil {
			return err
		}
		if !compress {
			out.Write(m.Bytes())
			continue
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(m.Bytes())
		if err := zw.Close(); err != nil {
			return err
		}
		writeTag(&out, miCOMPRESSED, z.Len())
		out.Write(z.Bytes())
	}
	_, err := w.Write(out.Bytes())
	return err
}

func writeTag(b *bytes.Buffer, typ, n int) {
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:], uint32(typ))
	binary.LittleEndian.PutUint32(t[4:], uint32(n))
	b.Write(t[:])
}

// writeElement writes one padded data element, in the small format when the
// data fits in four bytes.
func writeElement(b *bytes.Buffer, typ int, data []byte) {
	if len(data) > 0 && len(data) <= 4 {
		var t [8]byte
		binary.LittleEndian.PutUint32(t[:], uint32(len(data))<<16|uint32(typ))
		copy(t[4:], data)
		b.Write(t[:])
		return
	}
	writeTag(b, typ, len(data))
	b.Write(data)
	b.Write(make([]byte, (8-len(data)%8)%8))
}

func writeMatrix(b *bytes.Buffer, v *Var) error {
	var body bytes.Buffer
	flags := make([]byte, 8)
	binary.LittleEndian.PutUint32(flags, uint32(v.Class))
	writeElement(&body, miUINT32, flags)
	dims := v.Dims
	if len(dims) == 0 {
		dims = []int{1, v.count()}
	}
	db := make([]byte, 4*len(dims))
	for i, x := range dims {
		binary.LittleEndian.PutUint32(db[4*i:], uint32(x))
	}
	writeElement(&body, miINT32, db)
	writeElement(&body, miINT8, []byte(v.Name))
	switch v.Class {
	case ClassDouble:
		typ, data := doubleData(v.Real)
		writeElement(&body, typ, data)
	case ClassChar:
		cb := make([]byte, 2*len(v.Chars))
		for i, c := range v.Chars {
			binary.LittleEndian.PutUint16(cb[2*i:], c)
		}
		writeElement(&body, miUINT16, cb)
	case ClassCell:
		for _, c := range v.Cells {
			if err := writeMatrix(&body, c); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("matv5.Write: class %s not supported", v.Class)
	}
	writeTag(b, miMATRIX, body.Len())
	b.Write(body.Bytes())
	return nil
}

func (v *Var) count() int {
	switch v.Class {
	case ClassCell:
		return len(v.Cells)
	case ClassChar:
		return len(v.Chars)
	}
	return len(v.Real)
}

func doubleData(x []float64) (int, []byte) {
	small := true
	for _, f := range x {
		if f != math.Trunc(f) || f < 0 || f > 255 {
			small = false
			break
		}
	}
	if small {
		b := make([]byte, len(x))
		for i, f := range x {
			b[i] = byte(f)
		}
		return miUINT8, b
	}
	b := make([]byte, 8*len(x))
	for i, f := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
	}
	return miDOUBLE, b
}

// String makes a 1xN char array.
func String(name, s string) *Var {
	u := utf16.Encode([]rune(s))
	return &Var{Name: name, Class: ClassChar, Dims: []int{1, len(u)}, Chars: u}
}

// CellStr makes an Nx1 cell array of strings, the shape of LIVE-VQC's video_list.
func CellStr(name string, s []string) *Var {
	v := &Var{Name: name, Class: ClassCell, Dims: []int{len(s), 1}}
	for _, x := range s {
		v.Cells = append(v.Cells, String("", x))
	}
	return v
}

// Column makes an Nx1 double array.
func Column(name string, x []float64) *Var {
	return &Var{Name: name, Class: ClassDouble, Dims: []int{len(x), 1}, Real: x}
}
