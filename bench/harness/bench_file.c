/* bench_file.c - the page-cache roof and whole-process edgegrid on the same
 * page-cached files, interleaved round by round (bench_file.h). */
#define _GNU_SOURCE 1  /* MADV_POPULATE_READ */

#include "bench_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define FILE_X86 1
#include <immintrin.h>
#endif

#include "bench_machine.h"
#include "bench_roof.h"
#include "bench_spawn.h"
#include "bench_timing.h"

#define MIB ((size_t)1 << 20)
#define PATTERN_BYTES (64 * MIB)  /* the data repeats this block */
#define POPULATE_BYTES (16 * MIB) /* what the map probe maps in at a time */
#define HEADER_BYTES 128u         /* the .npy header, as numpy pads it */

/* ------------------------------------------------------------- the sums */

/* Reading a buffer the way a reduction does: every 64-bit word added into
 * independent accumulators, the widest vectors the CPU has. */
static uint64_t sum_scalar(const unsigned char *p, size_t n)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t i = 0, nw = n / 8;
    for (; i + 4 <= nw; i += 4)
        a0 += w[i], a1 += w[i + 1], a2 += w[i + 2], a3 += w[i + 3];
    for (; i < nw; i++)
        a0 += w[i];
    return a0 + a1 + a2 + a3;
}

#ifdef FILE_X86
__attribute__((target("avx512f")))
static uint64_t sum_avx512(const unsigned char *p, size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 64));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 128));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 192));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    /* summed as unsigned words: _mm512_reduce_add_epi64 adds signed ones,
     * whose wrap-around is undefined */
    uint64_t w[8], s = 0;
    _mm512_storeu_si512((void *)w, a0);
    for (int k = 0; k < 8; k++)
        s += w[k];
    return s + sum_scalar(p + i, n - i);
}
#endif

static uint64_t sum_bytes(const unsigned char *p, size_t n)
{
#ifdef FILE_X86
    if (bench_isa_supported(BENCH_ISA_AVX512))
        return sum_avx512(p, n);
#endif
    return sum_scalar(p, n);
}

/* ------------------------------------------------------------ the probe */

typedef struct probe_job {
    int fd;
    const unsigned char *map;  /* the map probe's mapping, else NULL */
    uint64_t first, len;       /* this thread's byte slice of the file */
    size_t buf_bytes;          /* the pread probe's buffer */
    uint64_t sink;
    int failed;
} probe_job;

static void *pread_slice(void *arg)
{
    probe_job *j = arg;
    unsigned char *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, j->buf_bytes) != 0) {
        j->failed = 1;
        return NULL;
    }
    for (uint64_t at = 0; at < j->len;) {
        size_t want = j->len - at < j->buf_bytes ? (size_t)(j->len - at)
                                                 : j->buf_bytes;
        ssize_t got = pread(j->fd, buf, want, (off_t)(j->first + at));
        if (got <= 0) {
            j->failed = got < 0 && errno == EINTR ? 0 : 1;
            if (j->failed)
                break;
            continue;
        }
        j->sink += sum_bytes(buf, (size_t)got);
        at += (uint64_t)got;
    }
    free(buf);
    return NULL;
}

static void *map_slice(void *arg)
{
    probe_job *j = arg;
    for (uint64_t at = 0; at < j->len; at += POPULATE_BYTES) {
        size_t n = j->len - at < POPULATE_BYTES ? (size_t)(j->len - at)
                                                : POPULATE_BYTES;
        const unsigned char *p = j->map + j->first + at;
#if defined(MADV_POPULATE_READ)
        uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095;
        (void)madvise((void *)lo, (uintptr_t)p + n - lo, MADV_POPULATE_READ);
#endif
        j->sink += sum_bytes(p, n);
    }
    return NULL;
}

/* One pass of every thread over the data bytes of the file: pread into a
 * buffer of buf_bytes each, or (buf_bytes 0) through a fresh mapping,
 * mapped in 16 MiB at a time as edgegrid's map way does.  Seconds, or a
 * negative value when the pass failed. */
