package deploy

// The real-engine test: the Slurm scripts on a one-node Slurm cluster started
// by deploy/test-cluster.sh (make test-cluster), which sets
// CPLLM_CLUSTER_TEST=1, SLURM_CONF and CPLLM_BIN. Without CPLLM_CLUSTER_TEST
// the test skips; with it, anything missing is a failure.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/experiments/sweep/sweeptest"
	"github.com/cpllm/cpllm/internal/partition"

	"github.com/cpllm/cpllm/internal/testutil"
)

const parts = 3

// Tiny settings shared by every command of the data runs (shards and merge
// must agree on shards.*).
var clusterSets = []string{"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=2",
	"--set", "shards.k=2", "--set", "shards.max_rows=3"}

var ladderArgs = []string{"--crf", "30,45", "--preset", "veryfast"}

var splitNames = []string{"train", "val", "test"}

type cluster struct {
	bin  string // cpllm
	repo string
	env  []string
}

func newCluster(t *testing.T) *cluster {
	if os.Getenv("CPLLM_CLUSTER_TEST") != "1" {
		t.Skip("the Slurm cluster test runs under make test-cluster (deploy/test-cluster.sh sets CPLLM_CLUSTER_TEST=1)")
	}
	c := &cluster{bin: os.Getenv("CPLLM_BIN"), repo: sweeptest.Repo()}
	if c.bin == "" {
		t.Fatal("CPLLM_BIN is not set: run make test-cluster")
	}
	if os.Getenv("SLURM_CONF") == "" {
		t.Fatal("SLURM_CONF is not set: run make test-cluster, which starts the cluster")
	}
	out, err := exec.Command("sinfo", "-h", "-N", "-o", "%N %T %c").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "idle") {
		t.Fatalf("sinfo: %v: %s (want an idle node)", err, out)
	}
	t.Logf("cluster: SLURM_CONF=%s, node %s", os.Getenv("SLURM_CONF"), strings.TrimSpace(string(out)))
	c.env = os.Environ()
	return c
}

// sh runs a command from the repository root and returns its stdout; stderr
// goes to the test log.
func (c *cluster) sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = c.repo, c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// cpllm runs the binary in one process (the single-process reference).
func (c *cluster) cpllm(t *testing.T, args ...string) {
	t.Helper()
	c.sh(t, c.bin, append(slices.Clone(clusterSets), args...)...)
}

// ids parses "STAGE JOBID [...]" lines of the submit scripts.
func ids(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("submit output line %q: want STAGE JOBID", l)
		}
		m[f[0]] = f[1]
	}
	return m
}

// task is one record of `scontrol show job -o`: a job, an array task, or the
// still-pending rest of an array.
type task struct {
	JobID, ArrayJobID, ArrayTaskID, Name, State, Reason, ExitCode string
}

func (k task) String() string {
	id := k.JobID
	if k.ArrayJobID != "" {
		id = k.ArrayJobID + "_" + k.ArrayTaskID
	}
	s := fmt.Sprintf("%s %s %s exit %s", id, k.Name, k.State, k.ExitCode)
	if k.State == "PENDING" {
		s += " (" + k.Reason + ")"
	}
	return s
}

func (k task) done() bool {
	switch k.State {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT":
		return false
	}
	return true
}

func (c *cluster) tasks(t *testing.T, id string) []task {
	t.Helper()
	cmd := exec.Command("scontrol", "show", "job", "-o", id)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v\n%s", id, err, out)
	}
	var ts []task
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var k task
		for _, f := range strings.Fields(line) {
			key, val, _ := strings.Cut(f, "=")
			switch key {
			case "JobId":
				k.JobID = val
			case "ArrayJobId":
				k.ArrayJobID = val
			case "ArrayTaskId":
				k.ArrayTaskID = val
			case "JobName":
				k.Name = val
			case "JobState":
				k.State = val
			case "Reason":
				k.Reason = val
			case "ExitCode":
				k.ExitCode = val
			}
		}
		ts = append(ts, k)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].ArrayTaskID < ts[j].ArrayTaskID })
	return ts
}

