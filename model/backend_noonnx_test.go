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

// Without ONNX Runtime compiled in, auto (and an empty spec) is the pure-Go
// backend, and AvailableBackends says so.
func TestAutoWithoutONNX(t *testing.T) {
	for _, spec := range []string{"", AutoBackend} {
		if got := ResolveBackend(spec); got != GoBackend {
			t.Errorf("ResolveBackend(%q) = %q, want %q", spec, got, GoBackend)
		}
	}
	if got := AvailableBackends(); len(got) != 1 || got[0] != GoBackend {
		t.Errorf("AvailableBackends() = %v, want [%s]", got, GoBackend)
	}
	b, err := NewBackend(AutoBackend)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.ToLower(b.Name()), "go") {
		t.Errorf("auto opened %q, want the go backend", b.Name())
	}
	if s := ONNXStatus(); !strings.Contains(s, "not compiled in") {
		t.Errorf("ONNXStatus() = %q", s)
	}
}
