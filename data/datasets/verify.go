package datasets

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
)

// VerifyOptions configure Verify. The decode check is injected (the CLI
// passes a function backed by video.Verify) so this package does not link
// FFmpeg.
type VerifyOptions struct {
	Decode  bool                           // probe/decode every present file with Probe
	Probe   func(path string) (any, error) // required when Decode is set
	Workers int                            // concurrent Probe calls; <= 1 means one at a time
}

// Range is a closed interval of scores.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Duplicate is an id used by more than one record.
type Duplicate struct {
	ID    string   `json:"id"`
	Lines []int    `json:"lines"`
	At    []string `json:"at"` // file:line of each row
}

// Failure is a file that could not be probed or decoded.
type Failure struct {
	ID    string `json:"id"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Probed holds the facts Probe returned for one file.
type Probed struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	Info any    `json:"info"`
}

// Report is the outcome of Verify.
type Report struct {
	Dataset      string         `json:"dataset"` // comma-joined when records mix datasets
	Rows         int            `json:"rows"`
	Labeled      int            `json:"labeled"`            // rows with a MOS
	MOS          *Range         `json:"mos,omitempty"`      // raw; nil when nothing is labeled
	MOSNorm      *Range         `json:"mos_norm,omitempty"` // after mapping to [1, 5]
	Splits       map[string]int `json:"splits"`
	EmptyIDs     []int          `json:"empty_ids,omitempty"`   // lines of records without id
	EmptyIDAt    []string       `json:"empty_id_at,omitempty"` // the same rows as file:line
	DuplicateIDs []Duplicate    `json:"duplicate_ids,omitempty"`
	Present      int            `json:"present"`
	Missing      int            `json:"missing"`
	MissingFiles []string       `json:"missing_files,omitempty"`
	Decoded      bool           `json:"decoded"` // whether the decode check ran
	Undecodable  []Failure      `json:"undecodable,omitempty"`
	Probes       []Probed       `json:"probes,omitempty"`
}

// OK reports whether the dataset is usable: it has rows, no empty or
// duplicate ids, no undecodable files, and no missing files unless
// allowMissing is set; even then at least one file must be present, since
// all-missing means a wrong root.
func (r Report) OK(allowMissing bool) bool { return len(r.Problems(allowMissing)) == 0 }

// problemListMax bounds how many rows one problem line names.
const problemListMax = 5

// Problems lists, one line each, what makes OK false: the bad rows by
// file:line, the count of missing and undecodable files.
func (r Report) Problems(allowMissing bool) []string {
	var p []string
	if r.Rows == 0 {
		p = append(p, "no rows")
	}
	if n := len(r.EmptyIDs); n > 0 {
		p = append(p, fmt.Sprintf("%d empty ids (%s)", n, listSome(r.EmptyIDAt)))
	}
	for i, d := range r.DuplicateIDs {
		if i == problemListMax {
			p = append(p, fmt.Sprintf("and %d more duplicate ids", len(r.DuplicateIDs)-i))
			break
		}
		p = append(p, fmt.Sprintf("duplicate id %q (%s)", d.ID, listSome(d.At)))
	}
	if n := len(r.Undecodable); n > 0 {
		p = append(p, fmt.Sprintf("%d undecodable (first: %s: %s)", n, r.Undecodable[0].Path, r.Undecodable[0].Error))
	}
	switch {
	case !allowMissing && r.Missing > 0:
		p = append(p, fmt.Sprintf("%d missing files (first: %s)", r.Missing, r.MissingFiles[0]))
	case allowMissing && r.Rows > 0 && r.Present == 0:
		p = append(p, fmt.Sprintf("all %d files missing (wrong root?)", r.Missing))
	}
	return p
}

func listSome(s []string) string {
	if len(s) <= problemListMax {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:problemListMax], ", ") + fmt.Sprintf(" and %d more", len(s)-problemListMax)
}

// Verify checks records for empty and duplicate ids and for missing files,
// and, with opts.Decode, runs opts.Probe on every present file. It panics if
// Decode is set without Probe, a programming error.
func Verify(recs []Record, opts VerifyOptions) Report {
	if opts.Decode && opts.Probe == nil {
		panic("datasets.Verify: Decode set without Probe")
	}
	r := Report{Rows: len(recs), Splits: map[string]int{}, Decoded: opts.Decode}
	datasets := map[string]bool{}
	lines := map[string][]int{}
	at := map[string][]string{}
	var ids []string
	var raw, norm Range
	var present []int
	for i, rec := range recs {
		datasets[rec.Dataset] = true
		r.Splits[rec.Split]++
		if rec.HasMOS() {
			if r.Labeled == 0 {
				raw, norm = Range{rec.MOS, rec.MOS}, Range{rec.MOSNorm, rec.MOSNorm}
			}
			r.Labeled++
			raw = Range{math.Min(raw.Min, rec.MOS), math.Max(raw.Max, rec.MOS)}
			norm = Range{math.Min(norm.Min, rec.MOSNorm), math.Max(norm.Max, rec.MOSNorm)}
		}
		if rec.ID == "" {
			r.EmptyIDs = append(r.EmptyIDs, rec.Line)
			r.EmptyIDAt = append(r.EmptyIDAt, rec.Where())
		} else {
			if _, seen := lines[rec.ID]; !seen {
				ids = append(ids, rec.ID)
			}
			lines[rec.ID] = append(lines[rec.ID], rec.Line)
			at[rec.ID] = append(at[rec.ID], rec.Where())
		}
		if isFile(rec.Path) {
			present = append(present, i)
		} else {
			r.MissingFiles = append(r.MissingFiles, rec.Path)
		}
	}
	if r.Labeled > 0 {
		r.MOS, r.MOSNorm = &raw, &norm
	}
	for _, id := range ids {
		if l := lines[id]; len(l) > 1 {
			r.DuplicateIDs = append(r.DuplicateIDs, Duplicate{ID: id, Lines: l, At: at[id]})
		}
	}
	names := make([]string, 0, len(datasets))
	for d := range datasets {
		names = append(names, d)
	}
	sort.Strings(names)
	r.Dataset = strings.Join(names, ",")
	r.Present, r.Missing = len(present), len(r.MissingFiles)
	if opts.Decode {
		r.probe(recs, present, opts)
	}
	return r
}

func isFile(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// probe runs Probe on the present records, keeping record order in the report.
func (r *Report) probe(recs []Record, present []int, opts VerifyOptions) {
	type result struct {
		info any
		err  error
	}
	res := make([]result, len(present))
	workers := max(opts.Workers, 1)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				info, err := opts.Probe(recs[present[j]].Path)
				res[j] = result{info, err}
			}
		}()
	}
	for j := range present {
		next <- j
	}
	close(next)
	wg.Wait()
	for j, i := range present {
		rec := recs[i]
		if res[j].err != nil {
			r.Undecodable = append(r.Undecodable, Failure{ID: rec.ID, Path: rec.Path, Error: res[j].err.Error()})
			continue
		}
		r.Probes = append(r.Probes, Probed{ID: rec.ID, Path: rec.Path, Info: res[j].info})
	}
}

// tableListMax bounds how many missing files WriteTable lists.
const tableListMax = 10

// WriteTable writes the report for people; JSON is for machines.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	p("dataset", r.Dataset)
	p("rows", r.Rows)
	p("labeled", r.Labeled)
	if r.MOS != nil {
		p("MOS raw", fmt.Sprintf("%.4g .. %.4g", r.MOS.Min, r.MOS.Max))
		p("MOS norm [1,5]", fmt.Sprintf("%.4g .. %.4g", r.MOSNorm.Min, r.MOSNorm.Max))
	}
	splits := make([]string, 0, len(r.Splits))
	for s, n := range r.Splits {
		splits = append(splits, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(splits)
	p("splits", strings.Join(splits, " "))
	p("empty ids", len(r.EmptyIDs))
	p("duplicate ids", len(r.DuplicateIDs))
	p("files present", r.Present)
	p("files missing", r.Missing)
	if r.Decoded {
		p("decoded ok", len(r.Probes))
		p("undecodable", len(r.Undecodable))
	} else {
		p("decode check", "not run")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for i, w := range r.EmptyIDAt {
		if i == tableListMax {
			fmt.Fprintf(&b, "  ... and %d more empty ids\n", len(r.EmptyIDAt)-i)
			break
		}
		fmt.Fprintf(&b, "empty id: %s\n", w)
	}
	for i, d := range r.DuplicateIDs {
		if i == tableListMax {
			fmt.Fprintf(&b, "  ... and %d more\n", len(r.DuplicateIDs)-i)
			break
		}
		fmt.Fprintf(&b, "duplicate id %q at %s\n", d.ID, strings.Join(d.At, ", "))
	}
	for i, m := range r.MissingFiles {
		if i == tableListMax {
			fmt.Fprintf(&b, "  ... and %d more missing\n", len(r.MissingFiles)-i)
			break
		}
		fmt.Fprintf(&b, "missing: %s\n", m)
	}
	for _, u := range r.Undecodable {
		fmt.Fprintf(&b, "undecodable: %s: %s\n", u.Path, u.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
