package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model/tokenizer"
)

func writePreds(t *testing.T, path string, ids []string, pred, mos []float64) {
	t.Helper()
	var rows []predictions.Row
	for i := range ids {
		rows = append(rows, predictions.Row{ID: ids[i], Pred: pred[i], MOS: mos[i]})
	}
	f, _ := os.Create(path)
	defer f.Close()
	if err := predictions.Write(f, rows); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsAndCompareCLI(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	n := 60
	ids := make([]string, n)
	mos, a, b := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		ids[i] = fmt.Sprintf("v%02d", i)
		mos[i] = 1 + 4*r.Float64()
		a[i] = mos[i] + 0.3*r.NormFloat64()
		b[i] = mos[i] + 1.0*r.NormFloat64()
	}
	pa, pb := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	writePreds(t, pa, ids, a, mos)
	writePreds(t, pb, ids, b, mos)
	out, err := run(t, "metrics", pa, "--json", "--resamples", "200")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "srcc", "krcc", "plcc", "plcc_4pl", "rmse_4pl", "plcc_5pl", "rmse_5pl"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics JSON lacks %q", k)
		}
	}
	var srcc metrics.CI
	json.Unmarshal(m["srcc"], &srcc)
	want, _ := metrics.SRCC(a, mos)
	if srcc.Value != want || !(srcc.CILow <= want && want <= srcc.CIHigh) {
		t.Fatalf("srcc %+v, want %v inside its CI", srcc, want)
	}
	out, err = run(t, "compare", pa, pb, "--json", "--resamples", "300")
	if err != nil {
		t.Fatal(err)
	}
	var c comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	dep, _ := metrics.CompareDependent(a, b, mos, metrics.SRCC)
	if c.WilliamsP != dep.Williams.P || c.SteigerP != dep.Steiger.P || c.N != n {
		t.Fatalf("compare %+v vs library %+v", c, dep)
	}
	if c.WilliamsP > 0.05 || c.BootstrapDSRCC.Value <= 0 || c.BootstrapDSRCC.CILow <= 0 {
		t.Fatalf("A is clearly better; got %+v", c)
	}
	writePreds(t, pb, ids[:n-1], b[:n-1], mos[:n-1])
	if _, err := run(t, "compare", pa, pb); err == nil || !strings.Contains(err.Error(), "different ids") {
		t.Fatalf("id mismatch: %v", err)
	}
}

func TestModelListCLI(t *testing.T) {
	out, err := run(t, "model", "list", "--json", "--set", "model_config=../../configs/model/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var infos []struct {
		Name      string `json:"name"`
		Trainable int64  `json:"trainable"`
		Frozen    int64  `json:"frozen"`
	}
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(infos) != 8 || infos[0].Trainable <= 0 || infos[0].Frozen <= 0 {
		t.Fatalf("%+v", infos)
	}
	if _, err := run(t, "model", "list", "--set", "model_config=nope.yaml"); err == nil || !strings.Contains(err.Error(), "model_config") {
		t.Fatalf("missing model config: %v", err)
	}
}

func TestTokenizerTrainCLI(t *testing.T) {
	if _, err := exec.LookPath("spm_train"); err != nil {
		testutil.MissingOracle(t, "spm_train (Debian package sentencepiece)")
	}
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.txt")
	if err := tokenizer.WriteCorpus(corpus, tokenizer.DemoCorpus(2000, 1)); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "tokenizer", "train", "--corpus", corpus, "--out", filepath.Join(dir, "tok", "spm"), "--vocab", "600")
	if err != nil || !strings.Contains(out, "spm.model") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := run(t, "tokenizer", "train", "--out", filepath.Join(dir, "x")); err == nil {
		t.Fatal("no corpus accepted")
	}
}
