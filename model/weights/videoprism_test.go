package weights

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A VideoPrism checkpoint with a missing, an unexpected and a mis-shaped
// tensor is refused with all three listed, and nothing is loaded.
func TestImportVideoPrismStrict(t *testing.T) {
	m := tinyModel(t, videoPrismTiny)
	src, err := ReadNPZ(filepath.Join(videoPrismOracle(t, m), "videoprism.npz"))
	if err != nil {
		t.Fatal(err)
	}
	delete(src.Tensors, "params/spatial_ln/bias")
	src.Tensors["params/extra/w"] = Tensor{DType: F32, Shape: []int{1}, Data: make([]byte, 4)}
	ln := src.Tensors["params/temporal_ln/scale"]
	ln.Shape = []int{ln.Shape[0] / 2, 2}
	src.Tensors["params/temporal_ln/scale"] = ln
	before := varValues(t, m, "/pixel_encoder/spatial/embeddings/patch_embedding/weight")

	_, _, err = importVideoPrismSource(m, src, "broken.npz")
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want a *MismatchError", err)
	}
	for _, want := range []string{"params/spatial_ln/bias", "params/extra/w", "params/temporal_ln/scale"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	if len(me.Missing) != 1 || len(me.Unexpected) != 1 || len(me.Misshaped) != 1 {
		t.Errorf("missing %q, unexpected %q, mis-shaped %q: want one each", me.Missing, me.Unexpected, me.Misshaped)
	}
	if after := varValues(t, m, "/pixel_encoder/spatial/embeddings/patch_embedding/weight"); !slices.Equal(before, after) {
		t.Error("a refused import changed the patch embedding")
	}
}

// The pixel encoder of configs/model/tiny.yaml is not VideoPrism's
// architecture; the importer says which settings differ before reading.
func TestImportVideoPrismChecksConfig(t *testing.T) {
	m := tinyModel(t, nil)
	_, _, err := ImportVideoPrism(m, "does-not-matter.npz")
	if err == nil || !strings.Contains(err.Error(), "mlp_activation must be gelu_exact") {
		t.Errorf("error %v, want one naming mlp_activation", err)
	}
}

// jax.image.resize's linear weights: enlarging interpolates between the two
// nearest samples (edges clamped); halving averages pairs of neighbours
// with a triangle twice as wide (antialiasing): the sample at 0.5 weighs
// inputs 0..3 by 0.75, 0.75, 0.25, 0 before normalising.
func TestJaxLinearWeights(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		want    [][]float64
	}{
		{2, 4, [][]float64{{1, 0}, {0.75, 0.25}, {0.25, 0.75}, {0, 1}}},
		{4, 2, [][]float64{{3. / 7, 3. / 7, 1. / 7, 0}, {0, 1. / 7, 3. / 7, 3. / 7}}},
		{3, 3, [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}},
	} {
		got := jaxLinearWeights(tc.in, tc.out)
		for i := range tc.want {
			for j := range tc.want[i] {
				if math.Abs(got[i][j]-tc.want[i][j]) > 1e-12 {
					t.Fatalf("%d -> %d: weights %v, want %v", tc.in, tc.out, got, tc.want)
				}
			}
		}
	}
}
