package baseline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/internal/corr"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
)

// Set is clips with their MOS and feature rows (columns in a names order).
type Set struct {
	IDs []string
	MOS []float64
	X   [][]float64
}

func (s Set) subset(rows []int) Set {
	out := Set{}
	for _, i := range rows {
		out.IDs = append(out.IDs, s.IDs[i])
		out.MOS = append(out.MOS, s.MOS[i])
		out.X = append(out.X, s.X[i])
	}
	return out
}

// Baseline kinds.
const (
	KindRidge  = "ridge"  // ridge regression of the features onto MOS
	KindKRR    = "krr"    // RBF kernel ridge regression (the SVR of BRISQUE-style pipelines)
	KindSingle = "single" // one feature's raw value, sign fixed on the training rows
)

// Baseline is one predictor: a kind and the features it reads.
type Baseline struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Features []string `json:"features"`
}

// Baselines are the ridge fits on the BRISQUE features, on all NSS
// features (BRISQUE + sharpness), on those and the bit rate where available
// (ridge_all), on all of that and the describe signals (ridge_signals:
// exposure, contrast, colour, noise, blocking; what a model's statistics
// token of kind nss-signals adds), then every available feature alone. A
// ridge set is left out when one of its features is missing from names.
//
// With pretrained MobileNetV2 features (cpllm baseline --deep mobilenetv2)
// three more ridge fits: on all its features (ridge_mnv2), on the channel
// means of its middle stages that stats kind frame-nss-logsignals+mnv2mid
// reads (ridge_mnv2mid), and on those plus ridge_signals' features
// (ridge_mnv2mid_signals); its features are not baselines alone.
//
// krr_signals (and, with the pretrained features, krr_mnv2mid_signals) fit
// the same features as ridge_signals (ridge_mnv2mid_signals) with an RBF
// kernel ridge: the non-linear fit BRISQUE-style baselines make with an
// RBF SVR.
func Baselines(names []string) []Baseline {
	var out []Baseline
	deep := mobilenet.FeatureNames()
	classic := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(deep, n) })
	all := slices.DeleteFunc(slices.Clone(classic), func(n string) bool { return slices.Contains(describe.SignalNames, n) })
	var mid []string
	for _, i := range model.MNV2Mid() {
		mid = append(mid, deep[i])
	}
	for _, r := range []struct {
		name string
		fs   []string
	}{{"ridge_brisque", nss.BRISQUENames}, {"ridge_nss", nss.NSSNames}, {"ridge_all", all},
		{"ridge_signals", slices.Concat(all, describe.SignalNames)},
		{"ridge_mnv2", deep}, {"ridge_mnv2mid", mid}, {"ridge_mnv2mid_signals", slices.Concat(all, describe.SignalNames, mid)}} {
		if len(r.fs) > 0 && !slices.ContainsFunc(r.fs, func(f string) bool { return !slices.Contains(names, f) }) {
			out = append(out, Baseline{Name: r.name, Kind: KindRidge, Features: r.fs})
		}
	}
	for _, b := range slices.Clone(out) {
		if b.Name == "ridge_signals" || b.Name == "ridge_mnv2mid_signals" {
			out = append(out, Baseline{Name: "krr" + strings.TrimPrefix(b.Name, "ridge"), Kind: KindKRR, Features: b.Features})
		}
	}
	for _, n := range classic {
		out = append(out, Baseline{Name: n, Kind: KindSingle, Features: []string{n}})
	}
	return out
}

// Fit records what one fit chose on its training rows.
type Fit struct {
	NTrain int     `json:"n_train"`
	Lambda float64 `json:"lambda,omitempty"` // ridge, krr: chosen by inner leave-one-out
	Gamma  float64 `json:"gamma,omitempty"`  // krr: RBF width, chosen with lambda
	Sign   int     `json:"sign,omitempty"`   // single: +1 or -1, the sign of the training SRCC
}

// Options configure the protocols.
type Options struct {
	Grid      []float64 // ridge lambdas; nil means DefaultLambdas
	Resamples int       // bootstrap resamples for the CIs (0: metrics.DefaultResamples)
	Seed      uint64    // seeds the CV folds and the bootstrap
}

// Result is one baseline under one protocol: its predictions and their
// SRCC/PLCC against MOS with 95% percentile-bootstrap CIs over clips. For
// CV the metrics pool the out-of-fold predictions; the CI reflects the
// clip sample, not the variability of refitting.
type Result struct {
	Baseline   string     `json:"baseline"`
	Kind       string     `json:"kind"`
	Features   []string   `json:"features"`
	Protocol   string     `json:"protocol"` // "train-test", "cv" or "loo"
	Folds      int        `json:"folds,omitempty"`
	FoldOf     []int      `json:"fold_of,omitempty"` // CV: fold of each clip, in IDs order
	Seed       uint64     `json:"seed"`
	N          int        `json:"n"`
	SRCC       metrics.CI `json:"srcc"`
	PLCC       metrics.CI `json:"plcc"`
	Resamples  int        `json:"resamples"`
	LambdaGrid []float64  `json:"lambda_grid,omitempty"`
	Fits       []Fit      `json:"fits"`
	IDs        []string   `json:"ids"`
	MOS        []float64  `json:"mos"`
	Pred       []float64  `json:"pred"`
}

