package video

/*
#include <malloc.h>

// glibc fills each allocation with perturb^0xff: 0xff makes every malloc
// return zeroed memory, like the fresh pages a short-lived ffmpeg process gets.
static void zero_mallocs(void) { mallopt(M_PERTURB, 0xff); }
*/
import "C"

import "sync"

// Why: libx264 (core 164, as in Debian 12) reads memory it never wrote when
// mb-tree and B-frames meet some frame widths (measured: 352, 360 and 368 px
// wide; not 376 or 640). In a fresh ffmpeg process that memory is zero; in a
// long-lived one it is whatever an earlier encode left, so identical frames
// gave different bitstreams from run to run. Zeroed allocations make every
// encode equal the ffmpeg CLI's. The cost is a memset per C allocation.
var zeroOnce sync.Once

func zeroMallocs() { zeroOnce.Do(func() { C.zero_mallocs() }) }
