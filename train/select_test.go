package train

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/model"
)

// TestSelectLast: with select: last a run validates as often as with the
// default but keeps no best checkpoint, hands on its final step (Result,
// model.ResolveCheckpoint) and trains exactly as the default does, so the
// two differ only in which step is reported.
func TestSelectLast(t *testing.T) {
	trainDir, valDir := dataDirs(t)
	outs := map[string]string{}
	var results = map[string]Result{}
	for _, sel := range []string{"best", "last"} {
		cfg := testConfig(12)
		cfg.EvalEvery, cfg.CheckpointEvery, cfg.Select = 4, 4, sel
		outs[sel] = t.TempDir()
		results[sel] = run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: outs[sel]})
	}
	best, last := results["best"], results["last"]
	if best.BestCheckpoint == "" {
		t.Fatal("select: best kept no best checkpoint")
	}
	if last.BestCheckpoint != "" || last.Best != nil {
		t.Fatalf("select: last reports a best checkpoint %q (%+v)", last.BestCheckpoint, last.Best)
	}
	if _, err := os.Stat(filepath.Join(outs["last"], "checkpoints", "best")); !os.IsNotExist(err) {
		t.Fatalf("select: last left checkpoints/best (stat: %v)", err)
	}
	got, err := model.ResolveCheckpoint(outs["last"])
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(outs["last"], "checkpoints", model.StepCheckpoint(12)); got != want || last.Checkpoint != want {
		t.Fatalf("select: last hands on %s (result %s), want the final step %s", got, last.Checkpoint, want)
	}
	if last.LastEval == nil || best.LastEval == nil || last.LastEval.SRCC != best.LastEval.SRCC {
		t.Fatalf("final validations differ: %+v vs %+v", last.LastEval, best.LastEval)
	}
	evals := map[string][]EvalMetrics{}
	for sel, out := range outs {
		if evals[sel], err = ReadEvals(filepath.Join(out, "metrics.jsonl")); err != nil {
			t.Fatal(err)
		}
	}
	if len(evals["last"]) != 3 || len(evals["best"]) != 3 {
		t.Fatalf("%d and %d validations, want 3 each (steps 4, 8, 12)", len(evals["last"]), len(evals["best"]))
	}
	for i, e := range evals["last"] {
		if e.Best {
			t.Fatalf("select: last marks step %d best", e.Step)
		}
		if *e.Eval.SRCC != *evals["best"][i].Eval.SRCC {
			t.Fatalf("step %d: validation %v vs %v: the runs trained differently", e.Step, *e.Eval.SRCC, *evals["best"][i].Eval.SRCC)
		}
	}
}
