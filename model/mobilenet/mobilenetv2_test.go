package mobilenet

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
)

// weightSpecs lists the Keras MobileNetV2 weights in the order this test
// writes them: name and shape, from the paper's Table 2.
func weightSpecs() []manifestEntry {
	var specs []manifestEntry
	add := func(name string, shape ...int) {
		specs = append(specs, manifestEntry{Name: name, Shape: shape, DType: "float32"})
	}
	bn := func(name string, c int) {
		for _, s := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
			add(name+"/"+s, c)
		}
	}
	add("Conv1/kernel", 3, 3, 3, 32)
	bn("bn_Conv1", 32)
	in, idx := 32, 0
	for _, b := range bottlenecks {
		for r := range b[2] {
			_ = r
			p := "expanded_conv"
			if idx > 0 {
				p = fmt.Sprintf("block_%d", idx)
			}
			hidden := in * b[0]
			if b[0] != 1 {
				add(p+"_expand/kernel", 1, 1, in, hidden)
				bn(p+"_expand_BN", hidden)
			}
			add(p+"_depthwise/depthwise_kernel", 3, 3, hidden, 1)
			bn(p+"_depthwise_BN", hidden)
			add(p+"_project/kernel", 1, 1, hidden, b[1])
			bn(p+"_project_BN", b[1])
			in, idx = b[1], idx+1
		}
	}
	add("Conv_1/kernel", 1, 1, in, 1280)
	bn("Conv_1_bn", 1280)
	return specs
}

// writeRandomTFJS writes a MobileNetV2 with seeded random uint8-quantized
// weights in the TF.js layers format, as nsfwjs ships its model.
func writeRandomTFJS(t *testing.T, dir string, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	specs := weightSpecs()
	var buf []byte
	type layer struct {
		Name      string         `json:"name"`
		ClassName string         `json:"class_name"`
		Config    map[string]any `json:"config"`
	}
	var layers []layer
	for i := range specs {
		s := &specs[i]
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		lo, scale := -0.5, 1.0/255 // kernels and betas in [-0.5, 0.5]; gammas, variances positive
		base := filepath.Base(s.Name)
		switch base {
		case "gamma":
			lo, scale = 0.5, 0.5/255
		case "moving_variance":
			lo, scale = 0.2, 1.0/255
		case "moving_mean":
			lo, scale = -0.2, 0.4/255
		}
		if base == "kernel" || base == "depthwise_kernel" {
			fan := n / s.Shape[len(s.Shape)-1]
			if base == "depthwise_kernel" {
				fan = 9
			}
			r := math.Sqrt(3.0 / float64(fan)) // unit-variance activations, so deep stages stay in range
			lo, scale = -r, 2*r/255
		}
		s.Quantization = &struct {
			Min   float64 `json:"min"`
			Scale float64 `json:"scale"`
			DType string  `json:"dtype"`
		}{lo, scale, "uint8"}
		for range n {
			buf = append(buf, byte(rng.IntN(256)))
		}
		if base == "gamma" {
			layers = append(layers, layer{filepath.Dir(s.Name), "BatchNormalization", map[string]any{"epsilon": 1e-3}})
		}
	}
	m := map[string]any{
		"modelTopology":   map[string]any{"model_config": map[string]any{"config": map[string]any{"layers": layers}}},
		"weightsManifest": []any{map[string]any{"paths": []string{"group1-shard1of1"}, "weights": specs}},
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group1-shard1of1.bin"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// torchFeatures runs testdata/mobilenetv2_ref.py (PyTorch, unfolded batch
// norms) on the same weights and images.
func torchFeatures(t *testing.T, dir string, x []float32, n, h, w int) [][]float64 {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		if os.Getenv("CPLLM_REQUIRE_ORACLES") != "" {
			t.Fatalf("PyTorch oracle required (CPLLM_REQUIRE_ORACLES) but not importable by %s: %v\n%s", py, err, out)
		}
		t.Skipf("PyTorch not importable by %s: %v\n%s", py, err, out)
	}
	in := filepath.Join(t.TempDir(), "x.f32")
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command(py, filepath.Join(filepath.Dir(file), "testdata", "mobilenetv2_ref.py"), dir, in,
		fmt.Sprint(n), fmt.Sprint(h), fmt.Sprint(w))
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("mobilenetv2_ref.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var f [][]float64
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("mobilenetv2_ref.py output: %v", err)
	}
	return f
}

// compareWithTorch checks Go's features against the reference's: every
// feature within 1e-3 of the reference, relative to that stage's largest.
func compareWithTorch(t *testing.T, dir string, images [][]byte, h, w int, plainOps ...bool) {
	t.Helper()
	wts, err := LoadTFJS(dir)
	if err != nil {
		t.Fatal(err)
	}
	be, err := gobackend.New("parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	net, err := New(be, wts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plainOps) > 0 && plainOps[0] != net.plainOps { // the other implementation: rebuild the graph
		net.plainOps = plainOps[0]
		if net.exec, err = NewExec(be, net.features); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("plain ops (1x1 as matmul, depthwise as shifted slices): %v", net.plainOps)
	got, err := net.Features(images, h, w)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 0, len(images)*h*w*3)
	for _, im := range images {
		for _, v := range im {
			x = append(x, float32(v)/255)
		}
	}
	want := torchFeatures(t, dir, x, len(images), h, w)
	if len(want) != len(images) || len(want[0]) != FeatureDim() {
		t.Fatalf("reference gave %d x %d features, want %d x %d", len(want), len(want[0]), len(images), FeatureDim())
	}
	for i := range images {
		off := 0
		for s, c := range StageWidths {
			scale := 1e-6
			for j := off; j < off+2*c; j++ {
				scale = math.Max(scale, math.Abs(want[i][j]))
			}
			worst := 0.0
			for j := off; j < off+2*c; j++ {
				worst = math.Max(worst, math.Abs(float64(got[i][j])-want[i][j])/scale)
			}
			t.Logf("image %d stage %s: max |Go - PyTorch| / max |PyTorch| = %.2g (scale %.3g)", i, StageNames[s], worst, scale)
			if worst > 1e-3 {
				t.Errorf("image %d stage %s: Go and PyTorch differ by %.3g of the stage's scale", i, StageNames[s], worst)
			}
			off += 2 * c
		}
	}
}

func randomImages(seed uint64, n, h, w int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	images := make([][]byte, n)
	for i := range images {
		images[i] = make([]byte, h*w*3)
		for y := range h {
			for x := range w {
				for c := range 3 { // a smooth gradient plus noise: activations neither saturate nor vanish
					v := 128 + 90*math.Sin(float64(x+7*c)/9)*math.Cos(float64(y-5*i)/13) + rng.NormFloat64()*20
					images[i][(y*w+x)*3+c] = byte(math.Max(0, math.Min(255, v)))
				}
			}
		}
	}
	return images
}

// TestMatchesTorchRandomWeights checks the Go network against the PyTorch
// reference on seeded random weights, two images of a size (64x96) whose
// maps stay even down to stride 16, with each depthwise implementation
// (convolutions: ONNX Runtime, XLA; plain ops: pure Go).
func TestMatchesTorchRandomWeights(t *testing.T) {
	dir := t.TempDir()
	writeRandomTFJS(t, dir, 7)
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plainOps=%v", plain), func(t *testing.T) {
			compareWithTorch(t, dir, randomImages(3, 2, 64, 96), 64, 96, plain)
		})
	}
}

