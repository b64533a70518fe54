package datasets

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRowErr checks err is a RowError at line whose message contains frag.
func wantRowErr(t *testing.T, err error, line int, frag string) {
	t.Helper()
	var re *RowError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a RowError", err, err)
	}
	if re.Line != line || !strings.Contains(err.Error(), frag) {
		t.Errorf("error %q, want line %d and %q", err, line, frag)
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"clive", "konvid1k", "labels-txt", "livevqc", "lsvq", "manifest", "youtube-ugc"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v", got)
	}
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "clive, konvid1k, labels-txt") {
		t.Errorf("Get(nope): %v", err)
	}
	l, err := Get("lsvq")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	Register(l)
}

func TestRowErrorFormat(t *testing.T) {
	p := writeFile(t, "labels.txt", "a.mp4, 8, 30, 3.2\nb.mp4, 8, 30, abc\n")
	_, err := Load("labels-txt", Options{Labels: p})
	if want := p + `:2: field "mos": "abc" is not a number`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLabelsTxtMalformed(t *testing.T) {
	cases := []struct {
		text string
		line int
		frag string
	}{
		{"a.mp4, 8, 30, 3.2\n\nb.mp4, 8, 30\n", 3, "3 comma-separated fields"},
		{"a.mp4, 8, 30, NaN\n", 1, "not a finite number"},
		{" , 8, 30, 3\n", 1, `field "path"`},
		{"a.mp4, 8, 30, 3.2\r\nb.mp4, 8, 30, 3.5, 1\r\n", 2, "5 comma-separated"},
		{"a.mp4, 8, 30, 3.2\n" + strings.Repeat("x", maxLine+10) + "\n", 2, "longer than"},
	}
	for _, c := range cases {
		_, err := parseLabelsTxt(strings.NewReader(c.text), "labels.txt")
		wantRowErr(t, err, c.line, c.frag)
	}
}

func TestLabelsTxtScale(t *testing.T) {
	load := func(text string, o Options) ([]Record, error) {
		o.Labels = writeFile(t, "labels.txt", text)
		o.Root = "/r"
		return Load("labels-txt", o)
	}
	recs, err := load("x/a.mp4, -1, -1, 1\r\nx/b.mp4, -1, -1, 5", Options{})
	if err != nil || recs[0].MOSMax != 5 || recs[1].MOSNorm != 5 || recs[0].Path != "/r/x/a.mp4" || recs[0].ID != "x/a" {
		t.Fatalf("1-5: %v %+v", err, recs)
	}
	recs, err = load("a.mp4, 1, 1, 0\nb.mp4, 1, 1, 50\n", Options{})
	if err != nil || recs[1].MOSMax != 100 || recs[1].MOSNorm != 3 {
		t.Fatalf("0-100: %v %+v", err, recs)
	}
	// The scale errors are ErrScale, for callers to name their own override
	// (the CLI's --mos-min/--mos-max), and name no Go fields.
	if _, err := load("a.mp4, 1, 1, 0.5\nb.mp4, 1, 1, 4\n", Options{}); !errors.Is(err, ErrScale) || strings.Contains(err.Error(), "MOSMin") {
		t.Errorf("ambiguous scale: %v", err)
	}
	recs, err = load("a.mp4, 1, 1, 0.5\n", Options{MOSMin: 0, MOSMax: 1})
	if err != nil || recs[0].MOSNorm != 3 {
		t.Errorf("override: %v %+v", err, recs)
	}
	if _, err := load("a.mp4, 1, 1, 7\n", Options{MOSMin: 1, MOSMax: 5}); err == nil {
		t.Error("MOS outside the override scale: no error")
	} else {
		wantRowErr(t, err, 1, "outside the MOS scale")
	}
	if _, err := load("a.mp4, 1, 1, 3\n", Options{MOSMin: 5, MOSMax: 1}); !errors.Is(err, ErrScale) || strings.Contains(err.Error(), "MOSMin") {
		t.Errorf("inverted override: %v", err)
	}
	// A UTF-8 BOM (Windows editors) is not part of the first path.
	recs, err = load("\uFEFFx/a.mp4, -1, -1, 1\r\nx/b.mp4, -1, -1, 5\r\n", Options{})
	if err != nil || recs[0].ID != "x/a" || recs[0].Path != "/r/x/a.mp4" {
		t.Errorf("BOM: %v %+v", err, recs)
	}
	if _, err := load("\n\n", Options{}); err == nil || !strings.Contains(err.Error(), "no label rows") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := load("a.mp4, 1, 1, 3\n", Options{Split: "train"}); err == nil {
		t.Error("unknown split: no error")
	}
	if _, err := load("a.mp4, 1, 1, 3\n", Options{Layout: LayoutFlat}); err == nil {
		t.Error("layout on labels-txt: no error")
	}
}

func TestLSVQ(t *testing.T) {
	hdr := "name,p1,mos,is_test,is_valid\n"
	p := writeFile(t, "l.csv", hdr+`b1/1,"[1, 2]",50.5,True,True`+"\n"+`b1/2,"[3, 4]",60,False,False`+"\n")
	recs, err := Load("lsvq", Options{Root: "/lsvq", Labels: p, Split: SplitTrain})
	if err != nil || len(recs) != 1 || recs[0].ID != "b1/2" || recs[0].Path != "/lsvq/b1/2.mp4" || recs[0].Line != 3 {
		t.Fatalf("%v %+v", err, recs)
	}
	recs, _ = Load("lsvq", Options{Root: "/lsvq", Labels: p})
	if len(recs) != 2 || recs[0].Split != SplitTest {
		t.Errorf("all splits: %+v", recs)
	}
	if _, err := Load("lsvq", Options{Root: "/lsvq", Labels: p, Split: "val"}); err == nil || !strings.Contains(err.Error(), "test-1080p") {
		t.Errorf("unknown split: %v", err)
	}
	for text, frag := range map[string]string{
		hdr + "b/1,x,50,maybe,True\n":  `field "is_test": "maybe"`,
		hdr + "b/1,x,abc,True,True\n":  `field "mos": "abc"`,
		hdr + "b/1,x,101,True,True\n":  "outside the MOS scale [0, 100]",
		hdr + "b/1,x,50,True\n":        "wrong number of fields",
		hdr + "b/1,\"x,50,True,True\n": "extraneous or missing",
	} {
		_, err := Load("lsvq", Options{Root: "/", Labels: writeFile(t, "l.csv", text)})
		wantRowErr(t, err, 2, frag)
	}
	if _, err := parseLSVQ(strings.NewReader("nom,mos\nx,1\n"), "l.csv"); err == nil || !strings.Contains(err.Error(), `no column "name"`) {
		t.Errorf("missing column: %v", err)
	}
	// Default file names under Root.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LSVQTest1080pFile), []byte("name,mos,is_valid\nb/9,40,False\n"), 0o644)
	recs, err = Load("lsvq", Options{Root: dir, Split: SplitTest1080p})
	if err != nil || recs[0].Split != SplitTest1080p {
		t.Errorf("default 1080p file: %v %+v", err, recs)
	}
	if _, err := Load("lsvq", Options{Root: dir}); err == nil || !strings.Contains(err.Error(), LSVQTrainTestFile) {
		t.Errorf("missing default file: %v", err)
	}
}

func TestKoNViDVariants(t *testing.T) {
	cases := map[string]string{
		"mos":      "flickr_id,mos\n123,3.5\n",
		"attrs":    "\uFEFFFlickr_ID,MOS,SD,file_name\r\n123,3.5,0.4,123_original_centercrop_960x540_8s.mp4\r\n",
		"filename": "file_name,MOS\n123_cut_centercrop_960x540_8s.mp4,3.5\n",
		"bare":     "123,3.5,0.97\r\n",
	}
	for name, text := range cases {
		recs, err := Load("konvid1k", Options{Root: "/k", Labels: writeFile(t, "k.csv", text)})
		if err != nil || len(recs) != 1 || recs[0].ID != "123" || recs[0].MOS != 3.5 || recs[0].Path != "/k/KoNViD_1k_videos/123.mp4" {
			t.Errorf("%s: %v %+v", name, err, recs)
		}
		if name == "attrs" && (recs[0].Std == nil || *recs[0].Std != 0.4) {
			t.Errorf("attrs: SD not kept")
		}
	}
	_, err := Load("konvid1k", Options{Root: "/k", Labels: writeFile(t, "k.csv", "file_name,MOS\nabc.mp4,3\n")})
	wantRowErr(t, err, 2, "flickr id")
	_, err = Load("konvid1k", Options{Root: "/k", Labels: writeFile(t, "k.csv", "flickr_id,mos\n1,3\n2,0.5\n")})
	wantRowErr(t, err, 3, "outside the MOS scale [1, 5]")
	if _, err := Load("konvid1k", Options{Root: "/k", Labels: writeFile(t, "k.csv", "id,score\n1,3\n")}); err == nil {
		t.Error("no id column: no error")
	}
	if _, err := Load("konvid1k", Options{}); err == nil || !strings.Contains(err.Error(), KoNViDMOSFile) {
		t.Errorf("no root, no labels: %v", err)
	}
}

func TestLIVEVQCCSVMalformed(t *testing.T) {
	_, err := parseLIVEVQCCSV(strings.NewReader("File,MOS\nA001.mp4,80\nA002.mp4,\n"), "v.csv")
	wantRowErr(t, err, 3, `field "MOS": "" is not a number`)
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "m.csv")
	os.WriteFile(csv, []byte("id,path,mos,split\na,clips/a.mp4,4.5,train\nb,/abs/b.mp4,,\n"), 0o644)
	recs, err := Load("manifest", Options{Labels: csv})
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Path != filepath.Join(dir, "clips/a.mp4") || recs[0].MOSNorm != 4.5 || recs[0].Split != "train" {
		t.Errorf("row a: %+v", recs[0])
	}
	if recs[1].Path != "/abs/b.mp4" || recs[1].HasMOS() || !math.IsNaN(recs[1].MOSNorm) || recs[1].Split != SplitAll {
		t.Errorf("row b: %+v", recs[1])
	}
	jl := filepath.Join(dir, "m.jsonl")
	os.WriteFile(jl, []byte(`{"id":"a","path":"a.mp4","mos":80,"split":"test"}`+"\n\n"+`{"id":"b","path":"b.mp4","mos":null}`+"\n"+`{"id":"c","path":"c.mp4"}`), 0o644)
	recs, err = Load("manifest", Options{Labels: jl, MOSMin: 0, MOSMax: 100})
	if err != nil || len(recs) != 3 || recs[0].MOSNorm != 4.2 || recs[0].Line != 1 || recs[2].Line != 4 || recs[1].HasMOS() || recs[2].HasMOS() {
		t.Errorf("jsonl: %v %+v", err, recs)
	}
	recs, err = Load("manifest", Options{Labels: jl, MOSMin: 0, MOSMax: 100, Split: "test"})
	if err != nil || len(recs) != 1 {
		t.Errorf("jsonl split: %v %+v", err, recs)
	}
	if recs[0].File != jl || recs[0].Where() != jl+":1" {
		t.Errorf("record's label row: %q %q", recs[0].File, recs[0].Where())
	}
	bomJL := filepath.Join(dir, "bom.jsonl")
	os.WriteFile(bomJL, []byte("\uFEFF"+`{"id":"a","path":"a.mp4","mos":3}`+"\n"), 0o644)
	if recs, err := Load("manifest", Options{Labels: bomJL}); err != nil || recs[0].ID != "a" {
		t.Errorf("jsonl with a BOM: %v %+v", err, recs)
	}
	for text, frag := range map[string]string{
		`{"id":"a","path":"a.mp4","mos":"4"}`:   `field "mos": "4" is not a number`,
		`{"id":"a","path":"a.mp4","score":4}`:   "unknown field",
		`{"id":"a","path":"a.mp4"} {}`:          "more than one",
		`{"id":"a",`:                            "invalid JSON",
		`[1]`:                                   "not a JSON object",
		`{"id":"a","path":"a.mp4","mos":1e999}`: "not a number",
	} {
		_, err := parseManifestJSONL(strings.NewReader("\n"+text+"\n"), "m.jsonl")
		wantRowErr(t, err, 2, frag)
	}
	_, err = parseManifestCSV(strings.NewReader("id,path,mos,extra\n"), "m.csv")
	wantRowErr(t, err, 1, "unknown column")
	_, err = parseManifestCSV(strings.NewReader("id,path,mos\na,a.mp4,x\n"), "m.csv")
	wantRowErr(t, err, 2, `field "mos": "x"`)
}
