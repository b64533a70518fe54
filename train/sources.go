package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/corr"
	"github.com/cpllm/cpllm/model"
)

// Source is one entry of the recipe's data section: a shard directory, its
// share of the batches of each task it serves, and which tasks those are.
type Source struct {
	Name   string   `yaml:"name"`
	Shards string   `yaml:"shards"` // shard directory; relative paths are relative to the working directory
	Weight float64  `yaml:"weight"` // relative share of its tasks' batches; 0 = 1
	Tasks  []string `yaml:"tasks"`  // score | describe | pair; empty = every task of the mix
	// PairKinds keeps only these kinds of the shards' comparison pairs
	// (ladder: same source, lower CRF better; mos: two sources by MOS;
	// ladder-adjacent: the ladder pairs of neighbouring rungs only,
	// shards.AdjacentLadder); empty = all. A second source over the same
	// shards with tasks [pair] and pair_kinds [ladder] gives the
	// compression pairs their own weight.
	PairKinds []string `yaml:"pair_kinds"`
}

// PairLadderAdjacent selects the ladder pairs of neighbouring rungs in
// pair_kinds; it is a selection of ladder pairs, not a kind pairs.jsonl stores.
const PairLadderAdjacent = "ladder-adjacent"

var pairKinds = []string{shards.KindLadder, shards.KindMOS, PairLadderAdjacent}

// Holdout carves the validation set out of the training pool: of every
// source serving the score task, Fraction of its groups (a record's
// SourceID, else its ID: a clip and its re-encodes are one group), drawn by
// Seed. Held-out groups leave every task's training stream, in every
// source, so no re-encode of a validation clip is trained on either.
//
// Fold k > 0 takes the k-th block of the same permutation instead of the
// first: with F = round(1/Fraction) folds, fold k holds groups
// [k*n, (k+1)*n) of the shuffled list (n = round(Fraction * groups)) and the
// last fold the rest, so the F folds of one seed partition the groups and a
// recipe run once per fold is a K-fold cross-validation. Fold 0 is the
// plain holdout.
type Holdout struct {
	Fraction float64 `yaml:"fraction"` // 0 = off (validation from --val-shards)
	Seed     uint64  `yaml:"seed"`     // 0 = the recipe's seed
	Fold     int     `yaml:"fold"`     // which block of the permutation validates (0 .. Folds()-1)
}

// Folds is the number of disjoint holdouts the fraction cuts a source into.
func (h Holdout) Folds() int {
	if h.Fraction <= 0 {
		return 0
	}
	return max(1, int(math.Round(1/h.Fraction)))
}

func (s Source) weight() float64 {
	if s.Weight > 0 {
		return s.Weight
	}
	return 1
}

// serves reports whether the source feeds task.
func (s Source) serves(task model.Task) bool {
	return len(s.Tasks) == 0 || slices.Contains(s.Tasks, task.String())
}

// validateData checks the data and holdout sections.
func (c Config) validateData() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf("train config: "+f, a...)) }
	names := map[string]bool{}
	for i, s := range c.Data {
		where := fmt.Sprintf("data[%d]", i)
		switch {
		case s.Name == "":
			bad("%s: name is required", where)
		case names[s.Name]:
			bad("%s: name %q repeats", where, s.Name)
		}
		names[s.Name] = true
		if s.Shards == "" {
			bad("%s (%s): shards is required", where, s.Name)
		}
		if s.Weight < 0 || math.IsInf(s.Weight, 0) || math.IsNaN(s.Weight) {
			bad("%s (%s): weight %g must be >= 0 (0 = 1)", where, s.Name, s.Weight)
		}
		for _, t := range s.Tasks {
			if !slices.Contains(taskNames(), t) {
				bad("%s (%s): unknown task %q (known: %v)", where, s.Name, t, taskNames())
			}
		}
		for _, k := range s.PairKinds {
			if !slices.Contains(pairKinds, k) {
				bad("%s (%s): unknown pair kind %q (known: %s)", where, s.Name, k, strings.Join(pairKinds, ", "))
			}
		}
		if len(s.PairKinds) > 0 && !s.serves(model.TaskPair) {
			bad("%s (%s): pair_kinds is set but the source does not serve the pair task", where, s.Name)
		}
	}
	for t := range model.Task(numTasks) {
		if c.Mix.of(t) <= 0 || len(c.Data) == 0 {
			continue
		}
		if !slices.ContainsFunc(c.Data, func(s Source) bool { return s.serves(t) }) {
			bad("mix: task %s has ratio %g but no data source serves it", t, c.Mix.of(t))
		}
	}
	if h := c.Holdout.Fraction; h < 0 || h >= 1 || math.IsNaN(h) {
		bad("holdout.fraction %g must be in [0, 1) (0 = off)", h)
	} else if f := c.Holdout.Fold; f != 0 && (f < 0 || f >= c.Holdout.Folds()) {
		bad("holdout.fold %d must be in [0, %d): holdout.fraction %g cuts each source into %d folds", f, c.Holdout.Folds(), h, c.Holdout.Folds())
	}
	return errors.Join(errs...)
}

