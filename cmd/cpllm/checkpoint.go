package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/config"
)

// defaultCheckpoint resolves the config key "checkpoint" (the shipped model,
// models/real) for score and eval without --checkpoint: as given, then, for a
// relative path, beside the binary's directory (bin/cpllm finds
// models/real from any working directory of a checkout).
func defaultCheckpoint(cfg config.Config) (string, error) {
	p := cfg.Checkpoint
	if p == "" {
		return "", fmt.Errorf("no --checkpoint, and the config key \"checkpoint\" is empty")
	}
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if !filepath.IsAbs(p) {
		if exe, err := os.Executable(); err == nil {
			q := filepath.Join(filepath.Dir(exe), "..", p)
			if _, err := os.Stat(q); err == nil {
				return q, nil
			}
		}
	}
	return "", fmt.Errorf("no --checkpoint, and the default model %s (config key \"checkpoint\") is not here: run from the repository root, or give --checkpoint RUN_OR_CKPT", p)
}
