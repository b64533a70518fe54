package shards

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// writeV1 writes recs as one shard file in the version 1 layout: the
// columns before frame_stats, schema version "1".
func writeV1(t *testing.T, path string, recs []Record) {
	t.Helper()
	b := newBatchBuilder(NewSchema(testS), len(recs))
	for i := range recs {
		if err := b.add(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	v2 := b.build()
	defer v2.Release()
	md := arrow.NewMetadata([]string{"cpllm.schema_version", "cpllm.frame_size"}, []string{"1", strconv.Itoa(testS)})
	schema := arrow.NewSchema(schemaFields()[:colFrameStats], &md)
	v1 := array.NewRecordBatch(schema, v2.Columns()[:colFrameStats], v2.NumRows())
	defer v1.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(v1); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A version 1 shard (before frame_stats) still reads, its records without
// frame statistics; an unknown version is refused by number.
func TestReadsVersion1(t *testing.T) {
	var recs []Record
	for i := range 4 {
		recs = append(recs, genRecord(i, testS))
	}
	path := filepath.Join(t.TempDir(), "v1.arrow")
	writeV1(t, path, recs)
	sf, err := openShardFile(path, testS)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.close()
	if !sf.v1 {
		t.Fatal("a version 1 shard not recognised as one")
	}
	rec, err := sf.batch(0)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	c := columns(rec)
	for i, want := range recs {
		if want.FrameStats == nil && i%2 == 0 {
			t.Fatalf("genRecord(%d) should carry frame statistics", i)
		}
		want.FrameStats = nil
		if err := sameRecord(want, c.record(i)); err != nil {
			t.Fatal(err)
		}
	}

	md := arrow.NewMetadata([]string{"cpllm.schema_version", "cpllm.frame_size"}, []string{"9", strconv.Itoa(testS)})
	if _, err := checkSchema(arrow.NewSchema(schemaFields(), &md), testS); err == nil || !strings.Contains(err.Error(), `schema version "9"`) {
		t.Fatalf("version 9: %v", err)
	}
}

// A record with a non-finite frame statistic is refused, naming it.
func TestFrameStatsValidate(t *testing.T) {
	r := genRecord(0, testS)
	r.FrameStats[0] = 0
	if err := r.Validate(testS); err != nil {
		t.Fatal(err)
	}
	r.FrameStats = []float64{1, math.NaN()}
	if err := r.Validate(testS); err == nil || !strings.Contains(err.Error(), "frame statistic 1") {
		t.Fatalf("NaN frame statistic: %v", err)
	}
}

// A dataset directory written before frame_stats (manifest and shards of
// schema version 1) opens, reads, verifies and takes no frame statistics.
func TestOpensVersion1Dataset(t *testing.T) {
	const n = 5
	dir := t.TempDir()
	man := writeN(t, dir, n, WriterOptions{FrameSize: testS, MaxRows: n})
	if len(man.Shards) != 1 {
		t.Fatalf("%d shards", len(man.Shards))
	}
	var recs []Record
	for i := range n {
		recs = append(recs, genRecord(i, testS))
	}
	path := filepath.Join(dir, man.Shards[0].Name)
	writeV1(t, path, recs)
	sum, size, err := fileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["schema_version"] = 1
	sh := m["shards"].([]any)[0].(map[string]any)
	sh["sha256"], sh["bytes"] = sum, size
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, ManifestName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range readAll(t, ds) {
		want := recs[i]
		want.FrameStats = nil
		if err := sameRecord(want, r); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := Verify(dir); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %+v %v", rep.Problems, err)
	}
}
