package model

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Every fusion entry is registered with exactly the encoder sets it admits;
// built with the tiny config, its visual tokens for one and two videos have
// the entry's token count, go to the sequence or the memory as the entry
// says, and every variable the visual graph uses gets a gradient.
func TestFusionEntries(t *testing.T) {
	backend := testBackend(t)
	const b = 2
	names := map[string]bool{}
	for i := range fusions {
		f := &fusions[i]
		if names[f.Name] {
			t.Errorf("fusion %q listed twice", f.Name)
		}
		names[f.Name] = true
		if f.Tokens == nil || f.Apply == nil {
			t.Fatalf("fusion %q lacks Tokens or Apply", f.Name)
		}
		var sets, want []string
		for _, v := range registry {
			if v.Fusion == f.Name {
				sets = append(sets, v.Encoders)
			}
		}
		for _, e := range encoderSets {
			if !f.Both || (e.context && e.pixel) {
				want = append(want, e.name)
			}
		}
		if !slices.Equal(sets, want) {
			t.Errorf("fusion %q registered with %v, want %v", f.Name, sets, want)
		}
		for _, enc := range sets {
			name := enc + "/" + f.Name
			t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
				cfg, err := tinyConfig(t).WithVariant(name)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Build(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if m.Variant.fusion != f {
					t.Fatalf("variant %s does not point at its fusion entry", name)
				}
				if err := m.Init(backend); err != nil {
					t.Fatal(err)
				}
				tv := m.VisualTokensPerVideo()
				rng := rand.New(rand.NewPCG(5, 6))
				for _, n := range []int{1, 2} {
					checkVisual(t, m, b, n, tv, rng)
				}
			})
		}
	}
}

// checkVisual runs Visual on n random videos: the output is [b, n*tv, D] in
// the place the fusion entry names, and d(sum of squares)/dVar is non-zero
// for every variable the graph uses.
func checkVisual(t *testing.T, m *Model, b, n, tv int, rng *rand.Rand) {
	t.Helper()
	in := m.Cfg.Input
	var inputs []any
	for range n {
		for _, k := range []struct {
			use    bool
			frames int
		}{{m.Variant.Context, in.Frames}, {m.Variant.Pixel, in.Patches}} {
			if !k.use {
				continue
			}
			data := make([]uint8, b*k.frames*in.Size*in.Size*3)
			for i := range data {
				data[i] = uint8(rng.IntN(256))
			}
			inputs = append(inputs, tensors.FromFlatDataAndDimensions(data, b, k.frames, in.Size, in.Size, 3))
		}
	}
	var names []string
	var inSeq bool
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, x []*Node) []*Node {
		g := x[0].Graph()
		videos := make([]Video, n)
		for i := range videos {
			videos[i], x = m.takeVideo(x)
		}
		seq, memory := m.Visual(scope, videos)
		if (seq == nil) == (memory == nil) {
			t.Fatalf("Visual returned seq %v, memory %v: want exactly one", seq, memory)
		}
		out := memory
		if inSeq = seq != nil; inSeq {
			out = seq
		}
		loss := ReduceAllSum(Square(out))
		var vars []*Node
		names = nil
		for _, v := range m.Variables() {
			if v.InUseByGraph(g) {
				names = append(names, v.Path())
				vars = append(vars, v.NodeValue(g))
			}
		}
		outs := []*Node{out}
		for _, gr := range Gradient(loss, vars...) {
			outs = append(outs, ReduceAllMax(Abs(gr)))
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := e.Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	if inSeq == m.Variant.Memory() {
		t.Errorf("n=%d: tokens in the sequence = %v, entry says memory = %v", n, inSeq, m.Variant.Memory())
	}
	if want := []int{b, n * tv, m.Cfg.Decoder.Width}; !sameDims(outs[0], want) {
		t.Errorf("n=%d: visual tokens %s, want %v", n, outs[0].Shape(), want)
	}
	if len(names) == 0 {
		t.Fatalf("n=%d: the visual graph uses no variables", n)
	}
	for i, o := range outs[1:] {
		if g := flat(t, o)[0]; !(g > 0) {
			t.Errorf("n=%d: %s: zero or invalid gradient %g", n, names[i], g)
		}
	}
}
