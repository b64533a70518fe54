//go:build onnx

package train

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/model"
)

// TestONNXTrainerVsGo: the whole trainer (shard streaming, bridge, the
// score/describe/pair mix, AdamW with clipping, checkpoints) on the demo
// model, on the Go backend and on ONNX Runtime (build tag onnx, make
// onnx-deps). Both resume from one checkpoint written after step 1 on the Go
// backend, so they start from the same weights (the backends' random
// generators differ: the same seed initialises different weights) and see
// the same batches; it logs both loss curves, their largest difference and
// the steps/s ratio. ONNX_TRAIN_STEPS sets the steps (default 40);
// ONNX_TRAIN_MODEL the model config name (default demo).
func TestONNXTrainerVsGo(t *testing.T) {
	if _, err := model.FindONNXLibrary(); err != nil {
		t.Skipf("no ONNX Runtime library: %v", err)
	}
	steps := 40
	if s := os.Getenv("ONNX_TRAIN_STEPS"); s != "" {
		fmt.Sscan(s, &steps)
	}
	name := "demo"
	if s := os.Getenv("ONNX_TRAIN_MODEL"); s != "" {
		name = s
	}
	mc, err := model.LoadConfig(feedtest.RepoFile("configs", "model", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if k := mc.Input.Patches; k > 2 { // feedtest's shards hold 2 patches per clip
		mc.Input.Patches = 2
		t.Logf("%s: input.patches %d -> 2 (the test shards' patch count)", name, k)
	}
	trainDir := filepath.Join(t.TempDir(), "train")
	writeShards(t, trainDir, 64, 1, -1)
	recipe := func(n int) Config {
		c := testConfig(n)
		c.Mix = TaskMix{Score: 0.7, Describe: 0.15, Pair: 0.15}
		c.CheckpointEvery = 1
		c.KeepLast = 1
		return c
	}
	base := filepath.Join(t.TempDir(), "base")
	mc.Backend = model.GoBackend
	if _, err := Run(context.Background(), Options{ModelConfig: mc, Train: recipe(1), TrainDir: trainDir, OutDir: base}); err != nil {
		t.Fatal(err)
	}
	const warm = 6 // steps (after the resumed one) before timing: compilation of the three tasks
	type run struct {
		losses []float64
		tasks  []model.Task
		rate   float64
		wall   time.Duration
	}
	runs := map[string]*run{}
	for _, be := range []string{model.GoBackend, "onnx:cpu"} {
		out := filepath.Join(t.TempDir(), "run")
		copyDir(t, base, out)
		mc.Backend = be
		r := &run{}
		var t0 time.Time
		start := time.Now()
		c := recipe(steps)
		c.CheckpointEvery = 0
		_, err := Run(context.Background(), Options{ModelConfig: mc, Train: c, TrainDir: trainDir, OutDir: out, Resume: true,
			Progress: func(step, _ int) {
				if step == 1+warm {
					t0 = time.Now()
				}
			},
			Hooks: Hooks{Loss: func(step int, task model.Task, loss float64) float64 {
				r.losses = append(r.losses, loss)
				r.tasks = append(r.tasks, task)
				return loss
			}}})
		if err != nil {
			t.Fatalf("%s: %v", be, err)
		}
		r.wall = time.Since(start)
		r.rate = float64(steps-1-warm) / time.Since(t0).Seconds()
		runs[be] = r
	}
	g, o := runs[model.GoBackend], runs["onnx:cpu"]
	if len(g.losses) != len(o.losses) {
		t.Fatalf("loss counts differ: go %d onnx %d", len(g.losses), len(o.losses))
	}
	maxRel := 0.0
	for i := range g.losses {
		if g.tasks[i] != o.tasks[i] {
			t.Fatalf("step %d: task %v on go, %v on onnx", i+2, g.tasks[i], o.tasks[i])
		}
		maxRel = math.Max(maxRel, math.Abs(g.losses[i]-o.losses[i])/math.Max(1e-9, math.Abs(g.losses[i])))
	}
	last := len(g.losses) - 1
	t.Logf("%s, steps 2..%d: losses go   %s", name, steps, fmtL(g.losses))
	t.Logf("%s, steps 2..%d: losses onnx %s", name, steps, fmtL(o.losses))
	t.Logf("%s: last loss (step %d, %v) go %.6f onnx %.6f; largest relative difference over the run %.3g",
		name, steps, g.tasks[last], g.losses[last], o.losses[last], maxRel)
	t.Logf("%s: trainer steps/s go %.2f onnx %.2f (ratio onnx/go %.2f); wall go %.1fs onnx %.1fs",
		name, g.rate, o.rate, o.rate/g.rate, g.wall.Seconds(), o.wall.Seconds())
	if maxRel > 0.05 {
		t.Errorf("losses differ by up to %.3g (relative)", maxRel)
	}
}

func fmtL(l []float64) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.4f", v)
	}
	return "[" + s + "]"
}

// copyDir copies the regular files of src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}
