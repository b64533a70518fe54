package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadJSONLDropsTornLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j.jsonl")
	if err := AppendSync(p, []byte(`{"a":1}`+"\n")); err != nil {
		t.Fatal(err)
	}
	AppendSync(p, []byte(`{"a":2}`+"\n"))
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"a":`) // a crash mid-append
	f.Close()
	var lines []string
	if err := ReadJSONL(p, func(b []byte) error { lines = append(lines, string(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	data, _ := os.ReadFile(p)
	if string(data) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("torn line not removed: %q", data)
	}
	err := ReadJSONL(p, func(b []byte) error {
		if strings.Contains(string(b), "2") {
			return os.ErrInvalid
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "j.jsonl:2") {
		t.Fatalf("error must name file:line, got %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.json")
	if err := WriteFileAtomic(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(b) != "two" || len(ents) != 1 {
		t.Fatalf("content %q, %d files (temp left behind?)", b, len(ents))
	}
}
