// Package simdpin makes the pure-Go backend use the same matmul kernels on
// every x86-64 CPU with AVX2, so that a seed gives the same bytes on machines
// with and without AVX-512.
//
// The backend registers its AVX-512 kernels in a package init when the CPU
// has them and GOMLX_SIMD_AVX512 is not false; they accumulate in a
// different order than the AVX2 kernels, so float results (and a trained
// model's figures) differ between CPU kinds. This package sets
// GOMLX_SIMD_AVX512=false when the variable is unset. Go initialises a
// package once its imports are initialised, in import-path order among the
// ready ones: this package imports only os and sorts before
// github.com/gomlx/..., so its init runs before the backend's. Import it
// (blank) from every package that creates a backend.
//
// Setting GOMLX_SIMD_AVX512=true opts back into the AVX-512 kernels (faster
// on CPUs that have them; results then match other AVX-512 machines only).
package simdpin

import "os"

// Env is the backend's switch for its AVX-512 kernels.
const Env = "GOMLX_SIMD_AVX512"

// Pinned reports whether this process pinned the kernels (the variable was
// unset at start); false means the user chose through the environment.
var Pinned bool

func init() {
	if _, set := os.LookupEnv(Env); !set {
		os.Setenv(Env, "false")
		Pinned = true
	}
}
