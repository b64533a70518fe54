package datasets

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
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

// clipsOnDisk counts the records whose video is among the .mp4 files under
// root, found by walking root (not by Verify): the count the tests expect,
// since how many clips a copy of the real data holds varies. key maps a
// file's path relative to root, without .mp4, to a record id.
func clipsOnDisk(t *testing.T, root string, recs []Record, key func(rel string) string) int {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && strings.HasSuffix(p, ".mp4") { // follows links
			rel, _ := filepath.Rel(root, p)
			files[key(filepath.ToSlash(strings.TrimSuffix(rel, ".mp4")))] = true
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if files[r.ID] {
			n++
		}
	}
	return n
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

	// The clips on disk are found and the other rows reported missing. How
	// many clips a copy of the real data holds varies: count them here.
	byFlickrID := func(rel string) string { return strings.TrimPrefix(rel, "KoNViD_1k_videos/") }
	byPath := func(rel string) string { return rel } // labels-txt ids are paths
	for i, set := range [][]Record{recs, txt} {
		present := clipsOnDisk(t, root, set, []func(string) string{byFlickrID, byPath}[i])
		t.Logf("%d of %d KoNViD-1k clips on disk", present, len(set))
		rep := Verify(set, VerifyOptions{})
		if rep.Present != present || rep.Missing != len(set)-present || len(rep.MissingFiles) != len(set)-present {
			t.Errorf("present %d missing %d, want %d and %d", rep.Present, rep.Missing, present, len(set)-present)
		}
		if rep.OK(false) != (present == len(set)) || rep.OK(true) != (present > 0) {
			t.Errorf("OK(false)=%v OK(true)=%v with %d of %d present", rep.OK(false), rep.OK(true), present, len(set))
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
	present := clipsOnDisk(t, root, test, func(rel string) string { return rel })
	t.Logf("%d of %d LSVQ test clips on disk", present, len(test))
	if rep.Present != present || rep.Missing != len(test)-present {
		t.Errorf("LSVQ present %d missing %d, want %d and %d", rep.Present, rep.Missing, present, len(test)-present)
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
