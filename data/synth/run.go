package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/data/fr"
	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// Corpus files under the output directory.
const (
	ManifestFile = "manifest.csv" // id,path,mos,split,source_id,crf: the `manifest` dataset
	PristineFile = "pristine.csv" // id,path,split of the pristine clips: input for `data ladder`
	ItemsFile    = "items.jsonl"  // every item with its distortion parameters and SSIM
	SourcesFile  = "sources.jsonl"
	sidecarExt   = ".json" // per-item facts, written after the clip: its presence marks the item done
	partialExt   = ".partial"
)

// Summary is what a run produced.
type Summary struct {
	Sources int `json:"sources"`
	Items   int `json:"items"`
	Reused  int `json:"reused"` // sources complete from an earlier run
}

// Run generates the corpus into dir. Sources already complete (every item's
// sidecar present) are kept, so an interrupted run resumes; generation is
// deterministic, so a resumed corpus equals an uninterrupted one.
func Run(ctx context.Context, dir string, o Options, progress func(int)) (Summary, error) {
	if err := o.Validate(); err != nil {
		return Summary{}, err
	}
	if progress == nil {
		progress = func(int) {}
	}
	srcs := Sources(o)
	var (
		mu    sync.Mutex
		sum   = Summary{Sources: len(srcs)}
		first error
		wg    sync.WaitGroup
	)
	work := make(chan int)
	for range max(1, o.Jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				reused, err := source(ctx, dir, srcs[i], Items(srcs[i], o, i), o.Preset)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("synth: source %s: %w", srcs[i].ID, err)
				}
				if reused {
					sum.Reused++
				}
				mu.Unlock()
				progress(1)
			}
		}()
	}
	for i := range srcs {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if first != nil {
		return sum, first
	}
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	n, err := writeIndex(dir, srcs, o)
	sum.Items = n
	return sum, err
}

// source renders one pristine clip and its items, then scores them.
func source(ctx context.Context, dir string, src Source, items []Item, preset string) (reused bool, err error) {
	sdir := filepath.Join(dir, src.ID)
	if complete(dir, items) {
		return true, nil
	}
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return false, err
	}
	if err := render(ctx, dir, src, items, preset); err != nil {
		return false, err
	}
	paths := make([]string, len(items)-1)
	for i, it := range items[1:] {
		paths[i] = filepath.Join(dir, it.Path)
	}
	ssim, err := fr.SSIMMany(filepath.Join(dir, items[0].Path), paths)
	if err != nil {
		return false, err
	}
	items[0].SSIM, items[0].MOS = 1, PseudoMOS(1)
	for i := range paths {
		items[i+1].SSIM = ssim[i]
		items[i+1].MOS = PseudoMOS(ssim[i])
	}
	for _, it := range items {
		b, _ := json.Marshal(it)
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, it.Path)+sidecarExt, append(b, '\n'), 0o644); err != nil {
			return false, err
		}
	}
	return false, nil
}

func complete(dir string, items []Item) bool {
	for _, it := range items {
		if _, err := os.Stat(filepath.Join(dir, it.Path) + sidecarExt); err != nil {
			return false
		}
	}
	return true
}

// render draws the source once and feeds every frame to one pipe per item
// (the item's filter chain, then its encoder), writing temp files renamed when complete.
func render(ctx context.Context, dir string, src Source, items []Item, preset string) (err error) {
	g, err := video.NewSourceGraph(src.Graph)
	if err != nil {
		return err
	}
	defer g.Close()
	pipes := make([]*video.Pipe, 0, len(items))
	defer func() {
		for i, p := range pipes {
			p.Abort()
			if err != nil {
				_ = os.Remove(filepath.Join(dir, items[i].Path) + partialExt)
			}
		}
	}()
	frames := 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f, err := g.Pull()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, video.ErrAgain) {
			return fmt.Errorf("generator %q stalled", src.Graph)
		}
		if err != nil {
			return err
		}
		if len(pipes) == 0 { // first frame: its format sets up the encoders
			p := video.Params{Width: f.Width(), Height: f.Height(), PixFmt: f.PixelFormat(),
				FrameRate: rational(src.FPS), SAR: f.SampleAspectRatio()}
			for _, it := range items {
				pipe, err := startItem(filepath.Join(dir, it.Path)+partialExt, it, p, preset)
				if err != nil {
					return err
				}
				pipes = append(pipes, pipe)
			}
		}
		for _, p := range pipes {
			p.Send(f)
		}
		frames++
	}
	if frames != src.Frames {
		return fmt.Errorf("generator %q gave %d frames, planned %d", src.Graph, frames, src.Frames)
	}
	for i, p := range pipes {
		if err := p.Finish(); err != nil {
			return err
		}
		final := filepath.Join(dir, items[i].Path)
		if err := fsutil.Rename(final+partialExt, final); err != nil {
			return err
		}
	}
	return nil
}

func startItem(path string, it Item, p video.Params, preset string) (*video.Pipe, error) {
	enc, err := video.NewEncoder(path, "mp4", p, video.EncodeOptions{CRF: it.EncCRF, Preset: preset})
	if err != nil {
		return nil, err
	}
	var filter *video.Graph
	if it.Chain != "" {
		if filter, err = video.NewFilterGraph(it.Chain+",format=yuv420p", p); err != nil {
			enc.Abort()
			return nil, err
		}
	}
	return video.StartPipe(enc, filter), nil
}

// writeIndex gathers the sidecars into manifest.csv, items.jsonl and sources.jsonl.
func writeIndex(dir string, srcs []Source, o Options) (int, error) {
	var man, items, sources, pristine bytes.Buffer
	cw := csv.NewWriter(&man)
	_ = cw.Write([]string{"id", "path", "mos", "split", "source_id", "crf"})
	pw := csv.NewWriter(&pristine)
	_ = pw.Write([]string{"id", "path", "split"})
	n := 0
	for i, src := range srcs {
		b, _ := json.Marshal(src)
		sources.Write(append(b, '\n'))
		for _, planned := range Items(src, o, i) {
			data, err := os.ReadFile(filepath.Join(dir, planned.Path) + sidecarExt)
			if err != nil {
				return n, err
			}
			var it Item
			if err := json.Unmarshal(data, &it); err != nil {
				return n, fmt.Errorf("%s%s: %w", planned.Path, sidecarExt, err)
			}
			crf := ""
			if it.CRF != nil {
				crf = strconv.Itoa(*it.CRF)
			}
			_ = cw.Write([]string{it.ID, it.Path, strconv.FormatFloat(it.MOS, 'f', 6, 64), it.Split, it.SourceID, crf})
			if it.Kind == "pristine" {
				_ = pw.Write([]string{it.ID, it.Path, it.Split})
			}
			items.Write(data)
			n++
		}
	}
	cw.Flush()
	pw.Flush()
	for name, buf := range map[string]*bytes.Buffer{ManifestFile: &man, ItemsFile: &items, SourcesFile: &sources, PristineFile: &pristine} {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return n, err
		}
	}
	return n, nil
}

func rational(fps int) astiav.Rational { return astiav.NewRational(fps, 1) }
