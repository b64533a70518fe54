package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/progress"
)

// Describe evaluation: each checkpoint describes each file (greedy
// decoding, as `cpllm score`), and describe.CheckText grades the text
// against the file's own measurements (describe.MeasureVideo, the signals
// the training descriptions were written from) and against the level of
// the score the same checkpoint gave.

// DescribeOptions configure RunDescribe.
type DescribeOptions struct {
	Paths     []string // videos or images
	Scorers   []*Scorer
	OutDir    string
	MaxTokens int  // description length limit (0 = what the model's input.max_text_len allows)
	LevelLead bool // ScoreOptions.LevelLead: every text opens with its score's level (quality_agrees is then 1 by construction)
	Frames    int  // frames measured per file (0 = 3, as data shards)
	Jobs      int
	Progress  io.Writer
	Now       func() time.Time
}

// DescribeReport is describe.json.
type DescribeReport struct {
	Schema      int                  `json:"schema"`
	Created     string               `json:"created"`
	Frames      int                  `json:"frames_measured"`
	Checkpoints []DescribeCheckpoint `json:"checkpoints"`
	Files       []DescribedFile      `json:"files"`
	Failed      []Failure            `json:"failed"`
	Plot        string               `json:"plot"`
}

// DescribeCheckpoint sums up one checkpoint's texts. Proportions carry 95%
// Wilson intervals that treat the claims (texts) as independent.
type DescribeCheckpoint struct {
	Checkpoint  string                `json:"checkpoint"`
	Summary     describe.GradeSummary `json:"summary"`
	ClaimsRight metrics.Proportion    `json:"claims_right"`
	// MajorityRight: the same claims had each said its kind's most frequent
	// measured word over these files (a describer that ignores its input).
	MajorityRight metrics.Proportion                   `json:"majority_right"`
	QualityAgrees metrics.Proportion                   `json:"quality_agrees"` // of all texts
	FileFacts     metrics.Proportion                   `json:"file_facts"`     // texts stating facts no input shows
	Repeating     metrics.Proportion                   `json:"repeating"`      // texts repeating a sentence
	PerKind       map[describe.Kind]metrics.Proportion `json:"per_kind"`
}

// DescribedFile is one file's measurements and every checkpoint's text.
type DescribedFile struct {
	Path    string           `json:"path"`
	Signals describe.Signals `json:"signals"`
	Texts   []DescribedText  `json:"texts"`
}

// DescribedText is one checkpoint's description of a file and its grade.
type DescribedText struct {
	Checkpoint string         `json:"checkpoint"`
	Score      float64        `json:"score"`
	Level      string         `json:"level"`
	Text       string         `json:"text"`
	Grade      describe.Grade `json:"grade"`
}

