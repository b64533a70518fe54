package model

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

func configPath(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "configs", "model", name+".yaml")
}

func tinyConfig(t testing.TB) Config {
	t.Helper()
	c, err := LoadConfig(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var sharedBackend = sync.OnceValues(func() (compute.Backend, error) { return NewBackend(GoBackend) })

// testBackend is one Go backend (default settings of cpllm) shared by all tests.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// within runs fn and fails the test if it takes longer than d (a hang guard).
func within(t testing.TB, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		fn()
	}()
	select {
	case r := <-done:
		if r != nil {
			panic(r)
		}
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s (hang?)", what, d)
	}
}

// randomBatch makes a batch of b items, text length l, for the task.
func randomBatch(m *Model, task Task, b, l int, rng *rand.Rand) *Batch {
	in := m.Cfg.Input
	img := func(n int) *tensors.Tensor {
		data := make([]uint8, b*n*in.Size*in.Size*3)
		for i := range data {
			data[i] = uint8(rng.IntN(256))
		}
		return tensors.FromFlatDataAndDimensions(data, b, n, in.Size, in.Size, 3)
	}
	tokens := make([]int32, b*l)
	targets := make([]int32, b*l)
	mask := make([]float32, b*l)
	pos := make([]int32, b)
	target := make([]float32, b*5)
	label := make([]int32, b)
	for i := range b {
		for j := range l {
			tokens[i*l+j] = int32(4 + rng.IntN(200))
		}
		for j := range l - 1 {
			targets[i*l+j] = tokens[i*l+j+1]
			mask[i*l+j] = 1
		}
		pos[i] = int32(l - 2 - i%2)
		sum := float32(0)
		for k := range 5 {
			target[i*5+k] = rng.Float32()
			sum += target[i*5+k]
		}
		for k := range 5 {
			target[i*5+k] /= sum
		}
		label[i] = int32(rng.IntN(2))
	}
	bt := &Batch{Task: task,
		Frames: img(in.Frames), Patches: img(in.Patches),
		Tokens:    tensors.FromFlatDataAndDimensions(tokens, b, l),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, b),
		Target:    tensors.FromFlatDataAndDimensions(target, b, 5),
		Targets:   tensors.FromFlatDataAndDimensions(targets, b, l),
		Mask:      tensors.FromFlatDataAndDimensions(mask, b, l),
		Label:     tensors.FromFlatDataAndDimensions(label, b),
	}
	stats := func() *tensors.Tensor {
		f := m.Cfg.StatsDim()
		if f == 0 {
			return nil
		}
		data := make([]float32, b*f)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(data, b, f)
	}
	bt.Stats = stats()
	if task == TaskPair {
		bt.FramesB, bt.PatchesB, bt.StatsB = img(in.Frames), img(in.Patches), stats()
	}
	return bt
}

// forwardExec returns an exec computing the task's loss and head outputs
// (no training): loss, then the non-nil of LevelLogits, Score, Regression, LMLogits, PairLogits.
func forwardExec(t testing.TB, m *Model, backend compute.Backend, task Task) *gm.Exec {
	e, err := gm.NewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
		o := m.TaskGraph(scope, task, in)
		outs := []*Node{o.Loss}
		for _, n := range []*Node{o.LevelLogits, o.Score, o.Regression, o.LMLogits, o.PairLogits} {
			if n != nil {
				outs = append(outs, n)
			}
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func flat(t testing.TB, x *tensors.Tensor) []float64 {
	t.Helper()
	var out []float64
	switch v := x.Value().(type) {
	case float32:
		return []float64{float64(v)}
	case float64:
		return []float64{v}
	}
	err := x.ConstFlatData(func(a any) {
		switch d := a.(type) {
		case []float32:
			for _, f := range d {
				out = append(out, float64(f))
			}
		case []float64:
			out = append(out, d...)
		default:
			t.Fatalf("flat: unexpected %T", a)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
