package describe

import (
	"regexp"
	"strings"
)

// A description written by Describe can state file facts (resolution, frame
// rate, the CRF a ladder rung was re-encoded at) that no model input
// carries: the context view is squash-resized, the pixel view is cut from
// frames resized to fit 540x1080, and nothing shows the frame rate or the
// encoder's settings. A model trained on them learns to state such facts
// anyway, and then states them wrongly. Observable keeps what the inputs do
// show: the quality level and the measured signals.

// fileFactRE matches one whole sentence of formatTpl or encodingTpl, built
// from the templates themselves so the two cannot drift apart.
var fileFactRE = func() *regexp.Regexp {
	var alts []string
	for _, t := range append(append([]string{}, formatTpl...), encodingTpl...) {
		pre, post, _ := strings.Cut(t, "%s")
		alts = append(alts, regexp.QuoteMeta(pre)+`[^.]*?(?:\.\d+[^.]*?)*`+regexp.QuoteMeta(post))
	}
	return regexp.MustCompile(`(?:^| )(?:` + strings.Join(alts, "|") + `)`)
}()

// Observable removes the format and encoding sentences from a Describe
// text. With still set (a one-frame clip: an image) it names the subject an
// image instead of a video, clip or footage. Text that Describe did not
// write passes through except for those two edits.
func Observable(text string, still bool) string {
	out := strings.TrimSpace(fileFactRE.ReplaceAllString(text, ""))
	if still {
		out = stillNouns.Replace(out)
	}
	return out
}

// stillNouns renames the subject in the templates' phrasings; band words
// never contain these nouns.
var stillNouns = strings.NewReplacer(
	"this video's", "this image's", "this video", "this image", "a video of", "an image of",
	"The video", "The image", "the video", "the image", "The footage", "The image", "the footage", "the image",
	"The clip", "The image", "the clip", "the image", "The frames show", "The image shows", "the frames show", "the image shows")
