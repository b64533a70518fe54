package datasets

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// table reads a CSV file with a header line. Column lookup ignores case and
// surrounding spaces, since copies of the same file differ in both.
type table struct {
	file    string
	cr      *csv.Reader
	header  []string
	index   map[string]int
	pending []string // header row handed back as data (headerless files)
}

func readTable(r io.Reader, file string) (*table, error) {
	cr := csv.NewReader(r)
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header line", file)
	}
	t := &table{file: file, cr: cr}
	if err != nil {
		return nil, t.csvErr(err)
	}
	if err := t.setHeader(hdr); err != nil {
		return nil, err
	}
	return t, nil
}

// setHeader indexes the header row (line 1).
func (t *table) setHeader(hdr []string) error {
	t.index = map[string]int{}
	if len(hdr) > 0 {
		hdr[0] = strings.TrimPrefix(hdr[0], "\uFEFF")
	}
	for i, h := range hdr {
		h = strings.TrimSpace(h)
		hdr[i] = h
		k := strings.ToLower(h)
		if _, dup := t.index[k]; dup && k != "" {
			return rowErr(t.file, 1, h, "duplicate column")
		}
		t.index[k] = i
	}
	t.header = hdr
	return nil
}

// col returns the index of the first of names present, or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.index[strings.ToLower(n)]; ok {
			return i
		}
	}
	return -1
}

// need is col for a required column.
func (t *table) need(names ...string) (int, error) {
	if i := t.col(names...); i >= 0 {
		return i, nil
	}
	return -1, rowErr(t.file, 1, "", "no column %s (header: %s)", strings.Join(quoteAll(names), " or "), strings.Join(t.header, ","))
}

// unreadHeader makes the header line the first data row.
func (t *table) unreadHeader() { t.pending = t.header }

// next returns the next row and its 1-based line, or io.EOF.
func (t *table) next() ([]string, int, error) {
	if t.pending != nil {
		row := t.pending
		t.pending = nil
		return row, 1, nil
	}
	row, err := t.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, err
		}
		return nil, 0, t.csvErr(err)
	}
	line, _ := t.cr.FieldPos(0)
	return row, line, nil
}

// records calls rec on every data row, in order, and collects the records;
// the first error stops it.
func (t *table) records(rec func(row []string, line int) (Record, error)) ([]Record, error) {
	var recs []Record
	for {
		row, line, err := t.next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		r, err := rec(row, line)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
}

// textRecords calls rec on every non-blank line of a text file (1-based
// line numbers; a leading byte order mark and a trailing "\r" removed) and
// collects the records; the first error stops it.
func textRecords(r io.Reader, file string, rec func(text string, line int) (Record, error)) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	var recs []Record
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, bom) // files saved by Windows tools start with one
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		r, err := rec(text, line)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, rowErr(file, line+1, "", "line longer than %d bytes", maxLine)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return recs, nil
}

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\uFEFF"

// maxLine bounds one line of a text label file; real lines are under 200 bytes.
const maxLine = 1 << 20

func (t *table) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("%s (header has %d)", msg, len(t.header))
		}
		return rowErr(t.file, pe.Line, "", "%s", msg)
	}
	return fmt.Errorf("%s: %w", t.file, err)
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return q
}

// parseNum parses a finite number; the error is a RowError for field.
func parseNum(file string, line int, field, s string) (float64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, rowErr(file, line, field, "%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, rowErr(file, line, field, "%q is not a finite number", s)
	}
	return v, nil
}

// parseOptNum is parseNum where an empty or NaN cell means "not given".
func parseOptNum(file string, line int, field, s string) (*float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "nan") {
		return nil, nil
	}
	v, err := parseNum(file, line, field, s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// parseOptCount parses a non-negative integral count such as a rater number;
// "125.0" is accepted because spreadsheets store numbers as floats.
func parseOptCount(file string, line int, field, s string) (*int, error) {
	v, err := parseOptNum(file, line, field, s)
	if err != nil || v == nil {
		return nil, err
	}
	if *v < 0 || *v != math.Trunc(*v) || *v > math.MaxInt32 {
		return nil, rowErr(file, line, field, "%q is not a count", s)
	}
	n := int(*v)
	return &n, nil
}

// cell returns row[i] trimmed, or "" when the column is absent.
func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}
