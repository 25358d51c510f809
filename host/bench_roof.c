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

/* Eight independent accumulators, so the adds never wait on each other. */
static uint64_t read_scalar(const unsigned char *p, size_t nblocks)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t a[8] = {0};

    for (size_t i = 0; i < nblocks * (BLOCK / 8); i += 8) {
        for (int k = 0; k < 8; k++)
            a[k] += w[i + (size_t)k];
    }
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

#ifdef ROOF_X86
__attribute__((target("avx2")))
static uint64_t read_avx2(const unsigned char *p, size_t nblocks)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    uint64_t lanes[4];

    /* Two blocks (128 bytes) per step: four 32-byte loads in flight. */
    for (; i + 2 <= nblocks; i += 2) {
        const __m256i *v = (const __m256i *)(const void *)(p + i * BLOCK);
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(v + 0));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + 1));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(v + 2));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(v + 3));
    }
    for (; i < nblocks; i++) {
        const __m256i *v = (const __m256i *)(const void *)(p + i * BLOCK);
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(v + 0));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + 1));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    _mm256_storeu_si256((__m256i *)(void *)lanes, a0);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

__attribute__((target("avx512f")))
static uint64_t read_avx512(const unsigned char *p, size_t nblocks)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    uint64_t lanes[8];

    /* Four blocks (256 bytes) per step, one 64-byte load per accumulator. */
    for (; i + 4 <= nblocks; i += 4) {
        const unsigned char *q = p + i * BLOCK;
        a0 = _mm512_add_epi64(a0, _mm512_load_si512((const void *)q));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512((const void *)(q + 64)));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512((const void *)(q + 128)));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512((const void *)(q + 192)));
    }
    for (; i < nblocks; i++) {
        const unsigned char *q = p + i * BLOCK;
        a0 = _mm512_add_epi64(a0, _mm512_load_si512((const void *)q));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    _mm512_storeu_si512((void *)lanes, a0);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] +
           lanes[6] + lanes[7];
}
#endif

static uint64_t read_blocks(bench_isa isa, const unsigned char *p,
                            size_t nblocks)
{
#ifdef ROOF_X86
    if (isa == BENCH_ISA_AVX512)
        return read_avx512(p, nblocks);
    if (isa == BENCH_ISA_AVX2)
        return read_avx2(p, nblocks);
#endif
    (void)isa;
    return read_scalar(p, nblocks);
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
    uint64_t s = read_blocks(p->isa, p->buf + b0 * BLOCK, (size_t)(b1 - b0));

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
        if (measure_isa(&pool, want, plan, &out->by_isa[isa]) != 0) {
            rc = -1;
            continue;
        }
        if (!out->best.have || out->by_isa[isa].gbps > out->best.gbps) {
            out->best = out->by_isa[isa];
            out->isa = (bench_isa)isa;
            out->threads = pool.threads;  /* fewer if a thread failed */
        }
    }
    free(pool.workers);
    return out->best.have ? 0 : (rc ? rc : -1);
}
