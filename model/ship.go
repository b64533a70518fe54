package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// ShipState is the state.json of a shipped checkpoint: where it came from.
type ShipState struct {
	Step     int    `json:"step"`
	Averaged bool   `json:"averaged"` // the weights are already the EMA (ReadVariables swaps nothing)
	From     string `json:"from"`     // the checkpoint it was exported from
}

// Ship writes an inference-only checkpoint of ckpt (a run directory or a
// checkpoint) into dir: model.yaml (mcYAML) with a copy of its tokenizer
// (WriteModelFiles) and the model's own variables,
// the EMA swapped in where the run kept one, without optimizer state or
// gradient accumulators (a third of the training checkpoint's size). It is
// written beside dir and renamed over it. LoadCheckpoint reads it.
func Ship(mc Config, mcYAML []byte, ckpt, dir string) (ShipState, error) {
	src, err := ResolveCheckpoint(ckpt)
	if err != nil {
		return ShipState{}, err
	}
	trained, b, err := LoadCheckpoint(mc, src) // EMA already swapped in
	if err != nil {
		return ShipState{}, err
	}
	defer b.Finalize()
	fresh, err := Build(mc)
	if err != nil {
		return ShipState{}, err
	}
	if err := fresh.Init(b); err != nil {
		return ShipState{}, err
	}
	for v := range fresh.Store.IterVariables() {
		t := trained.Store.GetVariable(v.Path())
		if t == nil {
			return ShipState{}, fmt.Errorf("ship %s: the checkpoint has no variable %s", src, v.Path())
		}
		val, err := t.Value()
		if err != nil {
			return ShipState{}, err
		}
		if err := v.SetValue(val); err != nil {
			return ShipState{}, fmt.Errorf("ship %s: %s: %w", src, v.Path(), err)
		}
	}
	var st struct {
		Step int `json:"step"`
	}
	if js, err := os.ReadFile(filepath.Join(src, StateFile)); err == nil {
		_ = json.Unmarshal(js, &st)
	}
	out := ShipState{Step: st.Step, Averaged: true, From: src}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return out, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".ship-")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp's 0700 would make the shipped directory private
		return out, err
	}
	if err := WriteVariables(fresh.Store, filepath.Join(tmp, VarsFile)); err != nil {
		return out, err
	}
	js, _ := json.MarshalIndent(out, "", "  ")
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, StateFile), append(js, '\n'), 0o644); err != nil {
		return out, err
	}
	if err := WriteModelFiles(tmp, mc, mcYAML); err != nil {
		return out, err
	}
	return out, fsutil.ReplaceDir(tmp, dir)
}
