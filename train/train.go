package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
)

// Options of one training run.
type Options struct {
	ModelConfig model.Config
	Train       Config
	TrainDir    string // shard directory (pairs.jsonl there feeds the pair task); "" when Train.Data lists the sources
	ValDir      string // "" = no validation (and no best checkpoint) unless Train.Holdout carves one out
	OutDir      string // metrics.jsonl and checkpoints/
	Resume      bool   // continue from the newest step checkpoint in OutDir
	Init        string // checkpoint whose weights start a fresh run (weights only, strict; see initWeights)
	Log         io.Writer
	Progress    func(step, total int)
	Hooks       Hooks
}

// Hooks let tests inject faults; nil hooks do nothing.
type Hooks struct {
	BeforeStep func(step int, task model.Task)                       // inside the watchdog's window
	Loss       func(step int, task model.Task, loss float64) float64 // may replace the loss
}

// Result summarises a finished run.
type Result struct {
	Steps          int
	LastLoss       [numTasks]float64 // last loss of each task (NaN if never run)
	LastEval       *EvalResult       // nil without validation
	Best           *EvalResult       // best validation SRCC
	BestStep       int
	Checkpoint     string          // newest step checkpoint
	BestCheckpoint string          // "" without validation
	Model          *model.Model    // the trained model (for evaluation or export)
	Backend        compute.Backend // the backend it lives on
}

// runner is the state of one Run.
type runner struct {
	opts    Options
	cfg     Config
	m       *model.Model
	backend compute.Backend
	// backendSpec is the concrete backend (ResolveBackend of the config's),
	// recorded in every checkpoint's state.
	backendSpec string
	bridge      *feed.Bridge
	pool        *pool           // the training sources
	val         *shards.Dataset // --val-shards validation; nil with a holdout
	step        *stepper
	pred        *model.Predictor
	streams     [numTasks]taskStream // nil for a task not in the mix
	st          State
	ckDir       string
	metrics     *metricsLog
	compiled    [numTasks]bool
	res         Result
}

