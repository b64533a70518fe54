package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/partition"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// Options of a sweep run.
type Options struct {
	Out   string         // runs directory (cells go to Out/<experiment>/...)
	Jobs  int            // cells run at once (default 1)
	Shard partition.Spec // run only this partition of the cells
	Log   io.Writer      // one line per cell event
	// Hooks, when set, gives the training hooks of a cell (tests inject
	// faults or cancel mid-cell with it).
	Hooks func(Cell) train.Hooks
	// Exec, when set, runs each cell in a child process instead of this
	// one: it starts the process that runs cell c alone (the CLI with
	// --shard c.Index/len(Cells())) and returns when it has exited. Memory
	// a finished cell leaves behind (ONNX Runtime keeps what its sessions
	// held) then goes with its process; a sweep of 50 cells in one process
	// grew past 23 GB.
	Exec func(ctx context.Context, c Cell) error
}

// Done is done.json: the cell's identity and a summary of its results.
type Done struct {
	Experiment  string     `json:"experiment"`
	Variant     string     `json:"variant"`
	Seed        int        `json:"seed"`
	Fingerprint string     `json:"fingerprint"`
	Trainable   int64      `json:"trainable"`
	Frozen      int64      `json:"frozen"`
	Steps       int        `json:"steps"`
	BestStep    int        `json:"best_step"`
	Eval        []EvalDone `json:"eval"`
}

// EvalDone is one test set's result in done.json (null for a NaN metric).
type EvalDone struct {
	Name string   `json:"name"`
	N    int      `json:"n"`
	SRCC *float64 `json:"srcc"`
	PLCC *float64 `json:"plcc"`
}

// Summary counts what a Run did.
type Summary struct {
	Cells, Skipped, Trained, Failed int
}

