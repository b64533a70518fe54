package datasets

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// YouTubeUGCFile is the default YouTube-UGC label file under Root (Google's
// release); its MOS table is on sheet YouTubeUGCSheet.
const (
	YouTubeUGCFile  = "original_videos_MOS_for_YouTube_UGC_dataset.xlsx"
	YouTubeUGCSheet = "MOS"
)

// YouTube-UGC video layouts (Options.Layout).
const (
	LayoutFlat     = "flat"     // Root/<vid>.mkv (default)
	LayoutCategory = "category" // Root/<category>/<resolution>P/<vid>.mkv, Google's bucket layout
	LayoutFastVQA  = "fastvqa"  // Root/<vid>_crf_10_ss_00_t_20.0.mp4, FAST-VQA's H.264 re-encodes
)

// YouTubeLayouts lists the accepted Options.Layout values for youtube-ugc.
var YouTubeLayouts = []string{LayoutFlat, LayoutCategory, LayoutFastVQA}

// youtubeUGC loads YouTube-UGC (Wang et al.). MOS scale 1-5, no official
// split ("all"). Reads the MOS table with columns vid, category, resolution,
// x_Subjects, MOSFull, stdFull (others ignored) from the official .xlsx (sheet
// "MOS") or a CSV with the same columns (VIDEVAL's YOUTUBE_UGC_metadata.csv).
// MOS is MOSFull, Std stdFull, Raters x_Subjects, ResClass resolution.
func init() {
	Register(spec{name: "youtube-ugc", file: YouTubeUGCFile,
		layouts: YouTubeLayouts,
		layoutParsers: func(layout string) map[string]parser {
			return map[string]parser{
				".xlsx": func(r io.Reader, file string) ([]Record, error) { return parseUGCXLSX(r, file, layout) },
				"":      func(r io.Reader, file string) ([]Record, error) { return parseUGCCSV(r, file, layout) },
			}
		},
		mosField: "MOSFull", lo: 1, hi: 5, splits: []string{SplitAll},
		presets: []Preset{{Name: "youtube-ugc", Loader: "youtube-ugc"}}})
}

// ugcRows turns header-plus-rows input, from CSV or a sheet, into records.
type ugcRows struct {
	file                            string
	layout                          string
	header                          []string
	vid, cat, res, subj, mos, stdev int
}

func newUGCRows(file, layout string, t *table) (*ugcRows, error) {
	u := &ugcRows{file: file, layout: layout, header: t.header,
		cat: t.col("category"), res: t.col("resolution"), subj: t.col("x_Subjects"), stdev: t.col("stdFull")}
	var err error
	if u.vid, err = t.need("vid"); err != nil {
		return nil, err
	}
	if u.mos, err = t.need("MOSFull"); err != nil {
		return nil, err
	}
	if layout == LayoutCategory {
		if _, err := t.need("category"); err != nil {
			return nil, err
		}
		if _, err := t.need("resolution"); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *ugcRows) record(row []string, line int) (Record, error) {
	vid := cell(row, u.vid)
	mos, err := parseNum(u.file, line, "MOSFull", cell(row, u.mos))
	if err != nil {
		return Record{}, err
	}
	std, err := parseOptNum(u.file, line, "stdFull", cell(row, u.stdev))
	if err != nil {
		return Record{}, err
	}
	raters, err := parseOptCount(u.file, line, "x_Subjects", cell(row, u.subj))
	if err != nil {
		return Record{}, err
	}
	res := cell(row, u.res)
	rec := Record{ID: vid, MOS: mos, Split: SplitAll, Std: std, Raters: raters, ResClass: res, Line: line}
	if vid == "" {
		return rec, nil
	}
	switch u.layout {
	case LayoutFlat:
		rec.Path = vid + ".mkv"
	case LayoutFastVQA:
		rec.Path = vid + "_crf_10_ss_00_t_20.0.mp4"
	case LayoutCategory:
		cat := cell(row, u.cat)
		if cat == "" || res == "" {
			return Record{}, rowErr(u.file, line, "", "category and resolution are needed for the %q layout", LayoutCategory)
		}
		if !strings.HasSuffix(strings.ToUpper(res), "P") {
			res += "P"
		}
		rec.Path = cat + "/" + res + "/" + vid + ".mkv"
	}
	return rec, nil
}

func parseUGCCSV(r io.Reader, file, layout string) ([]Record, error) {
	t, err := readTable(r, file)
	if err != nil {
		return nil, err
	}
	u, err := newUGCRows(file, layout, t)
	if err != nil {
		return nil, err
	}
	return t.records(u.record)
}

// parseUGCXLSX reads the MOS sheet. Cells are read raw so a display format
// (e.g. "0.00") cannot round the scores; fully empty rows are not data.
func parseUGCXLSX(r io.Reader, file, layout string) (recs []Record, err error) {
	defer func() {
		// excelize parses untrusted zip/XML; a panic there must not take the
		// caller down with it.
		if p := recover(); p != nil {
			recs, err = nil, fmt.Errorf("%s: reading xlsx: %v", file, p)
		}
	}()
	x, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer x.Close()
	if idx, _ := x.GetSheetIndex(YouTubeUGCSheet); idx < 0 {
		return nil, fmt.Errorf("%s: no sheet %q (sheets: %s)", file, YouTubeUGCSheet, strings.Join(x.GetSheetList(), ", "))
	}
	rows, err := x.GetRows(YouTubeUGCSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("%s: sheet %s: %w", file, YouTubeUGCSheet, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: sheet %s is empty, want a header row", file, YouTubeUGCSheet)
	}
	t := &table{file: file}
	if err := t.setHeader(rows[0]); err != nil {
		return nil, err
	}
	u, err := newUGCRows(file, layout, t)
	if err != nil {
		return nil, err
	}
	for i, row := range rows[1:] {
		line := i + 2
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		if len(row) > len(t.header) && strings.TrimSpace(strings.Join(row[len(t.header):], "")) != "" {
			return nil, rowErr(file, line, "", "%d cells, header has %d", len(row), len(t.header))
		}
		rec, err := u.record(row, line)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