// Run trains for cfg.Steps steps (from the last checkpoint when Resume).
func Run(ctx context.Context, opts Options) (Result, error) {
	r, err := newRunner(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	return r.run(ctx)
}

func newRunner(ctx context.Context, opts Options) (*runner, error) {
	cfg := opts.Train
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	r := &runner{opts: opts, cfg: cfg, ckDir: filepath.Join(opts.OutDir, model.CheckpointsDir)}
	for i := range r.res.LastLoss {
		r.res.LastLoss[i] = math.NaN()
	}
	srcs, err := trainSources(opts)
	if err != nil {
		return nil, err
	}
	if opts.ValDir != "" { // before the model is built: a too small set fails at once
		if r.val, err = shards.Open(opts.ValDir); err != nil {
			return nil, err
		}
		if err := checkValSize(r.val); err != nil {
			return nil, err
		}
	}
	if r.pool, err = openPool(srcs, cfg.Holdout, cfg.Seed); err != nil {
		return nil, err
	}
	for _, ds := range append(slices.Clone(r.pool.ds), r.val) {
		if ds == nil {
			continue
		}
		if err := feed.CheckShardStats(opts.ModelConfig, ds); err != nil {
			return nil, err
		}
	}
	if r.m, err = model.Build(opts.ModelConfig); err != nil {
		return nil, err
	}
	r.backendSpec = model.ResolveBackend(opts.ModelConfig.Backend)
	if r.backend, err = model.NewBackend(r.backendSpec); err != nil {
		return nil, err
	}
	if err := r.m.Init(r.backend); err != nil {
		return nil, err
	}
	if err := checkTrains(r.m); err != nil {
		return nil, err
	}
	n := 0
	for _, ds := range r.pool.ds {
		n += ds.Len()
	}
	if cfg.BatchSize > n {
		return nil, fmt.Errorf("train: batch_size %d is larger than the training set (%d rows in %s)", cfg.BatchSize, n, sourceDirs(srcs))
	}
	if r.bridge, err = feed.NewBridge(r.m, r.pool.ds[0].FrameSize(), cfg.DescribeLen); err != nil {
		return nil, err
	}
	if err := r.fitStatsNorm(ctx); err != nil {
		return nil, err
	}
	if r.validates() {
		r.pred = model.NewPredictor(r.m, r.backend)
	}
	if err := os.MkdirAll(r.ckDir, 0o755); err != nil {
		return nil, err
	}
	if err := r.restore(ctx); err != nil {
		return nil, err
	}
	r.step = newStepper(r.m, r.backend, cfg)
	return r, r.openStreams()
}

// restore loads the newest step checkpoint (Resume) or checks OutDir is
// fresh, then starts the weights from --init or stats_linear_init.
func (r *runner) restore(ctx context.Context) error {
	steps, err := model.StepCheckpoints(r.ckDir)
	if err != nil {
		return err
	}
	mpath := filepath.Join(r.opts.OutDir, "metrics.jsonl")
	if !r.opts.Resume {
		if _, err := os.Stat(mpath); err == nil || len(steps) > 0 {
			return fmt.Errorf("train: %s already holds a run (resume it or choose another out dir)", r.opts.OutDir)
		}
	}
	if len(steps) == 0 && r.opts.Init != "" {
		if err := initWeights(r.m, r.opts.Init, func(f string, a ...any) { fmt.Fprintf(r.opts.Log, f, a...) }); err != nil {
			return err
		}
	} else if len(steps) == 0 && r.cfg.StatsLinearInit == "ridge" {
		if err := r.fitStatsLinear(ctx); err != nil {
			return err
		}
	} else if r.opts.Resume && len(steps) > 0 {
		dir := filepath.Join(r.ckDir, stepName(steps[len(steps)-1]))
		want := trainableFlags(r.m)
		if r.st, err = loadCheckpoint(r.m.Store, dir); err != nil {
			return fmt.Errorf("train: resume from %s: %w", dir, err)
		}
		if err := checkResumeFlags(r.m, want, dir); err != nil {
			return err
		}
		r.res.Checkpoint = dir
		fmt.Fprintf(r.opts.Log, "resumed from %s (step %d)\n", dir, r.st.Step)
		if r.st.Backend != "" && r.st.Backend != r.backendSpec {
			fmt.Fprintf(r.opts.Log, "note: trained on %s until step %d, continuing on %s (same weights; rounding differs)\n", r.st.Backend, r.st.Step, r.backendSpec)
		}
	}
	r.st.Backend = r.backendSpec
	fmt.Fprintf(r.opts.Log, "backend %s (%s)\n", r.backendSpec, r.backend.Description())
	if err := r.dropStaleBest(); err != nil {
		return err
	}
	if r.st.BestSRCC != nil {
		r.res.Best = &EvalResult{SRCC: *r.st.BestSRCC}
		r.res.BestStep = r.st.BestStep
		r.res.BestCheckpoint = filepath.Join(r.ckDir, bestName)
	}
	r.metrics, err = openMetrics(mpath, r.st.Step)
	return err
}

// dropStaleBest removes a best checkpoint newer than the step resumed from:
// the interrupted run chose it after its last step checkpoint (or before any),
// and the resumed run will choose again when it gets there.
func (r *runner) dropStaleBest() error {
	dir := filepath.Join(r.ckDir, bestName)
	js, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil // no best checkpoint
	}
	var st State
	if err := json.Unmarshal(js, &st); err == nil && r.st.BestSRCC != nil && st.Step == r.st.BestStep {
		return nil
	}
	fmt.Fprintf(r.opts.Log, "removing %s (step %d): newer than the resumed step %d\n", dir, st.Step, r.st.Step)
	return os.RemoveAll(dir)
}

func (r *runner) openStreams() error {
	for t, def := range tasks {
		task := model.Task(t)
		if r.cfg.Mix.of(task) <= 0 {
			continue
		}
		var streams []taskStream
		var weights []float64
		pos := r.st.Streams[t]
		serving := 0
		for _, s := range r.pool.srcs {
			if s.serves(task) {
				serving++
			}
		}
		if serving > 1 && (pos.Consumed > 0 || len(pos.Sub) > 0) && len(pos.Sub) != serving {
			return fmt.Errorf("train: the checkpoint's %s stream has %d source positions, the recipe %d sources for it: resume with the recipe the run started with", task, len(pos.Sub), serving)
		}
		for i, src := range r.pool.srcs {
			if !src.serves(task) {
				continue
			}
			seed, sub := r.cfg.Seed+uint64(t), pos
			if serving > 1 {
				seed += uint64(len(streams)+1) << 32
				sub = StreamPos{}
				if len(pos.Sub) > 0 {
					sub = pos.Sub[len(streams)]
				}
			}
			s, err := def.open(r.pool.ds[i], seed, sub, r.cfg, src, r.pool.heldOut[i])
			if err != nil {
				for _, o := range streams {
					o.Close()
				}
				return fmt.Errorf("%w (data source %s)", err, src.Name)
			}
			streams, weights = append(streams, s), append(weights, src.weight())
		}
		if len(streams) == 1 {
			r.streams[t] = streams[0]
		} else {
			r.streams[t] = newMixture(streams, weights, r.cfg.Seed+uint64(t), pos)
		}
	}
	return nil
}

