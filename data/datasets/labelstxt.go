package datasets

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// LabelsTxtFile is the default labels-txt file under Root.
const LabelsTxtFile = "labels.txt"

// labelsTxt loads FAST-VQA / DOVER label files: one video per line,
// "path, duration, fps, mos" (duration and fps may be -1 and are not kept),
// no header. Video path: Root/<path>; the id is path without extension. The
// split is "all".
//
// MOS scale: Options.MOSMin/MOSMax when set; otherwise inferred from the
// values, 1-5 when all lie in [1, 5] and 0-100 when all lie in [0, 100] and
// some exceed 5. Anything else (e.g. values below 1 but none above 5) is
// ambiguous and an error asking for the override. The scale used is recorded
// in every Record's MOSMin/MOSMax.
func init() {
	Register(spec{name: "labels-txt", file: LabelsTxtFile, parsers: map[string]parser{"": parseLabelsTxt},
		mosField: "mos", splits: []string{SplitAll}, inferFn: inferScale})
}

func parseLabelsTxt(r io.Reader, file string) ([]Record, error) {
	return textRecords(r, file, func(text string, line int) (Record, error) {
		f := strings.Split(text, ",")
		if len(f) != 4 {
			return Record{}, rowErr(file, line, "", "%d comma-separated fields, want 4 (path, duration, fps, mos)", len(f))
		}
		path := strings.TrimSpace(f[0])
		if path == "" {
			return Record{}, rowErr(file, line, "path", "empty")
		}
		mos, err := parseNum(file, line, "mos", f[3])
		if err != nil {
			return Record{}, err
		}
		return Record{ID: stripExt(path), Path: path, MOS: mos, Split: SplitAll, Line: line}, nil
	})
}

func inferScale(recs []Record) (lo, hi float64, err error) {
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, r := range recs {
		mn, mx = math.Min(mn, r.MOS), math.Max(mx, r.MOS)
	}
	switch {
	case mn >= 1 && mx <= 5:
		return 1, 5, nil
	case mn >= 0 && mx > 5 && mx <= 100:
		return 0, 100, nil
	}
	return 0, 0, fmt.Errorf("%w: cannot infer it from values in [%g, %g] (neither 1-5 nor 0-100); give the scale explicitly", ErrScale, mn, mx)
}
