package video

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// vfrSources makes clips whose frame timing is not constant, each with the
// case of the CLI's frame-rate logic it exercises.
func vfrSources(t *testing.T, dir string) map[string]string {
	t.Helper()
	// 25 frames at 25 fps, then 25 frames 0.12 s apart (r_frame_rate stays 25).
	gaps := "setpts='if(lt(N,25),N/25/TB,(1+(N-25)*0.12)/TB)'"
	x264 := []string{"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"}
	clip := func(name, lavfi string, args ...string) string {
		return testutil.Clip(t, dir, name, lavfi, args...)
	}
	return map[string]string{
		// Gaps repeat frames; the only stream: vsync vscfr.
		"gaps": clip("gaps.mp4", "testsrc2=size=160x120:rate=25:duration=2",
			append([]string{"-vf", gaps, "-vsync", "vfr"}, x264...)...),
		// With an audio stream the CLI uses vsync cfr.
		"gaps+audio": clip("gapsaudio.mkv", "testsrc2=size=160x120:rate=25:duration=2[out0];sine=d=4[out1]",
			append([]string{"-vf", gaps, "-vsync", "vfr", "-c:a", "pcm_s16le"}, x264...)...),
		// Video starting 0.3 s after the audio: the first frame is repeated back to 0.
		"late+audio": clip("lateaudio.mkv", "testsrc2=size=160x120:rate=25:duration=1[out0];sine=d=1.5[out1]",
			append([]string{"-vf", "setpts=PTS+0.3/TB", "-c:a", "pcm_s16le"}, x264...)...),
		// Three frames bunched into one slot every 10: some dropped, some repeated.
		"bunched": clip("bunched.mp4", "testsrc2=size=160x120:rate=25:duration=2",
			append([]string{"-vf", "settb=1/1000,setpts='(if(between(mod(N,10),5,7),N-mod(N,10)+4+0.1*(mod(N,10)-4),N))/25/TB'",
				"-vsync", "vfr", "-enc_time_base:v", "1/1000"}, x264...)...),
		// 30000/1001 in a 1 ms time base: jittery timestamps, one frame each.
		"ntsc-mkv": clip("ntsc.mkv", "testsrc2=size=160x120:rate=30000/1001:duration=2", x264...),
	}
}

// The ffmpeg CLI re-encodes a VFR source to MP4 on a constant-rate grid,
// repeating and dropping frames; ours must give the same frames, count and
// duration (and so the same bitstream), not one output frame per input frame.
func TestEncodeVFRMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	for name, src := range vfrSources(t, dir) {
		t.Run(name, func(t *testing.T) {
			ours := filepath.Join(dir, name+"-ours.mp4")
			cli := filepath.Join(dir, name+"-cli.mp4")
			transcode(t, src, ours, 30, "veryfast")
			testutil.FFmpeg(t, "-i", src, "-an", "-c:v", "libx264", "-crf", "30", "-preset", "veryfast", cli)
			equalSums(t, name, testutil.FrameMD5s(t, ours), testutil.FrameMD5s(t, cli))
			a, err := Probe(ours)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Probe(cli)
			if err != nil {
				t.Fatal(err)
			}
			if a.Frames != b.Frames || math.Abs(a.Duration-b.Duration) > 1e-3 {
				t.Fatalf("ours %d frames over %.3f s, CLI %d frames over %.3f s", a.Frames, a.Duration, b.Frames, b.Duration)
			}
			t.Logf("%d frames, %.3f s", a.Frames, a.Duration)
		})
	}
}
