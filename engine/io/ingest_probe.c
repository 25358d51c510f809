/* ingest_probe.c - which way into a page-cached file is cheaper here:
 * pread into a buffer that stays in cache, or a memory map.  Neither wins
 * everywhere: the page cache keeps a file written in large writes in large
 * folios, which map a folio at a time and so beat pread's extra copy by
 * about a fifth, and a file written in 4 KiB writes in 4 KiB pages, whose
 * page-table entry each makes mapping cost twice what reading costs
 * (bench/README.md, "Files").  The kernel does not say which a file has,
 * so the two ways are timed on the same bytes, each taken as a reduction
 * takes it (read, then summed), twice in turns: the first pread also
 * brings a cold file's bytes in. */
#define _DEFAULT_SOURCE 1
#include "ingest_probe.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Bytes each probe reads: large enough to span many folios and to time
 * well (a few hundred microseconds), small beside the files that are
 * probed (16 MiB in all, source.c's EG_AUTO_MIN_BYTES). */
#define PROBE_BYTES ((size_t)4 << 20)
/* pread's buffer, as the host backend's pieces (scheduler.c). */
#define PROBE_PIECE ((size_t)256 << 10)

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The bytes summed as 64-bit words, so that each is read as a lane
 * would read it; the sum itself goes nowhere. */
static uint64_t words_sum(const unsigned char *p, size_t len)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        a += w[0];
        b += w[1];
        c += w[2];
        d += w[3];
    }
    return a + b + c + d;
}

/* Seconds to pread and sum [0, len), or a negative number on a short
 * read. */
static double time_pread(int fd, size_t len, unsigned char *buf,
                         volatile uint64_t *sink)
{
    double t0 = seconds_now();
    for (size_t at = 0; at < len; at += PROBE_PIECE) {
        size_t n = len - at < PROBE_PIECE ? len - at : PROBE_PIECE;
        if (pread(fd, buf, n, (off_t)at) != (ssize_t)n)
            return -1.0;
        *sink += words_sum(buf, n);
    }
    return seconds_now() - t0;
}

/* Seconds to map, map in and sum [0, len) and unmap, or a negative
 * number when it cannot be mapped in (a cut file, an old kernel). */
static double time_map(int fd, size_t len, volatile uint64_t *sink)
{
#if defined(MADV_POPULATE_READ)
    double t0 = seconds_now();
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return -1.0;
    int in = madvise(p, len, MADV_POPULATE_READ) == 0;
    if (in)
        *sink += words_sum(p, len);
    munmap(p, len);
    return in ? seconds_now() - t0 : -1.0;
#else
    (void)fd;
    (void)len;
    (void)sink;
    return -1.0;
#endif
}

int eg_ingest_map_is_faster(int fd, uint64_t size, double *map_gbps,
                            double *read_gbps)
{
    size_t len = size < PROBE_BYTES ? (size_t)size : PROBE_BYTES;
    unsigned char *buf = malloc(PROBE_PIECE);
    volatile uint64_t sink = 0;
    double tm = -1.0, tr = -1.0;
    for (int round = 0; buf != NULL && round < 2; round++) {
        double r = time_pread(fd, len, buf, &sink);
        double m = time_map(fd, len, &sink);
        if (r < 0 || m < 0) {
            tm = tr = -1.0;
            break;
        }
        tr = tr < 0 || r < tr ? r : tr;
        tm = tm < 0 || m < tm ? m : tm;
    }
    free(buf);
    *map_gbps = tm > 0 ? (double)len / tm / 1e9 : 0.0;
    *read_gbps = tr > 0 ? (double)len / tr / 1e9 : 0.0;
    /* a tie stays with pread, which no truncation turns into a signal */
    return tm > 0 && tr > 0 && tm < 0.9 * tr;
}