static double probe_pass(const char *path, uint64_t bytes, unsigned threads,
                         size_t buf_bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    probe_job jobs[256];
    pthread_t tid[256];
    if (threads > 256)
        threads = 256;
    double t0 = eg_now();
    const unsigned char *map = NULL;
    uint64_t total = HEADER_BYTES + bytes;
    if (buf_bytes == 0) {
        void *m = mmap(NULL, (size_t)total, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            return -1;
        }
        map = m;
    }
    /* slices of whole 4 KiB pages, after the header */
    uint64_t per = (bytes / threads) & ~(uint64_t)4095;
    unsigned started = 0;
    for (unsigned t = 0; t < threads; t++) {
        uint64_t first = HEADER_BYTES + t * per;
        jobs[t] = (probe_job){.fd = fd, .map = map, .first = first,
                              .len = t + 1 == threads ? total - first : per,
                              .buf_bytes = buf_bytes};
        if (pthread_create(&tid[t], NULL, map ? map_slice : pread_slice,
                           &jobs[t]) != 0)
            break;
        started++;
    }
    int failed = started < threads;
    for (unsigned t = 0; t < started; t++) {
        pthread_join(tid[t], NULL);
        failed |= jobs[t].failed;
    }
    if (map)
        munmap((void *)map, (size_t)total);
    double s = eg_now() - t0;
    close(fd);
    return failed ? -1 : s;
}

/* ------------------------------------------------------------ the files */

/* Writes a float32 .npy file of `bytes` data bytes in writes of `step`
 * bytes each (the last may be shorter), the data repeating `pattern`. */
static int write_file(const char *path, uint64_t bytes, size_t step,
                      const unsigned char *pattern)
{
    char header[HEADER_BYTES + 1];
    memset(header, ' ', sizeof header);
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)(HEADER_BYTES - 10); /* little-endian header length */
    header[9] = 0;
    int n = snprintf(header + 10, HEADER_BYTES - 10,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(%llu,), }",
                     (unsigned long long)(bytes / 4));
    if (n < 0 || n >= (int)HEADER_BYTES - 11)
        return -1;
    header[10 + n] = ' '; /* over snprintf's NUL: numpy pads with spaces */
    header[HEADER_BYTES - 1] = '\n';

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = write(fd, header, HEADER_BYTES) == (ssize_t)HEADER_BYTES ? 0 : -1;
    for (uint64_t at = 0; at < bytes && rc == 0;) {
        size_t off = (size_t)(at % PATTERN_BYTES);
        size_t k = step;
        if (k > PATTERN_BYTES - off)
            k = PATTERN_BYTES - off;
        if (k > bytes - at)
            k = (size_t)(bytes - at);
        ssize_t w = write(fd, pattern + off, k);
        if (w <= 0)
            rc = -1;
        else
            at += (uint64_t)w;
    }
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

/* The page cache gets the whole file: read it through twice. */
static void warm(const char *path, uint64_t bytes, unsigned threads)
{
    for (int k = 0; k < 2; k++)
        (void)probe_pass(path, bytes, threads, MIB);
}

/* ----------------------------------------------------- edgegrid reduce */

/* Runs `self reduce [--ops sum] --json path` and returns its wall seconds
 * (whole process, start to exit), *inproc the gbps its JSON reports;
 * negative when it failed. */
static double run_reduce(const char *self, const char *path, int sum_only,
                         double *inproc)
{
    char *argv[8];
    int k = 0;
    argv[k++] = (char *)self;
    argv[k++] = "reduce";
    if (sum_only) {
        argv[k++] = "--ops";
        argv[k++] = "sum";
    }
    argv[k++] = "--json";
    argv[k++] = (char *)path;
    argv[k] = NULL;
    char *out = NULL;
    double t0 = eg_now();
    int rc = bench_spawn(argv, &out);
    double s = eg_now() - t0;
    *inproc = 0;
    const char *g = out ? strstr(out, "\"gbps\": ") : NULL;
    if (g)
        *inproc = strtod(g + 8, NULL);
    free(out);
    return rc == 0 ? s : -1;
}

/* ------------------------------------------------------------- the run */

static double median_of(double *v, unsigned n)
{
    double tmp[BENCH_FILE_MAX_ROUNDS];
    memcpy(tmp, v, n * sizeof *v);
    return bench_median(tmp, n);
}

static void min_max(const double *v, unsigned n, double *lo, double *hi)
{
    *lo = *hi = n ? v[0] : 0;
    for (unsigned k = 1; k < n; k++) {
        if (v[k] < *lo)
            *lo = v[k];
        if (v[k] > *hi)
            *hi = v[k];
    }
}

