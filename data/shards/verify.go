package shards

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Report summarizes Verify. Problems is empty for a valid dataset.
type Report struct {
	Dir      string
	Shards   int
	Rows     int
	Bytes    int64
	Failures int // items the writer's caller reported as failed
	Pairs    int // lines of pairs.jsonl, 0 when absent
	Problems []string
}

// Verify checks a dataset offline: manifest, every shard's sha256 and size,
// schema and frame size, row counts, id uniqueness, each row's column
// lengths (Record.Validate), stray temp or unlisted shard files, and that
// pairs.jsonl (when present) names existing ids. The error, non-nil when
// anything is wrong, lists the first problems.
func Verify(dir string) (Report, error) {
	rep := Report{Dir: dir}
	m, err := ReadManifest(dir)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, rep.err()
	}
	rep.Shards, rep.Failures = len(m.Shards), len(m.Failures)
	d := &Dataset{dir: dir, man: m}
	ids := make(map[string]string, m.TotalRows) // id -> shard
	listed := map[string]bool{}
	for i, s := range m.Shards {
		listed[s.Name] = true
		if err := checkShardFile(dir, s); err != nil {
			rep.Problems = append(rep.Problems, err.Error())
			continue
		}
		rep.Bytes += s.Bytes
		err := d.scanShard(i, func(_ int, c *cols, n int) error {
			for r := range n {
				v := c.view(r)
				if err := v.Validate(m.FrameSize); err != nil {
					rep.Problems = append(rep.Problems, fmt.Sprintf("shard %s row %d: %v", s.Name, rep.Rows, err))
				}
				if prev, dup := ids[v.ID]; dup {
					rep.Problems = append(rep.Problems, fmt.Sprintf("id %q in %s and %s", v.ID, prev, s.Name))
				} else {
					ids[strings.Clone(v.ID)] = s.Name
				}
				rep.Rows++
			}
			return nil
		})
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
		}
	}
	if rep.Rows != m.TotalRows && len(rep.Problems) == 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("read %d rows, manifest says %d", rep.Rows, m.TotalRows))
	}
	rep.checkStray(dir, listed)
	rep.checkPairs(filepath.Join(dir, PairsName), ids)
	return rep, rep.err()
}

func (rep *Report) checkStray(dir string, listed map[string]bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return
	}
	for _, e := range ents {
		if _, isShard := shardIndex(e.Name()); isTemp(e.Name()) || (isShard && !listed[e.Name()]) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("stray file %s (temp or not in the manifest)", e.Name()))
		}
	}
}

func (rep *Report) checkPairs(path string, ids map[string]string) {
	pairs, err := ReadPairs(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return
	}
	rep.Pairs = len(pairs)
	for i, p := range pairs {
		for _, id := range []string{p.A, p.B} {
			if _, ok := ids[id]; !ok {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: pair %d: unknown id %q", path, i+1, id))
			}
		}
	}
}

func (rep *Report) err() error {
	if len(rep.Problems) == 0 {
		return nil
	}
	const show = 10
	msg := strings.Join(rep.Problems[:min(show, len(rep.Problems))], "; ")
	if n := len(rep.Problems) - show; n > 0 {
		msg += fmt.Sprintf("; and %d more", n)
	}
	return fmt.Errorf("shards: verify %s: %s", rep.Dir, msg)
}
