package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeIDs(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelectIDs(t *testing.T) {
	recs := []Record{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}
	got, err := SelectIDs(recs, writeIDs(t, "\ufeffd\n# comment\n\n b \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "b" || got[1].ID != "d" {
		t.Fatalf("got %+v, want b, d in record order", got)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"unknown": {"a\nzz\n", `id "zz" is not in the dataset's labels (1 of 2 ids unknown)`},
		"repeat":  {"a\nb\na\n", `:3: id "a" repeats line 1`},
		"empty":   {"# nothing\n\n", "no ids"},
	} {
		_, err := SelectIDs(recs, writeIDs(t, tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
}

// The real split files select exactly their ids from the KoNViD-1k labels.
func TestSelectIDsRealSplits(t *testing.T) {
	root := realdata(t)
	recs, err := Load("konvid1k", Options{Root: filepath.Join(root, "KoNViD-1k"),
		Labels: filepath.Join(root, "labels/VIDEVAL/features/KONVID_1K_metadata.csv")})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, split := range []string{"train", "dev"} {
		p := filepath.Join(root, "splits", "konvid1k-"+split+".txt")
		ids, err := ReadIDs(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SelectIDs(recs, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("%s: %d records for %d ids", split, len(got), len(ids))
		}
		for _, r := range got {
			if other, dup := seen[r.ID]; dup {
				t.Fatalf("id %s in both %s and %s", r.ID, other, split)
			}
			seen[r.ID] = split
		}
	}
}
