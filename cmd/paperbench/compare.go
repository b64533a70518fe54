package main

import (
	"fmt"
	"math"
	"time"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// CompareResult is the same training run (same initial weights, same
// batches) on several backends; the first backend is the reference.
type CompareResult struct {
	Config     string               `json:"config"`
	Steps      int                  `json:"steps"`
	Batch      int                  `json:"batch"`
	Backends   []string             `json:"backends"`
	Losses     map[string][]float64 `json:"losses"`
	StepS      map[string]float64   `json:"median_step_s"`
	MaxAbsDiff float64              `json:"max_abs_loss_diff"`
	MaxRelDiff float64              `json:"max_rel_loss_diff"`
	Tolerance  float64              `json:"tolerance_rel"`
	OK         bool                 `json:"ok"`
}

// Compare initialises cfgPath's model once on the pure-Go backend, copies the
// weights to each backend and trains `steps` score steps (batch 4, text 16)
// on identical batches there, comparing the losses with the first backend's.
func Compare(cfgPath string, backends []string, steps int, tol float64) (CompareResult, error) {
	r := CompareResult{Config: cfgPath, Steps: steps, Batch: 4, Backends: backends, Tolerance: tol,
		Losses: map[string][]float64{}, StepS: map[string]float64{}}
	weights, err := initialWeights(cfgPath)
	if err != nil {
		return r, err
	}
	for _, spec := range backends {
		losses, stepS, err := trainOn(cfgPath, spec, weights, steps, r.Batch)
		if err != nil {
			return r, fmt.Errorf("backend %s: %w", spec, err)
		}
		r.Losses[spec], r.StepS[spec] = losses, stepS
	}
	ref := r.Losses[backends[0]]
	for _, spec := range backends[1:] {
		for i, l := range r.Losses[spec] {
			d := math.Abs(l - ref[i])
			r.MaxAbsDiff = max(r.MaxAbsDiff, d)
			r.MaxRelDiff = max(r.MaxRelDiff, d/max(math.Abs(ref[i]), 1e-12))
		}
	}
	r.OK = r.MaxRelDiff <= tol && !anyNaN(r.Losses)
	return r, nil
}

// initialWeights returns host copies of every variable of the model
// initialised on the pure-Go backend (random initialisers differ between backends).
func initialWeights(cfgPath string) (map[string]*tensors.Tensor, error) {
	cfg, err := model.LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	m, err := model.Build(cfg)
	if err != nil {
		return nil, err
	}
	backend, err := model.NewBackend(model.GoBackend)
	if err != nil {
		return nil, err
	}
	if err := m.Init(backend); err != nil {
		return nil, err
	}
	w := map[string]*tensors.Tensor{}
	for v := range m.Store.IterVariables() {
		t, err := v.MustValue().LocalClone()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Path(), err)
		}
		w[v.Path()] = t
	}
	return w, nil
}

// trainOn runs the steps on one backend from the given weights; it returns the
// losses and the median step time (compilation excluded).
func trainOn(cfgPath, spec string, weights map[string]*tensors.Tensor, steps, batch int) ([]float64, float64, error) {
	cfg, err := model.LoadConfig(cfgPath)
	if err != nil {
		return nil, 0, err
	}
	m, err := model.Build(cfg)
	if err != nil {
		return nil, 0, err
	}
	backend, err := model.NewBackend(spec)
	if err != nil {
		return nil, 0, err
	}
	if err := m.DeclareVariables(backend); err != nil {
		return nil, 0, err
	}
	for v := range m.Store.IterVariables() {
		w, ok := weights[v.Path()]
		if !ok {
			return nil, 0, fmt.Errorf("variable %s has no initial value", v.Path())
		}
		c, err := w.LocalClone()
		if err != nil {
			return nil, 0, err
		}
		if err := v.SetValue(c); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", v.Path(), err)
		}
	}
	e := trainExec(m, backend)
	var losses, times []float64
	for i := range steps {
		in, err := m.Inputs(scoreBatch(m, batch, 16, uint64(i+1)))
		if err != nil {
			return nil, 0, err
		}
		t0 := time.Now()
		out, err := e.Call(in...)
		if err != nil {
			return nil, 0, fmt.Errorf("step %d: %w", i, err)
		}
		l, err := model.ScalarValue(out[0])
		if err != nil {
			return nil, 0, err
		}
		times = append(times, time.Since(t0).Seconds())
		losses = append(losses, l)
	}
	return losses, median(times[min(1, len(times)-1):]), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	for i := range s { // insertion sort: a few dozen values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

func anyNaN(m map[string][]float64) bool {
	for _, xs := range m {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return true
			}
		}
	}
	return false
}
