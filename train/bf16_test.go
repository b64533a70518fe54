package train

import (
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute/dtypes"
)

// TestBFloat16MixedPrecision: with dtype bfloat16 the variables stay float32
// (master weights), the scores come out as float32, and the tiny model still
// learns to rank the overfit set.
func TestBFloat16MixedPrecision(t *testing.T) {
	trainDir, _ := dataDirs(t)
	mc := tinyModel(t)
	mc.DType = "bfloat16"
	res := run(t, Options{ModelConfig: mc, Train: testConfig(120), TrainDir: trainDir, OutDir: t.TempDir()})
	for _, v := range res.Model.Variables() {
		if d := v.Shape().DType; d != dtypes.Float32 && d != dtypes.Int64 && d != dtypes.Int32 && d != dtypes.Uint64 {
			t.Fatalf("variable %s is %s, want float32 master weights", v.Path(), d)
		}
	}
	srcc, _ := datasetSRCC(t, res, trainDir)
	t.Logf("bfloat16: training SRCC %.4f, last loss %.4f", srcc, res.LastLoss[model.TaskScore])
	if srcc <= 0.95 {
		t.Fatalf("training SRCC %.4f with bfloat16, want > 0.95", srcc)
	}
}
