package layers

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// Every dot product of the model goes through Contract or ContractEinsum.
//
// The pure-Go backend's AVX2 bfloat16 matmul (github.com/gomlx/compute
// v0.1.6, gen_avx2_small_bf16.go) reads 16 values where its 8-wide column
// tail needs 8: when the right operand's row length mod 16 is 8..15, its last
// load runs 16 bytes past the buffer, and the process dies with SIGSEGV when
// those bytes fall on an unmapped page (rare, so it shows as an intermittent
// crash). cpllm pins the AVX2 kernels (internal/simdpin), so every CPU takes
// that path. On that backend a bfloat16 contraction therefore runs as a
// float32 one of the bfloat16 operands: the same products and the same
// float32 accumulation the bfloat16 kernel does, then the result is rounded
// to bfloat16 as before. Other backends (XLA, ONNX Runtime) keep bfloat16.

// goBackend is the pure-Go backend's name (compute/gobackend.BackendName).
const goBackend = "go"

// widen reports whether x's contraction must run in float32 (see above).
func widen(x *Node) bool {
	return x.DType() == dtypes.BFloat16 && x.Graph().Backend().String() == goBackend
}

// Contract is DotGeneral: the given axes of x and y are contracted, the batch
// axes paired; the output holds batch axes, then x's free axes, then y's.
func Contract(x *Node, xContract, xBatch []int, y *Node, yContract, yBatch []int) *Node {
	if !widen(x) && !widen(y) {
		return Dot(x, y).General(xContract, xBatch, yContract, yBatch)
	}
	out := Dot(ConvertDType(x, dtypes.Float32), ConvertDType(y, dtypes.Float32)).General(xContract, xBatch, yContract, yBatch)
	return ConvertDType(out, x.DType())
}

// ContractEinsum is Einsum of two operands, with Contract's bfloat16 rule.
func ContractEinsum(equation string, x, y *Node) *Node {
	if !widen(x) && !widen(y) {
		return Einsum(equation, x, y)
	}
	out := Einsum(equation, ConvertDType(x, dtypes.Float32), ConvertDType(y, dtypes.Float32))
	return ConvertDType(out, x.DType())
}
