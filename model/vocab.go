package model

import (
	"strings"

	"github.com/cpllm/cpllm/internal/levels"
)

// Tokenizer is the seam between the model and text: the stub Vocab below for
// now, a SentencePiece tokenizer later.
type Tokenizer interface {
	Encode(text string) []int
	Decode(ids []int) string
	ID(word string) (int, bool) // id of a whole word / special token, if it is one token
}

// Special tokens and words the model relies on.
const (
	PadToken = "<pad>"
	BOSToken = "<bos>"
	EOSToken = "<eos>"
	UnkToken = "<unk>"
)

// LevelWords are the five quality levels, best first (levels.Words).
var LevelWords = levels.Words

// LevelScores are the scores of LevelWords (levels.Scores).
var LevelScores = levels.Scores

// PairWords answer the pairwise question: which video is better.
var PairWords = [2]string{"first", "second"}

// vocabWords are the whole-word tokens of the stub vocabulary after the specials.
var vocabWords = []string{
	"excellent", "good", "fair", "poor", "bad", "first", "second",
	"how", "is", "the", "quality", "of", "this", "video", "which", "better",
	"rate", "describe", "its", "and", "a", "?", ".", ",", ":",
}

// Vocab is a tiny fixed word-level vocabulary with a byte fallback:
// ids 0..3 are <pad> <bos> <eos> <unk>, then vocabWords, then 256 byte tokens.
// Encode splits on whitespace; a word not in the vocabulary becomes its bytes
// (a space byte separates two such words).
// Decode joins words with single spaces (byte runs form one word).
type Vocab struct {
	words    []string
	ids      map[string]int
	byteBase int
}

// NewVocab builds the stub vocabulary.
func NewVocab() *Vocab {
	v := &Vocab{ids: map[string]int{}}
	for _, w := range append([]string{PadToken, BOSToken, EOSToken, UnkToken}, vocabWords...) {
		v.ids[w] = len(v.words)
		v.words = append(v.words, w)
	}
	v.byteBase = len(v.words)
	return v
}

// Size is the number of ids.
func (v *Vocab) Size() int { return v.byteBase + 256 }

// ID implements Tokenizer.
func (v *Vocab) ID(word string) (int, bool) {
	id, ok := v.ids[word]
	return id, ok
}

// Encode implements Tokenizer.
func (v *Vocab) Encode(text string) []int {
	var ids []int
	prevBytes := false
	for _, w := range strings.Fields(text) {
		if id, ok := v.ids[w]; ok {
			ids = append(ids, id)
			prevBytes = false
			continue
		}
		if prevBytes { // keep adjacent byte-spelled words apart
			ids = append(ids, v.byteBase+' ')
		}
		prevBytes = true
		for _, b := range []byte(w) {
			ids = append(ids, v.byteBase+int(b))
		}
	}
	return ids
}

// Decode implements Tokenizer; specials other than <unk> are dropped.
func (v *Vocab) Decode(ids []int) string {
	var out []string
	var bytes []byte
	flush := func() {
		if len(bytes) > 0 {
			out = append(out, string(bytes))
			bytes = nil
		}
	}
	for _, id := range ids {
		switch {
		case id >= v.byteBase && id < v.Size():
			bytes = append(bytes, byte(id-v.byteBase))
		case id >= 4 && id < v.byteBase || id == 3:
			flush()
			out = append(out, v.words[id])
		default:
			flush()
		}
	}
	flush()
	return strings.Join(out, " ")
}
