package tokenizer

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

const testVocab = 600

// needTools skips a test unless the SentencePiece binaries are installed.
func needTools(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			testutil.MissingOracle(t, b+" (Debian package sentencepiece)")
		}
	}
}

// trainFixture trains a demo BPE model in a temp dir and returns its path.
func trainFixture(t *testing.T) string {
	t.Helper()
	needTools(t, SPMTrain)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	if err := WriteCorpus(corpus, DemoCorpus(2000, 1)); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "demo")
	if err := Train(corpus, prefix, testVocab, nil); err != nil {
		t.Fatal(err)
	}
	return prefix + ".model"
}

// evalLines are 200 lines: every edge case, characters the training corpus
// lacks (byte fallback), then demo sentences from another seed.
func evalLines() []string {
	lines := append([]string(nil), demoEdges...)
	lines = append(lines, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ภาษาไทย ☃ 🦀", " \t mixed \t whitespace \t ", "goodness badge firstly seconds",
		" good", "good ", "level: good", "fair.poor,bad")
	return append(lines, DemoCorpus(200-len(lines), 2)...)
}
