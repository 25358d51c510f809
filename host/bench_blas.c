/* bench_blas.c - OpenBLAS level-1 routines as a yardstick.  CBLAS counts
 * elements in a blasint (32 bits in Debian's build), so inputs past 2^31
 * elements go through in slices; the results are folded into a sink so no
 * call can be dropped. */
#include <stdio.h>
#include <string.h>

#include "bench_blas.h"
#include "bench_timing.h"

#ifdef EDGEGRID_HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef enum blas_kind {
    BLAS_NONE, BLAS_SUM, BLAS_ASUM, BLAS_NRM2, BLAS_DOT
} blas_kind;

static blas_kind kind_of(eg_dtype t, eg_op op)
{
    if (t != EG_F32 && t != EG_F64)
        return BLAS_NONE;
    switch (op) {
    case EG_OP_SUM: return BLAS_SUM;
    case EG_OP_L1: return BLAS_ASUM;
    case EG_OP_L2: return BLAS_NRM2;
    case EG_OP_DOT: return BLAS_DOT;
    default: return BLAS_NONE;
    }
}

const char *bench_blas_routine(eg_dtype t, eg_op op)
{
    static const char *const names[2][5] = {
        {NULL, "ssum", "sasum", "snrm2", "sdot"},
        {NULL, "dsum", "dasum", "dnrm2", "ddot"},
    };
    blas_kind k = kind_of(t, op);

    if (!bench_blas_available() || k == BLAS_NONE)
        return NULL;
    return names[t == EG_F64][k];
}

#ifdef EDGEGRID_HAVE_OPENBLAS

int bench_blas_available(void) { return 1; }

void bench_blas_config(char *buf, size_t len, int *threads)
{
    const char *c = openblas_get_config();

    snprintf(buf, len, "%s", c ? c : "OpenBLAS");
    *threads = openblas_get_num_threads();
}

/* Largest slice a blasint holds, rounded to a multiple of 64 elements. */
#define SLICE ((uint64_t)1 << 30)

typedef struct blas_run {
    const bench_data *d;
    uint64_t count;
    blas_kind kind;
    double sink;
} blas_run;

static double call_f32(blas_kind k, blasint n, const float *x, const float *y)
{
    switch (k) {
    case BLAS_SUM: return cblas_ssum(n, x, 1);
    case BLAS_ASUM: return cblas_sasum(n, x, 1);
    case BLAS_NRM2: return cblas_snrm2(n, x, 1);
    default: return cblas_sdot(n, x, 1, y, 1);
    }
}

static double call_f64(blas_kind k, blasint n, const double *x,
                       const double *y)
{
    switch (k) {
    case BLAS_SUM: return cblas_dsum(n, x, 1);
    case BLAS_ASUM: return cblas_dasum(n, x, 1);
    case BLAS_NRM2: return cblas_dnrm2(n, x, 1);
    default: return cblas_ddot(n, x, 1, y, 1);
    }
}

static int blas_rep(void *ctx)
{
    blas_run *r = ctx;
    int f64 = r->d->dtype == EG_F64;

    for (uint64_t at = 0; at < r->count; at += SLICE) {
        blasint n = (blasint)(r->count - at < SLICE ? r->count - at : SLICE);
        if (f64)
            r->sink += call_f64(r->kind, n, (const double *)r->d->x + at,
                                r->d->y ? (const double *)r->d->y + at : NULL);
        else
            r->sink += call_f32(r->kind, n, (const float *)r->d->x + at,
                                r->d->y ? (const float *)r->d->y + at : NULL);
    }
    return 0;
}

int bench_blas_measure(const bench_data *d, uint64_t count, eg_op op,
                       const bench_plan *plan, bench_figure *fig)
{
    blas_run run = {d, count, kind_of(d->dtype, op), 0.0};

    memset(fig, 0, sizeof *fig);
    if (run.kind == BLAS_NONE || (run.kind == BLAS_DOT && d->y == NULL))
        return -1;
    return bench_repeat(plan, blas_rep, &run,
                        bench_bytes(d->dtype, count, run.kind == BLAS_DOT),
                        fig) == 0
               ? 0
               : -1;
}

#else /* no OpenBLAS */

int bench_blas_available(void) { return 0; }

void bench_blas_config(char *buf, size_t len, int *threads)
{
    if (len > 0)
        buf[0] = '\0';
    *threads = 0;
}

int bench_blas_measure(const bench_data *d, uint64_t count, eg_op op,
                       const bench_plan *plan, bench_figure *fig)
{
    (void)d, (void)count, (void)op, (void)plan;
    memset(fig, 0, sizeof *fig);
    return -1;
}

#endif
