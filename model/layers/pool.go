package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// adaptiveRanges returns, for each of the out bins, the [start, end) range of
// the n inputs it averages (PyTorch's adaptive pooling rule).
func adaptiveRanges(n, out int) [][2]int {
	r := make([][2]int, out)
	for i := range out {
		r[i] = [2]int{i * n / out, ((i+1)*n + out - 1) / out}
	}
	return r
}

// PoolMatrix1D is the [n, out] matrix of 1D adaptive average pooling.
func PoolMatrix1D(n, out int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, out)
	}
	for j, r := range adaptiveRanges(n, out) {
		for i := r[0]; i < r[1]; i++ {
			m[i][j] = 1 / float64(r[1]-r[0])
		}
	}
	return m
}

// PoolMatrix2D is the [side*side, p*p] matrix of 2D adaptive average pooling of
// a row-major side x side token grid down to a p x p grid.
func PoolMatrix2D(side, p int) [][]float64 {
	m := make([][]float64, side*side)
	for i := range m {
		m[i] = make([]float64, p*p)
	}
	ranges := adaptiveRanges(side, p)
	for pr, rr := range ranges {
		for pc, rc := range ranges {
			area := float64((rr[1] - rr[0]) * (rc[1] - rc[0]))
			for r := rr[0]; r < rr[1]; r++ {
				for c := rc[0]; c < rc[1]; c++ {
					m[r*side+c][pr*p+pc] = 1 / area
				}
			}
		}
	}
	return m
}

// PoolTokens applies a pooling matrix [n, out] to the token axis of x [N, n, D],
// returning [N, out, D].
func PoolTokens(x *Node, matrix [][]float64) *Node {
	AssertRank(x, 3, "pool tokens input")
	if len(matrix) != x.Shape().Dim(1) {
		exceptions.Panicf("PoolTokens: matrix has %d rows, tokens axis is %s", len(matrix), x.Shape())
	}
	m := ConvertDType(Const(x.Graph(), matrix), x.DType())
	y := Contract(x, []int{1}, nil, m, []int{0}, nil) // [N, D, out]
	return TransposeAllDims(y, 0, 2, 1)
}
