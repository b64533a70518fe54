package datasets

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
)

// ManifestFile is the default manifest under Root.
const ManifestFile = "manifest.csv"

// manifest loads our own list of videos and images (an image is a one-frame
// video, see video.ImageExts), as CSV with header id,path,mos[,split]
// (no other columns) or, for .jsonl/.ndjson files, one JSON object per line:
// {"id": "...", "path": "...", "mos": 3.2, "split": "test"}. Relative paths
// are relative to the manifest's directory. An empty mos cell, or a null or
// absent "mos", marks an unlabeled video: MOS is NaN and HasMOS is false.
// Rows without split get "all". Optional source_id and crf columns/fields
// tie derived clips (CRF-ladder levels, distortions) to their pristine source. MOS scale 1-5 unless Options overrides it.
func init() {
	Register(spec{name: "manifest", file: ManifestFile,
		parsers:  map[string]parser{".jsonl": parseManifestJSONL, ".ndjson": parseManifestJSONL, "": parseManifestCSV},
		mosField: "mos", lo: 1, hi: 5, labelDirBase: true})
}

func manifestRecord(id, path, split string, mos float64, line int) Record {
	if split == "" {
		split = SplitAll
	}
	return Record{ID: id, Path: path, MOS: mos, Split: split, Line: line}
}

func parseManifestCSV(r io.Reader, file string) ([]Record, error) {
	t, err := readTable(r, file)
	if err != nil {
		return nil, err
	}
	for _, h := range t.header {
		if !contains([]string{"id", "path", "mos", "split", "source_id", "crf"}, strings.ToLower(h)) {
			return nil, rowErr(file, 1, h, "unknown column (want id,path,mos[,split][,source_id][,crf])")
		}
	}
	var idx [3]int
	for i, c := range []string{"id", "path", "mos"} {
		if idx[i], err = t.need(c); err != nil {
			return nil, err
		}
	}
	iSplit, iSource, iCRF := t.col("split"), t.col("source_id"), t.col("crf")
	return t.records(func(row []string, line int) (Record, error) {
		mos := math.NaN()
		if s := cell(row, idx[2]); s != "" {
			var err error
			if mos, err = parseNum(file, line, "mos", s); err != nil {
				return Record{}, err
			}
		}
		r := manifestRecord(cell(row, idx[0]), cell(row, idx[1]), cell(row, iSplit), mos, line)
		r.SourceID = cell(row, iSource)
		if c := cell(row, iCRF); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 || n > 63 {
				return Record{}, rowErr(file, line, "crf", "%q is not a CRF (integer 0..63)", c)
			}
			r.CRF = &n
		}
		return r, nil
	})
}

type manifestLine struct {
	ID    string          `json:"id"`
	Path  string          `json:"path"`
	MOS   json.RawMessage `json:"mos"`
	Split string          `json:"split"`
	// Optional: the pristine source a derived clip (e.g. a CRF-ladder level) comes from.
	SourceID string `json:"source_id"`
	CRF      *int   `json:"crf"`
}

func parseManifestJSONL(r io.Reader, file string) ([]Record, error) {
	return textRecords(r, file, func(line string, n int) (Record, error) {
		text := []byte(strings.TrimSpace(line))
		if text[0] != '{' {
			return Record{}, rowErr(file, n, "", "not a JSON object")
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		var m manifestLine
		if err := dec.Decode(&m); err != nil {
			return Record{}, rowErr(file, n, "", "invalid JSON object: %v", err)
		}
		if len(bytes.TrimSpace(text[dec.InputOffset():])) > 0 {
			return Record{}, rowErr(file, n, "", "more than one JSON value on the line")
		}
		mos := math.NaN()
		if raw := strings.TrimSpace(string(m.MOS)); raw != "" && raw != "null" {
			if raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw == "true" || raw == "false" {
				return Record{}, rowErr(file, n, "mos", "%s is not a number", raw)
			}
			var err error
			if mos, err = parseNum(file, n, "mos", raw); err != nil {
				return Record{}, err
			}
		}
		r := manifestRecord(strings.TrimSpace(m.ID), strings.TrimSpace(m.Path), strings.TrimSpace(m.Split), mos, n)
		r.SourceID, r.CRF = strings.TrimSpace(m.SourceID), m.CRF
		if r.CRF != nil && (*r.CRF < 0 || *r.CRF > 63) {
			return Record{}, rowErr(file, n, "crf", "%d is not a CRF (0..63)", *r.CRF)
		}
		return r, nil
	})
}
