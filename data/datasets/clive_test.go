package datasets

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/datasets/matv5"
)

// writeCLIVE lays out a CLIVE release under a new root: the three .mat
// files (std omitted when nil) and an empty Images/ folder.
func writeCLIVE(t *testing.T, names []string, mos, std []float64) string {
	t.Helper()
	root := t.TempDir()
	data := filepath.Join(root, "Data")
	if err := os.MkdirAll(filepath.Join(root, "Images", "trainingImages"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(data, 0o755)
	write := func(file string, v *matv5.Var) {
		var b bytes.Buffer
		if err := matv5.Write(&b, []*matv5.Var{v}, true); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, file), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("AllImages_release.mat", matv5.CellStr("AllImages_release", names))
	// The release stores MOS and std as 1xN rows.
	write(CLIVEMOSFile, &matv5.Var{Name: "AllMOS_release", Class: matv5.ClassDouble, Dims: []int{1, len(mos)}, Real: mos})
	if std != nil {
		write(CLIVEStdFile, &matv5.Var{Name: "AllStdDev_release", Class: matv5.ClassDouble, Dims: []int{1, len(std)}, Real: std})
	}
	return root
}

func TestCLIVESynthetic(t *testing.T) {
	names := []string{"t1.bmp", "100.bmp", "1000.JPG", "7.png"}
	root := writeCLIVE(t, names, []float64{63.9, 0, 100, 42.5}, []float64{18.4, 1, 2, 3})
	for _, f := range []string{"Images/trainingImages/t1.bmp", "Images/1000.JPG"} {
		os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644)
	}
	recs, err := Load("clive", Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, path string
		mos      float64
	}{
		{"t1", "Images/trainingImages/t1.bmp", 63.9}, {"100", "Images/100.bmp", 0},
		{"1000", "Images/1000.JPG", 100}, {"7", "Images/7.png", 42.5},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.ID != w.id || r.Path != filepath.Join(root, w.path) || r.MOS != w.mos || r.Line != i+1 ||
			r.Split != SplitAll || r.Dataset != "clive" || r.MOSMin != 0 || r.MOSMax != 100 {
			t.Errorf("record %d: %+v, want %+v", i, r, w)
		}
		if norm := 1 + 4*w.mos/100; math.Abs(r.MOSNorm-norm) > 1e-12 {
			t.Errorf("%s: MOSNorm %v, want %v", r.ID, r.MOSNorm, norm)
		}
	}
	if recs[0].Std == nil || *recs[0].Std != 18.4 {
		t.Errorf("std of t1: %v", recs[0].Std)
	}
	if !strings.HasSuffix(recs[2].Where(), "AllImages_release.mat:3") {
		t.Errorf("Where() = %s", recs[2].Where())
	}
	rep := Verify(recs, VerifyOptions{})
	if rep.Present != 2 || rep.Missing != 2 || !rep.OK(true) || rep.OK(false) ||
		rep.MissingFiles[0] != filepath.Join(root, "Images/100.bmp") {
		t.Errorf("verify: %+v", rep)
	}

	// Without the std file the records carry none.
	plain := writeCLIVE(t, names[:1], []float64{50}, nil)
	if recs, err := Load("clive", Options{Root: plain}); err != nil || recs[0].Std != nil {
		t.Errorf("no std file: %v %+v", err, recs)
	}
	// Two files with the same name but another extension share an id: Verify names both entries.
	dup := writeCLIVE(t, []string{"5.JPG", "5.bmp"}, []float64{1, 2}, nil)
	recs, err = Load("clive", Options{Root: dup})
	if err != nil {
		t.Fatal(err)
	}
	if d := Verify(recs, VerifyOptions{}).DuplicateIDs; len(d) != 1 || d[0].ID != "5" || !strings.HasSuffix(d[0].At[1], "AllImages_release.mat:2") {
		t.Errorf("duplicate ids %+v", d)
	}
}

func TestCLIVEMalformed(t *testing.T) {
	names := []string{"1.JPG", "2.JPG"}
	load := func(root string) error {
		_, err := Load("clive", Options{Root: root})
		return err
	}
	if err := load(writeCLIVE(t, names, []float64{1}, nil)); err == nil || !strings.Contains(err.Error(), "has 2 entries but") {
		t.Errorf("short MOS vector: %v", err)
	}
	wantRowErr(t, load(writeCLIVE(t, names, []float64{1, 101}, nil)), 2, "outside the MOS scale [0, 100]")
	wantRowErr(t, load(writeCLIVE(t, names, []float64{1, math.NaN()}, nil)), 2, "AllMOS_release")
	wantRowErr(t, load(writeCLIVE(t, names, []float64{1, 2}, []float64{-1, 2})), 1, "not a standard deviation")
	wantRowErr(t, load(writeCLIVE(t, []string{"a/1.JPG", "2.JPG"}, []float64{1, 2}, nil)), 1, "not a file name")
	if err := load(writeCLIVE(t, names, []float64{1, 2}, []float64{1})); err == nil || !strings.Contains(err.Error(), CLIVEStdFile) {
		t.Errorf("short std vector: %v", err)
	}
	root := writeCLIVE(t, names, []float64{1, 2}, nil)
	os.Remove(filepath.Join(root, "Data", CLIVEMOSFile))
	if err := load(root); err == nil || !strings.Contains(err.Error(), CLIVEMOSFile) {
		t.Errorf("no MOS file: %v", err)
	}
	if err := load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "AllImages_release.mat") {
		t.Errorf("no release: %v", err)
	}
	// A file that is not MAT v5 names itself.
	bad := writeFile(t, "names.csv", "id,mos\n")
	if _, err := Load("clive", Options{Labels: bad}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("CSV as the names file: %v", err)
	}
}

// The real release: every entry of the .mat files loads, the images on disk
// are found (counted by listing Images/), the others are reported missing,
// and ids are unique.
func TestRealCLIVE(t *testing.T) {
	root := filepath.Join(realdata(t), "CLIVE")
	if _, err := os.Stat(filepath.Join(root, CLIVEImagesFile)); err != nil {
		t.Skipf("no CLIVE release: %v", err)
	}
	f, err := os.Open(filepath.Join(root, CLIVEImagesFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := matv5.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Var("AllImages_release")
	if err != nil {
		t.Fatal(err)
	}
	rows := v.Len()
	recs := checkLoad(t, "clive", Options{Root: root}, rows, 0, 100,
		spot{"t1", 63.963406174124174}, spot{"1000", 56.51219512195122}, spot{"1164", 72.753870927783964})
	onDisk := map[string]bool{}
	for _, dir := range []string{"Images", "Images/trainingImages"} {
		ents, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range ents {
			if e.Type().IsRegular() {
				onDisk[filepath.Join(root, dir, e.Name())] = true
			}
		}
	}
	present := 0
	for _, r := range recs {
		if onDisk[r.Path] {
			present++
		}
		if r.Std == nil {
			t.Fatalf("%s: no std", r.ID)
		}
	}
	t.Logf("%d of %d CLIVE images on disk", present, len(recs))
	rep := Verify(recs, VerifyOptions{})
	if rep.Rows != rows || rep.Present != present || rep.Missing != rows-present || len(rep.DuplicateIDs) != 0 || len(rep.EmptyIDs) != 0 {
		t.Errorf("report rows %d present %d missing %d duplicates %v, want %d, %d, %d, none",
			rep.Rows, rep.Present, rep.Missing, rep.DuplicateIDs, rows, present, rows-present)
	}
	if rep.OK(true) != (present > 0) {
		t.Errorf("OK(allowMissing) = %v with %d present", rep.OK(true), present)
	}
}
