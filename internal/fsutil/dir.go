package fsutil

import (
	"os"
	"path/filepath"
)

// ReplaceDir publishes the complete directory tmp under final, replacing a
// directory already there, so that final is always the old or the new
// directory, never a mix: tmp is fsynced, an existing final is moved aside
// (to .NAME.old-TMPNAME beside it), tmp is renamed into place (the old one
// put back if that fails), the parent is fsynced and the old one removed.
// A crash between the two renames leaves the old directory under its
// .old- name for the caller's cleanup. tmp must be on final's file system
// (make it beside final).
func ReplaceDir(tmp, final string) error {
	if err := SyncDir(tmp); err != nil {
		return err
	}
	var old string
	if _, err := os.Stat(final); err == nil {
		old = filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".old-"+filepath.Base(tmp))
		if err := os.Rename(final, old); err != nil {
			return err
		}
	}
	if err := Rename(tmp, final); err != nil {
		if old != "" {
			_ = os.Rename(old, final)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