static int measure_file(const char *path, const char *self, uint64_t bytes,
                        unsigned threads, unsigned rounds, int verbose,
                        bench_file_row *row)
{
    double p256[BENCH_FILE_MAX_ROUNDS], p1m[BENCH_FILE_MAX_ROUNDS];
    double mm[BENCH_FILE_MAX_ROUNDS], roof[BENCH_FILE_MAX_ROUNDS];
    double sum[BENCH_FILE_MAX_ROUNDS], fused[BENCH_FILE_MAX_ROUNDS];
    double sum_in[BENCH_FILE_MAX_ROUNDS], fused_in[BENCH_FILE_MAX_ROUNDS];
    double rs[BENCH_FILE_MAX_ROUNDS], rf[BENCH_FILE_MAX_ROUNDS];
    double gb = (double)bytes / 1e9;
    warm(path, bytes, threads);
    (void)run_reduce(self, path, 1, &sum_in[0]);  /* warm the program */
    for (unsigned r = 0; r < rounds; r++) {
        double a = probe_pass(path, bytes, threads, 256 << 10);
        double b = probe_pass(path, bytes, threads, MIB);
        double c = probe_pass(path, bytes, threads, 0);
        double s = run_reduce(self, path, 1, &sum_in[r]);
        double f = run_reduce(self, path, 0, &fused_in[r]);
        if (a <= 0 || b <= 0 || c <= 0 || s <= 0 || f <= 0) {
            fprintf(stderr, "edgegrid: bench: %s: a reading failed (%s)\n",
                    path, s <= 0 || f <= 0 ? "edgegrid reduce" : "probe");
            return 1;
        }
        p256[r] = gb / a, p1m[r] = gb / b, mm[r] = gb / c;
        roof[r] = p256[r] > p1m[r] ? p256[r] : p1m[r];
        if (mm[r] > roof[r])
            roof[r] = mm[r];
        sum[r] = gb / s, fused[r] = gb / f;
        rs[r] = sum[r] / roof[r], rf[r] = fused[r] / roof[r];
        if (verbose)
            fprintf(stderr,
                    "bench: %s round %u: roof %.1f GB/s (pread %.1f/%.1f, "
                    "mmap %.1f), sum %.1f (%.2f), default %.1f (%.2f)\n",
                    row->kind, r + 1, roof[r], p256[r], p1m[r], mm[r],
                    sum[r], rs[r], fused[r], rf[r]);
    }
    row->rounds = rounds;
    row->pread256_gbps = median_of(p256, rounds);
    row->pread1m_gbps = median_of(p1m, rounds);
    row->mmap_gbps = median_of(mm, rounds);
    row->roof_gbps = median_of(roof, rounds);
    row->sum_gbps = median_of(sum, rounds);
    row->fused_gbps = median_of(fused, rounds);
    row->sum_inproc_gbps = median_of(sum_in, rounds);
    row->fused_inproc_gbps = median_of(fused_in, rounds);
    row->sum_ratio = median_of(rs, rounds);
    row->fused_ratio = median_of(rf, rounds);
    min_max(rs, rounds, &row->sum_ratio_lo, &row->sum_ratio_hi);
    min_max(rf, rounds, &row->fused_ratio_lo, &row->fused_ratio_hi);
    return 0;
}

int bench_file_run(const char *dir, uint64_t bytes, unsigned rounds,
                   const char *self, int verbose, bench_file_report *r)
{
    static const struct {
        const char *kind, *name;
        size_t step;
    } files[2] = {{"64 MiB writes", "edgegrid-bench-large.npy", 64 * MIB},
                  {"4 KiB writes", "edgegrid-bench-4k.npy", 4096}};
    memset(r, 0, sizeof *r);
    uint64_t mem = 0;
    bench_machine(r->cpu, sizeof r->cpu, &mem);
    r->threads = bench_cores();
    r->bytes = bytes &= ~(uint64_t)4095;
    r->ingest = getenv("EDGEGRID_INGEST") ? getenv("EDGEGRID_INGEST")
                                          : "auto (reduce's default)";
    if (rounds > BENCH_FILE_MAX_ROUNDS)
        rounds = BENCH_FILE_MAX_ROUNDS;
    if (rounds == 0)
        rounds = 1;
    unsigned char *pattern = malloc(PATTERN_BYTES);
    if (pattern == NULL) {
        fprintf(stderr, "edgegrid: bench: out of memory\n");
        return 1;
    }
    /* uniform floats in [-1, 1) from a fixed xorshift: finite, and no
     * page of zeros the kernel could share */
    uint64_t s = 0x9e3779b97f4a7c15ull;
    float *f = (float *)(void *)pattern;
    for (size_t k = 0; k < PATTERN_BYTES / 4; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        f[k] = (float)((double)(s >> 40) / (double)(1u << 23) - 1.0);
    }
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[k].name);
        r->rows[k].kind = files[k].kind;
        if (verbose)
            fprintf(stderr, "bench: writing %s in %s\n", path, files[k].kind);
        if (write_file(path, bytes, files[k].step, pattern) != 0) {
            fprintf(stderr, "edgegrid: bench: %s: cannot write: %s\n", path,
                    strerror(errno));
            rc = 1;
        } else {
            rc = measure_file(path, self, bytes, r->threads, rounds, verbose,
                              &r->rows[k]);
        }
        unlink(path);
    }
    free(pattern);
    return rc;
}

