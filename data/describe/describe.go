package describe

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cpllm/cpllm/internal/levels"
)

// Facts are what is known about one clip.
type Facts struct {
	MOS           float64 // normalised to 1..5; <= 0 or NaN: unknown, no quality statement
	Width, Height int     // 0: unknown, no format statement
	FPS           float64 // 0: unknown, resolution only
	CRF           *int    // set for CRF-ladder items: the H.264 CRF they were re-encoded at
	Signals       Signals
}

// Statement is one claim of a description and the number behind it.
type Statement struct {
	Kind  Kind    `json:"kind"`
	Value float64 `json:"value"` // the measured value (MOS, FPS, CRF or the signal)
	Word  string  `json:"word"`  // the words used for it; they appear verbatim in the text
}

// Description is a generated text and the statements it makes.
type Description struct {
	Text       string      `json:"text"`
	Statements []Statement `json:"statements"`
}

// clauses holds, per kind, lower-case clause templates with one %s for the
// word. None starts with the word, so capitalising a sentence never alters it.
var clauses = map[Kind][]string{
	KindSharpness:  {"the picture looks %s", "details appear %s", "the image is %s overall", "fine textures look %s"},
	KindNoise:      {"the image is %s", "flat areas look %s", "the footage looks %s"},
	KindBlocking:   {"there is %s", "the encoding shows %s", "the frames show %s"},
	KindExposure:   {"the scene is %s", "the footage looks %s", "in terms of exposure it is %s"},
	KindShadows:    {"there are %s", "the dark regions show %s"},
	KindHighlights: {"there are %s", "the bright regions show %s"},
	KindContrast:   {"it has %s", "the picture has %s", "the tones show %s"},
	KindColour:     {"it shows %s", "the palette has %s", "the video has %s"},
}

// Whole-sentence templates for the clip-level facts.
var (
	qualityTpl  = []string{"Overall, the quality of this video is %s.", "This is a video of %s quality.", "The visual quality is %s.", "I would rate its quality as %s."}
	closingTpl  = []string{"Taken together, the quality is %s.", "All in all, this video's quality is %s.", "So the overall quality is %s."}
	formatTpl   = []string{"The clip is %s.", "The video is %s.", "Its format is %s."}
	encodingTpl = []string{"It was %s.", "The clip has been %s.", "This version was %s."}
	joiners     = []string{", and ", "; "}
)

// Describe writes a description of f whose wording, sentence structure and
// order are drawn from seed (PCG); the same facts and seed give the same text.
// Every statement's word follows Scales (levels.Word for the MOS) for its value.
func Describe(f Facts, seed uint64) Description {
	rng := rand.New(rand.NewPCG(seed, 0x64657363)) // "desc"
	pick := func(ts []string) string { return ts[rng.IntN(len(ts))] }
	var d Description
	var quality, format, encoding string
	if !math.IsNaN(f.MOS) && f.MOS > 0 {
		w := levels.Word(f.MOS)
		d.Statements = append(d.Statements, Statement{KindQuality, f.MOS, w})
		quality = w
	}
	if f.Width > 0 && f.Height > 0 {
		w := fmt.Sprintf("%dx%d", f.Width, f.Height)
		if f.FPS > 0 {
			w += " at " + strconv.FormatFloat(math.Round(f.FPS*100)/100, 'f', -1, 64) + " fps"
		}
		d.Statements = append(d.Statements, Statement{KindFormat, f.FPS, w})
		format = fmt.Sprintf(pick(formatTpl), w)
	}
	if f.CRF != nil {
		w := fmt.Sprintf("re-encoded with H.264 at CRF %d", *f.CRF)
		d.Statements = append(d.Statements, Statement{KindEncoding, float64(*f.CRF), w})
		encoding = fmt.Sprintf(pick(encodingTpl), w)
	}
	var details []string
	for _, i := range rng.Perm(len(Scales)) {
		sc := Scales[i]
		v := sc.Value(f.Signals)
		b := sc.Band(v)
		if b.Silent {
			continue
		}
		d.Statements = append(d.Statements, Statement{sc.Kind, v, b.Word})
		details = append(details, fmt.Sprintf(pick(clauses[sc.Kind]), b.Word))
	}

	var sents []string
	add := func(s string) {
		if s != "" {
			sents = append(sents, s)
		}
	}
	closing := quality != "" && rng.IntN(3) == 0 // sometimes conclude with the level instead of opening with it
	if !closing && quality != "" {
		add(fmt.Sprintf(pick(qualityTpl), quality))
	}
	if rng.IntN(2) == 0 {
		add(format)
		add(encoding)
	} else {
		add(encoding)
		add(format)
	}
	// Details: one or two clauses per sentence.
	for len(details) > 0 {
		n := min(len(details), 1+rng.IntN(2))
		s := details[0]
		if n == 2 {
			s += pick(joiners) + details[1]
		}
		add(capitalise(s) + ".")
		details = details[n:]
	}
	if closing {
		add(fmt.Sprintf(pick(closingTpl), quality))
	}
	d.Text = strings.Join(sents, " ")
	return d
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