// Run trains and evaluates every cell of the partition that is not done;
// an interrupted cell resumes from its last checkpoint. A failing cell does
// not stop the others; the error lists every failure.
func Run(ctx context.Context, e *Experiment, o Options) (Summary, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	cells := Select(e.Cells(), o.Shard)
	sum := Summary{Cells: len(cells)}
	// Data checks and the shared no-ladder copies come first, in order, so
	// concurrent cells never build them twice.
	dropped := map[string]string{}
	checked := map[*Variant]bool{}
	for _, c := range cells {
		v := c.Variant
		if checked[v] {
			continue
		}
		checked[v] = true
		if err := e.checkData(v); err != nil {
			return sum, err
		}
		if tr, _ := e.trainData(v); v.DropLadder && dropped[tr] == "" {
			d, err := noLadderDir(ctx, e.Root(o.Out), tr)
			if err != nil {
				return sum, err
			}
			dropped[tr] = d
		}
	}
	var mu sync.Mutex
	var errs []error
	// Stages run one after another: a cell that starts from another
	// variant's checkpoint (Variant.Init) waits for every cell of the stage
	// before it, so concurrent jobs never read a checkpoint being written.
	stages := map[int][]Cell{}
	last := 0
	for _, c := range cells {
		k := e.stage(c.Variant)
		stages[k] = append(stages[k], c)
		last = max(last, k)
	}
	for k := 0; k <= last; k++ {
		e.runStage(ctx, stages[k], o, dropped, &sum, &errs, &mu)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return sum, errors.Join(errs...)
}

// runStage runs cells on o.Jobs workers, counting into sum and errs.
func (e *Experiment) runStage(ctx context.Context, cells []Cell, o Options, dropped map[string]string, sum *Summary, errs *[]error, mu *sync.Mutex) {
	work := make(chan Cell)
	var wg sync.WaitGroup
	for range max(1, o.Jobs) {
		wg.Go(func() {
			for c := range work {
				if ctx.Err() != nil {
					continue // interrupted: leave the remaining cells untouched
				}
				var skipped bool
				var err error
				if o.Exec != nil {
					// the child checks a done cell's fingerprint and skips it
					skipped = e.Status(o.Out, c) == StatusDone
					err = o.Exec(ctx, c)
				} else {
					skipped, err = e.runCell(ctx, c, o, dropped)
				}
				mu.Lock()
				switch {
				case err != nil:
					sum.Failed++
					*errs = append(*errs, fmt.Errorf("cell %s seed %d: %w", c.Variant.Name, c.Seed, err))
					fmt.Fprintf(o.Log, "cell %d %s seed %d: FAILED: %v\n", c.Index, c.Variant.Name, c.Seed, err)
				case skipped:
					sum.Skipped++
				default:
					sum.Trained++
				}
				mu.Unlock()
			}
		})
	}
	for _, c := range cells {
		if ctx.Err() != nil {
			break
		}
		work <- c
	}
	close(work)
	wg.Wait()
}

// runCell runs one cell; skipped is true when it was already done.
func (e *Experiment) runCell(ctx context.Context, c Cell, o Options, dropped map[string]string) (skipped bool, err error) {
	dir := e.Dir(o.Out, c)
	fp, err := e.fingerprint(c)
	if err != nil {
		return false, err
	}
	var done Done
	if data, err := os.ReadFile(filepath.Join(dir, DoneFile)); err == nil {
		if err := json.Unmarshal(data, &done); err != nil {
			return false, fmt.Errorf("%s: %w", filepath.Join(dir, DoneFile), err)
		}
		if done.Fingerprint != fp {
			return false, fmt.Errorf("%s was run with another configuration or data; delete it to rerun", dir)
		}
		fmt.Fprintf(o.Log, "cell %d %s seed %d: done, skipped\n", c.Index, c.Variant.Name, c.Seed)
		return true, nil
	}
	id := Done{Experiment: e.Name, Variant: c.Variant.Name, Seed: c.Seed, Fingerprint: fp}
	if err := prepareDir(dir, id); err != nil {
		return false, err
	}
	mc, tc, my, ty, err := c.Variant.cellConfigs(c.Seed)
	if err != nil {
		return false, err
	}
	if err := model.WriteModelFiles(dir, mc, my); err != nil {
		return false, err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, TrainFile), ty, 0o644); err != nil {
		return false, err
	}
	tr, val := e.trainData(c.Variant)
	if d := dropped[tr]; c.Variant.DropLadder && d != "" {
		tr = d
	}
	logf, err := os.OpenFile(filepath.Join(dir, "train.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	var hooks train.Hooks
	if o.Hooks != nil {
		hooks = o.Hooks(c)
	}
	start := time.Now()
	fmt.Fprintf(o.Log, "cell %d %s seed %d: training %d steps\n", c.Index, c.Variant.Name, c.Seed, tc.Steps)
	every := max(1, tc.Steps/10)
	progress := func(step, total int) {
		if step%every == 0 && step < total {
			fmt.Fprintf(o.Log, "cell %d %s seed %d: step %d/%d\n", c.Index, c.Variant.Name, c.Seed, step, total)
		}
	}
	init := ""
	if ic, ok := e.initCell(c); ok {
		if e.Status(o.Out, ic) != StatusDone {
			return false, fmt.Errorf("its init cell %s is not done (run that cell first)", e.Dir(o.Out, ic))
		}
		init = e.Dir(o.Out, ic)
	}
	res, err := train.Run(ctx, train.Options{ModelConfig: mc, Train: tc, TrainDir: tr, ValDir: val, OutDir: dir,
		Resume: true, Init: init, Log: logf, Hooks: hooks, Progress: progress})
	if res.Backend != nil {
		res.Backend.Finalize()
	}
	if err != nil {
		return false, err
	}
	if err := train.Plot(dir); err != nil {
		return false, err
	}
	done = id
	done.Trainable, done.Frozen = c.Variant.Trainable(), c.Variant.Frozen()
	// a run resumed after its last step reports no steps of its own
	done.Steps, done.BestStep = tc.Steps, res.BestStep
	if done.Eval, err = e.evaluate(ctx, mc, tc, dir); err != nil {
		return false, err
	}
	data, _ := json.MarshalIndent(done, "", "  ")
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, DoneFile), append(data, '\n'), 0o644); err != nil {
		return false, err
	}
	var parts []string
	for _, ev := range done.Eval {
		parts = append(parts, fmt.Sprintf("%s SRCC %s", ev.Name, fmtPtr(ev.SRCC)))
	}
	fmt.Fprintf(o.Log, "cell %d %s seed %d: done in %s: %v\n", c.Index, c.Variant.Name, c.Seed, time.Since(start).Round(time.Millisecond), parts)
	return false, nil
}

