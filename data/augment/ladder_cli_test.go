package augment

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// readFailures returns failures.jsonl's lines.
func readFailures(t *testing.T, out string) []Failure {
	t.Helper()
	f, err := os.Open(filepath.Join(out, failuresFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fs []Failure
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var x Failure
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatalf("failures.jsonl: %v", err)
		}
		fs = append(fs, x)
	}
	return fs
}

// A source libx264 cannot take (4:2:0 with odd sides, which the ffmpeg CLI
// refuses too) fails alone: recorded with the reason, the others encoded,
// and a rerun does the same instead of crashing.
func TestLadderOddSizeSourceIsRecorded(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Clip(t, in, "a.mp4", "testsrc2=size=128x96:rate=10:duration=0.5")
	testutil.Clip(t, in, "odd.mkv", "testsrc2=size=320x240:rate=10:duration=0.5",
		"-vf", "scale=321:239", "-c:v", "ffv1", "-pix_fmt", "yuv420p")
	testutil.Clip(t, in, "z.mp4", "mandelbrot=size=128x96:rate=10", "-t", "0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	srcs, err := SourcesFromPath(in)
	if err != nil || len(srcs) != 3 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	out := filepath.Join(dir, "out")
	crfs := []int{30, 32}
	for run, o := range []Options{
		{OutDir: out, CRFs: crfs, Preset: "ultrafast", Jobs: 3},
		// Rerun, one encoder at a time over a buffered decode.
		{OutDir: out, CRFs: crfs, Preset: "ultrafast", Jobs: 3, Fanout: 1, BufferBytes: 1 << 30},
	} {
		sum, err := Run(context.Background(), srcs, o)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if sum.Written+sum.Skipped != 4 || sum.Failed != 1 || sum.Failures[0].SourceID != "odd" {
			t.Fatalf("run %d: summary %+v", run, sum)
		}
		fs := readFailures(t, out)
		if len(fs) != 1 || fs[0].SourceID != "odd" {
			t.Fatalf("run %d: failures.jsonl %+v", run, fs)
		}
		for _, want := range []string{"odd.mkv", "321x239", "divisible by 2", "ffmpeg CLI refuses"} {
			if !strings.Contains(fs[0].Error, want) {
				t.Errorf("run %d: failure lacks %q: %s", run, want, fs[0].Error)
			}
		}
		for _, id := range []string{"a", "z"} {
			for _, crf := range crfs {
				if _, err := video.Verify(filepath.Join(out, id, OutputName(crf))); err != nil {
					t.Errorf("run %d: %v", run, err)
				}
			}
		}
		if _, err := os.Stat(filepath.Join(out, "odd")); !os.IsNotExist(err) {
			ents, _ := os.ReadDir(filepath.Join(out, "odd"))
			t.Errorf("run %d: the refused source left its directory (%v): %v", run, err, ents)
		}
	}
}

// cliEncode re-encodes src with the ffmpeg CLI as the ladder's oracle.
func cliEncode(t *testing.T, src, dst string, crf int, preset string) {
	t.Helper()
	testutil.FFmpeg(t, "-i", src, "-an", "-c:v", "libx264", "-crf", strconv.Itoa(crf), "-preset", preset, dst)
}

// checkLevelsMatchCLI compares every ladder level of source id with the CLI's
// own encode: same frames (so same count and size), same duration, and a
// ladder.jsonl row with that duration.
func checkLevelsMatchCLI(t *testing.T, out, id, src string, crfs []int, preset string) video.Info {
	t.Helper()
	rows := map[int]Row{}
	for _, r := range readRows(t, out) {
		if r.SourceID == id {
			rows[r.CRF] = r
		}
	}
	var last video.Info
	for _, crf := range crfs {
		got := filepath.Join(out, id, OutputName(crf))
		cli := filepath.Join(t.TempDir(), "cli.mp4")
		cliEncode(t, src, cli, crf, preset)
		a, b := testutil.FrameMD5s(t, got), testutil.FrameMD5s(t, cli)
		if !slices.Equal(a, b) {
			t.Fatalf("%s crf %d: %d frames, CLI %d, equal %v", id, crf, len(a), len(b), slices.Equal(a, b))
		}
		gi, err := video.Probe(got)
		if err != nil {
			t.Fatal(err)
		}
		ci, err := video.Probe(cli)
		if err != nil {
			t.Fatal(err)
		}
		if gi.Width != ci.Width || gi.Height != ci.Height || gi.Frames != ci.Frames || math.Abs(gi.Duration-ci.Duration) > 1e-3 {
			t.Fatalf("%s crf %d: ours %dx%d %d frames %.3f s; CLI %dx%d %d frames %.3f s", id, crf,
				gi.Width, gi.Height, gi.Frames, gi.Duration, ci.Width, ci.Height, ci.Frames, ci.Duration)
		}
		r, ok := rows[crf]
		if !ok || r.Frames != ci.Frames || math.Abs(r.Duration-ci.Duration) > 1e-3 {
			t.Fatalf("%s crf %d: row %+v; CLI %d frames over %.3f s", id, crf, r, ci.Frames, ci.Duration)
		}
		last = ci
	}
	return last
}

// Ladder outputs of a rotated source are upright (portrait), as the CLI's.
func TestLadderRotatedSourceMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	base := testutil.Clip(t, dir, "base.mp4", "testsrc2=size=320x180:rate=25:duration=0.6")
	src := filepath.Join(dir, "rot.mp4")
	testutil.FFmpeg(t, "-i", base, "-c", "copy", "-metadata:s:v:0", "rotate=90", src)
	out := filepath.Join(dir, "out")
	crfs := []int{25, 40}
	sum, err := Run(context.Background(), []Source{{ID: "rot", Path: src}}, Options{OutDir: out, CRFs: crfs, Preset: "veryfast"})
	if err != nil || sum.Written != 2 {
		t.Fatalf("run: %+v %v", sum, err)
	}
	if ci := checkLevelsMatchCLI(t, out, "rot", src, crfs, "veryfast"); ci.Width != 180 || ci.Height != 320 {
		t.Fatalf("CLI output %dx%d, expected portrait 180x320", ci.Width, ci.Height)
	}
}

// A VFR source gives the CLI's output: frames placed on the constant-rate
// grid by their timestamps (repeats included), not one per source frame at
// 1/fps. Both the direct and the buffered (replayed clones) paths.
func TestLadderVFRMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	// 25 frames at 25 fps, then 25 frames 0.12 s apart: 3.92 s, not 2 s.
	src := testutil.Clip(t, dir, "vfr.mp4", "testsrc2=size=160x120:rate=25:duration=2",
		"-vf", "setpts='if(lt(N,25),N/25/TB,(1+(N-25)*0.12)/TB)'", "-vsync", "vfr",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")
	crfs := []int{28, 36, 44}
	for _, o := range []Options{
		{OutDir: filepath.Join(dir, "direct"), CRFs: crfs, Preset: "veryfast"},
		{OutDir: filepath.Join(dir, "buffered"), CRFs: crfs, Preset: "veryfast", Fanout: 2, BufferBytes: 1 << 30},
	} {
		sum, err := Run(context.Background(), []Source{{ID: "vfr", Path: src}}, o)
		if err != nil || sum.Written != 3 {
			t.Fatalf("%s: %+v %v", o.OutDir, sum, err)
		}
		ci := checkLevelsMatchCLI(t, o.OutDir, "vfr", src, crfs, "veryfast")
		if ci.Duration < 3.9 || ci.Frames <= 50 {
			t.Fatalf("CLI output %d frames over %.3f s: the source is not the VFR case", ci.Frames, ci.Duration)
		}
	}
}
