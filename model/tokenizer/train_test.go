package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The same corpus content, at another path and prefix, gives the same bytes.
func TestTrainIsDeterministic(t *testing.T) {
	needTools(t, SPMTrain)
	var models, vocabs [][]byte
	for _, sub := range []string{"a", "b/c"} {
		dir := filepath.Join(t.TempDir(), sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		corpus := filepath.Join(dir, sub[:1]+"-corpus.txt")
		if err := WriteCorpus(corpus, DemoCorpus(2000, 1)); err != nil {
			t.Fatal(err)
		}
		prefix := filepath.Join(dir, "m"+sub[:1])
		if err := Train(corpus, prefix, testVocab, []string{"blurry"}); err != nil {
			t.Fatal(err)
		}
		m, err := os.ReadFile(prefix + ".model")
		if err != nil {
			t.Fatal(err)
		}
		v, err := os.ReadFile(prefix + ".vocab")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(m, []byte(corpus)) || bytes.Contains(m, []byte(prefix)) {
			t.Error("model still records the corpus path or prefix")
		}
		if _, err := FromBytes(m); err != nil {
			t.Fatal(err)
		}
		models, vocabs = append(models, m), append(vocabs, v)
	}
	if !bytes.Equal(models[0], models[1]) {
		t.Error("same corpus gave different .model bytes")
	}
	if !bytes.Equal(vocabs[0], vocabs[1]) {
		t.Error("same corpus gave different .vocab bytes")
	}
}

func TestUserSymbolsAreChecked(t *testing.T) {
	if _, err := trainArgs("c", "p", 10, []string{"a,b"}); err == nil {
		t.Error("a symbol with a comma was accepted")
	}
	args, err := trainArgs("c", "p", 10, []string{"good", "blurry"})
	if err != nil {
		t.Fatal(err)
	}
	want := "--user_defined_symbols=▁excellent,▁good,▁fair,▁poor,▁bad,▁first,▁second,good,blurry"
	found := false
	for _, a := range args {
		found = found || a == want
	}
	if !found {
		t.Errorf("args %v lack %s", args, want)
	}
}

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := DemoCorpus(300, 7), DemoCorpus(300, 7)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Error("DemoCorpus differs for one seed")
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.model")); err == nil {
		t.Error("missing file loaded")
	}
	if _, err := FromBytes([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Error("garbage loaded")
	}
}