// prepareDir makes dir ready for training: a cell of another configuration
// is an error, and one that never reached a step checkpoint starts over
// (nothing in it is worth keeping, and train's resume needs a checkpoint).
func prepareDir(dir string, id Done) error {
	want, _ := json.MarshalIndent(id, "", "  ")
	want = append(want, '\n')
	if have, err := os.ReadFile(filepath.Join(dir, CellFile)); err == nil && !bytes.Equal(have, want) {
		return fmt.Errorf("%s holds a run of another configuration or data; delete it to rerun", dir)
	}
	if ck, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "step-*", "state.json")); len(ck) == 0 {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, CellFile), want, 0o644)
}

// evaluate scores every test set with the run's best checkpoint (the last
// without validation) and writes predictions/<set>.csv.
func (e *Experiment) evaluate(ctx context.Context, mc model.Config, tc train.Config, dir string) ([]EvalDone, error) {
	m, b, err := model.LoadCheckpoint(mc, dir)
	if err != nil {
		return nil, err
	}
	defer b.Finalize()
	pred := model.NewPredictor(m, b)
	held, err := train.HoldoutIDs(tc)
	if err != nil {
		return nil, err
	}
	var out []EvalDone
	for _, s := range e.Data.Eval {
		scored, err := scoreSet(ctx, pred, s, held, tc.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("test set %s: %w", s.Name, err)
		}
		p, mos, ids := scored.Pred, scored.MOS, scored.IDs
		rows := make([]predictions.Row, len(p))
		for i := range p {
			rows[i] = predictions.Row{ID: ids[i], Pred: p[i], MOS: mos[i]}
		}
		var buf bytes.Buffer
		if err := predictions.Write(&buf, rows); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(dir, PredDir), 0o755); err != nil {
			return nil, err
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, PredDir, s.Name+".csv"), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		ev := EvalDone{Name: s.Name, N: len(p)}
		if v, err := metrics.SRCC(p, mos); err == nil && !math.IsNaN(v) {
			ev.SRCC = &v
		}
		if v, err := metrics.PLCC(p, mos); err == nil && !math.IsNaN(v) {
			ev.PLCC = &v
		}
		out = append(out, ev)
	}
	return out, nil
}

// scoreSet scores a test set: a shard directory, or a recipe source's holdout.
func scoreSet(ctx context.Context, pred *model.Predictor, s EvalSet, held []train.HoldoutSet, batch int) (feed.Scored, error) {
	if s.Holdout == "" {
		ds, err := shards.Open(s.Shards)
		if err != nil {
			return feed.Scored{}, err
		}
		return feed.ScoreShards(ctx, pred, ds, batch)
	}
	for _, h := range held {
		if h.Source == s.Holdout {
			ds, err := shards.Open(h.Shards)
			if err != nil {
				return feed.Scored{}, err
			}
			return feed.ScoreIDs(ctx, pred, ds, h.IDs, batch)
		}
	}
	return feed.Scored{}, fmt.Errorf("the recipe holds out no scored records of a data source named %q", s.Holdout)
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "NaN"
	}
	return fmt.Sprintf("%.4f", *v)
}
