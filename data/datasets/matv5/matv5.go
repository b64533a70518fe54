// Package matv5 reads the subset of MATLAB Level 5 MAT-files that VQA label
// files use: numeric arrays, char arrays and cell arrays, optionally inside
// zlib-compressed elements. Other classes (struct, sparse, object, ...) are
// listed with their class but carry no data. MAT v7.3 files are HDF5 and are
// rejected with a clear error.
package matv5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
)

// Class is a MATLAB array class (mxCLASS).
type Class uint8

// Array classes from the MAT-file format specification.
const (
	ClassCell     Class = 1
	ClassStruct   Class = 2
	ClassObject   Class = 3
	ClassChar     Class = 4
	ClassSparse   Class = 5
	ClassDouble   Class = 6
	ClassSingle   Class = 7
	ClassInt8     Class = 8
	ClassUint8    Class = 9
	ClassInt16    Class = 10
	ClassUint16   Class = 11
	ClassInt32    Class = 12
	ClassUint32   Class = 13
	ClassInt64    Class = 14
	ClassUint64   Class = 15
	ClassFunction Class = 16
	ClassOpaque   Class = 17
)

var classNames = map[Class]string{
	ClassCell: "cell", ClassStruct: "struct", ClassObject: "object", ClassChar: "char",
	ClassSparse: "sparse", ClassDouble: "double", ClassSingle: "single",
	ClassInt8: "int8", ClassUint8: "uint8", ClassInt16: "int16", ClassUint16: "uint16",
	ClassInt32: "int32", ClassUint32: "uint32", ClassInt64: "int64", ClassUint64: "uint64",
	ClassFunction: "function_handle", ClassOpaque: "opaque",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Numeric reports whether the class holds numbers (Real/Imag).
func (c Class) Numeric() bool { return c >= ClassDouble && c <= ClassUint64 }

// Var is one array. Data is column-major, as MATLAB stores it.
type Var struct {
	Name    string
	Class   Class
	Dims    []int
	Logical bool
	Complex bool
	Real    []float64 // numeric classes
	Imag    []float64 // numeric classes with Complex set
	Cells   []*Var    // ClassCell
	Chars   []uint16  // ClassChar, UTF-16 code units
}

// Len is the number of elements (product of Dims).
func (v *Var) Len() int {
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	return n
}

// Float64s returns the real part of a numeric array.
func (v *Var) Float64s() ([]float64, error) {
	if !v.Class.Numeric() {
		return nil, fmt.Errorf("variable %q is %s, not numeric", v.Name, v.Class)
	}
	return v.Real, nil
}

// Strings returns the strings of a cell array of char rows (cellstr) or the
// rows of a char matrix; char-matrix rows lose MATLAB's trailing-space padding.
func (v *Var) Strings() ([]string, error) {
	switch v.Class {
	case ClassChar:
		return v.charRows(), nil
	case ClassCell:
		out := make([]string, len(v.Cells))
		for i, c := range v.Cells {
			if c.Class != ClassChar {
				if c.Class == ClassDouble && c.Len() == 0 {
					continue // [] in a cellstr reads as ""
				}
				return nil, fmt.Errorf("variable %q: cell %d is %s, not char", v.Name, i+1, c.Class)
			}
			if len(c.Dims) > 2 || (len(c.Dims) == 2 && c.Dims[0] > 1) {
				return nil, fmt.Errorf("variable %q: cell %d is a %s char array, not one string", v.Name, i+1, dimString(c.Dims))
			}
			out[i] = string(utf16.Decode(c.Chars))
		}
		return out, nil
	}
	return nil, fmt.Errorf("variable %q is %s, not char or cell", v.Name, v.Class)
}

func (v *Var) charRows() []string {
	rows := 1
	if len(v.Dims) > 0 {
		rows = v.Dims[0]
	}
	if rows <= 1 {
		if len(v.Chars) == 0 && rows == 0 {
			return nil
		}
		return []string{string(utf16.Decode(v.Chars))}
	}
	cols := len(v.Chars) / rows
	out := make([]string, rows)
	row := make([]uint16, cols)
	for i := range rows {
		for j := range cols {
			row[j] = v.Chars[i+j*rows]
		}
		out[i] = strings.TrimRight(string(utf16.Decode(row)), " ")
	}
	return out
}

func dimString(d []int) string {
	s := make([]string, len(d))
	for i, x := range d {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, "x")
}

// File is a parsed MAT-file.
type File struct {
	Header string // descriptive text of the 128-byte header, trimmed
	Vars   []*Var
}

// Var returns the named top-level variable; the error lists the names present.
func (f *File) Var(name string) (*Var, error) {
	for _, v := range f.Vars {
		if v.Name == name {
			return v, nil
		}
	}
	names := make([]string, 0, len(f.Vars))
	for _, v := range f.Vars {
		names = append(names, v.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("no variable %q (have: %s)", name, strings.Join(names, ", "))
}

// MaxBytes bounds the file size and the total decompressed size Read accepts,
// so a hostile file cannot make it allocate without limit.
var MaxBytes int64 = 256 << 20

// ErrV73 is returned for MAT v7.3 files, which are HDF5 containers.
var ErrV73 = errors.New("MAT v7.3 (HDF5) file: not supported, save with -v7 or read it with h5py")

// Read parses a whole MAT v5 file.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxBytes {
		return nil, fmt.Errorf("file larger than %d bytes", MaxBytes)
	}
	return Decode(data)
}

// Decode parses a MAT v5 file held in memory.
func Decode(data []byte) (*File, error) {
	if len(data) < 128 {
		return nil, errors.New("not a MAT v5 file: shorter than the 128-byte header")
	}
	if bytes.HasPrefix(data, []byte("\x89HDF")) || bytes.HasPrefix(data, []byte("MATLAB 7.3")) {
		return nil, ErrV73
	}
	d := &decoder{budget: MaxBytes}
	switch string(data[126:128]) {
	case "IM":
		d.order = binary.LittleEndian
	case "MI":
		d.order = binary.BigEndian
	default:
		return nil, errors.New("not a MAT v5 file: no endian indicator in the header")
	}
	if v := d.order.Uint16(data[124:126]); v == 0x0200 {
		return nil, ErrV73
	} else if v != 0x0100 {
		return nil, fmt.Errorf("not a MAT v5 file: header version %#04x", v)
	}
	f := &File{Header: strings.TrimRight(string(bytes.TrimRight(data[:116], "\x00")), " ")}
	off := 128
	for off < len(data) {
		typ, body, next, err := d.element(data, off, true)
		if err != nil {
			return nil, fmt.Errorf("element at byte %d: %w", off, err)
		}
		vars, err := d.topLevel(typ, body)
		if err != nil {
			return nil, fmt.Errorf("element at byte %d: %w", off, err)
		}
		f.Vars = append(f.Vars, vars...)
		off = next
	}
	return f, nil
}
