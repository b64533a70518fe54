// Package shards stores training/eval records (sampled frames, patches and
// labels) as Arrow IPC files of bounded size, with a manifest that pins each
// shard's sha256, a crash-safe resumable writer, a streaming shuffling reader,
// comparison pairs (pairs.jsonl) and an offline verifier.
//
// Layout of a dataset directory:
//
//	shard-00000.arrow ...  Arrow IPC files, one or more record batches each
//	shards.jsonl           writer journal: one fsynced line per completed shard
//	manifest.json          written atomically at Close; readers trust only it
//	pairs.jsonl            optional comparison pairs (ids only)
package shards

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// SchemaVersion is bumped whenever the column layout changes. Version 2
// added frame_stats; version 1 shards (without it) still open, their
// records with no FrameStats.
const SchemaVersion = 2

// DefaultFrameSize is the side of the square frames and patches (CP-LLM: 224).
const DefaultFrameSize = 224

// PatchPos locates one pixel patch: source frame index and the top-left
// corner in the resized frame (PixelW x PixelH).
type PatchPos struct {
	Frame int `json:"frame"`
	X     int `json:"x"`
	Y     int `json:"y"`
}

// Record is one training/eval row. Context holds M frames and Patches K
// patches, each S x S x 3 RGB bytes (S = the dataset's frame size), row-major.
type Record struct {
	ID            string
	Dataset       string
	Split         string
	SourceID      string
	CRF           *int // nil: the uncompressed source
	MOS           float64
	MOSNorm       float64
	Context       []byte
	M             int
	Patches       []byte
	K             int
	PatchPos      []PatchPos
	PixelW        int
	PixelH        int
	Description   string
	SamplerSeed   uint64
	SamplerParams string // JSON, opaque to this package
	// FrameStats are statistics of the whole frames the patches were cut
	// from (data/stats order), when the build measured them; empty
	// otherwise (or when every frame was flat).
	FrameStats []float64
}

// Column order; the reader looks columns up by these indices after checking names.
const (
	colID = iota
	colDataset
	colSplit
	colSourceID
	colCRF
	colMOS
	colMOSNorm
	colM
	colContext
	colK
	colPatches
	colPatchPos
	colPixelW
	colPixelH
	colDescription
	colSamplerSeed
	colSamplerParams
	colFrameStats
	numCols
)

var posType = arrow.StructOf(
	arrow.Field{Name: "frame", Type: arrow.PrimitiveTypes.Int32},
	arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32},
	arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32},
)

func schemaFields() []arrow.Field {
	return []arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "dataset", Type: arrow.BinaryTypes.String},
		{Name: "split", Type: arrow.BinaryTypes.String},
		{Name: "source_id", Type: arrow.BinaryTypes.String},
		{Name: "crf", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "mos", Type: arrow.PrimitiveTypes.Float64},
		{Name: "mos_norm", Type: arrow.PrimitiveTypes.Float64},
		{Name: "m", Type: arrow.PrimitiveTypes.Int32},
		{Name: "context", Type: arrow.BinaryTypes.Binary},
		{Name: "k", Type: arrow.PrimitiveTypes.Int32},
		{Name: "patches", Type: arrow.BinaryTypes.Binary},
		{Name: "patch_pos", Type: arrow.ListOf(posType)},
		{Name: "pixel_w", Type: arrow.PrimitiveTypes.Int32},
		{Name: "pixel_h", Type: arrow.PrimitiveTypes.Int32},
		{Name: "description", Type: arrow.BinaryTypes.String},
		{Name: "sampler_seed", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "sampler_params", Type: arrow.BinaryTypes.String},
		{Name: "frame_stats", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	}
}

// NewSchema returns the Arrow schema of a shard; the frame size and schema
// version travel in its metadata so a shard file is self-describing.
func NewSchema(frameSize int) *arrow.Schema {
	md := arrow.NewMetadata(
		[]string{"cpllm.schema_version", "cpllm.frame_size"},
		[]string{strconv.Itoa(SchemaVersion), strconv.Itoa(frameSize)},
	)
	return arrow.NewSchema(schemaFields(), &md)
}

// checkSchema accepts a shard schema with our columns and frame size, or a
// version 1 schema (the columns before frame_stats); v1 reports the latter.
func checkSchema(s *arrow.Schema, frameSize int) (v1 bool, err error) {
	md := s.Metadata()
	want := schemaFields()
	version, _ := md.GetValue("cpllm.schema_version")
	switch version {
	case strconv.Itoa(SchemaVersion):
	case "1":
		want, v1 = want[:colFrameStats], true
	default:
		return false, fmt.Errorf("schema version %q, want %d (or 1)", version, SchemaVersion)
	}
	if s.NumFields() != len(want) {
		return false, fmt.Errorf("schema has %d columns, want %d", s.NumFields(), len(want))
	}
	for i, f := range want {
		got := s.Field(i)
		if got.Name != f.Name || !arrow.TypeEqual(got.Type, f.Type) {
			return false, fmt.Errorf("column %d is %s %s, want %s %s", i, got.Name, got.Type, f.Name, f.Type)
		}
	}
	if v, _ := md.GetValue("cpllm.frame_size"); v != strconv.Itoa(frameSize) {
		return false, fmt.Errorf("frame size %q, want %d", v, frameSize)
	}
	return v1, nil
}

// Validate checks a record's internal consistency for frame size s; the
// writer refuses and Verify reports records that fail it.
func (r *Record) Validate(s int) error {
	if r.ID == "" {
		return errors.New("empty id")
	}
	frame := s * s * 3
	if r.M < 0 || r.K < 0 {
		return fmt.Errorf("%s: negative m=%d or k=%d", r.ID, r.M, r.K)
	}
	if len(r.Context) != r.M*frame {
		return fmt.Errorf("%s: context has %d bytes, want m*%d*%d*3 = %d", r.ID, len(r.Context), s, s, r.M*frame)
	}
	if len(r.Patches) != r.K*frame {
		return fmt.Errorf("%s: patches have %d bytes, want k*%d*%d*3 = %d", r.ID, len(r.Patches), s, s, r.K*frame)
	}
	if len(r.PatchPos) != r.K {
		return fmt.Errorf("%s: %d patch positions for k=%d", r.ID, len(r.PatchPos), r.K)
	}
	for i, p := range r.PatchPos {
		if p.Frame < 0 || p.X < 0 || p.Y < 0 || !fits32(p.Frame) || !fits32(p.X) || !fits32(p.Y) {
			return fmt.Errorf("%s: patch %d position %+v out of range", r.ID, i, p)
		}
	}
	if r.PixelW < 0 || r.PixelH < 0 || !fits32(r.PixelW) || !fits32(r.PixelH) || !fits32(r.M) || !fits32(r.K) {
		return fmt.Errorf("%s: pixel size %dx%d out of range", r.ID, r.PixelW, r.PixelH)
	}
	if r.CRF != nil && !fits32(*r.CRF) {
		return fmt.Errorf("%s: crf %d out of range", r.ID, *r.CRF)
	}
	for i, x := range r.FrameStats {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: frame statistic %d is %v", r.ID, i, x)
		}
	}
	if r.SamplerParams != "" && !json.Valid([]byte(r.SamplerParams)) {
		return fmt.Errorf("%s: sampler_params is not valid JSON", r.ID)
	}
	return nil
}

func fits32(v int) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }
