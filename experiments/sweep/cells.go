package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/partition"
)

// Cell is one (variant, seed) training and evaluation run.
type Cell struct {
	Index   int // position in Experiment.Cells (what --shard partitions)
	Variant *Variant
	Seed    int
}

// Cells lists every cell seed-major (all variants of the first seed, then
// the next seed), so a sweep run in order completes whole seeds first. The
// order depends only on the experiment file and the seeds.
func (e *Experiment) Cells() []Cell {
	var out []Cell
	for _, s := range e.Seeds {
		for _, v := range e.Variants {
			out = append(out, Cell{Index: len(out), Variant: v, Seed: s})
		}
	}
	return out
}

// initCell is the cell whose best checkpoint initialises c (Variant.Init).
func (e *Experiment) initCell(c Cell) (Cell, bool) {
	if c.Variant.Init == "" {
		return Cell{}, false
	}
	for _, o := range e.Cells() {
		if o.Variant.Name == c.Variant.Init && o.Seed == c.Seed {
			return o, true
		}
	}
	return Cell{}, false
}

// stage is how many init links lead from v to a variant trained from scratch.
func (e *Experiment) stage(v *Variant) int {
	n := 0
	for v.Init != "" {
		v, n = e.Variant(v.Init), n+1
	}
	return n
}

// Select returns the cells of partition p: index mod N == i.
func Select(cells []Cell, p partition.Spec) []Cell {
	var out []Cell
	for _, c := range cells {
		if p.HasIndex(c.Index) {
			out = append(out, c)
		}
	}
	return out
}

// Root is the experiment's directory under out: out/<name>.
func (e *Experiment) Root(out string) string { return filepath.Join(out, e.Name) }

// Dir is the cell's directory: out/<experiment>/<variant>/seed<k>.
func (e *Experiment) Dir(out string, c Cell) string {
	return filepath.Join(e.Root(out), c.Variant.Name, fmt.Sprintf("seed%d", c.Seed))
}

// File names inside a cell directory.
const (
	DoneFile  = "done.json" // written atomically, last: the cell is complete
	CellFile  = "cell.json" // identity of the cell being trained here
	PredDir   = "predictions"
	ModelFile = "model.yaml"
	TrainFile = "recipe.yaml"
)

// Status of a cell on disk.
type Status string

// Cell statuses.
const (
	StatusTodo    Status = "todo"    // nothing on disk
	StatusPartial Status = "partial" // started (a checkpoint may exist), not done
	StatusDone    Status = "done"
)

// Status reports whether a cell is done, started or untouched.
func (e *Experiment) Status(out string, c Cell) Status {
	dir := e.Dir(out, c)
	if _, err := os.Stat(filepath.Join(dir, DoneFile)); err == nil {
		return StatusDone
	}
	if _, err := os.Stat(dir); err == nil {
		return StatusPartial
	}
	return StatusTodo
}

// trainData returns the training and validation shard directories of a
// variant (the no-ladder copy is resolved by the runner).
func (e *Experiment) trainData(v *Variant) (string, string) {
	tr, val := e.Data.Train, e.Data.Val
	if v.TrainData != "" {
		tr = v.TrainData
	}
	if v.ValData != "" {
		val = v.ValData
	}
	return tr, val
}

// dataSets are every shard directory a variant's cells read: training and
// validation (the experiment's, or the recipe's data sources) and the test
// sets (holdout sets are part of the sources).
func (e *Experiment) dataSets(v *Variant) ([]EvalSet, error) {
	var sets []EvalSet
	if tr, val := e.trainData(v); tr != "" {
		sets = []EvalSet{{Name: "train", Shards: tr}, {Name: "val", Shards: val}}
	} else {
		_, tc, _, _, err := v.cellConfigs(1)
		if err != nil {
			return nil, err
		}
		if len(tc.Data) == 0 || tc.Holdout.Fraction <= 0 || tc.Holdout.Seed == 0 {
			return nil, fmt.Errorf("without data.train and data.val the recipe needs a data section and a holdout with a fixed holdout.seed (so every cell validates on the same records)")
		}
		for _, s := range tc.Data {
			sets = append(sets, EvalSet{Name: "source:" + s.Name, Shards: s.Shards})
		}
	}
	for _, s := range e.Data.Eval {
		if s.Shards != "" {
			sets = append(sets, EvalSet{Name: "eval:" + s.Name, Shards: s.Shards})
		}
	}
	return sets, nil
}

