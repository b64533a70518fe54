package weights

import (
	"encoding/binary"
	"fmt"
	"math"
)

// FromFloat64 encodes vals (row-major, len = prod(shape)) as dtype, rounding to
// nearest even for the narrower types.
func FromFloat64(dtype DType, shape []int, vals []float64) (Tensor, error) {
	t := Tensor{DType: dtype, Shape: append([]int{}, shape...)}
	if n := t.NumElements(); n != len(vals) {
		return Tensor{}, fmt.Errorf("shape %v needs %d values, got %d", shape, n, len(vals))
	}
	sz := dtype.Size()
	if sz == 0 {
		return Tensor{}, fmt.Errorf("unsupported dtype %q", dtype)
	}
	t.Data = make([]byte, len(vals)*sz)
	le := binary.LittleEndian
	for i, v := range vals {
		b := t.Data[i*sz:]
		switch dtype {
		case F64:
			le.PutUint64(b, math.Float64bits(v))
		case F32:
			le.PutUint32(b, math.Float32bits(float32(v)))
		case BF16:
			le.PutUint16(b, f32ToBF16(float32(v)))
		case F16:
			le.PutUint16(b, f32ToF16(float32(v)))
		}
	}
	return t, nil
}

// Float64 decodes the tensor's values (exactly: every supported dtype fits).
func (t Tensor) Float64() []float64 {
	sz := t.DType.Size()
	out := make([]float64, len(t.Data)/max(sz, 1))
	le := binary.LittleEndian
	for i := range out {
		b := t.Data[i*sz:]
		switch t.DType {
		case F64:
			out[i] = math.Float64frombits(le.Uint64(b))
		case F32:
			out[i] = float64(math.Float32frombits(le.Uint32(b)))
		case BF16:
			out[i] = float64(math.Float32frombits(uint32(le.Uint16(b)) << 16))
		case F16:
			out[i] = float64(f16ToF32(le.Uint16(b)))
		}
	}
	return out
}

// f32ToBF16 keeps the top 16 bits, rounding to nearest even (NaN stays NaN).
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// f32ToF16 converts to IEEE half precision, rounding to nearest even, with
// subnormals, overflow to infinity and NaN.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // half subnormal (or zero)
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - e)
		half := mant >> shift
		rem, halfway := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > halfway || (rem == halfway && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // a carry into the exponent is the correct rounding (up to infinity)
	}
	return sign | uint16(half)
}

func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		v := float32(mant) / (1 << 24) // subnormal: mant * 2^-24
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
