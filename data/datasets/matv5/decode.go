package matv5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// Data element types (miXXX).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

// maxDepth bounds cell nesting; real label files nest one level.
const maxDepth = 32

type decoder struct {
	order  binary.ByteOrder
	budget int64 // bytes left for decompression
}

// element reads the data element at off: its type, its body, and the offset of
// the next element (8-byte aligned, except after a top-level compressed one).
func (d *decoder) element(buf []byte, off int, top bool) (typ uint32, body []byte, next int, err error) {
	if len(buf)-off < 8 {
		return 0, nil, 0, fmt.Errorf("truncated tag (%d bytes left)", len(buf)-off)
	}
	w0 := d.order.Uint32(buf[off:])
	if w0>>16 != 0 { // small data element: size and type share the first word
		n := int(w0 >> 16)
		if n > 4 {
			return 0, nil, 0, fmt.Errorf("small element claims %d bytes", n)
		}
		return w0 & 0xffff, buf[off+4 : off+4+n], off + 8, nil
	}
	n := uint64(d.order.Uint32(buf[off+4:]))
	if n > uint64(len(buf)-off-8) {
		return 0, nil, 0, fmt.Errorf("element of type %d claims %d bytes, %d left", w0, n, len(buf)-off-8)
	}
	end := off + 8 + int(n)
	next = end
	if !(top && w0 == miCOMPRESSED) {
		next = min(end+(8-int(n)%8)%8, len(buf))
	}
	return w0, buf[off+8 : end], next, nil
}

func (d *decoder) topLevel(typ uint32, body []byte) ([]*Var, error) {
	switch typ {
	case miMATRIX:
		v, err := d.matrix(body, 0)
		if err != nil {
			return nil, err
		}
		return []*Var{v}, nil
	case miCOMPRESSED:
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("compressed element: %w", err)
		}
		raw, err := io.ReadAll(io.LimitReader(zr, d.budget+1))
		if err != nil {
			return nil, fmt.Errorf("compressed element: %w", err)
		}
		if int64(len(raw)) > d.budget {
			return nil, fmt.Errorf("compressed data exceeds %d bytes", MaxBytes)
		}
		d.budget -= int64(len(raw))
		var vars []*Var
		for off := 0; off < len(raw); {
			t, b, next, err := d.element(raw, off, false)
			if err != nil {
				return nil, fmt.Errorf("inside compressed element: %w", err)
			}
			if t != miMATRIX {
				return nil, fmt.Errorf("inside compressed element: element type %d, want miMATRIX", t)
			}
			v, err := d.matrix(b, 0)
			if err != nil {
				return nil, err
			}
			vars = append(vars, v)
			off = next
		}
		return vars, nil
	}
	return nil, fmt.Errorf("top-level element type %d, want miMATRIX or miCOMPRESSED", typ)
}

// matrix decodes the body of a miMATRIX element.
func (d *decoder) matrix(body []byte, depth int) (*Var, error) {
	if len(body) == 0 { // MATLAB writes [] inside cells as an empty element
		return &Var{Class: ClassDouble, Dims: []int{0, 0}}, nil
	}
	if depth > maxDepth {
		return nil, errors.New("cells nested too deeply")
	}
	off := 0
	sub := func(what string, want ...uint32) (uint32, []byte, error) {
		if off >= len(body) {
			return 0, nil, fmt.Errorf("matrix: missing %s", what)
		}
		t, b, next, err := d.element(body, off, false)
		if err != nil {
			return 0, nil, fmt.Errorf("matrix %s: %w", what, err)
		}
		off = next
		if len(want) > 0 && !contains(want, t) {
			return 0, nil, fmt.Errorf("matrix %s: element type %d", what, t)
		}
		return t, b, nil
	}
	_, flags, err := sub("array flags", miUINT32)
	if err != nil {
		return nil, err
	}
	if len(flags) < 4 {
		return nil, fmt.Errorf("matrix array flags: %d bytes", len(flags))
	}
	w := d.order.Uint32(flags)
	v := &Var{Class: Class(w & 0xff), Complex: w&0x800 != 0, Logical: w&0x200 != 0}
	_, dims, err := sub("dimensions", miINT32)
	if err != nil {
		return nil, err
	}
	if len(dims)%4 != 0 || len(dims) == 0 {
		return nil, fmt.Errorf("matrix dimensions: %d bytes", len(dims))
	}
	n := 1
	for i := 0; i < len(dims); i += 4 {
		x := int32(d.order.Uint32(dims[i:]))
		if x < 0 {
			return nil, fmt.Errorf("matrix dimension %d is negative", x)
		}
		v.Dims = append(v.Dims, int(x))
		if x != 0 && n > math.MaxInt32/int(x) {
			return nil, fmt.Errorf("matrix dimensions %s too large", dimString(v.Dims))
		}
		n *= int(x)
	}
	_, name, err := sub("name", miINT8, miUINT8, miUTF8)
	if err != nil {
		return nil, err
	}
	v.Name = string(name)

	switch {
	case v.Class.Numeric():
		t, b, err := sub("real part")
		if err != nil {
			return nil, err
		}
		if v.Real, err = d.numbers(t, b, n); err != nil {
			return nil, fmt.Errorf("%q real part: %w", v.Name, err)
		}
		if v.Complex {
			t, b, err := sub("imaginary part")
			if err != nil {
				return nil, err
			}
			if v.Imag, err = d.numbers(t, b, n); err != nil {
				return nil, fmt.Errorf("%q imaginary part: %w", v.Name, err)
			}
		}
	case v.Class == ClassChar:
		if n == 0 && off >= len(body) {
			return v, nil // '' may omit its data element
		}
		t, b, err := sub("char data")
		if err != nil {
			return nil, err
		}
		if v.Chars, err = d.chars(t, b, n); err != nil {
			return nil, fmt.Errorf("%q: %w", v.Name, err)
		}
	case v.Class == ClassCell:
		v.Cells = make([]*Var, 0, min(n, len(body)/8))
		for i := range n {
			_, b, err := sub(fmt.Sprintf("cell %d", i+1), miMATRIX)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", v.Name, err)
			}
			c, err := d.matrix(b, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%q cell %d: %w", v.Name, i+1, err)
			}
			v.Cells = append(v.Cells, c)
		}
	}
	// Other classes (struct, sparse, object, ...) are listed without data.
	return v, nil
}

