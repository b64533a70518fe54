//go:build linux && amd64 && !noxla

package model

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
)

// xlaCompiled says whether the XLA (PJRT) backend is linked in; build with
// -tags noxla to leave it out. Its plugin auto-installer is not linked: a
// missing plugin is an error, never a download.
const xlaCompiled = true

// newXLABackend opens the PJRT plugin named by opts ("cuda", "cpu", ...).
func newXLABackend(spec, opts string) (compute.Backend, error) {
	if opts == "" {
		opts = "cpu"
	}
	b, err := xla.New(opts)
	if err != nil {
		return nil, fmt.Errorf("backend %q: cannot start XLA with PJRT plugin %q (is the plugin installed? see docs/model.md, On a GPU machine): %w", spec, opts, err)
	}
	return b, nil
}
