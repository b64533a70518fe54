// Package deploy holds the Slurm scripts, Kubernetes manifests and the
// Dockerfile for partitioned runs. Its tests check, without a cluster, the
// Dockerfile against go.mod and the libraries the binary links, every
// Kubernetes Job against the Indexed Job contract (and deploy/stage.sh's
// commands under each Job's environment), and the Slurm submit scripts'
// job chains; cluster_test.go runs the scripts on a real Slurm cluster
// (make test-cluster).
package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The image the Dockerfile's header builds and where it puts things.
const (
	stageInImage = "/opt/cpllm/deploy/stage.sh"
	workInImage  = "/opt/cpllm"
)

type dockerfile struct {
	tag     string             // from the header's docker build -t
	args    map[string]string  // ARG defaults before the first FROM
	stages  []string           // FROM lines
	runs    map[int][]string   // RUN lines (continuations joined) per stage
	copies  map[int][][]string // COPY arguments per stage
	workdir map[int]string     // last WORKDIR per stage
	text    string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{args: map[string]string{}, runs: map[int][]string{}, copies: map[int][][]string{}, workdir: map[int]string{}, text: string(b)}
	if m := regexp.MustCompile(`docker build -f deploy/Dockerfile -t (\S+)`).FindStringSubmatch(d.text); m != nil {
		d.tag = m[1]
	}
	var logical []string
	cur := ""
	for _, l := range strings.Split(d.text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") && cur == "" {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		logical = append(logical, strings.TrimSpace(cur+l))
		cur = ""
	}
	for _, l := range logical {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		st := len(d.stages) - 1
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if st < 0 {
				k, v, _ := strings.Cut(f[1], "=")
				d.args[k] = v
			}
		case "FROM":
			d.stages = append(d.stages, strings.Join(f[1:], " "))
		case "RUN":
			d.runs[st] = append(d.runs[st], strings.Join(f[1:], " "))
		case "COPY":
			d.copies[st] = append(d.copies[st], f[1:])
		case "WORKDIR":
			d.workdir[st] = f[1]
		}
	}
	return d
}

// The Dockerfile: multi-stage, Go of go.mod on Debian 12 for the build, a
// Debian 12 runtime that installs exactly the runtime packages of the FFmpeg
// libraries the binary links, the binary and stage.sh where the manifests
// expect them.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if d.tag == "" {
		t.Fatal("Dockerfile header lacks the `docker build -f deploy/Dockerfile -t IMAGE` line")
	}
	if len(d.stages) < 2 {
		t.Fatalf("not multi-stage: FROM %v", d.stages)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil || d.args["GO_VERSION"] != string(goVersion[1]) {
		t.Fatalf("ARG GO_VERSION=%q, go.mod says go %s", d.args["GO_VERSION"], goVersion)
	}
	if d.stages[0] != "golang:${GO_VERSION}-bookworm AS build" {
		t.Fatalf("build stage FROM %q, want golang:${GO_VERSION}-bookworm AS build (Debian 12: FFmpeg 5.1 for go-astiav v0.16)", d.stages[0])
	}
	last := len(d.stages) - 1
	if !strings.HasPrefix(d.stages[last], "debian:bookworm") {
		t.Fatalf("runtime stage FROM %q, want Debian 12 (debian:bookworm...)", d.stages[last])
	}
	build := strings.Join(d.runs[0], "\n")
	if !strings.Contains(build, "GOEXPERIMENT=simd") || !strings.Contains(build, "go build") || !strings.Contains(build, "./cmd/cpllm") {
		t.Fatalf("build stage does not build ./cmd/cpllm with GOEXPERIMENT=simd:\n%s", build)
	}
	for _, dev := range devPackages(t) {
		if !strings.Contains(build, dev) {
			t.Fatalf("build stage does not install %s (Makefile APT_PKGS)", dev)
		}
	}
	runtime := strings.Join(d.runs[last], "\n")
	for _, pkg := range runtimePackages(t) {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(pkg) + `\b`).MatchString(runtime) {
			t.Fatalf("runtime stage does not install %s, which the binary links", pkg)
		}
	}
	want := map[string]bool{"/usr/local/bin/cpllm": false, stageInImage: false}
	for _, c := range d.copies[last] {
		dst := c[len(c)-1]
		if _, ok := want[dst]; ok {
			want[dst] = true
		}
		if strings.HasPrefix(c[0], "--from=") {
			continue // from the build stage
		}
		for _, src := range c[:len(c)-1] {
			if m, _ := filepath.Glob(filepath.Join("..", src)); len(m) == 0 {
				t.Fatalf("COPY %s: nothing in the repository", src)
			}
		}
	}
	for dst, ok := range want {
		if !ok {
			t.Fatalf("runtime stage does not COPY to %s", dst)
		}
	}
	if d.workdir[last] != workInImage {
		t.Fatalf("runtime WORKDIR %q, want %s (the manifests mount runs/ under it)", d.workdir[last], workInImage)
	}
	ign, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(ign), "\n") {
		switch strings.TrimSpace(l) {
		case "deploy", "configs", "experiments", "cmd", "go.mod", "go.sum", "*":
			t.Fatalf("Dockerfile.dockerignore excludes %s, which the build needs", l)
		}
	}
	t.Logf("Dockerfile: %s; build FROM %s (go %s); runtime FROM %s installs %v", d.tag, d.stages[0], goVersion[1], d.stages[last], runtimePackages(t))
}

