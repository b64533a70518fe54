package baseline

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// Cache is features.jsonl: one ClipFeatures per line, appended and synced as
// each clip finishes (fsutil's journal), so a rerun reuses them and a crash
// resumes. An entry is reused only while its file (path, size, mtime), frame
// count and FeatureVersion are unchanged.
type Cache struct {
	mu      sync.Mutex
	path    string
	entries map[string]ClipFeatures
}

// OpenCache reads path (absent is empty). A torn last line, what a crash
// mid-write leaves, is dropped; a malformed complete line is an error
// naming file and line.
func OpenCache(path string) (*Cache, error) {
	c := &Cache{path: path, entries: map[string]ClipFeatures{}}
	err := fsutil.ReadJSONL(path, func(line []byte) error {
		var cf ClipFeatures
		if err := json.Unmarshal(line, &cf); err != nil {
			return fmt.Errorf("not a features record: %w", err)
		}
		if cf.ID == "" {
			return fmt.Errorf("features record without an id")
		}
		c.entries[cf.ID] = cf // a later line for an id supersedes an earlier one
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns the cached features of id when still valid for path and
// frames, with the pretrained features of extractor deep ("": none).
func (c *Cache) Get(id, path string, frames int, deep string) (ClipFeatures, bool) {
	c.mu.Lock()
	cf, ok := c.entries[id]
	c.mu.Unlock()
	if !ok || cf.Version != FeatureVersion || cf.Path != path || cf.Frames != frames || cf.Deep != deep {
		return ClipFeatures{}, false
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != cf.SizeBytes || st.ModTime().UnixNano() != cf.ModTimeNS {
		return ClipFeatures{}, false
	}
	return cf, true
}

// Put appends cf as one synced line.
func (c *Cache) Put(cf ClipFeatures) error {
	b, err := json.Marshal(cf)
	if err != nil {
		return fmt.Errorf("%s: id %q: %w", c.path, cf.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := fsutil.AppendSync(c.path, append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	c.entries[cf.ID] = cf
	return nil
}

// Len is the number of cached clips.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
