//go:build unix

package fsutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A child process (this test binary, re-executed) locks the directory named
// by FSUTIL_LOCK_CHILD, says "locked" and holds the lock until its stdin
// closes.
func init() {
	dir := os.Getenv("FSUTIL_LOCK_CHILD")
	if dir == "" {
		return
	}
	l, err := LockDir(dir)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	l.Unlock()
	os.Exit(0)
}

// lockInChild starts a child holding dir's lock; closing stdin releases it.
func lockInChild(t *testing.T, dir string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "FSUTIL_LOCK_CHILD="+dir)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q", line)
	}
	return child, stdin
}

func TestLockDirOtherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	child, stdin := lockInChild(t, dir)
	start := time.Now()
	_, err := LockDir(dir)
	if err == nil {
		t.Fatal("second lock on a directory another process holds: no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the second lock took %s; it must fail at once", d)
	}
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != child.Process.Pid {
		t.Fatalf("err = %v (%#v), want a LockedError with pid %d", err, le, child.Process.Pid)
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, fmt.Sprintf("pid %d", child.Process.Pid)) {
		t.Fatalf("message %q must name %s and pid %d", msg, dir, child.Process.Pid)
	}
	// Released on the holder's exit: the lock is ours now, and the file goes with Unlock.
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err := LockDir(dir)
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LockName)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q, want our pid %d", b, os.Getpid())
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); !os.IsNotExist(err) {
		t.Fatalf("lock file left after Unlock: %v", err)
	}
}

// A holder killed with SIGKILL leaves its lock file with its pid; that file
// must not block the next run (the kernel released the flock).
func TestLockDirStaleFileAfterCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	child, _ := lockInChild(t, dir)
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	b, err := os.ReadFile(filepath.Join(dir, LockName))
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(child.Process.Pid) {
		t.Fatalf("the killed holder's lock file: %q, %v", b, err)
	}
	l, err := LockDir(dir)
	if err != nil {
		t.Fatalf("a stale lock file blocks: %v", err)
	}
	defer l.Unlock()
	if b, _ := os.ReadFile(filepath.Join(dir, LockName)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q after relocking, want %d", b, os.Getpid())
	}
}

// Two locks in one process conflict too (flock is per open file), and an
// unlocked directory can be locked again.
func TestLockDirSameProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	a.Unlock()
	a.Unlock() // idempotent
	b, err := LockDir(dir)
	if err != nil {
		t.Fatalf("relock: %v", err)
	}
	b.Unlock()
}
