package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// ReadIDs reads an id list: one id per line; blank lines and lines starting
// with '#' are skipped, a UTF-8 BOM and surrounding spaces are dropped. A
// repeated id is an error naming both lines.
func ReadIDs(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("id list: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var ids []string
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s:%d: id %q repeats line %d", path, line, id, prev)
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no ids", path)
	}
	return ids, nil
}

// SelectIDs keeps the records whose ID is listed in the id file at path, in
// the records' order. An id the records do not hold is an error naming its
// line: a split file that does not match its label file is a mistake, not a
// partial download (missing video files are Verify's business).
func SelectIDs(recs []Record, path string) ([]Record, error) {
	ids, err := ReadIDs(path)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []Record
	for _, r := range recs {
		if want[r.ID] {
			out = append(out, r)
			delete(want, r.ID)
		}
	}
	if len(want) > 0 {
		for _, id := range ids {
			if want[id] {
				return nil, fmt.Errorf("%s: id %q is not in the dataset's labels (%d of %d ids unknown)", path, id, len(want), len(ids))
			}
		}
	}
	return out, nil
}
