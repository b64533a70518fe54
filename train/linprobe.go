package train

import (
	"context"
	"fmt"
	"math"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
	"gonum.org/v1/gonum/mat"
)

// fitStatsLinear starts the heads.stats_linear path at a ridge fit of the
// score on the standardised statistics (stats_linear_init: ridge): linear
// probing before fine-tuning (LP-FT), so the decoder learns what the
// statistics' best linear reading misses instead of first finding that
// reading through a randomly initialised network. Rows are the training
// records of the score sources (held-out ones never), each source weighted
// by its share of the score batches; the target of a record is the tilt
// whose expected score, on otherwise equal level logits, is its MOS
// (model.TiltFor). The ridge penalty is chosen by exact weighted
// leave-one-out error. Only a fresh run fits: --init and resumed runs keep
// their own weights.
func (r *runner) fitStatsLinear(ctx context.Context) error {
	if !r.m.Cfg.Heads.StatsLinear {
		return fmt.Errorf("train: stats_linear_init: ridge needs a model with heads.stats_linear: true (and stats set)")
	}
	mean, std, err := r.m.StatsNorm()
	if err != nil {
		return err
	}
	var rows, zs [][]float64
	var ys, ws, stills []float64
	var keys []string        // the scored rows' probeFeat keys
	var pairs [][2]probeFeat // ladder pairs (better, worse), with a ladder weight
	ladder := r.cfg.StatsLinearLadder > 0 || r.cfg.StatsKernelLadder > 0
	still := 0
	for i, ds := range r.pool.ds {
		src := r.pool.srcs[i]
		if !src.serves(model.TaskScore) {
			continue
		}
		first := len(rows)
		feats := map[string]probeFeat{} // every training record with statistics, MOS or not
		for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: 16}) {
			if err != nil {
				return fmt.Errorf("train: stats_linear_init over %s: %w", ds.Dir(), err)
			}
			for j := range recs {
				rec := &recs[j]
				usable := feed.Usable(rec)
				if r.pool.heldOut[i][rec.ID] || (!usable && !ladder) {
					continue
				}
				x, ok, err := r.bridge.ClipStats(feed.ClipOf(rec))
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				z := model.StatsZ(x, mean, std)
				s := 0.0
				if model.StillKind(r.m.Cfg.Stats) && x[len(x)-1] == 1 {
					s = 1
				}
				feats[rec.ID] = probeFeat{row: probeRow(r.m.Cfg, x, z), z: z, still: s, key: fmt.Sprintf("%d/%s", i, rec.ID)}
				if usable {
					keys = append(keys, feats[rec.ID].key)
					rows = append(rows, feats[rec.ID].row)
					zs = append(zs, z)
					stills = append(stills, s)
					still += int(s)
					ys = append(ys, model.TiltFor(rec.MOSNorm))
				}
			}
		}
		if ladder {
			ids, err := ladderPairs(ds.Dir(), feats)
			if err != nil {
				return err
			}
			for _, p := range ids {
				pairs = append(pairs, [2]probeFeat{feats[p[0]], feats[p[1]]})
			}
		}
		for range len(rows) - first {
			ws = append(ws, src.weight()/float64(len(rows)-first))
		}
	}
	if len(rows) < 3 {
		return fmt.Errorf("train: stats_linear_init needs at least 3 scored training records with statistics, got %d", len(rows))
	}
	w, lambda, err := ridgeLOO(rows, ys, ws)
	if err != nil {
		return err
	}
	domains := ""
	if r.m.Cfg.Heads.StatsLinearDomains {
		domains = fmt.Sprintf(", %d still images and %d videos with their own weights", still, len(rows)-still)
	}
	fmt.Fprintf(r.opts.Log, "stats_linear_init: ridge over %d scored training records%s (lambda %.3g by leave-one-out)\n", len(rows), domains, lambda)
	if r.cfg.StatsKernelLadder > 0 && r.m.Cfg.Heads.StatsKernel == 0 {
		return fmt.Errorf("train: stats_kernel_ladder needs a model with heads.stats_kernel")
	}
	var k *model.StatsKernel
	if r.m.Cfg.Heads.StatsKernel > 0 {
		kf, err := r.fitStatsKernel(zs, ys, stills, keys, pairs)
		if err != nil {
			return err
		}
		if err := r.m.SetStatsKernel(kf); err != nil {
			return err
		}
		k = &kf
	}
	if r.cfg.StatsLinearLadder > 0 {
		if w, err = r.fitLadder(rows, ys, ws, lambda, pairs, k); err != nil {
			return err
		}
	}
	if k != nil {
		for i := range w { // the two readings averaged
			w[i] /= 2
		}
	}
	return r.m.SetStatsLinear(w)
}

