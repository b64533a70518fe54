package shards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// MergeOptions are the pairing rules of the build that produced the parts
// (`data shards`: shards.pair_margin and shards.max_cross); the pair seed is
// the parts' manifest seed.
type MergeOptions struct {
	PairMargin float64
	MaxCross   int
}

// Merge combines dataset directories written for disjoint partitions of one
// input (`data shards --shard i/N`) into dst: each part's shard files are
// hard-linked (or copied) under new sequential names, the manifests are
// combined (shard hashes are unchanged), and pairs.jsonl is rebuilt over all
// records with the rule data/prep uses (per split, seed ^ FNV-1a(split)), so
// it equals the pairs of a single build of the whole input. Parts must share
// frame size, seed and sampler parameters and hold disjoint ids. dst must not
// hold a dataset; leftovers of an interrupted merge are removed.
func Merge(dst string, srcs []string, o MergeOptions) (Manifest, int, error) {
	if len(srcs) == 0 {
		return Manifest{}, 0, errors.New("shards: merge: no input directories")
	}
	if _, err := os.Stat(filepath.Join(dst, ManifestName)); err == nil {
		return Manifest{}, 0, fmt.Errorf("shards: merge: %s already holds a dataset", dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return Manifest{}, 0, err
	}
	if err := cleanDir(dst, nil); err != nil {
		return Manifest{}, 0, err
	}
	var out Manifest
	seen := map[string]string{} // id -> part
	bySplit := map[string][]PairCandidate{}
	for p, src := range srcs {
		d, err := Open(src)
		if err != nil {
			return Manifest{}, 0, err
		}
		m := d.Manifest()
		if p == 0 {
			out = Manifest{SchemaVersion: m.SchemaVersion, FrameSize: m.FrameSize, MaxRows: m.MaxRows, MaxBytes: m.MaxBytes,
				SourceDataset: m.SourceDataset, Seed: m.Seed, SamplerParams: m.SamplerParams, Shards: []ShardInfo{}, Failures: []Failure{}}
		} else if err := compatible(out, m); err != nil {
			return Manifest{}, 0, fmt.Errorf("shards: merge: %s vs %s: %w", srcs[0], src, err)
		}
		if out.SourceDataset == "" {
			out.SourceDataset = m.SourceDataset
		}
		if m.Created.After(out.Created) {
			out.Created = m.Created // the newest part: deterministic, unlike the merge time
		}
		out.Failures = append(out.Failures, m.Failures...)
		keys, err := d.pairKeys()
		if err != nil {
			return Manifest{}, 0, err
		}
		for _, k := range keys {
			if prev, dup := seen[k.ID]; dup {
				return Manifest{}, 0, fmt.Errorf("shards: merge: id %q in %s and %s (parts must be disjoint)", k.ID, prev, src)
			}
			seen[k.ID] = src
			bySplit[k.split] = append(bySplit[k.split], k.PairCandidate)
		}
		for _, s := range m.Shards {
			info := s
			info.Name = shardName(len(out.Shards))
			if err := linkOrCopy(filepath.Join(src, s.Name), dst, info.Name); err != nil {
				return Manifest{}, 0, err
			}
			out.Shards = append(out.Shards, info)
			out.TotalRows += s.Rows
		}
	}
	if err := fsutil.SyncDir(dst); err != nil {
		return Manifest{}, 0, err
	}
	splits := make([]string, 0, len(bySplit))
	for s := range bySplit {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	var pairs []Pair
	for _, s := range splits {
		h := fnv.New64a()
		h.Write([]byte(s))
		pairs = append(pairs, BuildPairs(bySplit[s], o.PairMargin, o.MaxCross, out.Seed^h.Sum64())...)
	}
	if err := WritePairs(filepath.Join(dst, PairsName), pairs); err != nil {
		return Manifest{}, 0, err
	}
	if err := writeManifest(dst, out); err != nil {
		return Manifest{}, 0, err
	}
	return out, len(pairs), nil
}

// compatible checks that two parts come from the same build settings.
func compatible(a, b Manifest) error {
	switch {
	case a.SchemaVersion != b.SchemaVersion:
		return fmt.Errorf("schema version %d vs %d", a.SchemaVersion, b.SchemaVersion)
	case a.FrameSize != b.FrameSize:
		return fmt.Errorf("frame size %d vs %d", a.FrameSize, b.FrameSize)
	case a.Seed != b.Seed:
		return fmt.Errorf("seed %d vs %d", a.Seed, b.Seed)
	case a.SourceDataset != b.SourceDataset && a.SourceDataset != "" && b.SourceDataset != "": // "" = an empty part
		return fmt.Errorf("source dataset %q vs %q", a.SourceDataset, b.SourceDataset)
	}
	var ca, cb bytes.Buffer
	_ = json.Compact(&ca, a.SamplerParams)
	_ = json.Compact(&cb, b.SamplerParams)
	if !bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return fmt.Errorf("sampler params %s vs %s", ca.String(), cb.String())
	}
	return nil
}

type pairKey struct {
	PairCandidate
	split string
}

// pairKeys lists each record's pairing fields and split, in storage order.
func (d *Dataset) pairKeys() ([]pairKey, error) {
	out := make([]pairKey, 0, d.man.TotalRows)
	for s := range d.man.Shards {
		err := d.scanShard(s, func(_ int, c *cols, n int) error {
			for r := range n {
				out = append(out, pairKey{PairCandidate{ID: strings.Clone(c.id.Value(r)), SourceID: strings.Clone(c.sourceID.Value(r)),
					CRF: c.crfAt(r), MOSNorm: c.mosNorm.Value(r)}, strings.Clone(c.split.Value(r))})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("shards: %s: %w", d.dir, err)
		}
	}
	return out, nil
}

// linkOrCopy places src at dir/name through a temp name (hard link when the
// file system allows, else a fsynced copy) and renames it into place.
func linkOrCopy(src, dir, name string) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return fsutil.Rename(tmp, filepath.Join(dir, name))
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
