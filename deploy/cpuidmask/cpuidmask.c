// cpuidmask: an LD_PRELOAD library that makes a process see an x86-64 CPU
// without AVX-512 (nor AMX, AVX512-BF16/FP16 or AVX-VNNI), so that libraries
// which pick their kernels by CPUID (ONNX Runtime's MLAS, GoMLX's pure-Go
// backend, the Go runtime) take the same code paths as on an AVX2-only CPU.
//
// It uses Linux CPUID faulting (arch_prctl ARCH_SET_CPUID, 0): every CPUID
// instruction then raises SIGSEGV, and the handler below executes the real
// CPUID with faulting briefly off, clears the feature bits, writes the result
// into the interrupted registers and skips the instruction. The Go runtime
// installs its own SIGSEGV handler after start-up; it forwards faults that
// happen outside Go code (ONNX Runtime's, called through cgo, and its own
// threads) to the handler that was installed before it; a Go program's own
// package initialisers and libraries also execute CPUID from Go code, which
// the Go handler would treat as a crash. So this library also interposes
// sigaction(3) for SIGSEGV (cgo programs install their handlers through
// libc): the program's handler is recorded and called for every fault that
// is not a CPUID, while this handler stays installed.
//
// Build: cc -O2 -shared -fPIC -o cpuidmask.so cpuidmask.c
// Use:   LD_PRELOAD=$PWD/cpuidmask.so bin/cpllm ...
// CPUIDMASK_VERBOSE=1 prints one line per emulated CPUID leaf to stderr.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

// next is the SIGSEGV handler the program believes is installed (it gets
// every fault that is not a CPUID); real_sigaction is libc's.
static struct sigaction next;
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static int verbose;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

// mask clears what an AVX2-only x86-64 CPU (e.g. AMD EPYC Zen 2/3) lacks.
static void mask(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
	if (leaf == 7 && sub == 0) {
		// EBX: AVX512 F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31
		r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
		// ECX: AVX512 VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14
		r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
		// EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22, AVX512-FP16 23, AMX-TILE 24, AMX-INT8 25
		r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
	}
	if (leaf == 7 && sub == 1) {
		// EAX: AVX-VNNI 4, AVX512-BF16 5
		r[0] &= ~((1u << 4) | (1u << 5));
	}
}

static void handler(int sig, siginfo_t *info, void *vctx) {
	ucontext_t *ctx = vctx;
	greg_t *g = ctx->uc_mcontext.gregs;
	const uint8_t *pc = (const uint8_t *)g[REG_RIP];
	if (pc[0] == 0x0f && pc[1] == 0xa2) {
		uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX], r[4];
		syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
		cpuid(leaf, sub, r);
		syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
		mask(leaf, sub, r);
		if (verbose) {
			char line[96];
			int n = snprintf(line, sizeof line, "cpuidmask: leaf %#x.%u -> %08x %08x %08x %08x\n", leaf, sub, r[0], r[1], r[2], r[3]);
			if (n > 0) write(2, line, (size_t)n);
		}
		g[REG_RAX] = r[0];
		g[REG_RBX] = r[1];
		g[REG_RCX] = r[2];
		g[REG_RDX] = r[3];
		g[REG_RIP] += 2;
		return;
	}
	// Not CPUID: a real fault, for the program's own handler.
	if (next.sa_flags & SA_SIGINFO) {
		next.sa_sigaction(sig, info, vctx);
		return;
	}
	if (next.sa_handler != SIG_DFL && next.sa_handler != SIG_IGN) {
		next.sa_handler(sig);
		return;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	real_sigaction(sig, &dfl, NULL); // returning re-executes the instruction and dies
}

// sigaction keeps this library's SIGSEGV handler installed and records the
// program's as next.
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
	if (!real_sigaction)
		real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	if (sig != SIGSEGV)
		return real_sigaction(sig, act, old);
	if (old)
		*old = next;
	if (act)
		next = *act;
	return 0;
}

__attribute__((constructor)) static void cpuidmask_init(void) {
	verbose = getenv("CPUIDMASK_VERBOSE") != NULL;
	if (!real_sigaction)
		real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (real_sigaction(SIGSEGV, &sa, &next) != 0) {
		perror("cpuidmask: sigaction");
		exit(2);
	}
	if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
		perror("cpuidmask: this kernel or CPU has no CPUID faulting (arch_prctl ARCH_SET_CPUID)");
		exit(2);
	}
}
