/* bench_eg.h - edgegrid's own figures: eg_reduce on memory through the
 * public API, timed from outside with CLOCK_MONOTONIC around the call, on an
 * engine that is already open (kernels built) and warmed up. */
#ifndef EG_HOST_BENCH_EG_H
#define EG_HOST_BENCH_EG_H

#include "bench.h"

/* What one device did in the last timed run. */
typedef struct bench_share {
    unsigned index;       /* as in eg_devices_list */
    uint64_t elements;
    double seconds;       /* busy time */
} bench_share;

/* Ratios of readings taken in pairs, each pair two neighbours in time (the
 * roof then edgegrid, or fast mode then exact mode): their median, the
 * smallest and the largest.  A load that comes and goes on a shared box
 * moves both readings of a pair, so the median of the pairs' ratios is
 * steadier than a ratio of two medians taken minutes apart. */
typedef struct bench_pairs {
    unsigned n;           /* 0: not measured */
    double median, lo, hi;
} bench_pairs;

typedef struct bench_eg_cell {
    bench_figure fig;
    bench_pairs xroof;                  /* its GB/s over the roof's */
    bench_pairs xfast;                  /* exact cells: over fast mode's */
    unsigned ops;                       /* the op set measured */
    eg_number value[EG_OP_COUNT_ALL];   /* its results, from the last run */
    size_t nshares;
    bench_share shares[EG_MAX_DEVICES];
    char error[EG_ERROR_MSG_MAX];       /* "" unless the reduction failed */
} bench_eg_cell;

/* Reduces the first `count` elements of d->x (and d->y when `ops` holds
 * dot) with `ops` in `mode` as `plan` says, and fills `cell`.  Returns
 * EG_OK, or the engine's status with cell->error naming the failure (the
 * figure is then unmeasured). */
eg_status bench_eg_measure(eg_engine *e, const bench_data *d, uint64_t count,
                           unsigned ops, eg_mode mode, const bench_plan *plan,
                           bench_eg_cell *cell);

/* The ops of `ops` whose results exact mode changes on dtype `t`: on floats
 * sum, mean, l1 and dot (correctly rounded) and var, std and l2 (through
 * the exact sum of squares); none on integers, whose sums are exact in
 * either mode. */
unsigned bench_eg_exact_ops(eg_dtype t, unsigned ops);

#endif
