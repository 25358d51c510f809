/* bench_run.h - one `edgegrid bench` run: what to measure (filled from the
 * command line by cmd_bench.c) and the ordered sequence of measurements
 * that fills a bench_report. */
#ifndef EG_HOST_BENCH_RUN_H
#define EG_HOST_BENCH_RUN_H

#include "bench_report.h"

/* One row to measure: an op, or the fused default set. */
typedef struct bench_row_spec {
    char name[16];
    unsigned ops;
    eg_op op;           /* EG_OP_COUNT_ALL for the fused set */
} bench_row_spec;

typedef struct bench_args {
    uint64_t size;                            /* bytes per input */
    eg_dtype dtype;
    size_t nrows;
    bench_row_spec rows[BENCH_MAX_ROWS];
    size_t nspecs;                            /* 0: every device, all, list */
    const char *specs[BENCH_MAX_CONFIGS];
    unsigned reps;
    eg_mode mode;                             /* EXACT: exact beside fast */
    const char *plot;                         /* NULL: no sweep, no plot */
    uint64_t max_size;                        /* largest size of the sweep */
    double copy_gbps;
    int verbose;                              /* progress lines on stderr */
} bench_args;

/* The sweep's sizes: 4 KiB, x4, up to min(max_size, 2 GiB). */
size_t bench_sweep_sizes(uint64_t max_size, uint64_t *sizes, size_t cap);

/* Runs every measurement in a fixed order (roof, edgegrid per device
 * selection with its latencies, roof again, the sweep, OpenBLAS, numpy;
 * with mode EG_MODE_EXACT each op also in exact mode, right after the same
 * op in fast mode; the latencies and the sweep stay fast mode) and
 * fills `r`.  Returns 0, or an exit status after printing the one error
 * line (out of memory, no device list). */
int bench_run(const bench_args *a, bench_report *r);

#endif
