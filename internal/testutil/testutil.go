// Package testutil holds helpers shared by tests: fixture clips generated with
// the ffmpeg CLI (so the repo ships no binaries), the CLI as an oracle, and
// the location of the optional real data beside the repository.
package testutil

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var long = flag.Bool("long", false, "run the heavy tests (full ladders on real data, long trainings)")

// Long reports whether `go test -long` asked for the heavy variants.
func Long() bool { return *long }

// RequireFFmpeg skips the test when the ffmpeg CLI (the oracle) is missing.
func RequireFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg CLI not found (run `make deps`)")
	}
}

// FFmpeg runs the ffmpeg CLI quietly and fails the test on error.
func FFmpeg(t testing.TB, args ...string) []byte {
	t.Helper()
	RequireFFmpeg(t)
	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return out
}

// Clip generates a clip from a lavfi source, e.g. "testsrc2=size=320x240:rate=25:duration=2",
// encoded with the given output args (default: libx264 yuv420p, fast).
func Clip(t testing.TB, dir, name, lavfi string, outArgs ...string) string {
	t.Helper()
	if len(outArgs) == 0 {
		outArgs = []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"}
	}
	path := filepath.Join(dir, name)
	args := append([]string{"-f", "lavfi", "-i", lavfi}, outArgs...)
	FFmpeg(t, append(args, path)...)
	return path
}

// FrameMD5s returns the per-frame MD5s of `ffmpeg -i path <args> -f framemd5 -`.
func FrameMD5s(t testing.TB, path string, args ...string) []string {
	t.Helper()
	a := append([]string{"-i", path}, args...)
	out := FFmpeg(t, append(a, "-f", "framemd5", "-")...)
	var sums []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		sums = append(sums, strings.TrimSpace(f[len(f)-1]))
	}
	return sums
}

// RealData returns ../shared/realdata (searched upwards from the working
// directory, or $CPLLM_REALDATA), skipping the test when it is absent.
func RealData(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CPLLM_REALDATA"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	dir, _ := os.Getwd()
	for {
		cand := filepath.Join(dir, "shared", "realdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("real data not found (../shared/realdata beside the repo, or $CPLLM_REALDATA); skipping")
			return ""
		}
		dir = parent
	}
}
