/* bench_report.h - everything one `edgegrid bench` run measured, and the
 * two ways to show it: a table for people, one JSON object for programs.
 * The report is filled by bench_run.c and only read here. */
#ifndef EG_HOST_BENCH_REPORT_H
#define EG_HOST_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"
#include "bench_eg.h"
#include "bench_roof.h"

#define BENCH_MAX_CONFIGS 16   /* device specs measured side by side */
#define BENCH_MAX_ROWS 16      /* ops (and the fused set) measured */
#define BENCH_LAT_SIZES 3      /* 4 KiB, 64 KiB, 1 MiB */
#define BENCH_LAT_OPS 2        /* sum, and the fused default set */
#define BENCH_MAX_SWEEP 16     /* 4 KiB .. 2 GiB in steps of x4 is 10 */
#define BENCH_SPEC_MAX 96

/* One device selection, as eg_engine_open takes it. */
typedef struct bench_config {
    char spec[BENCH_SPEC_MAX];       /* "0", "host", "all", "0,1" */
    size_t ndevices;                 /* the devices the engine opened */
    unsigned device[EG_MAX_DEVICES]; /* their indices */
    char notes[512];                 /* the engine's notes ("" if none) */
    char error[EG_ERROR_MSG_MAX];    /* "" unless the engine did not open */
} bench_config;

/* One op, or the fused default op set ("fused"), on every contender. */
typedef struct bench_row {
    char name[16];
    unsigned ops;                         /* EG_OPS_BIT set */
    eg_op op;                             /* the op; COUNT_ALL if fused */
    bench_eg_cell eg[BENCH_MAX_CONFIGS];  /* per config, fast mode */
    bench_eg_cell exact[BENCH_MAX_CONFIGS]; /* the same in exact mode, with
                                               --mode exact only */
    bench_figure numpy;
    const char *blas_routine;             /* NULL when BLAS has none */
    bench_figure blas;
} bench_row;

/* One input size of the sweep that --plot draws. */
typedef struct bench_sweep_point {
    uint64_t bytes;
    bench_figure roof;
    bench_figure eg_sum, eg_fused;     /* on report.sweep_spec */
    bench_figure numpy_sum, numpy_fused;
    bench_figure blas_asum;
} bench_sweep_point;

typedef struct bench_report {
    /* the run */
    eg_dtype dtype;
    uint64_t bytes;          /* per input */
    uint64_t count;
    unsigned reps;
    eg_mode mode;            /* EG_MODE_EXACT: rows[].exact measured too */
    char cpu[128];
    unsigned cores;
    uint64_t mem_bytes;

    /* The roof, read before edgegrid and again after each device selection,
     * so drift on a shared box shows; `roof` holds the highest median. */
    bench_roof roof;
    size_t nroof_samples;
    bench_figure roof_samples[BENCH_MAX_CONFIGS + 1];

    size_t ndevices;
    eg_device_info devices[EG_MAX_DEVICES];
    char device_notes[512];

    size_t nconfigs;
    bench_config configs[BENCH_MAX_CONFIGS];
    size_t nrows;
    bench_row rows[BENCH_MAX_ROWS];

    int numpy_ran;
    char numpy_version[32];
    char numpy_note[512];    /* why numpy was skipped */
    char blas_config[256];   /* "" without OpenBLAS */
    char blas_note[256];     /* why OpenBLAS could not be loaded */
    int blas_threads;

    /* small inputs: [op: sum, fused][size][config], microseconds */
    uint64_t lat_bytes[BENCH_LAT_SIZES];
    bench_figure latency[BENCH_LAT_OPS][BENCH_LAT_SIZES][BENCH_MAX_CONFIGS];

    double copy_gbps;        /* --copy-gbps: the bus to compare with; 0 none */

    size_t nsweep;           /* 0 without --plot */
    char sweep_spec[BENCH_SPEC_MAX];
    bench_sweep_point sweep[BENCH_MAX_SWEEP];
    const char *plot_path;
} bench_report;

/* The roof's readings spread by more than this factor: the machine was
 * busy with something else and the run's ratios are suspect. */
#define BENCH_ROOF_SPREAD_WARN 1.2

/* Highest over lowest roof reading (1 with fewer than two). */
double bench_roof_spread(const bench_report *r);

/* The config whose figure in `cells` (a row's eg or exact, one per config)
 * is highest, or -1 if none was measured. */
int bench_best(const bench_report *r, const bench_eg_cell *cells);

void bench_report_table(FILE *f, const bench_report *r);
void bench_report_json(FILE *f, const bench_report *r);

#endif
