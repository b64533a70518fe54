package datasets

import (
	"io"
	"strconv"
	"strings"
)

// KoNViDMOSFile is the default KoNViD-1k label file under Root.
const KoNViDMOSFile = "KoNViD_1k_mos.csv"

// konvid1k loads KoNViD-1k (Hosu et al.). MOS scale 1-5, no official split
// (records get "all"). Video path: Root/KoNViD_1k_videos/<flickr_id>.mp4.
// Accepted CSV layouts, column names matched ignoring case:
//   - KoNViD_1k_mos.csv: flickr_id,mos
//   - KoNViD_1k_attributes.csv: flickr_id and/or file_name, MOS, optional SD
//     (file_name's leading "<flickr_id>_" gives the id when flickr_id is absent)
//   - VIDEVAL's KONVID_1K_metadata.csv: flickr_id,mos,width,...
//   - headerless flickr_id,mos[,...] rows (cnn-tlvqm's KoNViD_mos_fr.csv),
//     recognized by a numeric first cell.
func init() {
	Register(spec{name: "konvid1k", file: KoNViDMOSFile, parsers: map[string]parser{"": parseKoNViD},
		mosField: "mos", lo: 1, hi: 5, splits: []string{SplitAll},
		presets: []Preset{{Name: "konvid1k", Loader: "konvid1k"}}})
}

func parseKoNViD(r io.Reader, file string) ([]Record, error) {
	t, err := readTable(r, file)
	if err != nil {
		return nil, err
	}
	iID, iName, iMOS, iSD := t.col("flickr_id"), t.col("file_name"), t.col("mos"), t.col("sd", "std")
	if _, err := strconv.ParseUint(t.header[0], 10, 64); err == nil && len(t.header) >= 2 {
		t.unreadHeader()
		iID, iName, iMOS, iSD = 0, -1, 1, -1
	}
	if iID < 0 && iName < 0 {
		_, err := t.need("flickr_id", "file_name")
		return nil, err
	}
	if iMOS < 0 {
		_, err := t.need("mos")
		return nil, err
	}
	return t.records(func(row []string, line int) (Record, error) {
		id := cell(row, iID)
		if iID < 0 { // "8536919744_original_centercrop_960x540_8s.mp4" -> 8536919744
			name := cell(row, iName)
			id, _, _ = strings.Cut(stripExt(name), "_")
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				return Record{}, rowErr(file, line, "file_name", "%q does not start with a flickr id", name)
			}
		}
		mos, err := parseNum(file, line, "mos", row[iMOS])
		if err != nil {
			return Record{}, err
		}
		std, err := parseOptNum(file, line, "SD", cell(row, iSD))
		if err != nil {
			return Record{}, err
		}
		rec := Record{ID: id, MOS: mos, Split: SplitAll, Std: std, Line: line}
		if id != "" {
			rec.Path = "KoNViD_1k_videos/" + id + ".mp4"
		}
		return rec, nil
	})
}