// TestMatchesTorchPretrained does the same on the pretrained weights that
// make pretrained-deps installs (PretrainedDir), at 224x224.
func TestMatchesTorchPretrained(t *testing.T) {
	dir := PretrainedDir()
	if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
		if os.Getenv("CPLLM_REQUIRE_ORACLES") != "" {
			t.Fatalf("pretrained MobileNetV2 required (CPLLM_REQUIRE_ORACLES) but absent: %v (make pretrained-deps)", err)
		}
		t.Skipf("no pretrained MobileNetV2 (make pretrained-deps): %v", err)
	}
	compareWithTorch(t, dir, randomImages(5, 1, 224, 224), 224, 224)
}

func TestLoadTFJSErrors(t *testing.T) {
	dir := t.TempDir()
	writeRandomTFJS(t, dir, 1)
	shard := filepath.Join(dir, "group1-shard1of1.bin")
	b, _ := os.ReadFile(shard)
	if err := os.WriteFile(shard, b[:len(b)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTFJS(dir); err == nil {
		t.Fatal("a truncated shard loaded without error")
	} else {
		t.Log(err)
	}
	if err := os.WriteFile(shard, append(b, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTFJS(dir); err == nil {
		t.Fatal("a shard with trailing bytes loaded without error")
	}
	if err := os.WriteFile(shard, b, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := LoadTFJS(dir)
	if err != nil {
		t.Fatal(err)
	}
	delete(w.Tensors, "block_7_project/kernel")
	be, _ := gobackend.New("parallelism=-1")
	if _, err := New(be, w); err == nil {
		t.Fatal("a model missing block_7_project/kernel built")
	} else {
		t.Log(err)
	}
}

// BenchmarkDepthwiseGo times one 960x540 frame on the pure-Go backend with
// convolutions and with plain ops (seeded random weights).
func BenchmarkDepthwiseGo(b *testing.B) {
	t := &testing.T{}
	dir := b.TempDir()
	writeRandomTFJS(t, dir, 3)
	w, err := LoadTFJS(dir)
	if err != nil {
		b.Fatal(err)
	}
	be, err := gobackend.New("parallelism=-1")
	if err != nil {
		b.Fatal(err)
	}
	img := randomImages(1, 1, 540, 960)
	for _, plain := range []bool{false, true} {
		b.Run(fmt.Sprintf("plainOps=%v", plain), func(b *testing.B) {
			net, err := New(be, w)
			if err != nil {
				b.Fatal(err)
			}
			net.plainOps = plain
			if net.exec, err = NewExec(be, net.features); err != nil {
				b.Fatal(err)
			}
			if _, err := net.Features(img, 540, 960); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := net.Features(img, 540, 960); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
