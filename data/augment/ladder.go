package augment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// Options configure a ladder run.
type Options struct {
	OutDir string
	CRFs   []int
	Preset string
	Jobs   int // sources processed at once
	Fanout int // encoders running at once; 0 = all pending levels
	// BufferBytes bounds the decoded frames kept in memory so that a source
	// needing several encoder groups is still decoded once; larger sources
	// are decoded again for each group.
	BufferBytes int64
	// Progress, when set, is called once per finished (or skipped) output.
	Progress func(n int)
	// Log, when set, receives one-line notes (failures, recovered outputs).
	Log func(format string, args ...any)
}

// Summary counts what a run did.
type Summary struct {
	Written  int       `json:"written"`
	Skipped  int       `json:"skipped"` // complete from an earlier run
	Failed   int       `json:"failed"`  // sources
	Failures []Failure `json:"failures,omitempty"`
}

const (
	rowsFile     = "ladder.jsonl"
	failuresFile = "failures.jsonl"
	partialExt   = ".partial"
)

// OutputName is the file name of a source's ladder level.
func OutputName(crf int) string { return fmt.Sprintf("crf%02d.mp4", crf) }

// RungID is the record id of source's ladder level at crf ("SRC/crfNN"),
// the one naming shards and ladder evaluations use.
func RungID(source string, crf int) string { return fmt.Sprintf("%s/crf%02d", source, crf) }

// RungSource inverts RungID: the source of a rung id at crf, or false when
// id is not one.
func RungSource(id string, crf int) (string, bool) {
	return strings.CutSuffix(id, fmt.Sprintf("/crf%02d", crf))
}

// Run builds the ladder for every source. Complete outputs from an earlier
// run are kept; partial ones are redone. A source that fails is recorded in
// failures.jsonl and the others go on; the error return is for setup problems.
func Run(ctx context.Context, srcs []Source, o Options) (Summary, error) {
	if err := CheckIDs(srcs); err != nil {
		return Summary{}, err
	}
	if len(o.CRFs) == 0 {
		return Summary{}, errors.New("ladder: no CRF levels")
	}
	if err := (video.EncodeOptions{CRF: o.CRFs[0], Preset: o.Preset}).Validate(); err != nil {
		return Summary{}, fmt.Errorf("ladder: %w", err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return Summary{}, err
	}
	rowsPath := filepath.Join(o.OutDir, rowsFile)
	done, err := loadRows(rowsPath)
	if err != nil {
		return Summary{}, err
	}
	ids := map[string]bool{}
	for _, s := range srcs {
		ids[s.ID] = true
	}
	failPath := filepath.Join(o.OutDir, failuresFile)
	if err := resetFailures(failPath, ids); err != nil {
		return Summary{}, err
	}
	r := &runner{o: o, done: done, rows: &journal{path: rowsPath}, fails: &journal{path: failPath}}
	if r.o.Log == nil {
		r.o.Log = func(string, ...any) {}
	}
	if r.o.Progress == nil {
		r.o.Progress = func(int) {}
	}
	work := make(chan Source)
	var wg sync.WaitGroup
	for range max(1, o.Jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				r.source(ctx, s)
			}
		}()
	}
	for _, s := range srcs {
		if ctx.Err() != nil {
			break
		}
		work <- s
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return r.sum, ctx.Err()
	}
	return r.sum, nil
}

type runner struct {
	o     Options
	done  map[key]Row
	rows  *journal
	fails *journal
	mu    sync.Mutex
	sum   Summary
}

