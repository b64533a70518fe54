package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model"
	"gonum.org/v1/gonum/mat"
)

// stats_linear_ladder: the closed-form start asked to order compression as
// well. A ridge of the statistics on MOS alone orders only part of a
// clip's CRF ladder (the statistics that rank MOS best, exposure and
// colour among them, move the wrong way under re-encoding); one linear
// reading of the same statistics fit to MOS plus a ranking loss over the
// training clips' own ladder rungs orders held-out ladders at 0.97 at an
// unchanged MOS ranking (experiments/results/real-ladder/joint-fit.md).
// The ranking loss here is RankSVM's squared hinge, so the fit stays a
// few linear solves.

// ladderMargin is the tilt difference each ladder pair must reach for its
// better rung (about 0.07 on the 1-5 scale at mid scale, TiltScore's slope
// being 2 there); pairs already that far apart do not pull.
const ladderMargin = 0.1

// rankRow is one ladder pair of the ridge: d = row(better) - row(worse)
// and the margin m the linear reading's difference w . d must reach.
type rankRow struct {
	d []float64
	m float64
}

// probeFeat is one training record's ridge row, standardised statistics
// and still-image indicator, kept by id for the ladder pairs.
type probeFeat struct {
	row, z []float64
	still  float64
	key    string // source index / record id, unique in the pool
}

// ladderPairs reads the ladder pairs of dir/pairs.jsonl whose two records
// both have features in feats (held-out records never do) as
// (better, worse) id pairs; a source without pairs.jsonl has none (fitLadder
// refuses a fit left with no pair at all).
func ladderPairs(dir string, feats map[string]probeFeat) ([][2]string, error) {
	path := filepath.Join(dir, "pairs.jsonl")
	all, err := shards.ReadPairs(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: stats_linear_ladder needs the ladder pairs of %s: %w", path, err)
	}
	var out [][2]string
	for _, p := range all {
		if p.Kind != shards.KindLadder {
			continue
		}
		if _, ok := feats[p.A]; !ok {
			continue
		}
		if _, ok := feats[p.B]; !ok {
			continue
		}
		if p.Label == 0 {
			out = append(out, [2]string{p.A, p.B})
		} else {
			out = append(out, [2]string{p.B, p.A})
		}
	}
	return out, nil
}

// fitLadder refits the linear path with the ladder pairs (better, worse)
// as ridgeRank's ranking rows, at the score rows' penalty lambda. With the
// kernel reading k beside it the tilt is (w . row) / 2 + k's tilt, so a
// pair's margin for w . d is 2 (ladderMargin - k's difference): the pairs
// ask the mean of the two readings to order the rungs.
func (r *runner) fitLadder(rows [][]float64, ys, ws []float64, lambda float64, pairs [][2]probeFeat, k *model.StatsKernel) ([]float64, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("train: stats_linear_ladder: no ladder pair of training records with statistics in the score sources")
	}
	rr := make([]rankRow, len(pairs))
	for p, pr := range pairs {
		d := make([]float64, len(pr[0].row))
		for j := range d {
			d[j] = pr[0].row[j] - pr[1].row[j]
		}
		m := ladderMargin
		if k != nil {
			m = 2 * (ladderMargin - (k.Tilt(pr[0].z, pr[0].still) - k.Tilt(pr[1].z, pr[1].still)))
		}
		rr[p] = rankRow{d: d, m: m}
	}
	w, its, short, err := ridgeRank(rows, ys, ws, lambda, rr, r.cfg.StatsLinearLadder)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(r.opts.Log, "stats_linear_init: ladder ranking over %d CRF-ladder pairs at weight %g (%d Newton steps; %d pairs short of the margin)\n", len(rr), r.cfg.StatsLinearLadder, its, short)
	return w, nil
}

// ridgeRank minimises
//
//	sum_i (ws_i / W) (y_i - c - w . x_i)^2
//	  + sum_p (alpha / P) max(0, m_p - w . d_p)^2 + (lambda / n) |w|^2
//
// (W the total weight, n the score rows, P the ladder pairs): ridgeLOO's
// objective at a fixed penalty plus a squared-hinge ranking term of total
// weight alpha. The intercept c only enters the score rows, so centring
// them at their weighted means removes it exactly. The squared hinge is
// piecewise quadratic: Newton's method on it (solve the ridge with the
// pairs short of their margin as rows, recompute which are short, repeat)
// ends when that set stops changing. It returns w, the Newton iterations
// and the pairs still short of their margin.
func ridgeRank(xs [][]float64, ys, ws []float64, lambda float64, pairs []rankRow, alpha float64) ([]float64, int, int, error) {
	n, f := len(xs), len(xs[0])
	xm, ym, wsum := weightedMeans(xs, ys, ws)
	// the score rows' part of the normal equations, fixed across iterations
	base := mat.NewSymDense(f, nil)
	rhs0 := mat.NewVecDense(f, nil)
	xc := make([]float64, f)
	for i, x := range xs {
		s := ws[i] / wsum
		for k, v := range x {
			xc[k] = v - xm[k]
		}
		base.SymRankOne(base, s, mat.NewVecDense(f, xc))
		rhs0.AddScaledVec(rhs0, s*(ys[i]-ym), mat.NewVecDense(f, xc))
	}
	for k := range f {
		base.SetSym(k, k, base.At(k, k)+lambda/float64(n))
	}
	d, m := make([]*mat.VecDense, len(pairs)), make([]float64, len(pairs))
	for p, pr := range pairs {
		d[p], m[p] = mat.NewVecDense(f, pr.d), pr.m
	}
	return hingeNewton(base, rhs0, d, m, alpha, fmt.Sprintf("stats_linear_ladder (lambda %g)", lambda))
}

// hingeNewton minimises the quadratic (1/2) w' base w - rhs0' w plus the
// squared hinge (alpha/P) sum_p max(0, m_p - w . d_p)^2 (up to a factor
// of 2 on both parts) by Newton's method: solve with the pairs short of
// their margin as extra rank-one terms, recompute which are short, repeat
// from w = 0 (every pair short) until that set stops changing. It returns
// w, the Newton steps and the pairs still short; what names the fit in
// errors.
func hingeNewton(base *mat.SymDense, rhs0 *mat.VecDense, d []*mat.VecDense, m []float64, alpha float64, what string) ([]float64, int, int, error) {
	v := 0.0
	if len(d) > 0 {
		v = alpha / float64(len(d))
	}
	active := make([]bool, len(d))
	for p := range active {
		active[p] = true
	}
	w := mat.NewVecDense(base.SymmetricDim(), nil)
	for it := 1; it <= 100; it++ {
		a := mat.NewSymDense(base.SymmetricDim(), nil)
		a.CopySym(base)
		rhs := mat.VecDenseCopyOf(rhs0)
		for p, on := range active {
			if on {
				a.SymRankOne(a, v, d[p])
				rhs.AddScaledVec(rhs, v*m[p], d[p])
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(a) {
			return nil, 0, 0, fmt.Errorf("train: %s: the normal equations are not positive definite", what)
		}
		if err := ch.SolveVecTo(w, rhs); err != nil {
			return nil, 0, 0, fmt.Errorf("train: %s: %w", what, err)
		}
		next := make([]bool, len(d))
		short := 0
		for p := range d {
			next[p] = mat.Dot(w, d[p]) < m[p]
			if next[p] {
				short++
			}
		}
		if slices.Equal(next, active) {
			return w.RawVector().Data, it, short, nil
		}
		active = next
	}
	return nil, 0, 0, fmt.Errorf("train: %s: the ranking fit did not settle in 100 Newton steps", what)
}
