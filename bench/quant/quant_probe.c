/* quant_probe.c - the counting passes of the quantile ops alone, on one
 * thread, on data in cache: the compute side of hist, of the first
 * selection pass of median/quantile and of the sketch of approx_quantile,
 * without files, threads or scheduling.
 *
 *   quant_probe [f32|f64] [REPS]
 *
 * 64 Ki normal values (seeded, 256 or 512 KiB: they stay in L2) are
 * counted REPS times (default 200) per case; the best time of the thread's
 * CPU clock is kept, which the other processes of a shared box move much
 * less than the wall clock.  Prints ns per element per case and a digest
 * of the counts, so that two builds can be held to the same counts.  Pin
 * it to one core (taskset -c 1) and compare builds in turns. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hist.h"
#include "qselect.h"
#include "sketch.h"

#define PROBE_N (64u << 10)

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* xorshift64 and Box-Muller: the same data on every run and build. */
static double unit(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return ((double)(*s >> 11) + 0.5) * 0x1p-53;
}

static double normal(uint64_t *s)
{
    return sqrt(-2.0 * log(unit(s))) * cos(6.283185307179586 * unit(s));
}

static uint64_t digest(uint64_t h, const uint64_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

static void report(const char *what, double best, uint64_t dig)
{
    printf("%-28s %6.3f ns/elem  digest %016llx\n", what,
           best * 1e9 / PROBE_N, (unsigned long long)dig);
}

static int probe_hist(eg_dtype t, const void *x, unsigned bins, int ranged,
                      unsigned reps)
{
    eg_hist_plan p;
    eg_hist_state s;
    if (eg_hist_plan_make(&p, t, bins, 1, ranged ? -5.0 : -4.5,
                          ranged ? 5.0 : 4.5, 0, 0, 0, NULL) != EG_OK ||
        eg_hist_state_init(&s, bins, NULL) != EG_OK)
        return 1;
    double best = 1e30;
    for (unsigned r = 0; r < reps; r++) {
        memset(s.counts, 0, bins * sizeof *s.counts);
        s.below = s.above = s.nan = 0;
        double t0 = cpu_now();
        eg_hist_add(&p, &s, x, PROBE_N);
        double dt = cpu_now() - t0;
        best = dt < best ? dt : best;
    }
    char what[64];
    snprintf(what, sizeof what, "hist %u bins", bins);
    report(what, best, digest(s.below + s.above, s.counts, bins));
    eg_hist_state_free(&s);
    eg_hist_plan_free(&p);
    return 0;
}

static int probe_select(eg_dtype t, const void *x, unsigned reps)
{
    uint64_t *h = calloc(1u << 16, sizeof *h), nan = 0;
    if (!h)
        return 1;
    double best = 1e30;
    for (unsigned r = 0; r < reps; r++) {
        memset(h, 0, (1u << 16) * sizeof *h);
        double t0 = cpu_now();
        if (eg_select_pass_counts(x, PROBE_N, t, 0, 0, h, &nan, NULL) !=
            EG_OK) {
            free(h);
            return 1;
        }
        double dt = cpu_now() - t0;
        best = dt < best ? dt : best;
    }
    report("selection, first pass", best, digest(0, h, 1u << 16));
    free(h);
    return 0;
}

static int probe_sketch(eg_dtype t, const void *x, unsigned reps)
{
    double best = 1e30;
    uint64_t dig = 0;
    unsigned k;
    if (eg_sketch_k_for(0.01, &k, NULL) != EG_OK)
        return 1;
    for (unsigned r = 0; r < reps; r++) {
        eg_sketch s;
        eg_sketch_init(&s, k);
        double t0 = cpu_now();
        eg_status st = eg_sketch_add(&s, x, PROBE_N, t, NULL);
        double dt = cpu_now() - t0;
        best = dt < best ? dt : best;
        dig = digest(digest(0, s.pos.c, s.pos.len), s.neg.c, s.neg.len);
        eg_sketch_free(&s);
        if (st != EG_OK)
            return 1;
    }
    report("sketch, rel-err 0.01", best, dig);
    return 0;
}

int main(int argc, char **argv)
{
    int f64 = argc > 1 && strcmp(argv[1], "f64") == 0;
    unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 200;
    if (reps == 0 || (argc > 1 && !f64 && strcmp(argv[1], "f32") != 0)) {
        fprintf(stderr, "usage: quant_probe [f32|f64] [REPS]\n");
        return 2;
    }
    eg_dtype t = f64 ? EG_F64 : EG_F32;
    void *x = malloc(PROBE_N * (f64 ? 8u : 4u));
    if (!x)
        return 1;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < PROBE_N; i++) {
        double v = normal(&seed);
        if (f64)
            ((double *)x)[i] = v;
        else
            ((float *)x)[i] = (float)v;
    }
    printf("%s, %u values in cache, best of %u, thread CPU time\n",
           f64 ? "float64" : "float32", PROBE_N, reps);
    static const unsigned bins[] = {10, 32, 64, 256, 1000, 4096};
    int bad = 0;
    for (size_t i = 0; i < sizeof bins / sizeof *bins; i++)
        bad |= probe_hist(t, x, bins[i], 1, reps);
    bad |= probe_select(t, x, reps);
    bad |= probe_sketch(t, x, reps);
    free(x);
    return bad;
}
