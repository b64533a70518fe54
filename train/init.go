package train

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/model"
)

// initWeights sets the model's weights from the checkpoint ckpt (a
// checkpoint directory, or a run directory's best/newest): weights only,
// strictly (model.LoadCheckpointWeights: every missing, unexpected or
// mis-shaped tensor listed, nothing loaded partially); the optimizer starts
// fresh at step 0. The checkpoint's tokenizer must be the model's: the
// same weights read through another vocabulary would train silently wrong.
func initWeights(m *model.Model, ckpt string, log func(string, ...any)) error {
	dir, err := model.ResolveCheckpoint(ckpt)
	if err != nil {
		return fmt.Errorf("train: --init: %w", err)
	}
	if err := sameTokenizer(m.Cfg.Tokenizer, dir); err != nil {
		return fmt.Errorf("train: --init %s: %w", dir, err)
	}
	if _, err := model.LoadCheckpointWeights(m, dir); err != nil {
		return fmt.Errorf("train: --init: %w", err)
	}
	log("initialised the weights from %s (fresh optimizer, step 0)\n", dir)
	return nil
}

// sameTokenizer checks that the checkpoint's tokenizer.model (in dir, or at
// its run's root for RUN/checkpoints/NAME) has the bytes of the model's.
func sameTokenizer(tok, dir string) error {
	cands := []string{filepath.Join(dir, model.TokenizerFile)}
	if c := filepath.Clean(dir); filepath.Base(filepath.Dir(c)) == model.CheckpointsDir {
		cands = append(cands, filepath.Join(filepath.Dir(filepath.Dir(c)), model.TokenizerFile))
	}
	want, err := os.ReadFile(tok)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	for _, p := range cands {
		got, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("its tokenizer %s differs from the model config's %s (train with the checkpoint's model.yaml: --set model_config=%s)",
				p, tok, filepath.Join(filepath.Dir(p), model.ModelFile))
		}
		return nil
	}
	return fmt.Errorf("no %s beside the checkpoint or at its run's root (%v)", model.TokenizerFile, cands)
}
