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

// GoBackend is the pure-Go backend's spec: parallelism=-1, because its
// default worker settings deadlock on 2-core machines (shared/notes/stack.md).
const GoBackend = "go:parallelism=-1"

// DefaultBackend is the spec used when a config leaves backend empty: "auto".
const DefaultBackend = AutoBackend

// AutoBackend picks the fastest CPU backend this binary can run here: ONNX
// Runtime when it is compiled in (-tags onnx, as make build does) and its
// library is found (make deps installs it), else the pure-Go backend.
const AutoBackend = "auto"

// ResolveBackend returns the concrete spec spec stands for: "" and "auto"
// become ONNXSpec where ONNX Runtime is compiled in and its library found
// (or named by $ONNXRUNTIME_SHARED_LIBRARY_PATH), else GoBackend; any other
// spec is returned as is.
func ResolveBackend(spec string) string {
	if spec != "" && spec != AutoBackend {
		return spec
	}
	// A library named in the environment is a request: when it is missing,
	// opening it fails with its path instead of quietly running on Go.
	if onnxFound() || (onnxCompiled && os.Getenv(ONNXLibraryEnv) != "") {
		return ONNXSpec
	}
	return GoBackend
}

// NewBackend creates the compute backend named by spec:
//
//	"", "auto"    -> ResolveBackend: onnx:cpu where available, else GoBackend
//	                   (never XLA)
//	"go", "go:<options>" -> the pure-Go backend, e.g. "go:parallelism=-1"
//	"xla:<plugin>" -> XLA through a PJRT plugin, e.g. "xla:cuda"; an error
//	                   naming the plugin when it is not installed
//	"onnx:cpu"    -> ONNX Runtime (binaries built with -tags onnx, library
//	                   from make onnx-deps: see backend_onnx.go)
func NewBackend(spec string) (compute.Backend, error) {
	spec = ResolveBackend(spec)
	name, opts, _ := strings.Cut(spec, ":")
	switch name {
	case "go":
		return newGoBackend(opts)
	case "xla":
		return newXLABackend(spec, opts)
	case "onnx", "onnxruntime":
		return newONNXBackend(spec, opts)
	default:
		return nil, fmt.Errorf("backend %q: unknown backend %q (valid: auto, go[:options], xla:<pjrt plugin>, onnx:cpu)", spec, name)
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

// ONNXLibraryEnv names the ONNX Runtime shared library to load; when unset,
// newONNXBackend looks for the copy that `make onnx-deps` installs
// (ONNXDepsLib under the repository root, searched from the working
// directory and from the executable's directory upwards).
const ONNXLibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// ONNXSpec is the ONNX Runtime CPU backend's spec.
const ONNXSpec = "onnx:cpu"

// AvailableBackends lists the CPU backends this binary can run on this
// machine, slowest first: the pure-Go backend always, ONNX Runtime when it is
// compiled in (-tags onnx) and its library is found.
func AvailableBackends() []string {
	specs := []string{GoBackend}
	if onnxFound() {
		specs = append(specs, ONNXSpec)
	}
	return specs
}

// onnxFound says whether ONNX Runtime is compiled in and its library found.
func onnxFound() bool {
	_, err := FindONNXLibrary()
	return onnxCompiled && err == nil
}

// ONNXStatus says whether this binary can use ONNX Runtime here, and why not.
func ONNXStatus() string {
	if !onnxCompiled {
		return "onnx: not compiled in (make build compiles it; go build -tags onnx)"
	}
	lib, err := FindONNXLibrary()
	if err != nil {
		return "onnx: compiled in, library not found (make onnx-deps, or set " + ONNXLibraryEnv + "): " + err.Error()
	}
	return "onnx:cpu (ONNX Runtime, " + lib + ")"
}
