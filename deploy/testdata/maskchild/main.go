// maskchild reports what CPUID tells a cgo Go program (the Go runtime's and
// the SIMD package's feature bits) and that a nil dereference still reaches
// the Go runtime's handler under deploy/cpuidmask (TestCPUIDMask).
package main

// cgo makes the binary dynamic, so that LD_PRELOAD applies.

// static unsigned leaf7ebx(void) {
//   unsigned a = 7, b, c = 0, d;
//   __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
//   return b;
// }
import "C"

import (
	"fmt"
	"simd/archsimd"
)

type box struct{ v int }

func main() {
	ebx := uint32(C.leaf7ebx())
	fmt.Printf("go_avx512=%v go_avx2=%v c_avx512f=%v c_avx2=%v\n",
		archsimd.X86.AVX512(), archsimd.X86.AVX2(), ebx&(1<<16) != 0, ebx&(1<<5) != 0)
	defer func() { fmt.Printf("recovered=%v\n", recover() != nil) }()
	var b *box
	fmt.Println(b.v)
}
