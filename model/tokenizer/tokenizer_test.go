package tokenizer

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// spmEncodeIDs runs the reference encoder on lines, one output line each.
func spmEncodeIDs(t *testing.T, model string, lines []string) [][]int {
	t.Helper()
	needTools(t, "spm_encode")
	cmd := exec.Command("spm_encode", "--model="+model, "--output_format=id")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spm_encode: %v", err)
	}
	rows := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(rows) != len(lines) {
		t.Fatalf("spm_encode gave %d lines for %d", len(rows), len(lines))
	}
	ids := make([][]int, len(rows))
	for i, row := range rows {
		for _, f := range strings.Fields(row) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("spm_encode line %d: %v", i, err)
			}
			ids[i] = append(ids[i], id)
		}
	}
	return ids
}

func TestEncodeMatchesSPMEncode(t *testing.T) {
	model := trainFixture(t)
	sp, err := Load(model)
	if err != nil {
		t.Fatal(err)
	}
	lines := evalLines()
	if len(lines) != 200 {
		t.Fatalf("%d eval lines, want 200", len(lines))
	}
	want := spmEncodeIDs(t, model, lines)
	for i, line := range lines {
		if got := sp.Encode(line); !slices.Equal(got, want[i]) {
			t.Errorf("line %d %q:\n got  %v\n want %v", i, line, got, want[i])
		}
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	sp, err := Load(trainFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range evalLines() {
		if got := sp.Decode(sp.Encode(line)); got != line {
			t.Errorf("line %d: decode(encode(%q)) = %q", i, line, got)
		}
	}
}

// Train writes Gemma's special-id layout; the accessors and ID read it from
// the proto (nothing may assume other ids).
func TestSpecialsAndSize(t *testing.T) {
	sp, err := Load(trainFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Size() != testVocab {
		t.Errorf("Size = %d, want %d", sp.Size(), testVocab)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{{PadToken, sp.Pad(), 0}, {EOSToken, sp.EOS(), 1}, {BOSToken, sp.BOS(), 2}, {UnkToken, sp.Unk(), 3}} {
		id, ok := sp.ID(c.name)
		if c.got != c.want || !ok || id != c.want {
			t.Errorf("%s: accessor %d, ID %d %v, want %d", c.name, c.got, id, ok, c.want)
		}
	}
	// Controls decode to nothing; ids past the vocabulary decode as <unk>.
	good, _ := sp.AnswerID("good")
	if got := sp.Decode([]int{sp.BOS(), good, sp.EOS(), sp.Pad()}); got != " good" {
		t.Errorf("Decode with controls = %q", got)
	}
	if got := sp.Decode([]int{good, sp.Size() + 5}); got != " good ⁇ " {
		t.Errorf("Decode out of range = %q", got)
	}
	if ids := sp.Encode(""); len(ids) != 0 {
		t.Errorf("Encode(\"\") = %v", ids)
	}
}

// An answer word after a space is one word-initial piece, and spm_encode
// agrees on its id.
func TestAnswerWordsAreSingleTokens(t *testing.T) {
	model := trainFixture(t)
	sp, err := Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.RequireSingleTokens(AnswerWords); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, w := range AnswerWords {
		lines = append(lines, " "+w)
	}
	want := spmEncodeIDs(t, model, lines)
	seen := map[int]bool{}
	for i, w := range AnswerWords {
		id, ok := sp.AnswerID(w)
		if !ok || seen[id] || sp.Piece(id) != "▁"+w || !slices.Equal(want[i], []int{id}) {
			t.Errorf("%q: id %d %v, piece %q, spm_encode %v", w, id, ok, sp.Piece(id), want[i])
		}
		seen[id] = true
		if got, ok := sp.ID(" " + w); !ok || got != id {
			t.Errorf("ID(%q) = %d %v, want %d", " "+w, got, ok, id)
		}
	}
	err = sp.RequireSingleTokens([]string{"good", "unexcellent quality", "好"})
	if err == nil || !strings.Contains(err.Error(), `"unexcellent quality" -> [`) || strings.Contains(err.Error(), `"good" ->`) {
		t.Errorf("RequireSingleTokens error = %v", err)
	}
}

func mustID(t *testing.T, sp *SP, piece string) int {
	t.Helper()
	for id := range sp.Size() {
		if sp.Piece(id) == piece {
			return id
		}
	}
	t.Fatalf("no piece %q", piece)
	return 0
}

func TestRejectsUnsupportedModels(t *testing.T) {
	needTools(t, SPMTrain)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	if err := WriteCorpus(corpus, DemoCorpus(2000, 1)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, flag, old, want string
	}{
		{"unigram", "--model_type=unigram", "--model_type=bpe", "model type unigram is not supported"},
		{"nfkc", "--normalization_rule_name=nmt_nfkc", "--normalization_rule_name=identity", `normalizer "nmt_nfkc" is not supported`},
		{"dummy", "--add_dummy_prefix=true", "--add_dummy_prefix=false", "add_dummy_prefix=true is not supported"},
		{"extraws", "--remove_extra_whitespaces=true", "--remove_extra_whitespaces=false", "remove_extra_whitespaces=true is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := filepath.Join(dir, c.name)
			args, err := trainArgs(corpus, prefix, testVocab, nil)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.Index(args, c.old)
			if i < 0 {
				t.Fatalf("no %s in %v", c.old, args)
			}
			args[i] = c.flag
			if err := runSPMTrain(prefix, args); err != nil {
				t.Fatal(err)
			}
			_, err = Load(prefix + ".model")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want %q", err, c.want)
			}
			t.Log(err)
		})
	}
}
