/* quant_scan.c - a pass of the counting states over a source, one
 * contiguous slice per thread (quant_scan.h). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "quant_scan.h"

/* Below this many elements a second thread costs more than it saves. */
#define EG_QSCAN_MIN_PER_THREAD (1u << 20)

unsigned eg_qscan_threads(uint64_t count)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t t = cores > 0 ? (uint64_t)cores : 1;
    if (t > EG_QSCAN_MAX_THREADS)
        t = EG_QSCAN_MAX_THREADS;
    if (count / EG_QSCAN_MIN_PER_THREAD < t)
        t = count / EG_QSCAN_MIN_PER_THREAD;
    return t ? (unsigned)t : 1u;
}

typedef struct scan_slice {
    const eg_source *src;
    eg_qscan_fn fn;
    void *ctx;
    unsigned thread;
    uint64_t first, count;
    void *scratch; /* when the source needs a buffer (swap, file reads) */
    eg_status st;  /* the first read that failed, with its message */
    eg_error err;
} scan_slice;

eg_status eg_qscan_feed(const eg_source *src, uint64_t first, uint64_t n,
                        void *scratch, eg_qscan_fn fn, void *ctx,
                        unsigned thread, eg_error *err)
{
    const uint64_t span =
        eg_source_needs_buffer(src) ? EG_QSCAN_BLOCK : EG_QSCAN_SPAN;
    const size_t sz = eg_dtype_size(eg_source_info(src)->dtype);
    for (uint64_t done = 0; done < n;) {
        uint64_t m = n - done < span ? n - done : span;
        const void *p = NULL;
        eg_status st = eg_source_get(src, first + done, m, scratch, &p, err);
        if (st != EG_OK)
            return st;
        for (uint64_t off = 0; off < m; off += EG_QSCAN_BLOCK) {
            uint64_t b = m - off < EG_QSCAN_BLOCK ? m - off : EG_QSCAN_BLOCK;
            fn(ctx, thread, (const char *)p + off * sz, b);
        }
        done += m;
    }
    return EG_OK;
}

static void *scan_run(void *arg)
{
    scan_slice *s = arg;
    s->st = eg_qscan_feed(s->src, s->first, s->count, s->scratch, s->fn, s->ctx,
                          s->thread, &s->err);
    return NULL;
}

eg_status eg_qscan(const eg_source *src, unsigned threads, eg_qscan_fn fn,
                   void *ctx, eg_error *err)
{
    const eg_array_info *info = eg_source_info(src);
    size_t sz = eg_dtype_size(info->dtype);
    scan_slice sl[EG_QSCAN_MAX_THREADS];
    pthread_t tid[EG_QSCAN_MAX_THREADS];
    eg_status st = EG_OK;

    if (threads == 0 || threads > EG_QSCAN_MAX_THREADS)
        threads = 1;
    uint64_t per = info->count / threads;
    for (unsigned t = 0; t < threads; t++) {
        sl[t] = (scan_slice){.src = src,
                             .fn = fn,
                             .ctx = ctx,
                             .thread = t,
                             .first = per * t,
                             .count = t + 1 == threads ? info->count - per * t
                                                       : per};
        int buf = eg_source_needs_buffer(src);
        sl[t].scratch = buf ? malloc(EG_QSCAN_BLOCK * sz) : NULL;
        if (buf && !sl[t].scratch) {
            st = eg_error_set(err, EG_ENOMEM, "%s: out of memory for a pass",
                              eg_source_name(src));
            for (unsigned u = 0; u < t; u++)
                free(sl[u].scratch);
            return st;
        }
    }
    /* Thread 0 is the caller; a thread that cannot start leaves its slice
     * to the caller too, so a pass never loses elements. */
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tid[t], NULL, scan_run, &sl[t]) != 0)
            sl[t].thread = UINT32_MAX;
    scan_run(&sl[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (sl[t].thread == UINT32_MAX) {
            sl[t].thread = t;
            scan_run(&sl[t]);
        } else {
            pthread_join(tid[t], NULL);
        }
    }
    for (unsigned t = 0; t < threads; t++) {
        if (st == EG_OK && sl[t].st != EG_OK) {
            st = sl[t].st;
            if (err)
                *err = sl[t].err;
        }
        free(sl[t].scratch);
    }
    return st;
}