// fingerprint identifies what a cell computes: its exact model and recipe
// YAML, the content (shard hashes) of its data, and whether ladder items are
// dropped. Paths are left out so runs dirs gathered from several machines
// (with different mount points) still match.
func (e *Experiment) fingerprint(c Cell) (string, error) {
	_, _, my, ty, err := c.Variant.cellConfigs(c.Seed)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "model\n%s\nrecipe\n%s\ndrop_ladder %v\n", my, ty, c.Variant.DropLadder)
	if ic, ok := e.initCell(c); ok {
		fp, err := e.fingerprint(ic)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "init %s\n", fp)
	}
	sets, err := e.dataSets(c.Variant)
	if err != nil {
		return "", err
	}
	for _, s := range sets {
		m, err := shards.ReadManifest(s.Shards)
		if err != nil {
			return "", fmt.Errorf("data %s: %w", s.Name, err)
		}
		fmt.Fprintf(h, "%s %d\n", s.Name, m.FrameSize)
		for _, sh := range m.Shards {
			fmt.Fprintf(h, "  %s %s\n", sh.SHA256, sh.Compression)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkData fails early when a variant needs more frames or patches than
// its shards hold (sampler_params m and k in the manifest).
func (e *Experiment) checkData(v *Variant) error {
	sets, err := e.dataSets(v)
	if err != nil {
		return fmt.Errorf("variant %s: %w", v.Name, err)
	}
	in := v.res.model.Input
	for _, set := range sets {
		d := set.Shards
		m, err := shards.ReadManifest(d)
		if err != nil {
			return fmt.Errorf("variant %s: %w", v.Name, err)
		}
		var p struct{ M, K int }
		if json.Unmarshal(m.SamplerParams, &p) != nil {
			continue // no sampler record (e.g. hand-written shards)
		}
		vr, _ := lookup(v)
		if (vr.Context && p.M > 0 && p.M < in.Frames) || (vr.Pixel && p.K > 0 && p.K < in.Patches) {
			return fmt.Errorf("variant %s needs %d frames and %d patches, %s holds m=%d k=%d (rebuild the shards with shards.m/shards.k)",
				v.Name, in.Frames, in.Patches, d, p.M, p.K)
		}
	}
	return nil
}

// CheckData runs checkData for every variant (a dry run's warnings).
func (e *Experiment) CheckData() error {
	var errs []error
	for _, v := range e.Variants {
		errs = append(errs, e.checkData(v))
	}
	return errors.Join(errs...)
}

// PlanRow is one line of a dry run.
type PlanRow struct {
	Index     int    `json:"index"`
	Variant   string `json:"variant"`
	Seed      int    `json:"seed"`
	Shard     string `json:"shard"` // the partition i/N that runs it
	Trainable int64  `json:"trainable"`
	Frozen    int64  `json:"frozen"`
	Status    Status `json:"status"`
	Dir       string `json:"dir"`
}

// Plan lists the cells of partition p with their parameter counts and status.
func (e *Experiment) Plan(out string, p partition.Spec) []PlanRow {
	n := max(1, p.N)
	var rows []PlanRow
	for _, c := range Select(e.Cells(), p) {
		rows = append(rows, PlanRow{Index: c.Index, Variant: c.Variant.Name, Seed: c.Seed,
			Shard: fmt.Sprintf("%d/%d", c.Index%n, n), Trainable: c.Variant.Trainable(), Frozen: c.Variant.Frozen(),
			Status: e.Status(out, c), Dir: e.Dir(out, c)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	return rows
}
