package datasets

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.mp4", "b.mp4", "bad.mp4"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "d.mp4"), 0o755)
	rec := func(id, file string, mos float64, line int) Record {
		p := ""
		if file != "" {
			p = filepath.Join(dir, file)
		}
		return Record{ID: id, Path: p, MOS: mos, MOSMin: 0, MOSMax: 100, MOSNorm: 1 + 4*mos/100, Split: "test", Dataset: "lsvq", Line: line}
	}
	recs := []Record{
		rec("a", "a.mp4", 20, 2),
		rec("b", "b.mp4", 80, 3),
		rec("a", "missing.mp4", 50, 4),
		rec("", "bad.mp4", math.NaN(), 5),
		rec("d", "d.mp4", 10, 6), // a directory is not a video
		rec("e", "", 10, 7),
	}
	var calls atomic.Int32
	probe := func(path string) (any, error) {
		calls.Add(1)
		if strings.HasSuffix(path, "bad.mp4") {
			return nil, errors.New("decode: invalid data")
		}
		return map[string]int{"frames": 240}, nil
	}
	r := Verify(recs, VerifyOptions{Decode: true, Probe: probe, Workers: 3})
	if r.Dataset != "lsvq" || r.Rows != 6 || r.Labeled != 5 || r.Splits["test"] != 6 {
		t.Errorf("counts: %+v", r)
	}
	if *r.MOS != (Range{10, 80}) || math.Abs(r.MOSNorm.Max-4.2) > 1e-12 {
		t.Errorf("ranges %+v %+v", *r.MOS, *r.MOSNorm)
	}
	if len(r.DuplicateIDs) != 1 || r.DuplicateIDs[0].ID != "a" || len(r.DuplicateIDs[0].Lines) != 2 || r.DuplicateIDs[0].Lines[1] != 4 {
		t.Errorf("duplicates %+v", r.DuplicateIDs)
	}
	if len(r.EmptyIDs) != 1 || r.EmptyIDs[0] != 5 {
		t.Errorf("empty ids %v", r.EmptyIDs)
	}
	if r.Present != 3 || r.Missing != 3 || calls.Load() != 3 {
		t.Errorf("present %d missing %d probes %d", r.Present, r.Missing, calls.Load())
	}
	if len(r.Undecodable) != 1 || r.Undecodable[0].ID != "" || !strings.Contains(r.Undecodable[0].Error, "invalid data") {
		t.Errorf("undecodable %+v", r.Undecodable)
	}
	if len(r.Probes) != 2 || r.Probes[0].ID != "a" || r.Probes[1].ID != "b" {
		t.Errorf("probes %+v", r.Probes)
	}
	if r.OK(true) || r.OK(false) {
		t.Error("report with duplicates is OK")
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("json: %v", err)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rows", "duplicate id \"a\" at line 2, line 4", "empty id: line 5", "missing: " + filepath.Join(dir, "missing.mp4"), "undecodable: "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}

	clean := Verify(recs[:2], VerifyOptions{})
	if !clean.OK(false) || clean.Decoded || clean.Probes != nil {
		t.Errorf("clean report: %+v", clean)
	}
	allMissing := Verify(recs[2:3], VerifyOptions{})
	if allMissing.OK(true) {
		t.Error("all files missing is OK with allowMissing")
	}
	if empty := Verify(nil, VerifyOptions{}); empty.OK(true) || empty.MOS != nil {
		t.Error("empty dataset is OK")
	}
	unlabeled := Verify([]Record{{ID: "u", MOS: math.NaN(), MOSNorm: math.NaN()}}, VerifyOptions{})
	if _, err := json.Marshal(unlabeled); err != nil || unlabeled.MOS != nil {
		t.Errorf("unlabeled: %v %+v", err, unlabeled)
	}
}

func TestVerifyDecodeWithoutProbePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Verify(nil, VerifyOptions{Decode: true})
}

// Issue: a manifest row with an empty id made `data verify` exit 1 with a
// summary of zeros. The problems name the bad row by file:line.
func TestVerifyEmptyIDNamesRow(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.mp4", "b.mp4", "c.mp4"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	m := filepath.Join(dir, "manifest.csv")
	os.WriteFile(m, []byte("id,path,mos\n,a.mp4,3\nb,b.mp4,2\nb,c.mp4,4\n"), 0o644)
	recs, err := Load("manifest", Options{Labels: m})
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(recs, VerifyOptions{})
	probs := r.Problems(true)
	if r.OK(true) || len(probs) != 2 {
		t.Fatalf("problems %q", probs)
	}
	if !strings.Contains(probs[0], "1 empty ids") || !strings.Contains(probs[0], m+":2") {
		t.Errorf("empty id problem %q, want %s:2", probs[0], m)
	}
	if !strings.Contains(probs[1], `duplicate id "b"`) || !strings.Contains(probs[1], m+":3, "+m+":4") {
		t.Errorf("duplicate problem %q", probs[1])
	}
	var b strings.Builder
	r.WriteTable(&b)
	if !strings.Contains(b.String(), "empty id: "+m+":2") {
		t.Errorf("table does not name the row:\n%s", b.String())
	}
	if clean := Verify(recs[1:2], VerifyOptions{}); clean.Problems(false) != nil {
		t.Errorf("clean: %q", clean.Problems(false))
	}
}
