/* exact_bench.c - exact mode beside fast mode and the memory roof, in one
 * run, on the same bytes.
 *
 *   exact_bench [--mib M] [--devices SPEC] [--reps R] [--dtype f32|f64|all]
 *
 * For each dtype: M MiB of data in memory (default 1024; dot reads two
 * arrays of M/2 MiB each, so every figure reads M MiB), then R rounds of
 *   roof       a multi-threaded SIMD read of the same bytes (one thread per
 *              core, vector adds into independent accumulators)
 *   fast/exact sum, then dot, through eg_reduce on --devices (default: the
 *              first OpenCL device, "0")
 * interleaved so that a noisy neighbour hits every figure alike.  Prints
 * the median GB/s of each and the ratios exact/roof and exact/fast.
 * Kernels are built before the first timed round. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgegrid.h"

#define MAX_REPS 64

/* ------------------------------------------------------------- the roof */

typedef double v8d __attribute__((vector_size(64)));

typedef struct roof_part {
    const char *p;
    size_t bytes;
    double sink;
} roof_part;

/* Four independent 64-byte accumulators: the loads, not the adds, limit. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static double
read_all(const char *p, size_t bytes)
{
    v8d a = {0}, b = {0}, c = {0}, d = {0}, t;
    size_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        memcpy(&t, p + i, 64);
        a += t;
        memcpy(&t, p + i + 64, 64);
        b += t;
        memcpy(&t, p + i + 128, 64);
        c += t;
        memcpy(&t, p + i + 192, 64);
        d += t;
    }
    a += b + c + d;
    double s = 0;
    for (int k = 0; k < 8; k++)
        s += a[k];
    return s;
}

static void *roof_thread(void *arg)
{
    roof_part *r = arg;
    r->sink = read_all(r->p, r->bytes);
    return NULL;
}

/* Seconds to read `bytes` at p with one thread per core. */
static double roof_seconds(const char *p, size_t bytes, int threads)
{
    pthread_t th[256];
    roof_part part[256];
    size_t per = bytes / (size_t)threads / 256 * 256;
    double t0 = eg_now();
    for (int i = 0; i < threads; i++) {
        part[i].p = p + per * (size_t)i;
        part[i].bytes = per;
        pthread_create(&th[i], NULL, roof_thread, &part[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return eg_now() - t0;
}

/* ----------------------------------------------------------- edgegrid */

static double reduce_seconds(eg_engine *e, const void *x, const void *y,
                             uint64_t n, eg_dtype t, eg_mode mode,
                             double *value)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.mode = mode;
    o.ops = EG_OPS_BIT(y ? EG_OP_DOT : EG_OP_SUM);
    eg_result r;
    eg_error err;
    double t0 = eg_now();
    if (eg_reduce(e, x, y, n, t, &o, &r, &err) != EG_OK) {
        fprintf(stderr, "exact_bench: %s\n", err.msg);
        exit(1);
    }
    double s = eg_now() - t0;
    *value = r.value[y ? EG_OP_DOT : EG_OP_SUM].v.f;
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Normal-looking data around 1 (Box-Muller on a splitmix64 stream), the
 * shape of everyday measurements. */
static void fill(void *p, eg_dtype t, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = eg_splitmix64(&s);
        double u1 = ((double)(z >> 11) + 0.5) * 0x1p-53;
        double u2 = (double)(z & 0x7ff) * (1.0 / 2048.0);
        double v = 1.0 + sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        if (t == EG_F32)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
}

enum { ROOF, FAST_SUM, EXACT_SUM, FAST_DOT, EXACT_DOT, NFIG };
static const char *const fig_names[NFIG] = {"roof", "fast sum", "exact sum",
                                            "fast dot", "exact dot"};

static void bench_dtype(eg_engine *e, eg_dtype t, size_t bytes, int reps,
                        int threads)
{
    size_t sz = eg_dtype_size(t);
    char *buf = aligned_alloc(4096, bytes);
    if (!buf) {
        fprintf(stderr, "exact_bench: no memory for %zu bytes\n", bytes);
        exit(1);
    }
    uint64_t n = bytes / sz, half = n / 2;
    fill(buf, t, n, 1);
    const void *x = buf, *y = buf + half * sz;
    double secs[NFIG][MAX_REPS], v, want[NFIG] = {0};
    /* warm-up: page faults, kernel builds */
    roof_seconds(buf, bytes, threads);
    for (int f = FAST_SUM; f < NFIG; f++) {
        int dot = f >= FAST_DOT;
        reduce_seconds(e, x, dot ? y : NULL, dot ? half : n, t,
                       (f == EXACT_SUM || f == EXACT_DOT) ? EG_MODE_EXACT
                                                          : EG_MODE_FAST,
                       &want[f]);
    }
    for (int r = 0; r < reps; r++) {
        secs[ROOF][r] = roof_seconds(buf, bytes, threads);
        for (int f = FAST_SUM; f < NFIG; f++) {
            int dot = f >= FAST_DOT;
            int exact = f == EXACT_SUM || f == EXACT_DOT;
            secs[f][r] = reduce_seconds(e, x, dot ? y : NULL,
                                        dot ? half : n, t,
                                        exact ? EG_MODE_EXACT : EG_MODE_FAST,
                                        &v);
            if (exact && memcmp(&v, &want[f], sizeof v) != 0) {
                fprintf(stderr, "exact_bench: %s changed bits between "
                                "runs\n", fig_names[f]);
                exit(1);
            }
        }
    }
    double gbps[NFIG], best[NFIG];
    for (int f = 0; f < NFIG; f++) {
        gbps[f] = (double)(n * sz) / median(secs[f], reps) / 1e9;
        best[f] = (double)(n * sz) / secs[f][0] / 1e9; /* sorted by median */
    }
    printf("%s, %zu MiB, %d rounds (median; best in brackets):\n",
           eg_dtype_numpy_name(t), bytes >> 20, reps);
    for (int f = 0; f < NFIG; f++)
        printf("  %-10s %6.2f GB/s  %.3f x roof   [%6.2f GB/s  %.3f x]\n",
               fig_names[f], gbps[f], gbps[f] / gbps[ROOF], best[f],
               best[f] / best[ROOF]);
    printf("  exact/fast: sum %.3f, dot %.3f\n",
           gbps[EXACT_SUM] / gbps[FAST_SUM], gbps[EXACT_DOT] / gbps[FAST_DOT]);
    printf("  exact sum %.17g (fast %.17g), exact dot %.17g\n",
           want[EXACT_SUM], want[FAST_SUM], want[EXACT_DOT]);
    free(buf);
}

static int usage(void)
{
    fprintf(stderr, "usage: exact_bench [--mib M] [--devices SPEC] "
                    "[--reps R] [--dtype f32|f64|all]\n");
    return 2;
}

int main(int argc, char **argv)
{
    size_t mib = 1024;
    int reps = 5;
    const char *spec = "0", *dtype = "all";
    /* As the edgegrid program does (host/main.c): POCL's workers pinned. */
    setenv("POCL_AFFINITY", "1", 0);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--mib"))
            mib = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--devices"))
            spec = argv[++i];
        else if (!strcmp(argv[i], "--dtype"))
            dtype = argv[++i];
        else
            return usage();
    }
    if (mib == 0 || reps < 1 || reps > MAX_REPS)
        return usage();
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, spec, &err) != EG_OK) {
        fprintf(stderr, "exact_bench: %s\n", err.msg);
        return eg_status_exit_code(err.code);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 0 && cores < 256 ? (int)cores : 1;
    printf("devices:");
    for (size_t i = 0; i < eg_engine_device_count(e); i++)
        printf(" [%u] %s", eg_engine_device(e, i)->index,
               eg_engine_device(e, i)->name);
    printf("\nroof: %d reading threads\n", threads);
    if (strcmp(dtype, "f64") != 0)
        bench_dtype(e, EG_F32, mib << 20, reps, threads);
    if (strcmp(dtype, "f32") != 0)
        bench_dtype(e, EG_F64, mib << 20, reps, threads);
    eg_engine_close(&e);
    return 0;
}