// sourceLine lists a holdout's per-source figures for the log.
func sourceLine(ev EvalResult) string {
	names := make([]string, 0, len(ev.Sources))
	for n := range ev.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		s := ev.Sources[n]
		fmt.Fprintf(&b, "; %s srcc %.4f plcc %.4f (n=%d)", n, s.SRCC, s.PLCC, s.N)
	}
	return b.String()
}

// validates reports whether the run has validation data.
func (r *runner) validates() bool { return r.val != nil || r.cfg.Holdout.Fraction > 0 }

// trainSources are the recipe's data sources, or the one directory of
// opts.TrainDir serving every task.
func trainSources(opts Options) ([]Source, error) {
	c := opts.Train
	switch {
	case len(c.Data) > 0 && opts.TrainDir != "":
		return nil, fmt.Errorf("train: the recipe lists data sources and --train-shards %s is given too: use one", opts.TrainDir)
	case len(c.Data) == 0 && opts.TrainDir == "":
		return nil, fmt.Errorf("train: no training data: give --train-shards or a data section in the recipe")
	case opts.ValDir != "" && c.Holdout.Fraction > 0:
		return nil, fmt.Errorf("train: --val-shards %s and holdout.fraction %g both give validation data: use one", opts.ValDir, c.Holdout.Fraction)
	case len(c.Data) == 0:
		return []Source{{Name: "train", Shards: opts.TrainDir}}, nil
	}
	return c.Data, nil
}

func sourceDirs(srcs []Source) string {
	dirs := make([]string, len(srcs))
	for i, s := range srcs {
		dirs[i] = s.Shards
	}
	return strings.Join(dirs, ", ")
}

func (r *runner) close() {
	for _, s := range r.streams {
		if s != nil {
			s.Close()
		}
	}
	if r.metrics != nil {
		r.metrics.close()
	}
}

// batch draws the next batch of task from its stream.
func (r *runner) batch(ctx context.Context, task model.Task, step int) (*model.Batch, error) {
	s := r.streams[task]
	if s == nil {
		return nil, fmt.Errorf("train: no stream for task %s", task)
	}
	br := r.bridge.WithDescribeText(r.cfg.DescribeText)
	if r.cfg.Augment {
		// A function of (seed, step): resume reproduces the same views.
		br = br.WithAugment(splitmix(r.cfg.Seed*0x100000001b3^uint64(step+1)) | 1).WithPairViews(r.cfg.PairViews)
	}
	return s.Batch(ctx, br, r.cfg.BatchSize)
}

// positions snapshots the streams for a checkpoint.
func (r *runner) positions() {
	for t, s := range r.streams {
		if s != nil {
			r.st.Streams[t] = s.Pos()
		}
	}
}

func (r *runner) run(ctx context.Context) (Result, error) {
	c := r.cfg
	for step := r.st.Step; step < c.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
		task := c.TaskAt(step)
		start := time.Now()
		bs := make([]*model.Batch, c.accum())
		for i := range bs {
			b, err := r.batch(ctx, task, step*len(bs)+i)
			if err != nil {
				return r.res, fmt.Errorf("train: step %d (%s): %w", step+1, task, err)
			}
			bs[i] = b
		}
		lr := c.LRAt(step)
		loss, norm, err := r.guardedStep(step, task, bs, lr)
		if err != nil {
			return r.res, err
		}
		r.res.LastLoss[task] = loss
		r.st.Step = step + 1
		r.res.Steps = r.st.Step
		r.positions()
		if err := r.metrics.step(r.st.Step, task, loss, norm, lr, time.Since(start)); err != nil {
			return r.res, err
		}
		if r.opts.Progress != nil {
			r.opts.Progress(r.st.Step, c.Steps)
		}
		last := r.st.Step == c.Steps
		if r.validates() && (last || (c.EvalEvery > 0 && r.st.Step%c.EvalEvery == 0)) {
			if err := r.evaluate(ctx); err != nil {
				return r.res, err
			}
		}
		if last || (c.CheckpointEvery > 0 && r.st.Step%c.CheckpointEvery == 0) {
			if err := r.checkpoint(); err != nil {
				return r.res, err
			}
		}
	}
	r.res.Model, r.res.Backend = r.m, r.backend
	return r.res, nil
}