// RunDescribe describes and grades every path with every scorer and writes
// describe.json, describe.md and describe.png to o.OutDir. Files that
// cannot be read are listed in Failed; the others are still graded.
func RunDescribe(ctx context.Context, o DescribeOptions) (*DescribeReport, error) {
	if len(o.Scorers) == 0 || len(o.Paths) == 0 {
		return nil, fmt.Errorf("describe eval: no checkpoints or no files")
	}
	if err := checkSameSampler(o.Scorers); err != nil {
		return nil, err
	}
	if o.Frames <= 0 {
		o.Frames = 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	recs := make([]datasets.Record, len(o.Paths))
	for i, p := range o.Paths {
		recs[i] = datasets.Record{ID: p, Path: p}
	}
	rep := &DescribeReport{Schema: SchemaVersion, Created: o.Now().UTC().Format(time.RFC3339), Frames: o.Frames,
		Failed: []Failure{}, Plot: "describe.png"}
	grades := make([][]describe.Grade, len(o.Scorers))
	bar := progress.New(o.Progress, "eval describe", "files", len(recs))
	for s := range prefetch(ctx, recs, o.Scorers, o.Jobs) {
		bar.Add(1)
		fail := func(err error) {
			rep.Failed = append(rep.Failed, Failure{ID: s.r.ID, Path: s.r.Path, Error: err.Error()})
		}
		if s.err != nil {
			fail(s.err)
			continue
		}
		sig, err := describe.MeasureVideo(s.r.Path, o.Frames)
		if err != nil {
			fail(err)
			continue
		}
		f := DescribedFile{Path: s.r.Path, Signals: sig}
		for k, sc := range o.Scorers {
			res, err := sc.ScoreClip(s.clip, ScoreOptions{Describe: true, MaxTokens: o.MaxTokens, LevelLead: o.LevelLead})
			if err != nil {
				return nil, fmt.Errorf("describe eval: checkpoint %s: %w", sc.Name, err)
			}
			g := describe.CheckText(res.Description, sig, res.Level)
			grades[k] = append(grades[k], g)
			f.Texts = append(f.Texts, DescribedText{Checkpoint: sc.Name, Score: res.Score, Level: res.Level, Text: res.Description, Grade: g})
		}
		rep.Files = append(rep.Files, f)
	}
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	majority := majorityWords(rep.Files)
	for k, sc := range o.Scorers {
		c, err := summariseDescribe(sc.Name, grades[k], majority)
		if err != nil {
			return nil, err
		}
		rep.Checkpoints = append(rep.Checkpoints, c)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	if err := describePlot(filepath.Join(o.OutDir, rep.Plot), rep.Checkpoints); err != nil {
		return nil, err
	}
	return rep, rep.Write(o.OutDir)
}

// majorityWords is each kind's most frequent measured word over files ("" for
// a silent band); ties go to the band listed first.
func majorityWords(files []DescribedFile) map[describe.Kind]string {
	out := map[describe.Kind]string{}
	for _, sc := range describe.Scales {
		count := map[string]int{}
		for _, f := range files {
			if b := sc.Band(sc.Value(f.Signals)); b.Silent {
				count[""]++
			} else {
				count[b.Word]++
			}
		}
		best := -1
		for _, b := range sc.Bands {
			w := b.Word
			if b.Silent {
				w = ""
			}
			if count[w] > best {
				out[sc.Kind], best = w, count[w]
			}
		}
	}
	return out
}

func summariseDescribe(name string, gs []describe.Grade, majority map[describe.Kind]string) (DescribeCheckpoint, error) {
	c := DescribeCheckpoint{Checkpoint: name, Summary: describe.Summarise(gs), PerKind: map[describe.Kind]metrics.Proportion{}}
	s := c.Summary
	var err error
	if c.ClaimsRight, err = metrics.Wilson(s.Right, s.Claims); err != nil {
		return c, err
	}
	if c.QualityAgrees, err = metrics.Wilson(s.QualityAgrees, s.Texts); err != nil {
		return c, err
	}
	if c.FileFacts, err = metrics.Wilson(s.FileFacts, s.Texts); err != nil {
		return c, err
	}
	if c.Repeating, err = metrics.Wilson(s.Repeating, s.Texts); err != nil {
		return c, err
	}
	right, n := map[describe.Kind]int{}, map[describe.Kind]int{}
	maj := 0
	for _, g := range gs {
		for _, cl := range g.Claims {
			n[cl.Kind]++
			if cl.Right {
				right[cl.Kind]++
			}
			if cl.Measured == majority[cl.Kind] {
				maj++
			}
		}
	}
	if c.MajorityRight, err = metrics.Wilson(maj, s.Claims); err != nil {
		return c, err
	}
	for _, sc := range describe.Scales {
		if c.PerKind[sc.Kind], err = metrics.Wilson(right[sc.Kind], n[sc.Kind]); err != nil {
			return c, err
		}
	}
	return c, nil
}

// describePlot draws each checkpoint's share of right claims per kind.
func describePlot(path string, cs []DescribeCheckpoint) error {
	p := plot.New()
	p.Title.Text, p.Y.Label.Text = "description claims that match the measurements", "fraction right"
	var names []string
	for _, sc := range describe.Scales {
		names = append(names, string(sc.Kind))
	}
	w := vg.Points(float64(60 / max(1, len(cs))))
	palette := []color.RGBA{{R: 50, G: 110, B: 200, A: 255}, {R: 220, G: 120, B: 30, A: 255}, {R: 60, G: 160, B: 80, A: 255}, {R: 150, G: 60, B: 160, A: 255}}
	for i, c := range cs {
		vals := make(plotter.Values, len(describe.Scales))
		for j, sc := range describe.Scales {
			if pk := c.PerKind[sc.Kind]; pk.N > 0 {
				vals[j] = pk.Value
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		b.Color = palette[i%len(palette)]
		b.Offset = w * vg.Length(float64(i)-float64(len(cs)-1)/2)
		p.Add(b)
		p.Legend.Add(c.Checkpoint, b)
	}
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = true
	return SavePNG(p, path, 8*vg.Inch, 4*vg.Inch)
}

// FormatShare is FormatProportion with "n/a (none)" for an empty count.
func FormatShare(p metrics.Proportion) string {
	if p.N == 0 {
		return "n/a (none)"
	}
	return FormatProportion(p)
}

// Write stores describe.json and describe.md in dir.
func (r *DescribeReport) Write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "describe.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Description evaluation\n\nCreated %s. Each text is graded against its file's own measurements (%d frames at native resolution): a signal word is right when it is the word the description table gives the measured value; the quality word should be the level of the score the same checkpoint gave; a resolution, frame rate or CRF is a fact no model input shows. 'Majority word right': had each claim said its kind's most frequent measured word over these files, how many would be right (a describer that ignores its input). Intervals: 95%% Wilson, claims taken as independent.\n\n",
		r.Created, r.Frames)
	b.WriteString("| checkpoint | texts | claims per text | claims right | majority word right | quality word = score level | states file facts | repeats a sentence |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Checkpoints {
		fmt.Fprintf(&b, "| %s | %d | %.2f | %s | %s | %s | %s | %s |\n", c.Checkpoint, c.Summary.Texts, c.Summary.ClaimsPerText,
			FormatShare(c.ClaimsRight), FormatShare(c.MajorityRight), FormatShare(c.QualityAgrees), FormatShare(c.FileFacts), FormatShare(c.Repeating))
	}
	b.WriteString("\nClaims right per kind:\n\n| checkpoint |")
	for _, sc := range describe.Scales {
		fmt.Fprintf(&b, " %s |", sc.Kind)
	}
	b.WriteString("\n|---|" + string(bytes.Repeat([]byte("---|"), len(describe.Scales))) + "\n")
	for _, c := range r.Checkpoints {
		fmt.Fprintf(&b, "| %s |", c.Checkpoint)
		for _, sc := range describe.Scales {
			pk := c.PerKind[sc.Kind]
			if pk.N == 0 {
				b.WriteString(" - |")
			} else {
				fmt.Fprintf(&b, " %d/%d |", pk.K, pk.N)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n![claims right per kind](%s)\n", r.Plot)
	if len(r.Failed) > 0 {
		fmt.Fprintf(&b, "\nFailed files (%d, left out):\n\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.Path, f.Error)
		}
	}
	b.WriteString("\n## Texts\n")
	for _, f := range r.Files {
		fmt.Fprintf(&b, "\n`%s`\n\n", f.Path)
		for _, t := range f.Texts {
			fmt.Fprintf(&b, "- %s (score %.2f, %s): %q\n", t.Checkpoint, t.Score, t.Level, t.Text)
		}
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, "describe.md"), b.Bytes(), 0o644)
}
