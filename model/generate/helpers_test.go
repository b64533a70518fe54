package generate

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

const outStd = 0.5 // std of o_proj and down_proj weights in tests

var sharedBackend = sync.OnceValues(func() (compute.Backend, error) { return model.NewBackend("") })

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tinyModel builds configs/model/tiny.yaml with the given fusion, initialised
// at random; LoRA B gets random values too (it is zero at init) so the
// adapters take part in the comparison.
func tinyModel(t testing.TB, fusion string) *model.Model {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg, err := model.LoadConfig(filepath.Join(filepath.Dir(file), "..", "..", "configs", "model", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Variant.Fusion = fusion
	m, err := model.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	if err := m.Init(backend); err != nil {
		t.Fatal(err)
	}
	// With tied embeddings and small blocks the residual stream is dominated by
	// the input token's own embedding, so greedy decoding repeats it forever;
	// larger output projections make the blocks matter.
	rng := rand.New(rand.NewPCG(7, 7))
	for v := range m.Store.IterVariables() {
		std := 0.0
		switch {
		case v.Name() == "lora_B":
			std = 0.3
		case strings.HasSuffix(v.Path(), "o_proj/weight"), strings.HasSuffix(v.Path(), "down_proj/weight"):
			std = outStd
		default:
			continue
		}
		s := v.Shape()
		data := make([]float32, s.Size())
		for i := range data {
			data[i] = float32(rng.NormFloat64() * std)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(data, s.Dimensions...)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// randomVideos returns n videos of b rows with random pixels.
func randomVideos(m *model.Model, n, b int, seed uint64) []Video {
	rng := rand.New(rand.NewPCG(seed, 1))
	in := m.Cfg.Input
	img := func(k int) *tensors.Tensor {
		data := make([]uint8, b*k*in.Size*in.Size*3)
		for i := range data {
			data[i] = uint8(rng.IntN(256))
		}
		return tensors.FromFlatDataAndDimensions(data, b, k, in.Size, in.Size, 3)
	}
	vs := make([]Video, n)
	for i := range vs {
		vs[i] = Video{Frames: img(in.Frames), Patches: img(in.Patches)}
	}
	return vs
}

// prompts are two prompts of different lengths.
func prompts(m *model.Model) [][]int {
	return [][]int{
		m.Tok.Encode("rate the quality of this video:"),
		m.Tok.Encode("describe it"),
	}
}

func tensorOf(data []int32, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func flat32(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	d, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
