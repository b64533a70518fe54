package model

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"

	_ "github.com/cpllm/cpllm/internal/simdpin" // same matmul kernels on every AVX2 CPU: see the package
)

// DefaultBackend is the backend spec used when a config leaves it empty: the
// pure-Go backend with parallelism=-1 (its default worker settings deadlock on
// 2-core machines; see shared/notes/stack.md).
const DefaultBackend = "go:parallelism=-1"

// NewBackend creates the compute backend named by spec:
//
//	""            -> DefaultBackend (never XLA)
//	"go", "go:<options>" -> the pure-Go backend, e.g. "go:parallelism=-1"
//	"xla:<plugin>" -> XLA through a PJRT plugin, e.g. "xla:cuda"; an error
//	                   naming the plugin when it is not installed
//	"onnx:cpu"    -> ONNX Runtime (experimental; binaries built with -tags onnx,
//	                   library from make onnx-deps: see backend_onnx.go)
func NewBackend(spec string) (compute.Backend, error) {
	if spec == "" {
		spec = DefaultBackend
	}
	name, opts, _ := strings.Cut(spec, ":")
	switch name {
	case "go":
		return newGoBackend(opts)
	case "xla":
		return newXLABackend(spec, opts)
	case "onnx", "onnxruntime":
		return newONNXBackend(spec, opts)
	default:
		return nil, fmt.Errorf("backend %q: unknown backend %q (valid: go[:options], xla:<pjrt plugin>, onnx:cpu)", spec, name)
	}
}

var stdoutMu sync.Mutex

// newGoBackend creates the Go backend, hiding the line it prints on stdout
// ("Go backend: parallelism set to N") so that CLI output (e.g. JSON) stays clean.
func newGoBackend(opts string) (compute.Backend, error) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	saved := os.Stdout
	if devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = devnull
		defer func() { os.Stdout = saved; _ = devnull.Close() }()
	}
	b, err := gobackend.New(opts)
	if err != nil {
		return nil, fmt.Errorf("go backend %q: %w", opts, err)
	}
	return b, nil
}
