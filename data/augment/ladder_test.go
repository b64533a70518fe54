package augment

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

func TestParseCRFs(t *testing.T) {
	got, err := ParseCRFs("15:53:2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 || got[0] != 15 || got[19] != 53 {
		t.Fatalf("paper ladder: %v", got)
	}
	if got, _ := ParseCRFs("31, 15,23,15"); !slices.Equal(got, []int{15, 23, 31}) {
		t.Fatalf("list: %v", got)
	}
	for _, bad := range []string{"", "15:10:2", "15:53:0", "a,b", "15:53", "70"} {
		if _, err := ParseCRFs(bad); err == nil {
			t.Errorf("ParseCRFs(%q) accepted", bad)
		}
	}
}

func readRows(t *testing.T, dir string) []Row {
	t.Helper()
	rows, err := loadRows(filepath.Join(dir, rowsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []Row
	for _, r := range rows {
		out = append(out, r)
	}
	return out
}

// Acceptance 2b/2c through the ladder: each level decodes to the frames of the
// CLI's own encode, and its SEI carries the (effective) CRF.
func TestLadderMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	src := testutil.Clip(t, dir, "src.mp4", "testsrc2=size=320x180:rate=24:duration=1")
	out := filepath.Join(dir, "ladder")
	crfs := []int{15, 33, 53}
	// Two encoder groups over one buffered decode.
	sum, err := Run(context.Background(), []Source{{ID: "src", Path: src}}, Options{OutDir: out, CRFs: crfs, Preset: "fast", Fanout: 2, BufferBytes: 1 << 30})
	if err != nil || sum.Written != 3 || sum.Failed != 0 {
		t.Fatalf("run: %+v %v", sum, err)
	}
	want := len(testutil.FrameMD5s(t, src))
	for _, crf := range crfs {
		got := filepath.Join(out, "src", OutputName(crf))
		cli := filepath.Join(dir, "cli.mp4")
		testutil.FFmpeg(t, "-i", src, "-c:v", "libx264", "-crf", strconv.Itoa(crf), "-preset", "fast", cli)
		a, b := testutil.FrameMD5s(t, got), testutil.FrameMD5s(t, cli)
		if len(a) != want || !slices.Equal(a, b) {
			t.Fatalf("crf %d: %d frames (src %d), equal to CLI: %v", crf, len(a), want, slices.Equal(a, b))
		}
	}
	rows := readRows(t, out)
	if len(rows) != 3 {
		t.Fatalf("ladder.jsonl has %d rows", len(rows))
	}
	for _, r := range rows {
		if r.Frames != want || r.Bytes <= 0 || r.Bitrate <= 0 || r.Preset != "fast" || r.SourcePath != src {
			t.Errorf("row %+v", r)
		}
		if r.EffectiveCRF != float64(min(r.CRF, 51)) || !strings.Contains(r.X264, "crf=") {
			t.Errorf("crf %d: effective %v, x264 %q", r.CRF, r.EffectiveCRF, r.X264)
		}
	}
}

// Acceptance 4: a directory with one bad and two good videos.
func TestLadderBadSourceIsRecorded(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	testutil.Clip(t, in, "a.mp4", "testsrc2=size=128x96:rate=10:duration=0.5")
	testutil.Clip(t, in, "c.mp4", "mandelbrot=size=128x96:rate=10", "-t", "0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	os.WriteFile(filepath.Join(in, "b.mp4"), []byte("not a video\n"), 0o644)
	srcs, err := SourcesFromPath(in)
	if err != nil || len(srcs) != 3 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	out := filepath.Join(dir, "out")
	// One encoder at a time, decoding again for each (no buffer).
	sum, err := Run(context.Background(), srcs, Options{OutDir: out, CRFs: []int{20, 40}, Preset: "ultrafast", Jobs: 2, Fanout: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 4 || sum.Failed != 1 || sum.Failures[0].SourceID != "b" || !strings.Contains(sum.Failures[0].Error, "b.mp4") {
		t.Fatalf("summary %+v", sum)
	}
	data, _ := os.ReadFile(filepath.Join(out, failuresFile))
	var f Failure
	if err := json.Unmarshal(data, &f); err != nil || f.SourceID != "b" {
		t.Fatalf("failures.jsonl: %s", data)
	}
	for _, id := range []string{"a", "c"} {
		for _, crf := range []int{20, 40} {
			if _, err := video.Verify(filepath.Join(out, id, OutputName(crf))); err != nil {
				t.Error(err)
			}
		}
	}
	// Rerun: good outputs are skipped, the bad source is retried and still fails once.
	sum, _ = Run(context.Background(), srcs, Options{OutDir: out, CRFs: []int{20, 40}, Preset: "ultrafast"})
	if sum.Skipped != 4 || sum.Written != 0 || sum.Failed != 1 {
		t.Fatalf("rerun %+v", sum)
	}
	data, _ = os.ReadFile(filepath.Join(out, failuresFile))
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Fatalf("failures.jsonl has %d lines after rerun", n)
	}
}

func TestResumeRedoesPartialAndRecovers(t *testing.T) {
	dir := t.TempDir()
	src := testutil.Clip(t, dir, "s.mp4", "testsrc2=size=128x96:rate=10:duration=0.5")
	out := filepath.Join(dir, "out")
	o := Options{OutDir: out, CRFs: []int{20, 30, 40}, Preset: "ultrafast"}
	if _, err := Run(context.Background(), []Source{{"s", src}}, o); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: level 30 lost (only a partial file), level 40 renamed
	// but not journaled, and a torn journal line.
	os.Remove(filepath.Join(out, "s", OutputName(30)))
	os.WriteFile(filepath.Join(out, "s", OutputName(30)+partialExt), []byte("junk"), 0o644)
	var kept []string
	for _, r := range readRows(t, out) {
		if r.CRF == 20 {
			b, _ := json.Marshal(r)
			kept = append(kept, string(b))
		}
	}
	os.WriteFile(filepath.Join(out, rowsFile), []byte(strings.Join(kept, "\n")+"\n{\"source_id\":\"s\",\"cr"), 0o644)
	sum, err := Run(context.Background(), []Source{{"s", src}}, o)
	if err != nil || sum.Written != 1 || sum.Skipped != 2 {
		t.Fatalf("resume: %+v %v", sum, err)
	}
	rows := readRows(t, out)
	if len(rows) != 3 {
		t.Fatalf("%d rows after resume", len(rows))
	}
	if _, err := os.Stat(filepath.Join(out, "s", OutputName(30)+partialExt)); !os.IsNotExist(err) {
		t.Fatal("partial file left behind")
	}
}

// Acceptance 5: SIGKILL mid-run, rerun, everything complete, no temp files.
func TestKillAndResume(t *testing.T) {
	if os.Getenv("CPLLM_LADDER_CHILD") != "" {
		return // the child branch lives in TestMain
	}
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	var srcs []Source
	for i, g := range []string{"testsrc2", "mandelbrot"} {
		p := testutil.Clip(t, dir, g+".mp4", g+"=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
		srcs = append(srcs, Source{ID: "v" + strconv.Itoa(i), Path: p})
	}
	out := filepath.Join(dir, "out")
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte("id,path\nv0,"+srcs[0].Path+"\nv1,"+srcs[1].Path+"\n"), 0o644)
	crfs, _ := ParseCRFs("15:53:2")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMain$")
	cmd.Env = append(os.Environ(), "CPLLM_LADDER_CHILD="+manifest+"|"+out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the first source is done and the second is in flight.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ents, _ := os.ReadDir(filepath.Join(out, "v1")); len(ents) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	rowsBefore := len(readRows(t, out))
	if rowsBefore >= 40 {
		t.Fatalf("the child finished before it was killed (%d rows); nothing was tested", rowsBefore)
	}
	sum, err := Run(context.Background(), srcs, Options{OutDir: out, CRFs: crfs, Preset: "ultrafast"})
	if err != nil || sum.Failed != 0 || sum.Written+sum.Skipped != 40 {
		t.Fatalf("rerun: %+v %v (rows before: %d)", sum, err, rowsBefore)
	}
	if len(readRows(t, out)) != 40 {
		t.Fatal("ladder.jsonl incomplete")
	}
	for _, s := range srcs {
		want := len(testutil.FrameMD5s(t, s.Path))
		for _, crf := range crfs {
			info, err := video.Verify(filepath.Join(out, s.ID, OutputName(crf)))
			if err != nil || info.Frames != want {
				t.Fatalf("%s crf %d: %d frames, want %d: %v", s.ID, crf, info.Frames, want, err)
			}
		}
		ents, _ := os.ReadDir(filepath.Join(out, s.ID))
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), partialExt) || strings.Contains(e.Name(), ".tmp") {
				t.Errorf("temp file left: %s", e.Name())
			}
		}
	}
	t.Logf("killed with %d/40 outputs journaled; rerun wrote %d, skipped %d", rowsBefore, sum.Written, sum.Skipped)
}

func TestMain(m *testing.M) {
	if spec := os.Getenv("CPLLM_LADDER_CHILD"); spec != "" {
		manifest, out, _ := strings.Cut(spec, "|")
		srcs, err := SourcesFromPath(manifest)
		if err != nil {
			os.Exit(3)
		}
		crfs, _ := ParseCRFs("15:53:2")
		Run(context.Background(), srcs, Options{OutDir: out, CRFs: crfs, Preset: "ultrafast"})
		os.Exit(0)
	}
	os.Exit(m.Run())
}
