//go:build onnx

package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	onnxbackend "github.com/gomlx/compute-onnx"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// onnxCompiled says whether the ONNX Runtime backend is linked in (build with -tags onnx).
const onnxCompiled = true

// ONNXDepsLib is where `make onnx-deps` leaves libonnxruntime.so (npm's
// onnxruntime-node package, linux-x64), relative to the repository root.
const ONNXDepsLib = ".deps/onnxruntime/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

func init() {
	// Never download ONNX Runtime at run time: a missing library is an error.
	onnxbackend.EnableAutoInstall(false)
}

// FindONNXLibrary returns the ONNX Runtime library the onnx backend loads:
// $ONNXRUNTIME_SHARED_LIBRARY_PATH, else ONNXDepsLib found upwards from the
// working directory or the executable's directory.
func FindONNXLibrary() (string, error) {
	if p := os.Getenv(ONNXLibraryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ONNXLibraryEnv, p, err)
		}
		return p, nil
	}
	if p, ok := fsutil.FindUpward(ONNXDepsLib); ok {
		return p, nil
	}
	return "", fmt.Errorf("ONNX Runtime library not found: run `make onnx-deps` (installs %s) or set %s", ONNXDepsLib, ONNXLibraryEnv)
}

// newONNXBackend creates GoMLX's ONNX Runtime backend (github.com/gomlx/compute-onnx).
// opts are its comma-separated options ("cpu", "cuda", "log=N", a library
// path); the execution provider defaults to "cpu" (never auto-detected) and
// the library to FindONNXLibrary's.
func newONNXBackend(spec, opts string) (compute.Backend, error) {
	parts := []string{}
	hasProvider, hasLib := false, false
	for _, p := range strings.Split(opts, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		switch strings.ToLower(p) {
		case "cpu", "cuda", "gpu", "migraphx", "rocm", "amd":
			hasProvider = true
		default:
			if strings.Contains(p, "/") || strings.Contains(p, ".so") {
				hasLib = true
			}
		}
		parts = append(parts, p)
	}
	if !hasProvider {
		parts = append([]string{"cpu"}, parts...)
	}
	if !hasLib {
		lib, err := FindONNXLibrary()
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", spec, err)
		}
		if abs, err := filepath.Abs(lib); err == nil {
			lib = abs
		}
		parts = append(parts, lib)
	}
	b, err := onnxbackend.New(strings.Join(parts, ","))
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", spec, err)
	}
	return b, nil
}
