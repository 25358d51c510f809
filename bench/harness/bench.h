/* bench.h - what the pieces of `edgegrid bench` share: the data under test,
 * one measured figure, and the plan that says how often to repeat a
 * measurement.  Each measuring module (roof, edgegrid, OpenBLAS, numpy) fills
 * bench_figure values; bench_report.h gathers them for printing. */
#ifndef EG_HOST_BENCH_H
#define EG_HOST_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* The arrays every contender reads: one run, the same bytes for all. */
typedef struct bench_data {
    void *x;          /* page-aligned, filled */
    void *y;          /* second operand of dot; NULL when dot is not measured */
    uint64_t count;   /* elements in x (and in y) */
    eg_dtype dtype;
} bench_data;

/* One measured figure: the median over the timed repetitions. */
typedef struct bench_figure {
    int have;         /* 0: not measured (not applicable, skipped, failed) */
    double seconds;   /* median wall time of one repetition */
    double gbps;      /* bytes read / seconds / 1e9 */
    unsigned reps;    /* timed repetitions behind the median */
} bench_figure;

/* How a measurement repeats: `warmup` untimed runs, then timed runs until
 * both `min_reps` and `min_seconds` are reached, at most `max_reps`.  Small
 * inputs thus get many repetitions and large ones just `min_reps`. */
typedef struct bench_plan {
    unsigned warmup;
    unsigned min_reps;
    unsigned max_reps;
    double min_seconds;
} bench_plan;

/* Bytes one pass over `count` elements reads: both inputs for dot. */
uint64_t bench_bytes(eg_dtype t, uint64_t count, int two_inputs);

/* Fills `fig` from a median time; gbps 0 when no time was measured. */
void bench_figure_set(bench_figure *fig, double seconds, unsigned reps,
                      uint64_t bytes);

#endif
