package describe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// LoadJSONL reads user-provided descriptions, one JSON object per line:
// {"id": "...", "text": "..."} (other fields are ignored, blank lines
// skipped). It returns text by id; a malformed line, a missing id, an empty
// text or a repeated id is an error naming file:line.
func LoadJSONL(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readJSONL(path, f)
}

func readJSONL(path string, r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	first := map[string]int{}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			return out, nil
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var rec struct {
			ID   *string `json:"id"`
			Text *string `json:"text"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON object with id and text: %v", path, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one JSON value on the line", path, n)
		}
		switch {
		case rec.ID == nil || *rec.ID == "":
			return nil, fmt.Errorf("%s:%d: missing or empty \"id\"", path, n)
		case rec.Text == nil || strings.TrimSpace(*rec.Text) == "":
			return nil, fmt.Errorf("%s:%d: id %q has an empty \"text\"", path, n, *rec.ID)
		}
		if prev, dup := first[*rec.ID]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate id %q (first on line %d)", path, n, *rec.ID, prev)
		}
		first[*rec.ID] = n
		out[*rec.ID] = *rec.Text
	}
}
