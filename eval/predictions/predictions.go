// Package predictions reads and writes prediction files: CSV with a header
// and columns id, pred, mos (other columns are ignored).
package predictions

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Row is one scored video.
type Row struct {
	ID   string
	Pred float64
	MOS  float64
}

// Read parses path; errors name the file, line and column.
func Read(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads predictions from r; name is used in errors.
func Parse(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range []string{"id", "pred", "mos"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: missing column %q (header must have id,pred,mos)", name, c)
		}
	}
	var rows []Row
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		get := func(c string) (string, error) {
			if col[c] >= len(rec) {
				return "", fmt.Errorf("%s:%d: missing field %q", name, line, c)
			}
			return strings.TrimSpace(rec[col[c]]), nil
		}
		id, err := get("id")
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, fmt.Errorf("%s:%d: empty id", name, line)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate id %q (first at line %d)", name, line, id, prev)
		}
		seen[id] = line
		row := Row{ID: id}
		for _, c := range []struct {
			name string
			dst  *float64
		}{{"pred", &row.Pred}, {"mos", &row.MOS}} {
			s, err := get(c.name)
			if err != nil {
				return nil, err
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: field %q: %q is not a finite number", name, line, c.name, s)
			}
			*c.dst = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no prediction rows", name)
	}
	return rows, nil
}

// Columns splits rows into prediction and MOS vectors.
func Columns(rows []Row) (pred, mos []float64) {
	for _, r := range rows {
		pred = append(pred, r.Pred)
		mos = append(mos, r.MOS)
	}
	return pred, mos
}

// Align orders b like a; both must hold the same ids with the same MOS.
func Align(a, b []Row, nameA, nameB string) ([]Row, error) {
	idx := map[string]int{}
	for i, r := range b {
		idx[r.ID] = i
	}
	var missing []string
	out := make([]Row, len(a))
	for i, r := range a {
		j, ok := idx[r.ID]
		if !ok {
			missing = append(missing, r.ID)
			continue
		}
		if b[j].MOS != r.MOS {
			return nil, fmt.Errorf("id %q: mos %v in %s but %v in %s", r.ID, r.MOS, nameA, b[j].MOS, nameB)
		}
		out[i] = b[j]
		delete(idx, r.ID)
	}
	if len(missing) > 0 || len(idx) > 0 {
		var extra []string
		for id := range idx {
			extra = append(extra, id)
		}
		slices.Sort(extra)
		return nil, fmt.Errorf("%s and %s hold different ids: %d only in %s %v, %d only in %s %v",
			nameA, nameB, len(missing), nameA, head(missing), len(extra), nameB, head(extra))
	}
	return out, nil
}

func head(v []string) []string {
	if len(v) > 5 {
		return append(v[:5:5], "...")
	}
	return v
}

// Write stores rows as CSV (id,pred,mos).
func Write(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "pred", "mos"})
	for _, r := range rows {
		_ = cw.Write([]string{r.ID, strconv.FormatFloat(r.Pred, 'g', -1, 64), strconv.FormatFloat(r.MOS, 'g', -1, 64)})
	}
	cw.Flush()
	return cw.Error()
}