/* ------------------------------------------------------------ reports */

void bench_file_table(FILE *out, const bench_file_report *r)
{
    fprintf(out, "files: %s, %u threads, %.2f GiB of float32 per file, "
            "page-cached; edgegrid ingest: %s\n",
            r->cpu, r->threads, (double)r->bytes / (1u << 30), r->ingest);
    fprintf(out, "%-14s %7s %7s %7s %7s | %-22s | %-22s\n", "file",
            "pread", "pread", "mmap", "roof", "reduce --ops sum",
            "reduce (default ops)");
    fprintf(out, "%-14s %7s %7s %7s %7s | %-22s | %-22s\n", "", "256KiB",
            "1MiB", "+popul", "", "GB/s  ratio (lo-hi)", "GB/s  ratio (lo-hi)");
    for (int k = 0; k < 2; k++) {
        const bench_file_row *w = &r->rows[k];
        if (w->rounds == 0)
            continue;
        fprintf(out,
                "%-14s %7.1f %7.1f %7.1f %7.1f | %5.1f %4.2f (%4.2f-%4.2f) "
                "| %5.1f %4.2f (%4.2f-%4.2f)\n",
                w->kind, w->pread256_gbps, w->pread1m_gbps, w->mmap_gbps,
                w->roof_gbps, w->sum_gbps, w->sum_ratio, w->sum_ratio_lo,
                w->sum_ratio_hi, w->fused_gbps, w->fused_ratio,
                w->fused_ratio_lo, w->fused_ratio_hi);
    }
    fprintf(out, "GB/s: medians over %u rounds; ratio: the median of each "
            "round's reduce / that round's roof (whole process, wall "
            "time)\n",
            r->rows[0].rounds);
}

void bench_file_json(FILE *out, const bench_file_report *r)
{
    fprintf(out, "{\"cpu\": \"%s\", \"threads\": %u, \"bytes\": %llu, "
            "\"ingest\": \"%s\", \"files\": [",
            r->cpu, r->threads, (unsigned long long)r->bytes, r->ingest);
    for (int k = 0; k < 2; k++) {
        const bench_file_row *w = &r->rows[k];
        fprintf(out,
                "%s{\"kind\": \"%s\", \"rounds\": %u, \"pread_256k_gbps\": "
                "%.3f, \"pread_1m_gbps\": %.3f, \"mmap_gbps\": %.3f, "
                "\"roof_gbps\": %.3f, \"sum_gbps\": %.3f, \"sum_ratio\": "
                "%.4f, \"sum_ratio_lo\": %.4f, \"sum_ratio_hi\": %.4f, "
                "\"sum_inproc_gbps\": %.3f, \"fused_gbps\": %.3f, "
                "\"fused_ratio\": %.4f, \"fused_ratio_lo\": %.4f, "
                "\"fused_ratio_hi\": %.4f, \"fused_inproc_gbps\": %.3f}",
                k ? ", " : "", w->kind ? w->kind : "", w->rounds,
                w->pread256_gbps, w->pread1m_gbps, w->mmap_gbps, w->roof_gbps,
                w->sum_gbps, w->sum_ratio, w->sum_ratio_lo, w->sum_ratio_hi,
                w->sum_inproc_gbps, w->fused_gbps, w->fused_ratio,
                w->fused_ratio_lo, w->fused_ratio_hi, w->fused_inproc_gbps);
    }
    fprintf(out, "]}\n");
}
