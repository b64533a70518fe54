package datasets

import (
	"github.com/cpllm/cpllm/internal/testutil"
	"math"
	"path/filepath"
	"testing"
)

// realdata is the shared real-data folder, or a skip.
func realdata(t *testing.T) string { return testutil.RealData(t) }

type spot struct {
	id  string
	mos float64
}

func checkLoad(t *testing.T, loader string, opts Options, rows int, lo, hi float64, spots ...spot) []Record {
	t.Helper()
	recs, err := Load(loader, opts)
	if err != nil {
		t.Fatalf("%s %s: %v", loader, opts.Labels, err)
	}
	if len(recs) != rows {
		t.Errorf("%s %s: %d rows, want %d", loader, filepath.Base(opts.Labels), len(recs), rows)
	}
	byID := map[string]Record{}
	for _, r := range recs {
		byID[r.ID] = r
		if r.MOSMin != lo || r.MOSMax != hi {
			t.Fatalf("%s: %s scale [%g,%g], want [%g,%g]", loader, r.ID, r.MOSMin, r.MOSMax, lo, hi)
		}
		if r.MOSNorm < 1 || r.MOSNorm > 5 || r.Dataset != loader {
			t.Fatalf("%s: bad record %+v", loader, r)
		}
	}
	for _, s := range spots {
		r, ok := byID[s.id]
		if !ok {
			t.Errorf("%s: no id %q", loader, s.id)
			continue
		}
		if r.MOS != s.mos {
			t.Errorf("%s: %s MOS %v, want %v", loader, s.id, r.MOS, s.mos)
		}
		if want := 1 + 4*(s.mos-lo)/(hi-lo); math.Abs(r.MOSNorm-want) > 1e-12 {
			t.Errorf("%s: %s MOSNorm %v, want %v", loader, s.id, r.MOSNorm, want)
		}
	}
	return recs
}

func TestRealKoNViD(t *testing.T) {
	rd := realdata(t)
	root := filepath.Join(rd, "KoNViD-1k")
	lab := func(p string) string { return filepath.Join(rd, "labels", p) }
	recs := checkLoad(t, "konvid1k", Options{Root: root, Labels: lab("VIDEVAL/features/KONVID_1K_metadata.csv")}, 1200, 1, 5,
		spot{"3339962845", 4.64}, spot{"8171831850", 4.4440298510}, spot{"6076608135", 4.4})
	if recs[0].Path != filepath.Join(root, "KoNViD_1k_videos", "3339962845.mp4") || recs[0].Line != 2 || recs[0].Split != SplitAll {
		t.Errorf("first record %+v", recs[0])
	}
	checkLoad(t, "konvid1k", Options{Root: root, Labels: lab("cnn-tlvqm/KoNViD_mos_fr.csv")}, 1200, 1, 5,
		spot{"8536919744", 1.22}, spot{"5319047612", 1.3469})
	txt := checkLoad(t, "labels-txt", Options{Root: root, Labels: lab("FAST-VQA-and-FasterVQA/examplar_data_labels/KoNViD/labels.txt")}, 1200, 1, 5,
		spot{"KoNViD_1k_videos/4542323058", 3.22}, spot{"KoNViD_1k_videos/9753414792", 3.84}, spot{"KoNViD_1k_videos/6935410837", 3.24})

	// The 12 clips on disk are found, the other 1188 reported missing.
	for _, set := range [][]Record{recs, txt} {
		rep := Verify(set, VerifyOptions{})
		if rep.Present != 12 || rep.Missing != 1188 || len(rep.MissingFiles) != 1188 {
			t.Errorf("present %d missing %d", rep.Present, rep.Missing)
		}
		if rep.OK(false) || !rep.OK(true) {
			t.Errorf("OK(false)=%v OK(true)=%v", rep.OK(false), rep.OK(true))
		}
		if len(rep.DuplicateIDs) != 0 || len(rep.EmptyIDs) != 0 || rep.MOS == nil || rep.MOS.Max != 4.64 {
			t.Errorf("report %+v", rep)
		}
	}
}

func TestRealLIVEVQC(t *testing.T) {
	rd := realdata(t)
	lab := func(p string) string { return filepath.Join(rd, "labels", p) }
	root := "/data/LIVE-VQC"
	recs := checkLoad(t, "livevqc", Options{Root: root, Labels: lab("MinimalisticVQA/data/LIVE_VQC_data.mat")}, 585, 0, 100,
		spot{"A001", 80.232}, spot{"A002", 57.3005}, spot{"A003", 78.1558})
	if recs[0].Path != "/data/LIVE-VQC/Video/A001.mp4" || recs[0].Line != 1 {
		t.Errorf("first record %+v", recs[0])
	}
	checkLoad(t, "livevqc", Options{Root: root, Labels: lab("VIDEVAL/features/LIVE_VQC_metadata.csv")}, 585, 0, 100,
		spot{"A001", 80.232}, spot{"A002", 57.3005}, spot{"A003", 78.1558})
	checkLoad(t, "labels-txt", Options{Root: root, Labels: lab("FAST-VQA-and-FasterVQA/examplar_data_labels/LIVE_VQC/labels.txt")}, 585, 0, 100,
		spot{"Video/A001", 80.232}, spot{"Video/A002", 57.3005}, spot{"Video/A003", 78.1558})
}

