//go:build !onnx

package model

import (
	"strings"
	"testing"
)

// Without -tags onnx, "onnx:cpu" is a clear error, never a silent fallback.
func TestONNXNotCompiled(t *testing.T) {
	for _, spec := range []string{"onnx:cpu", "onnx", "onnxruntime:cpu"} {
		if _, err := NewBackend(spec); err == nil || !strings.Contains(err.Error(), "-tags onnx") {
			t.Errorf("NewBackend(%q): %v, want the not-compiled error", spec, err)
		}
	}
}
