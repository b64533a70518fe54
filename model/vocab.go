package model

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model/tokenizer"
)

// Tokenizer is the seam between the model and text. Build sets it from the
// config's SentencePiece model (key tokenizer).
type Tokenizer interface {
	Encode(text string) []int
	// Decode drops control ids and the one space that separates an answer
	// from its prompt, so a generated description decodes to its words.
	Decode(ids []int) string
	ID(word string) (int, bool) // id of a special token or of a text that is one token
}

// Special tokens the model relies on; their ids come from the tokenizer's
// model proto (Gemma: pad 0, eos 1, bos 2, unk 3).
const (
	PadToken = tokenizer.PadToken
	BOSToken = tokenizer.BOSToken
	EOSToken = tokenizer.EOSToken
	UnkToken = tokenizer.UnkToken
)

// LevelWords are the five quality levels, best first (levels.Words).
var LevelWords = levels.Words

// LevelScores are the scores of LevelWords (levels.Scores).
var LevelScores = levels.Scores

// PairWords answer the pairwise question: which video is better.
var PairWords = [2]string{"first", "second"}

// answerSep separates the prompt from the answer: the answer is encoded as
// " "+answer, so each answer word is a word-initial SentencePiece piece
// ("▁good").
const answerSep = " "

// spTokenizer is a SentencePiece model as the model's Tokenizer.
type spTokenizer struct{ *tokenizer.SP }

// Decode implements Tokenizer.
func (t spTokenizer) Decode(ids []int) string {
	return strings.TrimPrefix(t.SP.Decode(ids), answerSep)
}

// ResolveTokenizer makes a relative tokenizer path relative to dir (the
// directory of the YAML file that names it) and absolute, so the config
// stays valid wherever it is marshalled to.
func (c *Config) ResolveTokenizer(dir string) error {
	if c.Tokenizer == "" || filepath.IsAbs(c.Tokenizer) {
		return nil
	}
	p, err := filepath.Abs(filepath.Join(dir, c.Tokenizer))
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	c.Tokenizer = p
	return nil
}

// LoadTokenizer reads the config's SentencePiece model and checks it against
// the config: its ids fit decoder.vocab_size, it has pad/bos/eos ids, and
// every level and pair word after a space is one token. Errors name the key.
func LoadTokenizer(c Config) (*tokenizer.SP, error) {
	if c.Tokenizer == "" {
		return nil, errTokenizerMissing
	}
	sp, err := tokenizer.Load(c.Tokenizer)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if c.Decoder.VocabSize < sp.Size() {
		return nil, fmt.Errorf("decoder: vocab_size %d is smaller than tokenizer %s's %d pieces", c.Decoder.VocabSize, c.Tokenizer, sp.Size())
	}
	for name, id := range map[string]int{PadToken: sp.Pad(), BOSToken: sp.BOS(), EOSToken: sp.EOS()} {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer %s: the model has no %s id", c.Tokenizer, name)
		}
	}
	words := append(append([]string(nil), LevelWords[:]...), PairWords[:]...)
	if err := sp.RequireSingleTokens(words); err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", c.Tokenizer, err)
	}
	return sp, nil
}

var errTokenizerMissing = errors.New(`tokenizer: required: the SentencePiece .model file of the decoder's vocabulary ` +
	`(configs/tokenizer/cpllm.model, or a Gemma checkpoint's tokenizer.model); a relative path is relative to the YAML file`)
