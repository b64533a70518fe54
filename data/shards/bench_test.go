package shards

import (
	"fmt"
	"testing"
)

// benchRecord is a CP-LLM sized record (224x224 frames, M=8, K=8) whose
// pixels are smooth gradients plus a little texture, roughly like video.
func benchRecord() Record {
	const s, m, k = DefaultFrameSize, 8, 8
	r := genRecord(1, 1)
	fill := func(n int) []byte {
		b := make([]byte, n*s*s*3)
		for f := range n {
			for y := range s {
				for x := range s {
					o := ((f*s+y)*s + x) * 3
					b[o], b[o+1], b[o+2] = byte(x+f), byte(y*2), byte((x^y)&7+f*9)
				}
			}
		}
		return b
	}
	r.M, r.K, r.Context, r.Patches = m, k, fill(m), fill(k)
	r.PatchPos = make([]PatchPos, k)
	for i := range r.PatchPos {
		r.PatchPos[i] = PatchPos{Frame: i, X: 32 * i, Y: 16}
	}
	return r
}

// BenchmarkWrite reports write throughput (MB/s of frame+patch bytes) into
// 64-row shards, fsync and rename included.
func BenchmarkWrite(b *testing.B) {
	rec := benchRecord()
	for _, comp := range []string{"none", "zstd", "lz4"} {
		b.Run(comp, func(b *testing.B) {
			w, err := NewWriter(b.TempDir(), WriterOptions{MaxRows: 64, Compression: comp})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(rec.Context) + len(rec.Patches)))
			i := 0
			for b.Loop() {
				rec.ID = fmt.Sprintf("bench-%07d", i)
				i++
				if err := w.Write(rec); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRead reports streaming read throughput (records copied out).
func BenchmarkRead(b *testing.B) {
	for _, comp := range []string{"none", "zstd", "lz4"} {
		b.Run(comp, func(b *testing.B) {
			dir := b.TempDir()
			rec := benchRecord()
			w, err := NewWriter(dir, WriterOptions{MaxRows: 16, Compression: comp})
			if err != nil {
				b.Fatal(err)
			}
			const rows = 48
			for i := range rows {
				rec.ID = fmt.Sprintf("bench-%d", i)
				if err := w.Write(rec); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
			ds, err := Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(rows * int64(len(rec.Context)+len(rec.Patches)))
			for b.Loop() {
				for _, err := range ds.Batches(b.Context(), BatchOptions{BatchSize: 8, Shuffle: true, Window: 16}) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
