package model

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// trainableSettings are every valid trainable section: full or frozen for
// the encoders and projectors (they have no adapters), full, frozen or lora
// for the decoder; the heads alternate between full and frozen, so each
// state of the heads meets every setting of the decoder and most of the
// others without doubling the list.
func trainableSettings() []TrainableConfig {
	var out []TrainableConfig
	two, three := []string{TrainFull, TrainFrozen}, []string{TrainFull, TrainFrozen, TrainLoRA}
	for _, c := range two {
		for _, p := range two {
			for _, pr := range two {
				for _, d := range three {
					out = append(out, TrainableConfig{ContextEncoder: c, PixelEncoder: p, Projectors: pr, Decoder: d, Heads: two[len(out)%2]})
				}
			}
		}
	}
	return out
}

// wantTrainable is the flag a model variable should carry under t, from its
// path alone: fusion always trains; a decoder adapter trains unless
// the decoder is frozen, a decoder base weight only when it is full.
func wantTrainable(t TrainableConfig, path string) bool {
	comp := ComponentOf(path)
	switch comp {
	case "fusion":
		return true
	case "decoder":
		if strings.Contains(path, "/lora_") {
			return t.Decoder != TrainFrozen
		}
		return t.Decoder == TrainFull
	}
	return t.Setting(comp) == TrainFull
}

func TestTrainableConfigErrors(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ from, to, want string }{
		{"  context_encoder: full", "  context_encoder: lora", "trainable.context_encoder: lora: the context_encoder has no LoRA adapters"},
		{"  pixel_encoder: full", "  pixel_encoder: lora", "trainable.pixel_encoder: lora"},
		{"  projectors: full", "  projectors: lora", "trainable.projectors: lora"},
		{"  projectors: full", "  projectors: half", `trainable.projectors: "half" is not full, frozen or lora`},
		{"  projectors: full", "  projectors: full\n  heads: lora", "trainable.heads: lora: the heads has no LoRA adapters"},
		{"rank: 4", "rank: 0", "trainable.decoder: lora (the default) needs adapters"},
		{"targets: [q_proj, k_proj, v_proj]", "targets: []", "trainable.decoder: lora (the default) needs adapters"},
	}
	for _, c := range cases {
		s := strings.Replace(string(data), c.from, c.to, 1)
		if s == string(data) {
			t.Fatalf("%q not in tiny.yaml", c.from)
		}
		if _, err := ParseConfig([]byte(s)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.to, err, c.want)
		}
	}
	// Without adapters the decoder can be frozen or trained in full.
	for _, d := range []string{TrainFrozen, TrainFull} {
		s := strings.Replace(strings.Replace(string(data), "rank: 4", "rank: 0", 1), "  decoder: lora", "  decoder: "+d, 1)
		if _, err := ParseConfig([]byte(s)); err != nil {
			t.Errorf("rank 0, decoder %s: %v", d, err)
		}
	}
}

// The removed decoder.train_base key is rejected naming its file, its line
// and trainable.decoder.
func TestTrainBaseRemoved(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "  rms_norm_eps: 1.0e-6\n", "  rms_norm_eps: 1.0e-6\n  train_base: true\n", 1)
	p := t.TempDir() + "/old.yaml"
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(bad[:strings.Index(bad, "train_base")], "\n") + 1
	_, err = LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: decoder.train_base is replaced by trainable.decoder", p, line)) {
		t.Errorf("got %v, want %s:%d naming trainable.decoder", err, p, line)
	}
}

// A config without a trainable section trains what train_base: false did:
// encoders and projectors in full, the decoder through its adapters.
func TestTrainableDefaults(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "\ntrainable:")
	j := strings.Index(s, "\nheads:")
	if i < 0 || j < i {
		t.Fatal("tiny.yaml: no trainable section before heads")
	}
	c, err := ParseConfig([]byte(s[:i] + s[j:]))
	if err != nil {
		t.Fatal(err)
	}
	want := TrainableConfig{ContextEncoder: TrainFull, PixelEncoder: TrainFull, Projectors: TrainFull, Decoder: TrainLoRA, Heads: TrainFull}
	if c.Trainable != want {
		t.Errorf("defaults %+v, want %+v", c.Trainable, want)
	}
}

// Every setting marks each variable as its path says, and the per-component
// counts add up: a full component is all trainable, a frozen one none, a
// lora decoder exactly its adapters. The cross-attention variant has fusion
// variables inside the decoder's scope.
func TestTrainableFlags(t *testing.T) {
	base := tinyConfig(t)
	within(t, 5*time.Minute, "trainable flags", func() {
		for _, variant := range []string{"context+pixel/concat", "context+pixel/cross-attention"} {
			for _, tc := range trainableSettings() {
				cfg, err := base.WithVariant(variant)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Trainable = tc
				m, err := Build(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.DeclareVariables(testBackend(t)); err != nil {
					t.Fatal(err)
				}
				var lora int64
				for _, v := range m.Variables() {
					if v.Trainable != wantTrainable(tc, v.Path()) {
						t.Errorf("%s %+v: %s trainable=%v", variant, tc, v.Path(), v.Trainable)
					}
					if strings.Contains(v.Path(), "/lora_") {
						lora += int64(v.Shape().Size())
					}
				}
				pc := m.ParamCounts()
				var sum int64
				for _, cc := range pc.Components {
					sum += cc.Total
					want := map[string]int64{TrainFull: cc.Total, TrainFrozen: 0, TrainLoRA: lora}[cc.Setting]
					if cc.Trainable != want {
						t.Errorf("%s %+v: %s (%s) trainable %d of %d, want %d", variant, tc, cc.Component, cc.Setting, cc.Trainable, cc.Total, want)
					}
					if cc.Total == 0 && !(cc.Component == "fusion" && variant == "context+pixel/concat") {
						t.Errorf("%s: component %s has no variables", variant, cc.Component)
					}
				}
				if sum != pc.Total {
					t.Errorf("components sum to %d, total %d", sum, pc.Total)
				}
			}
		}
	})
}
