package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/internal/testutil"
)

// `data stats` prints every record's patch statistics and, for shards made
// with shards.frame_stats, the stored whole-frame statistics, with the
// record's id, CRF and MOS.
func TestDataStatsCLI(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	testutil.Clip(t, dir, "a.mp4", "testsrc2=size=320x180:rate=10:duration=1")
	testutil.Clip(t, dir, "b.mp4", "mandelbrot=size=320x180:rate=10", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos\na,a.mp4,4.5\nb,b.mp4,1.5\n"), 0o644)
	for _, frames := range []bool{false, true} {
		sh := filepath.Join(t.TempDir(), "shards")
		args := []string{"data", "shards", "--dataset", "manifest", "--root", dir, "--out", sh, "--set", "shards.m=2", "--set", "shards.k=2"}
		if frames {
			args = append(args, "--set", "shards.frame_stats=true")
		}
		if out, err := run(t, args...); err != nil {
			t.Fatalf("shards: %v\n%s", err, out)
		}
		out, err := run(t, "data", "stats", "--shards", sh)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := shards.Open(sh)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("frame_stats %v: %d lines:\n%s", frames, len(lines), out)
		}
		for _, l := range lines {
			var row statsRow
			if err := json.Unmarshal([]byte(l), &row); err != nil {
				t.Fatal(err)
			}
			rec, err := ds.Get(row.ID)
			if err != nil {
				t.Fatal(err)
			}
			if row.MOS == nil || *row.MOS != rec.MOS || len(row.Patch) != len(stats.Names) {
				t.Fatalf("%s: mos %v, %d patch statistics", row.ID, row.MOS, len(row.Patch))
			}
			if !frames {
				if row.Frame != nil {
					t.Fatalf("%s: frame statistics from shards without them", row.ID)
				}
				continue
			}
			for i, n := range stats.Names {
				if row.Frame[n] != rec.FrameStats[i] {
					t.Fatalf("%s: frame %s = %g, the record holds %g", row.ID, n, row.Frame[n], rec.FrameStats[i])
				}
			}
		}
	}
	if _, err := run(t, "data", "stats", "--shards", filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing directory: %v", err)
	}
}
