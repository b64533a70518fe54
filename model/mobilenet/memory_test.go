package mobilenet_test

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	. "github.com/cpllm/cpllm/model/mobilenet"
)

// rssMiB is the process's resident memory after the Go heap's free pages
// went back to the system, so what is left is live Go memory plus what the
// backend holds outside the Go heap.
func rssMiB(t *testing.T) float64 {
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Skip("no VmRSS in /proc/self/status")
	return 0
}

// TestFeaturesMemoryStableONNX: data prep runs the network over every frame
// of a dataset, so a call must leave nothing behind. It once kept the
// backend's copy of each input frame (outside the Go heap, invisible to the
// garbage collector): 3-6 MiB per 960x540 call, 140 MiB over this loop.
func TestFeaturesMemoryStableONNX(t *testing.T) {
	dir := t.TempDir()
	WriteRandomTFJS(t, dir, 11)
	w, err := LoadTFJS(dir)
	if err != nil {
		t.Fatal(err)
	}
	be, err := model.NewBackend(model.DefaultBackend)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(be.Name(), "onnx") {
		t.Skipf("backend %s: the kept inputs were ONNX Runtime's; this runs in make test's -tags onnx pass", be.Name())
	}
	net, err := New(be, w)
	if err != nil {
		t.Fatal(err)
	}
	const h, wd, calls = 540, 960, 40
	frame := make([]byte, h*wd*3)
	for i := range frame {
		frame[i] = byte(i * 2654435761 >> 24)
	}
	run := func(n int) {
		for range n {
			if _, err := net.MeanFeatures([][]byte{frame}, h, wd); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(5) // compile and let the backend's pools reach their size
	before := rssMiB(t)
	run(calls)
	grew := rssMiB(t) - before
	t.Logf("%s: resident memory %+.1f MiB over %d calls of one %dx%d frame", be.Name(), grew, calls, wd, h)
	if limit := 0.25 * float64(calls*h*wd*3*4) / (1 << 20); grew > limit {
		t.Errorf("resident memory grew by %.1f MiB over %d calls (limit %.1f: a quarter of the inputs' size); a call keeps memory", grew, calls, limit)
	}
}
