/* bench_timing.h - the clock and the repetition loop every measurement of
 * `edgegrid bench` goes through, so all contenders are timed the same way:
 * CLOCK_MONOTONIC around one call, warm-up first, median of the rest. */
#ifndef EG_HOST_BENCH_TIMING_H
#define EG_HOST_BENCH_TIMING_H

#include "bench.h"

/* One run of the thing being measured; returns 0, or nonzero to stop. */
typedef int (*bench_fn)(void *ctx);

/* Runs `fn` as `plan` says and stores the median time of the timed runs in
 * `fig` (with the bytes one run reads).  Returns 0, fn's first nonzero
 * return, or -1 when the time list cannot be allocated; `fig` is then left
 * unmeasured. */
int bench_repeat(const bench_plan *plan, bench_fn fn, void *ctx,
                 uint64_t bytes, bench_figure *fig);

/* The median of v[0..n-1] (sorts v); 0 for n == 0.  For an even n, the mean
 * of the two middle values. */
double bench_median(double *v, size_t n);

#endif
