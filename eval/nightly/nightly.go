package nightly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/eval/suite"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// DateLayout is the name of a run directory.
const DateLayout = "2006-01-02"

// Options of one nightly run.
type Options struct {
	Config      Config
	Date        string        // YYYY-MM-DD; "" = today (local time)
	Params      sample.Params // sampler settings of every video
	ModelConfig string        // model config file when the checkpoint's run has no model.yaml
	Seed        uint64        // bootstrap seed
	Progress    io.Writer
	Now         func() time.Time
	// AfterDataset, when set, runs after each dataset of the suite; an
	// error aborts the run (tests inject crashes with it).
	AfterDataset func(name string) error
}

// Result is a finished run.
type Result struct {
	Dir         string // OUT/<date>
	Summary     string // OUT/summary.md (a copy of Dir/summary.md with links into Dir)
	Previous    string // the run compared with ("" = first run)
	Baseline    string // the pinned baseline ("" = none)
	Report      *suite.Report
	Comparisons []Comparison // per dataset: vs previous, then vs baseline
}

// Regressions are the comparisons that regressed.
func (r *Result) Regressions() []Comparison {
	var out []Comparison
	for _, c := range r.Comparisons {
		if c.Regressed {
			out = append(out, c)
		}
	}
	return out
}

// Run evaluates the checkpoint, compares and writes OUT/<date>/ (built in a
// temp directory and renamed when complete), then OUT/summary.md. A run for
// a date that already exists replaces it only once the new one is complete.
// The error is for failures; regressions are in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	c := o.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Date == "" {
		o.Date = o.Now().Format(DateLayout)
	}
	if _, err := time.Parse(DateLayout, o.Date); err != nil {
		return nil, fmt.Errorf("nightly: date %q is not YYYY-MM-DD", o.Date)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lock(c.Out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cleanStale(c.Out)
	res := &Result{Dir: filepath.Join(c.Out, o.Date), Summary: filepath.Join(c.Out, "summary.md"), Baseline: c.Baseline}
	runs, err := Runs(c.Out)
	if err != nil {
		return nil, err
	}
	for _, d := range runs {
		if d < o.Date {
			res.Previous = filepath.Join(c.Out, d)
		}
	}
	tmp, err := os.MkdirTemp(c.Out, "."+o.Date+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // nothing left after the rename
	mc, _, err := suite.ModelConfigFor(c.Checkpoint, o.ModelConfig)
	if err != nil {
		return nil, err
	}
	sc, err := suite.Load(mc, c.Checkpoint, o.Params)
	if err != nil {
		return nil, err
	}
	res.Report, err = suite.Run(ctx, suite.Options{Scorers: []*suite.Scorer{sc}, Datasets: c.Datasets, OutDir: tmp,
		Resamples: c.Resamples, Seed: o.Seed, Progress: o.Progress, Now: o.Now, AfterDataset: o.AfterDataset})
	if err != nil {
		return nil, err
	}
	for _, name := range res.Report.Order {
		for _, against := range []struct{ what, dir string }{{"previous", res.Previous}, {"baseline", c.Baseline}} {
			if against.dir == "" {
				continue
			}
			cmp, ok, err := compareRuns(name, against.what, tmp, against.dir, c, o.Seed)
			if err != nil {
				return nil, fmt.Errorf("nightly: %s vs %s %s: %w", name, against.what, against.dir, err)
			}
			if ok {
				res.Comparisons = append(res.Comparisons, cmp)
			}
		}
	}
	js, err := json.MarshalIndent(res.Comparisons, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, "compare.json"), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	hist, err := history(c.Out, runs, o.Date, res.Report)
	if err != nil {
		return nil, err
	}
	for _, name := range res.Report.Order {
		if err := trendPlot(filepath.Join(tmp, "trend-"+name+".png"), name, hist); err != nil {
			return nil, err
		}
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, "summary.md"), summary(res, o, ""), 0o644); err != nil {
		return nil, err
	}
	if err := fsutil.ReplaceDir(tmp, res.Dir); err != nil {
		return nil, err
	}
	// Only now, with the run complete and in place, the top-level summary moves on.
	if err := fsutil.WriteFileAtomic(res.Summary, summary(res, o, o.Date+"/"), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// Runs lists the complete runs under out (date-named directories with a
// report.json), oldest first.
func Runs(out string) ([]string, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var dates []string
	for _, e := range entries {
		if _, err := time.Parse(DateLayout, e.Name()); err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(out, e.Name(), "report.json")); err == nil {
			dates = append(dates, e.Name())
		}
	}
	slices.Sort(dates)
	return dates, nil
}

// lock takes an exclusive flock on OUT/.lock so two cron runs never
// interleave; the kernel drops it if the process dies.
func lock(out string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(out, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("nightly: another run holds %s", f.Name())
		}
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// cleanStale removes temp and moved-aside directories left by a killed run
// (only called under the lock, so no live run owns them).
func cleanStale(out string) {
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() && strings.HasPrefix(n, ".") && (strings.Contains(n, ".tmp-") || strings.Contains(n, ".old-")) {
			_ = os.RemoveAll(filepath.Join(out, n))
		}
	}
}
