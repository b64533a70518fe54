// Package weights reads and writes safetensors files and moves weights between
// them and a cpllm model: strict imports of HF SigLIP / Gemma checkpoints
// through declarative name maps, and export / load of cpllm-named files
// (optionally with the LoRA adapters merged into the base weights).
package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// DType is a safetensors element type.
type DType string

// Supported element types.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
)

// Size is the element size in bytes (0 for an unknown dtype).
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	case F64:
		return 8
	}
	return 0
}

// Tensor is one named tensor: its dtype, shape and raw little-endian bytes.
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is the content of one safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
}

// maxHeader bounds the JSON header (the format's own limit is 100 MB).
const maxHeader = 100 << 20

type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Encode serialises f: 8-byte little-endian header length, JSON header padded
// with spaces to an 8-byte boundary, then the tensors' data in name order.
func Encode(f File) ([]byte, error) {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	var off int64
	for _, n := range names {
		t := f.Tensors[n]
		if n == "__metadata__" || n == "" {
			return nil, fmt.Errorf("safetensors: invalid tensor name %q", n)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", n, err)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar is "shape": [], not null
		}
		header[n] = headerEntry{t.DType, shape, [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	hj, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return nil, err
	}
	if pad := (8 - len(hj)%8) % 8; pad > 0 {
		hj = append(hj, bytes.Repeat([]byte{' '}, pad)...)
	}
	out := make([]byte, 8, 8+int64(len(hj))+off)
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	out = append(out, hj...)
	for _, n := range names {
		out = append(out, f.Tensors[n].Data...)
	}
	return out, nil
}

// check validates dtype, shape and data length.
func (t Tensor) check() error {
	if t.DType.Size() == 0 {
		return fmt.Errorf("unsupported dtype %q", t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	if want := t.NumElements() * t.DType.Size(); len(t.Data) != want {
		return fmt.Errorf("%s %v needs %d bytes, has %d", t.DType, t.Shape, want, len(t.Data))
	}
	return nil
}

// Write encodes f to path (through a temporary file renamed into place, so a
// failed write never leaves a truncated checkpoint behind).
func Write(path string, f File) error {
	data, err := Encode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}

// Read reads and validates a safetensors file.
func Read(path string) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	if err != nil {
		return File{}, err
	}
	f, err := Decode(data)
	if err != nil {
		return File{}, fmt.Errorf("safetensors file %s: %w", path, err)
	}
	return f, nil
}

// Decode parses and validates safetensors bytes: header size, JSON, dtypes,
// shapes, and that the data offsets tile the data section exactly (no overlap,
// no gap, no overrun). Tensor data aliases buf.
func Decode(buf []byte) (File, error) {
	if len(buf) < 8 {
		return File{}, fmt.Errorf("%d bytes is too short for the 8-byte header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > maxHeader || n > uint64(len(buf)-8) {
		return File{}, fmt.Errorf("header length %d exceeds the file (%d bytes) or the %d-byte limit", n, len(buf), maxHeader)
	}
	hj, data := buf[8:8+n], buf[8+n:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return File{}, fmt.Errorf("header JSON: %w", err)
	}
	f := File{Tensors: make(map[string]Tensor, len(raw))}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	var errs []error
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				errs = append(errs, fmt.Errorf("__metadata__ must be a map of strings: %w", err))
			}
			continue
		}
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			errs = append(errs, fmt.Errorf("tensor %q: header entry: %w", name, err))
			continue
		}
		b, end := e.DataOffsets[0], e.DataOffsets[1]
		t := Tensor{DType: e.DType, Shape: e.Shape}
		switch {
		case t.DType.Size() == 0:
			errs = append(errs, fmt.Errorf("tensor %q: unsupported dtype %q", name, e.DType))
			continue
		case b < 0 || end < b || end > int64(len(data)):
			errs = append(errs, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, b, end, len(data)))
			continue
		}
		t.Data = data[b:end:end] // aliases buf: no second copy of a large checkpoint
		if err := t.check(); err != nil {
			errs = append(errs, fmt.Errorf("tensor %q: data_offsets [%d, %d]: %w", name, b, end, err))
			continue
		}
		f.Tensors[name] = t
		spans = append(spans, span{name, b, end})
	}
	if len(errs) > 0 {
		return File{}, errors.Join(errs...)
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	var prev string
	for _, s := range spans {
		switch {
		case s.begin < pos:
			errs = append(errs, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q (ends at %d)", s.name, s.begin, s.end, prev, pos))
		case s.begin > pos:
			errs = append(errs, fmt.Errorf("tensor %q: gap of %d unused bytes before its data_offsets [%d, %d]", s.name, s.begin-pos, s.begin, s.end))
		}
		pos, prev = max(pos, s.end), s.name
	}
	if pos != int64(len(data)) {
		errs = append(errs, fmt.Errorf("data section has %d bytes but the tensors cover %d", len(data), pos))
	}
	if err := errors.Join(errs...); err != nil {
		return File{}, err
	}
	return f, nil
}