// fitStatsKernel fits heads.stats_kernel on the linear path's rows
// (standardised statistics zs, tilt targets ys, still-image indicators
// stills, probeFeat keys): one kernel ridge per domain present, its
// coefficients halved, as the linear path's weights are, so the tilt is the
// mean of the two readings. With stats_kernel_ladder a domain's ladder
// pairs refit it at the chosen width and penalty (kernelRank).
func (r *runner) fitStatsKernel(zs [][]float64, ys, stills []float64, keys []string, pairs [][2]probeFeat) (model.StatsKernel, error) {
	var k model.StatsKernel
	ranked := false
	for d, name := range []string{"videos", "still images"} {
		var xs [][]float64
		var yd []float64
		var kd []string
		for i, z := range zs {
			if stills[i] == float64(d) {
				xs = append(xs, z[:model.StatsKernelDims])
				yd = append(yd, ys[i])
				if keys != nil {
					kd = append(kd, keys[i])
				}
			}
		}
		if len(xs) == 0 {
			continue
		}
		alpha, gamma, lambda, err := fitKernelRidge(xs, yd, r.cfg.Seed+uint64(d))
		if err != nil {
			return k, fmt.Errorf("%w (%s)", err, name)
		}
		fmt.Fprintf(r.opts.Log, "stats_linear_init: kernel ridge over %d %s (gamma %.3g, lambda %.3g by %d-fold cross-validation)\n", len(xs), name, gamma, lambda, kernelFolds)
		sup := xs
		if r.cfg.StatsKernelLadder > 0 {
			var idx [][2]int
			sup, idx = rungSupports(xs, kd, pairs, float64(d))
			if len(idx) > 0 {
				ranked = true
				var its, short int
				alpha, its, short, err = kernelRank(sup, yd, idx, gamma, lambda, r.cfg.StatsKernelLadder, 2*ladderMargin)
				if err != nil {
					return k, fmt.Errorf("%w (%s)", err, name)
				}
				fmt.Fprintf(r.opts.Log, "stats_linear_init: kernel ladder ranking of the %s over %d CRF-ladder pairs, %d rungs as supports, at weight %g (%d Newton steps; %d pairs short of the margin)\n", name, len(idx), len(sup)-len(xs), r.cfg.StatsKernelLadder, its, short)
			}
		}
		for i := range sup {
			k.Support = append(k.Support, sup[i])
			k.Alpha = append(k.Alpha, alpha[i]/2)
			k.Still = append(k.Still, float64(d))
		}
		k.Gamma[d] = gamma
	}
	if r.cfg.StatsKernelLadder > 0 && !ranked {
		return k, fmt.Errorf("train: stats_kernel_ladder: no ladder pair of training records with statistics in the score sources")
	}
	return k, nil
}

// probeRow is the ridge row of one record's raw statistics x and their
// standardised values z: z itself, or with heads.stats_linear_domains z,
// s z, (1 - s) z for the still-image indicator s (x's last entry), so one
// penalty shrinks the still images' and the videos' own weights towards
// the shared ones, the layout model.SetStatsLinear takes.
func probeRow(c model.Config, x, z []float64) []float64 {
	if !c.Heads.StatsLinearDomains {
		return z
	}
	s := x[len(x)-1]
	row := make([]float64, 3*len(z))
	for j, v := range z {
		row[j], row[len(z)+j], row[2*len(z)+j] = v, s*v, (1-s)*v
	}
	return row
}

// weightedMeans returns the ws-weighted means of the rows xs and of ys,
// and the total weight.
func weightedMeans(xs [][]float64, ys, ws []float64) (xm []float64, ym, wsum float64) {
	for _, w := range ws {
		wsum += w
	}
	xm = make([]float64, len(xs[0]))
	for i, x := range xs {
		for k, v := range x {
			xm[k] += ws[i] / wsum * v
		}
		ym += ws[i] / wsum * ys[i]
	}
	return xm, ym, wsum
}

// ridgeLambdas is the grid the leave-one-out error picks the penalty from.
var ridgeLambdas = func() []float64 {
	var out []float64
	for e := -2.0; e <= 4.0001; e += 0.25 {
		out = append(out, math.Pow(10, e))
	}
	return out
}()

// ridgeLOO fits y ~ c + w . x by weighted ridge: it minimises
// sum_i (ws_i / W) (y_i - c - w . x_i)^2 + (lambda / n) |w|^2 (W the total
// weight, n the rows, so lambda does not depend on how the weights are
// scaled), lambda chosen on ridgeLambdas by exact weighted leave-one-out
// squared error (the hat matrix's diagonal). It returns w and lambda.
func ridgeLOO(xs [][]float64, ys, ws []float64) ([]float64, float64, error) {
	n, f := len(xs), len(xs[0])
	// centre x and y at their weighted means: the intercept is then free
	xm, ym, wsum := weightedMeans(xs, ys, ws)
	Z := mat.NewDense(n, f, nil)  // sqrt(w_i / wsum) (x_i - xm)
	yc := mat.NewVecDense(n, nil) // sqrt(w_i / wsum) (y_i - ym)
	for i, x := range xs {
		s := math.Sqrt(ws[i] / wsum)
		for k, v := range x {
			Z.Set(i, k, s*(v-xm[k]))
		}
		yc.SetVec(i, s*(ys[i]-ym))
	}
	var svd mat.SVD
	if !svd.Factorize(Z, mat.SVDThin) {
		return nil, 0, fmt.Errorf("train: stats_linear_init: SVD did not converge")
	}
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	sv := svd.Values(nil)
	uy := mat.NewVecDense(len(sv), nil)
	uy.MulVec(U.T(), yc)
	best, bestLambda := math.Inf(1), 0.0
	for _, lambda := range ridgeLambdas {
		// fitted values and leverages of the scaled problem: the weighted
		// leave-one-out residual is e_i / (1 - h_i), weighted by w_i
		var loo float64
		for i := range n {
			var fit, h float64
			for k, s := range sv {
				g := s * s / (s*s + lambda/float64(n))
				u := U.At(i, k)
				fit += u * g * uy.AtVec(k)
				h += u * u * g
			}
			e := (yc.AtVec(i) - fit) / (1 - h)
			loo += e * e // yc already carries sqrt(w_i)
		}
		if loo < best {
			best, bestLambda = loo, lambda
		}
	}
	w := make([]float64, f)
	for k, s := range sv {
		c := s / (s*s + bestLambda/float64(n)) * uy.AtVec(k)
		for j := range f {
			w[j] += V.At(j, k) * c
		}
	}
	return w, bestLambda, nil
}
