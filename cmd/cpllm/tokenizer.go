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
	train := &cobra.Command{
		Use:   "train (--corpus FILE | --shards DIR...) --out PREFIX [--vocab N]",
		Short: "Train a BPE tokenizer (Debian spm_train) on a text corpus or on the descriptions in shards",
		Long: `Runs spm_train with the settings go-sentencepiece supports (BPE, identity
normalizer, no dummy prefix, byte fallback) and deterministic options; the
level words and first/second are user symbols, so each is one token. Writes
PREFIX.model and PREFIX.vocab.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || (corpus == "") == (len(shardDirs) == 0) {
				return fmt.Errorf("tokenizer train: --out and exactly one of --corpus or --shards are required")
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if corpus == "" {
				lines, err := shardDescriptions(cmd.Context(), shardDirs)
				if err != nil {
					return err
				}
				corpus = out + ".corpus.txt"
				if err := tokenizer.WriteCorpus(corpus, lines); err != nil {
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
