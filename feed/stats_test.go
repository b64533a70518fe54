package feed

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/gomlx/gomlx/core/tensors"
)

func statFloats(x *tensors.Tensor) []float64 {
	out := []float64{}
	for _, v := range tensors.MustCopyFlatData[float32](x) {
		out = append(out, float64(v))
	}
	return out
}

// The model's statistics (config stats: nss) come from all K stored patches
// (nss.PatchStats at the shard's frame size, not the model's crops), a clip
// without statistics gets the model's norm mean, and StatsNorm's mean and
// std are those of the clips' statistics.
func TestClipStats(t *testing.T) {
	c := tinyModel(t)
	c.Stats = "nss"
	if got := c.StatsDim(); got != len(nss.NSSNames) {
		t.Fatalf("model.StatsKinds[nss] = %d, data/nss has %d statistics", got, len(nss.NSSNames))
	}
	m, _ := feedtest.Model(t, c)
	br, err := NewBridge(m, testShardSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	frame := testShardSize * testShardSize * 3
	flat := make([]byte, 3*frame)
	for i := range flat {
		flat[i] = 50
	}
	recs := []*shards.Record{
		{ID: "a", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2},
		{ID: "b", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 4), Patches: feedtest.Frames(rng, 3, 4), MOSNorm: 4},
		{ID: "flat", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 3), Patches: flat, MOSNorm: 3},
	}
	mean, std := make([]float64, c.StatsDim()), make([]float64, c.StatsDim())
	for j := range mean {
		mean[j], std[j] = float64(j), 1
	}
	if err := m.SetStatsNorm(mean, std); err != nil {
		t.Fatal(err)
	}
	b, err := br.WithAugment(9).ScoreBatch(recs)
	if err != nil {
		t.Fatal(err)
	}
	got := statFloats(b.Stats)
	f := c.StatsDim()
	var exact [][]float64
	for i, r := range recs {
		want, ok, err := nss.PatchStats(r.Patches, r.K, testShardSize)
		if err != nil {
			t.Fatal(err)
		}
		exact = append(exact, want)
		if !ok {
			want = mean
		}
		for j := range f {
			if math.Abs(got[i*f+j]-want[j]) > 1e-5*max(1, math.Abs(want[j])) {
				t.Fatalf("%s: %s = %g, want %g", r.ID, nss.NSSNames[j], got[i*f+j], want[j])
			}
		}
	}

	pb, err := br.PairBatch(recs[:1], recs[1:2], []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if a, bb := statFloats(pb.Stats), statFloats(pb.StatsB); a[0] != got[0] || bb[0] != got[f] {
		t.Errorf("pair statistics %g/%g, want each video's own %g/%g", a[0], bb[0], got[0], got[f])
	}

	clips := clipsOf(recs)
	batches := func(yield func([]Clip, error) bool) { _ = yield(clips[:2], nil) && yield(clips[2:], nil) }
	nm, ns, err := br.StatsNorm(batches)
	if err != nil {
		t.Fatal(err)
	}
	for j := range f { // the flat clip has no statistics and is left out
		a, b := exact[0][j], exact[1][j]
		if wm, ws := (a+b)/2, math.Abs(a-b)/2; math.Abs(nm[j]-wm) > 1e-5*max(1, math.Abs(wm)) || math.Abs(ns[j]-ws) > 1e-9*max(1, ws) {
			t.Fatalf("%s: norm %g +- %g, want %g +- %g", nss.NSSNames[j], nm[j], ns[j], wm, ws)
		}
	}
	one := func(yield func([]Clip, error) bool) { yield(clips[:1], nil) }
	if _, _, err := br.StatsNorm(one); err == nil {
		t.Error("StatsNorm over one clip: want an error")
	}
}

