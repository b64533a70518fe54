package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/strictyaml"
	"go.yaml.in/yaml/v3"
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
	y, err := ModelFileYAML(mcYAML)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, TokenizerFile), tok, 0o644); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ModelFile), y, 0o644)
}

// ModelFileYAML is mcYAML as WriteModelFiles writes it into a directory:
// its tokenizer key names the copy tokenizer.model beside it.
func ModelFileYAML(mcYAML []byte) ([]byte, error) {
	return strictyaml.ApplyBytes(ModelFile, mcYAML, Config{}, "",
		strictyaml.Override{Key: "tokenizer", Value: strictyaml.ParseValue(TokenizerFile)})
}

// AbsTokenizerYAML returns model-config YAML whose relative tokenizer path
// (relative to dir, the directory of the file it was read from) is made
// absolute, for YAML that is parsed elsewhere or copied to another
// directory (ParseConfig reads a relative path against the working
// directory). data is returned unchanged when the path is absolute or absent.
func AbsTokenizerYAML(data []byte, dir string) ([]byte, error) {
	var c struct {
		Tokenizer string `yaml:"tokenizer"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c.Tokenizer == "" || filepath.IsAbs(c.Tokenizer) {
		return data, nil
	}
	cfg := Config{Tokenizer: c.Tokenizer}
	if err := cfg.ResolveTokenizer(dir); err != nil {
		return nil, err
	}
	return strictyaml.ApplyBytes(ModelFile, data, Config{}, "",
		strictyaml.Override{Key: "tokenizer", Value: strictyaml.ParseValue(cfg.Tokenizer)})
}

// WriteCheckpoint writes a self-contained checkpoint directory: model.yaml
// and tokenizer.model (WriteModelFiles of m's config), the store's variables
// and state (state.json). It is written beside dir and renamed over it.
// LoadCheckpoint, train --init, eval, score and weights export read it.
func WriteCheckpoint(dir string, m *Model, mcYAML []byte, state any) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".ckpt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp's 0700 would make the checkpoint private
		return err
	}
	if err := WriteModelFiles(tmp, m.Cfg, mcYAML); err != nil {
		return err
	}
	if err := WriteVariables(m.Store, filepath.Join(tmp, VarsFile)); err != nil {
		return err
	}
	js, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, StateFile), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return fsutil.ReplaceDir(tmp, dir)
}
