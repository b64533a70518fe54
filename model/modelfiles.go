package model

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/strictyaml"
)

// A run directory and a checkpoint directory carry the model they hold:
// model.yaml, whose tokenizer key names the copy tokenizer.model beside it,
// so the directory loads wherever it is moved (LoadConfig resolves the
// relative path against model.yaml's directory).
const (
	ModelFile     = "model.yaml"
	TokenizerFile = "tokenizer.model"
)

// WriteModelFiles writes dir/tokenizer.model (a copy of mc.Tokenizer) and
// dir/model.yaml (mcYAML with its tokenizer key set to tokenizer.model),
// each atomically.
func WriteModelFiles(dir string, mc Config, mcYAML []byte) error {
	tok, err := os.ReadFile(mc.Tokenizer)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	y, err := strictyaml.ApplyBytes(ModelFile, mcYAML, Config{}, "",
		strictyaml.Override{Key: "tokenizer", Value: strictyaml.ParseValue(TokenizerFile)})
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, TokenizerFile), tok, 0o644); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ModelFile), y, 0o644)
}
