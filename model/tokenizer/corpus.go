package tokenizer

import (
	"math/rand/v2"
	"os"
	"strings"
)

// Pieces of quality-description-like sentences for DemoCorpus.
var (
	demoSubjects = []string{"the video", "this clip", "the footage", "the first video", "the second video",
		"the picture", "the stream", "the recording", "motion", "the sky", "the face", "the text overlay"}
	demoVerbs  = []string{"is", "looks", "appears", "seems", "remains", "becomes"}
	demoLevels = []string{"excellent", "good", "fair", "poor", "bad", "very good", "quite poor",
		"sharp", "blurry", "noisy", "blocky", "washed out", "over-exposed", "stable", "shaky"}
	demoReasons = []string{"because of compression artifacts", "due to camera shake", "with strong banding",
		"thanks to clean edges", "after the scene cut", "in low light", "at 1080p", "at 24 fps",
		"with judder in pans", "with vivid colours", "despite heavy grain", "under bright sun"}
	demoQuestions = []string{"how is the quality of this video?", "rate the quality of this video:",
		"which video has better quality, first or second?", "describe the quality of this video.",
		"is the first better than the second?", "what is wrong with the second clip?"}
	// Edge cases: accents, CJK, emoji, tabs, runs of spaces, leading and
	// trailing whitespace, an empty line, digits and punctuation.
	demoEdges = []string{
		"Qualité médiocre : l'image est floue, les couleurs sont délavées.",
		"Die Qualität ist gut, aber die Bewegung ruckelt ein wenig.",
		"la calidad es excelente; ¿por qué no la primera?",
		"画质很好，但是有一点模糊。", "この動画の画質は普通です。", "화질이 나쁩니다.",
		"great video 👍🎬 but the end is bad 😞", "🌈✨ vivid colours ✨🌈",
		"tab\tseparated\tquality\twords", "\tleading tab", "trailing tab\t",
		"two  spaces", "three   spaces   here", "  leading spaces", "trailing spaces  ",
		"   ", "", "good", "bad", "first", "second", "excellent!", "(fair)", "poor.",
		"score: 4.5/5 — good", "MOS=3.2 → fair", "ñandú ça naïve façade Ærø Øresund",
		"Ελληνικά και русский текст", "עברית ועربية", "emoji family 👨‍👩‍👧 flag 🇯🇵",
	}
)

// DemoCorpus returns n lines of a small deterministic corpus (one seed, one
// corpus): quality-description sentences mixed with unicode and whitespace
// edge cases. Models for tests are trained from it at test time.
func DemoCorpus(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	lines := make([]string, 0, n)
	for len(lines) < n {
		switch k := r.IntN(10); {
		case k < 5:
			lines = append(lines, pick(demoSubjects)+" "+pick(demoVerbs)+" "+pick(demoLevels)+" "+pick(demoReasons)+".")
		case k < 7:
			lines = append(lines, pick(demoQuestions)+" "+pick(demoLevels))
		case k < 8:
			lines = append(lines, strings.ToUpper(pick(demoSubjects))+" "+pick(demoLevels)+", "+pick(demoLevels))
		default:
			lines = append(lines, pick(demoEdges))
		}
	}
	return lines
}

// WriteCorpus writes lines, one a line, to path.
func WriteCorpus(path string, lines []string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
