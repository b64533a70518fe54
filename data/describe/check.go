package describe

import (
	"regexp"
	"slices"
	"strings"

	"github.com/cpllm/cpllm/internal/levels"
)

// Check grades a generated description against the measurements of the
// clip it describes: each signal word the text uses is a claim, right when
// it is the word Scales gives the measured value; the quality word should be
// the level of the score the same model gave; file facts (resolution,
// frame rate, CRF) are claims no input supports.

// Claim is one signal word found in a text.
type Claim struct {
	Kind     Kind   `json:"kind"`
	Said     string `json:"said"`
	Measured string `json:"measured"` // the word of the measured value ("" for a silent band)
	Right    bool   `json:"right"`
}

// Grade is the check of one text.
type Grade struct {
	Claims        []Claim `json:"claims"`
	Quality       string  `json:"quality"`        // the first level word in the text ("" none)
	QualityAgrees bool    `json:"quality_agrees"` // Quality is the level of the score given
	FileFacts     bool    `json:"file_facts"`     // states a resolution, frame rate or CRF
	Unmentioned   []Kind  `json:"unmentioned"`    // measured, worth saying, not said
	Repeats       int     `json:"repeats"`        // sentences that repeat an earlier one word for word
}

var (
	fileFactWordRE = regexp.MustCompile(`\d+x\d+|\bCRF\b|\bfps\b|H\.264`)
	levelRE        = regexp.MustCompile(`\b(` + strings.Join(levels.Words[:], "|") + `)\b`)
)

// CheckText grades text against the clip's signals and the level word of
// the score the model gave it.
func CheckText(text string, s Signals, level string) Grade {
	g := Grade{FileFacts: fileFactWordRE.MatchString(text), Repeats: repeats(text)}
	text = templateWordsRE.ReplaceAllString(text, " ")
	if m := levelRE.FindString(text); m != "" {
		g.Quality, g.QualityAgrees = m, m == level
	}
	for _, sc := range Scales {
		b := sc.Band(sc.Value(s))
		measured := ""
		if !b.Silent {
			measured = b.Word
		}
		said := saidWords(text, sc)
		for _, w := range said {
			g.Claims = append(g.Claims, Claim{Kind: sc.Kind, Said: w, Measured: measured, Right: w == measured})
		}
		if len(said) == 0 && measured != "" {
			g.Unmentioned = append(g.Unmentioned, sc.Kind)
		}
	}
	return g
}

// sentenceEndRE splits sentences: a full stop or semicolon and the spaces after it.
var sentenceEndRE = regexp.MustCompile(`[.;]\s+`)

// repeats counts sentences (and ;-clauses) equal to an earlier one, ignoring case.
func repeats(text string) int {
	seen, n := map[string]bool{}, 0
	for _, s := range sentenceEndRE.Split(strings.TrimRight(text, ". "), -1) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if seen[s] {
			n++
		}
		seen[s] = true
	}
	return n
}

// templateWordsRE matches the template phrases that hold a band or level
// word of their own ("the dark regions show"), so they are not read as claims.
var templateWordsRE = func() *regexp.Regexp {
	var words []string
	for _, sc := range Scales {
		for _, b := range sc.Bands {
			if !b.Silent {
				words = append(words, b.Word)
			}
		}
	}
	words = append(words, levels.Words[:]...)
	var frags []string
	all := slices.Concat(qualityTpl, closingTpl, formatTpl, encodingTpl)
	for _, ts := range clauses {
		all = append(all, ts...)
	}
	for _, t := range all {
		for _, f := range strings.Split(t, "%s") {
			f = regexp.QuoteMeta(strings.TrimSpace(strings.TrimSuffix(f, ".")))
			for _, w := range words {
				if regexp.MustCompile(`\b`+regexp.QuoteMeta(w)+`\b`).MatchString(f) && !slices.Contains(frags, f) {
					frags = append(frags, f)
				}
			}
		}
	}
	if len(frags) == 0 {
		return regexp.MustCompile(`$^`)
	}
	return regexp.MustCompile(`(?i)` + strings.Join(frags, "|"))
}()

// saidWords are the scale's words in text, longest first so that a word
// inside a longer one ("noisy" in "slightly noisy") counts once.
func saidWords(text string, sc Scale) []string {
	var said []string
	for _, w := range scaleWords[sc.Kind] {
		if w.re.MatchString(text) {
			said = append(said, w.word)
			text = w.re.ReplaceAllString(text, "")
		}
	}
	return said
}

type wordRE struct {
	word string
	re   *regexp.Regexp
}

// scaleWords holds each kind's non-silent words, longest first, with their
// whole-word patterns, compiled once (training rewrites every describe
// record with them).
var scaleWords = func() map[Kind][]wordRE {
	out := map[Kind][]wordRE{}
	for _, sc := range Scales {
		var ws []wordRE
		for _, b := range sc.Bands {
			if !b.Silent {
				ws = append(ws, wordRE{b.Word, regexp.MustCompile(`\b` + regexp.QuoteMeta(b.Word) + `\b`)})
			}
		}
		slices.SortStableFunc(ws, func(a, b wordRE) int { return len(b.word) - len(a.word) })
		out[sc.Kind] = ws
	}
	return out
}()

// GradeSummary aggregates the grades of several texts.
type GradeSummary struct {
	Texts         int      `json:"texts"`
	Claims        int      `json:"claims"`
	Right         int      `json:"right"`
	Accuracy      *float64 `json:"accuracy"` // Right / Claims (null without claims)
	ClaimsPerText float64  `json:"claims_per_text"`
	QualityStated int      `json:"quality_stated"` // texts with a level word
	QualityAgrees int      `json:"quality_agrees"` // ... that is the level of the model's score
	FileFacts     int      `json:"file_facts"`     // texts stating a resolution, frame rate or CRF
	Repeating     int      `json:"repeating"`      // texts with a repeated sentence
}

// Summarise adds up grades.
func Summarise(gs []Grade) GradeSummary {
	var s GradeSummary
	for _, g := range gs {
		s.Texts++
		s.Claims += len(g.Claims)
		for _, c := range g.Claims {
			if c.Right {
				s.Right++
			}
		}
		if g.Quality != "" {
			s.QualityStated++
		}
		if g.QualityAgrees {
			s.QualityAgrees++
		}
		if g.FileFacts {
			s.FileFacts++
		}
		if g.Repeats > 0 {
			s.Repeating++
		}
	}
	if s.Claims > 0 {
		a := float64(s.Right) / float64(s.Claims)
		s.Accuracy = &a
	}
	if s.Texts > 0 {
		s.ClaimsPerText = float64(s.Claims) / float64(s.Texts)
	}
	return s
}
