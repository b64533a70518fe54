package tokenizer

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// go-sentencepiece keeps its generated proto package internal, so the few
// ModelProto fields we check are read straight off the wire. Field numbers
// are from sentencepiece_model.proto.
const (
	fModelPieces     = 1 // ModelProto.pieces
	fModelTrainer    = 2 // ModelProto.trainer_spec
	fModelNormalizer = 3 // ModelProto.normalizer_spec
	fModelDenorm     = 5 // ModelProto.denormalizer_spec

	fPiecePiece = 1 // SentencePiece.piece
	fPieceType  = 3 // SentencePiece.type

	fTrainerInput      = 1  // TrainerSpec.input (corpus paths)
	fTrainerPrefix     = 2  // TrainerSpec.model_prefix
	fTrainerModelType  = 3  // TrainerSpec.model_type
	fTrainerByteFallbk = 35 // TrainerSpec.byte_fallback
	fTrainerUnkID      = 40
	fTrainerBosID      = 41
	fTrainerEosID      = 42
	fTrainerPadID      = 43

	fNormName    = 1 // NormalizerSpec.name
	fNormCharMap = 2 // NormalizerSpec.precompiled_charsmap
	fNormDummy   = 3 // NormalizerSpec.add_dummy_prefix
	fNormExtraWS = 4 // NormalizerSpec.remove_extra_whitespaces
	fNormEscWS   = 5 // NormalizerSpec.escape_whitespaces
	fNormRuleTSV = 6 // NormalizerSpec.normalization_rule_tsv
)

// Piece types (SentencePiece.Type).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

var modelTypeNames = map[uint64]string{1: "unigram", 2: "bpe", 3: "word", 4: "char"}

// spec is what Load needs from a model proto beyond what go-sentencepiece
// exposes. Defaults follow the proto2 declarations.
type spec struct {
	modelType    uint64
	byteFallback bool
	unk, bos     int
	eos, pad     int

	normName     string
	charsMapLen  int
	ruleTSV      string
	dummyPrefix  bool
	extraWS      bool
	escapeWS     bool
	denormCharsN int

	pieces []piece
}

type piece struct {
	text string
	typ  uint64
}

// parseSpec reads the model type, normalizer and pieces of a model proto.
func parseSpec(b []byte) (*spec, error) {
	s := &spec{modelType: 1, unk: 0, bos: 1, eos: 2, pad: -1,
		dummyPrefix: true, extraWS: true, escapeWS: true}
	err := eachField(b, func(num protowire.Number, v uint64, sub []byte) error {
		switch num {
		case fModelPieces:
			p := piece{typ: typeNormal}
			err := eachField(sub, func(n protowire.Number, v uint64, sub []byte) error {
				switch n {
				case fPiecePiece:
					p.text = string(sub)
				case fPieceType:
					p.typ = v
				}
				return nil
			})
			s.pieces = append(s.pieces, p)
			return err
		case fModelTrainer:
			return eachField(sub, s.trainerField)
		case fModelNormalizer:
			return eachField(sub, s.normalizerField)
		case fModelDenorm:
			return eachField(sub, func(n protowire.Number, _ uint64, sub []byte) error {
				if n == fNormCharMap {
					s.denormCharsN = len(sub)
				}
				return nil
			})
		}
		return nil
	})
	return s, err
}

func (s *spec) trainerField(n protowire.Number, v uint64, _ []byte) error {
	// int32 fields are sign-extended varints; -1 comes back as 2^64-1.
	id := int(int32(v))
	switch n {
	case fTrainerModelType:
		s.modelType = v
	case fTrainerByteFallbk:
		s.byteFallback = v != 0
	case fTrainerUnkID:
		s.unk = id
	case fTrainerBosID:
		s.bos = id
	case fTrainerEosID:
		s.eos = id
	case fTrainerPadID:
		s.pad = id
	}
	return nil
}

func (s *spec) normalizerField(n protowire.Number, v uint64, sub []byte) error {
	switch n {
	case fNormName:
		s.normName = string(sub)
	case fNormCharMap:
		s.charsMapLen = len(sub)
	case fNormRuleTSV:
		s.ruleTSV = string(sub)
	case fNormDummy:
		s.dummyPrefix = v != 0
	case fNormExtraWS:
		s.extraWS = v != 0
	case fNormEscWS:
		s.escapeWS = v != 0
	}
	return nil
}

// check rejects what go-sentencepiece would silently encode differently from
// SentencePiece: it implements only BPE and the identity normalizer.
func (s *spec) check() error {
	if s.modelType != 2 {
		name, ok := modelTypeNames[s.modelType]
		if !ok {
			name = fmt.Sprintf("type %d", s.modelType)
		}
		return fmt.Errorf("model type %s is not supported: go-sentencepiece implements only BPE (train with --model_type=bpe)", name)
	}
	unsupported := func(what string) error {
		return fmt.Errorf("normalizer %s is not supported: go-sentencepiece implements only the identity normalizer "+
			"(train with --normalization_rule_name=identity --add_dummy_prefix=false --remove_extra_whitespaces=false)", what)
	}
	switch {
	case s.normName != "identity" && s.normName != "":
		return unsupported(fmt.Sprintf("%q", s.normName))
	case s.charsMapLen > 0 || s.ruleTSV != "":
		return unsupported("with a character map")
	case s.dummyPrefix:
		return unsupported("add_dummy_prefix=true")
	case s.extraWS:
		return unsupported("remove_extra_whitespaces=true")
	case !s.escapeWS:
		return unsupported("escape_whitespaces=false")
	case s.denormCharsN > 0:
		return unsupported("with a denormalizer")
	}
	return nil
}

// eachField calls f for each field of a message: v holds varint and fixed
// values, sub the bytes of length-delimited ones.
func eachField(b []byte, f func(num protowire.Number, v uint64, sub []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad model proto: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v uint64
		var sub []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			sub, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("bad model proto: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, v, sub); err != nil {
			return err
		}
	}
	return nil
}

// scrubPaths drops the corpus path and model prefix that spm_train records in
// trainer_spec, so the model bytes depend on the corpus content only. Field
// order and all other bytes are kept.
func scrubPaths(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("bad model proto: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, fmt.Errorf("bad model proto: %w", protowire.ParseError(m))
		}
		field := b[:n+m]
		b = b[n+m:]
		if num != fModelTrainer || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		inner, _ := protowire.ConsumeBytes(field[n:])
		kept, err := dropFields(inner, fTrainerInput, fTrainerPrefix)
		if err != nil {
			return nil, err
		}
		out = protowire.AppendTag(out, num, typ)
		out = protowire.AppendBytes(out, kept)
	}
	return out, nil
}

// dropFields copies a message without the given field numbers.
func dropFields(b []byte, drop ...protowire.Number) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("bad model proto: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, fmt.Errorf("bad model proto: %w", protowire.ParseError(m))
		}
		keep := true
		for _, d := range drop {
			keep = keep && num != d
		}
		if keep {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out, nil
}
