// Package datasets loads the label files of the public VQA datasets (LSVQ,
// KoNViD-1k, LIVE-VQC, YouTube-UGC), FAST-VQA style labels.txt files and our
// own manifests into one normalized Record type, through loaders registered
// by name. Loaders parse label files strictly: a malformed row is an error
// naming the file and line, never a skipped row. Dataset-level checks
// (empty or duplicate ids, missing or undecodable videos) belong to Verify.
package datasets

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Record is one labeled (or, in manifests, unlabeled) video.
type Record struct {
	ID       string
	Path     string  // video path: absolute, or joined onto Options.Root
	MOS      float64 // raw score as published; NaN when unlabeled (see HasMOS)
	MOSMin   float64 // scale of MOS
	MOSMax   float64
	MOSNorm  float64 // MOS mapped linearly from [MOSMin, MOSMax] to [1, 5]
	Split    string  // "train", "test", ... or SplitAll when the source has none
	Dataset  string  // loader name
	Std      *float64
	Raters   *int
	ResClass string // e.g. YouTube-UGC's "1080"
	SourceID string // pristine source of a derived clip (manifests); "" otherwise
	CRF      *int   // H.264 CRF of a ladder item (manifests); nil otherwise
	Line     int    // 1-based line (CSV, text) or row (xlsx, .mat entry) in the label file
	File     string // the label file the record was read from ("" for records made in code)
}

// Where is "file:line" of the record's label row (or what of it is known).
func (r Record) Where() string {
	switch {
	case r.File != "" && r.Line > 0:
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	case r.File != "":
		return r.File
	case r.Line > 0:
		return fmt.Sprintf("line %d", r.Line)
	}
	return "id " + strconv.Quote(r.ID)
}

// HasMOS reports whether the record carries a score (manifests may not).
func (r Record) HasMOS() bool { return !math.IsNaN(r.MOS) }

// SplitAll marks records of a source that defines no split; as Options.Split
// it, like "", selects every record.
const SplitAll = "all"

// Options select what a loader reads.
type Options struct {
	Root   string // dataset root; relative video paths are joined onto it (manifest: onto the manifest's directory)
	Labels string // label file; "" means the loader's default file under Root
	Split  string // "" or "all": every record; otherwise only that split
	Layout string // youtube-ugc video layout (see YouTubeLayouts); "" elsewhere

	// MOSMin/MOSMax override the loader's MOS scale; both 0 means unset.
	MOSMin, MOSMax float64
}

func (o Options) scaleOverride() (lo, hi float64, set bool, err error) {
	if o.MOSMin == 0 && o.MOSMax == 0 {
		return 0, 0, false, nil
	}
	if !(o.MOSMax > o.MOSMin) || math.IsInf(o.MOSMin, 0) || math.IsInf(o.MOSMax, 0) {
		return 0, 0, false, fmt.Errorf("%w: override [%g, %g]: the minimum and maximum must be finite, the minimum below the maximum", ErrScale, o.MOSMin, o.MOSMax)
	}
	return o.MOSMin, o.MOSMax, true, nil
}

// ErrScale marks an error about the MOS scale: one that cannot be inferred
// from the values, or a bad override. Callers name their own way to set the
// override (the CLI: --mos-min and --mos-max).
var ErrScale = errors.New("MOS scale")

// labelsPath returns Options.Labels, or def under Root.
func (o Options) labelsPath(def string) (string, error) {
	if o.Labels != "" {
		return o.Labels, nil
	}
	if o.Root == "" {
		return "", fmt.Errorf("no label file: set Labels, or Root to find %s under it", def)
	}
	return filepath.Join(o.Root, def), nil
}

