/* bench_roof.c - the read-bandwidth probe.  The loops are written with
 * intrinsics behind target attributes and picked at run time with
 * __builtin_cpu_supports, so the probe uses the widest vectors the CPU has
 * while the file builds with the project's ordinary flags.  Threads are
 * started once per measurement and released for each repetition through an
 * atomic counter, so a repetition costs a read of the buffer and next to
 * nothing else. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define ROOF_X86 1
#include <immintrin.h>
#endif

#include "bench_roof.h"
#include "bench_timing.h"

#define BLOCK 64u  /* slices start on cache-line (and 512-bit) boundaries */

const char *bench_isa_name(bench_isa isa)
{
    switch (isa) {
    case BENCH_ISA_AVX2: return "avx2";
    case BENCH_ISA_AVX512: return "avx512";
    default: return "scalar";
    }
}

int bench_isa_supported(bench_isa isa)
{
#ifdef ROOF_X86
    __builtin_cpu_init();
    switch (isa) {
    case BENCH_ISA_AVX2: return __builtin_cpu_supports("avx2") != 0;
    case BENCH_ISA_AVX512: return __builtin_cpu_supports("avx512f") != 0;
    default: return 1;
    }
#else
    return isa == BENCH_ISA_SCALAR;
#endif
}

unsigned bench_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1u;
}

/* ------------------------------------------------------------ the loops */

static uint64_t read_bytes(const unsigned char *p, size_t n)
{
    uint64_t s = 0;

    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* A thread reads its slice either as one stream or as four interleaved
 * sub-slices (quarters).  Four streams keep more prefetchers and DRAM pages
 * busy and, on this project's box, read memory about a fifth faster than
 * one; one stream is faster from cache.  Both are measured and the faster
 * stands.  Eight independent accumulators either way, so no add waits on
 * another, written out by hand: in an indexed array the compiler keeps
 * them in memory. */

/* Eight 64-bit words (one block) at w into the eight accumulators. */
#define SCALAR_BLOCK(w)                                                    \
    do {                                                                   \
        a0 += (w)[0], a1 += (w)[1], a2 += (w)[2], a3 += (w)[3];            \
        a4 += (w)[4], a5 += (w)[5], a6 += (w)[6], a7 += (w)[7];            \
    } while (0)

static uint64_t read_scalar(const unsigned char *p, size_t nblocks,
                            unsigned ns)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t per = ns == 4 ? nblocks / 4 : 0;  /* blocks per stream */
    size_t i;

    for (i = 0; i < per; i++) {
        SCALAR_BLOCK(w + i * 8);
        SCALAR_BLOCK(w + (per + i) * 8);
        SCALAR_BLOCK(w + (2 * per + i) * 8);
        SCALAR_BLOCK(w + (3 * per + i) * 8);
    }
    for (i = 4 * per; i < nblocks; i++)
        SCALAR_BLOCK(w + i * 8);
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

#ifdef ROOF_X86
#define ADD256(j, v) a##j = _mm256_add_epi64(a##j, _mm256_load_si256(v))
#define ADD512(j, q)                                                       \
    a##j = _mm512_add_epi64(a##j, _mm512_load_si512((const void *)(q)))

/* 32-byte loads, two per block. */
__attribute__((target("avx2")))
static uint64_t read_avx2(const unsigned char *p, size_t nblocks,
                          unsigned ns)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    __m256i a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t i = 0, per = ns == 4 ? nblocks / 4 : 0;
    uint64_t lanes[4];

    for (; i < per; i++) {  /* one block of each quarter per step */
        const __m256i *v0 = (const __m256i *)(const void *)(p + i * BLOCK);
        const __m256i *v1 = v0 + per * 2, *v2 = v1 + per * 2;
        const __m256i *v3 = v2 + per * 2;
        ADD256(0, v0), ADD256(1, v0 + 1), ADD256(2, v1), ADD256(3, v1 + 1);
        ADD256(4, v2), ADD256(5, v2 + 1), ADD256(6, v3), ADD256(7, v3 + 1);
    }
    for (i = 4 * per; i + 4 <= nblocks; i += 4) {  /* one stream */
        const __m256i *v = (const __m256i *)(const void *)(p + i * BLOCK);
        ADD256(0, v), ADD256(1, v + 1), ADD256(2, v + 2), ADD256(3, v + 3);
        ADD256(4, v + 4), ADD256(5, v + 5), ADD256(6, v + 6);
        ADD256(7, v + 7);
    }
    for (; i < nblocks; i++) {
        const __m256i *v = (const __m256i *)(const void *)(p + i * BLOCK);
        ADD256(0, v), ADD256(1, v + 1);
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1),
                                           _mm256_add_epi64(a2, a3)),
                          _mm256_add_epi64(_mm256_add_epi64(a4, a5),
                                           _mm256_add_epi64(a6, a7)));
    _mm256_storeu_si256((__m256i *)(void *)lanes, a0);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

