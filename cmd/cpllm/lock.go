package main

import (
	"fmt"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// lockOut takes the exclusive lock on a command's output directory (creating
// it), so a second run into the same directory fails at once, naming the
// directory and the holder's pid, instead of interleaving its writes with
// the first. The caller unlocks when the command ends; a crash releases the
// lock with the process.
func lockOut(name, dir string) (*fsutil.DirLock, error) {
	l, err := fsutil.LockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if afterLock != nil {
		afterLock(dir)
	}
	return l, nil
}

// afterLock, when set, runs once an output lock is held (tests use it to
// keep a run inside its lock).
var afterLock func(dir string)
