package model

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/simdpin"
)

// forwardDigest is the sha256 of the demo model's score-task outputs on a
// seeded random batch (the demo's first training loss differs in the 7th
// digit between the AVX-512 and AVX2 kernels).
func forwardDigest(t testing.TB) string {
	cfg, err := LoadConfig(configPath("demo"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch := randomBatch(m, TaskScore, 8, cfg.Input.MaxTextLen, rand.New(rand.NewPCG(5, 6)))
	in, err := m.Inputs(batch)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := forwardExec(t, m, testBackend(t), TaskScore).Call(in...)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, o := range outs {
		for _, v := range flat(t, o) {
			h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestKernelPinChild prints the digest when run as a child of TestKernelPin.
func TestKernelPinChild(t *testing.T) {
	if os.Getenv("CPLLM_KERNEL_CHILD") != "1" {
		t.Skip("run by TestKernelPin")
	}
	fmt.Printf("digest=%s pinned=%v\n", forwardDigest(t), simdpin.Pinned)
}

// TestKernelPin: with GOMLX_SIMD_AVX512 unset, the backend computes exactly
// what it computes with the AVX-512 kernels switched off, i.e. what an
// AVX2-only CPU computes; on a CPU with AVX-512, switching them on changes
// the bytes, which shows the pin is what makes the two agree.
func TestKernelPin(t *testing.T) {
	digest := func(env string) (string, string) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestKernelPinChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CPLLM_KERNEL_CHILD=1")
		cmd.Env = slicesDelete(cmd.Env, simdpin.Env)
		if env != "" {
			cmd.Env = append(cmd.Env, simdpin.Env+"="+env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child (%s=%q): %v\n%s", simdpin.Env, env, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if d, ok := strings.CutPrefix(line, "digest="); ok {
				f := strings.Fields(d)
				return f[0], f[1]
			}
		}
		t.Fatalf("child printed no digest:\n%s", out)
		return "", ""
	}
	unset, pinned := digest("")
	off, _ := digest("false")
	on, optedOut := digest("true")
	if pinned != "pinned=true" || optedOut != "pinned=false" {
		t.Errorf("Pinned: unset env -> %s, env set -> %s", pinned, optedOut)
	}
	if unset != off {
		t.Fatalf("unset %s: %s, but %s=false: %s (the pin came too late)", simdpin.Env, unset, simdpin.Env, off)
	}
	if on == off {
		t.Logf("AVX-512 kernels on and off agree on this CPU (no AVX-512, or no SIMD build): %s", on)
	} else {
		t.Logf("AVX-512 kernels change the bytes here (%s vs %s); the default matches AVX2-only CPUs", on[:12], off[:12])
	}
}

func slicesDelete(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
