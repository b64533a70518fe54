package shards

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// journalEntry is one line of shards.jsonl: a completed shard (renamed into
// place before the line is appended) or a failure reported by the caller.
type journalEntry struct {
	Kind      string     `json:"kind"` // "shard" or "failure"
	Shard     *ShardInfo `json:"shard,omitempty"`
	FrameSize int        `json:"frame_size,omitempty"`
	IDs       []string   `json:"ids,omitempty"`
	Failure   *Failure   `json:"failure,omitempty"`
}

// readJournal returns the complete lines of the journal. Appends are single
// fsynced writes ending in '\n', so a crash leaves at most a torn last line:
// it is dropped and the file rewritten without it.
func readJournal(path string) ([]journalEntry, error) {
	var out []journalEntry
	err := fsutil.ReadJSONL(path, func(line []byte) error {
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		switch {
		case e.Kind == "shard" && e.Shard != nil:
		case e.Kind == "failure" && e.Failure != nil:
		default:
			return errors.New("unknown entry")
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func appendJournal(path string, e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return fsutil.AppendSync(path, append(b, '\n'))
}

func shardName(i int) string { return fmt.Sprintf("shard-%05d.arrow", i) }

// shardIndex parses shard-NNNNN.arrow; ok is false for other names.
func shardIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "shard-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".arrow")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// isTemp matches the writer's and fsutil's temp names (".name.tmp*").
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp")
}

// cleanDir removes temp files and shard files the journal does not list (a
// crash between rename and journal append); their ids are rewritten.
func cleanDir(dir string, listed map[string]bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range ents {
		name := e.Name()
		_, isShard := shardIndex(name)
		if isTemp(name) || (isShard && !listed[name]) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return fsutil.SyncDir(dir)
	}
	return nil
}
