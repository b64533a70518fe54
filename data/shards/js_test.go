package shards

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// jsRow mirrors what testdata/js/read.mjs prints for each row.
type jsRow struct {
	ID            string    `json:"id"`
	MOS           float64   `json:"mos"`
	CRF           *int      `json:"crf"`
	M             int       `json:"m"`
	K             int       `json:"k"`
	PixelW        int       `json:"pixel_w"`
	PixelH        int       `json:"pixel_h"`
	ContextSHA256 string    `json:"context_sha256"`
	PatchesSHA256 string    `json:"patches_sha256"`
	Positions     [][3]int  `json:"positions"`
	SamplerSeed   string    `json:"sampler_seed"`
	FrameStats    []float64 `json:"frame_stats"`
}

type jsOut struct {
	FrameSize int `json:"frame_size"`
	Shards    []struct {
		Name    string  `json:"name"`
		Rows    int     `json:"rows"`
		Batches int     `json:"batches"`
		Records []jsRow `json:"records"`
	} `json:"shards"`
}

// jsReader returns the testdata/js directory with its npm packages
// installed (node_modules is kept between runs), or skips the test.
func jsReader(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: skipping the independent JS reader", tool)
		}
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "js"))
	if err != nil {
		t.Fatal(err)
	}
	installed := true
	for _, pkg := range []string{"apache-arrow", "fzstd", "lz4js"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			installed = false
		}
	}
	if !installed {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm install failed (offline?): %v\n%s", err, out)
		}
	}
	return dir
}

func TestJSReader(t *testing.T) {
	js := jsReader(t)
	const n = 11
	for _, comp := range []string{"none", "zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			man := writeN(t, dir, n, WriterOptions{FrameSize: testS, MaxRows: 4, BatchRows: 3, Compression: comp})
			cmd := exec.CommandContext(t.Context(), "node", filepath.Join(js, "read.mjs"), dir)
			cmd.Stderr = os.Stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("node read.mjs: %v", err)
			}
			var got jsOut
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("%v\n%s", err, raw)
			}
			if got.FrameSize != testS || len(got.Shards) != len(man.Shards) {
				t.Fatalf("js saw frame size %d and %d shards, want %d and %d", got.FrameSize, len(got.Shards), testS, len(man.Shards))
			}
			i := 0
			for si, s := range got.Shards {
				if s.Name != man.Shards[si].Name || s.Rows != man.Shards[si].Rows || len(s.Records) != s.Rows {
					t.Fatalf("shard %d: js %s with %d rows (%d records), manifest %+v", si, s.Name, s.Rows, len(s.Records), man.Shards[si])
				}
				if s.Batches < 2 && s.Rows > 3 {
					t.Errorf("%s: js saw %d batches for %d rows of 3 per batch", s.Name, s.Batches, s.Rows)
				}
				for _, row := range s.Records {
					if want := goRow(genRecord(i, testS)); !reflect.DeepEqual(row, want) {
						t.Fatalf("row %d:\njs %+v\ngo %+v", i, row, want)
					}
					i++
				}
			}
			if i != n {
				t.Fatalf("js read %d rows, want %d", i, n)
			}
		})
	}
}

func goRow(r Record) jsRow {
	pos := make([][3]int, len(r.PatchPos))
	for i, p := range r.PatchPos {
		pos[i] = [3]int{p.Frame, p.X, p.Y}
	}
	return jsRow{
		ID: r.ID, MOS: r.MOS, CRF: r.CRF, M: r.M, K: r.K, PixelW: r.PixelW, PixelH: r.PixelH,
		ContextSHA256: sha(r.Context), PatchesSHA256: sha(r.Patches),
		Positions: pos, SamplerSeed: strconv.FormatUint(r.SamplerSeed, 10),
		FrameStats: append([]float64{}, r.FrameStats...),
	}
}
