package shards

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// WriterOptions configure a Writer. Zero values take the defaults.
type WriterOptions struct {
	FrameSize     int    // side S of frames and patches; default 224
	MaxRows       int    // rows per shard; 0: no row limit
	MaxBytes      int64  // frame+patch bytes per shard (before compression); default 1 GiB
	BatchRows     int    // rows per Arrow record batch (the unit held in memory); default 4
	Compression   string // "", "none", "zstd" or "lz4"
	Resume        bool   // continue a run in dir (see Done) instead of refusing a non-empty dir
	SourceDataset string
	Seed          uint64
	SamplerParams json.RawMessage // opaque JSON copied into the manifest
}

const (
	defaultMaxBytes  = 1 << 30
	defaultBatchRows = 4
	maxBatchBytes    = 64 << 20 // flush a batch early past this many frame bytes
)

// Writer streams records into bounded shards. Only one record batch is held
// in memory; each shard is written to a temp name, fsynced, renamed and then
// journaled, so a killed run can be resumed (WriterOptions.Resume).
type Writer struct {
	dir      string
	opts     WriterOptions
	schema   *arrow.Schema
	done     map[string]bool // ids in completed shards
	pending  map[string]bool // ids in the open shard
	shards   []ShardInfo
	failures map[string]Failure
	failOrd  []string
	next     int
	cur      *openShard
	bb       *batchBuilder
	err      error // sticky: a failed write poisons the writer
	closed   bool
}

type openShard struct {
	name, tmp string
	f         *os.File
	buf       *bufio.Writer
	h         hash.Hash
	n         int64
	fw        *ipc.FileWriter
	rows      int
	bytes     int64
	ids       []string
}

func (s *openShard) Write(p []byte) (int, error) {
	s.h.Write(p)
	n, err := s.buf.Write(p)
	s.n += int64(n)
	return n, err
}

