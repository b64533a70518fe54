package model

import (
	"strings"
	"testing"
	"time"
)

// The paper-scale config builds its variables (shapes only) and has the
// expected sizes: SigLIP So400m/14 ~ 0.4B, VideoPrism-B-like ~ 0.11B,
// Gemma-2B ~ 2.5B (with its 256k x 2048 embedding), LoRA rank 4 on q, k, v.
func TestCountParamsPaper(t *testing.T) {
	cfg, err := LoadConfig(configPath("paper"))
	if err != nil {
		t.Fatal(err)
	}
	within(t, 60*time.Second, "paper CountParams", func() {
		tr, fr, err := CountParams(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("paper: trainable %d (%.3fB), frozen %d (%.3fB)", tr, float64(tr)/1e9, fr, float64(fr)/1e9)
		// Gemma-2B: 2,506,172,416 parameters (embedding 524,288,000).
		if fr != 2506172416 {
			t.Errorf("frozen = %d, want Gemma-2B's 2506172416", fr)
		}
		// LoRA r=4 on q (2048->2048), k, v (2048->256), 18 layers.
		lora := int64(18 * 4 * ((2048 + 2048) + 2*(2048+256)))
		m, _ := Build(cfg)
		if err := m.DeclareVariables(testBackend(t)); err != nil {
			t.Fatal(err)
		}
		var got int64
		for _, v := range m.Variables() {
			if strings.Contains(v.Path(), "/lora_") {
				got += int64(v.Shape().Size())
			}
		}
		if got != lora {
			t.Errorf("LoRA params = %d, want %d", got, lora)
		}
		var siglip int64
		for _, v := range m.Variables() {
			if strings.HasPrefix(v.Path(), "/context_encoder/") {
				siglip += int64(v.Shape().Size())
			}
		}
		// SigLIP So400m/14 vision tower at 224 without its MAP head: 412,442,352.
		if siglip != 412442352 {
			t.Errorf("context encoder params = %d, want 412442352", siglip)
		}
	})
}

func TestListVariantsTiny(t *testing.T) {
	within(t, 60*time.Second, "ListVariants", func() {
		infos, err := ListVariants(tinyConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != len(Variants()) {
			t.Fatalf("%d infos for %d variants", len(infos), len(Variants()))
		}
		for _, in := range infos {
			if in.Trainable <= 0 || in.Frozen <= 0 {
				t.Errorf("%+v: empty counts", in)
			}
			t.Logf("%-30s trainable %8d frozen %8d", in.Name, in.Trainable, in.Frozen)
		}
	})
}
