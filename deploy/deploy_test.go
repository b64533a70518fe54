// Package deploy holds the Kubernetes and Slurm files for partitioned runs;
// its test checks that they parse and pass the partition index to --shard.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type job struct {
	Kind     string
	Metadata struct{ Name string }
	Spec     struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int
		Parallelism    int
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Command []string
					Args    []string
					Env     []struct{ Name, Value string }
				}
			}
		}
	}
}

// Every k8s document is an Indexed Job whose command, run by sh with the
// completion index set, calls cpllm with --shard INDEX/completions.
func TestKubernetesIndexedJobs(t *testing.T) {
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) < 2 {
		t.Fatalf("k8s manifests: %v", files)
	}
	jobs := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var j job
			if err := dec.Decode(&j); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			jobs++
			s := j.Spec
			if j.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions < 1 || len(s.Template.Spec.Containers) != 1 {
				t.Fatalf("%s %s: not an Indexed Job: %+v", f, j.Metadata.Name, j)
			}
			c := s.Template.Spec.Containers[0]
			if len(c.Command) != 2 || c.Command[0] != "/bin/sh" || len(c.Args) != 1 || !strings.Contains(c.Args[0], "JOB_COMPLETION_INDEX") {
				t.Fatalf("%s %s: command %v %v does not use the completion index", f, j.Metadata.Name, c.Command, c.Args)
			}
			env := []string{"CPLLM=echo cpllm", "JOB_COMPLETION_INDEX=" + strconv.Itoa(s.Completions-1), "PATH=" + os.Getenv("PATH")}
			for _, e := range c.Env {
				env = append(env, e.Name+"="+e.Value)
			}
			cmd := exec.Command("sh", "-c", c.Args[0])
			cmd.Env, cmd.Dir = env, t.TempDir()
			out, err := cmd.CombinedOutput()
			want := "--shard " + strconv.Itoa(s.Completions-1) + "/" + strconv.Itoa(s.Completions)
			if err != nil || !strings.Contains(string(out), want) || !strings.HasPrefix(string(out), "cpllm ") {
				t.Fatalf("%s %s: %v: output %q lacks %q", f, j.Metadata.Name, err, out, want)
			}
			t.Logf("%s %s, pod %d: %s", f, j.Metadata.Name, s.Completions-1, strings.TrimSpace(strings.Split(string(out), "\n")[0]))
		}
	}
	if jobs < 3 {
		t.Fatalf("%d jobs, want ladder, shards and sweep", jobs)
	}
}

// The Slurm scripts are valid bash and turn the array task into --shard.
func TestSlurmArrays(t *testing.T) {
	files, _ := filepath.Glob("slurm/*.sbatch")
	if len(files) < 2 {
		t.Fatalf("slurm scripts: %v", files)
	}
	for _, f := range files {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Fatalf("bash -n %s: %v\n%s", f, err, out)
		}
	}
	runScript := func(f string, args ...string) string {
		cmd := exec.Command("bash", append([]string{f}, args...)...)
		cmd.Env = []string{"CPLLM=echo cpllm", "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=5", "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", f, args, err, out)
		}
		return string(out)
	}
	if out := runScript("slurm/sweep.sbatch"); !strings.Contains(out, "sweep experiments/encoders.yaml --shard 2/5 --out runs") {
		t.Fatalf("sweep.sbatch: %q", out)
	}
	if out := runScript("slurm/data.sbatch", "ladder"); !strings.Contains(out, "--shard 2/5 --out runs/demo/ladder/part-2") {
		t.Fatalf("data.sbatch ladder: %q", out)
	}
	if out := runScript("slurm/data.sbatch", "shards"); strings.Count(out, "--shard 2/5") != 3 || !strings.Contains(out, "runs/demo/parts/test/part-2") {
		t.Fatalf("data.sbatch shards: %q", out)
	}
	cmd := exec.Command("bash", "slurm/sweep.sbatch")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--array") {
		t.Fatalf("without an array task id: %v %s", err, out)
	}
}