/* 64-byte loads, one per block. */
__attribute__((target("avx512f")))
static uint64_t read_avx512(const unsigned char *p, size_t nblocks,
                            unsigned ns)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    __m512i a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t i = 0, per = ns == 4 ? nblocks / 8 * 2 : 0;  /* even */
    uint64_t lanes[8], sum = 0;

    for (; i < per; i += 2) {  /* two blocks of each quarter per step */
        const unsigned char *q0 = p + i * BLOCK, *q1 = q0 + per * BLOCK;
        const unsigned char *q2 = q1 + per * BLOCK, *q3 = q2 + per * BLOCK;
        ADD512(0, q0), ADD512(1, q0 + BLOCK), ADD512(2, q1);
        ADD512(3, q1 + BLOCK), ADD512(4, q2), ADD512(5, q2 + BLOCK);
        ADD512(6, q3), ADD512(7, q3 + BLOCK);
    }
    for (i = 4 * per; i + 8 <= nblocks; i += 8) {  /* one stream */
        const unsigned char *q = p + i * BLOCK;
        ADD512(0, q), ADD512(1, q + BLOCK), ADD512(2, q + 2 * BLOCK);
        ADD512(3, q + 3 * BLOCK), ADD512(4, q + 4 * BLOCK);
        ADD512(5, q + 5 * BLOCK), ADD512(6, q + 6 * BLOCK);
        ADD512(7, q + 7 * BLOCK);
    }
    for (; i < nblocks; i++)
        ADD512(0, p + i * BLOCK);
    a0 = _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1),
                                           _mm512_add_epi64(a2, a3)),
                          _mm512_add_epi64(_mm512_add_epi64(a4, a5),
                                           _mm512_add_epi64(a6, a7)));
    _mm512_storeu_si512((void *)lanes, a0);
    for (int k = 0; k < 8; k++)
        sum += lanes[k];
    return sum;
}
#endif

static uint64_t read_blocks(bench_isa isa, const unsigned char *p,
                            size_t nblocks, unsigned ns)
{
#ifdef ROOF_X86
    if (isa == BENCH_ISA_AVX512)
        return read_avx512(p, nblocks, ns);
    if (isa == BENCH_ISA_AVX2)
        return read_avx2(p, nblocks, ns);
#endif
    (void)isa;
    return read_scalar(p, nblocks, ns);
}

/* ------------------------------------------------------------ the pool */

typedef struct roof_pool roof_pool;

typedef struct roof_worker {
    roof_pool *pool;
    unsigned id;
    pthread_t thread;
    uint64_t sum;   /* stored, so the compiler must do every load */
} roof_worker;

struct roof_pool {
    const unsigned char *buf;
    uint64_t bytes;
    unsigned threads;          /* final before the first `go` */
    bench_isa isa;
    unsigned streams;          /* per thread: 1 or 4 */
    atomic_uint go;            /* bumped to start a repetition */
    atomic_uint done;          /* workers finished with this repetition */
    atomic_int stop;
    roof_worker *workers;      /* [threads]; worker 0 is the caller */
};

/* Spins a while, then yields: on a box where another load holds a core,
 * the thread being waited for may need this very core, and pure spinning
 * would make every repetition last a scheduler tick. */
