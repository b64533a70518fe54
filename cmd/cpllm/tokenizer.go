package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model/tokenizer"
)

func newTokenizerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tokenizer", Short: "Train and inspect SentencePiece tokenizers"}
	var corpus, out string
	var shardDirs []string
	var vocab int
	var builtin bool
	train := &cobra.Command{
		Use:   "train (--corpus FILE | --shards DIR... | --builtin) --out PREFIX [--vocab N]",
		Short: "Train a BPE tokenizer (Debian spm_train) on a text corpus, the descriptions in shards, or the built-in corpus",
		Long: `Runs spm_train with the settings go-sentencepiece supports (BPE, identity
normalizer, no dummy prefix, byte fallback), Gemma's special ids (pad 0,
eos 1, bos 2, unk 3) and deterministic options; the level words and
first/second after a space ("▁good") are user symbols, so each answer word is
one token. --builtin is the corpus of configs/tokenizer/cpllm.model (prompts,
answer words, data/describe descriptions; make tokenizer); --shards uses
the same prompts and answer words with the shards' descriptions. Writes
PREFIX.model and PREFIX.vocab.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sources := 0
			for _, set := range []bool{corpus != "", len(shardDirs) > 0, builtin} {
				if set {
					sources++
				}
			}
			if out == "" || sources != 1 {
				return fmt.Errorf("tokenizer train: --out and exactly one of --corpus, --shards or --builtin are required")
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if builtin {
				tmp, err := os.MkdirTemp("", "cpllm-tokenizer-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				corpus = filepath.Join(tmp, "corpus.txt")
				if err := tokenizer.WriteCorpus(corpus, builtinCorpus()); err != nil {
					return err
				}
			}
			if corpus == "" {
				descs, err := shardDescriptions(cmd.Context(), shardDirs)
				if err != nil {
					return err
				}
				corpus = out + ".corpus.txt"
				if err := tokenizer.WriteCorpus(corpus, answerCorpus(descs)); err != nil {
					return err
				}
			}
			if err := tokenizer.Train(corpus, out, vocab, nil); err != nil {
				return err
			}
			sp, err := tokenizer.Load(out + ".model")
			if err != nil {
				return err
			}
			if err := sp.RequireSingleTokens(tokenizer.AnswerWords); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tokenizer: %d tokens -> %s.model\n", sp.Size(), out)
			return nil
		},
	}
	f := train.Flags()
	f.StringVar(&corpus, "corpus", "", "text file, one sentence per line")
	f.StringArrayVar(&shardDirs, "shards", nil, "shard directories whose descriptions form the corpus (repeatable)")
	f.BoolVar(&builtin, "builtin", false, "the built-in corpus of configs/tokenizer/cpllm.model")
	f.StringVar(&out, "out", "", "output prefix (PREFIX.model, PREFIX.vocab)")
	f.IntVar(&vocab, "vocab", 1000, "vocabulary size")
	cmd.AddCommand(train)
	return cmd
}

// shardDescriptions streams every record's description, in shard order.
func shardDescriptions(ctx context.Context, dirs []string) ([]string, error) {
	var lines []string
	for _, dir := range dirs {
		ds, err := shards.Open(dir)
		if err != nil {
			return nil, err
		}
		for batch, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: 16}) {
			if err != nil {
				return nil, err
			}
			for _, r := range batch {
				lines = append(lines, r.Description)
			}
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no descriptions in %v", dirs)
	}
	return lines, nil
}
