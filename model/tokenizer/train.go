package tokenizer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// SPMTrain is the SentencePiece trainer binary Train runs (Debian's
// sentencepiece package installs it in /usr/bin).
var SPMTrain = "spm_train"

// ErrNoSPMTrain is returned by Train when the spm_train binary is missing.
var ErrNoSPMTrain = errors.New("tokenizer: spm_train not found (install the sentencepiece package)")

// Train trains a BPE model on a text corpus (one sentence a line) with
// spm_train, writing modelPrefix.model and modelPrefix.vocab.
//
// The flags make go-sentencepiece's ids equal SentencePiece's (BPE, identity
// normalizer, no dummy prefix, whitespace kept as is, byte fallback so no
// text is lost). AnswerWords become the user-defined symbols "▁good" etc.
// (spm_train takes ▁ in --user_defined_symbols as the escaped space), so each
// answer word after a space is one token wherever it appears, also at the
// start of a longer word (" goodness" is "▁good" + "ness"); userSymbols are
// added as given. Specials follow Gemma's layout: <pad>=0, <eos>=1, <bos>=2,
// <unk>=3. Training is single-threaded with a fixed seed and no
// sampling, and the corpus path and prefix are dropped from the saved proto,
// so the same corpus content gives the same .model bytes.
func Train(corpusPath, modelPrefix string, vocabSize int, userSymbols []string) error {
	args, err := trainArgs(corpusPath, modelPrefix, vocabSize, userSymbols)
	if err != nil {
		return err
	}
	return runSPMTrain(modelPrefix, args)
}

// trainArgs are spm_train's flags; tests swap model_type to get a model
// Load must reject.
func trainArgs(corpusPath, modelPrefix string, vocabSize int, userSymbols []string) ([]string, error) {
	symbols, err := userDefined(userSymbols)
	if err != nil {
		return nil, err
	}
	return []string{
		"--input=" + corpusPath,
		"--model_prefix=" + modelPrefix,
		"--model_type=bpe",
		"--vocab_size=" + strconv.Itoa(vocabSize),
		"--normalization_rule_name=identity",
		"--add_dummy_prefix=false",
		"--remove_extra_whitespaces=false",
		"--byte_fallback=true",
		"--character_coverage=1.0",
		"--user_defined_symbols=" + strings.Join(symbols, ","),
		"--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3",
		"--pad_piece=" + PadToken, "--bos_piece=" + BOSToken,
		"--eos_piece=" + EOSToken, "--unk_piece=" + UnkToken,
		// Determinism: every line, in file order, one thread, fixed seed.
		"--input_sentence_size=0",
		"--shuffle_input_sentence=false",
		"--num_threads=1",
		"--random_seed=1",
		"--minloglevel=1",
	}, nil
}

// WordPiece is SentencePiece's escaped space, which starts a word-initial piece.
const WordPiece = "▁"

// userDefined is "▁"+AnswerWords plus extra, deduplicated in order; spm_train
// takes them comma separated, so a comma cannot be one.
func userDefined(extra []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	var all []string
	for _, w := range AnswerWords {
		all = append(all, WordPiece+w)
	}
	for _, s := range append(all, extra...) {
		if s == "" || strings.Contains(s, ",") {
			return nil, fmt.Errorf("tokenizer: user-defined symbol %q is empty or has a comma", s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// runSPMTrain runs spm_train and rewrites the model without path fields.
func runSPMTrain(modelPrefix string, args []string) error {
	bin, err := exec.LookPath(SPMTrain)
	if err != nil {
		return ErrNoSPMTrain
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tokenizer: spm_train: %v: %s", err, tail(log.String(), 2000))
	}
	path := modelPrefix + ".model"
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	if b, err = scrubPaths(b); err != nil {
		return fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
