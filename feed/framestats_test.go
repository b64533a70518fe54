package feed

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
)

// Statistics kinds frame-nss-logsignals and nss-logsignals+frame read the
// record's whole-frame statistics (noise to ln(sigma + 0.01), every other
// value as stored), the latter after the patches' nss-logsignals. A clip
// without frame statistics has none; a training set without any is refused
// with the shards setting that makes them.
func TestClipStatsFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	nf := len(nss.NSSNames) + len(describe.SignalNames)
	fs := make([]float64, nf)
	for j := range fs {
		fs[j] = 0.5 + float64(j)
	}
	rec := &shards.Record{ID: "a", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2, FrameStats: fs}
	bare := *rec
	bare.ID, bare.FrameStats = "bare", nil
	bridge := func(kind string) *Bridge { return kindBridge(t, kind) }
	of := func(br *Bridge, r *shards.Record) ([]float64, bool) {
		v, ok, err := br.ClipStats(ClipOf(r))
		if err != nil {
			t.Fatal(err)
		}
		return v, ok
	}
	noise := len(nss.NSSNames) + slices.Index(describe.SignalNames, "noise_sigma")
	frame, ok := of(bridge("frame-nss-logsignals"), rec)
	if !ok || len(frame) != nf {
		t.Fatalf("frame-nss-logsignals: ok %v, %d values, want %d", ok, len(frame), nf)
	}
	for j, want := range fs {
		if j == noise {
			want = math.Log(want + 0.01)
		}
		if frame[j] != want {
			t.Fatalf("frame value %d = %g, want %g", j, frame[j], want)
		}
	}
	if fs[noise] != 0.5+float64(noise) {
		t.Fatal("ClipStats changed the record's frame statistics in place")
	}
	patch, _ := of(bridge("nss-logsignals"), rec)
	both, ok := of(bridge("nss-logsignals+frame"), rec)
	if !ok || !slices.Equal(both, slices.Concat(patch, frame)) {
		t.Fatalf("nss-logsignals+frame: ok %v, want the patches' %d then the frames' %d values", ok, len(patch), len(frame))
	}
	for _, kind := range []string{"frame-nss-logsignals", "nss-logsignals+frame"} {
		br := bridge(kind)
		if _, ok := of(br, &bare); ok {
			t.Fatalf("%s: a clip without frame statistics has statistics", kind)
		}
		none := func(yield func([]Clip, error) bool) { yield(clipsOf([]*shards.Record{&bare, &bare}), nil) }
		if _, _, err := br.StatsNorm(none); err == nil || !strings.Contains(err.Error(), "shards.frame_stats=true") {
			t.Fatalf("%s: StatsNorm without frame statistics: %v", kind, err)
		}
	}
	short := *rec
	short.FrameStats = fs[:3]
	if _, _, err := bridge("frame-nss-logsignals").ClipStats(ClipOf(&short)); err == nil || !strings.Contains(err.Error(), "3 frame statistics") {
		t.Fatalf("3 frame statistics: %v", err)
	}
}

// Scoring shards made without whole-frame statistics with a model that
// reads them is refused, naming the directory and the shards setting;
// shards whose sampler parameters say frame_stats pass the check.
func TestScoreShardsNeedFrameStats(t *testing.T) {
	c := tinyModel(t)
	c.Stats = "frame-nss-logsignals"
	_, p := feedtest.Model(t, c)
	bare, dir := feedtest.OpenShards(t, 4)
	if _, err := ScoreShards(context.Background(), p, bare, 2); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "shards.frame_stats=true") {
		t.Fatalf("scoring shards without frame statistics: %v", err)
	}
	c.Stats = "nss-logsignals"
	if err := CheckShardStats(c, bare); err != nil {
		t.Fatalf("a patch-statistics model on the same shards: %v", err)
	}
	fs := oneRecordShards(t, `{"frame_stats":true,"k":2}`)
	c.Stats = "frame-nss-logsignals"
	if err := CheckShardStats(c, fs); err != nil {
		t.Fatalf("shards made with frame_stats: %v", err)
	}
}

