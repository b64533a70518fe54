package describe

import "strings"

// Describe varies wording and clause order on purpose, and a decoder large
// enough to follow that can say each fact once. A small decoder trained
// from scratch cannot track which clauses it has already written, so greedy
// decoding repeats the most frequent clause ("The image is clean." nine
// times). Canonical writes the same facts in one fixed order and wording:
// each word is still chosen from the measurements, and the model only has
// to learn which word fills each slot.

// Parse reads the quality word and the one signal word per kind that a
// Describe text states (the first, longest match; see CheckText).
func Parse(text string) (quality string, words map[Kind]string) {
	words = map[Kind]string{}
	if m := levelRE.FindString(text); m != "" {
		quality = m
	}
	text = templateWordsRE.ReplaceAllString(text, " ")
	for _, sc := range Scales {
		if said := saidWords(text, sc); len(said) > 0 {
			words[sc.Kind] = said[0]
		}
	}
	return quality, words
}

// Canonical writes a quality word and signal words in the fixed form
//
//	The quality is good. The picture is sharp, clean and well exposed, with
//	no visible compression artifacts, moderate contrast and natural colours.
//	There are some crushed shadows.
//
// leaving out what is not given. It names neither video nor image, so one
// form fits both.
func Canonical(quality string, words map[Kind]string) string {
	var sents []string
	if quality != "" {
		sents = append(sents, "The quality is "+quality+".")
	}
	pick := func(kinds ...Kind) []string {
		var out []string
		for _, k := range kinds {
			if w := words[k]; w != "" {
				out = append(out, w)
			}
		}
		return out
	}
	is, with := pick(KindSharpness, KindNoise, KindExposure), pick(KindBlocking, KindContrast, KindColour)
	switch {
	case len(is) > 0 && len(with) > 0:
		sents = append(sents, "The picture is "+list(is)+", with "+list(with)+".")
	case len(is) > 0:
		sents = append(sents, "The picture is "+list(is)+".")
	case len(with) > 0:
		sents = append(sents, "The picture has "+list(with)+".")
	}
	if extremes := pick(KindShadows, KindHighlights); len(extremes) > 0 {
		sents = append(sents, "There are "+list(extremes)+".")
	}
	return strings.Join(sents, " ")
}

// list joins words as "a", "a and b", "a, b and c".
func list(ws []string) string {
	if len(ws) <= 1 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

// CanonicalText rewrites a Describe text in the canonical form; a text in
// which Parse finds nothing is returned as Observable(text, still).
func CanonicalText(text string, still bool) string {
	q, w := Parse(text)
	if q == "" && len(w) == 0 {
		return Observable(text, still)
	}
	return Canonical(q, w)
}
