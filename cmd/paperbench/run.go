package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// RunSpec is one measurement: a model config (optionally with fewer layers per
// tower), a dtype, a backend, and how many timed calls follow the first.
type RunSpec struct {
	Config  string `json:"config"`
	DType   string `json:"dtype"`
	Backend string `json:"backend"`
	// Layers overrides context, pixel spatial, pixel temporal and decoder
	// layer counts; 0 keeps the config's.
	Layers  [4]int `json:"layers_override"`
	TextLen int    `json:"text_len"` // prompt + answer tokens of the score task
	Forward int    `json:"forward_calls"`
	Train   int    `json:"train_calls"`
}

// RunResult is what one measurement reports. Times of the first call include
// building and compiling the graph; later calls are steady state.
type RunResult struct {
	Spec            RunSpec   `json:"spec"`
	Layers          [4]int    `json:"layers"` // effective context, spatial, temporal, decoder
	ParamsTotal     int64     `json:"params_total"`
	ParamsTrainable int64     `json:"params_trainable"`
	WeightBytes     int64     `json:"weight_bytes"`    // model variables as stored (bfloat16 compute keeps float32 weights)
	OptStateBytes   int64     `json:"opt_state_bytes"` // non-model variables after training (Adam moments, step, RNG)
	InitS           float64   `json:"init_s"`
	ForwardS        []float64 `json:"forward_s"` // per call; [0] includes compilation
	TrainS          []float64 `json:"train_s"`
	Losses          []float64 `json:"losses"` // train losses, before each update
	RSSInitBytes    int64     `json:"rss_after_init_bytes"`
	RSSForwardPeak  int64     `json:"rss_peak_forward_bytes"` // VmHWM after the forward calls
	RSSPeakBytes    int64     `json:"rss_peak_bytes"`         // VmHWM at the end
	GoVersion       string    `json:"go_version"`
}

// loadSpecConfig reads the config and applies the spec's dtype, backend and layers.
func loadSpecConfig(s RunSpec) (model.Config, error) {
	cfg, err := model.LoadConfig(s.Config)
	if err != nil {
		return cfg, err
	}
	if s.DType != "" {
		cfg.DType = s.DType
	}
	if s.Backend != "" {
		cfg.Backend = s.Backend
	}
	dst := []*int{&cfg.ContextEncoder.Layers, &cfg.PixelEncoder.Layers, &cfg.PixelEncoder.TemporalLayers, &cfg.Decoder.Layers}
	for i, p := range dst {
		if s.Layers[i] > 0 {
			*p = s.Layers[i]
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", s.Config, err)
	}
	return cfg, nil
}

func effectiveLayers(cfg model.Config) [4]int {
	return [4]int{cfg.ContextEncoder.Layers, cfg.PixelEncoder.Layers, cfg.PixelEncoder.TemporalLayers, cfg.Decoder.Layers}
}

// Run builds and initialises the model, then times forward and training calls
// of the score task at batch 1.
func Run(s RunSpec) (RunResult, error) {
	r := RunResult{Spec: s, GoVersion: runtime.Version()}
	cfg, err := loadSpecConfig(s)
	if err != nil {
		return r, err
	}
	r.Layers = effectiveLayers(cfg)
	m, err := model.Build(cfg)
	if err != nil {
		return r, err
	}
	backend, err := model.NewBackend(cfg.Backend)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := hostInit(m, backend); err != nil {
		return r, fmt.Errorf("init: %w", err)
	}
	r.InitS = time.Since(t0).Seconds()
	r.RSSInitBytes = procStatus("VmRSS")
	trainable, frozen := m.Counts()
	r.ParamsTotal, r.ParamsTrainable = trainable+frozen, trainable
	r.WeightBytes = variableBytes(m, true)
	in, err := m.Inputs(scoreBatch(m, 1, s.TextLen, 1))
	if err != nil {
		return r, err
	}
	if r.ForwardS, err = timeCalls(forwardExec(m, backend), in, s.Forward, nil); err != nil {
		return r, fmt.Errorf("forward: %w", err)
	}
	r.RSSForwardPeak = procStatus("VmHWM")
	if r.TrainS, err = timeCalls(trainExec(m, backend), in, s.Train, &r.Losses); err != nil {
		return r, fmt.Errorf("train step: %w", err)
	}
	r.OptStateBytes = variableBytes(m, false)
	r.RSSPeakBytes = procStatus("VmHWM")
	return r, nil
}

// timeCalls calls e n times on in, returning each call's seconds and
// appending the scalar first output to losses when given.
func timeCalls(e *gm.Exec, in []any, n int, losses *[]float64) ([]float64, error) {
	var ts []float64
	for range n {
		t0 := time.Now()
		out, err := e.Call(in...)
		if err != nil {
			return ts, err
		}
		v, err := model.ScalarValue(out[0])
		if err != nil {
			return ts, err
		}
		ts = append(ts, time.Since(t0).Seconds())
		if losses != nil {
			*losses = append(*losses, v)
		}
	}
	return ts, nil
}

// forwardExec computes the score task's loss without gradients.
func forwardExec(m *model.Model, backend compute.Backend) *gm.Exec {
	return gm.MustNewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) *Node {
		return m.TaskGraph(scope, model.TaskScore, in).Loss
	})
}

// trainExec is one AdamW step on the trainable variables (the frozen decoder
// base gets no gradient or moments), as package train does without clipping.
func trainExec(m *model.Model, backend compute.Backend) *gm.Exec {
	opt := optimizer.Adam().LearningRate(1e-5).WeightDecay(0.01).Done()
	return gm.MustNewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) *Node {
		g := in[0].Graph()
		m.Store.SetTraining(g, true)
		loss := m.TaskGraph(scope, model.TaskScore, in).Loss
		opt.UpdateGraph(scope, g, loss)
		return loss
	})
}

// variableBytes sums the stored bytes of the model variables (model=true) or
// of every other variable (optimizer state, RNG).
func variableBytes(m *model.Model, modelVars bool) int64 {
	var n int64
	for v := range m.Store.IterVariables() {
		if model.IsModelVariable(v.Path()) == modelVars {
			n += int64(v.Shape().ByteSize())
		}
	}
	return n
}

// scoreBatch is b random videos with a text of l tokens whose answer is at
// position l-2 (a prompt followed by the level word).
func scoreBatch(m *model.Model, b, l int, seed uint64) *model.Batch {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := m.Cfg.Input
	img := func(n int) *tensors.Tensor {
		data := make([]uint8, b*n*in.Size*in.Size*3)
		for i := range data {
			data[i] = uint8(rng.IntN(256))
		}
		return tensors.FromFlatDataAndDimensions(data, b, n, in.Size, in.Size, 3)
	}
	tokens := make([]int32, b*l)
	for i := range tokens {
		tokens[i] = int32(4 + rng.IntN(200))
	}
	pos := make([]int32, b)
	target := make([]float32, b*5)
	for i := range b {
		pos[i] = int32(l - 2)
		target[i*5+rng.IntN(5)] = 1
	}
	return &model.Batch{Task: model.TaskScore, Frames: img(in.Frames), Patches: img(in.Patches),
		Tokens:    tensors.FromFlatDataAndDimensions(tokens, b, l),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, b),
		Target:    tensors.FromFlatDataAndDimensions(target, b, 5)}
}

// procStatus reads a "kB" field (VmRSS, VmHWM) of /proc/self/status in bytes; 0 if absent.
func procStatus(field string) int64 { return procStatusOf("self", field) }

func procStatusOf(pid, field string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