// Statistics kind frame-nss-logsignals+mnv2mid reads the whole-frame
// statistics (as frame-nss-logsignals) then the MNV2Mid entries of the
// pretrained features stored after them; the plain frame kind ignores
// those features; a record with statistics but no features, and shards
// made without shards.frame_deep, are refused with the setting that makes
// them.
func TestClipStatsFrameDeep(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	nf := len(nss.NSSNames) + len(describe.SignalNames)
	fs := make([]float64, nf+mobilenet.FeatureDim())
	for j := range fs {
		fs[j] = 0.25 + float64(j)
	}
	rec := &shards.Record{ID: "a", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2, FrameStats: fs}
	bridge := func(kind string) *Bridge { return kindBridge(t, kind) }
	frame, ok, err := bridge("frame-nss-logsignals").ClipStats(ClipOf(rec))
	if err != nil || !ok || len(frame) != nf {
		t.Fatalf("frame-nss-logsignals on a record with features: %d values, ok %v, %v", len(frame), ok, err)
	}
	deep, ok, err := bridge("frame-nss-logsignals+mnv2mid").ClipStats(ClipOf(rec))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if len(deep) != model.StatsKinds["frame-nss-logsignals+mnv2mid"] || !slices.Equal(deep[:nf], frame) {
		t.Fatalf("%d values (want %d), statistics part equal: %v", len(deep), model.StatsKinds["frame-nss-logsignals+mnv2mid"], slices.Equal(deep[:nf], frame))
	}
	names := mobilenet.FeatureNames()
	for i, j := range model.MNV2Mid() {
		if deep[nf+i] != fs[nf+j] {
			t.Fatalf("feature %d = %g, want stored feature %d (%s) = %g", i, deep[nf+i], j, names[j], fs[nf+j])
		}
		if !strings.Contains(names[j], "_mean_") || !slices.ContainsFunc([]string{"block_5", "block_9", "block_12", "block_15"}, func(s string) bool { return strings.HasPrefix(names[j], "mnv2_"+s+"_") }) {
			t.Fatalf("MNV2Mid picks %s, not a channel mean of block_5/9/12/15", names[j])
		}
	}
	plain := *rec
	plain.FrameStats = fs[:nf]
	if _, _, err := bridge("frame-nss-logsignals+mnv2mid").ClipStats(ClipOf(&plain)); err == nil || !strings.Contains(err.Error(), "shards.frame_deep=mobilenetv2") {
		t.Fatalf("a record without pretrained features: %v", err)
	}
	c := tinyModel(t)
	c.Stats = "frame-nss-logsignals+mnv2mid"
	for params, want := range map[string]string{`{"frame_stats":true,"k":2}`: "shards.frame_deep=mobilenetv2", `{"frame_stats":true,"frame_deep":"mobilenetv2","k":2}`: ""} {
		err := CheckShardStats(c, oneRecordShards(t, params))
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Fatalf("shards with %s: %v, want error containing %q", params, err, want)
		}
	}
}

// kindBridge is a bridge of the tiny model with statistics kind kind.
func kindBridge(t *testing.T, kind string) *Bridge {
	t.Helper()
	c := tinyModel(t)
	c.Stats = kind
	m, _ := feedtest.Model(t, c)
	br, err := NewBridge(m, testShardSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	return br
}

// oneRecordShards writes one record into shards whose manifest carries
// the sampler parameters params, and opens them.
func oneRecordShards(t *testing.T, params string) *shards.Dataset {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: feedtest.FrameSize, SamplerParams: json.RawMessage(params)})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if err := w.Write(shards.Record{ID: "a", Dataset: "test", MOSNorm: 2, Context: feedtest.Frames(rng, 4, 2), M: 4,
		Patches: feedtest.Frames(rng, 2, 2), K: 2, PatchPos: []shards.PatchPos{{}, {}}, PixelW: 64, PixelH: 64}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// Statistics kind frame-nss-logsignals+mnv2mid+still is
// frame-nss-logsignals+mnv2mid's values then 1 for a clip whose context
// frames are all one picture (an image) and 0 for a video.
func TestClipStatsStill(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	fs := make([]float64, len(nss.NSSNames)+len(describe.SignalNames)+mobilenet.FeatureDim())
	for j := range fs {
		fs[j] = 0.5 + float64(j)
	}
	video := &shards.Record{ID: "v", M: 4, K: 3, Context: feedtest.Frames(rng, 4, 2), Patches: feedtest.Frames(rng, 3, 2), MOSNorm: 2, FrameStats: fs}
	frame := feedtest.Frames(rng, 1, 2)
	still := *video
	still.ID, still.Context = "s", slices.Concat(frame, frame, frame, frame)
	deep, _, err := kindBridge(t, "frame-nss-logsignals+mnv2mid").ClipStats(ClipOf(video))
	if err != nil {
		t.Fatal(err)
	}
	br := kindBridge(t, "frame-nss-logsignals+mnv2mid+still")
	for rec, want := range map[*shards.Record]float64{video: 0, &still: 1} {
		got, ok, err := br.ClipStats(ClipOf(rec))
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if len(got) != model.StatsKinds["frame-nss-logsignals+mnv2mid+still"] || !slices.Equal(got[:len(deep)], deep) || got[len(deep)] != want {
			t.Fatalf("record %s: %d values (want %d), shared part equal %v, indicator %v (want %v)",
				rec.ID, len(got), len(deep)+1, slices.Equal(got[:len(deep)], deep), got[len(got)-1], want)
		}
	}
}
