package shards

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// blobColumn assembles a binary column by hand: the frame bytes are copied
// once into a buffer reserved up front and reused across batches, instead of
// growing a builder (which dominated write time).
type blobColumn struct {
	offsets []int32
	data    []byte
}

func (b *blobColumn) add(p []byte, rowsLeft int) error {
	if len(b.data)+len(p) > math.MaxInt32 {
		return fmt.Errorf("binary column would exceed 2 GiB in one batch")
	}
	if len(b.offsets) == 0 {
		b.offsets = append(b.offsets, 0)
	}
	if need := len(b.data) + len(p)*rowsLeft; cap(b.data) < len(b.data)+len(p) {
		grown := make([]byte, len(b.data), min(need, math.MaxInt32))
		copy(grown, b.data)
		b.data = grown
	}
	b.data = append(b.data, p...)
	b.offsets = append(b.offsets, int32(len(b.data)))
	return nil
}

// array wraps the assembled bytes without copying; they must stay untouched
// until the batch is written.
func (b *blobColumn) array(n int) arrow.Array {
	if len(b.offsets) == 0 {
		b.offsets = append(b.offsets, 0)
	}
	off := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets))
	dat := memory.NewBufferBytes(b.data)
	d := array.NewData(arrow.BinaryTypes.Binary, n, []*memory.Buffer{nil, off, dat}, nil, 0, 0)
	defer d.Release()
	return array.NewBinaryData(d)
}

func (b *blobColumn) reset() {
	b.offsets = b.offsets[:0]
	b.data = b.data[:0]
}

// batchBuilder accumulates up to maxRows records into one record batch.
type batchBuilder struct {
	schema  *arrow.Schema
	maxRows int
	n       int
	bytes   int // frame bytes pending

	str                   [6]*array.StringBuilder // id, dataset, split, source_id, description, sampler_params
	crf, m, k, pixW, pixH *array.Int32Builder
	mos, mosNorm          *array.Float64Builder
	seed                  *array.Uint64Builder
	pos                   *array.ListBuilder
	posSt                 *array.StructBuilder
	posF, posX, posY      *array.Int32Builder
	fstats                *array.ListBuilder
	fstatsV               *array.Float64Builder
	context, patches      blobColumn
}

func newBatchBuilder(schema *arrow.Schema, maxRows int) *batchBuilder {
	mem := memory.DefaultAllocator
	b := &batchBuilder{schema: schema, maxRows: maxRows}
	for i := range b.str {
		b.str[i] = array.NewStringBuilder(mem)
	}
	b.crf, b.m, b.k = array.NewInt32Builder(mem), array.NewInt32Builder(mem), array.NewInt32Builder(mem)
	b.pixW, b.pixH = array.NewInt32Builder(mem), array.NewInt32Builder(mem)
	b.mos, b.mosNorm = array.NewFloat64Builder(mem), array.NewFloat64Builder(mem)
	b.seed = array.NewUint64Builder(mem)
	b.pos = array.NewListBuilder(mem, posType)
	b.posSt = b.pos.ValueBuilder().(*array.StructBuilder)
	b.posF = b.posSt.FieldBuilder(0).(*array.Int32Builder)
	b.posX = b.posSt.FieldBuilder(1).(*array.Int32Builder)
	b.posY = b.posSt.FieldBuilder(2).(*array.Int32Builder)
	b.fstats = array.NewListBuilder(mem, arrow.PrimitiveTypes.Float64)
	b.fstatsV = b.fstats.ValueBuilder().(*array.Float64Builder)
	return b
}

// add appends a validated record.
func (b *batchBuilder) add(r *Record) error {
	left := b.maxRows - b.n
	if err := b.context.add(r.Context, left); err != nil {
		return err
	}
	if err := b.patches.add(r.Patches, left); err != nil {
		return err
	}
	for i, s := range []string{r.ID, r.Dataset, r.Split, r.SourceID, r.Description, r.SamplerParams} {
		b.str[i].Append(s)
	}
	if r.CRF == nil {
		b.crf.AppendNull()
	} else {
		b.crf.Append(int32(*r.CRF))
	}
	b.mos.Append(r.MOS)
	b.mosNorm.Append(r.MOSNorm)
	b.m.Append(int32(r.M))
	b.k.Append(int32(r.K))
	b.pixW.Append(int32(r.PixelW))
	b.pixH.Append(int32(r.PixelH))
	b.seed.Append(r.SamplerSeed)
	b.pos.Append(true)
	for _, p := range r.PatchPos {
		b.posSt.Append(true)
		b.posF.Append(int32(p.Frame))
		b.posX.Append(int32(p.X))
		b.posY.Append(int32(p.Y))
	}
	b.fstats.Append(true)
	b.fstatsV.AppendValues(r.FrameStats, nil)
	b.n++
	b.bytes += len(r.Context) + len(r.Patches)
	return nil
}

// build returns the pending rows as a record batch (caller releases) and
// resets the small builders; call reset after the batch is written.
func (b *batchBuilder) build() arrow.RecordBatch {
	cols := make([]arrow.Array, numCols)
	cols[colID] = b.str[0].NewArray()
	cols[colDataset] = b.str[1].NewArray()
	cols[colSplit] = b.str[2].NewArray()
	cols[colSourceID] = b.str[3].NewArray()
	cols[colCRF] = b.crf.NewArray()
	cols[colMOS] = b.mos.NewArray()
	cols[colMOSNorm] = b.mosNorm.NewArray()
	cols[colM] = b.m.NewArray()
	cols[colContext] = b.context.array(b.n)
	cols[colK] = b.k.NewArray()
	cols[colPatches] = b.patches.array(b.n)
	cols[colPatchPos] = b.pos.NewArray()
	cols[colPixelW] = b.pixW.NewArray()
	cols[colPixelH] = b.pixH.NewArray()
	cols[colDescription] = b.str[4].NewArray()
	cols[colSamplerSeed] = b.seed.NewArray()
	cols[colSamplerParams] = b.str[5].NewArray()
	cols[colFrameStats] = b.fstats.NewArray()
	rec := array.NewRecordBatch(b.schema, cols, int64(b.n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func (b *batchBuilder) reset() {
	b.n, b.bytes = 0, 0
	b.context.reset()
	b.patches.reset()
}
