/* lanes_mem.c - the host's fast lanes from memory beside a plain AVX-512
 * float sum over the same buffer, on the same threads, in turns: how much
 * of what a core can read the lanes keep, without the engine's scheduler.
 *
 *   lanes_mem [MIB] [GROUPS] [LANES_PER_CALL]
 *
 * MIB (default 512) of float32 split between 2 threads; GROUPS the group
 * bits of state.h (0: sum; 3: the fused default set); LANES_PER_CALL
 * (default 64) the lanes one eg_lanes_fast call covers.  Prints five
 * rounds of "plain GB/s, lanes GB/s, lanes / plain".  The gap, where the
 * lanes alone run faster in cache than memory feeds one core
 * (build/lanes_probe), says that reading and computing do not overlap:
 * bench/README.md, "Where the time goes". */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lanes.h"
#include "state.h"

#define THREADS 2

typedef struct job {
    const float *x;
    uint64_t n, piece;
    int lanes;
    unsigned g;
    uint64_t *words;
    double sink;
} job;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Four independent vector sums: as fast as one core reads. */
__attribute__((target("avx512f"))) static double plain(const float *x,
                                                       uint64_t n)
{
    __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
    for (uint64_t i = 0; i + 64 <= n; i += 64) {
        a = _mm512_add_ps(a, _mm512_loadu_ps(x + i));
        b = _mm512_add_ps(b, _mm512_loadu_ps(x + i + 16));
        c = _mm512_add_ps(c, _mm512_loadu_ps(x + i + 32));
        d = _mm512_add_ps(d, _mm512_loadu_ps(x + i + 48));
    }
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}

static void *run(void *arg)
{
    job *j = arg;
    double r = 0;
    if (!j->lanes)
        r = plain(j->x, j->n);
    else
        for (uint64_t i = 0; i < j->n; i += j->piece) {
            eg_lanes_fast(j->x + i, j->x + i, j->piece, EG_F32, j->g, j->words);
            r += (double)j->words[EG_W_SUM_S];
        }
    j->sink = r;
    return NULL;
}

static double timed(const float *x, uint64_t n, int lanes, unsigned g,
                    uint64_t piece, uint64_t *words[THREADS])
{
    job jb[THREADS];
    pthread_t th[THREADS];
    int started[THREADS] = {0};
    double t0 = now();
    for (int t = 0; t < THREADS; t++) {
        jb[t] = (job){.x = x + n / THREADS * t, .n = n / THREADS,
                      .piece = piece, .lanes = lanes, .g = g,
                      .words = words[t]};
        started[t] = pthread_create(&th[t], NULL, run, &jb[t]) == 0;
        if (!started[t])
            run(&jb[t]); /* no thread: this one's share here */
    }
    for (int t = 0; t < THREADS; t++)
        if (started[t])
            pthread_join(th[t], NULL);
    return (double)n * 4 / (now() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 512;
    long g = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    long per = argc > 3 ? strtol(argv[3], NULL, 10) : 64;
    if (argc > 4 || mib < 1 || mib > 65536 || g < 0 || g > 255 || per < 1 ||
        per > 4096) {
        fprintf(stderr, "usage: lanes_mem [MIB 1-65536] [GROUPS 0-255] "
                        "[LANES_PER_CALL 1-4096]\n");
        return 2;
    }
    uint64_t piece = (uint64_t)per * EG_LANE_ELEMS;
    uint64_t n = (uint64_t)mib << 18;
    n -= n % (piece * THREADS);
    if (n == 0) {
        fprintf(stderr, "lanes_mem: MIB too small for LANES_PER_CALL\n");
        return 2;
    }
    float *x = aligned_alloc(1u << 21, n * 4);
    uint64_t *words[THREADS];
    for (int t = 0; t < THREADS; t++)
        words[t] = malloc((size_t)per * EG_LANE_WORDS * 8);
    if (!x || !words[0] || !words[1]) {
        fprintf(stderr, "lanes_mem: out of memory\n");
        return 1;
    }
    for (uint64_t i = 0; i < n; i++)
        x[i] = (float)(i % 1000) * 1e-3f;
    for (int round = 0; round < 5; round++) {
        double p = timed(x, n, 0, (unsigned)g, piece, words);
        double l = timed(x, n, 1, (unsigned)g, piece, words);
        printf("plain %6.1f GB/s  lanes %6.1f GB/s  lanes/plain %.2f\n", p, l,
               l / p);
    }
    free(x);
    for (int t = 0; t < THREADS; t++)
        free(words[t]);
    return 0;
}
