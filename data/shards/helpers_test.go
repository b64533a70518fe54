package shards

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
)

// TestMain doubles as the child writer of the crash test (see crash_test.go).
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChildWriter(dir))
	}
	os.Exit(m.Run())
}

const testS = 16 // small frames keep the tests fast

// genRecord is a deterministic record for index i; every field varies with
// i, and every third record is an uncompressed source (nil CRF).
func genRecord(i, s int) Record {
	m, k := 1+i%3, i%4
	frame := s * s * 3
	ctx := make([]byte, m*frame)
	for j := range ctx {
		ctx[j] = byte(j*7 + i*13)
	}
	pat := make([]byte, k*frame)
	for j := range pat {
		pat[j] = byte(j*11 + i*5 + 1)
	}
	pos := make([]PatchPos, k)
	for j := range pos {
		pos[j] = PatchPos{Frame: j % m, X: (i + j) * 3, Y: j * 5}
	}
	var fstats []float64 // every other record has frame statistics
	if i%2 == 0 {
		for j := range 1 + i%5 {
			fstats = append(fstats, float64(i)-0.25*float64(j))
		}
	}
	var crf *int
	if i%3 != 0 {
		c := 18 + i%30
		crf = &c
	}
	return Record{
		ID:            fmt.Sprintf("item-%04d", i),
		Dataset:       "konvid",
		Split:         []string{"train", "test"}[i%2],
		SourceID:      fmt.Sprintf("src-%03d", i/3),
		CRF:           crf,
		MOS:           1 + float64(i%41)/10 + 1e-9*float64(i),
		MOSNorm:       float64(i%97) / 97,
		Context:       ctx,
		M:             m,
		Patches:       pat,
		K:             k,
		PatchPos:      pos,
		PixelW:        640 + i,
		PixelH:        360,
		Description:   fmt.Sprintf("clip %d, héllo \"quoted\"", i),
		SamplerSeed:   uint64(i)*0x9e3779b97f4a7c15 + 1<<63,
		SamplerParams: fmt.Sprintf(`{"m":%d,"k":%d}`, m, k),
		FrameStats:    fstats,
	}
}

// sameRecord compares records treating nil and empty slices alike.
func sameRecord(a, b Record) error {
	if !bytes.Equal(a.Context, b.Context) {
		return fmt.Errorf("%s: context differs", a.ID)
	}
	if !bytes.Equal(a.Patches, b.Patches) {
		return fmt.Errorf("%s: patches differ", a.ID)
	}
	if !slices.Equal(a.PatchPos, b.PatchPos) {
		return fmt.Errorf("%s: positions %v vs %v", a.ID, a.PatchPos, b.PatchPos)
	}
	if (a.CRF == nil) != (b.CRF == nil) || (a.CRF != nil && *a.CRF != *b.CRF) {
		return fmt.Errorf("%s: crf differs", a.ID)
	}
	a.Context, a.Patches, a.PatchPos, a.CRF = nil, nil, nil, nil
	b.Context, b.Patches, b.PatchPos, b.CRF = nil, nil, nil, nil
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("records differ:\n%+v\n%+v", a, b)
	}
	return nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeN writes genRecord(0..n-1) and closes.
func writeN(t testing.TB, dir string, n int, opts WriterOptions) Manifest {
	t.Helper()
	w, err := NewWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Write(genRecord(i, opts.FrameSize)); err != nil {
			t.Fatal(err)
		}
	}
	man, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return man
}

// readAll streams the dataset in storage order.
func readAll(t testing.TB, ds *Dataset) []Record {
	t.Helper()
	var out []Record
	for b, err := range ds.Batches(t.Context(), BatchOptions{BatchSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
