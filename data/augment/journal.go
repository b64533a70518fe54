package augment

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// Row is one finished ladder output, a line of ladder.jsonl.
type Row struct {
	SourceID      string  `json:"source_id"`
	SourcePath    string  `json:"source_path"`
	CRF           int     `json:"crf"`
	EffectiveCRF  float64 `json:"effective_crf"` // what x264 used: 8-bit x264 clamps CRF > 51 to 51
	Output        string  `json:"output"`
	Bytes         int64   `json:"bytes"`
	Bitrate       float64 `json:"bitrate"` // b/s over the clip's duration
	Frames        int     `json:"frames"`
	Duration      float64 `json:"duration_s"`     // length of the output, to the end of its last frame
	EncodeSeconds float64 `json:"encode_seconds"` // wall time of the shared decode + this encode
	Preset        string  `json:"preset"`
	X264          string  `json:"x264"` // the encoder's settings string from its SEI
	Recovered     bool    `json:"recovered,omitempty"`
}

// Failure is a source that could not be processed, a line of failures.jsonl.
type Failure struct {
	SourceID   string `json:"source_id"`
	SourcePath string `json:"source_path"`
	Error      string `json:"error"`
	Time       string `json:"time"`
}

type key struct {
	id  string
	crf int
}

// journal is an append-only JSONL file whose readers tolerate a torn last
// line (a crash mid-append) and rewrite it away.
type journal struct {
	mu   sync.Mutex
	path string
}

// readJSONL reads a journal, tolerating a torn last line.
var readJSONL = fsutil.ReadJSONL

func (j *journal) append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return fsutil.AppendSync(j.path, append(b, '\n'))
}

// loadRows reads ladder.jsonl; later rows for the same (source, crf) win.
func loadRows(path string) (map[key]Row, error) {
	rows := map[key]Row{}
	err := readJSONL(path, func(b []byte) error {
		var r Row
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		rows[key{r.SourceID, r.CRF}] = r
		return nil
	})
	return rows, err
}

// resetFailures drops old failures of the sources about to be retried.
func resetFailures(path string, retry map[string]bool) error {
	var keep bytes.Buffer
	err := readJSONL(path, func(b []byte) error {
		var f Failure
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		if !retry[f.SourceID] {
			keep.Write(b)
			keep.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, statErr := os.Stat(path); statErr != nil {
		return nil
	}
	return fsutil.WriteFileAtomic(path, keep.Bytes(), 0o644)
}

// ReadRows returns the outputs recorded in dir's ladder.jsonl, in file order
// with later rows for the same (source, crf) replacing earlier ones.
func ReadRows(dir string) ([]Row, error) {
	var out []Row
	at := map[key]int{}
	err := readJSONL(filepath.Join(dir, rowsFile), func(b []byte) error {
		var r Row
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if i, ok := at[key{r.SourceID, r.CRF}]; ok {
			out[i] = r
			return nil
		}
		at[key{r.SourceID, r.CRF}] = len(out)
		out = append(out, r)
		return nil
	})
	return out, err
}
