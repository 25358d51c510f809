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

static void *scan_run(void *arg)
{
    scan_slice *s = arg;
    for (uint64_t done = 0; done < s->count;) {
        uint64_t n = s->count - done;
        if (n > EG_QSCAN_BLOCK)
            n = EG_QSCAN_BLOCK;
        const void *p = NULL;
        s->st = eg_source_get(s->src, s->first + done, n, s->scratch, &p,
                              &s->err);
        if (s->st != EG_OK)
            break;
        s->fn(s->ctx, s->thread, p, n);
        done += n;
    }
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
