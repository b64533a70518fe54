// Command paperbench measures the paper-size CP-LLM (configs/model/paper.yaml)
// and compares backends; it links the model packages only (no FFmpeg), so it
// runs on machines without FFmpeg or Go (deploy/device-check).
//
//	paperbench plan    [-config F] [-dtypes float32,bfloat16] [-rss-limit-gib 18] [-full] [-out DIR]
//	paperbench run     -spec JSON | [-config F -dtype D -backend B -layers c,p,t,d -forward N -train N]
//	paperbench render  -dir DIR   (recomputes the estimates of DIR/report.json, rewrites report.json and report.md)
//	paperbench compare [-config F] [-backends "go:parallelism=-1 xla:cuda,tf32=false"] [-steps 20] [-tol 2e-3]
//
// plan runs every measurement in a child process under an RSS watchdog and
// writes report.json and report.md; run prints one JSON result; compare
// trains the same weights on several backends and prints the losses as JSON.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: paperbench plan|run|compare [flags] (see the package comment)"))
	}
	var err error
	switch os.Args[1] {
	case "plan":
		err = planCmd(os.Args[2:])
	case "run":
		err = runCmd(os.Args[2:])
	case "compare":
		err = compareCmd(os.Args[2:])
	case "render":
		err = renderCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (plan, run, compare, render)", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "paperbench:", err)
	os.Exit(1)
}

func planCmd(args []string) error {
	fs := flag.NewFlagSet("plan", flag.ExitOnError)
	cfg := fs.String("config", "configs/model/paper.yaml", "model config")
	dtypes := fs.String("dtypes", "float32,bfloat16", "compute dtypes, comma separated")
	textLen := fs.Int("text-len", 32, "text tokens (prompt + answer)")
	limit := fs.Float64("rss-limit-gib", 18, "kill a child above this resident memory")
	pieceWait := fs.Duration("piece-timeout", 30*time.Minute, "wall-time limit of one piece")
	fullWait := fs.Duration("full-timeout", 90*time.Minute, "wall-time limit of one full-size run")
	full := fs.Bool("full", false, "after the pieces, run the full-size model where it fits")
	out := fs.String("out", "runs/bench-paper", "output directory")
	_ = fs.Parse(args)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	p := Plan{Config: *cfg, DTypes: strings.Split(*dtypes, ","), TextLen: *textLen, Full: *full,
		Limits:   Limits{RSSBytes: int64(*limit * (1 << 30)), Timeout: *pieceWait},
		FullWait: *fullWait,
		Log:      func(f string, a ...any) { fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", a...) }}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	save := func(rep *Report) error {
		data, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(filepath.Join(*out, "report.json"), append(data, '\n'), 0o644)
	}
	p.Save = func(rep *Report) {
		if err := save(rep); err != nil {
			p.Log("%v", err)
		}
	}
	rep, err := p.Execute(self)
	if err != nil {
		return err
	}
	if err := save(rep); err != nil {
		return err
	}
	md := rep.Markdown()
	fmt.Print(md)
	return os.WriteFile(filepath.Join(*out, "report.md"), []byte(md), 0o644)
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	specJSON := fs.String("spec", "", "the whole RunSpec as JSON (overrides the other flags)")
	s := RunSpec{}
	fs.StringVar(&s.Config, "config", "configs/model/paper.yaml", "model config")
	fs.StringVar(&s.DType, "dtype", "", "compute dtype (default: the config's)")
	fs.StringVar(&s.Backend, "backend", "", "backend spec (default: the config's), e.g. xla:cuda")
	layers := fs.String("layers", "", "context,spatial,temporal,decoder layer counts (0 keeps the config's)")
	fs.IntVar(&s.TextLen, "text-len", 32, "text tokens")
	fs.IntVar(&s.Forward, "forward", 2, "forward calls (the first compiles)")
	fs.IntVar(&s.Train, "train", 2, "training steps (the first compiles)")
	_ = fs.Parse(args)
	if *specJSON != "" {
		if err := json.Unmarshal([]byte(*specJSON), &s); err != nil {
			return fmt.Errorf("-spec: %w", err)
		}
	} else if *layers != "" {
		for i, f := range strings.SplitN(*layers, ",", 4) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("-layers %q: %w", *layers, err)
			}
			s.Layers[i] = n
		}
	}
	r, err := Run(s)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(r)
	fmt.Println(string(data))
	return nil
}

func compareCmd(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	cfg := fs.String("config", "configs/model/tiny.yaml", "model config")
	backends := fs.String("backends", "go:parallelism=-1 xla:cuda,tf32=false", "backend specs separated by spaces; the first is the reference")
	steps := fs.Int("steps", 20, "training steps")
	tol := fs.Float64("tol", 2e-3, "largest relative loss difference that passes")
	_ = fs.Parse(args)
	r, err := Compare(*cfg, strings.Fields(*backends), *steps, *tol)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(r)
	fmt.Println(string(data))
	if !r.OK {
		return fmt.Errorf("losses differ: max relative difference %.3g > %.3g", r.MaxRelDiff, r.Tolerance)
	}
	return nil
}

func renderCmd(args []string) error {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	dir := fs.String("dir", "runs/bench-paper", "directory of report.json")
	_ = fs.Parse(args)
	path := filepath.Join(*dir, "report.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rep.Method = methodText
	for _, b := range rep.PerDType {
		if b.Extrapolated = extrapolate(b, rep.Layers); b.Extrapolated != nil {
			b.Memory = trainMemory(rep.Params, b.Extrapolated.RSSTrain)
		}
	}
	data, _ = json.MarshalIndent(&rep, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	md := rep.Markdown()
	fmt.Print(md)
	return os.WriteFile(filepath.Join(*dir, "report.md"), []byte(md), 0o644)
}