func taskNames() []string {
	out := make([]string, numTasks)
	for t := range model.Task(numTasks) {
		out[t] = t.String()
	}
	return out
}

// pool is the opened training data: one dataset per source, the held-out
// ids, and which held-out records each score source validates on.
type pool struct {
	srcs    []Source
	ds      []*shards.Dataset
	heldOut []map[string]bool // per source: record ids out of training (validation)
	valIDs  [][]string        // per source: its held-out scored ids (score sources only)
	fitIDs  [][]string        // per source: its scored ids left for training (score sources only)
}

// openPool opens every source and draws the holdout.
func openPool(srcs []Source, h Holdout, seed uint64) (*pool, error) {
	p := &pool{srcs: srcs, heldOut: make([]map[string]bool, len(srcs)), valIDs: make([][]string, len(srcs)),
		fitIDs: make([][]string, len(srcs))}
	size := 0
	for i, s := range srcs {
		ds, err := shards.Open(s.Shards)
		if err != nil {
			return nil, fmt.Errorf("train: data source %s: %w", s.Name, err)
		}
		if i > 0 && ds.FrameSize() != p.ds[0].FrameSize() {
			return nil, fmt.Errorf("train: data source %s (%s) has %dpx frames, %s (%s) %dpx: build every source's shards at one size",
				s.Name, s.Shards, ds.FrameSize(), srcs[0].Name, srcs[0].Shards, p.ds[0].FrameSize())
		}
		if size == 0 {
			size = ds.FrameSize()
		}
		p.ds = append(p.ds, ds)
	}
	if h.Fraction <= 0 {
		return p, nil
	}
	if h.Seed == 0 {
		h.Seed = seed
	}
	// every source's labels column (ids, source ids, MOS), read once
	cands := make([][]shards.PairCandidate, len(srcs))
	for i, s := range srcs {
		var err error
		if cands[i], err = p.ds[i].PairCandidates(); err != nil {
			return nil, fmt.Errorf("train: data source %s: %w", s.Name, err)
		}
	}
	// groups[i][key] = the scored ids of that group in source i
	groups := make([]map[string][]string, len(srcs))
	heldGroups := make([][]string, len(srcs))
	for i, s := range srcs {
		if !s.serves(model.TaskScore) {
			continue
		}
		groups[i] = map[string][]string{}
		for _, c := range cands[i] {
			if math.IsNaN(c.MOSNorm) || math.IsInf(c.MOSNorm, 0) {
				continue
			}
			groups[i][groupKey(c.ID, c.SourceID)] = append(groups[i][groupKey(c.ID, c.SourceID)], c.ID)
		}
		held := drawHoldout(groups[i], h, s.Name)
		heldGroups[i] = held
		for _, k := range held {
			p.valIDs[i] = append(p.valIDs[i], groups[i][k]...)
		}
		if n := len(p.valIDs[i]); n < corr.MinSamples {
			return nil, fmt.Errorf("train: holdout.fraction %g (fold %d) leaves %d validation records of source %s (%d groups); validation SRCC needs at least %d",
				h.Fraction, h.Fold, n, s.Name, len(groups[i]), corr.MinSamples)
		}
	}
	// A held-out group leaves every source, found by its key: a ladder
	// directory's re-encodes of a held-out clip carry the clip's id as SourceID.
	heldKeys := map[string]bool{}
	for i := range srcs {
		for _, k := range heldGroups[i] {
			heldKeys[k] = true
		}
	}
	for i := range srcs {
		p.heldOut[i] = map[string]bool{}
		for _, c := range cands[i] {
			switch {
			case heldKeys[groupKey(c.ID, c.SourceID)]:
				p.heldOut[i][c.ID] = true
			case groups[i] != nil && !math.IsNaN(c.MOSNorm) && !math.IsInf(c.MOSNorm, 0):
				p.fitIDs[i] = append(p.fitIDs[i], c.ID)
			}
		}
	}
	return p, nil
}

// groupKey is what holds a clip and everything derived from it together.
func groupKey(id, sourceID string) string {
	if sourceID != "" {
		return sourceID
	}
	return id
}

// drawHoldout picks round(fraction * groups) group keys (at least one), by
// a permutation seeded from the holdout seed and the source name: the draw
// depends on nothing else (not on shard order or other sources).
func drawHoldout(groups map[string][]string, h Holdout, name string) []string {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := max(1, int(math.Round(h.Fraction*float64(len(keys)))))
	r := rand.New(rand.NewPCG(h.Seed, fnv64(name)))
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	lo, hi := min(h.Fold*n, len(keys)), min((h.Fold+1)*n, len(keys))
	if h.Fold > 0 && h.Fold == h.Folds()-1 {
		hi = len(keys)
	}
	held := slices.Clone(keys[lo:hi])
	sort.Strings(held)
	return held
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
