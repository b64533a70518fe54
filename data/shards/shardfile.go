package shards

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// shardFile is one open (memory-mapped) shard. Records decoded from it copy
// their bytes out, so nothing refers to the mapping after close.
type shardFile struct {
	name  string
	unmap func() error
	r     *ipc.FileReader
	v1    bool // schema version 1: no frame_stats column
}

func openShardFile(path string, frameSize int) (*shardFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	r, err := ipc.NewMappedFileReader(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v1, err := checkSchema(r.Schema(), frameSize)
	if err != nil {
		r.Close()
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &shardFile{name: path, unmap: unmap, r: r, v1: v1}, nil
}

func (s *shardFile) numBatches() int { return s.r.NumRecords() }

// batch decodes record batch i (decompressing it if needed); the caller releases it.
func (s *shardFile) batch(i int) (arrow.RecordBatch, error) {
	rec, err := s.r.RecordBatchAt(i)
	if err != nil {
		return nil, fmt.Errorf("%s: batch %d: %w", s.name, i, err)
	}
	return rec, nil
}

func (s *shardFile) close() error {
	s.r.Close()
	return s.unmap()
}

// cols gives typed access to a record batch's columns.
type cols struct {
	id, dataset, split, sourceID, desc, params *array.String
	crf, m, k, pixW, pixH                      *array.Int32
	mos, mosNorm                               *array.Float64
	context, patches                           *array.Binary
	pos                                        *array.List
	posF, posX, posY                           *array.Int32
	seed                                       *array.Uint64
	fstats                                     *array.List // nil in a version 1 shard
	fstatsV                                    *array.Float64
}

func columns(rec arrow.RecordBatch) cols {
	c := cols{
		id:       rec.Column(colID).(*array.String),
		dataset:  rec.Column(colDataset).(*array.String),
		split:    rec.Column(colSplit).(*array.String),
		sourceID: rec.Column(colSourceID).(*array.String),
		crf:      rec.Column(colCRF).(*array.Int32),
		mos:      rec.Column(colMOS).(*array.Float64),
		mosNorm:  rec.Column(colMOSNorm).(*array.Float64),
		m:        rec.Column(colM).(*array.Int32),
		context:  rec.Column(colContext).(*array.Binary),
		k:        rec.Column(colK).(*array.Int32),
		patches:  rec.Column(colPatches).(*array.Binary),
		pos:      rec.Column(colPatchPos).(*array.List),
		pixW:     rec.Column(colPixelW).(*array.Int32),
		pixH:     rec.Column(colPixelH).(*array.Int32),
		desc:     rec.Column(colDescription).(*array.String),
		seed:     rec.Column(colSamplerSeed).(*array.Uint64),
		params:   rec.Column(colSamplerParams).(*array.String),
	}
	st := c.pos.ListValues().(*array.Struct)
	c.posF = st.Field(0).(*array.Int32)
	c.posX = st.Field(1).(*array.Int32)
	c.posY = st.Field(2).(*array.Int32)
	if rec.NumCols() > colFrameStats {
		c.fstats = rec.Column(colFrameStats).(*array.List)
		c.fstatsV = c.fstats.ListValues().(*array.Float64)
	}
	return c
}

// crfAt returns row i's CRF (nil when null).
func (c *cols) crfAt(i int) *int {
	if c.crf.IsNull(i) {
		return nil
	}
	v := int(c.crf.Value(i))
	return &v
}

// view returns row i without copying: its strings and byte slices alias the
// batch (and the mapping), so it must not outlive either.
func (c *cols) view(i int) Record {
	return Record{
		ID:            c.id.Value(i),
		Dataset:       c.dataset.Value(i),
		Split:         c.split.Value(i),
		SourceID:      c.sourceID.Value(i),
		CRF:           c.crfAt(i),
		MOS:           c.mos.Value(i),
		MOSNorm:       c.mosNorm.Value(i),
		Context:       c.context.Value(i),
		M:             int(c.m.Value(i)),
		Patches:       c.patches.Value(i),
		K:             int(c.k.Value(i)),
		PatchPos:      c.positions(i),
		PixelW:        int(c.pixW.Value(i)),
		PixelH:        int(c.pixH.Value(i)),
		Description:   c.desc.Value(i),
		SamplerSeed:   c.seed.Value(i),
		SamplerParams: c.params.Value(i),
		FrameStats:    c.frameStats(i),
	}
}

// record copies row i out of the batch.
func (c *cols) record(i int) Record {
	r := c.view(i)
	for _, s := range []*string{&r.ID, &r.Dataset, &r.Split, &r.SourceID, &r.Description, &r.SamplerParams} {
		*s = strings.Clone(*s)
	}
	r.Context = bytes.Clone(r.Context)
	r.Patches = bytes.Clone(r.Patches)
	return r
}

// frameStats copies row i's frame statistics (nil when it has none).
func (c *cols) frameStats(i int) []float64 {
	if c.fstats == nil || c.fstats.IsNull(i) {
		return nil
	}
	start, end := c.fstats.ValueOffsets(i)
	if start == end {
		return nil
	}
	return append([]float64(nil), c.fstatsV.Float64Values()[start:end]...)
}

func (c *cols) positions(i int) []PatchPos {
	if c.pos.IsNull(i) {
		return nil
	}
	start, end := c.pos.ValueOffsets(i)
	out := make([]PatchPos, 0, end-start)
	for j := int(start); j < int(end); j++ {
		out = append(out, PatchPos{Frame: int(c.posF.Value(j)), X: int(c.posX.Value(j)), Y: int(c.posY.Value(j))})
	}
	return out
}
