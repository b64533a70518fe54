package datasets

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cpllm/cpllm/data/datasets/matv5"
)

// CLIVE release files under Root, and the variable each one holds.
const (
	CLIVEImagesFile = "Data/AllImages_release.mat" // AllImages_release: 1169x1 cell of file names
	CLIVEMOSFile    = "AllMOS_release.mat"         // AllMOS_release: 1x1169 MOS, beside the names file
	CLIVEStdFile    = "AllStdDev_release.mat"      // AllStdDev_release: 1x1169 standard deviations (optional)
)

// clive loads the LIVE In the Wild Image Quality Challenge database
// (Ghadiyaram & Bovik): 1169 images (1162 of the study and the 7 shown to
// raters for training, t1.bmp..t7.bmp) with MOS on 0-100, no official split
// ("all"). The label file is the release's AllImages_release.mat; the MOS
// vector is read from AllMOS_release.mat in the same directory, in the same
// order, and the standard deviations from AllStdDev_release.mat when that
// file is there. Image path: Root/Images/<name>, the training images
// Root/Images/trainingImages/<name>; the id is the name without extension
// ("1000" for 1000.JPG). Record.Line is the 1-based entry index.
func init() {
	Register(spec{name: "clive", file: CLIVEImagesFile,
		parsers:  map[string]parser{"": parseCLIVE},
		mosField: "AllMOS_release", lo: 0, hi: 100, splits: []string{SplitAll},
		presets: []Preset{{Name: "clive", Loader: "clive"}}})
}

// cliveTraining matches the names of the 7 rater-training images.
var cliveTraining = regexp.MustCompile(`(?i)^t[0-9]+\.bmp$`)

func parseCLIVE(r io.Reader, file string) ([]Record, error) {
	names, err := readMatVar(r, file, "AllImages_release", (*matv5.Var).Strings)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	mosFile := filepath.Join(dir, CLIVEMOSFile)
	f, err := openLabels(mosFile)
	if err != nil {
		return nil, fmt.Errorf("%s: the MOS vector: %w", file, err)
	}
	defer f.Close()
	mos, err := readMatVar(f, mosFile, "AllMOS_release", (*matv5.Var).Float64s)
	if err != nil {
		return nil, err
	}
	if len(mos) != len(names) {
		return nil, fmt.Errorf("%s has %d entries but %s has %d", file, len(names), mosFile, len(mos))
	}
	std, err := readCLIVEStd(filepath.Join(dir, CLIVEStdFile), len(names))
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(names))
	for i, name := range names {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, `/\`) {
			return nil, rowErr(file, i+1, "AllImages_release", "%q is not a file name", name)
		}
		if math.IsNaN(mos[i]) || math.IsInf(mos[i], 0) {
			return nil, rowErr(mosFile, i+1, "AllMOS_release", "%v is not a finite number", mos[i])
		}
		path := "Images/" + name
		if cliveTraining.MatchString(name) {
			path = "Images/trainingImages/" + name
		}
		recs[i] = Record{ID: stripExt(name), Path: path, MOS: mos[i], Split: SplitAll, Line: i + 1}
		if std != nil {
			s := std[i]
			recs[i].Std = &s
		}
	}
	return recs, nil
}

// readCLIVEStd reads the standard deviations, or nil when the file is absent.
func readCLIVEStd(path string, n int) ([]float64, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("label file: %w", err)
	}
	defer f.Close()
	std, err := readMatVar(f, path, "AllStdDev_release", (*matv5.Var).Float64s)
	if err != nil {
		return nil, err
	}
	if len(std) != n {
		return nil, fmt.Errorf("%s has %d entries, the image list %d", path, len(std), n)
	}
	for i, s := range std {
		if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			return nil, rowErr(path, i+1, "AllStdDev_release", "%v is not a standard deviation", s)
		}
	}
	return std, nil
}

// readMatVar reads a MAT v5 file and returns one variable through get; errors
// name the file.
func readMatVar[T any](r io.Reader, file, name string, get func(*matv5.Var) (T, error)) (T, error) {
	var zero T
	m, err := matv5.Read(r)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	v, err := m.Var(name)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	x, err := get(v)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	return x, nil
}
