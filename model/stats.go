package model

import (
	"fmt"
	"slices"

	"github.com/cpllm/cpllm/model/layers"
	"github.com/cpllm/cpllm/model/mobilenet"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// StatsKinds are the per-video statistics a model can take as one extra
// visual token (config key stats), by name, with their length. "nss": the
// BRISQUE-style natural-scene statistics and the two sharpness statistics of
// data/nss (FrameNSS), averaged over the video's stored native-resolution
// patches by the feed. They see every stored pixel of those patches, where
// the pixel encoder sees crops of them at the input size. "nss-signals":
// those 38 and the 7 tone and artifact signals of data/describe
// (SignalNames: mean luma, contrast, near-black and near-white fractions,
// colourfulness, noise, blockiness) over the same patches. The pixel
// encoder's local contrast normalisation removes brightness and contrast,
// and the NSS are computed on luma after the same normalisation, so without
// them a model cannot see exposure or colour. "nss-logsignals": nss-signals
// with the noise level on a log scale (ln(sigma + 0.01)): compression
// removes a fixed fraction of a clip's noise, which on the raw scale is a
// step too small beside the spread between clips for the token to carry
// the order of neighbouring CRF levels. "frame-nss-logsignals": the same 45
// of the whole pixel-view frames the patches are cut from, stored by data
// prep (shards.frame_stats) or measured by the video scorer: about ten times
// the pixels of the patches, so compression's small steps stand out of the
// content (a linear fit on the patches' statistics orders at most about 0.9
// of the holdout clips' neighbouring CRF pairs, on the whole frames' 0.97).
// "nss-logsignals+frame": the patches' 45, then the frames' 45.
// "frame-nss-logsignals+mnv2mid": the frames' 45, then pretrained
// features of the same frames (FrameDeepKind): the channel means of
// MobileNetV2's middle stages (MNV2Mid), which a ridge fit on the training
// pool found to carry quality beyond the hand-made statistics.
// "frame-nss-logsignals+mnv2mid+still": those, then 1 for a still image (a
// one-frame clip: every context frame the same picture) and 0 for a video,
// so the statistics' reading can differ between the two
// (heads.stats_linear_domains).
var StatsKinds = map[string]int{"nss": 38, "nss-signals": 45, "nss-logsignals": 45,
	"frame-nss-logsignals": 45, "nss-logsignals+frame": 90, "frame-nss-logsignals+mnv2mid": 45 + len(MNV2Mid()),
	"frame-nss-logsignals+mnv2mid+still": 45 + len(MNV2Mid()) + 1}

// FrameStatsKind reports whether statistics kind needs the statistics of
// whole frames (Record.FrameStats), which the patches cannot give.
func FrameStatsKind(kind string) bool {
	return kind == "frame-nss-logsignals" || kind == "nss-logsignals+frame" || FrameDeepKind(kind)
}

// FrameDeepKind reports whether statistics kind also needs pretrained
// features of the whole frames (shards.frame_deep: mobilenetv2), stored in
// Record.FrameStats after the data/stats values.
func FrameDeepKind(kind string) bool {
	return kind == "frame-nss-logsignals+mnv2mid" || StillKind(kind)
}

// StillKind reports whether statistics kind ends with the still-image
// indicator (1 for a one-frame clip, 0 for a video).
func StillKind(kind string) bool { return kind == "frame-nss-logsignals+mnv2mid+still" }

// mnv2MidStages are the MobileNetV2 stages whose channel means MNV2Mid
// keeps: block_5, block_9, block_12, block_15 (strides 8 to 32).
var mnv2MidStages = []string{"block_5", "block_9", "block_12", "block_15"}

// MNV2Mid returns the indices into mobilenet.FeatureNames of the channel
// means of mnv2MidStages (352 features).
func MNV2Mid() []int {
	var idx []int
	off := 0
	for i, s := range mobilenet.StageNames {
		c := mobilenet.StageWidths[i]
		if slices.Contains(mnv2MidStages, s) {
			for j := range c {
				idx = append(idx, off+j)
			}
		}
		off += 2 * c
	}
	return idx
}

// statsClip bounds a standardised statistic: a video far outside the
// training distribution (a cartoon, a test pattern) cannot swamp the token.
const statsClip = 5.0

// StatsDim is the length of the statistics vector (0 without stats).
func (c Config) StatsDim() int { return StatsKinds[c.Stats] }

func validateStats(kind string) error {
	if _, ok := StatsKinds[kind]; !ok && kind != "" {
		return fmt.Errorf("%q is not a known statistics kind (nss, nss-signals, nss-logsignals, frame-nss-logsignals, nss-logsignals+frame, frame-nss-logsignals+mnv2mid, frame-nss-logsignals+mnv2mid+still) or empty", kind)
	}
	return nil
}

// statsNormScope holds the standardisation of the statistics: mean [F] and
// std [F], not trainable. They are set from the training data before
// training (SetStatsNorm) and travel with the weights, like a batch norm's
// running statistics.
const statsNormScope = "stats_norm"

// statsToken maps each video's statistics stats [N, F] (float32) to one
// decoder-width token [N, 1, D]: standardised, clipped to +-statsClip, then
// projected by an MLP under projector/stats.
func (m *Model) statsToken(scope *gm.Scope, stats *Node) *Node {
	z := ConvertDType(m.statsZ(scope, stats), m.DType())
	hidden := m.Cfg.Projector.HiddenDim
	if hidden == 0 {
		hidden = m.Cfg.Decoder.Width
	}
	tok := layers.MLP2(scope.At("projector").At("stats"), z, hidden, m.Cfg.Decoder.Width)
	return ExpandAxes(tok, 1)
}

// statsZ standardises statistics [N, F] (float32) with the stored mean and
// std and clips them to +-statsClip: [N, F] float32.
func (m *Model) statsZ(scope *gm.Scope, stats *Node) *Node {
	f := m.Cfg.StatsDim()
	layers.AssertRank(stats, 2, "stats")
	layers.AssertLastDim(stats, f, "stats")
	g := stats.Graph()
	ns := scope.At(statsNormScope)
	mean := layers.VarTrainable(ns, g, "mean", dtypes.Float32, layers.ZeroInit, false, f)
	std := layers.VarTrainable(ns, g, "std", dtypes.Float32, layers.OneInit, false, f)
	z := Div(Sub(stats, ExpandAxes(mean, 0)), ExpandAxes(std, 0))
	return MinScalar(MaxScalar(z, -statsClip), statsClip)
}

// StatsTilt is the heads.stats_linear term added to the level logits
// [B, 5]: t * (LevelScores - 3), where t = gain * (w . z) is a linear
// function of the video's standardised statistics z (w under
// heads/stats_linear, zero at init, so a model starts as one without the
// head; gain is heads.stats_linear_gain). A positive t moves
// probability towards the higher levels in order, so t is a quality
// direction in statistics space that the score reads directly: a
// same-source pair (a CRF ladder) that differs little in the statistics can
// be ordered by it without the decoder's nonlinear fit of the MOS moving.
func (m *Model) StatsTilt(scope *gm.Scope, stats *Node) *Node {
	z := m.statsZ(scope, stats)
	w := layers.Var(scope.At("heads").At("stats_linear"), z.Graph(), "weight", dtypes.Float32, layers.ZeroInit, m.Cfg.StatsDim())
	gain := m.Cfg.Heads.StatsLinearGain
	if gain == 0 {
		gain = 1
	}
	t := layers.Contract(z, []int{1}, nil, w, []int{0}, nil) // [B]
	if m.Cfg.Heads.StatsLinearDomains {
		t = Add(t, m.domainTilt(scope, stats, z))
	}
	t = MulScalar(t, gain)
	if m.Cfg.Heads.StatsKernel > 0 {
		t = Add(t, m.kernelTilt(scope, stats, z))
	}
	levels := make([]float32, len(LevelScores))
	for i, s := range LevelScores {
		levels[i] = float32(s - 3)
	}
	return Mul(ExpandAxes(t, 1), ExpandAxes(Const(z.Graph(), levels), 0))
}

// domainTilt is heads.stats_linear_domains' part of the tilt before the
// gain: s (u . z) + (1 - s) (v . z), where s is the raw still-image
// indicator (the statistics' last entry, 0 or 1) and u, v are the weights
// of still images and of videos beside the shared w: a hierarchical linear
// reading, the two domains' own directions shrunk towards a common one.
func (m *Model) domainTilt(scope *gm.Scope, stats, z *Node) *Node {
	f := m.Cfg.StatsDim()
	sc := scope.At("heads").At("stats_linear")
	u := layers.Var(sc, z.Graph(), "still", dtypes.Float32, layers.ZeroInit, f)
	v := layers.Var(sc, z.Graph(), "video", dtypes.Float32, layers.ZeroInit, f)
	s := Reshape(Slice(stats, AxisRange(), AxisElem(f-1)), -1) // [B]
	tu := layers.Contract(z, []int{1}, nil, u, []int{0}, nil)
	tv := layers.Contract(z, []int{1}, nil, v, []int{0}, nil)
	return Add(Mul(s, tu), Mul(OneMinus(s), tv))
}

// SetStatsNorm sets the standardisation of the statistics token (mean and
// std per statistic, std > 0) after Init. Training calls it with the
// statistics of its training records; a checkpoint restores it with the
// weights.
func (m *Model) SetStatsNorm(mean, std []float64) error {
	f := m.Cfg.StatsDim()
	if f == 0 {
		return fmt.Errorf("model: stats norm set on a model without stats")
	}
	if len(mean) != f || len(std) != f {
		return fmt.Errorf("model: stats norm of %d/%d values, want %d", len(mean), len(std), f)
	}
	for name, vals := range map[string][]float64{"mean": mean, "std": std} {
		v := m.Store.GetVariable("/" + statsNormScope + "/" + name)
		if v == nil {
			return fmt.Errorf("model: variable /%s/%s does not exist (Init first)", statsNormScope, name)
		}
		x := make([]float32, f)
		for i, a := range vals {
			if name == "std" && !(a > 0) {
				return fmt.Errorf("model: stats std[%d] = %g, want > 0", i, a)
			}
			x[i] = float32(a)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(x, f)); err != nil {
			return err
		}
	}
	return nil
}

// StatsNorm returns the standardisation of the statistics token (after Init
// or a checkpoint load).
func (m *Model) StatsNorm() (mean, std []float64, err error) {
	get := func(name string) ([]float64, error) {
		v := m.Store.GetVariable("/" + statsNormScope + "/" + name)
		if v == nil {
			return nil, fmt.Errorf("model: variable /%s/%s does not exist (Init first)", statsNormScope, name)
		}
		t, err := v.Value()
		if err != nil {
			return nil, err
		}
		x := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(x))
		for i, a := range x {
			out[i] = float64(a)
		}
		return out, nil
	}
	if mean, err = get("mean"); err != nil {
		return nil, nil, err
	}
	std, err = get("std")
	return mean, std, err
}