// Statistics kind nss-signals: the 38 NSS of nss.PatchStats, then the
// describe signals of the K stored patches, each patch one frame. The
// exposure and colour signals are recomputed here from their definitions
// over all K patches' pixels.
func TestClipStatsSignals(t *testing.T) {
	c := tinyModel(t)
	c.Stats = "nss-signals"
	if got, want := c.StatsDim(), len(nss.NSSNames)+len(describe.SignalNames); got != want {
		t.Fatalf("model.StatsKinds[nss-signals] = %d, want %d", got, want)
	}
	m, _ := feedtest.Model(t, c)
	br, err := NewBridge(m, testShardSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	rec := &shards.Record{ID: "a", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2}
	got, ok, err := br.ClipStats(clipsOf([]*shards.Record{rec})[0])
	if err != nil || !ok {
		t.Fatalf("ClipStats: ok %v, %v", ok, err)
	}
	want, _, err := nss.PatchStats(rec.Patches, rec.K, testShardSize)
	if err != nil {
		t.Fatal(err)
	}
	n := len(want)
	if len(got) != c.StatsDim() {
		t.Fatalf("%d statistics, want %d", len(got), c.StatsDim())
	}
	for j := range n {
		if got[j] != want[j] {
			t.Fatalf("%s = %g, want nss.PatchStats' %g", nss.NSSNames[j], got[j], want[j])
		}
	}
	// Per patch: mean and std of luma, fractions below 16 and above 240,
	// Hasler-Suesstrunk colourfulness; then the mean over patches.
	px := testShardSize * testShardSize
	ref := make([]float64, 5)
	for k := range rec.K {
		p := rec.Patches[k*px*3 : (k+1)*px*3]
		var y, rg, yb []float64
		for i := range px {
			r, g, b := float64(p[3*i]), float64(p[3*i+1]), float64(p[3*i+2])
			y = append(y, 0.299*r+0.587*g+0.114*b)
			rg = append(rg, r-g)
			yb = append(yb, (r+g)/2-b)
		}
		my, vy := nss.MeanVar(y)
		mrg, vrg := nss.MeanVar(rg)
		myb, vyb := nss.MeanVar(yb)
		dark, bright := 0.0, 0.0
		for _, v := range y {
			if v < 16 {
				dark++
			} else if v > 240 {
				bright++
			}
		}
		vals := []float64{my, math.Sqrt(vy), dark / float64(px), bright / float64(px),
			math.Sqrt(vrg+vyb) + 0.3*math.Hypot(mrg, myb)}
		for i, v := range vals {
			ref[i] += v / float64(rec.K)
		}
	}
	for i, w := range ref {
		if g := got[n+i]; math.Abs(g-w) > 1e-9*max(1, math.Abs(w)) {
			t.Errorf("%s = %g, want %g", describe.SignalNames[i], g, w)
		}
	}
	if noise, block := got[n+5], got[n+6]; !(noise > 0) || !(block > 0) {
		t.Errorf("noise %g, blockiness %g: want both > 0 on random patches", noise, block)
	}
}

// Statistics kind nss-logsignals: nss-signals with the noise level as
// ln(sigma + 0.01), every other value the same.
func TestClipStatsLogSignals(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	rec := &shards.Record{ID: "a", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2}
	of := func(kind string) []float64 {
		v, ok, err := kindBridge(t, kind).ClipStats(clipsOf([]*shards.Record{rec})[0])
		if err != nil || !ok {
			t.Fatalf("%s: ClipStats: ok %v, %v", kind, ok, err)
		}
		return v
	}
	lin, lg := of("nss-signals"), of("nss-logsignals")
	if len(lg) != len(lin) {
		t.Fatalf("%d values, nss-signals has %d", len(lg), len(lin))
	}
	noise := len(nss.NSSNames) + slices.Index(describe.SignalNames, "noise_sigma")
	for j := range lin {
		want := lin[j]
		if j == noise {
			want = math.Log(lin[j] + 0.01)
		}
		if lg[j] != want {
			t.Errorf("value %d = %g, want %g", j, lg[j], want)
		}
	}
	if lin[noise] <= 0 {
		t.Fatalf("noise %g: want > 0 on random patches", lin[noise])
	}
}
