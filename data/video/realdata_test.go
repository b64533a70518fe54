package video

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// Acceptance 3: the real clips probe to the facts recorded in clips.csv (from
// ffprobe) and decode fully.
func TestRealClipsProbe(t *testing.T) {
	root := testutil.RealData(t)
	f, err := os.Open(filepath.Join(root, "clips.csv"))
	if err != nil {
		t.Skipf("no clips.csv: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		path := filepath.Join(root, r[col["copied_to"]])
		t.Run(filepath.Base(path), func(t *testing.T) {
			info, err := Probe(path)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := strconv.Atoi(r[col["width"]])
			h, _ := strconv.Atoi(r[col["height"]])
			n, _ := strconv.Atoi(r[col["frames"]])
			fps, _ := strconv.ParseFloat(r[col["fps"]], 64)
			dur, _ := strconv.ParseFloat(r[col["duration_s"]], 64)
			if info.Width != w || info.Height != h || info.Frames != n {
				t.Errorf("probe %dx%d %d frames; clips.csv %dx%d %d", info.Width, info.Height, info.Frames, w, h, n)
			}
			if math.Abs(info.FPS-fps) > 0.01 {
				t.Errorf("fps %.4f; clips.csv %.4f", info.FPS, fps)
			}
			if math.Abs(info.Duration-dur) > 0.1 {
				t.Errorf("duration %.3f; clips.csv %.3f", info.Duration, dur)
			}
			if !strings.HasPrefix(r[col["codec"]], info.Codec) || info.PixFmt != r[col["pix_fmt"]] {
				t.Errorf("codec %s %s; clips.csv %s %s", info.Codec, info.PixFmt, r[col["codec"]], r[col["pix_fmt"]])
			}
			if testing.Short() {
				return
			}
			v, err := Verify(path)
			if err != nil {
				t.Fatal(err)
			}
			if v.Frames != n {
				t.Errorf("decoded %d frames; clips.csv %d", v.Frames, n)
			}
		})
	}
}
