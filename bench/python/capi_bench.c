/* capi_bench.c - the C API's side of bench/python/bench_python.py: the time
 * of eg_reduce on caller memory, for the binding's overhead and GB/s.
 *
 *   capi_bench ELEMENTS REPS OPS MODE DEVICES
 *
 * Fills ELEMENTS float64 values (the same recipe as the script's), opens an
 * engine, warms up, then prints one JSON line: the best and median seconds
 * per call over REPS calls (timed one by one for large inputs, in batches
 * of calls for small ones, whose single calls are below the clock's
 * resolution). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgegrid.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: capi_bench ELEMENTS REPS OPS MODE DEVICES\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10);
    int reps = atoi(argv[2]);
    eg_reduce_opts o;
    eg_error err = {0};
    eg_reduce_opts_init(&o);
    if (reps < 1 || eg_ops_parse(argv[3], &o.ops, &err) != EG_OK) {
        fprintf(stderr, "capi_bench: %s\n", reps < 1 ? "REPS" : err.msg);
        return 2;
    }
    o.mode = strcmp(argv[4], "exact") == 0 ? EG_MODE_EXACT : EG_MODE_FAST;
    double *x = malloc((n ? n : 1) * sizeof *x);
    double *t = malloc((size_t)reps * sizeof *t);
    eg_engine *e = NULL;
    if (!x || !t) {
        fprintf(stderr, "capi_bench: out of memory\n");
        return 1;
    }
    uint64_t s = 88172645463325252ull; /* xorshift: data, not a test */
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (double)(s >> 11) * 0x1p-53 - 0.5;
    }
    if (eg_engine_open(&e, argv[5], &err) != EG_OK) {
        fprintf(stderr, "capi_bench: %s\n", err.msg);
        return eg_status_exit_code(err.code);
    }
    eg_result r;
    /* Batches: enough calls that one timing spans about a millisecond. */
    int batch = n < 1000000 ? (int)(2000000 / (n + 1000)) + 1 : 1;
    for (int i = 0; i < 3 * batch; i++)
        if (eg_reduce(e, x, NULL, n, EG_F64, &o, &r, &err) != EG_OK) {
            fprintf(stderr, "capi_bench: %s\n", err.msg);
            return eg_status_exit_code(err.code);
        }
    for (int k = 0; k < reps; k++) {
        double t0 = now();
        for (int i = 0; i < batch; i++)
            eg_reduce(e, x, NULL, n, EG_F64, &o, &r, &err);
        t[k] = (now() - t0) / batch;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("{\"elements\": %llu, \"best_s\": %.9g, \"median_s\": %.9g, "
           "\"batch\": %d}\n",
           (unsigned long long)n, t[0], t[reps / 2], batch);
    eg_engine_close(&e);
    free(t);
    free(x);
    return 0;
}