// devPackages are the FFmpeg -dev packages of the Makefile's APT_PKGS.
func devPackages(t *testing.T) []string {
	t.Helper()
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range regexp.MustCompile(`\blib(?:av|sw)[a-z]+-dev\b`).FindAllString(string(mk), -1) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) < 5 {
		t.Fatalf("Makefile APT_PKGS lists FFmpeg -dev packages %v", out)
	}
	return out
}

// runtimePackages maps each FFmpeg library the build links (pkg-config's
// library, its ELF SONAME) to its Debian package (libavcodec.so.59 ->
// libavcodec59), and checks bin/cpllm, when built, links no other.
func runtimePackages(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("pkg-config"); err != nil {
		if os.Getenv("CPLLM_REQUIRE_ORACLES") == "1" {
			t.Fatal("pkg-config missing (make deps installs it)")
		}
		t.Skip("pkg-config missing: cannot read the FFmpeg libraries' sonames")
	}
	var pkgs []string
	soname := map[string]string{}
	for _, dev := range devPackages(t) {
		name := strings.TrimSuffix(dev, "-dev")
		out, err := exec.Command("pkg-config", "--variable=libdir", name).Output()
		if err != nil {
			t.Fatalf("pkg-config %s: %v", name, err)
		}
		lib := filepath.Join(strings.TrimSpace(string(out)), name+".so")
		f, err := elf.Open(lib)
		if err != nil {
			t.Fatalf("%s: %v", lib, err)
		}
		so, err := f.DynString(elf.DT_SONAME)
		f.Close()
		if err != nil || len(so) != 1 {
			t.Fatalf("%s: SONAME %v %v", lib, so, err)
		}
		soname[so[0]] = debianPackage(so[0])
		pkgs = append(pkgs, debianPackage(so[0]))
	}
	if f, err := elf.Open("../bin/cpllm"); err == nil {
		libs, _ := f.ImportedLibraries()
		f.Close()
		for _, l := range libs {
			if strings.HasPrefix(l, "libav") || strings.HasPrefix(l, "libsw") {
				if _, ok := soname[l]; !ok {
					t.Fatalf("bin/cpllm links %s, which no Makefile -dev package provides", l)
				}
			}
		}
	}
	return pkgs
}

func debianPackage(soname string) string {
	base, ver, _ := strings.Cut(soname, ".so.")
	return base + ver
}

