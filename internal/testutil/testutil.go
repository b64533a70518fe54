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

// RequireOraclesEnv, when set to 1 (as `make test` does), turns a missing
// test oracle into a failure: `make deps` installs every oracle, so under
// `make test` no test may skip the check it exists for.
const RequireOraclesEnv = "CPLLM_REQUIRE_ORACLES"

// MissingOracle skips the test (plain `go test`) or fails it (under
// CPLLM_REQUIRE_ORACLES=1) because the oracle named by what is missing.
func MissingOracle(t testing.TB, what string) {
	t.Helper()
	msg := what + " not found (run `make deps`)"
	if os.Getenv(RequireOraclesEnv) == "1" {
		t.Fatal(msg + "; " + RequireOraclesEnv + "=1 requires every oracle")
	}
	t.Skip(msg)
}

// RequireFFmpeg stops the test when the ffmpeg CLI (the oracle) is missing.
func RequireFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		MissingOracle(t, "ffmpeg CLI")
	}
}

// RequireTorch stops the test when Debian's python3-torch is missing and
// returns the interpreter that has it.
func RequireTorch(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if exec.Command(py, "-c", "import torch").Run() != nil {
		MissingOracle(t, "python3-torch for "+py)
	}
	return py
}

// RequireScipy stops the test when Debian's python3-scipy is missing, skips
// it when scipy's version does not start with pinned (committed fixtures
// regenerate exactly only with the scipy that wrote them), and returns the
// interpreter.
func RequireScipy(t testing.TB, pinned string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	ver, err := exec.Command(py, "-c", "import scipy; print(scipy.__version__)").Output()
	if err != nil {
		MissingOracle(t, "python3-scipy for "+py)
	}
	if !strings.HasPrefix(string(ver), pinned) {
		t.Skipf("the fixtures pin scipy %s, found %s", pinned, strings.TrimSpace(string(ver)))
	}
	return py
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

// FindRealData returns $CPLLM_REALDATA when set (or "" when it names no
// directory), else ../shared/realdata searched upwards from the working
// directory, else "".
func FindRealData() string {
	if d, set := os.LookupEnv("CPLLM_REALDATA"); set && d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	dir, _ := os.Getwd()
	for {
		cand := filepath.Join(dir, "shared", "realdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// RealData returns FindRealData's directory, skipping the test when there
// is none.
func RealData(t testing.TB) string {
	t.Helper()
	d := FindRealData()
	if d == "" {
		t.Skip("real data not found (../shared/realdata beside the repo, or $CPLLM_REALDATA); skipping")
	}
	return d
}