// wait polls until every task of the jobs has ended, failing on a job that
// can never start or on the timeout (with the jobs' logs).
func (c *cluster) wait(t *testing.T, logs string, timeout time.Duration, jobs ...string) map[string][]task {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := map[string][]task{}
		finished := true
		for _, id := range jobs {
			ts := c.tasks(t, id)
			all[id] = ts
			for _, k := range ts {
				if !k.done() {
					finished = false
				}
				if k.State == "PENDING" && k.Reason == "DependencyNeverSatisfied" {
					c.dumpLogs(t, logs)
					t.Fatalf("job %s can never start: %v", id, ts)
				}
			}
		}
		if finished {
			return all
		}
		if time.Now().After(deadline) {
			c.dumpLogs(t, logs)
			t.Fatalf("jobs %v not finished after %v: %v", jobs, timeout, all)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *cluster) dumpLogs(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("--- %s\n%s", f, b)
	}
}

// requireCompleted fails unless every task of the jobs completed with exit
// 0, and logs their states.
func requireCompleted(t *testing.T, label string, states map[string][]task, order ...string) {
	t.Helper()
	for _, id := range order {
		for _, k := range states[id] {
			t.Logf("%s: %v", label, k)
			if k.State != "COMPLETED" || k.ExitCode != "0:0" {
				t.Fatalf("%s: task %v did not complete", label, k)
			}
		}
	}
}

