package model

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
)

// statsLinearVar is the variable of the heads.stats_linear weights.
const statsLinearVar = "/heads/stats_linear/weight"

// statsLinearStillVar and statsLinearVideoVar are heads.stats_linear_domains'
// weights of still images and of videos.
const (
	statsLinearStillVar = "/heads/stats_linear/still"
	statsLinearVideoVar = "/heads/stats_linear/video"
)

// StatsLinearGain is heads.stats_linear_gain with its default (0 = 1).
func (c Config) StatsLinearGain() float64 {
	if c.Heads.StatsLinearGain == 0 {
		return 1
	}
	return c.Heads.StatsLinearGain
}

// SetStatsLinear sets the heads.stats_linear weights so that the tilt is
// t = w . z for standardised statistics z (the gain is divided out), after
// Init; with heads.stats_linear_domains w holds 3F values, the shared
// weights, then the still images' and the videos' (domainTilt). Training
// uses it to start the linear path at a closed-form fit (train config
// stats_linear_init).
func (m *Model) SetStatsLinear(w []float64) error {
	f := m.Cfg.StatsDim()
	if !m.Cfg.Heads.StatsLinear || f == 0 {
		return fmt.Errorf("model: stats_linear weights set on a model without heads.stats_linear")
	}
	vars := []string{statsLinearVar}
	if m.Cfg.Heads.StatsLinearDomains {
		vars = append(vars, statsLinearStillVar, statsLinearVideoVar)
	}
	if len(w) != len(vars)*f {
		return fmt.Errorf("model: %d stats_linear weights, want %d", len(w), len(vars)*f)
	}
	for i, a := range w {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return fmt.Errorf("model: stats_linear weight %d is %g", i, a)
		}
	}
	for k, name := range vars {
		v := m.Store.GetVariable(name)
		if v == nil {
			return fmt.Errorf("model: variable %s does not exist (Init first)", name)
		}
		x := make([]float32, f)
		for i, a := range w[k*f : (k+1)*f] {
			x[i] = float32(a / m.Cfg.StatsLinearGain())
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(x, f)); err != nil {
			return err
		}
	}
	return nil
}

// StatsZ standardises one video's statistics as the model's statistics
// token does (statsZ): (x - mean) / std, clipped to +-statsClip.
func StatsZ(x, mean, std []float64) []float64 {
	z := make([]float64, len(x))
	for i := range x {
		z[i] = math.Max(-statsClip, math.Min(statsClip, (x[i]-mean[i])/std[i]))
	}
	return z
}

// TiltScore is the expected score of level logits that are equal but for a
// tilt t (StatsTilt): sum_l l exp(t (l-3)) / sum_l exp(t (l-3)) over the
// LevelScores l. It rises from 1 to 5 as t goes from -inf to +inf (3 at 0,
// slope 2 there).
func TiltScore(t float64) float64 {
	var num, den float64
	for _, l := range LevelScores {
		e := math.Exp(t * (l - 3))
		num += l * e
		den += e
	}
	return num / den
}

// TiltFor inverts TiltScore: the tilt whose expected score is s, for s in
// (1, 5) (bisection; values outside are clamped to [1.05, 4.95], whose
// tilts are about -+3.0).
func TiltFor(s float64) float64 {
	s = math.Max(1.05, math.Min(4.95, s))
	lo, hi := -20.0, 20.0
	for range 100 {
		mid := (lo + hi) / 2
		if TiltScore(mid) < s {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
