//go:build !unix

package fsutil

import "os"

// tryFlock: without flock the lock file is advisory only (never held).
func tryFlock(*os.File) (held bool, err error) { return false, nil }
