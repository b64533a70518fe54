package shards

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	const n = 23
	for _, comp := range []string{"none", "zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			opts := WriterOptions{
				FrameSize: testS, MaxRows: 5, BatchRows: 2, Compression: comp,
				SourceDataset: "konvid", Seed: 7, SamplerParams: json.RawMessage(`{"m":8,"k":8}`),
			}
			w, err := NewWriter(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if err := w.Write(genRecord(i, testS)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.AddFailure(Failure{ID: "bad-1", Path: "/x/bad.mp4", Error: "decode failed"}); err != nil {
				t.Fatal(err)
			}
			man, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(man.Shards) != 5 || man.TotalRows != n {
				t.Fatalf("shards %d rows %d, want 5 and %d", len(man.Shards), man.TotalRows, n)
			}
			for i, s := range man.Shards {
				want := 5
				if i == 4 {
					want = 3
				}
				sum, size, err := fileSHA256(filepath.Join(dir, s.Name))
				if err != nil || sum != s.SHA256 || size != s.Bytes || s.Rows != want || s.Compression != comp {
					t.Fatalf("shard %+v: file sha %s size %d err %v", s, sum, size, err)
				}
			}
			disk, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			var params bytes.Buffer
			json.Compact(&params, disk.SamplerParams)
			if disk.FrameSize != testS || disk.Seed != 7 || disk.SourceDataset != "konvid" ||
				params.String() != `{"m":8,"k":8}` || len(disk.Failures) != 1 || disk.Created.IsZero() {
				t.Fatalf("manifest %+v", disk)
			}

			ds, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, ds)
			if len(got) != n || ds.Len() != n {
				t.Fatalf("read %d records, Len %d, want %d", len(got), ds.Len(), n)
			}
			for i, r := range got {
				if err := sameRecord(genRecord(i, testS), r); err != nil {
					t.Fatal(err)
				}
			}
			r, err := ds.Get("item-0017")
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecord(genRecord(17, testS), r); err != nil {
				t.Fatal(err)
			}
			if _, err := ds.Get("nope"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get(nope) = %v", err)
			}
			if rep, err := Verify(dir); err != nil || rep.Rows != n || rep.Shards != 5 {
				t.Fatalf("verify %+v: %v", rep, err)
			}
		})
	}
}

func TestWriterRejects(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, WriterOptions{FrameSize: testS})
	if err != nil {
		t.Fatal(err)
	}
	bad := genRecord(1, testS)
	bad.Context = bad.Context[1:]
	if err := w.Write(bad); err == nil || !strings.Contains(err.Error(), "context") {
		t.Fatalf("short context: %v", err)
	}
	bad = genRecord(2, testS)
	bad.PatchPos = bad.PatchPos[:1]
	if err := w.Write(bad); err == nil {
		t.Fatal("wrong position count accepted")
	}
	if err := w.Write(genRecord(3, testS)); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(genRecord(3, testS)); err == nil || !w.Done("item-0003") {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(dir, WriterOptions{FrameSize: testS}); err == nil {
		t.Fatal("writer into a finished dataset without Resume")
	}
	if _, err := NewWriter(t.TempDir(), WriterOptions{Compression: "gzip"}); err == nil {
		t.Fatal("unknown compression accepted")
	}
}

func TestMaxBytesAndEmpty(t *testing.T) {
	dir := t.TempDir()
	frame := int64(testS * testS * 3)
	// Records are 1-3 frames plus 0-3 patches: at most 4 frames fit in 6.
	man := writeN(t, dir, 12, WriterOptions{FrameSize: testS, MaxBytes: 6 * frame})
	if len(man.Shards) < 3 {
		t.Fatalf("%d shards for 12 rows under %d bytes", len(man.Shards), 6*frame)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	writeN(t, empty, 0, WriterOptions{FrameSize: testS})
	ds, err := Open(empty)
	if err != nil || ds.Len() != 0 {
		t.Fatalf("empty: %v", err)
	}
	if got := readAll(t, ds); len(got) != 0 {
		t.Fatalf("%d records from an empty dataset", len(got))
	}
	if _, err := os.Stat(filepath.Join(empty, ManifestName)); err != nil {
		t.Fatal(err)
	}
}

// TestWriterMemoryFlat writes ~25 MB and checks the heap never holds more
// than a fraction of it: the writer keeps one batch, not the dataset.
func TestWriterMemoryFlat(t *testing.T) {
	const s, n = 64, 600
	w, err := NewWriter(t.TempDir(), WriterOptions{FrameSize: s, MaxRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	var total, peak uint64
	var ms runtime.MemStats
	for i := range n {
		r := genRecord(i, s)
		total += uint64(len(r.Context) + len(r.Patches))
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if peak > total/3 {
		t.Fatalf("heap peaked at %d MB while writing %d MB", peak>>20, total>>20)
	}
	t.Logf("heap peak %.1f MB for %.1f MB written", float64(peak)/(1<<20), float64(total)/(1<<20))
}
