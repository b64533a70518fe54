// Package augment builds the paper's compression augmentation: H.264 re-encodes
// of every source at a ladder of CRF levels (15, 17, ..., 53), decoding each
// source once and fanning its frames out to all encoders.
package augment

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cpllm/cpllm/internal/x264"
)

// Source is one video to augment; ID names its output folder.
type Source struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

// VideoExts are the file endings treated as videos when walking a directory.
var VideoExts = []string{".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".flv", ".ts", ".mts", ".mpg", ".mpeg", ".3gp", ".y4m", ".wmv"}

// ParseCRFs reads "lo:hi:step" (inclusive) or a comma list "15,23,31",
// every level in 0..63, sorted without duplicates.
func ParseCRFs(spec string) ([]int, error) { return x264.ParseCRFs(spec) }

// SourcesFromPath reads a video file, a directory of videos (recursive; the
// ID is the relative path without extension), or a CSV manifest "id,path"
// (header required; relative paths are relative to the manifest).
func SourcesFromPath(path string) ([]Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return walkDir(path)
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readManifest(f, path)
	}
	return []Source{{ID: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Path: path}}, nil
}

func walkDir(root string) ([]Source, error) {
	var out []Source
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !slices.Contains(VideoExts, strings.ToLower(filepath.Ext(p))) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, Source{ID: filepath.ToSlash(strings.TrimSuffix(rel, filepath.Ext(rel))), Path: p})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no video files (%s)", root, strings.Join(VideoExts, " "))
	}
	return out, err
}

func readManifest(r io.Reader, name string) ([]Source, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", name, err)
	}
	idCol, pathCol := slices.Index(head, "id"), slices.Index(head, "path")
	if idCol < 0 || pathCol < 0 {
		return nil, fmt.Errorf("%s:1: header must have columns id and path, got %v", name, head)
	}
	var out []Source
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if len(rec) <= max(idCol, pathCol) {
			return nil, fmt.Errorf("%s:%d: %d fields, need id and path", name, line, len(rec))
		}
		s := Source{ID: strings.TrimSpace(rec[idCol]), Path: strings.TrimSpace(rec[pathCol])}
		if s.ID == "" || s.Path == "" {
			return nil, fmt.Errorf("%s:%d: empty id or path", name, line)
		}
		if !filepath.IsAbs(s.Path) {
			s.Path = filepath.Join(filepath.Dir(name), s.Path)
		}
		out = append(out, s)
	}
	return out, nil
}

// CheckIDs rejects duplicate IDs and IDs that would escape the output folder.
func CheckIDs(srcs []Source) error {
	seen := map[string]string{}
	for _, s := range srcs {
		clean := filepath.ToSlash(filepath.Clean(s.ID))
		if s.ID == "" || filepath.IsAbs(s.ID) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("source %q (%s): id must be a relative name inside the output folder", s.ID, s.Path)
		}
		if p, dup := seen[clean]; dup {
			return fmt.Errorf("duplicate source id %q: %s and %s", s.ID, p, s.Path)
		}
		seen[clean] = s.Path
	}
	return nil
}
