package datasets

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/cpllm/cpllm/data/datasets/matv5"
)

// LIVEVQCFile is the default LIVE-VQC label file under Root.
const LIVEVQCFile = "data.mat"

// livevqc loads LIVE-VQC (Sinno & Bovik). MOS scale 0-100, no official split
// ("all"). Video path: Root/Video/<name>; the id is name without extension.
// A ".mat" label file is the official MAT v5 data.mat (variables video_list,
// a cell of file names, and mos); anything else is read as CSV with File and
// MOS columns (VIDEVAL's LIVE_VQC_metadata.csv). In .mat files Record.Line
// is the 1-based entry index.
func init() {
	Register(spec{name: "livevqc", file: LIVEVQCFile,
		parsers:  map[string]parser{".mat": parseLIVEVQCMat, "": parseLIVEVQCCSV},
		mosField: "mos", lo: 0, hi: 100, splits: []string{SplitAll},
		presets: []Preset{{Name: "livevqc", Loader: "livevqc"}}})
}

func liveVQCRecord(name string, mos float64, line int) Record {
	r := Record{ID: stripExt(name), MOS: mos, Split: SplitAll, Line: line}
	if name != "" {
		r.Path = "Video/" + name
	}
	return r
}

func parseLIVEVQCMat(r io.Reader, file string) ([]Record, error) {
	m, err := matv5.Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	vl, err := m.Var("video_list")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	names, err := vl.Strings()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	mv, err := m.Var("mos")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	mos, err := mv.Float64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(names) != len(mos) {
		return nil, fmt.Errorf("%s: video_list has %d entries but mos has %d", file, len(names), len(mos))
	}
	recs := make([]Record, len(names))
	for i, name := range names {
		if math.IsNaN(mos[i]) || math.IsInf(mos[i], 0) {
			return nil, rowErr(file, i+1, "mos", "%v is not a finite number", mos[i])
		}
		recs[i] = liveVQCRecord(strings.TrimSpace(name), mos[i], i+1)
	}
	return recs, nil
}

func parseLIVEVQCCSV(r io.Reader, file string) ([]Record, error) {
	t, err := readTable(r, file)
	if err != nil {
		return nil, err
	}
	iFile, err := t.need("File", "file_name", "filename")
	if err != nil {
		return nil, err
	}
	iMOS, err := t.need("MOS")
	if err != nil {
		return nil, err
	}
	return t.records(func(row []string, line int) (Record, error) {
		mos, err := parseNum(file, line, t.header[iMOS], row[iMOS])
		if err != nil {
			return Record{}, err
		}
		return liveVQCRecord(cell(row, iFile), mos, line), nil
	})
}
