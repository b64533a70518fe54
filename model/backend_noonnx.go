//go:build !onnx

package model

import (
	"fmt"

	"github.com/gomlx/compute"
)

// onnxCompiled says whether the ONNX Runtime backend is linked in (build with -tags onnx).
const onnxCompiled = false

func newONNXBackend(spec, _ string) (compute.Backend, error) {
	return nil, fmt.Errorf("backend %q: the ONNX Runtime backend is not compiled into this binary (build with -tags onnx after make onnx-deps)", spec)
}

// FindONNXLibrary fails: the ONNX Runtime backend is not compiled in.
func FindONNXLibrary() (string, error) {
	return "", fmt.Errorf("the ONNX Runtime backend is not compiled into this binary (build with -tags onnx)")
}
