package datasets

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/datasets/matv5"
)

// Every fuzzer checks the same contract: no panic, and a failure on one row
// is a RowError with a positive line, or a plain error for file-level faults.

func checkFuzz(t *testing.T, recs []Record, err error) {
	t.Helper()
	var re *RowError
	if errors.As(err, &re) && re.Line < 1 {
		t.Fatalf("row error without a line: %v", err)
	}
	if err == nil {
		for _, r := range recs {
			if r.Line < 1 {
				t.Fatalf("record without a line: %+v", r)
			}
		}
	}
}

func FuzzLabelsTxt(f *testing.F) {
	f.Add("KoNViD_1k_videos/4542323058.mp4, 8.008, 29.97002997002997, 3.22\nKoNViD_1k_videos/9753414792.mp4, 8.008008, 29.97, 3.84\n")
	f.Add("Sports_2160P-4e9f_crf_10_ss_00_t_20.0.mp4, -1, -1, 4.405\r\n")
	f.Add("yfcc-batch1/747.mp4, -1, -1, 67.75")
	f.Add("a, b, c\n,,,\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseLabelsTxt(strings.NewReader(s), "labels.txt")
		checkFuzz(t, recs, err)
		if err == nil && len(recs) > 0 {
			inferScale(recs)
		}
	})
}

func FuzzLSVQ(f *testing.F) {
	f.Add("name,p1,p2,p3,height,width,mos_p1,mos_p2,mos_p3,mos,is_test,is_valid\n" +
		`yfcc-batch1/747,"[15, 527, 421, 709, 0, 200]","[0, 1280, 0, 720, 101, 181]","[170, 682, 432, 720, 120, 200]",720,1280,57.9,64.5,60.4,67.75,True,True` + "\n")
	f.Add("name,height,width,mos,frame_number\r\nyfcc-batch1/725,720,1280,76.84375,210\r\n")
	f.Add("name,mos,is_valid\nyfcc-batch1/722,78.7741935483871,False\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseLSVQ(strings.NewReader(s), "l.csv")
		checkFuzz(t, recs, err)
	})
}

func FuzzKoNViD(f *testing.F) {
	f.Add("flickr_id,mos,width,height,pixfmt,framerate,nb_frames,bitdepth,bitrate\n3339962845,4.6400000000,960,540,yuv420p,29.97002997003,240,8,704684\n")
	f.Add("8536919744,1.22,0.97\r\n6408325533,1.26,0.77\r\n")
	f.Add("file_name,MOS,SD\n8536919744_original_centercrop_960x540_8s.mp4,1.22,0.3\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseKoNViD(strings.NewReader(s), "k.csv")
		checkFuzz(t, recs, err)
	})
}

func FuzzLIVEVQCCSV(f *testing.F) {
	f.Add("File,MOS,width,height,pixfmt,framerate,nb_frames,bitdepth,bitrate\nA001.mp4,80.232,1920,1080,yuvj420p,29.9929016799357,300,8,19924412\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseLIVEVQCCSV(strings.NewReader(s), "v.csv")
		checkFuzz(t, recs, err)
	})
}

func FuzzLIVEVQCMat(f *testing.F) {
	for _, compress := range []bool{false, true} {
		var b bytes.Buffer
		matv5.Write(&b, []*matv5.Var{
			matv5.CellStr("video_list", []string{"A001.mp4", "A002.mp4"}),
			matv5.Column("mos", []float64{80.232, 57.3005}),
		}, compress)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseLIVEVQCMat(bytes.NewReader(data), "data.mat")
		checkFuzz(t, recs, err)
	})
}

func FuzzYouTubeCSV(f *testing.F) {
	f.Add("vid,category,resolution,x_Subjects,MOSFull,MOSChunk00,MOSChunk05,MOSChunk10,stdFull,stdChunk00,stdChunk05,stdChunk10,width,height,pixfmt,framerate,nb_frames,bitdepth,bitrate\n"+
		"Animation_1080P-01b3,Animation,1080,125,3.649,3.604,3.721,3.338,0.468,0.574,0.61,0.618,1920,1080,yuv420p,29.97002997003,NaN,NaN,NaN\n", uint8(0))
	f.Fuzz(func(t *testing.T, s string, layout uint8) {
		recs, err := parseUGCCSV(strings.NewReader(s), "u.csv", YouTubeLayouts[int(layout)%len(YouTubeLayouts)])
		checkFuzz(t, recs, err)
	})
}

// FuzzYouTubeXLSX feeds raw bytes (which mostly die in the zip layer) and,
// to reach excelize's XML parsing and our row handling, a valid workbook
// whose worksheet and shared-strings XML are replaced by fuzzed text.
func FuzzYouTubeXLSX(f *testing.F) {
	seed := ugcXLSX(f, "MOS", ugcRowsFixture()...)
	zr, err := zip.NewReader(bytes.NewReader(seed), int64(len(seed)))
	if err != nil {
		f.Fatal(err)
	}
	entries := map[string][]byte{}
	var names []string
	for _, e := range zr.File {
		rc, _ := e.Open()
		entries[e.Name], _ = io.ReadAll(rc)
		rc.Close()
		names = append(names, e.Name)
	}
	var sheetName string
	for _, n := range names {
		if strings.HasPrefix(n, "xl/worksheets/") {
			sheetName = n
		}
	}
	rezip := func(sheet, shared []byte) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range names {
			w, _ := zw.Create(n)
			switch n {
			case sheetName:
				w.Write(sheet)
			case "xl/sharedStrings.xml":
				w.Write(shared)
			default:
				w.Write(entries[n])
			}
		}
		zw.Close()
		return b.Bytes()
	}
	f.Add(seed, entries[sheetName], entries["xl/sharedStrings.xml"])
	f.Fuzz(func(t *testing.T, raw, sheet, shared []byte) {
		recs, err := parseUGCXLSX(bytes.NewReader(raw), "u.xlsx", LayoutCategory)
		checkFuzz(t, recs, err)
		recs, err = parseUGCXLSX(bytes.NewReader(rezip(sheet, shared)), "u.xlsx", LayoutCategory)
		checkFuzz(t, recs, err)
	})
}

func FuzzManifestCSV(f *testing.F) {
	f.Add("id,path,mos,split\na,clips/a.mp4,4.5,train\nb,/abs/b.mp4,,\n")
	f.Add("id,path,mos\n\"a,b\",x.mp4,3\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseManifestCSV(strings.NewReader(s), "m.csv")
		checkFuzz(t, recs, err)
	})
}

func FuzzManifestJSONL(f *testing.F) {
	f.Add(`{"id":"a","path":"a.mp4","mos":80,"split":"test"}` + "\n" + `{"id":"b","path":"b.mp4","mos":null}` + "\n")
	f.Add(`{"id":"c","path":"c.mp4"}`)
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseManifestJSONL(strings.NewReader(s), "m.jsonl")
		checkFuzz(t, recs, err)
	})
}
