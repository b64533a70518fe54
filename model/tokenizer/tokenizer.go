// Package tokenizer is the SentencePiece BPE tokenizer of the model, through
// github.com/eliben/go-sentencepiece, plus Train (spm_train with flags that
// keep the two implementations id-for-id equal) and a demo corpus.
//
// go-sentencepiece implements only BPE models with the identity normalizer,
// no dummy prefix and no whitespace folding; Load rejects any other model
// instead of silently tokenizing differently from SentencePiece.
//
// Answer words: the answer follows the prompt after a space, and the model
// encodes it as " "+answer, so a level or pair word is the word-initial piece
// "▁good" (SentencePiece writes a space as ▁). With add_dummy_prefix=false
// (Gemma's setting too) the bare "good" is a different piece sequence.
// AnswerID, RequireSingleTokens and Train's user-defined symbols all use the
// word-initial form.
package tokenizer

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	sentencepiece "github.com/eliben/go-sentencepiece"
)

// Special token names the model asks ID for (model.BOSToken etc.); ID maps
// them to the model proto's special ids even where its pieces are named
// otherwise (SentencePiece's default <s>, </s>). The ids themselves come from
// the proto: Gemma's are pad 0, eos 1, bos 2, unk 3.
const (
	PadToken = "<pad>"
	BOSToken = "<bos>"
	EOSToken = "<eos>"
	UnkToken = "<unk>"
)

// AnswerWords are the words the model's heads read as single tokens: the five
// quality levels (model.LevelWords) and the pair answers (model.PairWords).
// Kept here rather than imported so this package stays free of the model.
var AnswerWords = []string{"excellent", "good", "fair", "poor", "bad", "first", "second"}

// SP is a loaded SentencePiece BPE model; it implements model.Tokenizer and
// is safe for concurrent use (the processor is read-only after Load).
type SP struct {
	proc     *sentencepiece.Processor
	spec     *spec
	specials map[string]int // control and unknown pieces, by text
}

// SP implements model.Tokenizer (spelled out to keep this package free of
// the model's GoMLX imports).
var _ interface {
	Encode(string) []int
	Decode([]int) string
	ID(string) (int, bool)
} = (*SP)(nil)

// Load reads a SentencePiece .model file and checks that go-sentencepiece can
// tokenize it exactly as SentencePiece does.
func Load(path string) (*SP, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	sp, err := FromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return sp, nil
}

// FromBytes is Load on the bytes of a .model file.
func FromBytes(b []byte) (*SP, error) {
	s, err := parseSpec(b)
	if err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	n := len(s.pieces)
	for name, id := range map[string]int{"unk": s.unk, "bos": s.bos, "eos": s.eos, "pad": s.pad} {
		if id >= n || (id < 0 && name == "unk") {
			return nil, fmt.Errorf("%s id %d out of range for %d pieces", name, id, n)
		}
	}
	proc, err := sentencepiece.NewProcessor(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	sp := &SP{proc: proc, spec: s, specials: map[string]int{}}
	for id, p := range s.pieces {
		if p.typ == typeControl || p.typ == typeUnknown {
			sp.specials[p.text] = id
		}
	}
	return sp, nil
}

// Size is the number of ids (pieces) of the model.
func (sp *SP) Size() int { return len(sp.spec.pieces) }

// BOS is the beginning-of-sequence id, -1 if the model has none.
func (sp *SP) BOS() int { return sp.spec.bos }

// EOS is the end-of-sequence id, -1 if the model has none.
func (sp *SP) EOS() int { return sp.spec.eos }

// Pad is the padding id, -1 if the model has none.
func (sp *SP) Pad() int { return sp.spec.pad }

// Unk is the unknown-piece id.
func (sp *SP) Unk() int { return sp.spec.unk }

// Piece is the text of an id's piece ("" when out of range).
func (sp *SP) Piece(id int) string {
	if id < 0 || id >= sp.Size() {
		return ""
	}
	return sp.spec.pieces[id].text
}

// Encode implements model.Tokenizer. No BOS/EOS is added and nothing is
// prepended: "good" and " good" encode differently.
func (sp *SP) Encode(text string) []int {
	if text == "" {
		// go-sentencepiece returns [<unk>] for "" without byte fallback;
		// SentencePiece returns nothing.
		return nil
	}
	toks := sp.proc.Encode(text)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = t.ID
	}
	return ids
}

// Decode implements model.Tokenizer. Control ids (bos, eos, pad) decode to
// nothing; ids outside the vocabulary (a decoder head wider than the
// tokenizer) decode as <unk>.
func (sp *SP) Decode(ids []int) string {
	clean, copied := ids, false
	for i, id := range ids {
		if id >= 0 && id < sp.Size() {
			continue
		}
		if !copied { // leave the caller's slice alone
			clean, copied = append([]int(nil), ids...), true
		}
		clean[i] = sp.spec.unk
	}
	return sp.proc.Decode(clean)
}

// ID implements model.Tokenizer: the id of a special piece (by its text, or
// by the model package's names <bos> <eos> <pad> <unk>), or of a word that
// encodes to exactly one token.
func (sp *SP) ID(word string) (int, bool) {
	if id, ok := sp.specials[word]; ok {
		return id, true
	}
	if id, ok := sp.specialID(word); ok {
		return id, id >= 0
	}
	ids := sp.Encode(word)
	if len(ids) != 1 || ids[0] == sp.spec.unk {
		return 0, false
	}
	return ids[0], true
}

// AnswerID is the id of word as an answer: " "+word encoded to exactly one
// known token (the word-initial piece "▁"+word).
func (sp *SP) AnswerID(word string) (int, bool) {
	ids := sp.Encode(" " + word)
	if len(ids) != 1 || ids[0] == sp.spec.unk {
		return 0, false
	}
	return ids[0], true
}

// RequireSingleTokens fails, naming every offender and its pieces, unless
// each word as an answer (" "+word, see the package doc) encodes to exactly
// one known token. Use it with AnswerWords before building a model on this
// tokenizer.
func (sp *SP) RequireSingleTokens(words []string) error {
	var bad []string
	for _, w := range words {
		if _, ok := sp.AnswerID(w); ok {
			continue
		}
		var pieces []string
		for _, id := range sp.Encode(" " + w) {
			pieces = append(pieces, fmt.Sprintf("%q", sp.Piece(id)))
		}
		bad = append(bad, fmt.Sprintf("%q -> [%s]", w, strings.Join(pieces, " ")))
	}
	if len(bad) > 0 {
		return fmt.Errorf("tokenizer: words are not single tokens: %s "+
			"(train the model with them as user-defined symbols \"▁word\", see Train)", strings.Join(bad, ", "))
	}
	return nil
}

// specialID maps the model package's special names to the proto's ids.
func (sp *SP) specialID(name string) (int, bool) {
	switch name {
	case BOSToken:
		return sp.spec.bos, true
	case EOSToken:
		return sp.spec.eos, true
	case PadToken:
		return sp.spec.pad, true
	case UnkToken:
		return sp.spec.unk, true
	}
	return 0, false
}