func TestRealYouTubeUGC(t *testing.T) {
	rd := realdata(t)
	lab := func(p string) string { return filepath.Join(rd, "labels", p) }
	csv := lab("VIDEVAL/features/YOUTUBE_UGC_metadata.csv")
	recs := checkLoad(t, "youtube-ugc", Options{Root: "/ugc", Labels: csv}, 1380, 1, 5,
		spot{"Animation_1080P-01b3", 3.649}, spot{"Animation_1080P-05f8", 3.901}, spot{"Animation_1080P-0c4f", 3.94})
	r := recs[0]
	if r.Path != "/ugc/Animation_1080P-01b3.mkv" || *r.Std != 0.468 || *r.Raters != 125 || r.ResClass != "1080" {
		t.Errorf("first record %+v", r)
	}
	for layout, want := range map[string]string{
		LayoutCategory: "/ugc/Animation/1080P/Animation_1080P-01b3.mkv",
		LayoutFastVQA:  "/ugc/Animation_1080P-01b3_crf_10_ss_00_t_20.0.mp4",
	} {
		recs, err := Load("youtube-ugc", Options{Root: "/ugc", Labels: csv, Layout: layout})
		if err != nil || recs[0].Path != want {
			t.Errorf("layout %s: %v %v", layout, err, recs[0].Path)
		}
	}
	checkLoad(t, "labels-txt", Options{Root: "/ugc", Labels: lab("FAST-VQA-and-FasterVQA/examplar_data_labels/YouTubeUGC/labels.txt")}, 1147, 1, 5,
		spot{"Sports_2160P-4e9f_crf_10_ss_00_t_20.0", 4.405}, spot{"Animation_480P-7a31_crf_10_ss_00_t_20.0", 3.487})
}

func TestRealLSVQ(t *testing.T) {
	rd := realdata(t)
	lab := func(p string) string { return filepath.Join(rd, "labels", p) }
	root := filepath.Join(rd, "LSVQ")
	whole := lab("SimpleVQA/data/LSVQ_whole_test.csv")
	test := checkLoad(t, "lsvq", Options{Root: root, Labels: whole, Split: SplitTest}, 7220, 0, 100,
		spot{"yfcc-batch1/747", 67.75}, spot{"yfcc-batch1/752", 50.903225806451594}, spot{"yfcc-batch1/749", 74.8})
	if test[0].Split != SplitTest || test[0].Path != filepath.Join(root, "yfcc-batch1", "747.mp4") {
		t.Errorf("first record %+v", test[0])
	}
	rep := Verify(test, VerifyOptions{})
	if rep.Present != 2 || rep.Missing != 7218 {
		t.Errorf("LSVQ present %d missing %d", rep.Present, rep.Missing)
	}
	if _, err := Load("lsvq", Options{Root: root, Labels: whole, Split: SplitTrain}); err == nil {
		t.Error("train split of a test-only file: no error")
	}
	p1080 := checkLoad(t, "lsvq", Options{Root: root, Labels: lab("AttackVQA/data/labels_test_1080p.csv"), Split: SplitTest1080p}, 3573, 0, 100,
		spot{"yfcc-batch1/722", 78.7741935483871}, spot{"yfcc-batch1/724", 73.1818181818182}, spot{"yfcc-batch1/717", 49.6})
	if p1080[0].Split != SplitTest1080p {
		t.Errorf("1080p split %q", p1080[0].Split)
	}
	checkLoad(t, "lsvq", Options{Root: root, Labels: lab("SimpleVQA/data/LSVQ_whole_test_1080p.csv")}, 3561, 0, 100)
	// The reduced 5-column copy has no split: all rows, and no guessing.
	all := checkLoad(t, "lsvq", Options{Root: root, Labels: lab("AttackVQA/data/labels_train_test.csv")}, 35499, 0, 100,
		spot{"yfcc-batch3/1724", 56.09375}, spot{"yfcc-batch22/17734", 59.90909091})
	if all[0].Split != SplitAll {
		t.Errorf("5-column split %q", all[0].Split)
	}
	if _, err := Load("lsvq", Options{Root: root, Labels: lab("AttackVQA/data/labels_train_test.csv"), Split: SplitTest}); err == nil {
		t.Error("test split of a split-less file: no error")
	}
	checkLoad(t, "labels-txt", Options{Root: root, Labels: lab("FAST-VQA-and-FasterVQA/examplar_data_labels/LSVQ/labels_test.txt")}, 7186, 0, 100,
		spot{"yfcc-batch1/747", 67.75})
}