// columns maps b's features to positions in names.
func columns(b Baseline, names []string) ([]int, error) {
	cols := make([]int, len(b.Features))
	for i, f := range b.Features {
		if cols[i] = slices.Index(names, f); cols[i] < 0 {
			return nil, fmt.Errorf("baseline %s: feature %q is not among the extracted features", b.Name, f)
		}
	}
	return cols, nil
}

func pick(rows [][]float64, cols []int) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, len(cols))
		for j, c := range cols {
			out[i][j] = r[c]
		}
	}
	return out
}

// fitPredict fits b on train and scores the rows of test.
func fitPredict(b Baseline, cols []int, train Set, test [][]float64, grid []float64) ([]float64, Fit, error) {
	X, T := pick(train.X, cols), pick(test, cols)
	fit := Fit{NTrain: len(X)}
	pred := make([]float64, len(T))
	switch b.Kind {
	case KindRidge:
		r, err := FitRidge(X, train.MOS, grid)
		if err != nil {
			return nil, fit, fmt.Errorf("baseline %s: %w", b.Name, err)
		}
		fit.Lambda = r.Lambda
		for i, x := range T {
			pred[i] = r.Predict(x)
		}
	case KindKRR:
		k, err := FitKRR(X, train.MOS, grid)
		if err != nil {
			return nil, fit, fmt.Errorf("baseline %s: %w", b.Name, err)
		}
		fit.Lambda, fit.Gamma = k.Lambda, k.Gamma
		for i, x := range T {
			pred[i] = k.Predict(x)
		}
	case KindSingle:
		col := make([]float64, len(X))
		for i, x := range X {
			col[i] = x[0]
		}
		fit.Sign = 1
		if s, err := corr.SRCC(col, train.MOS); err == nil && s < 0 {
			fit.Sign = -1
		}
		for i, x := range T {
			pred[i] = float64(fit.Sign) * x[0]
		}
	default:
		return nil, fit, fmt.Errorf("baseline %s: unknown kind %q", b.Name, b.Kind)
	}
	return pred, fit, nil
}

// TrainTest fits b on train and evaluates it on test.
func TrainTest(b Baseline, names []string, train, test Set, o Options) (Result, error) {
	cols, err := columns(b, names)
	if err != nil {
		return Result{}, err
	}
	pred, fit, err := fitPredict(b, cols, train, test.X, o.grid())
	if err != nil {
		return Result{}, err
	}
	return o.score(b, "train-test", test, pred, []Fit{fit}, nil)
}

// CrossVal evaluates b by k-fold cross-validation over set: each clip is
// predicted by a fit (lambda search included) on the other folds only.
// k >= len(set) is leave-one-out.
func CrossVal(b Baseline, names []string, set Set, k int, o Options) (Result, error) {
	cols, err := columns(b, names)
	if err != nil {
		return Result{}, err
	}
	n := len(set.IDs)
	if k < 2 {
		return Result{}, fmt.Errorf("baseline %s: cross-validation needs k >= 2, got %d", b.Name, k)
	}
	protocol, foldOf := "cv", Folds(n, k, o.Seed)
	if k >= n {
		k, protocol = n, "loo"
		for i := range foldOf {
			foldOf[i] = i
		}
	}
	pred := make([]float64, n)
	fits := make([]Fit, k)
	for f := range k {
		var tr, te []int
		for i, fi := range foldOf {
			if fi == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		p, fit, err := fitPredict(b, cols, set.subset(tr), set.subset(te).X, o.grid())
		if err != nil {
			return Result{}, fmt.Errorf("%s fold %d: %w", protocol, f, err)
		}
		fits[f] = fit
		for j, i := range te {
			pred[i] = p[j]
		}
	}
	r, err := o.score(b, protocol, set, pred, fits, foldOf)
	if protocol == "cv" {
		r.Folds = k
	} else {
		r.FoldOf = nil // fold i is clip i
	}
	return r, err
}

// Folds assigns n rows to k folds of near-equal size (sizes differ by at
// most one) from a seeded permutation, PCG(seed, "folds").
func Folds(n, k int, seed uint64) []int {
	perm := rand.New(rand.NewPCG(seed, 0x666f6c6473)).Perm(n)
	foldOf := make([]int, n)
	for j, i := range perm {
		foldOf[i] = j * k / n
	}
	return foldOf
}

func (o Options) grid() []float64 {
	if o.Grid == nil {
		return DefaultLambdas
	}
	return o.Grid
}

func (o Options) score(b Baseline, protocol string, s Set, pred []float64, fits []Fit, foldOf []int) (Result, error) {
	r := Result{Baseline: b.Name, Kind: b.Kind, Features: b.Features, Protocol: protocol, FoldOf: foldOf,
		Seed: o.Seed, N: len(pred), Fits: fits, IDs: s.IDs, MOS: s.MOS, Pred: pred}
	if b.Kind == KindRidge {
		r.LambdaGrid = o.grid()
	}
	var err error
	if r.SRCC, err = metrics.Bootstrap(pred, s.MOS, metrics.SRCC, o.Resamples, o.Seed); err != nil {
		return r, fmt.Errorf("baseline %s, %s: SRCC: %w", b.Name, protocol, err)
	}
	if r.PLCC, err = metrics.Bootstrap(pred, s.MOS, metrics.PLCC, o.Resamples, o.Seed); err != nil {
		return r, fmt.Errorf("baseline %s, %s: PLCC: %w", b.Name, protocol, err)
	}
	r.Resamples = o.Resamples
	if r.Resamples == 0 {
		r.Resamples = metrics.DefaultResamples
	}
	return r, nil
}