// corpus writes the test dataset: a tiny synthetic corpus plus, when
// ../shared/realdata is present, two real clips (540p KoNViD-1k, 720p LSVQ),
// as a manifest label file. It returns the dataset root and label file.
func (c *cluster) corpus(t *testing.T, dir string) (root, labels string, real int) {
	root = filepath.Join(dir, "synth")
	c.sh(t, c.bin, "data", "synth", "--out", root, "--set", "synth.videos=6", "--set", "synth.max_height=360",
		"--set", "synth.min_seconds=0.5", "--set", "synth.max_seconds=0.5", "--set", "synth.preset=ultrafast",
		"--set", "synth.variants=1", "--set", "synth.ladder_crf=30")
	body, err := os.ReadFile(filepath.Join(root, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rd := testutil.FindRealData(); rd != "" {
		clips := []struct{ id, path, mos, split string }{
			{"konvid-8536919744", "KoNViD-1k/KoNViD_1k_videos/8536919744.mp4", "1.22", "train"},
			{"lsvq-17734", "LSVQ/yfcc-batch22/17734.mp4", "3.3964", "test"}, // 59.909 on 0-100, as 1-5
		}
		for _, cl := range clips {
			p := filepath.Join(rd, cl.path)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			body = append(body, fmt.Sprintf("%s,%s,%s,%s,,\n", cl.id, p, cl.mos, cl.split)...)
			real++
		}
	}
	labels = filepath.Join(root, "corpus.csv") // relative paths are relative to the label file
	if err := os.WriteFile(labels, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, labels, real
}

func (c *cluster) submitData(t *testing.T, root, labels, out string) map[string]string {
	t.Helper()
	args := []string{"--dataset", "manifest", "--root", root, "--labels", labels, "--out", out, "-n", fmt.Sprint(parts),
		"--splits", strings.Join(splitNames, " "), "--ladder-args", strings.Join(ladderArgs, " "),
		"--cpllm", c.bin, "--sbatch-args", "--cpus-per-task=1 --mem=256M --time=15"}
	for i := 0; i < len(clusterSets); i += 2 {
		args = append(args, "--set", clusterSets[i+1])
	}
	m := ids(t, c.sh(t, "deploy/slurm/submit-data.sh", args...))
	if m["ladder"] == "" || m["shards"] == "" || m["merge"] == "" {
		t.Fatalf("submit-data.sh printed %v, want ladder, shards and merge job ids", m)
	}
	return m
}

func TestCluster(t *testing.T) {
	c := newCluster(t)
	t.Run("Data", func(t *testing.T) { c.testData(t) })
	t.Run("Sweep", func(t *testing.T) { c.testSweep(t) })
}

func (c *cluster) testData(t *testing.T) {
	dir := t.TempDir()
	root, labels, real := c.corpus(t, dir)
	t.Logf("corpus: synthetic clips + %d real clips (%s)", real, labels)

	// Run 1: the three stages as Slurm jobs.
	out1 := filepath.Join(dir, "run1")
	start := time.Now()
	j1 := c.submitData(t, root, labels, out1)
	t.Logf("run 1: submit-data.sh -> ladder %s, shards %s, merge %s", j1["ladder"], j1["shards"], j1["merge"])
	st := c.wait(t, filepath.Join(out1, "slurm", "logs"), 10*time.Minute, j1["ladder"], j1["shards"], j1["merge"])
	requireCompleted(t, "run 1", st, j1["ladder"], j1["shards"], j1["merge"])
	t.Logf("run 1: %d array tasks x 2 + merge in %.0f s", parts, time.Since(start).Seconds())

	// The single-process reference, no Slurm: the same partitioned commands
	// run one after the other, merged; and shards without --shard.
	ref := filepath.Join(dir, "ref")
	start = time.Now()
	src := []string{"--dataset", "manifest", "--root", root, "--labels", labels}
	var refLadders, ladderFlags []string
	for i := range parts {
		p := filepath.Join(ref, "ladder", fmt.Sprintf("part-%d", i))
		refLadders = append(refLadders, p)
		ladderFlags = append(ladderFlags, "--ladder", p)
		c.cpllm(t, append(append(append([]string{"data", "ladder"}, src...), ladderArgs...),
			"--shard", fmt.Sprintf("%d/%d", i, parts), "--out", p)...)
	}
	for _, s := range splitNames {
		c.cpllm(t, append(append(append([]string{"data", "shards"}, src...), ladderFlags...), "--split", s,
			"--out", filepath.Join(ref, "single", s))...)
		var ps []string
		for i := range parts {
			p := filepath.Join(ref, "parts", s, fmt.Sprint(i))
			ps = append(ps, p)
			c.cpllm(t, append(append(append([]string{"data", "shards"}, src...), ladderFlags...), "--split", s,
				"--shard", fmt.Sprintf("%d/%d", i, parts), "--out", p)...)
		}
		c.cpllm(t, append([]string{"data", "merge", "--out", filepath.Join(ref, "merged", s)}, ps...)...)
	}
	t.Logf("single-process reference in %.0f s", time.Since(start).Seconds())

	sources := ladderSources(t, labels)
	checkLadder(t, "run 1", out1, refLadders, sources)
	for _, s := range splitNames {
		got := filepath.Join(out1, "shards", s)
		n, b := sameDir(t, got, filepath.Join(ref, "merged", s))
		t.Logf("identity run 1 %s: %d files (%d bytes: shard files, pairs.jsonl, manifest.json without created) equal to the single process's partitions merged", s, n, b)
		recs, pairs := sameRecords(t, got, filepath.Join(ref, "single", s))
		t.Logf("identity run 1 %s: %d records (every field) and pairs.jsonl (%d pairs, byte for byte) equal to the single process's unpartitioned run", s, recs, pairs)
	}

	// Run 2: cancel one ladder task mid-run, resubmit that index, finish.
	out2 := filepath.Join(dir, "run2")
	j2 := c.submitData(t, root, labels, out2)
	victim := heaviest(sources, real)
	t.Logf("run 2: submit-data.sh -> ladder %s, shards %s, merge %s; will cancel ladder task %d", j2["ladder"], j2["shards"], j2["merge"], victim)
	logs2 := filepath.Join(out2, "slurm", "logs")
	c.cancelMidRun(t, j2["ladder"], victim, filepath.Join(out2, "ladder", fmt.Sprintf("part-%d", victim)), 2*len(sources[victim]))
	st = c.wait(t, logs2, 5*time.Minute, j2["ladder"])
	for _, k := range st[j2["ladder"]] {
		t.Logf("run 2 after scancel: %v", k)
		want := "COMPLETED"
		if k.ArrayTaskID == fmt.Sprint(victim) {
			want = "CANCELLED"
		}
		if !strings.HasPrefix(k.State, want) {
			t.Fatalf("run 2: ladder task %v, want %s", k, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out2, "done", fmt.Sprintf("ladder-%d-of-%d", victim, parts))); err == nil {
		t.Fatalf("cancelled ladder task %d has a completion marker", victim)
	}
	for _, k := range c.tasks(t, j2["shards"]) {
		t.Logf("run 2 shards while ladder task %d is missing: %v", victim, k)
		if k.State != "PENDING" {
			t.Fatalf("shards job ran although ladder task %d was cancelled: %v", victim, k)
		}
	}
	retry := c.sh(t, "deploy/slurm/retry.sh", filepath.Join(out2, "slurm"), "ladder", fmt.Sprint(victim))
	t.Logf("run 2: deploy/slurm/retry.sh %s ladder %d ->\n%s", filepath.Join(out2, "slurm"), victim, strings.TrimSpace(retry))
	jr := ids(t, retry)
	if jr["ladder"] == "" || jr["shards"] != j2["shards"] {
		t.Fatalf("retry.sh printed %v: want the new ladder job and the re-pointed shards job %s", jr, j2["shards"])
	}
	st = c.wait(t, logs2, 10*time.Minute, jr["ladder"], j2["shards"], j2["merge"])
	requireCompleted(t, "run 2", st, jr["ladder"], j2["shards"], j2["merge"])
	checkLadder(t, "run 2", out2, refLadders, sources)
	for _, s := range splitNames {
		n, b := sameDir(t, filepath.Join(out2, "shards", s), filepath.Join(out1, "shards", s))
		t.Logf("identity run 2 (task %d cancelled and resubmitted) %s: %d files (%d bytes) equal to run 1 and so to the single process", victim, s, n, b)
	}
}

// ladderSources lists the dataset's ids (the ladder's sources) by partition.
func ladderSources(t *testing.T, labels string) [][]string {
	f, err := os.Open(labels)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	by := make([][]string, parts)
	for _, r := range rows[1:] {
		by[partition.Of(r[0], parts)] = append(by[partition.Of(r[0], parts)], r[0])
	}
	return by
}

// heaviest is the partition with the most work: real clips first, then sources.
func heaviest(by [][]string, real int) int {
	best, score := 0, -1
	for i, ids := range by {
		s := len(ids)
		for _, id := range ids {
			if real > 0 && (strings.HasPrefix(id, "konvid-") || strings.HasPrefix(id, "lsvq-")) {
				s += 100
			}
		}
		if s > score {
			best, score = i, s
		}
	}
	return best
}

// cancelMidRun waits until array task i runs and has journaled an encode
// (or has run 1 s), then cancels it, and checks that it was cut short.
func (c *cluster) cancelMidRun(t *testing.T, job string, i int, partDir string, want int) {
	t.Helper()
	id := fmt.Sprintf("%s_%d", job, i)
	deadline := time.Now().Add(5 * time.Minute)
	var running time.Time
	for {
		k := c.tasks(t, id)
		if len(k) == 1 && k[0].ArrayTaskID == fmt.Sprint(i) {
			if k[0].State == "RUNNING" && running.IsZero() {
				running = time.Now()
			}
			if k[0].done() {
				t.Fatalf("ladder task %s ended (%v) before it could be cancelled", id, k[0])
			}
		}
		rows := lines(filepath.Join(partDir, "ladder.jsonl"))
		if !running.IsZero() && (rows > 0 || time.Since(running) > time.Second) {
			c.sh(t, "scancel", id)
			t.Logf("scancel %s while RUNNING, %d of %d encodes journaled", id, rows, want)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ladder task %s never ran", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 300 {
		k := c.tasks(t, id)
		if len(k) == 1 && k[0].done() {
			rows := lines(filepath.Join(partDir, "ladder.jsonl"))
			if !strings.HasPrefix(k[0].State, "CANCELLED") || rows >= want {
				t.Fatalf("ladder task %v with %d of %d encodes: the cancel did not cut it short", k[0], rows, want)
			}
			t.Logf("ladder task %v: %d of %d encodes done when it was cancelled", k[0], rows, want)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ladder task %s did not end after scancel", id)
}

func lines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// checkLadder: partition i holds the sources of partition i, each once, and
// equals the reference's partition i file for file (ladder.jsonl: row for
// row, timing aside).
func checkLadder(t *testing.T, label, out string, ref []string, by [][]string) {
	t.Helper()
	files, size := 0, 0
	for i := range parts {
		part := filepath.Join(out, "ladder", fmt.Sprintf("part-%d", i))
		rows, want := ladderRows(t, part), ladderRows(t, ref[i])
		if !slices.Equal(rows, want) {
			t.Fatalf("%s: %s/ladder.jsonl:\n%s\nsingle process:\n%s", label, part, strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
		srcs := map[string]bool{}
		for _, r := range rows {
			var row struct {
				SourceID string `json:"source_id"`
			}
			_ = json.Unmarshal([]byte(r), &row)
			srcs[row.SourceID] = true
		}
		if len(srcs) != len(by[i]) {
			t.Fatalf("%s: ladder partition %d holds %d sources, want %d (%v)", label, i, len(srcs), len(by[i]), by[i])
		}
		for _, id := range by[i] {
			if !srcs[id] {
				t.Fatalf("%s: source %s missing from ladder partition %d", label, id, i)
			}
		}
		err := filepath.Walk(ref[i], func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !strings.HasSuffix(p, ".mp4") {
				return err
			}
			rel, _ := filepath.Rel(ref[i], p)
			a, _ := os.ReadFile(p)
			b, err := os.ReadFile(filepath.Join(part, rel))
			if err != nil || !bytes.Equal(a, b) {
				return fmt.Errorf("encode %s differs from the single process's (%v)", rel, err)
			}
			files++
			size += len(a)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: partition %d: %v", label, i, err)
		}
	}
	if files != 2*(len(by[0])+len(by[1])+len(by[2])) {
		t.Fatalf("%s: %d encodes, want 2 per source", label, files)
	}
	t.Logf("identity %s ladder: %d encodes (%d bytes) and ladder.jsonl rows (timing aside) equal to the single process's, each source in its partition once", label, files, size)
}

// ladderRows reads ladder.jsonl in order, without the timing and recovery
// fields and with the output path relative to the directory.
func ladderRows(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "ladder.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		delete(r, "encode_seconds")
		delete(r, "recovered")
		o, _ := r["output"].(string)
		rel, err := filepath.Rel(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		r["output"] = rel
		b, _ := json.Marshal(r)
		rows = append(rows, string(b))
	}
	return rows
}

// sameDir requires two shard directories to hold the same files with the
// same bytes (manifest.json: apart from "created"); returns the count and size.
func sameDir(t *testing.T, a, b string) (int, int) {
	t.Helper()
	list := func(d string) []string {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		return names
	}
	na, nb := list(a), list(b)
	if !slices.Equal(na, nb) {
		t.Fatalf("%s holds %v\n%s holds %v", a, na, b, nb)
	}
	size := 0
	for _, n := range na {
		x, _ := os.ReadFile(filepath.Join(a, n))
		y, _ := os.ReadFile(filepath.Join(b, n))
		if n == shards.ManifestName {
			x, y = withoutCreated(t, x), withoutCreated(t, y)
		}
		if !bytes.Equal(x, y) {
			if n == shards.ManifestName {
				t.Fatalf("%s differs between %s and %s:\n%s\n%s", n, a, b, x, y)
			}
			t.Fatalf("%s differs between %s and %s", n, a, b)
		}
		size += len(x)
	}
	return len(na), size
}

func withoutCreated(t *testing.T, b []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "created")
	out, _ := json.Marshal(m)
	return out
}

// sameRecords requires the merged directory to hold exactly the single run's
// records, field for field, and its pairs.jsonl byte for byte.
func sameRecords(t *testing.T, merged, single string) (int, int) {
	t.Helper()
	a, err := shards.Open(single)
	if err != nil {
		t.Fatal(err)
	}
	b, err := shards.Open(merged)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := a.PairCandidates()
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != b.Len() {
		t.Fatalf("%s: %d records, single run %d", merged, b.Len(), a.Len())
	}
	for _, c := range ca {
		ra, err := a.Get(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Get(c.ID)
		if err != nil {
			t.Fatalf("%s: record %s of the single run: %v", merged, c.ID, err)
		}
		if d := recordDiff(ra, rb); d != "" {
			t.Fatalf("%s: record %s differs from the single run's: %s", merged, c.ID, d)
		}
	}
	pa, _ := os.ReadFile(filepath.Join(single, shards.PairsName))
	pb, _ := os.ReadFile(filepath.Join(merged, shards.PairsName))
	if !bytes.Equal(pa, pb) {
		t.Fatalf("%s: pairs.jsonl differs from the single run's", merged)
	}
	return a.Len(), bytes.Count(pa, []byte("\n"))
}

func recordDiff(a, b shards.Record) string {
	f := func(x float64) uint64 { return math.Float64bits(x) }
	crf := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	switch {
	case a.ID != b.ID || a.Dataset != b.Dataset || a.Split != b.Split || a.SourceID != b.SourceID:
		return "identity fields"
	case crf(a.CRF) != crf(b.CRF):
		return "crf"
	case f(a.MOS) != f(b.MOS) || f(a.MOSNorm) != f(b.MOSNorm):
		return "mos"
	case a.M != b.M || a.K != b.K || !bytes.Equal(a.Context, b.Context) || !bytes.Equal(a.Patches, b.Patches):
		return "pixels"
	case !slices.Equal(a.PatchPos, b.PatchPos) || a.PixelW != b.PixelW || a.PixelH != b.PixelH:
		return "patch positions"
	case a.Description != b.Description:
		return "description"
	case a.SamplerSeed != b.SamplerSeed || a.SamplerParams != b.SamplerParams:
		return "sampler"
	}
	return ""
}

// A 2 x 2 sweep as a 2-task array and its report after it; then one eval job
// over the four cells' checkpoints. The report equals a one-process sweep's.
func (c *cluster) testSweep(t *testing.T) {
	f := sweeptest.New(t, "")
	runs := filepath.Join(f.Dir, "runs")
	start := time.Now()
	j := ids(t, c.sh(t, "deploy/slurm/submit-sweep.sh", "--experiment", f.Exp, "--out", runs, "-n", "2", "--cpllm", c.bin,
		"--report-args", "--resamples 200", "--sbatch-args", "--cpus-per-task=1 --mem=512M --time=15"))
	if j["sweep"] == "" || j["sweep-report"] == "" {
		t.Fatalf("submit-sweep.sh printed %v", j)
	}
	t.Logf("sweep: submit-sweep.sh -> sweep %s (array 0-1), sweep-report %s", j["sweep"], j["sweep-report"])
	ck := filepath.Join(f.Dir, "checkpoints.txt")
	var list []string
	for _, v := range []string{"both", "pixel"} {
		for s := 1; s <= 2; s++ {
			list = append(list, filepath.Join(runs, "tsweep", v, fmt.Sprintf("seed%d", s)))
		}
	}
	if err := os.WriteFile(ck, []byte("# the sweep's cells\n"+strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evalOut := filepath.Join(f.Dir, "eval")
	je := ids(t, c.sh(t, "deploy/slurm/submit-eval.sh", "--checkpoints", ck, "--out", evalOut, "--cpllm", c.bin,
		"--after", "afterok:"+j["sweep"], "--sbatch-args", "--cpus-per-task=1 --mem=512M --time=15",
		"--", "--datasets", "shards:"+filepath.Join(f.Dir, "test"), "--resamples", "100"))
	t.Logf("eval: submit-eval.sh (4 checkpoints, afterok:%s) -> eval %s", j["sweep"], je["eval"])
	logs := filepath.Join(runs, "slurm", "exp", "logs")
	st := c.wait(t, logs, 10*time.Minute, j["sweep"], j["sweep-report"], je["eval"])
	requireCompleted(t, "sweep", st, j["sweep"], j["sweep-report"], je["eval"])
	t.Logf("sweep + report + eval on the cluster in %.0f s", time.Since(start).Seconds())

	// each cell was trained by the task i mod 2 that owns it, once
	for i := range 2 {
		b, err := os.ReadFile(filepath.Join(logs, fmt.Sprintf("cpllm-sweep-%s_%d.log", j["sweep"], i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sweep task %d log: %s", i, lastLine(b))
	}
	out := c.sh(t, c.bin, "sweep", f.Exp, "--dry-run", "--out", runs)
	if strings.Count(out, "done") < 4 {
		t.Fatalf("after the array, the dry run does not list 4 done cells:\n%s", out)
	}
	// the report equals the report of the same sweep in one process
	local := filepath.Join(f.Dir, "local")
	c.sh(t, c.bin, "sweep", f.Exp, "--out", local)
	c.sh(t, c.bin, "sweep", "report", f.Exp, "--out", local, "--resamples", "200")
	a, b := filepath.Join(runs, "tsweep", "report"), filepath.Join(local, "tsweep", "report")
	n := 0
	err := filepath.Walk(b, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(b, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(a, rel))
		if err != nil || !bytes.Equal(x, y) {
			return fmt.Errorf("report file %s differs from the one-process sweep's (%v)", rel, err)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("sweep report: %v (%d files)", err, n)
	}
	t.Logf("identity sweep: the report of the 2-task array (%d files under tsweep/report) equals a one-process sweep's byte for byte", n)
	// eval: one prediction file per checkpoint and the mean
	preds, _ := filepath.Glob(filepath.Join(evalOut, "predictions", "*.csv"))
	if len(preds) != 5 {
		t.Fatalf("eval wrote %v, want the mean and 4 per-checkpoint prediction files", preds)
	}
	if _, err := os.Stat(filepath.Join(evalOut, "report.json")); err != nil {
		t.Fatal(err)
	}
	t.Logf("eval job: %d prediction files and report.json in %s", len(preds), evalOut)
}

func lastLine(b []byte) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	return ls[len(ls)-1]
}
