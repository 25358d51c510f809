/* lanes_probe.c - the host lanes alone, on one thread, on data in cache:
 * the compute side of a reduction, without memory, threads or scheduling.
 *
 *   lanes_probe [f32|f64] [SET|all] [REPS] [OFFSET]
 *
 * 16 lanes of uniform [-1, 1) (x and y, seeded) stay in L2; each group set
 * (sum, minmax, var, l1, l2, dot, fused = minmax+var, and mmonly, l1only,
 * l2only, dotonly: minmax, l1, l2 and dot without the sum, as when asked
 * for alone) is run REPS times (default 400) in fast mode and in exact
 * mode through eg_lanes_any, the best time kept.  Prints GB/s of x per
 * set and mode and a digest of the records, so that two builds can be
 * held to the same bits.  OFFSET (0 to 63, default 0) moves x and y that
 * many bytes past a page, to show what a misaligned buffer costs.  Pin it
 * to one core (taskset -c 1) and compare builds in turns: a shared box moves
 * every figure (bench/README.md, "Where the time goes"). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanes.h"
#include "state.h"

#define PROBE_LANES 16

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* xorshift64: the same data on every run and build. */
static double unit(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) * 0x1p-53;
}

static const struct {
    const char *name;
    unsigned g;
} sets[] = {{"sum", 0},
            {"minmax", EG_G_MINMAX},
            {"var", EG_G_VAR},
            {"l1", EG_G_L1},
            {"l2", EG_G_L2},
            {"dot", EG_G_DOT},
            {"fused", EG_G_MINMAX | EG_G_VAR},
            /* asked for alone: without the sum (EG_G_NO_SUM) */
            {"mmonly", EG_G_MINMAX | EG_G_NO_SUM},
            {"l1only", EG_G_L1 | EG_G_NO_SUM},
            {"l2only", EG_G_L2 | EG_G_NO_SUM},
            {"dotonly", EG_G_DOT | EG_G_NO_SUM}};
#define NSETS (sizeof sets / sizeof sets[0])

static int usage(const char *why)
{
    fprintf(stderr,
            "lanes_probe: %s\nusage: lanes_probe [f32|f64] [SET|all] [REPS] "
            "[OFFSET]\n  SET: sum minmax var l1 l2 dot fused mmonly l1only "
            "l2only dotonly; OFFSET: 0 to 63\n",
            why);
    return 2;
}

int main(int argc, char **argv)
{
    const char *dt = argc > 1 ? argv[1] : "f32";
    const char *only = argc > 2 ? argv[2] : "all";
    long reps = argc > 3 ? strtol(argv[3], NULL, 10) : 400;
    long offset = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
    if (argc > 5)
        return usage("too many arguments");
    if (offset < 0 || offset > 63)
        return usage("OFFSET must be 0 to 63");
    if (strcmp(dt, "f32") && strcmp(dt, "f64"))
        return usage("dtype must be f32 or f64");
    if (reps < 1 || reps > 1000000)
        return usage("REPS must be 1 to 1000000");
    int known = !strcmp(only, "all");
    for (size_t s = 0; s < NSETS; s++)
        known |= !strcmp(only, sets[s].name);
    if (!known)
        return usage("unknown SET");

    int f64 = !strcmp(dt, "f64");
    uint64_t n = (uint64_t)PROBE_LANES * EG_LANE_ELEMS;
    size_t es = f64 ? 8 : 4;
    char *xa = aligned_alloc(4096, n * es + 4096);
    char *ya = aligned_alloc(4096, n * es + 4096);
    uint64_t *words = malloc(PROBE_LANES * EG_EXACT_LANE_WORDS * 8);
    if (!xa || !ya || !words) {
        fprintf(stderr, "lanes_probe: out of memory\n");
        return 1;
    }
    void *x = xa + offset, *y = ya + offset;
    uint64_t seed = 88172645463325252ull;
    for (uint64_t i = 0; i < n; i++) {
        double v = 2 * unit(&seed) - 1, w = 2 * unit(&seed) - 1;
        if (f64) {
            ((double *)x)[i] = v;
            ((double *)y)[i] = w;
        } else {
            ((float *)x)[i] = (float)v;
            ((float *)y)[i] = (float)w;
        }
    }
    for (int exact = 0; exact < 2; exact++)
        for (size_t s = 0; s < NSETS; s++) {
            if (strcmp(only, "all") && strcmp(only, sets[s].name))
                continue;
            unsigned g = sets[s].g | (exact ? EG_G_EXACT : 0);
            double best = 1e30;
            for (long r = 0; r < reps; r++) {
                double t0 = now();
                eg_lanes_any(x, y, n, f64 ? EG_F64 : EG_F32, g, words);
                double t = now() - t0;
                best = t < best ? t : best;
            }
            uint64_t h = 0;
            for (uint64_t i = 0; i < PROBE_LANES * eg_lane_words(g); i++)
                h = (h * 1000003u) ^ words[i];
            printf("%s %-5s %-7s %7.1f GB/s  digest %016llx\n", dt,
                   exact ? "exact" : "fast", sets[s].name,
                   (double)(n * es) / best / 1e9, (unsigned long long)h);
        }
    free(xa);
    free(ya);
    free(words);
    return 0;
}