func contains(s []uint32, x uint32) bool {
	for _, y := range s {
		if x == y {
			return true
		}
	}
	return false
}

// numbers converts a numeric data element; MATLAB often stores doubles in a
// narrower type (e.g. integral values as miUINT8), so any numeric type goes.
func (d *decoder) numbers(t uint32, b []byte, n int) ([]float64, error) {
	size := map[uint32]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4,
		miUINT32: 4, miSINGLE: 4, miDOUBLE: 8, miINT64: 8, miUINT64: 8}[t]
	if size == 0 {
		return nil, fmt.Errorf("element type %d is not numeric", t)
	}
	if len(b)%size != 0 || len(b)/size != n {
		return nil, fmt.Errorf("%d bytes of type %d for %d elements", len(b), t, n)
	}
	out := make([]float64, n)
	o := d.order
	for i := range out {
		p := b[i*size:]
		switch t {
		case miINT8:
			out[i] = float64(int8(p[0]))
		case miUINT8:
			out[i] = float64(p[0])
		case miINT16:
			out[i] = float64(int16(o.Uint16(p)))
		case miUINT16:
			out[i] = float64(o.Uint16(p))
		case miINT32:
			out[i] = float64(int32(o.Uint32(p)))
		case miUINT32:
			out[i] = float64(o.Uint32(p))
		case miSINGLE:
			out[i] = float64(math.Float32frombits(o.Uint32(p)))
		case miDOUBLE:
			out[i] = math.Float64frombits(o.Uint64(p))
		case miINT64:
			out[i] = float64(int64(o.Uint64(p)))
		case miUINT64:
			out[i] = float64(o.Uint64(p))
		}
	}
	return out, nil
}

// chars converts char data to UTF-16 code units (MATLAB's char unit).
func (d *decoder) chars(t uint32, b []byte, n int) ([]uint16, error) {
	var u []uint16
	switch t {
	case miUINT16, miUTF16:
		if len(b)%2 != 0 {
			return nil, fmt.Errorf("odd UTF-16 char data length %d", len(b))
		}
		u = make([]uint16, len(b)/2)
		for i := range u {
			u[i] = d.order.Uint16(b[2*i:])
		}
	case miUINT8, miINT8:
		u = make([]uint16, len(b))
		for i, c := range b {
			u[i] = uint16(c)
		}
	case miUTF8:
		if !utf8.Valid(b) {
			return nil, errors.New("invalid UTF-8 char data")
		}
		u = utf16.Encode([]rune(string(b)))
		if len(u) != n && utf8.RuneCount(b) != n && len(b) != n {
			return nil, fmt.Errorf("%d UTF-8 chars for %d elements", len(u), n)
		}
		return u, nil // counts may differ by encoding; rows are rebuilt by units
	case miUTF32:
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("UTF-32 char data length %d", len(b))
		}
		r := make([]rune, len(b)/4)
		for i := range r {
			r[i] = rune(d.order.Uint32(b[4*i:]))
		}
		u = utf16.Encode(r)
	default:
		return nil, fmt.Errorf("element type %d is not char data", t)
	}
	if len(u) != n {
		return nil, fmt.Errorf("%d chars for %d elements", len(u), n)
	}
	return u, nil
}