// k8sJob is the part of a batch/v1 Job the contract concerns.
type k8sJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct {
		Name   string
		Labels map[string]string
	}
	Data map[string]string // a ConfigMap's
	Spec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          *int
		Parallelism          *int
		BackoffLimit         *int `yaml:"backoffLimit"`
		BackoffLimitPerIndex *int `yaml:"backoffLimitPerIndex"`
		Template             struct {
			Metadata struct {
				Labels map[string]string
			}
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Name            string
					Image           string
					ImagePullPolicy string `yaml:"imagePullPolicy"`
					Command         []string
					Args            []string
					WorkingDir      string `yaml:"workingDir"`
					EnvFrom         []struct {
						ConfigMapRef struct{ Name string } `yaml:"configMapRef"`
					} `yaml:"envFrom"`
					Env []struct {
						Name      string
						Value     string
						ValueFrom *struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					}
					Resources struct {
						Requests map[string]string
						Limits   map[string]string
					}
					VolumeMounts []struct {
						Name      string
						MountPath string `yaml:"mountPath"`
						ReadOnly  bool   `yaml:"readOnly"`
					} `yaml:"volumeMounts"`
				}
				Volumes []struct {
					Name                  string
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
						ReadOnly  bool   `yaml:"readOnly"`
					} `yaml:"persistentVolumeClaim"`
				}
			}
		}
	}
}

func readManifests(t *testing.T) (jobs []k8sJob, files []string, maps map[string]map[string]string) {
	t.Helper()
	maps = map[string]map[string]string{}
	paths, _ := filepath.Glob("k8s/*.yaml")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		for {
			var j k8sJob
			if err := dec.Decode(&j); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			switch j.Kind {
			case "ConfigMap":
				maps[j.Metadata.Name] = j.Data
			case "Job":
				jobs = append(jobs, j)
				files = append(files, p)
			default:
				t.Fatalf("%s: unexpected kind %q", p, j.Kind)
			}
		}
	}
	return jobs, files, maps
}

