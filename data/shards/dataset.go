package shards

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ErrNotFound is returned by Get for an id the dataset does not hold.
var ErrNotFound = errors.New("id not in dataset")

// Dataset is an opened, hash-verified dataset directory. Shards are mapped
// one at a time when read; the dataset itself holds only the manifest and,
// after the first Get, an id index.
type Dataset struct {
	dir string
	man Manifest

	indexOnce sync.Once
	index     map[string]rowLoc
	indexErr  error
}

type rowLoc struct{ shard, batch, row int32 }

// Open reads manifest.json and checks every shard's sha256 (in parallel);
// the error names the shard and both hashes, or the missing file.
func Open(dir string) (*Dataset, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("shards: %w", err)
	}
	errs := make([]error, len(m.Shards))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(m.Shards), 4) {
		wg.Go(func() {
			for i := range work {
				errs[i] = checkShardFile(dir, m.Shards[i])
			}
		})
	}
	for i := range m.Shards {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("shards: %s: %w", dir, err)
	}
	return &Dataset{dir: dir, man: m}, nil
}

// Len is the number of records.
func (d *Dataset) Len() int { return d.man.TotalRows }

// Manifest returns the dataset's manifest.
func (d *Dataset) Manifest() Manifest { return d.man }

// FrameSize is the side S of the stored frames and patches.
func (d *Dataset) FrameSize() int { return d.man.FrameSize }

// Dir is the dataset directory.
func (d *Dataset) Dir() string { return d.dir }

func (d *Dataset) openShard(i int) (*shardFile, error) {
	return openShardFile(filepath.Join(d.dir, d.man.Shards[i].Name), d.man.FrameSize)
}

// scanShard calls fn for each record batch of shard i, then checks the row
// count against the manifest. fn must not keep c past its return.
func (d *Dataset) scanShard(i int, fn func(batch int, c *cols, rows int) error) error {
	sf, err := d.openShard(i)
	if err != nil {
		return err
	}
	defer sf.close()
	rows := 0
	for b := range sf.numBatches() {
		rec, err := sf.batch(b)
		if err != nil {
			return err
		}
		c := columns(rec)
		err = fn(b, &c, int(rec.NumRows()))
		rows += int(rec.NumRows())
		rec.Release()
		if err != nil {
			return err
		}
	}
	if want := d.man.Shards[i].Rows; rows != want {
		return fmt.Errorf("shard %s: %d rows, manifest says %d", d.man.Shards[i].Name, rows, want)
	}
	return nil
}

func (d *Dataset) buildIndex() (map[string]rowLoc, error) {
	idx := make(map[string]rowLoc, d.man.TotalRows)
	for s := range d.man.Shards {
		err := d.scanShard(s, func(b int, c *cols, n int) error {
			for r := range n {
				id := strings.Clone(c.id.Value(r))
				if prev, dup := idx[id]; dup {
					return fmt.Errorf("id %q in %s and %s", id, d.man.Shards[prev.shard].Name, d.man.Shards[s].Name)
				}
				idx[id] = rowLoc{int32(s), int32(b), int32(r)}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return idx, nil
}

func (d *Dataset) ensureIndex() error {
	d.indexOnce.Do(func() { d.index, d.indexErr = d.buildIndex() })
	if d.indexErr != nil {
		return fmt.Errorf("shards: index: %w", d.indexErr)
	}
	return nil
}

// Has reports whether id is in the dataset (building the id index on first use).
func (d *Dataset) Has(id string) (bool, error) {
	if err := d.ensureIndex(); err != nil {
		return false, err
	}
	_, ok := d.index[id]
	return ok, nil
}

// Get returns the record with this id, reading only its batch. The first
// call builds an id index by scanning the id column of every shard.
func (d *Dataset) Get(id string) (Record, error) {
	if err := d.ensureIndex(); err != nil {
		return Record{}, err
	}
	loc, ok := d.index[id]
	if !ok {
		return Record{}, fmt.Errorf("shards: %q: %w", id, ErrNotFound)
	}
	sf, err := d.openShard(int(loc.shard))
	if err != nil {
		return Record{}, fmt.Errorf("shards: %w", err)
	}
	defer sf.close()
	rec, err := sf.batch(int(loc.batch))
	if err != nil {
		return Record{}, fmt.Errorf("shards: %w", err)
	}
	defer rec.Release()
	c := columns(rec)
	return c.record(int(loc.row)), nil
}

// PairCandidates lists every record's pairing fields (id, source, crf,
// mos_norm), in storage order, for BuildPairs.
func (d *Dataset) PairCandidates() ([]PairCandidate, error) {
	out := make([]PairCandidate, 0, d.man.TotalRows)
	for s := range d.man.Shards {
		err := d.scanShard(s, func(_ int, c *cols, n int) error {
			for r := range n {
				out = append(out, PairCandidate{
					ID:       strings.Clone(c.id.Value(r)),
					SourceID: strings.Clone(c.sourceID.Value(r)),
					CRF:      c.crfAt(r),
					MOSNorm:  c.mosNorm.Value(r),
				})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("shards: %w", err)
		}
	}
	return out, nil
}
