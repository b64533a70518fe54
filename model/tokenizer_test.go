package model

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

func committedTokenizer() string {
	return filepath.Join(filepath.Dir(configPath("tiny")), "..", "tokenizer", "cpllm.model")
}

// vocabIDs reads piece -> id from a .vocab file spm_train wrote beside the
// model (line number = id): an oracle independent of the proto reader.
func vocabIDs(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]int{}
	sc := bufio.NewScanner(f)
	for id := 0; sc.Scan(); id++ {
		piece, _, _ := strings.Cut(sc.Text(), "\t")
		ids[piece] = id
	}
	return ids
}

// spmIDs is `spm_encode --output_format=id` of one line.
func spmIDs(t *testing.T, model, text string) []int {
	t.Helper()
	if _, err := exec.LookPath("spm_encode"); err != nil {
		testutil.MissingOracle(t, "spm_encode (Debian package sentencepiece)")
	}
	cmd := exec.Command("spm_encode", "--model="+model, "--output_format=id")
	cmd.Stdin = strings.NewReader(text + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spm_encode: %v", err)
	}
	var ids []int
	for _, f := range strings.Fields(string(out)) {
		id, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// The model's special and answer ids are the tokenizer's: specials from the
// proto (Gemma's layout, not 0..3 in stub order), answers as spm_encode
// tokenizes " good" etc., and a training sequence is the prompt's ids then
// the answer's after a space.
func TestModelTokenIDsMatchSentencePiece(t *testing.T) {
	m, err := Build(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	tok := committedTokenizer()
	vocab := vocabIDs(t, strings.TrimSuffix(tok, ".model")+".vocab")
	if m.Pad != vocab[PadToken] || m.EOS != vocab[EOSToken] || m.BOS != vocab[BOSToken] || m.EOS != 1 || m.BOS != 2 {
		t.Errorf("pad/eos/bos = %d/%d/%d, .vocab says %d/%d/%d", m.Pad, m.EOS, m.BOS, vocab[PadToken], vocab[EOSToken], vocab[BOSToken])
	}
	for i, w := range LevelWords {
		if want := spmIDs(t, tok, " "+w); !slices.Equal(want, []int{m.LevelIDs[i]}) || vocab["▁"+w] != m.LevelIDs[i] {
			t.Errorf("level %q: id %d, spm_encode %v", w, m.LevelIDs[i], want)
		}
	}
	for i, w := range PairWords {
		if want := spmIDs(t, tok, " "+w); !slices.Equal(want, []int{m.PairIDs[i]}) {
			t.Errorf("pair %q: id %d, spm_encode %v", w, m.PairIDs[i], want)
		}
	}
	desc := "The picture looks sharp, and the image is clean."
	toks, pos, err := m.Sequence(TaskDescribe, desc)
	if err != nil {
		t.Fatal(err)
	}
	want := append(spmIDs(t, tok, m.Cfg.Prompts.Describe), spmIDs(t, tok, " "+desc)...)
	if !slices.Equal(toks, want) || pos != len(spmIDs(t, tok, m.Cfg.Prompts.Describe))-1 {
		t.Errorf("describe sequence %v (answer at %d), spm_encode %v", toks, pos, want)
	}
	if got := m.Tok.Decode(toks[pos+1:]); got != desc {
		t.Errorf("the answer decodes to %q, want %q", got, desc)
	}
}

// A relative tokenizer path is relative to the YAML file; a config without
// one, with a vocab_size below the tokenizer's, or whose tokenizer splits an
// answer word fails naming the key or the word and its pieces.
func TestConfigTokenizerErrors(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	tokBytes, err := os.ReadFile(committedTokenizer())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tok"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tok", "t.model"), tokBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	body := strings.Replace(string(data), "tokenizer: ../tokenizer/cpllm.model", "tokenizer: tok/t.model", 1)
	c, err := LoadConfig(write("ok.yaml", body))
	if err != nil || c.Tokenizer != filepath.Join(dir, "tok", "t.model") {
		t.Fatalf("relative tokenizer: %q, %v", c.Tokenizer, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"missing", strings.Replace(body, "tokenizer: tok/t.model", "", 1), "tokenizer: required"},
		{"absent", strings.Replace(body, "tok/t.model", "tok/none.model", 1), "none.model"},
		{"small", strings.Replace(body, "vocab_size: 512", "vocab_size: 300", 1), "vocab_size 300 is smaller than tokenizer"},
	} {
		if _, err := LoadConfig(write(tc.name+".yaml", tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseConfig([]byte(strings.Replace(body, "tokenizer: tok/t.model", "", 1))); err == nil || !strings.Contains(err.Error(), "tokenizer: required") {
		t.Errorf("ParseConfig without a tokenizer: %v", err)
	}
	split := splitWordTokenizer(t, dir)
	body = strings.Replace(body, "tok/t.model", split, 1)
	_, err = LoadConfig(write("split.yaml", body))
	if err == nil || !strings.Contains(err.Error(), `"excellent" -> [`) {
		t.Errorf("answer word split in pieces: %v", err)
	}
}

// splitWordTokenizer trains a BPE model (the identity settings Load accepts)
// on text without "excellent", so " excellent" is several pieces.
func splitWordTokenizer(t *testing.T, dir string) string {
	if _, err := exec.LookPath("spm_train"); err != nil {
		testutil.MissingOracle(t, "spm_train (Debian package sentencepiece)")
	}
	corpus := filepath.Join(dir, "split.txt")
	line := "rate the quality of this video: good fair poor bad first second excel lent\n"
	if err := os.WriteFile(corpus, []byte(strings.Repeat(line, 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "split")
	out, err := exec.Command("spm_train", "--input="+corpus, "--model_prefix="+prefix, "--model_type=bpe",
		"--vocab_size=300", "--normalization_rule_name=identity", "--add_dummy_prefix=false",
		"--remove_extra_whitespaces=false", "--byte_fallback=true", "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3",
		"--user_defined_symbols=▁good,▁fair,▁poor,▁bad,▁first,▁second", "--minloglevel=1").CombinedOutput()
	if err != nil {
		t.Fatalf("spm_train: %v: %s", err, out)
	}
	return prefix + ".model"
}

// AbsTokenizerYAML turns the file-relative tokenizer path into an absolute
// one, so the YAML parses and builds from any directory.
func TestAbsTokenizerYAML(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := AbsTokenizerYAML(data, filepath.Dir(configPath("tiny")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(abs)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Abs(committedTokenizer())
	if c.Tokenizer != want {
		t.Errorf("tokenizer %q, want %q", c.Tokenizer, want)
	}
	if _, err := Build(c); err != nil {
		t.Error(err)
	}
	if same, err := AbsTokenizerYAML(abs, "/elsewhere"); err != nil || string(same) != string(abs) {
		t.Errorf("an absolute path changed: %v", err)
	}
}