// guardedStep runs one step under the watchdog and rejects a non-finite loss.
func (r *runner) guardedStep(step int, task model.Task, bs []*model.Batch, lr float64) (loss, norm float64, err error) {
	timeout := r.cfg.StepTimeout
	if !r.compiled[task] {
		timeout = r.cfg.CompileTimeout
	}
	type out struct {
		loss, norm float64
		err        error
	}
	done := make(chan out, 1)
	go func() {
		var o out
		defer func() {
			if p := recover(); p != nil {
				o.err = fmt.Errorf("panic: %v", p)
			}
			done <- o
		}()
		if h := r.opts.Hooks.BeforeStep; h != nil {
			h(step+1, task)
		}
		o.loss, o.norm, o.err = r.step.step(bs, lr)
	}()
	var o out
	if timeout > 0 {
		select {
		case o = <-done:
		case <-time.After(timeout):
			// The stuck goroutine cannot be cancelled; the caller must not reuse
			// the model (the process should exit).
			return 0, 0, fmt.Errorf("train: step %d (%s) exceeded the watchdog timeout %s (backend hang?)", step+1, task, timeout)
		}
	} else {
		o = <-done
	}
	if o.err != nil {
		return 0, 0, fmt.Errorf("train: step %d (%s): %w", step+1, task, o.err)
	}
	r.compiled[task] = true
	if h := r.opts.Hooks.Loss; h != nil {
		o.loss = h(step+1, task, o.loss)
	}
	if math.IsNaN(o.loss) || math.IsInf(o.loss, 0) || math.IsNaN(o.norm) || math.IsInf(o.norm, 0) {
		return 0, 0, fmt.Errorf("train: non-finite loss %v (grad norm %v) at step %d, task %s; stopped, last checkpoint left intact",
			o.loss, o.norm, step+1, task)
	}
	return o.loss, o.norm, nil
}

// evaluate scores the validation split and keeps the best checkpoint; with
// ema on, both see the averaged weights (swapped in, then back).
func (r *runner) evaluate(ctx context.Context) (err error) {
	if r.cfg.EMA > 0 {
		if err := model.SwapEMA(r.m.Store); err != nil {
			return err
		}
		defer func() {
			if e := model.SwapEMA(r.m.Store); err == nil {
				err = e
			}
		}()
	}
	var ev EvalResult
	if r.val != nil {
		ev, err = Evaluate(ctx, r.pred, r.val, r.cfg.BatchSize)
	} else {
		ev, err = evaluateHoldout(ctx, r.pred, r.pool, r.cfg.BatchSize)
	}
	if err != nil {
		return err
	}
	r.res.LastEval = &ev
	// NaN (constant predictions early on) never counts as an improvement;
	// with select: last no step is kept apart
	better := r.cfg.Select != "last" && !math.IsNaN(ev.SRCC) && (r.st.BestSRCC == nil || ev.SRCC > *r.st.BestSRCC)
	if better {
		v := ev.SRCC
		r.st.BestSRCC, r.st.BestStep = &v, r.st.Step
		r.res.Best, r.res.BestStep = &ev, r.st.Step
	}
	fmt.Fprintf(r.opts.Log, "step %d: val srcc %.4f plcc %.4f (n=%d)%s\n", r.st.Step, ev.SRCC, ev.PLCC, ev.N, sourceLine(ev))
	if err := r.metrics.eval(r.st.Step, ev, better); err != nil {
		return err
	}
	if better {
		r.res.BestCheckpoint = filepath.Join(r.ckDir, bestName)
		st := r.st
		st.Averaged = r.cfg.EMA > 0
		return saveCheckpoint(r.m.Store, r.ckDir, bestName, st)
	}
	return nil
}

func (r *runner) checkpoint() error {
	name := stepName(r.st.Step)
	if err := saveCheckpoint(r.m.Store, r.ckDir, name, r.st); err != nil {
		return err
	}
	r.res.Checkpoint = filepath.Join(r.ckDir, name)
	keep := r.cfg.KeepLast
	if keep == 0 {
		keep = 2
	}
	if err := prune(r.ckDir, keep); err != nil {
		return err
	}
	if AfterCheckpoint != nil {
		AfterCheckpoint(r.ckDir, r.st.Step)
	}
	return nil
}

// AfterCheckpoint, when set, is called once each step checkpoint is on disk.
// Kill-and-resume tests use it to stop a run at an exact step.
var AfterCheckpoint func(dir string, step int)
