/* bench_blas.c - OpenBLAS level-1 routines as a yardstick.  CBLAS counts
 * elements in a 32-bit int (libopenblas.so.0; the 64-bit interface has a
 * library name of its own), so inputs past 2^31 elements go through in
 * slices; the results are folded into a sink so no call can be dropped.
 *
 * OpenBLAS is loaded at run time, by the bench only: linked into the
 * program, its constructor started a thread per core that spins on
 * sched_yield for about 0.1 s, which took a core from every `reduce` (6 %
 * of a 4 GiB run, whole process).  Closing it stops those threads, so they
 * do not spin into the measurements that follow the BLAS ones either. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_blas.h"
#include "bench_timing.h"

#define OPENBLAS_SONAME "libopenblas.so.0"

typedef enum blas_kind {
    BLAS_NONE, BLAS_SUM, BLAS_ASUM, BLAS_NRM2, BLAS_DOT, BLAS_KINDS
} blas_kind;

/* The routines as OpenBLAS exports them (cblas_ssum ... cblas_ddot). */
typedef double (*blas_f32_fn)(int n, const float *x, int incx);
typedef double (*blas_f32_dot_fn)(int n, const float *x, int incx,
                                  const float *y, int incy);
typedef double (*blas_f64_fn)(int n, const double *x, int incx);
typedef double (*blas_f64_dot_fn)(int n, const double *x, int incx,
                                  const double *y, int incy);

struct bench_blas {
    void *lib;
    char *(*get_config)(void);
    int (*get_num_threads)(void);
    void *fn[2][BLAS_KINDS]; /* [f64][kind], from dlsym */
};

static const char *const names[2][BLAS_KINDS] = {
    {NULL, "ssum", "sasum", "snrm2", "sdot"},
    {NULL, "dsum", "dasum", "dnrm2", "ddot"},
};

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
    return names[t == EG_F64][kind_of(t, op)];
}

bench_blas *bench_blas_open(char *why, size_t len)
{
    bench_blas *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    b->lib = dlopen(OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!b->lib) {
        const char *e = dlerror();
        snprintf(why, len, "%s", e ? e : OPENBLAS_SONAME " not found");
        free(b);
        return NULL;
    }
    /* dlsym gives a void *: POSIX makes it a function pointer, ISO C does
     * not, hence the copies (here and in call_f32/call_f64). */
    void *cfg = dlsym(b->lib, "openblas_get_config");
    void *thr = dlsym(b->lib, "openblas_get_num_threads");
    memcpy(&b->get_config, &cfg, sizeof cfg);
    memcpy(&b->get_num_threads, &thr, sizeof thr);
    for (int f64 = 0; f64 < 2; f64++)
        for (int k = BLAS_SUM; k < BLAS_KINDS; k++) {
            char name[32];
            snprintf(name, sizeof name, "cblas_%s", names[f64][k]);
            b->fn[f64][k] = dlsym(b->lib, name);
        }
    return b;
}

void bench_blas_close(bench_blas **b)
{
    if (!b || !*b)
        return;
    dlclose((*b)->lib);
    free(*b);
    *b = NULL;
}

void bench_blas_config(const bench_blas *b, char *buf, size_t len,
                       int *threads)
{
    const char *c = b->get_config ? b->get_config() : NULL;
    snprintf(buf, len, "%s", c ? c : "OpenBLAS");
    *threads = b->get_num_threads ? b->get_num_threads() : 0;
}

/* Largest slice an int holds, rounded to a multiple of 64 elements. */
#define SLICE ((uint64_t)1 << 30)

typedef struct blas_run {
    const bench_data *d;
    uint64_t count;
    blas_kind kind;
    void *fn;
    double sink;
} blas_run;

static double call_f32(const blas_run *r, int n, const float *x,
                       const float *y)
{
    if (r->kind == BLAS_DOT) {
        blas_f32_dot_fn f;
        memcpy(&f, &r->fn, sizeof f);
        return f(n, x, 1, y, 1);
    }
    blas_f32_fn f;
    memcpy(&f, &r->fn, sizeof f);
    return f(n, x, 1);
}

static double call_f64(const blas_run *r, int n, const double *x,
                       const double *y)
{
    if (r->kind == BLAS_DOT) {
        blas_f64_dot_fn f;
        memcpy(&f, &r->fn, sizeof f);
        return f(n, x, 1, y, 1);
    }
    blas_f64_fn f;
    memcpy(&f, &r->fn, sizeof f);
    return f(n, x, 1);
}

static int blas_rep(void *ctx)
{
    blas_run *r = ctx;
    int f64 = r->d->dtype == EG_F64;

    for (uint64_t at = 0; at < r->count; at += SLICE) {
        int n = (int)(r->count - at < SLICE ? r->count - at : SLICE);
        if (f64)
            r->sink += call_f64(r, n, (const double *)r->d->x + at,
                                r->d->y ? (const double *)r->d->y + at : NULL);
        else
            r->sink += call_f32(r, n, (const float *)r->d->x + at,
                                r->d->y ? (const float *)r->d->y + at : NULL);
    }
    return 0;
}

int bench_blas_measure(const bench_blas *b, const bench_data *d,
                       uint64_t count, eg_op op, const bench_plan *plan,
                       bench_figure *fig)
{
    blas_kind k = kind_of(d->dtype, op);
    blas_run run = {d, count, k, b->fn[d->dtype == EG_F64][k], 0.0};

    memset(fig, 0, sizeof *fig);
    if (k == BLAS_NONE || run.fn == NULL || (k == BLAS_DOT && d->y == NULL))
        return -1;
    return bench_repeat(plan, blas_rep, &run,
                        bench_bytes(d->dtype, count, k == BLAS_DOT), fig) == 0
               ? 0
               : -1;
}
