package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockName is the lock file LockDir keeps inside a locked directory while
// the lock is held. It holds the holder's pid, for the error a second run
// gets; only the flock on it counts, so a file left by a crashed run (the
// kernel drops the flock when a process dies) never blocks anyone.
const LockName = ".cpllm.lock"

// ErrLocked is matched (errors.Is) by the error LockDir returns when another
// process, or another LockDir in this one, holds the directory.
var ErrLocked = errors.New("directory is locked")

// LockedError says who holds a directory.
type LockedError struct {
	Dir string
	PID int // 0 when the holder's pid could not be read
}

func (e *LockedError) Error() string {
	holder := "another process (pid unknown)"
	if e.PID > 0 {
		holder = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("output directory %s is in use by another run (%s holds %s); wait for it to finish or choose another directory",
		e.Dir, holder, filepath.Join(e.Dir, LockName))
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// DirLock is an exclusive lock on a directory, held until Unlock or the end
// of the process.
type DirLock struct {
	path string
	f    *os.File
}

// LockDir creates dir if needed and takes an exclusive lock on it without
// waiting: a flock (LOCK_EX|LOCK_NB) on dir/LockName, into which it writes
// this process's pid. When the directory is already locked it fails at once
// with a *LockedError naming the directory and the holder's pid. Two output
// runs into one directory would otherwise interleave their writes.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockName)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644) // no O_TRUNC: the holder's pid stays readable
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		held, err := tryFlock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if held {
			f.Close()
			return nil, &LockedError{Dir: dir, PID: holderPID(path)}
		}
		// An unlocking holder removes the file before it lets go of the flock:
		// a lock on a file no longer at path locks nothing, so start again.
		st, err1 := f.Stat()
		cur, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(st, cur) {
			f.Close()
			if attempt >= 100 {
				return nil, fmt.Errorf("lock %s: the lock file keeps being replaced", path)
			}
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return &DirLock{path: path, f: f}, nil
	}
}

// holderPID reads the pid the holder wrote. A holder that has just taken the
// flock may not have written it yet, so an empty file is read again briefly.
func holderPID(path string) int {
	for range 50 {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			pid, _ := strconv.Atoi(s)
			return pid
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0
}

// Unlock removes the lock file and releases the lock. It is safe to call
// more than once and on a nil lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Remove while still holding the flock (see LockDir's same-file check).
	rerr := os.Remove(l.path)
	cerr := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return rerr
	}
	return cerr
}
