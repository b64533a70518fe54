package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/cpllm/cpllm/model"
)

// Towers name the four layer counts a piece varies (RunSpec.Layers order).
var Towers = [4]string{"context encoder", "pixel encoder (spatial)", "pixel encoder (temporal)", "decoder"}

// temporalTower is not measured on its own (see pieces).
const temporalTower = 2

// Plan is the paper-size benchmark: pieces with one and two layers per tower,
// extrapolated by layer count, then (Full) the whole model where it fits.
type Plan struct {
	Config   string
	DTypes   []string
	TextLen  int
	Limits   Limits // per piece
	FullWait time.Duration
	Full     bool
	Log      func(format string, args ...any)
	// Save, when set, is called with the report after every child, so a
	// plan stopped part-way leaves what it measured.
	Save func(*Report)
}

// Report is the benchmark's JSON output.
type Report struct {
	Date     string                 `json:"date"`
	CPU      string                 `json:"cpu"`
	Cores    int                    `json:"cores"`
	Go       string                 `json:"go"`
	Config   string                 `json:"config"`
	Layers   [4]int                 `json:"layers"` // the config's context, spatial, temporal, decoder
	TextLen  int                    `json:"text_len"`
	RSSLimit int64                  `json:"rss_limit_bytes"`
	Params   ParamCounts            `json:"params"`
	PerDType map[string]*DTypeBench `json:"dtypes"`
	Method   string                 `json:"method"`
}

// ParamCounts of the full-size config (shapes only, nothing initialised).
type ParamCounts struct {
	Total     int64 `json:"total"`
	Trainable int64 `json:"trainable"`
}

// DTypeBench collects one compute dtype's pieces, extrapolation, memory
// requirement and full-size runs.
type DTypeBench struct {
	Base         Child        `json:"piece_base"`           // one layer per tower
	PlusOne      [4]Child     `json:"piece_plus_one_layer"` // one more layer of tower i (temporal: the spatial piece)
	Extrapolated *Estimate    `json:"extrapolated,omitempty"`
	Memory       *TrainMemory `json:"train_memory,omitempty"`
	FullForward  *Child       `json:"full_forward,omitempty"`
	FullTrain    *Child       `json:"full_train,omitempty"`
	Skipped      []string     `json:"skipped,omitempty"` // full-size runs not attempted, and why
}

// Estimate is the full-size figure extrapolated linearly in each tower's layer
// count from the pieces: base + sum_i (L_i - 1) * (plus_one_i - base).
type Estimate struct {
	ForwardS     float64    `json:"forward_s"` // steady-state call
	TrainS       float64    `json:"train_step_s"`
	RSSForward   int64      `json:"rss_peak_forward_bytes"`
	RSSTrain     int64      `json:"rss_peak_train_bytes"`
	PerLayerFwdS [4]float64 `json:"per_layer_forward_s"`
	PerLayerTrnS [4]float64 `json:"per_layer_train_s"`
	// TimesUnreliable: some tower's extra layer measured no slower than the
	// base (contention on a shared machine); the time estimates are noise.
	TimesUnreliable bool `json:"times_unreliable"`
}

// TrainMemory is what one training step (batch 1) needs: the state computed
// from the parameter counts, the rest from the extrapolated peak RSS.
type TrainMemory struct {
	Weights     int64 `json:"weights_bytes"`      // every parameter, float32 (bfloat16 compute keeps float32 masters)
	Gradients   int64 `json:"gradients_bytes"`    // trainable parameters, float32
	AdamMoments int64 `json:"adam_moments_bytes"` // two per trainable parameter, float32
	Activations int64 `json:"activations_and_temporaries_bytes"`
	Total       int64 `json:"total_bytes"` // the extrapolated peak RSS of a training step
}

// Execute runs the plan; self is this binary (children run `self run`).
func (p Plan) Execute(self string) (*Report, error) {
	cfg, err := model.LoadConfig(p.Config)
	if err != nil {
		return nil, err
	}
	trainable, frozen, err := model.CountParams(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), CPU: cpuName(), Cores: runtime.NumCPU(),
		Go: runtime.Version(), Config: p.Config, Layers: effectiveLayers(cfg), TextLen: p.TextLen,
		RSSLimit: p.Limits.RSSBytes, Params: ParamCounts{trainable + frozen, trainable},
		PerDType: map[string]*DTypeBench{}, Method: methodText}
	for _, dt := range p.DTypes {
		rep.PerDType[dt] = &DTypeBench{}
		p.pieces(self, dt, rep)
	}
	if p.Full {
		for _, dt := range p.DTypes {
			p.full(self, dt, rep.PerDType[dt])
			p.save(rep)
		}
	}
	return rep, nil
}