func (r *runner) count(f func(*Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

// source builds every missing level of one source and records a failure if any step fails.
func (r *runner) source(ctx context.Context, s Source) {
	dir := filepath.Join(r.o.OutDir, filepath.FromSlash(s.ID))
	if err := r.sourceLevels(ctx, s, dir); err != nil && ctx.Err() == nil {
		f := Failure{SourceID: s.ID, SourcePath: s.Path, Error: err.Error(), Time: time.Now().UTC().Format(time.RFC3339)}
		r.o.Log("ladder: %s failed: %v", s.ID, err)
		if jerr := r.fails.append(f); jerr != nil {
			r.o.Log("ladder: cannot record failure: %v", jerr)
		}
		r.count(func(sm *Summary) { sm.Failed++; sm.Failures = append(sm.Failures, f) })
		os.Remove(dir) // only if empty: a source refused before any output leaves no directory
	}
}

func (r *runner) sourceLevels(ctx context.Context, s Source, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := removePartials(dir); err != nil {
		return err
	}
	var pending []int
	for _, crf := range r.o.CRFs {
		out := filepath.Join(dir, OutputName(crf))
		if _, err := os.Stat(out); err != nil {
			pending = append(pending, crf)
			continue
		}
		r.mu.Lock()
		_, journaled := r.done[key{s.ID, crf}]
		r.mu.Unlock()
		if !journaled { // renamed into place, then killed before the journal line
			if err := r.recover(s, crf, out); err != nil {
				return err
			}
		}
		r.count(func(sm *Summary) { sm.Skipped++ })
		r.o.Progress(1)
	}
	if len(pending) == 0 {
		return nil
	}
	batch := len(pending)
	if r.o.Fanout > 0 {
		batch = r.o.Fanout
	}
	var buf *frameBuffer
	if batch < len(pending) {
		var err error
		if buf, err = decodeToMemory(ctx, s.Path, r.o.BufferBytes); err != nil {
			return err
		}
		defer buf.free()
	}
	for len(pending) > 0 {
		n := min(batch, len(pending))
		if err := r.encodeBatch(ctx, s, dir, pending[:n], buf); err != nil {
			return err
		}
		pending = pending[n:]
	}
	return nil
}

func removePartials(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), partialExt) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// recover journals an output that is complete on disk but missing from ladder.jsonl.
func (r *runner) recover(s Source, crf int, out string) error {
	info, err := video.Probe(out)
	if err != nil {
		// Not a usable output after all: remove it so the level is redone next run.
		_ = os.Remove(out)
		return fmt.Errorf("existing output %s is unreadable and was removed, rerun to redo it: %w", out, err)
	}
	row := r.row(s, crf, out, info.Frames, info.Duration, 0)
	row.Recovered = true
	r.o.Log("ladder: %s crf %d: recovered complete output missing from %s", s.ID, crf, rowsFile)
	return r.rows.append(row)
}

// row describes a finished output; duration is its real length in seconds.
func (r *runner) row(s Source, crf int, out string, frames int, duration, secs float64) Row {
	row := Row{SourceID: s.ID, SourcePath: s.Path, CRF: crf, Output: out, Frames: frames, Duration: duration,
		EncodeSeconds: secs, Preset: r.o.Preset}
	if st, err := os.Stat(out); err == nil {
		row.Bytes = st.Size()
	}
	if row.Duration > 0 {
		row.Bitrate = float64(row.Bytes) * 8 / row.Duration
	}
	if x, err := video.X264Settings(out); err == nil {
		row.X264 = x
		row.EffectiveCRF, _ = video.EffectiveCRF(x)
	}
	return row
}

// encodeBatch feeds every frame of the source, from buf when it holds the
// decoded clip or else from a fresh decode, to one encoder per CRF.
func (r *runner) encodeBatch(ctx context.Context, s Source, dir string, crfs []int, buf *frameBuffer) error {
	start := time.Now()
	var next func() (*astiav.Frame, error)
	var p video.Params
	if buf != nil && buf.frames != nil {
		p, next = buf.params, buf.reader()
	} else {
		d, err := video.OpenDecoder(s.Path)
		if err != nil {
			return err
		}
		defer d.Close()
		p, next = d.Params(), d.Next
	}
	pipes := make([]*video.Pipe, 0, len(crfs))
	tmps := make([]string, 0, len(crfs))
	defer func() { // on any early return: stop the encoders, drop partial files
		for i, pp := range pipes {
			pp.Abort()
			_ = os.Remove(tmps[i])
		}
	}()
	for _, crf := range crfs {
		tmp := filepath.Join(dir, OutputName(crf)+partialExt)
		enc, err := video.NewEncoder(tmp, "mp4", p, video.EncodeOptions{CRF: crf, Preset: r.o.Preset})
		if err != nil {
			return fmt.Errorf("source %s: %w", s.Path, err)
		}
		pipes = append(pipes, video.StartPipe(enc, nil))
		tmps = append(tmps, tmp)
	}
	frames := 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for _, pp := range pipes {
			pp.Send(f)
		}
		frames++
	}
	if frames == 0 {
		return fmt.Errorf("%s: decode: no frames", s.Path)
	}
	for _, pp := range pipes {
		if err := pp.Finish(); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	for i, crf := range crfs {
		if pipes[i].Encoder().Frames() == 0 {
			return fmt.Errorf("%s: encode: no frame has a usable timestamp", s.Path)
		}
		out := filepath.Join(dir, OutputName(crf))
		if err := fsutil.Rename(tmps[i], out); err != nil {
			return err
		}
		enc := pipes[i].Encoder()
		row := r.row(s, crf, out, enc.Frames(), enc.Duration(), secs)
		if err := r.rows.append(row); err != nil {
			return err
		}
		r.mu.Lock()
		r.done[key{s.ID, crf}] = row
		r.sum.Written++
		r.mu.Unlock()
		r.o.Progress(1)
	}
	pipes, tmps = nil, nil
	return nil
}

// frameBuffer holds a decoded clip (frame references) so several encoder
// groups share one decode. frames is nil when the clip exceeded the budget.
type frameBuffer struct {
	params video.Params
	frames []*astiav.Frame
}

// decodeToMemory decodes path into memory unless its frames would exceed
// budget bytes (estimated from the probe), in which case it returns an empty
// buffer and the caller decodes per group.
func decodeToMemory(ctx context.Context, path string, budget int64) (*frameBuffer, error) {
	info, err := video.Probe(path)
	if err != nil {
		return nil, err
	}
	// 4 bytes a pixel bounds every 8- and 10-bit 4:2:0 and 4:2:2 layout.
	if budget <= 0 || int64(info.Width)*int64(info.Height)*4*int64(info.Frames+2) > budget {
		return &frameBuffer{}, nil
	}
	d, err := video.OpenDecoder(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b := &frameBuffer{params: d.Params(), frames: []*astiav.Frame{}}
	for {
		if ctx.Err() != nil {
			b.free()
			return nil, ctx.Err()
		}
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			b.free()
			return nil, err
		}
		b.frames = append(b.frames, f.Clone())
	}
}

// reader replays the buffered frames; clones keep the pts and packet
// durations the encoders place them by.
func (b *frameBuffer) reader() func() (*astiav.Frame, error) {
	i := 0
	return func() (*astiav.Frame, error) {
		if i == len(b.frames) {
			return nil, io.EOF
		}
		i++
		return b.frames[i-1], nil
	}
}

func (b *frameBuffer) free() {
	for _, f := range b.frames {
		f.Free()
	}
	b.frames = nil
}
