/* bench_roof.h - the roof: how fast this machine's cores can read memory at
 * all.  A native multi-threaded SIMD loop that sums a buffer as 64-bit
 * words with several independent accumulators, one contiguous slice per
 * thread: no reduction can read the same bytes faster, so every other figure
 * of `edgegrid bench` is reported as a ratio to it. */
#ifndef EG_HOST_BENCH_ROOF_H
#define EG_HOST_BENCH_ROOF_H

#include "bench.h"

typedef enum bench_isa {
    BENCH_ISA_SCALAR,   /* plain C, eight 64-bit accumulators */
    BENCH_ISA_AVX2,     /* four 256-bit accumulators */
    BENCH_ISA_AVX512,   /* four 512-bit accumulators */
    BENCH_ISA_COUNT
} bench_isa;

#define BENCH_ISA_ALL ((1u << BENCH_ISA_COUNT) - 1u)

const char *bench_isa_name(bench_isa isa);   /* "avx512" */
int bench_isa_supported(bench_isa isa);      /* by this CPU, at run time */

/* Online cores (at least 1). */
unsigned bench_cores(void);

typedef struct bench_roof {
    bench_figure best;                     /* the fastest ISA's figure */
    bench_isa isa;                         /* which ISA that was */
    unsigned streams;                      /* streams per thread: 1 or 4 */
    unsigned threads;
    bench_figure by_isa[BENCH_ISA_COUNT];  /* unmeasured where unsupported */
} bench_roof;

/* Measures the read bandwidth over the first `bytes` of `buf` (page-aligned)
 * with `threads` threads, for each ISA in `isa_mask` that the CPU supports
 * and each slice layout (one stream or four per thread), each as `plan`
 * says; the fastest is out->best.  Returns 0, or -1 when a thread or the timing memory
 * could not be had (out->best is then unmeasured). */
int bench_roof_measure(const void *buf, uint64_t bytes, unsigned threads,
                       unsigned isa_mask, const bench_plan *plan,
                       bench_roof *out);

#endif
