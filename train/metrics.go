package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/model"
)

// StepMetrics is one metrics.jsonl line of a training step. Loss is the
// task's unweighted loss; LossScore/LossDescribe/LossPair repeat it under
// the task's own key so per-task curves can be plotted directly.
type StepMetrics struct {
	Step         int      `json:"step"`
	Task         string   `json:"task"`
	Loss         float64  `json:"loss"`
	LossScore    *float64 `json:"loss_score,omitempty"`
	LossDescribe *float64 `json:"loss_describe,omitempty"`
	LossPair     *float64 `json:"loss_pair,omitempty"`
	GradNorm     float64  `json:"grad_norm"`
	LR           float64  `json:"lr"`
	StepsPerSec  float64  `json:"steps_per_s"`
}

// EvalMetrics is one metrics.jsonl line of a validation pass; a NaN
// correlation (constant predictions) is written as null.
type EvalMetrics struct {
	Step int `json:"step"`
	Eval struct {
		SRCC    *float64                 `json:"srcc"`
		PLCC    *float64                 `json:"plcc"`
		N       int                      `json:"n"`
		Sources map[string]SourceMetrics `json:"sources,omitempty"` // a holdout's per-source figures
	} `json:"eval"`
	Best bool `json:"best"`
}

// SourceMetrics are one data source's validation figures.
type SourceMetrics struct {
	SRCC *float64 `json:"srcc"`
	PLCC *float64 `json:"plcc"`
	N    int      `json:"n"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// metricsLog appends fsynced lines to metrics.jsonl.
type metricsLog struct{ path string }

// openMetrics keeps only the lines of steps <= upTo (a resume drops what the
// interrupted run logged after its checkpoint; with no checkpoint, all of it),
// rewritten atomically.
func openMetrics(path string, upTo int) (*metricsLog, error) {
	var kept bytes.Buffer
	if _, err := os.Stat(path); err == nil {
		err := fsutil.ReadJSONL(path, func(line []byte) error {
			var s struct {
				Step int `json:"step"`
			}
			if err := json.Unmarshal(line, &s); err != nil {
				return err
			}
			if s.Step <= upTo {
				kept.Write(line)
				kept.WriteByte('\n')
			}
			return nil
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		if err := fsutil.WriteFileAtomic(path, kept.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return &metricsLog{path: path}, nil
}

func (l *metricsLog) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return fsutil.AppendSync(l.path, append(b, '\n'))
}

func (l *metricsLog) step(step int, task model.Task, loss, norm, lr float64, d time.Duration) error {
	m := StepMetrics{Step: step, Task: task.String(), Loss: loss, GradNorm: norm, LR: lr,
		StepsPerSec: 1 / max(d.Seconds(), 1e-9)}
	v := loss
	*tasks[task].loss(&m) = &v
	return l.write(m)
}

func (l *metricsLog) eval(step int, ev EvalResult, best bool) error {
	m := EvalMetrics{Step: step, Best: best}
	m.Eval.SRCC, m.Eval.PLCC, m.Eval.N = finite(ev.SRCC), finite(ev.PLCC), ev.N
	for name, s := range ev.Sources {
		if m.Eval.Sources == nil {
			m.Eval.Sources = map[string]SourceMetrics{}
		}
		m.Eval.Sources[name] = SourceMetrics{SRCC: finite(s.SRCC), PLCC: finite(s.PLCC), N: s.N}
	}
	return l.write(m)
}

func (l *metricsLog) close() {}

// ReadMetrics returns the step lines of a metrics.jsonl.
func ReadMetrics(path string) ([]StepMetrics, error) {
	var out []StepMetrics
	err := fsutil.ReadJSONL(path, func(line []byte) error {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(line, &probe); err != nil {
			return err
		}
		if _, ok := probe["eval"]; ok {
			return nil
		}
		var s StepMetrics
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}