// Loader reads one dataset's label files.
type Loader interface {
	Name() string
	Load(opts Options) ([]Record, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Loader{}
)

// Register adds a loader and the presets it offers (a Loader with a
// Presets() []Preset method); it panics on an empty or duplicate name, or a
// preset of another loader or named like an existing one, which are
// programming errors.
func Register(l Loader) {
	regMu.Lock()
	defer regMu.Unlock()
	name := l.Name()
	if name == "" {
		panic("datasets: Register with empty name")
	}
	if _, dup := registry[name]; dup {
		panic("datasets: Register called twice for " + name)
	}
	if pl, ok := l.(presetLoader); ok {
		for _, p := range pl.Presets() {
			if p.Loader != name {
				panic("datasets: " + name + " offers preset " + p.Name + " of loader " + p.Loader)
			}
			for _, other := range registry {
				if po, ok := other.(presetLoader); ok && slices.ContainsFunc(po.Presets(), func(q Preset) bool { return q.Name == p.Name }) {
					panic("datasets: preset " + p.Name + " registered twice")
				}
			}
		}
	}
	registry[name] = l
}

// Get returns the named loader; the error lists the known names.
func Get(name string) (Loader, error) {
	regMu.RLock()
	l, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return l, nil
}

// Names lists the registered loaders, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load is Get(name) followed by Load(opts).
func Load(name string, opts Options) ([]Record, error) {
	l, err := Get(name)
	if err != nil {
		return nil, err
	}
	return l.Load(opts)
}

// RowError is a malformed row in a label file.
type RowError struct {
	File  string
	Line  int    // 1-based line or row
	Field string // column or variable, "" when the whole row is at fault
	Msg   string
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: field %q: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func rowErr(file string, line int, field, format string, args ...any) error {
	return &RowError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// finishing describes how parsed rows become final records.
type finishing struct {
	dataset  string
	file     string
	mosField string                                   // column name for range errors
	lo, hi   float64                                  // loader's scale, replaced by an Options override
	base     string                                   // directory relative video paths are joined onto
	splits   []string                                 // the loader's known splits; nil: any value
	inferFn  func([]Record) (float64, float64, error) // labels-txt: scale from the values
}

// finish applies scale, normalization, path joining and the split filter.
func finish(recs []Record, opts Options, f finishing) ([]Record, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no label rows", f.file)
	}
	lo, hi, set, err := opts.scaleOverride()
	if err != nil {
		return nil, err
	}
	if !set {
		lo, hi = f.lo, f.hi
		if f.inferFn != nil {
			if lo, hi, err = f.inferFn(recs); err != nil {
				return nil, fmt.Errorf("%s: %w", f.file, err)
			}
		}
	}
	sel := opts.Split
	if sel == SplitAll {
		sel = ""
	}
	if sel != "" && f.splits != nil && !contains(f.splits, sel) {
		return nil, fmt.Errorf("%s: unknown split %q (known: %s)", f.dataset, sel, strings.Join(f.splits, ", "))
	}
	out := recs[:0]
	present := map[string]bool{}
	for _, r := range recs {
		if r.HasMOS() && (r.MOS < lo || r.MOS > hi) {
			return nil, rowErr(f.file, r.Line, f.mosField, "%v is outside the MOS scale [%g, %g]", r.MOS, lo, hi)
		}
		present[r.Split] = true
		if sel != "" && r.Split != sel {
			continue
		}
		r.MOSMin, r.MOSMax = lo, hi
		r.MOSNorm = 1 + 4*(r.MOS-lo)/(hi-lo)
		r.Dataset = f.dataset
		r.File = f.file
		if r.Path != "" && !filepath.IsAbs(r.Path) {
			r.Path = filepath.Join(f.base, filepath.FromSlash(r.Path))
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		have := make([]string, 0, len(present))
		for s := range present {
			have = append(have, s)
		}
		sort.Strings(have)
		return nil, fmt.Errorf("%s: no rows with split %q (splits in file: %s)", f.file, sel, strings.Join(have, ", "))
	}
	return out, nil
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// openLabels opens a label file; os errors already name the path.
func openLabels(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("label file: %w", err)
	}
	return f, nil
}

// parser reads one label-file format; file names the source in errors.
type parser func(r io.Reader, file string) ([]Record, error)

// readLabels opens the label file (Options.Labels, or def under Root) and
// parses it with the parser registered for its extension ("" = any other).
func readLabels(opts Options, def string, parsers map[string]parser) ([]Record, string, error) {
	path, err := opts.labelsPath(def)
	if err != nil {
		return nil, "", err
	}
	f, err := openLabels(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	p, ok := parsers[strings.ToLower(filepath.Ext(path))]
	if !ok {
		p = parsers[""]
	}
	recs, err := p(f, path)
	return recs, path, err
}

// stripExt drops the extension of the last path element.
func stripExt(p string) string {
	return strings.TrimSuffix(p, filepath.Ext(p))
}