static void relax(unsigned *spins)
{
    if (++*spins < 1000) {
#ifdef ROOF_X86
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

/* Thread `id`'s slice: whole blocks, the last thread also the tail. */
static void read_slice(roof_worker *w)
{
    const roof_pool *p = w->pool;
    uint64_t nblocks = p->bytes / BLOCK;
    uint64_t b0 = nblocks * w->id / p->threads;
    uint64_t b1 = nblocks * (w->id + 1) / p->threads;
    uint64_t s = read_blocks(p->isa, p->buf + b0 * BLOCK, (size_t)(b1 - b0),
                             p->streams);

    if (w->id + 1 == p->threads)
        s += read_bytes(p->buf + nblocks * BLOCK, (size_t)(p->bytes % BLOCK));
    w->sum += s;
}

/* Workers spin rather than sleep between repetitions: a futex wake-up
 * costs tens of microseconds on a virtual machine, more than a 1 MiB
 * slice takes to read, and the roof must not be slowed by its own
 * plumbing.  The pool lives only while one figure is measured. */
static void *worker_main(void *arg)
{
    roof_worker *w = arg;
    roof_pool *p = w->pool;
    unsigned seen = 0;

    for (;;) {
        unsigned g, spins = 0;
        while ((g = atomic_load_explicit(&p->go, memory_order_acquire)) ==
               seen)
            relax(&spins);
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_relaxed))
            break;
        read_slice(w);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    return NULL;
}

/* One repetition, as bench_repeat times it: release the workers, read the
 * caller's own slice, wait for all. */
static int roof_rep(void *ctx)
{
    roof_pool *p = ctx;
    unsigned spins = 0;

    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->go, 1, memory_order_release);
    read_slice(&p->workers[0]);
    while (atomic_load_explicit(&p->done, memory_order_acquire) + 1 <
           p->threads)
        relax(&spins);
    return 0;
}

/* Starts up to p->threads - 1 workers; a thread that cannot be created
 * shrinks the pool instead of failing it (the workers read p->threads only
 * after the first `go`, when it is final). */
static void start_pool(roof_pool *p)
{
    unsigned started = 1;

    atomic_store(&p->go, 0);
    atomic_store(&p->done, 0);
    atomic_store(&p->stop, 0);
    p->workers[0].pool = p;
    p->workers[0].id = 0;
    for (; started < p->threads; started++) {
        roof_worker *w = &p->workers[started];
        w->pool = p;
        w->id = started;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
    }
    p->threads = started;
}

static void stop_pool(roof_pool *p)
{
    atomic_store_explicit(&p->stop, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->go, 1, memory_order_release);
    for (unsigned i = 1; i < p->threads; i++)
        pthread_join(p->workers[i].thread, NULL);
}

static int measure_isa(roof_pool *p, unsigned threads, const bench_plan *plan,
                       bench_figure *fig)
{
    int rc;

    p->threads = threads;
    start_pool(p);
    rc = bench_repeat(plan, roof_rep, p, p->bytes, fig);
    stop_pool(p);
    return rc;
}

int bench_roof_measure(const void *buf, uint64_t bytes, unsigned threads,
                       unsigned isa_mask, const bench_plan *plan,
                       bench_roof *out)
{
    roof_pool pool;
    unsigned want = threads ? threads : 1;
    int rc = 0;

    memset(out, 0, sizeof *out);
    memset(&pool, 0, sizeof pool);
    pool.buf = buf;
    pool.bytes = bytes;
    pool.workers = calloc(want, sizeof *pool.workers);
    if (pool.workers == NULL)
        return -1;
    for (int isa = 0; isa < BENCH_ISA_COUNT; isa++) {
        if (!(isa_mask & (1u << isa)) || !bench_isa_supported((bench_isa)isa))
            continue;
        pool.isa = (bench_isa)isa;
        for (unsigned ns = 1; ns <= 4; ns *= 4) {
            bench_figure fig;
            pool.streams = ns;
            if (measure_isa(&pool, want, plan, &fig) != 0) {
                rc = -1;
                continue;
            }
            if (!out->by_isa[isa].have || fig.gbps > out->by_isa[isa].gbps)
                out->by_isa[isa] = fig;
            if (!out->best.have || fig.gbps > out->best.gbps) {
                out->best = fig;
                out->isa = (bench_isa)isa;
                out->streams = ns;
                out->threads = pool.threads;  /* fewer if a thread failed */
            }
        }
    }
    free(pool.workers);
    return out->best.have ? 0 : (rc ? rc : -1);
}
