package video

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

const staleHelperEnv = "CPLLM_TEST_ENCODE_STALE" // "SRC DST": the child's job

// libx264 reads memory it never wrote at some widths (malloc.go). The child
// encodes with glibc filling every allocation with junk (MALLOC_PERTURB_);
// the bitstream must still equal the CLI's from a fresh process. Without
// zeroMallocs the packets differ from the first frame on.
func TestEncodeIgnoresStaleMemory(t *testing.T) {
	if job := os.Getenv(staleHelperEnv); job != "" {
		src, dst, _ := strings.Cut(job, " ")
		transcode(t, src, dst, 15, "veryfast")
		return
	}
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	src := testutil.Clip(t, dir, "src.mp4",
		"gradients=size=360x640:rate=24:seed=7:speed=0.008:nb_colors=5:x0=46:y0=82:x1=2:y1=225:"+
			"c0=0x126bd9:c1=0xff65f2:c2=0xab7f77:c3=0x053004:c4=0x534947,trim=end_frame=36",
		"-c:v", "libx264", "-qp", "0", "-preset", "veryfast", "-pix_fmt", "yuv420p")
	cli := filepath.Join(dir, "cli.mp4")
	testutil.FFmpeg(t, "-i", src, "-c:v", "libx264", "-crf", "15", "-preset", "veryfast", cli)
	want := testutil.FrameMD5s(t, cli, "-c", "copy") // packet hashes
	for _, junk := range []string{"17", "165"} {
		ours := filepath.Join(dir, "ours"+junk+".mp4")
		cmd := exec.Command(os.Args[0], "-test.run=^TestEncodeIgnoresStaleMemory$")
		cmd.Env = append(os.Environ(), "MALLOC_PERTURB_="+junk, staleHelperEnv+"="+src+" "+ours)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child encode: %v\n%s", err, out)
		}
		equalSums(t, "packets with MALLOC_PERTURB_="+junk, testutil.FrameMD5s(t, ours, "-c", "copy"), want)
	}
}