// Every Job follows the Indexed Job contract (partitioned stages) or is a
// single pod, runs stage.sh from the image the Dockerfile builds with its
// settings from a ConfigMap defined here, and stage.sh, given exactly the
// pod's environment, prints the commands a pod would run: partition i/N
// from the completion index, reading /data, writing the runs volume.
func TestKubernetesJobs(t *testing.T) {
	d := readDockerfile(t)
	jobs, files, maps := readManifests(t)
	stages := map[string]bool{}
	parts := map[string]int{} // ConfigMap -> PARTS of its jobs
	for n, j := range jobs {
		f, s := files[n], j.Spec
		name := f + " " + j.Metadata.Name
		if j.APIVersion != "batch/v1" || len(s.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: want a batch/v1 Job with one container", name)
		}
		c := s.Template.Spec.Containers[0]
		if c.Image != d.tag || c.ImagePullPolicy != "IfNotPresent" {
			t.Fatalf("%s: image %q (pull %q), want %s, the Dockerfile's tag, IfNotPresent", name, c.Image, c.ImagePullPolicy, d.tag)
		}
		if len(c.Command) != 2 || c.Command[0] != stageInImage || len(c.Args) != 0 {
			t.Fatalf("%s: command %v %v, want [%s STAGE]", name, c.Command, c.Args, stageInImage)
		}
		stage := c.Command[1]
		stages[stage] = true
		if j.Metadata.Labels["cpllm.stage"] != stage {
			t.Fatalf("%s: label cpllm.stage %q, runs stage %s", name, j.Metadata.Labels["cpllm.stage"], stage)
		}
		if s.Template.Spec.RestartPolicy != "Never" {
			t.Fatalf("%s: restartPolicy %q, want Never (a failed pod is replaced; backoffLimitPerIndex requires it)", name, s.Template.Spec.RestartPolicy)
		}
		if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
			t.Fatalf("%s: no cpu/memory requests", name)
		}
		env := map[string]string{}
		if len(c.EnvFrom) != 1 || maps[c.EnvFrom[0].ConfigMapRef.Name] == nil {
			t.Fatalf("%s: envFrom %v, want one ConfigMap defined in k8s/", name, c.EnvFrom)
		}
		cm := c.EnvFrom[0].ConfigMapRef.Name
		for k, v := range maps[cm] {
			env[k] = v
		}
		indexed := stage == "ladder" || stage == "shards" || stage == "sweep"
		index := ""
		for _, e := range c.Env {
			switch {
			case e.ValueFrom != nil && e.Name == "INDEX":
				if e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
					t.Fatalf("%s: INDEX from %q, want the job-completion-index annotation", name, e.ValueFrom.FieldRef.FieldPath)
				}
				index = "annotation"
			case e.ValueFrom != nil:
				t.Fatalf("%s: env %s from a field", name, e.Name)
			default:
				env[e.Name] = e.Value
			}
		}
		np, _ := strconv.Atoi(env["PARTS"])
		if indexed {
			if s.CompletionMode != "Indexed" || s.Completions == nil || *s.Completions < 1 {
				t.Fatalf("%s: completionMode %q completions %v: want an Indexed Job", name, s.CompletionMode, s.Completions)
			}
			if s.Parallelism == nil || *s.Parallelism < 1 || *s.Parallelism > *s.Completions {
				t.Fatalf("%s: parallelism %v, want 1..completions (%d)", name, s.Parallelism, *s.Completions)
			}
			if np != *s.Completions {
				t.Fatalf("%s: PARTS=%q, completions %d: partition i/N needs N = completions", name, env["PARTS"], *s.Completions)
			}
			if index != "annotation" {
				t.Fatalf("%s: no INDEX from the completion index annotation", name)
			}
			if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 {
				t.Fatalf("%s: want backoffLimitPerIndex >= 1 (a failed index retried alone)", name)
			}
		} else {
			if s.CompletionMode == "Indexed" || (s.Completions != nil && *s.Completions != 1) || s.Parallelism != nil {
				t.Fatalf("%s: stage %s is a single pod", name, stage)
			}
			if s.BackoffLimit == nil {
				t.Fatalf("%s: no backoffLimit", name)
			}
		}
		if np > 0 {
			if p, ok := parts[cm]; ok && p != np {
				t.Fatalf("%s: PARTS=%d, other jobs of ConfigMap %s use %d", name, np, cm, p)
			}
			parts[cm] = np
		}
		// volumes: every mount names a claim; /data read-only, runs writable
		claims := map[string]string{}
		for _, v := range s.Template.Spec.Volumes {
			if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName == "" {
				t.Fatalf("%s: volume %s is not a PersistentVolumeClaim", name, v.Name)
			}
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
		var readDirs, writeDirs []string
		for _, m := range c.VolumeMounts {
			if claims[m.Name] == "" {
				t.Fatalf("%s: mount %s names no volume", name, m.Name)
			}
			if m.ReadOnly {
				readDirs = append(readDirs, m.MountPath)
			} else {
				writeDirs = append(writeDirs, m.MountPath)
			}
		}
		if len(readDirs) != 1 || readDirs[0] != "/data" || len(writeDirs) != 1 || writeDirs[0] != workInImage+"/runs" {
			t.Fatalf("%s: mounts read-only %v, writable %v: want /data and %s/runs", name, readDirs, writeDirs, workInImage)
		}
		// stage.sh under the pod's environment (the last index for arrays)
		i := 0
		if indexed {
			i = *s.Completions - 1
			env["INDEX"] = strconv.Itoa(i)
		}
		cmds := dryRun(t, stage, env)
		if len(cmds) == 0 {
			t.Fatalf("%s: stage.sh %s printed no command", name, stage)
		}
		for _, cmd := range cmds {
			if indexed && !strings.Contains(cmd, fmt.Sprintf("--shard %d/%d", i, np)) {
				t.Fatalf("%s: %q lacks --shard %d/%d", name, cmd, i, np)
			}
			for _, flag := range []string{"--out", "--root", "--root-lsvq", "--shards", "--ladder"} {
				for _, v := range flagValues(cmd, flag) {
					abs := v
					if !filepath.IsAbs(v) {
						abs = filepath.Join(workInImage, v)
					}
					ok := abs == writeDirs[0] || strings.HasPrefix(abs, writeDirs[0]+"/")
					if flag == "--root" || flag == "--root-lsvq" {
						ok = strings.HasPrefix(abs, "/data/")
					}
					if !ok {
						t.Fatalf("%s: %s %s is not on the volume it needs", name, flag, v)
					}
				}
			}
		}
		t.Logf("%s: pod %d runs %s", name, i, cmds[0])
	}
	for _, s := range []string{"ladder", "shards", "merge", "sweep", "sweep-report", "eval"} {
		if !stages[s] {
			t.Fatalf("no Job runs stage %s", s)
		}
	}
}

