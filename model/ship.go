package model

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// ShipState is the state.json of a shipped checkpoint: where it came from.
type ShipState struct {
	Step     int    `json:"step"`
	Averaged bool   `json:"averaged"` // the weights are already the EMA (LoadCheckpointWeights swaps nothing)
	From     string `json:"from"`     // the checkpoint it was exported from
}

// Ship writes an inference-only checkpoint of ckpt (a run directory or a
// checkpoint) into dir (WriteCheckpoint): model.yaml (mcYAML), a copy of its
// tokenizer and the model's own variables, the EMA swapped in where the run
// kept one, without optimizer state or gradient accumulators (a third of the
// training checkpoint's size).
func Ship(mc Config, mcYAML []byte, ckpt, dir string) (ShipState, error) {
	src, err := ResolveCheckpoint(ckpt)
	if err != nil {
		return ShipState{}, err
	}
	trained, b, err := LoadCheckpoint(mc, src) // the model's own weights, EMA swapped in
	if err != nil {
		return ShipState{}, err
	}
	defer b.Finalize()
	var st struct {
		Step int `json:"step"`
	}
	if js, err := os.ReadFile(filepath.Join(src, StateFile)); err == nil {
		_ = json.Unmarshal(js, &st)
	}
	out := ShipState{Step: st.Step, Averaged: true, From: src}
	return out, WriteCheckpoint(dir, trained, mcYAML, out)
}
