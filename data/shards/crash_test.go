package shards

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const (
	childEnv   = "CPLLM_SHARDS_CHILD_DIR"
	crashTotal = 600
)

func crashOpts(resume bool) WriterOptions {
	return WriterOptions{FrameSize: testS, MaxRows: 10, BatchRows: 3, Compression: "zstd", Resume: resume}
}

// runChildWriter writes slowly until killed (it is never meant to finish).
func runChildWriter(dir string) int {
	w, err := NewWriter(dir, crashOpts(false))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := w.AddFailure(Failure{ID: "item-broken", Path: "/src/broken.mp4", Error: "moov atom not found"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for i := range crashTotal {
		if err := w.Write(genRecord(i, testS)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := w.Close(); err != nil {
		return 2
	}
	return 0
}

func TestKillAndResume(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	journal := filepath.Join(dir, JournalName)
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(journal)
		if bytes.Count(data, []byte(`"kind":"shard"`)) >= 3 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("child exited early: %v\n%s", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child wrote no 3 shards in time\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-exited
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		t.Fatal("killed run left a manifest")
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("Open of an unfinished run succeeded")
	}
	// Worst-case debris: a torn journal line, a renamed but unjournaled
	// shard, and a temp file.
	f, err := os.OpenFile(journal, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"shard","shard":{"name":"shard-0`)
	f.Close()
	os.WriteFile(filepath.Join(dir, "shard-00999.arrow"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(dir, ".shard-01000.arrow.tmp42"), []byte("partial"), 0o644)

	w, err := NewWriter(dir, crashOpts(true))
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for i := range crashTotal {
		r := genRecord(i, testS)
		if w.Done(r.ID) {
			skipped++
			continue
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if skipped < 30 || skipped%10 != 0 {
		t.Fatalf("resume skipped %d ids, want whole shards of 10 and at least 3", skipped)
	}
	man, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if man.TotalRows != crashTotal || len(man.Failures) != 1 || man.Failures[0].ID != "item-broken" {
		t.Fatalf("manifest rows %d failures %+v", man.TotalRows, man.Failures)
	}
	if rep, err := Verify(dir); err != nil || rep.Rows != crashTotal {
		t.Fatalf("verify %+v: %v", rep, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if isTemp(e.Name()) || e.Name() == "shard-00999.arrow" {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for b, err := range ds.Batches(t.Context(), BatchOptions{BatchSize: 64}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b {
			seen[r.ID]++
			var i int
			fmt.Sscanf(r.ID, "item-%d", &i)
			if err := sameRecord(genRecord(i, testS), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range crashTotal {
		if id := genRecord(i, testS).ID; seen[id] != 1 {
			t.Fatalf("%s read %d times", id, seen[id])
		}
	}
}

func TestResumeFinishedAndGuard(t *testing.T) {
	dir := t.TempDir()
	writeN(t, dir, 9, WriterOptions{FrameSize: testS, MaxRows: 4})
	// Resuming a finished run appends to it.
	w, err := NewWriter(dir, WriterOptions{FrameSize: testS, MaxRows: 4, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Done("item-0008") || w.Done("item-0009") {
		t.Fatal("Done after resume")
	}
	if err := w.Write(genRecord(9, testS)); err != nil {
		t.Fatal(err)
	}
	if man, err := w.Close(); err != nil || man.TotalRows != 10 || len(man.Shards) != 4 {
		t.Fatalf("%+v %v", man, err)
	}
	if _, err := NewWriter(dir, WriterOptions{FrameSize: 8, Resume: true}); err == nil {
		t.Fatal("resume with another frame size")
	}
	os.Remove(filepath.Join(dir, JournalName))
	if _, err := NewWriter(dir, WriterOptions{FrameSize: testS, Resume: true}); err == nil {
		t.Fatal("resume without a journal would delete the shards")
	}
	if _, err := Verify(dir); err != nil {
		t.Fatal(err)
	}
}
