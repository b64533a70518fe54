package main

import (
	"math/rand/v2"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/model"
)

// builtinCorpus is the corpus of configs/tokenizer/cpllm.model: each task's
// prompt followed, after a space, by its answers (the level words, the pair
// words, descriptions), so the answer words and the description vocabulary
// of data/describe become word-initial pieces. Deterministic: one corpus, one
// model (make tokenizer, TestBuiltinTokenizerIsReproducible).
func builtinCorpus() []string {
	var descs []string
	r := rand.New(rand.NewPCG(1, 0x746f6b)) // "tok"
	for i := range 3000 {
		descs = append(descs, describe.Describe(corpusFacts(r), uint64(i)).Text)
	}
	return answerCorpus(descs)
}

// answerCorpus is each task's prompt followed by its answers as the model
// encodes them (after a space): the level and pair words, then descs.
func answerCorpus(descs []string) []string {
	p := model.DefaultPrompts
	var lines []string
	for range 20 { // enough occurrences that the prompts merge into few pieces
		for _, w := range model.LevelWords {
			lines = append(lines, p.Score+" "+w)
		}
		for _, w := range model.PairWords {
			lines = append(lines, p.Pair+" "+w)
		}
	}
	for _, d := range descs {
		lines = append(lines, p.Describe+" "+d)
	}
	return lines
}

// corpusFacts draws clip facts spanning every band of describe.Scales, the
// usual formats and, for a third of the clips, a CRF re-encode.
func corpusFacts(r *rand.Rand) describe.Facts {
	sizes := [][2]int{{1920, 1080}, {1280, 720}, {960, 540}, {640, 360}, {3840, 2160}, {720, 1280}}
	fps := []float64{0, 23.976, 24, 25, 29.97, 30, 50, 60}
	sz := sizes[r.IntN(len(sizes))]
	f := describe.Facts{MOS: 1 + 4*r.Float64(), Width: sz[0], Height: sz[1], FPS: fps[r.IntN(len(fps))],
		Signals: describe.Signals{
			Sharpness:    800 * r.Float64() * r.Float64(),
			Noise:        10 * r.Float64() * r.Float64(),
			Blockiness:   0.9 + 0.6*r.Float64(),
			MeanLuma:     255 * r.Float64(),
			DarkFrac:     0.6 * r.Float64() * r.Float64(),
			BrightFrac:   0.4 * r.Float64() * r.Float64(),
			Contrast:     90 * r.Float64(),
			Colorfulness: 90 * r.Float64(),
		}}
	if r.IntN(8) == 0 {
		f.MOS = 0 // no quality statement
	}
	if r.IntN(3) == 0 {
		crf := 18 + r.IntN(34)
		f.CRF = &crf
	}
	return f
}
