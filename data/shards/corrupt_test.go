package shards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCorruptShard(t *testing.T) {
	dir := t.TempDir()
	man := writeN(t, dir, 12, WriterOptions{FrameSize: testS, MaxRows: 4})
	victim := man.Shards[1]
	path := filepath.Join(dir, victim.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got := sha(data)
	for name, err := range map[string]error{"Open": openErr(dir), "Verify": verifyErr(dir)} {
		if err == nil {
			t.Fatalf("%s accepted a flipped byte", name)
		}
		for _, want := range []string{victim.Name, victim.SHA256, got} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s error %q lacks %q", name, err, want)
			}
		}
	}
}

func TestMissingShard(t *testing.T) {
	dir := t.TempDir()
	man := writeN(t, dir, 8, WriterOptions{FrameSize: testS, MaxRows: 4})
	if err := os.Remove(filepath.Join(dir, man.Shards[0].Name)); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{"Open": openErr(dir), "Verify": verifyErr(dir)} {
		if err == nil || !strings.Contains(err.Error(), man.Shards[0].Name) || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyPairsAndStray(t *testing.T) {
	dir := t.TempDir()
	writeN(t, dir, 6, WriterOptions{FrameSize: testS})
	good := []Pair{{A: "item-0001", B: "item-0002", Label: 1, Kind: KindLadder}}
	if err := WritePairs(filepath.Join(dir, PairsName), good); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir); err != nil || rep.Pairs != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	bad := append(good, Pair{A: "item-0001", B: "ghost", Kind: KindMOS})
	if err := WritePairs(filepath.Join(dir, PairsName), bad); err != nil {
		t.Fatal(err)
	}
	if err := verifyErr(dir); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("unknown pair id: %v", err)
	}
	os.Remove(filepath.Join(dir, PairsName))
	os.WriteFile(filepath.Join(dir, ".shard-00007.arrow.tmp1"), nil, 0o644)
	if err := verifyErr(dir); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Fatalf("temp file: %v", err)
	}
}

func openErr(dir string) error {
	_, err := Open(dir)
	return err
}

func verifyErr(dir string) error {
	_, err := Verify(dir)
	return err
}
