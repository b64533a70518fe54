package shards

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// File names inside a dataset directory.
const (
	ManifestName = "manifest.json"
	JournalName  = "shards.jsonl"
	PairsName    = "pairs.jsonl"
)

// ShardInfo describes one complete shard file.
type ShardInfo struct {
	Name        string `json:"name"`
	Rows        int    `json:"rows"`
	Bytes       int64  `json:"bytes"`
	SHA256      string `json:"sha256"`
	Compression string `json:"compression"`
}

// Failure is an item the caller could not turn into a record.
type Failure struct {
	ID    string `json:"id"`
	Path  string `json:"path"`
	Error string `json:"error"`
	// Missing: the file did not exist (data shards --allow-missing lists such
	// records without failing); eval reports them as missing, not failed.
	Missing bool `json:"missing,omitempty"`
}

// Manifest is manifest.json, the dataset's table of contents. Readers trust
// only the shards it lists.
type Manifest struct {
	SchemaVersion int             `json:"schema_version"`
	FrameSize     int             `json:"frame_size"`
	MaxRows       int             `json:"max_rows_per_shard,omitempty"`
	MaxBytes      int64           `json:"max_bytes_per_shard,omitempty"`
	Shards        []ShardInfo     `json:"shards"`
	TotalRows     int             `json:"total_rows"`
	SourceDataset string          `json:"source_dataset,omitempty"`
	Seed          uint64          `json:"seed"`
	SamplerParams json.RawMessage `json:"sampler_params,omitempty"`
	Failures      []Failure       `json:"failures"`
	Created       time.Time       `json:"created"`
}

// ReadManifest loads and sanity-checks dir/manifest.json.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, jerr := os.Stat(filepath.Join(dir, JournalName)); jerr == nil {
			return m, fmt.Errorf("%s: missing (the writer was not closed; rerun with Resume)", path)
		}
		return m, fmt.Errorf("%s: missing", path)
	}
	if err != nil {
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	if m.SchemaVersion != SchemaVersion && m.SchemaVersion != 1 { // version 1: before frame_stats, still read
		return m, fmt.Errorf("%s: schema version %d, this build reads 1 to %d", path, m.SchemaVersion, SchemaVersion)
	}
	if m.FrameSize <= 0 {
		return m, fmt.Errorf("%s: frame size %d", path, m.FrameSize)
	}
	total := 0
	seen := map[string]bool{}
	for _, s := range m.Shards {
		if s.Name != filepath.Base(s.Name) || s.Name == "" || seen[s.Name] {
			return m, fmt.Errorf("%s: bad or duplicate shard name %q", path, s.Name)
		}
		seen[s.Name] = true
		total += s.Rows
	}
	if total != m.TotalRows {
		return m, fmt.Errorf("%s: shards hold %d rows, total_rows says %d", path, total, m.TotalRows)
	}
	return m, nil
}

func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestName), append(data, '\n'), 0o644)
}

// fileSHA256 streams a file through sha256.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkShardFile verifies a shard against its recorded size and hash; the
// error names the shard and both hashes.
func checkShardFile(dir string, s ShardInfo) error {
	path := filepath.Join(dir, s.Name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("shard %s: file missing (%s)", s.Name, path)
	}
	sum, n, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("shard %s: %w", s.Name, err)
	}
	if sum != s.SHA256 {
		return fmt.Errorf("shard %s: sha256 mismatch: manifest %s, file %s", s.Name, s.SHA256, sum)
	}
	if s.Bytes != 0 && n != s.Bytes {
		return fmt.Errorf("shard %s: %d bytes, manifest says %d", s.Name, n, s.Bytes)
	}
	return nil
}

// HasFrameStats reports whether the shards were made with whole-frame
// statistics (shards.frame_stats: the sampler parameters say so), so that a
// record without them had only flat frames rather than none measured.
func (m Manifest) HasFrameStats() bool {
	var p struct {
		FrameStats bool `json:"frame_stats"`
	}
	return len(m.SamplerParams) > 0 && json.Unmarshal(m.SamplerParams, &p) == nil && p.FrameStats
}

// FrameDeep names the pretrained features the shards' records carry after
// their whole-frame statistics (shards.frame_deep), or "".
func (m Manifest) FrameDeep() string {
	var p struct {
		FrameDeep string `json:"frame_deep"`
	}
	if len(m.SamplerParams) == 0 || json.Unmarshal(m.SamplerParams, &p) != nil {
		return ""
	}
	return p.FrameDeep
}