const methodText = "Score task, batch 1, random inputs and weights, pure-Go backend. Pieces: the config with " +
	"1 layer per tower, and with 2 layers of one tower; weights filled on the host (uniform +-sqrt(3/fan_in)); each piece runs 2 forward calls then 2 training steps " +
	"(AdamW on the trainable variables) in a child process under an RSS watchdog (GOGC=25). Times are the fastest call " +
	"(contention only adds time); peak RSS is the process's VmHWM. Full-size figures are extrapolated linearly in each " +
	"tower's layer count (a temporal block counted as a spatial one, an upper bound), then measured where the prediction fits under the RSS limit."

// pieces measures the one-layer base and the plus-one-layer variants of dtype dt.
func (p Plan) pieces(self, dt string, rep *Report) {
	b := rep.PerDType[dt]
	spec := func(layers [4]int) RunSpec {
		return RunSpec{Config: p.Config, DType: dt, Layers: layers, TextLen: p.TextLen, Forward: 2, Train: 2}
	}
	b.Base = p.child(self, spec([4]int{1, 1, 1, 1}), p.Limits, "piece %s base", dt)
	p.save(rep)
	for i := range Towers {
		if i == temporalTower {
			continue
		}
		l := [4]int{1, 1, 1, 1}
		l[i] = 2
		b.PlusOne[i] = p.child(self, spec(l), p.Limits, "piece %s +1 %s", dt, Towers[i])
		p.save(rep)
	}
	// A temporal block has the spatial block's width and MLP and attends
	// over K patches instead of 256 tokens: its cost is taken as a spatial
	// block's (an upper bound), saving one paper-size piece.
	b.PlusOne[temporalTower] = b.PlusOne[1]
	b.Extrapolated = extrapolate(b, rep.Layers)
	if b.Extrapolated != nil {
		b.Memory = trainMemory(rep.Params, b.Extrapolated.RSSTrain)
	}
	p.save(rep)
}

func (p Plan) save(rep *Report) {
	if p.Save != nil {
		p.Save(rep)
	}
}

// full runs the whole model's forward, then training step, when the
// extrapolated peak fits under the limit and the machine has that much free.
func (p Plan) full(self, dt string, b *DTypeBench) {
	est := b.Extrapolated
	if est == nil {
		b.Skipped = append(b.Skipped, "no extrapolation (a piece failed)")
		return
	}
	lim := Limits{RSSBytes: p.Limits.RSSBytes, Timeout: p.FullWait}
	try := func(need int64, what string, s RunSpec) *Child {
		if need > lim.RSSBytes {
			b.Skipped = append(b.Skipped, fmt.Sprintf("%s: needs ~%.1f GiB (extrapolated), above the %.1f GiB limit", what, gib(need), gib(lim.RSSBytes)))
			return nil
		}
		if avail := availableBytes(); avail < need+need/10 {
			b.Skipped = append(b.Skipped, fmt.Sprintf("%s: needs ~%.1f GiB, only %.1f GiB available now", what, gib(need), gib(avail)))
			return nil
		}
		c := p.child(self, s, lim, "full %s %s", dt, what)
		return &c
	}
	s := RunSpec{Config: p.Config, DType: dt, TextLen: p.TextLen, Forward: 1}
	b.FullForward = try(est.RSSForward, "forward", s)
	s.Train = 1
	b.FullTrain = try(est.RSSTrain, "training step", s)
}

func (p Plan) child(self string, s RunSpec, lim Limits, format string, args ...any) Child {
	what := fmt.Sprintf(format, args...)
	p.Log("%s: layers %v ...", what, s.Layers)
	c := runChild(self, s, lim)
	switch {
	case c.Result != nil:
		p.Log("%s: %.0f s, peak RSS %.2f GiB", what, c.WallS, gib(c.Result.RSSPeakBytes))
	default:
		p.Log("%s: FAILED after %.0f s: %s %s", what, c.WallS, c.Killed, c.Error)
	}
	return c
}

// cpuName is lscpu's model name from /proc/cpuinfo.
func cpuName() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
