package datasets

import (
	"io"
	"strings"
)

// LSVQ splits.
const (
	SplitTrain     = "train"
	SplitTest      = "test"
	SplitTest1080p = "test-1080p"
)

// LSVQ default label files, the names of the official release assets.
const (
	LSVQTrainTestFile = "labels_train_test.csv"
	LSVQTest1080pFile = "labels_test_1080p.csv"
)

// lsvq loads LSVQ (Ying et al., Patch-VQ). MOS scale 0-100. Video path:
// Root/<name>.mp4, where name is "<batch>/<number>". The split comes from the
// header:
//   - an is_test column (official labels_train_test.csv): "train" or "test";
//   - no is_test but is_valid (the official column set of
//     labels_test_1080p.csv): every row is "test-1080p";
//   - neither (the reduced 5-column name,height,width,mos,frame_number copy):
//     every row is "all", so asking for train or test is an error rather than
//     a guess.
//
// With Labels unset, Split "test-1080p" reads Root/labels_test_1080p.csv and
// anything else Root/labels_train_test.csv.
func init() {
	Register(spec{name: "lsvq", file: LSVQTrainTestFile,
		splitFiles: map[string]string{SplitTest1080p: LSVQTest1080pFile},
		parsers:    map[string]parser{"": parseLSVQ},
		mosField:   "mos", lo: 0, hi: 100, splits: []string{SplitTrain, SplitTest, SplitTest1080p},
		presets: []Preset{
			{Name: "lsvq-test", Loader: "lsvq", Split: SplitTest},
			{Name: "lsvq-1080p", Loader: "lsvq", Split: SplitTest1080p},
		}})
}

func parseLSVQ(r io.Reader, file string) ([]Record, error) {
	t, err := readTable(r, file)
	if err != nil {
		return nil, err
	}
	iName, err := t.need("name")
	if err != nil {
		return nil, err
	}
	iMOS, err := t.need("mos")
	if err != nil {
		return nil, err
	}
	iTest := t.col("is_test")
	split := SplitAll
	if iTest < 0 && t.col("is_valid") >= 0 {
		split = SplitTest1080p
	}
	return t.records(func(row []string, line int) (Record, error) {
		name := cell(row, iName)
		mos, err := parseNum(file, line, "mos", row[iMOS])
		if err != nil {
			return Record{}, err
		}
		s := split
		if iTest >= 0 {
			switch strings.ToLower(cell(row, iTest)) {
			case "true", "1":
				s = SplitTest
			case "false", "0":
				s = SplitTrain
			default:
				return Record{}, rowErr(file, line, "is_test", "%q is not True or False", row[iTest])
			}
		}
		rec := Record{ID: name, MOS: mos, Split: s, Line: line}
		if name != "" {
			rec.Path = name + ".mp4"
		}
		return rec, nil
	})
}
