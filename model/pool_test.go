package model

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cpllm/cpllm/model/layers"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Token pooling: 64x64 inputs give 4x4 = 16 tokens per image; the context
// encoder pools to 4 per frame (2x2 windows), the pixel encoder to 1 per patch.
func TestTokenPooling(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Input.Size = 64
	cfg.ContextEncoder.PoolTokens = 4
	cfg.PixelEncoder.PoolTokens = 1
	m, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.VisualTokensPerVideo(), 4*4+2*1; got != want {
		t.Fatalf("visual tokens %d, want %d", got, want)
	}
	rng := rand.New(rand.NewPCG(61, 62))
	b := randomBatch(m, TaskScore, 2, 4, rng)
	in, err := m.Inputs(b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, in []*Node) *Node {
		v, _ := m.takeVideo(in)
		seq, _ := m.Visual(scope, []Video{v})
		return seq
	})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 60*time.Second, "pooling", func() {
		out, err := e.Call(in[:len(in)-3]...)
		if err != nil {
			t.Fatal(err)
		}
		if !sameDims(out[0], []int{2, 18, cfg.Decoder.Width}) {
			t.Errorf("visual tokens shape %s", out[0].Shape())
		}
	})
	// 2D pooling of a 4x4 grid to 2x2 averages the four 2x2 windows.
	pm := layers.PoolMatrix2D(4, 2)
	for _, c := range []struct{ row, col int }{{0, 0}, {1, 0}, {4, 0}, {5, 0}, {2, 1}, {15, 3}, {10, 3}} {
		if math.Abs(pm[c.row][c.col]-0.25) > 1e-15 {
			t.Errorf("pool[%d][%d] = %g", c.row, c.col, pm[c.row][c.col])
		}
	}
	if pm[2][0] != 0 || pm[8][1] != 0 {
		t.Error("pool matrix leaks across windows")
	}
}
