// Package fsutil writes files so that a crash never leaves a half-written
// file under its final name: write to a temp name, fsync, rename, fsync dir.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return Rename(name, path)
}

// Rename moves a complete file into place and makes the rename durable.
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(to))
}

// SyncDir fsyncs a directory so renames and creations in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// AppendSync appends one record (a whole line) with a single write and fsyncs,
// so a crash leaves at most a torn last line, which readers must tolerate.
func AppendSync(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadJSONL calls fn on every complete line of a journal written with
// AppendSync. A crash can only leave a last line without its '\n': that torn
// line is dropped and the file rewritten without it. fn's error is returned
// with the file and line.
func ReadJSONL(path string, fn func(line []byte) error) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	for i, b := range bytes.Split(complete, []byte("\n")) {
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := fn(b); err != nil {
			return fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
	}
	if len(complete) < len(data) {
		return WriteFileAtomic(path, complete, 0o644)
	}
	return nil
}

// WriteFileAtomicFrom is WriteFileAtomic for content produced by a WriterTo.
func WriteFileAtomicFrom(path string, src io.WriterTo) error {
	var buf bytes.Buffer
	if _, err := src.WriteTo(&buf); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes(), 0o644)
}
