package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the child of runChild ("run -spec").
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "run" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const tinyConfig = "../../configs/model/tiny.yaml"

func TestLinearExtrapolation(t *testing.T) {
	// By hand: 10 + 26*2 + 11*3 + 3*3 + 17*10 = 274.
	got, per := linear(10, [4]float64{12, 13, 13, 20}, [4]int{27, 12, 4, 18})
	if got != 274 || per != [4]float64{2, 3, 3, 10} {
		t.Fatalf("linear = %v, %v; want 274, [2 3 3 10]", got, per)
	}
}

func TestTrainMemory(t *testing.T) {
	m := trainMemory(ParamCounts{Total: 100, Trainable: 10}, 1000)
	if m.Weights != 400 || m.Gradients != 40 || m.AdamMoments != 80 || m.Activations != 480 {
		t.Fatalf("trainMemory = %+v; want 400, 40, 80, 480", m)
	}
}

func TestRunTiny(t *testing.T) {
	for _, dt := range []string{"float32", "bfloat16"} {
		r, err := Run(RunSpec{Config: tinyConfig, DType: dt, TextLen: 16, Forward: 2, Train: 3, Layers: [4]int{1, 0, 0, 1}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Layers != [4]int{1, 1, 1, 1} || len(r.ForwardS) != 2 || len(r.TrainS) != 3 {
			t.Fatalf("%s: layers %v, %d forward, %d train calls", dt, r.Layers, len(r.ForwardS), len(r.TrainS))
		}
		for _, l := range r.Losses {
			if math.IsNaN(l) || math.IsInf(l, 0) {
				t.Fatalf("%s: loss %v", dt, l)
			}
		}
		if r.Losses[0] == r.Losses[2] {
			t.Fatalf("%s: the training step changed nothing: losses %v", dt, r.Losses)
		}
		// bfloat16 compute keeps float32 weights: 4 bytes per parameter.
		if r.WeightBytes != 4*r.ParamsTotal || r.OptStateBytes < 8*r.ParamsTrainable {
			t.Fatalf("%s: weights %d B for %d params; optimizer state %d B for %d trainable", dt, r.WeightBytes, r.ParamsTotal, r.OptStateBytes, r.ParamsTrainable)
		}
	}
}

func TestCompareTwoGoBackends(t *testing.T) {
	r, err := Compare(tinyConfig, []string{"go:parallelism=-1", "go:ops_sequential"}, 4, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || len(r.Losses["go:ops_sequential"]) != 4 {
		t.Fatalf("compare: %+v", r)
	}
	if _, err := Compare(tinyConfig, []string{"go:parallelism=-1", "nosuch:x"}, 1, 1e-6); err == nil || !strings.Contains(err.Error(), "nosuch:x") {
		t.Fatalf("unknown backend: err = %v", err)
	}
}

// TestWatchdog: a child over the RSS limit is killed and reported; one under it returns its result.
func TestWatchdog(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := RunSpec{Config: tinyConfig, TextLen: 16, Forward: 1, Train: 200}
	c := runChild(self, s, Limits{RSSBytes: 8 << 20, Timeout: time.Minute})
	if c.Result != nil || !strings.Contains(c.Killed, "above the limit") {
		t.Fatalf("8 MiB limit: killed %q, result %v", c.Killed, c.Result != nil)
	}
	s.Train = 1
	c = runChild(self, s, Limits{RSSBytes: 4 << 30, Timeout: time.Minute})
	if c.Result == nil || c.Killed != "" {
		t.Fatalf("4 GiB limit: killed %q, error %q", c.Killed, c.Error)
	}
}

// TestDeviceCheckScript: without a GPU the script fails naming what is
// missing; --cpu-only runs its Go half and writes a report.
func TestDeviceCheckScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/paperbench")
	}
	bin := filepath.Join(t.TempDir(), "paperbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := "../../deploy/device-check/device-check.sh"
	env := append(os.Environ(), "PAPERBENCH="+bin)
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		cmd := exec.Command(script, "run", "--out", t.TempDir())
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "no NVIDIA GPU found") {
			t.Fatalf("without a GPU: %v\n%s", err, out)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(script, "run", "--cpu-only", "--steps", "3", "--paper-steps", "2", "--out", dir)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--cpu-only: %v\n%s", err, out)
	}
	var rep struct {
		OK      bool          `json:"ok"`
		Compare CompareResult `json:"tiny_compare"`
		BF16    RunResult     `json:"paper_bfloat16"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report.json: %v\n%s", err, data)
	}
	if !rep.OK || !rep.Compare.OK || rep.Compare.Steps != 3 || len(rep.BF16.TrainS) != 2 {
		t.Fatalf("report: %s", data)
	}
}

// TestPlanTiny runs the whole plan on the tiny config: pieces, extrapolation,
// memory split, full-size runs, and a report saved after every child.
func TestPlanTiny(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	saves := 0
	p := Plan{Config: tinyConfig, DTypes: []string{"float32"}, TextLen: 16, Full: true,
		Limits: Limits{RSSBytes: 4 << 30, Timeout: time.Minute}, FullWait: time.Minute,
		Log: t.Logf, Save: func(*Report) { saves++ }}
	rep, err := p.Execute(self)
	if err != nil {
		t.Fatal(err)
	}
	b := rep.PerDType["float32"]
	if b.Extrapolated == nil || b.Memory == nil || b.FullForward == nil || b.FullForward.Result == nil ||
		b.FullTrain == nil || b.FullTrain.Result == nil || len(b.Skipped) != 0 {
		t.Fatalf("plan: %+v", b)
	}
	if rep.Layers != [4]int{2, 1, 1, 2} || b.FullTrain.Result.Layers != rep.Layers || saves < 6 {
		t.Fatalf("layers %v, full run %v, %d saves", rep.Layers, b.FullTrain.Result.Layers, saves)
	}
	if b.Memory.Weights != 4*rep.Params.Total || !strings.Contains(rep.Markdown(), "| float32 |") {
		t.Fatalf("memory %+v for %+v", b.Memory, rep.Params)
	}
}
