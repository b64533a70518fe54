package model

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"

	. "github.com/gomlx/gomlx/core/graph"
)

// TestNSSStatsOracle: the pixel encoder's NSS statistics of the MSCN map,
// at full and half resolution, equal an independent numpy computation
// from the definitions (testdata/nss_oracle.py), in float64.
func TestNSSStatsOracle(t *testing.T) {
	const py = "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		testutil.MissingOracle(t, "python3-numpy for "+py)
	}
	const n, s, c, w, eps = 2, 12, 3, 7, 1e-3
	rng := rand.New(rand.NewPCG(5, 6))
	x := randn(rng, n*s*s*c, 1)
	for i := range x { // a smooth ramp plus noise: products of both signs
		x[i] += 0.05 * float64(i%s)
	}
	full, _ := runGraph(t, rng, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, s, s, c)},
		func(_ *gm.Scope, in []*Node) *Node { return vit.NSSStats(vit.LocalNorm(in[0], w, eps)) })
	half, _ := runGraph(t, rng, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, s, s, c)},
		func(_ *gm.Scope, in []*Node) *Node {
			h := ReduceMean(Reshape(in[0], n, s/2, 2, s/2, 2, c), 2, 4)
			return vit.NSSStats(vit.LocalNorm(h, w, eps))
		})
	if len(full) != n*c*vit.NSSFeatures || len(half) != len(full) {
		t.Fatalf("%d and %d statistics, want %d", len(full), len(half), n*c*vit.NSSFeatures)
	}
	nested := make([][][][]float64, n)
	for i := range nested {
		nested[i] = make([][][]float64, s)
		for y := range s {
			nested[i][y] = make([][]float64, s)
			for xx := range s {
				nested[i][y][xx] = x[((i*s+y)*s+xx)*c : ((i*s+y)*s+xx+1)*c]
			}
		}
	}
	req, _ := json.Marshal(map[string]any{"x": nested, "eps": eps, "w": w})
	cmd := exec.Command(py, "testdata/nss_oracle.py")
	cmd.Stdin = bytes.NewReader(req)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	var want struct{ Full, Half [][]float64 }
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2][]float64{"full": {full, flatten(want.Full)}, "half": {half, flatten(want.Half)}} {
		got, ref := pair[0], pair[1]
		for i := range ref {
			if math.Abs(got[i]-ref[i]) > 1e-9*math.Max(1, math.Abs(ref[i])) {
				t.Fatalf("%s statistic %d (channel %d, feature %d): %g, numpy %g", name, i, (i/vit.NSSFeatures)%c, i%vit.NSSFeatures, got[i], ref[i])
			}
		}
	}
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
