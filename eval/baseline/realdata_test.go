package baseline

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/internal/testutil"
)

// TestRealKoNViDBitrate: on real KoNViD-1k clips the video-stream bit rate
// equals the `bitrate` column (ffprobe's stream bit_rate, b/s) of VIDEVAL's
// metadata table, and every NSS feature is present.
func TestRealKoNViDBitrate(t *testing.T) {
	root := testutil.RealData(t)
	meta := filepath.Join(root, "labels/VIDEVAL/features/KONVID_1K_metadata.csv")
	split := filepath.Join(root, "splits/konvid1k-dev.txt")
	f, err := os.Open(meta)
	if err != nil {
		t.Skipf("no KoNViD metadata: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", meta, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	rate := map[string]float64{}
	for _, r := range rows[1:] {
		if v, err := strconv.ParseFloat(r[col["bitrate"]], 64); err == nil {
			rate[r[col["flickr_id"]]] = v
		}
	}
	ids := readLines(t, split)
	if len(ids) > 2 && !testutil.Long() {
		ids = ids[:2] // ~1 s of decoding each; -long checks the whole split
	}
	checked := 0
	for _, id := range ids {
		clip := filepath.Join(root, "KoNViD-1k/KoNViD_1k_videos", id+".mp4")
		if _, err := os.Stat(clip); err != nil {
			continue
		}
		cf, err := Extract(id, clip, 2)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := rate[id]
		if !ok {
			t.Errorf("%s: id %s not in %s", split, id, meta)
			continue
		}
		if got := cf.Features["bitrate_kbps"] * 1000; !near(got, want, 1e-4) {
			t.Errorf("%s: video bit rate %.0f b/s, metadata %.0f", clip, got, want)
		}
		if len(cf.Features) != len(BitrateNames)+len(nss.NSSNames)+len(describe.SignalNames) || len(cf.Indices) != 2 {
			t.Errorf("%s: %d features from %d frames", clip, len(cf.Features), len(cf.Indices))
		}
		checked++
	}
	if checked == 0 {
		t.Skip("no clip of the dev split is present")
	}
}

// TestRealCLIVEStill: a CLIVE JPEG is a one-frame clip with NSS features
// and no bit rate.
func TestRealCLIVEStill(t *testing.T) {
	root := testutil.RealData(t)
	imgs, _ := filepath.Glob(filepath.Join(root, "CLIVE/Images/*.JPG"))
	if len(imgs) == 0 {
		t.Skip("no CLIVE images")
	}
	cf, err := Extract("clive", imgs[0], DefaultFrames)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(nss.NSSNames) + len(describe.SignalNames); len(cf.Indices) != 1 || len(cf.Features) != n {
		t.Errorf("%s: %d frames, %d features (want 1 frame, %d NSS and signal features, no bit rate)", imgs[0], len(cf.Indices), len(cf.Features), n)
	}
	if _, ok := cf.Features["bitrate_kbps"]; ok {
		t.Errorf("%s: a still has a bit rate", imgs[0])
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no split file: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out
}