// dryRun runs stage.sh STAGE with DRY_RUN=1 and only env (plus PATH) in a
// directory laid out like the image's working directory; returns the
// commands it prints.
func dryRun(t *testing.T, stage string, env map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	if ck := env["CHECKPOINTS"]; ck != "" && !filepath.IsAbs(ck) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(ck)), 0o755)
		os.WriteFile(filepath.Join(dir, ck), []byte("runs/lsvq-run\n"), 0o644)
	}
	cmd := exec.Command("bash", "stage.sh", stage)
	cmd.Path, _ = exec.LookPath("bash")
	abs, _ := filepath.Abs("stage.sh")
	cmd.Args = []string{"bash", abs, stage}
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DRY_RUN=1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("stage.sh %s with %v: %v\n%s", stage, env, err, stderr.String())
	}
	var out []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		out = append(out, strings.TrimSpace(sc.Text()))
	}
	return out
}

func flagValues(cmd, flag string) []string {
	f := strings.Fields(cmd)
	var out []string
	for i := 0; i+1 < len(f); i++ {
		if f[i] == flag {
			out = append(out, f[i+1])
		}
	}
	return out
}

// fakeSlurm puts sbatch, squeue and scontrol stand-ins on PATH: sbatch
// records its arguments and prints job ids 101, 102, ...; squeue prints
// $FAKE_SQUEUE; scontrol records its arguments.
func fakeSlurm(t *testing.T) (env []string, calls func() []string) {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	scripts := map[string]string{
		"sbatch": `n=$(cat "$FAKE_DIR/n" 2>/dev/null || echo 100); n=$((n + 1)); echo $n >"$FAKE_DIR/n"
echo "sbatch $*" >>"$FAKE_DIR/calls"; echo "$n"`,
		"squeue":   `echo "squeue $*" >>"$FAKE_DIR/calls"; [ -n "${FAKE_SQUEUE:-}" ] && echo "$FAKE_SQUEUE"; exit 0`,
		"scontrol": `echo "scontrol $*" >>"$FAKE_DIR/calls"`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "FAKE_DIR=" + bin, "HOME=" + os.Getenv("HOME")}
	return env, func() []string {
		b, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

func runScript(t *testing.T, env []string, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(script, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", script, args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// submit-data.sh chains ladder -> shards -> merge with afterok, writes the
// params file the jobs read, and prints the ids; retry.sh resubmits a task
// and re-points (or resubmits) the rest of the chain.
func TestSlurmSubmit(t *testing.T) {
	env, calls := fakeSlurm(t)
	out := filepath.Join(t.TempDir(), "lsvq")
	got := runScript(t, env, "./slurm/submit-data.sh", "--dataset", "lsvq", "--root", "/data/LSVQ", "--out", out, "-n", "4",
		"--splits", "train", "--ladder-split", "train", "--set", "shards.compression=zstd", "--cpllm", "/opt/bin/cpllm",
		"--sbatch-args", "--partition=cpu --account=vqa")
	if got != "ladder 101\nshards 102\nmerge 103\n" {
		t.Fatalf("submit-data.sh printed %q", got)
	}
	params := filepath.Join(out, "slurm", "params.env")
	logs := filepath.Join(out, "slurm", "logs")
	deploy, _ := filepath.Abs(".")
	want := []string{
		"sbatch --parsable --array=0-3 --output=" + logs + "/%x-%A_%a.log --partition=cpu --account=vqa " + deploy + "/slurm/ladder.sbatch " + params,
		"sbatch --parsable --array=0-3 --output=" + logs + "/%x-%A_%a.log --dependency=afterok:101 --partition=cpu --account=vqa " + deploy + "/slurm/shards.sbatch " + params,
		"sbatch --parsable --output=" + logs + "/%x-%j.log --dependency=afterok:102 --partition=cpu --account=vqa " + deploy + "/slurm/merge.sbatch " + params,
	}
	if c := calls(); !slices.Equal(c, want) {
		t.Fatalf("sbatch calls:\n%s\nwant:\n%s", strings.Join(c, "\n"), strings.Join(want, "\n"))
	}
	p, _ := os.ReadFile(params)
	for _, kv := range []string{"DATASET=lsvq", "ROOT=/data/LSVQ", "LABELS=\n", "OUT=" + out, "PARTS=4", "SPLITS=train", "LADDER_SPLIT=train",
		"CPLLM=/opt/bin/cpllm", "CPLLM_ARGS=--set shards.compression=zstd", "SBATCH_ARGS=--partition=cpu --account=vqa"} {
		if !strings.Contains(string(p), kv) {
			t.Fatalf("params.env lacks %q:\n%s", kv, p)
		}
	}
	// stage.sh reads that file: the commands of task 3 of 4
	ladder := stageWithParams(t, params, "ladder", "3")
	if !strings.Contains(ladder, "/opt/bin/cpllm --set shards.compression=zstd data ladder --dataset lsvq --root /data/LSVQ --split train --shard 3/4 --out "+out+"/ladder/part-3") {
		t.Fatalf("ladder task 3: %s", ladder)
	}
	shards := stageWithParams(t, params, "shards", "3")
	if !strings.Contains(shards, "data shards --dataset lsvq --root /data/LSVQ --split train --ladder "+out+"/ladder/part-0 --ladder "+out+"/ladder/part-1 --ladder "+out+"/ladder/part-2 --ladder "+out+"/ladder/part-3 --shard 3/4 --out "+out+"/parts/train/part-3") {
		t.Fatalf("shards task 3: %s", shards)
	}
	merge := stageWithParams(t, params, "merge", "")
	if !strings.Contains(merge, "data merge --out "+out+"/shards/train "+out+"/parts/train/part-0 "+out+"/parts/train/part-1 "+out+"/parts/train/part-2 "+out+"/parts/train/part-3") ||
		!strings.Contains(merge, "data verify --shards "+out+"/shards/train") {
		t.Fatalf("merge: %s", merge)
	}

	// retry: the shards job is pending, so its dependency is re-pointed
	slurmDir := filepath.Join(out, "slurm")
	got = runScript(t, append(env, "FAKE_SQUEUE=PENDING"), "./slurm/retry.sh", slurmDir, "ladder", "2")
	if got != "ladder 104\nshards 102 dependency=afterany:101,afterok:104\n" {
		t.Fatalf("retry.sh printed %q", got)
	}
	c := calls()
	if len(c) != 3 || !strings.HasPrefix(c[0], "sbatch --parsable --array=2 --output="+logs+"/%x-%A_%a.log --partition=cpu --account=vqa "+deploy+"/slurm/ladder.sbatch") ||
		c[2] != "scontrol update JobId=102 Dependency=afterany:101,afterok:104" {
		t.Fatalf("retry.sh calls:\n%s", strings.Join(c, "\n"))
	}
	// retry when the shards job is gone: shards and merge are submitted again
	got = runScript(t, env, "./slurm/retry.sh", slurmDir, "ladder", "2")
	if got != "ladder 105\nshards 106\nmerge 107\n" {
		t.Fatalf("retry.sh (shards job gone) printed %q", got)
	}
	c = calls()
	if !strings.Contains(c[2], "--dependency=afterany:101:104,afterok:105") || !strings.Contains(c[3], "--dependency=afterok:106") {
		t.Fatalf("retry.sh (shards job gone) calls:\n%s", strings.Join(c, "\n"))
	}
	jobs, _ := os.ReadFile(filepath.Join(slurmDir, "jobs"))
	if string(jobs) != "ladder 101\nshards 102\nmerge 103\nladder 104\nladder 105\nshards 106\nmerge 107\n" {
		t.Fatalf("jobs file:\n%s", jobs)
	}

	// sweep: array + report; eval: one job after it
	runs := filepath.Join(t.TempDir(), "runs")
	exp, _ := filepath.Abs("../experiments/encoders.yaml")
	got = runScript(t, env, "./slurm/submit-sweep.sh", "--experiment", exp, "--out", runs, "-n", "3", "--seeds", "5")
	if got != "sweep 108\nsweep-report 109\n" {
		t.Fatalf("submit-sweep.sh printed %q", got)
	}
	c = calls()
	sp := filepath.Join(runs, "slurm", "encoders", "params.env")
	if !strings.HasPrefix(c[0], "sbatch --parsable --array=0-2 ") || !strings.HasSuffix(c[0], "/slurm/sweep.sbatch "+sp) ||
		!strings.Contains(c[1], "--dependency=afterok:108") || !strings.HasSuffix(c[1], "/slurm/sweep-report.sbatch "+sp) {
		t.Fatalf("submit-sweep.sh calls:\n%s", strings.Join(c, "\n"))
	}
	if s := stageWithParams(t, sp, "sweep", "2"); !strings.Contains(s, "sweep "+exp+" --seeds 5 --shard 2/3 --out "+runs) {
		t.Fatalf("sweep task 2: %s", s)
	}
	if s := stageWithParams(t, sp, "sweep-report", ""); !strings.Contains(s, "sweep report "+exp+" --seeds 5 --out "+runs) {
		t.Fatalf("sweep report: %s", s)
	}
	ck := filepath.Join(t.TempDir(), "ck.txt")
	os.WriteFile(ck, []byte("# cells\n runs/a/seed1 \n\nruns/a/seed2\n"), 0o644)
	got = runScript(t, env, "./slurm/submit-eval.sh", "--checkpoints", ck, "--out", filepath.Join(runs, "eval"), "--after", "afterok:108",
		"--", "--datasets", "lsvq-test", "--root-lsvq", "/data/LSVQ")
	if got != "eval 110\n" {
		t.Fatalf("submit-eval.sh printed %q", got)
	}
	if c = calls(); !strings.Contains(c[0], "--dependency=afterok:108") {
		t.Fatalf("submit-eval.sh calls: %v", c)
	}
	ep := filepath.Join(runs, "eval", "slurm", "params.env")
	if s := stageWithParams(t, ep, "eval", ""); !strings.Contains(s, "eval --checkpoint runs/a/seed1 --checkpoint runs/a/seed2 --out "+filepath.Join(runs, "eval")+" --datasets lsvq-test --root-lsvq /data/LSVQ") {
		t.Fatalf("eval: %s", s)
	}
	// no demo paths left in the Slurm files
	files, _ := filepath.Glob("slurm/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("runs/demo")) {
			t.Fatalf("%s names the demo's paths", f)
		}
	}
}

func stageWithParams(t *testing.T, params, stage, index string) string {
	t.Helper()
	cmd := exec.Command("bash", "stage.sh", stage, params)
	// the job environment: an array task id, and a stray OUT that the params file overrides
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DRY_RUN=1", "OUT=/elsewhere", "ROOT=/elsewhere"}
	if index != "" {
		cmd.Env = append(cmd.Env, "SLURM_ARRAY_TASK_ID="+index)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("stage.sh %s %s (task %s): %v", stage, params, index, err)
	}
	return string(out)
}

// The scripts parse; shellcheck (when installed) finds nothing.
func TestScriptsLint(t *testing.T) {
	files, _ := filepath.Glob("slurm/*")
	files = append(files, "stage.sh", "test-cluster.sh")
	for _, f := range files {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Fatalf("bash -n %s: %v\n%s", f, err, out)
		}
		if st, _ := os.Stat(f); st.Mode()&0o111 == 0 && !strings.HasSuffix(f, "lib.sh") {
			t.Fatalf("%s is not executable", f)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck not installed: only bash -n")
		return
	}
	if out, err := exec.Command("shellcheck", append([]string{"-x"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// stage.sh: shards refuses to start until every ladder partition has its
// completion marker, merge until every shards partition has; a params file
// overrides the environment; a task index must be below PARTS.
func TestStageChecks(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "cpllm")
	os.WriteFile(fake, []byte("#!/bin/bash\necho \"$*\" >>\""+dir+"/calls\"\n"), 0o755)
	out := filepath.Join(dir, "out")
	run := func(stage string, extra ...string) (string, error) {
		cmd := exec.Command("bash", "stage.sh", stage)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CPLLM=" + fake, "OUT=" + out, "PARTS=2",
			"DATASET=manifest", "ROOT=/data/x"}, extra...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if msg, err := run("shards", "INDEX=0"); err == nil || !strings.Contains(msg, "ladder partitions 0 1 of 0..1 have not finished") {
		t.Fatalf("shards without ladder markers: %v %s", err, msg)
	}
	for i := range 2 {
		if msg, err := run("ladder", "SLURM_ARRAY_TASK_ID="+strconv.Itoa(i)); err != nil {
			t.Fatalf("ladder %d: %v %s", i, err, msg)
		}
	}
	if msg, err := run("merge"); err == nil || !strings.Contains(msg, "shards partitions 0 1 of 0..1 have not finished") {
		t.Fatalf("merge without shards markers: %v %s", err, msg)
	}
	if msg, err := run("shards", "JOB_COMPLETION_INDEX=1", "SPLITS=train test"); err != nil {
		t.Fatalf("shards 1: %v %s", err, msg)
	}
	if msg, err := run("merge", "SPLITS=train"); err == nil || !strings.Contains(msg, "shards partitions 0 of 0..1") {
		t.Fatalf("merge with one shards marker: %v %s", err, msg)
	}
	if msg, err := run("ladder", "INDEX=2"); err == nil || !strings.Contains(msg, "not below PARTS=2") {
		t.Fatalf("index 2 of 2: %v %s", err, msg)
	}
	if msg, err := run("ladder"); err == nil || !strings.Contains(msg, "no partition index") {
		t.Fatalf("no index: %v %s", err, msg)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	want := "data ladder --dataset manifest --root /data/x --shard 0/2 --out " + out + "/ladder/part-0\n" +
		"data ladder --dataset manifest --root /data/x --shard 1/2 --out " + out + "/ladder/part-1\n" +
		"data shards --dataset manifest --root /data/x --split train --ladder " + out + "/ladder/part-0 --ladder " + out + "/ladder/part-1 --shard 1/2 --out " + out + "/parts/train/part-1\n" +
		"data shards --dataset manifest --root /data/x --split test --ladder " + out + "/ladder/part-0 --ladder " + out + "/ladder/part-1 --shard 1/2 --out " + out + "/parts/test/part-1\n"
	if string(calls) != want {
		t.Fatalf("commands run:\n%s\nwant:\n%s", calls, want)
	}
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte("OUT=/x\nnot a setting\n"), 0o644)
	cmd := exec.Command("bash", "stage.sh", "merge", bad)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "bad.env:2: want KEY=VALUE") {
		t.Fatalf("malformed params file: %v %s", err, b)
	}
}
