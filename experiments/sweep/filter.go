package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/data/shards"
)

// IsLadderItem reports whether a record is a CRF-ladder augmentation item
// (`data shards --ladder`): a CRF is set and it carries no MOS. Labelled
// compressed clips (e.g. the synthetic corpus's own CRF variants) are not.
func IsLadderItem(r *shards.Record) bool {
	return r.CRF != nil && (math.IsNaN(r.MOSNorm) || math.IsInf(r.MOSNorm, 0))
}

// noLadderDir returns a copy of the shard directory src without ladder
// items and without the pairs that name them, building it once under
// root/data/ (named by the source's content, so every cell and machine
// agrees). It is written to a temp dir and renamed: concurrent builders
// race harmlessly.
func noLadderDir(ctx context.Context, root, src string) (string, error) {
	m, err := shards.ReadManifest(src)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range m.Shards {
		h.Write([]byte(s.SHA256))
	}
	dst := filepath.Join(root, "data", "no-ladder-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dst, shards.ManifestName)); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".no-ladder-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := filterShards(ctx, src, tmp, m); err != nil {
		return "", fmt.Errorf("drop_ladder: %s: %w", src, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if _, serr := os.Stat(filepath.Join(dst, shards.ManifestName)); serr == nil {
			return dst, nil // another process finished first
		}
		return "", err
	}
	return dst, nil
}

// filterShards copies src's non-ladder records (storage order) and pairs.
func filterShards(ctx context.Context, src, dst string, m shards.Manifest) error {
	ds, err := shards.Open(src)
	if err != nil {
		return err
	}
	comp := "none"
	if len(m.Shards) > 0 {
		comp = m.Shards[0].Compression
	}
	w, err := shards.NewWriter(dst, shards.WriterOptions{FrameSize: m.FrameSize, MaxRows: m.MaxRows, MaxBytes: m.MaxBytes,
		Compression: comp, Resume: true, SourceDataset: m.SourceDataset, Seed: m.Seed, SamplerParams: m.SamplerParams})
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: 16}) {
		if err != nil {
			return err
		}
		for i := range recs {
			if IsLadderItem(&recs[i]) {
				continue
			}
			kept[recs[i].ID] = true
			if err := w.Write(recs[i]); err != nil {
				return err
			}
		}
	}
	if _, err := w.Close(); err != nil {
		return err
	}
	pairs, err := shards.ReadPairs(filepath.Join(src, shards.PairsName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var out []shards.Pair
	for _, p := range pairs {
		if kept[p.A] && kept[p.B] {
			out = append(out, p)
		}
	}
	return shards.WritePairs(filepath.Join(dst, shards.PairsName), out)
}
