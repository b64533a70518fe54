//go:build !(linux && amd64) || noxla

package model

import (
	"fmt"

	"github.com/gomlx/compute"
)

const xlaCompiled = false

func newXLABackend(spec, _ string) (compute.Backend, error) {
	return nil, fmt.Errorf("backend %q: the XLA backend is not compiled into this binary (built with -tags noxla or on an unsupported platform)", spec)
}
