// Command cpllm is the single binary of the cpllm framework: data
// preparation, training, evaluation and scoring for CP-LLM video quality.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cpllm:", err)
		os.Exit(1)
	}
}
