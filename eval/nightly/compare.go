package nightly

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
)

// Comparison is one dataset of the new run against an earlier run.
type Comparison struct {
	Dataset  string           `json:"dataset"`
	Against  string           `json:"against"` // "previous" or "baseline"
	Dir      string           `json:"dir"`     // the earlier run
	N        int              `json:"n"`       // ids in both runs with the same MOS
	SRCCNew  float64          `json:"srcc_new"`
	SRCCOld  float64          `json:"srcc_old"`
	Delta    metrics.Delta    `json:"bootstrap_dsrcc"` // SRCC(new) - SRCC(old), paired bootstrap CI and p
	Williams metrics.CorrTest `json:"williams"`        // on SRCC (ranks) as dependent correlations
	Steiger  metrics.CorrTest `json:"steiger"`
	P        float64          `json:"p"` // the configured test's two-sided p
	// Regressed: SRCC fell by more than max_drop with P < alpha.
	Regressed bool   `json:"regressed"`
	Note      string `json:"note,omitempty"` // why no test was possible, or dropped ids
}

// MarshalJSON writes NaN as null (SRCC undefined on constant predictions).
func (c Comparison) MarshalJSON() ([]byte, error) {
	type plain Comparison
	return marshalFinite(plain(c))
}

// compareRuns compares dataset's prediction file in newDir with oldDir's.
// ok is false when the old run has no such file (a new dataset).
func compareRuns(dataset, against, newDir, oldDir string, c Config, seed uint64) (cmp Comparison, ok bool, err error) {
	cmp = Comparison{Dataset: dataset, Against: against, Dir: oldDir, P: math.NaN(), SRCCNew: math.NaN(), SRCCOld: math.NaN()}
	file := filepath.Join("predictions", dataset+".csv")
	old, err := predictions.Read(filepath.Join(oldDir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return cmp, false, nil
	}
	if err != nil {
		// An unreadable (or empty) earlier file must not block tonight's run.
		cmp.Note = "no test: " + err.Error()
		return cmp, true, nil
	}
	cur, err := predictions.Read(filepath.Join(newDir, file))
	if err != nil {
		cmp.Note = "no test: " + err.Error() // e.g. no video scored tonight
		return cmp, true, nil
	}
	a, b, note := common(cur, old)
	cmp.N, cmp.Note = len(a), note
	if len(a) < 4 {
		cmp.Note = fmt.Sprintf("only %d common ids: no test (%s)", len(a), note)
		return cmp, true, nil
	}
	pa, mos := predictions.Columns(a)
	pb, _ := predictions.Columns(b)
	dep, err := metrics.CompareDependent(pa, pb, mos, metrics.SRCC)
	if err != nil {
		return cmp, true, err
	}
	cmp.SRCCNew, cmp.SRCCOld, cmp.Williams, cmp.Steiger = dep.R12, dep.R13, dep.Williams, dep.Steiger
	if cmp.Delta, err = metrics.PairedBootstrap(pa, pb, mos, metrics.SRCC, c.Resamples, seed); err != nil {
		return cmp, true, err
	}
	switch c.Test {
	case "williams":
		cmp.P = cmp.Williams.P
	case "steiger":
		cmp.P = cmp.Steiger.P
	default:
		cmp.P = cmp.Delta.P
	}
	drop := cmp.SRCCOld - cmp.SRCCNew
	if math.IsNaN(cmp.SRCCNew) && !math.IsNaN(cmp.SRCCOld) {
		// Constant predictions: the model stopped ranking at all.
		cmp.Regressed, cmp.Note = true, "new predictions are constant (SRCC undefined)"
		return cmp, true, nil
	}
	cmp.Regressed = drop > c.MaxDrop && cmp.P < c.Alpha
	return cmp, true, nil
}

// common pairs the rows of both runs by id (in the new run's order),
// keeping ids whose MOS agrees: a changed label is different data.
func common(cur, old []predictions.Row) (a, b []predictions.Row, note string) {
	byID := map[string]predictions.Row{}
	for _, r := range old {
		byID[r.ID] = r
	}
	var onlyNew, changed int
	for _, r := range cur {
		o, ok := byID[r.ID]
		switch {
		case !ok:
			onlyNew++
		case o.MOS != r.MOS:
			changed++
		default:
			a, b = append(a, r), append(b, o)
		}
	}
	if onlyNew > 0 || changed > 0 || len(a) != len(old) {
		note = fmt.Sprintf("%d ids only in the new run, %d only in the old, %d with a changed MOS: compared on the %d common ids",
			onlyNew, len(old)-len(a)-changed, changed, len(a))
	}
	return a, b, note
}

// marshalFinite writes non-finite float64 fields as null (JSON has no NaN).
func marshalFinite(v any) ([]byte, error) { return metrics.MarshalNaNNull(v) }
