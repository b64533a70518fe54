package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cpllm/cpllm/experiments/sweep"
)

// selfCommand makes the command that runs this CLI with args. Tests replace
// it: there the executable is the test binary, not the CLI.
var selfCommand = func(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, args...), nil
}

// cellArgs are the arguments that make the CLI run cell index of the
// experiment alone: the sweep command as given (its file and every flag set
// on it, global ones included) with --shard index/n instead of the
// partition, one job and no further child process.
func cellArgs(cmd *cobra.Command, experiment string, index, n int) []string {
	args := []string{"sweep", experiment}
	add := func(f *pflag.Flag) {
		if !f.Changed || f.Name == "shard" || f.Name == "jobs" || f.Name == "isolate" || f.Name == "cpuprofile" {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	}
	cmd.InheritedFlags().VisitAll(add)
	cmd.LocalFlags().VisitAll(add)
	return append(args, fmt.Sprintf("--shard=%d/%d", index, n), "--isolate=false")
}

// cellExec runs each cell of the sweep in a child process of this CLI
// (sweep.Options.Exec). The child dies with this process (a killed sweep
// leaves no cell training on), and on interrupt it gets SIGINT, then
// SIGKILL after 30 s; either way the cell resumes from its last checkpoint.
func cellExec(cmd *cobra.Command, experiment string, n int, log io.Writer) func(context.Context, sweep.Cell) error {
	return func(ctx context.Context, c sweep.Cell) error {
		child, err := selfCommand(cellArgs(cmd, experiment, c.Index, n))
		if err != nil {
			return err
		}
		child.Stdout, child.Stderr = log, log
		child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := child.Start(); err != nil {
			return fmt.Errorf("cell process: %w", err)
		}
		done := make(chan error, 1)
		go func() { done <- child.Wait() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			child.Process.Signal(os.Interrupt)
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				child.Process.Kill()
				err = <-done
			}
		}
		if err != nil {
			return fmt.Errorf("cell process (%s): %w", child.String(), err)
		}
		return nil
	}
}