// NewWriter creates dir (if needed) and a writer into it. Without Resume a
// directory that already holds a dataset is refused.
func NewWriter(dir string, opts WriterOptions) (*Writer, error) {
	if opts.FrameSize == 0 {
		opts.FrameSize = DefaultFrameSize
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = defaultMaxBytes
	}
	if opts.BatchRows == 0 {
		opts.BatchRows = defaultBatchRows
	}
	if opts.FrameSize < 0 || opts.MaxRows < 0 || opts.MaxBytes < 0 || opts.BatchRows < 0 {
		return nil, fmt.Errorf("shards: negative option in %+v", opts)
	}
	switch opts.Compression {
	case "", "none", "zstd", "lz4":
	default:
		return nil, fmt.Errorf("shards: unknown compression %q (none|zstd|lz4)", opts.Compression)
	}
	if len(opts.SamplerParams) > 0 && !json.Valid(opts.SamplerParams) {
		return nil, errors.New("shards: sampler params are not valid JSON")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &Writer{
		dir: dir, opts: opts, schema: NewSchema(opts.FrameSize),
		done: map[string]bool{}, pending: map[string]bool{}, failures: map[string]Failure{},
	}
	w.bb = newBatchBuilder(w.schema, opts.BatchRows)
	if err := w.load(); err != nil {
		return nil, err
	}
	return w, nil
}

// load replays the journal (Resume) or checks that dir holds no dataset.
func (w *Writer) load() error {
	jpath := filepath.Join(w.dir, JournalName)
	if !w.opts.Resume {
		ents, err := os.ReadDir(w.dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if _, isShard := shardIndex(e.Name()); isShard || e.Name() == ManifestName || e.Name() == JournalName {
				return fmt.Errorf("shards: %s already holds a dataset (%s); set Resume to continue it", w.dir, e.Name())
			}
		}
		return nil
	}
	entries, err := readJournal(jpath)
	if err != nil {
		return err
	}
	if _, jerr := os.Stat(jpath); errors.Is(jerr, os.ErrNotExist) {
		// Without a journal, resuming would delete every shard as unlisted.
		if _, merr := os.Stat(filepath.Join(w.dir, ManifestName)); merr == nil {
			return fmt.Errorf("shards: %s has a manifest but no %s; refusing to resume", w.dir, JournalName)
		}
	}
	listed := map[string]bool{}
	for _, e := range entries {
		if e.Kind == "failure" {
			w.addFailure(*e.Failure)
			continue
		}
		s := *e.Shard
		if e.FrameSize != w.opts.FrameSize {
			return fmt.Errorf("shards: %s has frame size %d, writer has %d", s.Name, e.FrameSize, w.opts.FrameSize)
		}
		if err := checkShardFile(w.dir, s); err != nil {
			return fmt.Errorf("shards: resume: %w", err)
		}
		if len(e.IDs) != s.Rows {
			return fmt.Errorf("shards: %s: journal lists %d ids for %d rows", jpath, len(e.IDs), s.Rows)
		}
		for _, id := range e.IDs {
			if w.done[id] {
				return fmt.Errorf("shards: %s: id %q in two shards", jpath, id)
			}
			w.done[id] = true
		}
		listed[s.Name] = true
		w.shards = append(w.shards, s)
		if i, ok := shardIndex(s.Name); ok && i >= w.next {
			w.next = i + 1
		}
	}
	return cleanDir(w.dir, listed)
}

// Done reports whether id is already written (in a completed shard or the
// open one); a resumed run skips such ids.
func (w *Writer) Done(id string) bool { return w.done[id] || w.pending[id] }

// AddFailure records an item that could not be turned into a record; it is
// journaled at once and listed in the manifest unless the id is written later.
func (w *Writer) AddFailure(f Failure) error {
	if w.closed {
		return errors.New("shards: writer closed")
	}
	w.addFailure(f)
	return appendJournal(filepath.Join(w.dir, JournalName), journalEntry{Kind: "failure", Failure: &f})
}

func (w *Writer) addFailure(f Failure) {
	if _, ok := w.failures[f.ID]; !ok {
		w.failOrd = append(w.failOrd, f.ID)
	}
	w.failures[f.ID] = f
}

// Write appends one record. The writer copies what it needs, so rec's
// buffers may be reused as soon as Write returns.
func (w *Writer) Write(rec Record) error {
	if w.closed {
		return errors.New("shards: writer closed")
	}
	if w.err != nil {
		return w.err
	}
	if err := rec.Validate(w.opts.FrameSize); err != nil {
		return fmt.Errorf("shards: %w", err)
	}
	if w.Done(rec.ID) {
		return fmt.Errorf("shards: id %q written twice", rec.ID)
	}
	size := int64(len(rec.Context) + len(rec.Patches))
	if c := w.cur; c != nil && c.rows > 0 &&
		((w.opts.MaxRows > 0 && c.rows >= w.opts.MaxRows) || c.bytes+size > w.opts.MaxBytes) {
		if err := w.finishShard(); err != nil {
			return w.fail(err)
		}
	}
	if w.cur == nil {
		if err := w.openShard(); err != nil {
			return w.fail(err)
		}
	}
	if err := w.bb.add(&rec); err != nil {
		return w.fail(err)
	}
	w.cur.rows++
	w.cur.bytes += size
	w.cur.ids = append(w.cur.ids, rec.ID)
	w.pending[rec.ID] = true
	if w.bb.n >= w.opts.BatchRows || w.bb.bytes >= maxBatchBytes {
		return w.fail(w.flushBatch())
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if err != nil {
		w.err = fmt.Errorf("shards: %w", err)
		return w.err
	}
	return nil
}

func (w *Writer) openShard() error {
	name := shardName(w.next)
	f, err := os.CreateTemp(w.dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	s := &openShard{name: name, tmp: f.Name(), f: f, buf: bufio.NewWriterSize(f, 1<<20), h: sha256.New()}
	opts := []ipc.Option{ipc.WithSchema(w.schema)}
	switch w.opts.Compression {
	case "zstd":
		opts = append(opts, ipc.WithZstd())
	case "lz4":
		opts = append(opts, ipc.WithLZ4())
	}
	if s.fw, err = ipc.NewFileWriter(s, opts...); err != nil {
		f.Close()
		os.Remove(s.tmp)
		return err
	}
	w.next++
	w.cur = s
	return nil
}

func (w *Writer) flushBatch() error {
	if w.bb.n == 0 {
		return nil
	}
	rec := w.bb.build()
	err := w.cur.fw.Write(rec)
	rec.Release()
	w.bb.reset()
	return err
}

// finishShard completes the open shard: footer, fsync, rename, journal line.
func (w *Writer) finishShard() error {
	s := w.cur
	if err := w.flushBatch(); err != nil {
		return err
	}
	if err := s.fw.Close(); err != nil {
		return err
	}
	if err := s.buf.Flush(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	if err := fsutil.Rename(s.tmp, filepath.Join(w.dir, s.name)); err != nil {
		return err
	}
	comp := w.opts.Compression
	if comp == "" {
		comp = "none"
	}
	info := ShardInfo{Name: s.name, Rows: s.rows, Bytes: s.n, SHA256: hex.EncodeToString(s.h.Sum(nil)), Compression: comp}
	e := journalEntry{Kind: "shard", Shard: &info, FrameSize: w.opts.FrameSize, IDs: s.ids}
	if err := appendJournal(filepath.Join(w.dir, JournalName), e); err != nil {
		return err
	}
	w.shards = append(w.shards, info)
	for _, id := range s.ids {
		w.done[id] = true
	}
	clear(w.pending)
	w.cur = nil
	return nil
}

// Close completes the open shard and writes manifest.json atomically. After
// a failed write it removes the partial shard and returns the error.
func (w *Writer) Close() (Manifest, error) {
	if w.closed {
		return Manifest{}, errors.New("shards: writer closed")
	}
	w.closed = true
	if w.err == nil && w.cur != nil {
		w.err = w.fail(w.finishShard())
	}
	if w.err != nil {
		if w.cur != nil {
			w.cur.f.Close()
			os.Remove(w.cur.tmp)
		}
		return Manifest{}, w.err
	}
	m := Manifest{
		SchemaVersion: SchemaVersion, FrameSize: w.opts.FrameSize,
		MaxRows: w.opts.MaxRows, MaxBytes: w.opts.MaxBytes,
		Shards: w.shards, SourceDataset: w.opts.SourceDataset, Seed: w.opts.Seed,
		SamplerParams: w.opts.SamplerParams, Failures: []Failure{}, Created: time.Now().UTC(),
	}
	if m.Shards == nil {
		m.Shards = []ShardInfo{}
	}
	for _, s := range w.shards {
		m.TotalRows += s.Rows
	}
	for _, id := range w.failOrd {
		if !w.done[id] {
			m.Failures = append(m.Failures, w.failures[id])
		}
	}
	if err := writeManifest(w.dir, m); err != nil {
		return Manifest{}, fmt.Errorf("shards: %w", err)
	}
	return m, nil
}

// Abort ends a build that cannot go on: it removes the open shard's temp
// file and closes the writer. Completed shards and the journal stay, so the
// build can be resumed.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.cur != nil {
		w.cur.f.Close()
		os.Remove(w.cur.tmp)
		w.cur = nil
	}
}

var _ io.Writer = (*openShard)(nil)
