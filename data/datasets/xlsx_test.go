package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var ugcHeader = []any{"vid", "category", "resolution", "x_Subjects", "MOSFull", "MOSChunk00", "MOSChunk05", "MOSChunk10", "stdFull", "stdChunk00", "stdChunk05", "stdChunk10"}

// ugcXLSX builds a workbook shaped like Google's release: sheet "MOS", real
// column names, numbers stored as numbers. A blank row is left at row 4.
func ugcXLSX(t testing.TB, sheet string, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet(sheet); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		t.Fatal(err)
	}
	all := append([][]any{ugcHeader}, rows...)
	for i, r := range all {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if i >= 3 {
			cellName, _ = excelize.CoordinatesToCellName(1, i+2)
		}
		if err := f.SetSheetRow(sheet, cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	// A display format that rounds: the loader must read the raw value.
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 2}) // "0.00"
	f.SetColStyle(sheet, "E", style)
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ugcRowsFixture() [][]any {
	return [][]any{
		{"Animation_1080P-01b3", "Animation", 1080, 125, 3.649, 3.604, 3.721, 3.338, 0.468, 0.574, 0.61, 0.618},
		{"Animation_1080P-05f8", "Animation", 1080, 146, 3.901, 3.757, 3.671, 3.728, 0.871, 0.734, 0.733, 0.738},
		{"Gaming_360P-0c4f", "Gaming", 360, 127, 3.94, 3.831, 4.01, 4.031, 0.529, 0.527, 0.626, 0.692},
	}
}

func TestYouTubeXLSX(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, YouTubeUGCFile)
	if err := os.WriteFile(p, ugcXLSX(t, "MOS", ugcRowsFixture()...), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := Load("youtube-ugc", Options{Root: dir, Layout: LayoutCategory}) // default file name
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.ID != "Animation_1080P-01b3" || r.MOS != 3.649 || *r.Std != 0.468 || *r.Raters != 125 || r.ResClass != "1080" || r.Line != 2 {
		t.Errorf("row 1: %+v", r)
	}
	if want := filepath.Join(dir, "Animation/1080P/Animation_1080P-01b3.mkv"); r.Path != want {
		t.Errorf("path %s, want %s", r.Path, want)
	}
	if recs[2].Line != 5 || recs[2].MOS != 3.94 || recs[2].Path != filepath.Join(dir, "Gaming/360P/Gaming_360P-0c4f.mkv") {
		t.Errorf("row after the blank: %+v", recs[2])
	}
}

func TestYouTubeXLSXMalformed(t *testing.T) {
	bad := ugcRowsFixture()
	bad[1][4] = "n/a"
	_, err := parseUGCXLSX(bytes.NewReader(ugcXLSX(t, "MOS", bad...)), "ugc.xlsx", LayoutFlat)
	wantRowErr(t, err, 3, `field "MOSFull": "n/a" is not a number`)

	bad = ugcRowsFixture()
	bad[2][3] = 12.5
	_, err = parseUGCXLSX(bytes.NewReader(ugcXLSX(t, "MOS", bad...)), "ugc.xlsx", LayoutFlat)
	wantRowErr(t, err, 5, `field "x_Subjects": "12.5" is not a count`)

	_, err = parseUGCXLSX(bytes.NewReader(ugcXLSX(t, "Scores", ugcRowsFixture()...)), "ugc.xlsx", LayoutFlat)
	if err == nil || !strings.Contains(err.Error(), `no sheet "MOS" (sheets: Scores)`) {
		t.Errorf("wrong sheet: %v", err)
	}
	if _, err := parseUGCXLSX(strings.NewReader("not a zip"), "ugc.xlsx", LayoutFlat); err == nil {
		t.Error("garbage: no error")
	}
}

func TestYouTubeCSVMalformed(t *testing.T) {
	hdr := "vid,category,resolution,x_Subjects,MOSFull,stdFull\n"
	_, err := parseUGCCSV(strings.NewReader(hdr+"a,Gaming,360,10,3.5,0.2\nb,Gaming,360,10,9,0.2\n"), "u.csv", LayoutFlat)
	if err != nil {
		t.Fatal(err) // range checks happen in finish, not the parser
	}
	_, err = parseUGCCSV(strings.NewReader(hdr+"a,Gaming,360,10,3.5,x\n"), "u.csv", LayoutFlat)
	wantRowErr(t, err, 2, `field "stdFull": "x"`)
	_, err = parseUGCCSV(strings.NewReader(hdr+"a,,360,10,3.5,0.2\n"), "u.csv", LayoutCategory)
	wantRowErr(t, err, 2, "category and resolution")
	if _, err := parseUGCCSV(strings.NewReader("vid,MOSFull\na,3\n"), "u.csv", LayoutCategory); err == nil {
		t.Error("category layout without category column: no error")
	}
	if _, err := Load("youtube-ugc", Options{Root: "/", Labels: "u.csv", Layout: "nested"}); err == nil || !strings.Contains(err.Error(), "flat, category, fastvqa") {
		t.Errorf("unknown layout: %v", err)
	}
}
