package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

func run(t *testing.T, opts Options) Result {
	t.Helper()
	start := time.Now()
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps in %s", res.Steps, time.Since(start).Round(time.Millisecond))
	return res
}

// TestOverfit: the tiny model learns to rank 16 training records.
func TestOverfit(t *testing.T) {
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(120)
	cfg.EvalEvery = 60
	var log bytes.Buffer
	res := run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir,
		OutDir: t.TempDir(), Log: &log})
	t.Log(strings.TrimSpace(log.String()))
	srcc, n := datasetSRCC(t, res, trainDir)
	t.Logf("training SRCC %.4f, last loss %.4f, val %+v", srcc, res.LastLoss[model.TaskScore], *res.LastEval)
	if n != 16 || srcc <= 0.95 {
		t.Fatalf("training SRCC %.4f on %d records, want > 0.95 on 16", srcc, n)
	}
	if res.LastEval == nil || res.LastEval.N != 7 || res.BestCheckpoint == "" {
		t.Fatalf("validation: %+v best %q (want 7 scored records: one is NaN)", res.LastEval, res.BestCheckpoint)
	}
}

// TestDeterministicMixedTasks: the same config and seed give identical
// losses with all three tasks mixed.
func TestDeterministicMixedTasks(t *testing.T) {
	trainDir, _ := dataDirs(t)
	cfg := testConfig(9)
	cfg.Mix = TaskMix{Score: 1, Describe: 1, Pair: 1}
	cfg.BatchSize = 4
	var losses [2][]StepMetrics
	for i := range 2 {
		out := t.TempDir()
		run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, OutDir: out})
		var err error
		if losses[i], err = ReadMetrics(filepath.Join(out, "metrics.jsonl")); err != nil {
			t.Fatal(err)
		}
	}
	tasks := map[string]bool{}
	for j, a := range losses[0] {
		b := losses[1][j]
		tasks[a.Task] = true
		if a.Task != b.Task || a.Loss != b.Loss || a.GradNorm != b.GradNorm {
			t.Fatalf("step %d differs: %+v vs %+v", a.Step, a, b)
		}
	}
	if len(losses[0]) != 9 || len(tasks) != 3 {
		t.Fatalf("%d steps over tasks %v, want 9 over 3", len(losses[0]), tasks)
	}
}

// TestResumeBitIdentical: 2N straight vs N, then resume to 2N.
func TestResumeBitIdentical(t *testing.T) {
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(8)
	cfg.Mix = TaskMix{Score: 2, Pair: 1}
	cfg.BatchSize = 4
	cfg.EvalEvery, cfg.CheckpointEvery = 4, 4
	cfg.EMA = 0.9 // the averages must resume exactly too
	straight := t.TempDir()
	a := run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: straight})

	split := t.TempDir()
	// A first run stopped at step 4: same schedule (Steps drives the cosine),
	// so stop it through the context instead of changing Steps.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: split,
		Progress: func(step, _ int) {
			if step == 5 {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("the interrupted run did not stop")
	}
	b := run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: split, Resume: true})

	la, err := ReadMetrics(filepath.Join(straight, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := ReadMetrics(filepath.Join(split, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(la) != 8 || len(lb) != 8 {
		t.Fatalf("%d and %d step lines, want 8", len(la), len(lb))
	}
	pairs := 0
	for i := range la {
		if la[i].Task == "pair" {
			pairs++
		}
		if la[i].Loss != lb[i].Loss || la[i].Task != lb[i].Task {
			t.Fatalf("step %d: %+v vs %+v", la[i].Step, la[i], lb[i])
		}
	}
	if pairs == 0 || b.Steps != 8 {
		t.Fatalf("%d pair steps, %d steps: the test needs both tasks and 8 steps", pairs, b.Steps)
	}
	va, vb := a.Model.Variables(), b.Model.Variables()
	if len(va) != len(vb) {
		t.Fatalf("%d vs %d variables", len(va), len(vb))
	}
	for i := range va {
		if !sameTensor(t, va[i].MustValue(), vb[i].MustValue()) {
			t.Fatalf("variable %s differs after resume", va[i].Path())
		}
		if !va[i].Trainable {
			continue
		}
		ea, eb := a.Model.Store.GetVariable(emaPrefix+va[i].Path()), b.Model.Store.GetVariable(emaPrefix+va[i].Path())
		if ea == nil || eb == nil || !sameTensor(t, ea.MustValue(), eb.MustValue()) {
			t.Fatalf("average of %s missing or differs after resume", va[i].Path())
		}
	}
}

func sameTensor(t *testing.T, a, b *tensors.Tensor) bool {
	var x, y []byte
	_ = a.ConstBytes(func(d []byte) { x = bytes.Clone(d) })
	_ = b.ConstBytes(func(d []byte) { y = bytes.Clone(d) })
	return bytes.Equal(x, y)
}

// TestNaNGuard: an injected NaN loss stops the run naming step and task and
// keeps the last good checkpoint.
func TestNaNGuard(t *testing.T) {
	trainDir, _ := dataDirs(t)
	cfg := testConfig(6)
	cfg.CheckpointEvery = 2
	out := t.TempDir()
	_, err := Run(context.Background(), Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, OutDir: out,
		Hooks: Hooks{Loss: func(step int, _ model.Task, l float64) float64 {
			if step == 3 {
				return math.NaN()
			}
			return l
		}}})
	if err == nil || !strings.Contains(err.Error(), "step 3, task score") {
		t.Fatalf("err = %v, want a non-finite loss at step 3, task score", err)
	}
	steps, _ := model.StepCheckpoints(filepath.Join(out, "checkpoints"))
	if len(steps) != 1 || steps[0] != 2 {
		t.Fatalf("checkpoints %v, want [2]", steps)
	}
}

// TestWatchdog: a stalled step fails the run with a clear error.
func TestWatchdog(t *testing.T) {
	trainDir, _ := dataDirs(t)
	cfg := testConfig(4)
	cfg.StepTimeout = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	_, err := Run(context.Background(), Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, OutDir: t.TempDir(),
		Hooks: Hooks{BeforeStep: func(step int, _ model.Task) {
			if step == 2 {
				<-release // stall until the test ends
			}
		}}})
	if err == nil || !strings.Contains(err.Error(), "step 2 (score) exceeded the watchdog timeout 300ms") {
		t.Fatalf("err = %v, want a watchdog error at step 2", err)
	}
}

// TestResumeBeforeFirstCheckpoint: a run stopped before its first step
// checkpoint (after a validation chose a best) resumes from scratch without
// duplicate metrics lines or a stale best checkpoint.
func TestResumeBeforeFirstCheckpoint(t *testing.T) {
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(6)
	cfg.EvalEvery, cfg.CheckpointEvery = 2, 100
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: out,
		Progress: func(step, _ int) {
			if step == 3 {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("the interrupted run did not stop")
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints", "best")); err != nil {
		t.Fatalf("setup: the interrupted run should have left a best checkpoint: %v", err)
	}
	run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: out, Resume: true})
	steps, err := ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	evals, err := ReadEvals(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 6 || len(evals) != 3 {
		t.Fatalf("%d step and %d eval lines, want 6 and 3 (no duplicates)", len(steps), len(evals))
	}
	for i, s := range steps {
		if s.Step != i+1 {
			t.Fatalf("line %d is step %d", i, s.Step)
		}
	}
}
