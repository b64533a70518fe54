package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// TestCPUIDMask: under deploy/cpuidmask (LD_PRELOAD) a cgo Go program sees
// no AVX-512, both in the Go runtime's feature detection and in CPUID
// executed from C, keeps AVX2, and still turns a nil dereference into a Go
// panic (its own SIGSEGV handler gets every fault that is not a CPUID).
// Without the mask the same program reports the CPU as it is.
func TestCPUIDMask(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("CPUID faulting is Linux x86-64 only")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		testutil.MissingOracle(t, "cc (build-essential)")
	}
	dir := t.TempDir()
	lib := filepath.Join(dir, "cpuidmask.so")
	if out, err := exec.Command(cc, "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o", lib, "cpuidmask/cpuidmask.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	child := filepath.Join(dir, "maskchild")
	build := exec.Command("go", "build", "-o", child, "./testdata/maskchild")
	build.Env = append(os.Environ(), "GOEXPERIMENT=simd") // the child reads simd/archsimd
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(preload bool) string {
		cmd := exec.Command(child)
		cmd.Env = os.Environ()
		if preload {
			cmd.Env = append(cmd.Env, "LD_PRELOAD="+lib)
		}
		out, err := cmd.CombinedOutput()
		if preload && strings.Contains(string(out), "no CPUID faulting") {
			t.Skipf("this kernel or CPU cannot mask CPUID: %s", out)
		}
		if err != nil {
			t.Fatalf("preload=%v: %v\n%s", preload, err, out)
		}
		return string(out)
	}
	native, masked := run(false), run(true)
	t.Logf("native: %s masked: %s", native, masked)
	for _, want := range []string{"go_avx512=false", "c_avx512f=false", "recovered=true"} {
		if !strings.Contains(masked, want) {
			t.Errorf("masked output lacks %q:\n%s", want, masked)
		}
	}
	if strings.Contains(native, "go_avx2=true") && !strings.Contains(masked, "go_avx2=true c_avx512f=false c_avx2=true") {
		t.Errorf("the mask hid AVX2 too:\n%s", masked)
	}
	if !strings.Contains(native, "recovered=true") {
		t.Errorf("native run:\n%s", native)
	}
	if !strings.Contains(native, "c_avx512f=true") {
		t.Logf("this CPU has no AVX-512: the mask changed nothing here")
	} else if native == masked {
		t.Errorf("the mask changed nothing on a CPU with AVX-512")
	}
}
