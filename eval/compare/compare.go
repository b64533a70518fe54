// Package compare tests the difference between two models' predictions on
// the same test set. `cpllm compare` and the sweep report both call Files,
// so their p-values are the same numbers by construction.
package compare

import (
	"encoding/json"
	"math"
	"reflect"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
)

// Result is `cpllm compare` output: model A against model B.
type Result struct {
	N              int                   `json:"n"`
	SRCCA          float64               `json:"srcc_a"`
	SRCCB          float64               `json:"srcc_b"`
	PLCCA          float64               `json:"plcc_a"`
	PLCCB          float64               `json:"plcc_b"`
	CorrAB         float64               `json:"srcc_ab"`
	WilliamsT      float64               `json:"williams_t"`
	WilliamsP      float64               `json:"williams_p"`
	SteigerZ       float64               `json:"steiger_z"`
	SteigerP       float64               `json:"steiger_p"`
	BootstrapDSRCC metrics.Delta         `json:"bootstrap_dsrcc"`
	Resamples      int                   `json:"resamples"`
	Seed           uint64                `json:"seed"`
	Note           string                `json:"note"`
	PLCCTests      metrics.DependentCorr `json:"plcc_dependent"`
}

// Note is Result.Note.
const Note = "williams_p/steiger_p test SRCC(A,MOS) vs SRCC(B,MOS) as dependent correlations; plcc_dependent does the same on PLCC"

// Files reads two prediction files (id,pred,mos), aligns B to A's ids (both
// must hold the same ids with the same MOS) and compares them.
func Files(pathA, pathB string, resamples int, seed uint64) (Result, error) {
	a, err := predictions.Read(pathA)
	if err != nil {
		return Result{}, err
	}
	b, err := predictions.Read(pathB)
	if err != nil {
		return Result{}, err
	}
	if b, err = predictions.Align(a, b, pathA, pathB); err != nil {
		return Result{}, err
	}
	return Rows(a, b, resamples, seed)
}

// Rows compares aligned rows (same ids in the same order): Williams' t and
// Steiger's z on SRCC and on PLCC, and a paired bootstrap of dSRCC.
func Rows(a, b []predictions.Row, resamples int, seed uint64) (Result, error) {
	pa, mos := predictions.Columns(a)
	pb, _ := predictions.Columns(b)
	dep, err := metrics.CompareDependent(pa, pb, mos, metrics.SRCC)
	if err != nil {
		return Result{}, err
	}
	depP, err := metrics.CompareDependent(pa, pb, mos, metrics.PLCC)
	if err != nil {
		return Result{}, err
	}
	delta, err := metrics.PairedBootstrap(pa, pb, mos, metrics.SRCC, resamples, seed)
	if err != nil {
		return Result{}, err
	}
	return Result{N: len(a), SRCCA: dep.R12, SRCCB: dep.R13, CorrAB: dep.R23, PLCCA: depP.R12, PLCCB: depP.R13,
		WilliamsT: dep.Williams.Stat, WilliamsP: dep.Williams.P, SteigerZ: dep.Steiger.Stat, SteigerP: dep.Steiger.P,
		BootstrapDSRCC: delta, Resamples: resamples, Seed: seed, PLCCTests: depP, Note: Note}, nil
}

// MarshalJSON writes NaN/Inf (e.g. from a constant prediction) as null
// instead of failing; fields keep their declared order.
func (r Result) MarshalJSON() ([]byte, error) {
	rv := reflect.ValueOf(r)
	out := []byte{'{'}
	for i := range rv.NumField() {
		var v any = rv.Field(i).Interface()
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			v = nil
		}
		kb, _ := json.Marshal(rv.Type().Field(i).Tag.Get("json"))
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, kb...), ':'), vb...)
	}
	return append(out, '}'), nil
}

// UnmarshalJSON reads null as NaN.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	nan := math.NaN()
	p := plain{SRCCA: nan, SRCCB: nan, PLCCA: nan, PLCCB: nan, CorrAB: nan, WilliamsT: nan, WilliamsP: nan, SteigerZ: nan, SteigerP: nan}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		if string(v) == "null" {
			delete(raw, k)
		}
	}
	clean, _ := json.Marshal(raw)
	if err := json.Unmarshal(clean, &p); err != nil {
		return err
	}
	*r = Result(p)
	return nil
}
