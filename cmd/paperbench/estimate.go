package main

import (
	"fmt"
	"slices"
	"strings"
)

// steady is the fastest call: on a shared machine contention only adds time,
// and the first call's compilation is small next to a paper-size step.
func steady(ts []float64) float64 {
	if len(ts) == 0 {
		return 0
	}
	return slices.Min(ts)
}

// linear extrapolates f to the full layer counts: f(base) plus, for each
// tower, (L_i - 1) times the difference one more layer of it made.
func linear(base float64, plus [4]float64, layers [4]int) (total float64, perLayer [4]float64) {
	total = base
	for i := range plus {
		perLayer[i] = plus[i] - base
		total += float64(layers[i]-1) * perLayer[i]
	}
	return total, perLayer
}

// extrapolate returns nil when any piece failed.
func extrapolate(b *DTypeBench, layers [4]int) *Estimate {
	if b.Base.Result == nil {
		return nil
	}
	var fwd, trn, rf, rt [4]float64
	for i, c := range b.PlusOne {
		if c.Result == nil {
			return nil
		}
		fwd[i], trn[i] = steady(c.Result.ForwardS), steady(c.Result.TrainS)
		rf[i], rt[i] = float64(c.Result.RSSForwardPeak), float64(c.Result.RSSPeakBytes)
	}
	r := b.Base.Result
	e := &Estimate{}
	e.ForwardS, e.PerLayerFwdS = linear(steady(r.ForwardS), fwd, layers)
	e.TrainS, e.PerLayerTrnS = linear(steady(r.TrainS), trn, layers)
	f, _ := linear(float64(r.RSSForwardPeak), rf, layers)
	t, _ := linear(float64(r.RSSPeakBytes), rt, layers)
	e.RSSForward, e.RSSTrain = int64(f), int64(t)
	for i := range layers {
		if layers[i] > 1 && (e.PerLayerFwdS[i] <= 0 || e.PerLayerTrnS[i] <= 0) {
			e.TimesUnreliable = true
		}
	}
	return e
}

// trainMemory splits a training step's peak into the optimizer state computed
// from the parameter counts (float32 weights, gradients, two Adam moments) and
// the rest (activations kept for the backward pass, temporaries, runtime).
func trainMemory(p ParamCounts, peak int64) *TrainMemory {
	m := &TrainMemory{Weights: 4 * p.Total, Gradients: 4 * p.Trainable, AdamMoments: 8 * p.Trainable, Total: peak}
	m.Activations = max(0, peak-m.Weights-m.Gradients-m.AdamMoments)
	return m
}

// Markdown renders the report as tables.
func (r *Report) Markdown() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Paper-size model (%s): %.2f B parameters, %.0f M trainable; layers %v (context, pixel spatial, pixel temporal, decoder); score task, batch 1, text length %d.\n",
		r.Config, float64(r.Params.Total)/1e9, float64(r.Params.Trainable)/1e6, r.Layers, r.TextLen)
	fmt.Fprintf(&sb, "CPU: %s, %d cores, %s, %s.\n\n", r.CPU, r.Cores, r.Go, r.Date)
	sb.WriteString("| dtype | forward (s) | training step (s) | peak RSS forward | peak RSS training step | how |\n|---|--:|--:|--:|--:|---|\n")
	for _, dt := range sortedKeys(r.PerDType) {
		b := r.PerDType[dt]
		if e := b.Extrapolated; e != nil {
			fwd, trn := fmt.Sprintf("%.1f", e.ForwardS), fmt.Sprintf("%.1f", e.TrainS)
			if e.TimesUnreliable {
				fwd, trn = "n/a", "n/a (timing noise: a layer's difference <= 0)"
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %.1f GiB | %.1f GiB | extrapolated from 1- and 2-layer pieces |\n",
				dt, fwd, trn, gib(e.RSSForward), gib(e.RSSTrain))
		}
		for _, c := range []*Child{b.FullForward, b.FullTrain} {
			if c == nil {
				continue
			}
			sb.WriteString(fullRow(dt, c))
		}
	}
	for _, dt := range sortedKeys(r.PerDType) {
		b := r.PerDType[dt]
		if e, f := b.Extrapolated, b.FullForward; e != nil && f != nil && f.Result != nil && e.ForwardS > 0 {
			fmt.Fprintf(&sb, "\n%s: the measured full-size forward took %.2fx the extrapolated time and %.2fx its peak RSS "+
				"(the pieces' times carry the machine's contention; treat the extrapolated times as rough).\n",
				dt, f.Result.ForwardS[0]/e.ForwardS, float64(f.Result.RSSForwardPeak)/float64(e.RSSForward))
		}
	}
	sb.WriteString("\nA training step needs (AdamW, batch 1, computed state + extrapolated rest):\n\n")
	sb.WriteString("| dtype | weights (f32) | gradients | Adam moments | activations + temporaries | total |\n|---|--:|--:|--:|--:|--:|\n")
	for _, dt := range sortedKeys(r.PerDType) {
		if m := r.PerDType[dt].Memory; m != nil {
			fmt.Fprintf(&sb, "| %s | %.1f GiB | %.1f GiB | %.1f GiB | %.1f GiB | %.1f GiB |\n", dt,
				gib(m.Weights), gib(m.Gradients), gib(m.AdamMoments), gib(m.Activations), gib(m.Total))
		}
	}
	for _, dt := range sortedKeys(r.PerDType) {
		for _, s := range r.PerDType[dt].Skipped {
			fmt.Fprintf(&sb, "\n- %s, not run: %s", dt, s)
		}
	}
	sb.WriteString("\n")
	return sb.String()
}

func fullRow(dt string, c *Child) string {
	if c.Result == nil {
		return fmt.Sprintf("| %s | | | | | full size, measured: failed (%s%s) |\n", dt, c.Killed, tail(c.Error, 120))
	}
	r := c.Result
	if len(r.TrainS) == 0 {
		return fmt.Sprintf("| %s | %.1f | | %.1f GiB | | full size, measured (first call, includes compilation) |\n",
			dt, r.ForwardS[0], gib(r.RSSForwardPeak))
	}
	return fmt.Sprintf("| %s | %.1f | %.1f | %.1f GiB | %.1f GiB | full size, measured (first calls, include compilation) |\n",
		dt, r.ForwardS[0], r.TrainS[0], gib(r.RSSForwardPeak), gib(r.RSSPeakBytes))
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
