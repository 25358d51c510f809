/* source.c - input arrays: .npy or raw files read with pread (or, when
 * asked, mapped read-only), stdin and pipes read into memory, and caller
 * memory wrapped as it is.
 *
 * A source owns at most one of: the open file it reads ranges from, a
 * private read-only mapping of the whole file, or a malloc'ed copy of the
 * bytes.  Elements are handed out in native order, straight from memory
 * when they are there and need no swap, else in the caller's buffer.
 *
 * Why files are read and not mapped by default: a mapped file that another
 * process truncates kills every thread that touches the lost pages with
 * SIGBUS, POCL's own threads included (they read the host pointer), and no
 * handler can make that safe in a library.  pread reports a short read
 * instead, and an fstat after each range catches a file rewritten in place.
 * A file replaced by rename is harmless: the open descriptor keeps the old
 * one.  What pread costs against a mapping is measured in bench/README.md.
 */
/* MAP_POPULATE and MADV_POPULATE_READ are Linux extensions. */
#define _DEFAULT_SOURCE 1

#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ingest_probe.h"
#include "npy.h"
#include "state.h"

struct eg_source {
    char *name;
    eg_array_info info;
    const unsigned char *data; /* the first element in memory; never NULL */
    int fd;                    /* the file ranges are read from, or -1 */
    uint64_t file_offset;      /* its byte of the first element */
    struct stat opened;        /* its size and mtime when opened */
    void *map;                 /* the mapped file, or NULL */
    size_t map_len;
    int prefault;              /* map each range in before handing it out */
    int map_fd;                /* the mapped file, for fstat, or -1 */
    int unaligned;             /* caller memory not aligned to its type */
    char note[96];             /* how "auto" chose to bring the file in */
    unsigned char *owned; /* malloc'ed bytes, or NULL */
};

/* How regular files come in: $EDGEGRID_INGEST "read" (the default: pread
 * into the caller's buffers) or "map" (a memory map: no copy, but a file
 * truncated under pages already mapped in raises SIGBUS, which only the
 * program can answer: host/fault_guard.c). */
#define EG_INGEST_ENV "EDGEGRID_INGEST"

/* The header of a .npy file read with pread: first this much, then the
 * whole header if it is longer. */
#define HEAD_FIRST 4096u

/* Where an empty source points, so that data + 0 is a valid pointer. */
static const unsigned char no_data[8];

/* Pipes are read in blocks of this size, doubling the buffer as needed. */
#define READ_BLOCK (1u << 16)

/* What stdin and pipes may bring, in bytes: $EDGEGRID_MAX_STDIN, else the
 * machine's physical memory (more cannot be held anyway), else this.  A
 * bound keeps `reduce - < /dev/zero` from eating memory until the OOM
 * killer steps in. */
#define EG_MAX_STDIN_ENV "EDGEGRID_MAX_STDIN"
#define EG_MAX_STDIN_FALLBACK (64ull << 30)

/* ------------------------------------------------------------- helpers */

static eg_status errno_error(eg_error *err, const char *name, const char *what,
                             int errnum)
{
    char text[128];
    if (strerror_r(errnum, text, sizeof text) != 0)
        text[0] = '\0';
    if (errnum == ENOENT || errnum == ENOTDIR) {
        return eg_error_set(err, EG_ENOENT, "%s: no such file (%s)", name,
                            text);
    }
    /* The path the user gave is at fault, not the run: bad input. */
    if (errnum == EACCES || errnum == EPERM || errnum == ELOOP ||
        errnum == ENAMETOOLONG || errnum == EISDIR || errnum == ENXIO)
        return eg_error_set(err, EG_EINPUT, "%s: %s: %s", name, what, text);
    if (errnum == ENOMEM)
        return eg_error_set(err, EG_ENOMEM, "%s: %s: %s", name, what, text);
    return eg_error_set(err, EG_EIO, "%s: %s: %s", name, what, text);
}

/* A byte count: decimal digits, optionally with a binary suffix (Ki, Mi,
 * Gi, Ti).  0 on success. */
static int parse_bytes(const char *text, uint64_t *out)
{
    static const char *const suffixes[] = {"", "Ki", "Mi", "Gi", "Ti"};
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return -1;
    for (unsigned k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
        if (strcmp(end, suffixes[k]) == 0) {
            if (v > UINT64_MAX >> (10 * k))
                return -1;
            *out = (uint64_t)v << (10 * k);
            return 0;
        }
    }
    return -1;
}

/* The most bytes read_all takes (see EG_MAX_STDIN_ENV). */
static eg_status stdin_limit(uint64_t *limit, eg_error *err)
{
    const char *env = getenv(EG_MAX_STDIN_ENV);
    if (env != NULL && env[0] != '\0') {
        if (parse_bytes(env, limit) != 0)
            return eg_error_set(err, EG_EUSAGE,
                                "%s: '%.40s' is not a byte count such as "
                                "1073741824 or 1Gi",
                                EG_MAX_STDIN_ENV, env);
        return EG_OK;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *limit = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page
                                   : EG_MAX_STDIN_FALLBACK;
    return EG_OK;
}

/* Reads fd to its end into a malloc'ed buffer: stdin and pipes cannot be
 * mapped.  More than the stdin limit is refused as bad input. */
static eg_status read_all(int fd, const char *name, unsigned char **out,
                          uint64_t *len, eg_error *err)
{
    uint64_t limit = 0;
    eg_status st = stdin_limit(&limit, err);
    if (st != EG_OK)
        return st;
    size_t cap = READ_BLOCK, n = 0;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", name);
    for (;;) {
        if (n > limit) {
            free(buf);
            return eg_error_set(err, EG_EINPUT,
                                "%s: more than %llu bytes, the limit for "
                                "stdin and pipes (set %s, or save the data "
                                "to a file)",
                                name, (unsigned long long)limit,
                                EG_MAX_STDIN_ENV);
        }
        if (n == cap) {
            unsigned char *bigger =
                cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                free(buf);
                return eg_error_set(err, EG_ENOMEM,
                                    "%s: out of memory after reading %zu "
                                    "bytes",
                                    name, n);
            }
            buf = bigger;
            cap *= 2;
        }
        /* never more than one byte past the limit: enough to tell */
        size_t want = cap - n;
        if (limit - n < want)
            want = (size_t)(limit - n) + 1;
        ssize_t got = read(fd, buf + n, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            return errno_error(err, name, "read failed", e);
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *out = buf;
    *len = n;
    return EG_OK;
}

/* Whether a mapped file of `size` bytes fits comfortably in memory, so
 * that its pages can be mapped in ahead of the reads (map_file). */
static int maps_in_ahead(uint64_t size)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 &&
           size <= (uint64_t)pages * (uint64_t)page / 4;
}

/* Maps a regular file of `size` bytes ($EDGEGRID_INGEST=map); an empty
 * file maps to nothing (mmap refuses length 0).  src->opened is the
 * file's stat when it was opened. */
static eg_status map_file(eg_source *src, int fd, uint64_t size, eg_error *err)
{
    if (size == 0)
        return EG_OK;
    if (size > SIZE_MAX) {
        return eg_error_set(err, EG_ENOMEM,
                            "%s: %llu bytes do not fit this address space",
                            src->name, (unsigned long long)size);
    }
    /* Faulting a mapping in page by page costs more than reading it, so
     * when the file fits comfortably in memory its pages are mapped in
     * ahead of the reads (a larger file streams through demand paging).
     * Each chunk's range is mapped in by the thread about to reduce it
     * (eg_source_get), so the threads share that work and it overlaps
     * the reading: a 4 GiB file went 7 % faster, whole process, than with
     * the whole file mapped in up front by one thread (MAP_POPULATE), which
     * is what a kernel without MADV_POPULATE_READ (Linux < 5.14) gets. */
    int fits = maps_in_ahead(size);
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return errno_error(err, src->name, "mmap failed", errno);
#if defined(MADV_POPULATE_READ)
    src->prefault = fits && madvise(p, (size_t)sysconf(_SC_PAGESIZE),
                                    MADV_POPULATE_READ) == 0;
#endif
    /* kept to check the file after a job (eg_source_close_checked) and
     * when prefault finds a range cut off */
    src->map_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
#if defined(MAP_POPULATE)
    if (fits && !src->prefault) {
        munmap(p, (size_t)size);
        p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                 fd, 0);
        if (p == MAP_FAILED)
            return errno_error(err, src->name, "mmap failed", errno);
    }
#endif
    /* reductions stream through the file once: read ahead, drop behind */
    (void)posix_madvise(p, (size_t)size, POSIX_MADV_SEQUENTIAL);
    src->map = p;
    src->map_len = (size_t)size;
    return EG_OK;
}

/* How regular files come in, from $EDGEGRID_INGEST. */
enum { EG_INGEST_READ, EG_INGEST_MAP, EG_INGEST_AUTO };

static eg_status ingest_mode(int *mode, eg_error *err)
{
    const char *env = getenv(EG_INGEST_ENV);
    *mode = EG_INGEST_READ;
    if (env == NULL || env[0] == '\0' || strcmp(env, "read") == 0)
        return EG_OK;
    if (strcmp(env, "map") == 0 || strcmp(env, "auto") == 0) {
        *mode = env[0] == 'm' ? EG_INGEST_MAP : EG_INGEST_AUTO;
        return EG_OK;
    }
    return eg_error_set(err, EG_EUSAGE,
                        "%s: '%.40s' is not 'read', 'map' or 'auto'",
                        EG_INGEST_ENV, env);
}

/* The smallest file "auto" times both ways for: the probe reads 16 MiB
 * (ingest_probe.c), a few per cent of this. */
#define EG_AUTO_MIN_BYTES ((uint64_t)512 << 20)

/* Test builds may force the probe's answer ("map" or "read") and take it
 * for a file of any size (tests/cli/test_truncate.py).  Product builds
 * ignore it. */
#define EG_PROBE_ENV "EDGEGRID_TEST_INGEST_PROBE"

/* "auto" for a file read whole (EG_LOAD_READ): whether to map it, timed
 * where it is large enough to pay for the timing and small enough to be
 * mapped in ahead of the reads (map_file's `fits`); a map is noted with
 * the reason. */
static int auto_maps(eg_source *src, int fd, uint64_t size)
{
#ifdef EDGEGRID_TEST_HOOKS
    const char *force = getenv(EG_PROBE_ENV);
    if (force != NULL && (!strcmp(force, "map") || !strcmp(force, "read"))) {
        int map = force[0] == 'm';
        if (map)
            snprintf(src->note, sizeof src->note, "input mapped (forced by %s)",
                     EG_PROBE_ENV);
        return map;
    }
#endif
    if (size < EG_AUTO_MIN_BYTES || !maps_in_ahead(size))
        return 0;
    double map_gbps = 0, read_gbps = 0;
    int map = eg_ingest_map_is_faster(fd, size, &map_gbps, &read_gbps);
    /* noted when it departs from the library's way in, pread */
    if (map)
        snprintf(src->note, sizeof src->note,
                 "input mapped (timed: map %.1f GB/s, pread %.1f GB/s)",
                 map_gbps, read_gbps);
    return map;
}

/* The error for a file that changed after it was opened: `now` is its
 * stat now, `at` the byte the read had reached, `short_read` whether the
 * file ended before it. */
static eg_status changed_error(const eg_source *src, const struct stat *now,
                               uint64_t at, int short_read, eg_error *err)
{
    const char *how = "rewritten in place";
    if (now->st_size < src->opened.st_size || short_read)
        how = "truncated";
    else if (now->st_size > src->opened.st_size)
        how = "grown";
    return eg_error_set(err, EG_EIO,
                        "%s: the file changed while it was read: %s to %llu "
                        "bytes (%llu when opened), read up to byte %llu",
                        src->name, how, (unsigned long long)now->st_size,
                        (unsigned long long)src->opened.st_size,
                        (unsigned long long)at);
}

/* Whether the file still has the size and modification time it had when
 * opened: an fstat after the reads catches a rewrite in place that a short
 * read cannot.  (Not the change time: a chmod or a new hard link moves it
 * and leaves the bytes alone.)  `at` is how far the reads got, for the
 * message. */
static eg_status check_unchanged(const eg_source *src, int fd, uint64_t at,
                                 eg_error *err)
{
    struct stat now;
    memset(&now, 0, sizeof now);
    int same = fstat(fd, &now) == 0 &&
               now.st_size == src->opened.st_size &&
               now.st_mtim.tv_sec == src->opened.st_mtim.tv_sec &&
               now.st_mtim.tv_nsec == src->opened.st_mtim.tv_nsec;
    return same ? EG_OK : changed_error(src, &now, at, 0, err);
}

/* Reads len bytes at offset `at` of the source's file into buf.  A short
 * read means the file shrank under the reduction: EG_EIO naming the file
 * and how far the read got, never a signal. */
static eg_status read_bytes(const eg_source *src, uint64_t at, void *buf,
                            size_t len, eg_error *err)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(src->fd, p + done, len - done,
                            (off_t)(at + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            char text[128];
            if (strerror_r(e, text, sizeof text) != 0)
                text[0] = '\0';
            return eg_error_set(err, EG_EIO,
                                "%s: read failed at byte %llu: %s", src->name,
                                (unsigned long long)(at + done), text);
        }
        if (got == 0) {
            struct stat now;
            memset(&now, 0, sizeof now);
            (void)fstat(src->fd, &now);
            return changed_error(src, &now, at + done, 1, err);
        }
        done += (size_t)got;
    }
    return EG_OK;
}

/* read_bytes, then check_unchanged. */
static eg_status read_range(const eg_source *src, uint64_t at, void *buf,
                            size_t len, eg_error *err)
{
    eg_status st = read_bytes(src, at, buf, len, err);
    return st != EG_OK ? st : check_unchanged(src, src->fd, at + len, err);
}

/* Reads the head of a regular file for describe(): the .npy header (raw
 * files have none).  *head is malloc'ed. */
static eg_status read_head(eg_source *src, const eg_input_opts *in,
                           unsigned char **head, size_t *head_len,
                           eg_error *err)
{
    uint64_t size = (uint64_t)src->opened.st_size;
    *head = NULL;
    *head_len = 0;
    if (in != NULL && in->raw)
        return EG_OK;
    size_t want = size < HEAD_FIRST ? (size_t)size : HEAD_FIRST;
    for (int pass = 0; pass < 2; pass++) {
        unsigned char *bigger = realloc(*head, want ? want : 1);
        if (bigger == NULL)
            return eg_error_set(err, EG_ENOMEM, "%s: out of memory",
                                src->name);
        *head = bigger;
        eg_status st = read_range(src, 0, *head, want, err);
        if (st != EG_OK)
            return st;
        *head_len = want;
        uint64_t span = eg_npy_header_span(*head, want);
        if (span <= want || want == size)
            break;
        want = span < size ? (size_t)span : (size_t)size;
    }
    return EG_OK;
}

/* Reads the whole regular file into a malloc'ed copy (eg_source_open_stored)
 * and lets the file go: a truncation after that cannot reach the bytes,
 * one during the reads is a short read or a changed size, reported as for
 * any file read. */
static eg_status store_file(eg_source *src, int fd, const struct stat *sb,
                            eg_error *err)
{
    uint64_t size = (uint64_t)sb->st_size;
    src->owned = size <= SIZE_MAX ? malloc(size ? (size_t)size : 1) : NULL;
    if (src->owned == NULL)
        return eg_error_set(err, EG_ENOMEM,
                            "%s: out of memory reading its %llu bytes",
                            src->name, (unsigned long long)size);
    src->fd = fd;
    src->opened = *sb;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    eg_status st = read_range(src, 0, src->owned, (size_t)size, err);
    src->fd = -1; /* the caller closes fd */
    return st;
}

/* Test builds may lower the bound store_fits uses, so that the path of a
 * file too large to copy runs on a small file (tests/cli/test_truncate.py):
 * a byte count such as 65536 or 64Ki.  Product builds ignore it. */
#define EG_STORE_LIMIT_ENV "EDGEGRID_TEST_STORE_LIMIT"

/* The most bytes of a file eg_source_open_stored and eg_source_open_rows
 * copy into memory: half the physical memory.  A larger one is not copied (that would push the
 * page cache and the rest of the machine into swap): eg_source_open_rows
 * leaves it to be read with pread, eg_source_open_stored maps it and keeps
 * the SIGBUS risk source.h names.  (Without the page count: as for a
 * machine of 64 GiB.) */
static uint64_t store_limit(void)
{
#ifdef EDGEGRID_TEST_HOOKS
    const char *env = getenv(EG_STORE_LIMIT_ENV);
    uint64_t limit = 0;
    if (env != NULL && env[0] != '\0' && parse_bytes(env, &limit) == 0)
        return limit;
#endif
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2
                                 : EG_MAX_STDIN_FALLBACK / 2;
}

static int store_fits(uint64_t size)
{
    return size <= store_limit();
}

uint64_t eg_source_piece_bytes(void)
{
    return store_limit() / 4;
}

/* How load_path brings a regular file in. */
enum { EG_LOAD_READ, EG_LOAD_MAP, EG_LOAD_STORE, EG_LOAD_ROWS };

/* Opens path and leaves it open for reads or mapped (regular files), or
 * read into memory (pipes, and regular files for EG_LOAD_STORE).  Sets
 * *base and *len to the bytes in memory (none for a file read with pread:
 * *head then holds its first bytes). */
static eg_status load_path(eg_source *src, const char *path,
                           const eg_input_opts *in, int how,
                           const unsigned char **base, uint64_t *len,
                           unsigned char **head, size_t *head_len,
                           eg_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno_error(err, src->name, "cannot open", errno);
    struct stat sb;
    eg_status st = EG_OK;
    int map = 0;
    if (fstat(fd, &sb) != 0) {
        st = errno_error(err, src->name, "cannot stat", errno);
    } else if (S_ISDIR(sb.st_mode)) {
        st = eg_error_set(err, EG_EINPUT,
                          "%s: is a directory, not a .npy or raw file",
                          src->name);
    } else if (S_ISREG(sb.st_mode)) {
        *len = (uint64_t)sb.st_size;
        src->opened = sb; /* for the checks after reads, read or mapped */
        int mode = EG_INGEST_READ;
        st = ingest_mode(&mode, err);
        int store = how == EG_LOAD_STORE || how == EG_LOAD_ROWS;
        /* "auto" maps a file it would copy whole: a copy into fresh memory
         * pays a page fault and a zeroing a page on top of the read, and
         * came out slower than the map for either kind of file (README,
         * "How files are read") */
        map = mode == EG_INGEST_MAP ||
              (st == EG_OK && mode == EG_INGEST_AUTO &&
               (store ? store_fits(*len)
                      : how == EG_LOAD_READ && auto_maps(src, fd, *len)));
        if (st == EG_OK && store && !map && store_fits(*len)) {
            st = store_file(src, fd, &sb, err);
            *base = src->owned;
        } else if (st == EG_OK && (map || how == EG_LOAD_MAP ||
                                   how == EG_LOAD_STORE)) {
            st = map_file(src, fd, *len, err);
            *base = src->map;
        } else if (st == EG_OK) {
            /* EG_LOAD_READ, or EG_LOAD_ROWS too large to copy */
            src->fd = fd;
            fd = -1;
            /* reductions stream through the file once: read ahead */
            (void)posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
            st = read_head(src, in, head, head_len, err);
        }
    } else if (S_ISFIFO(sb.st_mode)) {
        st = read_all(fd, src->name, &src->owned, len, err);
        *base = src->owned;
    } else {
        /* A device has no size to check (/dev/zero never ends, a disk
         * reports 0 bytes): only stdin reads one, within its limit. */
        st = eg_error_set(err, EG_EINPUT,
                          "%s: is a %s, not a .npy or raw file (pipe it to "
                          "stdin '-' to read it)",
                          src->name,
                          S_ISCHR(sb.st_mode)   ? "character device"
                          : S_ISBLK(sb.st_mode) ? "block device"
                                                : "special file");
    }
    if (fd >= 0)
        close(fd);
    return st;
}

/* Fills info and data from the bytes: a .npy header, or raw elements.  A
 * file read with pread has only its head in memory (head_len bytes of
 * len). */
static eg_status describe(eg_source *src, const unsigned char *base,
                          uint64_t len, size_t head_len,
                          const eg_input_opts *in, eg_error *err)
{
    if (in != NULL && in->raw) {
        size_t itemsize = eg_dtype_size(in->raw_dtype);
        if (itemsize == 0)
            return eg_error_set(err, EG_EDTYPE, "%s: invalid raw dtype",
                                src->name);
        if (len % itemsize != 0) {
            return eg_error_set(err, EG_EINPUT,
                                "%s: raw size %llu bytes is not a multiple "
                                "of the %s item size (%zu bytes)",
                                src->name, (unsigned long long)len,
                                eg_dtype_name(in->raw_dtype), itemsize);
        }
        src->info.dtype = in->raw_dtype;
        src->info.count = len / itemsize;
        src->info.ndim = 1;
        src->info.shape[0] = src->info.count;
        src->data = base;
        return EG_OK;
    }
    eg_npy_header h;
    eg_status st = src->fd >= 0
                       ? eg_npy_parse_head(base, head_len, len, src->name,
                                           &h, err)
                       : eg_npy_parse(base, len, src->name, &h, err);
    if (st != EG_OK)
        return st;
    src->info = h.info;
    src->file_offset = h.data_offset;
    src->data = src->fd >= 0 ? NULL : base + h.data_offset;
    return EG_OK;
}

/* numpy aligns data to 16 or 64 bytes, but a hand-made header may leave it
 * misaligned for its type; consumers read typed pointers, so such data is
 * moved to the start of a malloc'ed (max-aligned) buffer once. */
static eg_status align_data(eg_source *src, eg_error *err)
{
    size_t itemsize = eg_dtype_size(src->info.dtype);
    uint64_t bytes = src->info.count * itemsize;
    if (src->info.count == 0 || src->data == NULL) {
        /* nothing in memory: empty, or read into the caller's buffers */
        src->data = no_data;
        return EG_OK;
    }
    if ((uintptr_t)src->data % itemsize == 0)
        return EG_OK;
    if (src->owned != NULL) {
        memmove(src->owned, src->data, (size_t)bytes);
        src->data = src->owned;
        return EG_OK;
    }
    unsigned char *copy = bytes <= SIZE_MAX ? malloc((size_t)bytes) : NULL;
    if (copy == NULL) {
        return eg_error_set(err, EG_ENOMEM,
                            "%s: out of memory realigning %llu data bytes",
                            src->name, (unsigned long long)bytes);
    }
    memcpy(copy, src->data, (size_t)bytes);
    munmap(src->map, src->map_len);
    src->map = NULL;
    src->map_len = 0;
    src->prefault = 0;
    src->owned = copy;
    src->data = copy;
    return EG_OK;
}

static eg_source *source_new(const char *name)
{
    eg_source *src = calloc(1, sizeof *src);
    if (src == NULL)
        return NULL;
    src->name = malloc(strlen(name) + 1);
    if (src->name == NULL) {
        free(src);
        return NULL;
    }
    strcpy(src->name, name);
    src->data = no_data;
    src->fd = -1;
    src->map_fd = -1;
    return src;
}

/* ------------------------------------------------------------- opening */

/* A Fortran-order array has no row in consecutive bytes, so
 * eg_source_open_rows cannot read it row range by row range: it is mapped
 * as eg_source_open_stored maps it (source.h). */
static eg_status map_rows(eg_source *src, uint64_t len, eg_error *err)
{
    eg_status st = map_file(src, src->fd, len, err);
    if (st != EG_OK)
        return st;
    close(src->fd);
    src->fd = -1;
    src->data = src->map != NULL ? (const unsigned char *)src->map +
                                       src->file_offset
                                 : NULL;
    return EG_OK;
}

/* eg_source_open (how: EG_LOAD_READ) and eg_source_open_stored
 * (EG_LOAD_STORE). */
static eg_status open_source(eg_source **out, const char *path,
                             const eg_input_opts *in, int how,
                             eg_error *err)
{
    if (out == NULL || path == NULL)
        return eg_error_set(err, EG_EUSAGE, "no input file given");
    *out = NULL;
    eg_source *src = source_new(path);
    if (src == NULL)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", path);

    const unsigned char *base = NULL;
    unsigned char *head = NULL;
    size_t head_len = 0;
    uint64_t len = 0;
    eg_status st;
    if (strcmp(path, "-") == 0) {
        st = read_all(STDIN_FILENO, "-", &src->owned, &len, err);
        base = src->owned;
    } else {
        st = load_path(src, path, in, how, &base, &len, &head,
                       &head_len, err);
        if (src->fd >= 0)
            base = head;
    }
    if (st == EG_OK)
        st = describe(src, base, len, head_len, in, err);
    if (st == EG_OK && how == EG_LOAD_ROWS && src->fd >= 0 &&
        src->info.fortran_order && src->info.ndim > 1)
        st = map_rows(src, len, err);
    if (st == EG_OK)
        st = align_data(src, err);
    free(head);
    if (st != EG_OK) {
        eg_source_close(&src);
        return st;
    }
    *out = src;
    return EG_OK;
}

eg_status eg_source_open(eg_source **out, const char *path,
                         const eg_input_opts *in, eg_error *err)
{
    return open_source(out, path, in, EG_LOAD_READ, err);
}

eg_status eg_source_open_stored(eg_source **out, const char *path,
                                const eg_input_opts *in, eg_error *err)
{
    return open_source(out, path, in, EG_LOAD_STORE, err);
}

eg_status eg_source_open_rows(eg_source **out, const char *path,
                              const eg_input_opts *in, eg_error *err)
{
    return open_source(out, path, in, EG_LOAD_ROWS, err);
}

eg_status eg_source_wrap(eg_source **out, const void *data, uint64_t count,
                         eg_dtype dtype, eg_error *err)
{
    if (out == NULL || (data == NULL && count > 0))
        return eg_error_set(err, EG_EUSAGE, "memory: no data to wrap");
    *out = NULL;
    size_t itemsize = eg_dtype_size(dtype);
    if (itemsize == 0)
        return eg_error_set(err, EG_EDTYPE, "memory: invalid dtype");
    if (count > UINT64_MAX / itemsize) {
        return eg_error_set(err, EG_EOVERFLOW,
                            "memory: %llu elements overflow 64-bit sizes",
                            (unsigned long long)count);
    }
    eg_source *src = source_new("memory");
    if (src == NULL)
        return eg_error_set(err, EG_ENOMEM, "memory: out of memory");
    src->info.dtype = dtype;
    src->info.count = count;
    src->info.ndim = 1;
    src->info.shape[0] = count;
    if (count > 0)
        src->data = data;
    /* The lanes load typed elements (a double from an odd address is
     * undefined behaviour): such memory is handed out through the
     * caller's buffers, copied, like a file's. */
    src->unaligned = (uintptr_t)src->data % itemsize != 0;
    *out = src;
    return EG_OK;
}

void eg_source_close(eg_source **srcp)
{
    if (srcp == NULL || *srcp == NULL)
        return;
    eg_source *src = *srcp;
    if (src->map != NULL)
        munmap(src->map, src->map_len);
    if (src->fd >= 0)
        close(src->fd);
    if (src->map_fd >= 0)
        close(src->map_fd);
    free(src->owned);
    free(src->name);
    free(src);
    *srcp = NULL;
}

eg_status eg_source_close_checked(eg_source **srcp, eg_status st,
                                  eg_error *err)
{
    const eg_source *src = srcp ? *srcp : NULL;
    if (st == EG_OK && src != NULL)
        st = eg_source_check(src, src->info.count, err);
    eg_source_close(srcp);
    return st;
}

const eg_array_info *eg_source_info(const eg_source *src)
{
    return &src->info;
}

const char *eg_source_note(const eg_source *src)
{
    return src->note;
}

const char *eg_source_name(const eg_source *src)
{
    return src->name;
}

/* ----------------------------------------------------------- elements */

static uint16_t bswap16(uint16_t v)
{
    return (uint16_t)((v << 8) | (v >> 8));
}

static uint32_t bswap32(uint32_t v)
{
    v = ((v & 0x00ff00ffu) << 8) | ((v >> 8) & 0x00ff00ffu);
    return (v << 16) | (v >> 16);
}

static uint64_t bswap64(uint64_t v)
{
    v = ((v & 0x00ff00ff00ff00ffull) << 8) | ((v >> 8) & 0x00ff00ff00ff00ffull);
    v = ((v & 0x0000ffff0000ffffull) << 16) |
        ((v >> 16) & 0x0000ffff0000ffffull);
    return (v << 32) | (v >> 32);
}

/* Copies n elements of `size` bytes from p to out, reversing each one's
 * bytes.  memcpy keeps it free of alignment assumptions. */
static void swap_copy(unsigned char *out, const unsigned char *p, uint64_t n,
                      size_t size)
{
    for (uint64_t k = 0; k < n; k++, p += size, out += size) {
        if (size == 2) {
            uint16_t v;
            memcpy(&v, p, 2);
            v = bswap16(v);
            memcpy(out, &v, 2);
        } else if (size == 4) {
            uint32_t v;
            memcpy(&v, p, 4);
            v = bswap32(v);
            memcpy(out, &v, 4);
        } else if (size == 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            v = bswap64(v);
            memcpy(out, &v, 8);
        } else {
            memcpy(out, p, size);
        }
    }
}

/* Maps the pages of [p, p + len) in (map_file found that the kernel can);
 * should it fail, the reads fault them in.  EFAULT says the file no longer
 * reaches them (a read would raise SIGBUS): the changed file's error. */
static eg_status prefault(const eg_source *src, const unsigned char *p,
                          size_t len, eg_error *err)
{
#if defined(MADV_POPULATE_READ)
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(page - 1);
    uintptr_t hi = (uintptr_t)p + len;
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_READ) == 0 ||
        errno != EFAULT || src->map_fd < 0)
        return EG_OK;
    struct stat now;
    memset(&now, 0, sizeof now);
    (void)fstat(src->map_fd, &now);
    return changed_error(src, &now,
                         (uint64_t)(p - (const unsigned char *)src->map), 1,
                         err);
#else
    (void)src;
    (void)p;
    (void)len;
    (void)err;
    return EG_OK;
#endif
}

int eg_source_needs_buffer(const eg_source *src)
{
    return src->fd >= 0 || src->info.swap || src->unaligned;
}

/* eg_source_get and eg_source_get_part: `check` whether a file read is
 * unchanged after the read. */
static eg_status get_range(const eg_source *src, uint64_t start, uint64_t n,
                           void *buf, const void **out, int check,
                           eg_error *err)
{
    *out = NULL;
    if (src == NULL || start > src->info.count || n > src->info.count - start)
        return eg_error_set(err, EG_EINTERNAL,
                            "%s: elements [%llu, +%llu) are outside the "
                            "array",
                            src ? src->name : "source",
                            (unsigned long long)start, (unsigned long long)n);
    size_t size = eg_dtype_size(src->info.dtype);
    if (n == 0) {
        *out = no_data;
        return EG_OK;
    }
    if (buf == NULL && eg_source_needs_buffer(src))
        return eg_error_set(err, EG_EINTERNAL, "%s: no buffer for a range",
                            src->name);
    const unsigned char *p;
    if (src->fd >= 0) {
        uint64_t at = src->file_offset + start * size;
        eg_status st = check ? read_range(src, at, buf, (size_t)(n * size), err)
                             : read_bytes(src, at, buf, (size_t)(n * size), err);
        if (st != EG_OK)
            return st;
        p = buf;
    } else {
        p = src->data + start * size;
        if (src->prefault) {
            eg_status st = prefault(src, p, (size_t)(n * size), err);
            if (st != EG_OK)
                return st;
        }
    }
    if (src->info.swap) {
        /* in place when p is buf: each element is loaded before it is
         * stored */
        swap_copy(buf, p, n, size);
        p = buf;
    } else if (src->unaligned) {
        memcpy(buf, p, (size_t)(n * size));
        p = buf;
    }
    *out = p;
    return EG_OK;
}

const void *eg_source_stored(const eg_source *src)
{
    return src->fd >= 0 ? NULL : src->data;
}

eg_status eg_source_get(const eg_source *src, uint64_t start, uint64_t n,
                        void *buf, const void **out, eg_error *err)
{
    return get_range(src, start, n, buf, out, 1, err);
}

eg_status eg_source_get_part(const eg_source *src, uint64_t start, uint64_t n,
                             void *buf, const void **out, eg_error *err)
{
    return get_range(src, start, n, buf, out, 0, err);
}

eg_status eg_source_check(const eg_source *src, uint64_t end, eg_error *err)
{
    /* a file read with pread, or mapped (a map reads the part of a page
     * that a cut file no longer fills as zeros, without a fault) */
    int fd = src->fd >= 0 ? src->fd : src->map != NULL ? src->map_fd : -1;
    if (fd < 0)
        return EG_OK;
    return check_unchanged(
        src, fd, src->file_offset + end * eg_dtype_size(src->info.dtype), err);
}

/* ------------------------------------------------------ Fortran order */

uint64_t eg_source_c_index(const eg_source *src, uint64_t mem_index)
{
    const eg_array_info *info = &src->info;
    if (!info->fortran_order || mem_index >= info->count)
        return mem_index;
    /* memory order runs the first dimension fastest; C order the last */
    uint64_t idx[EG_MAX_DIMS];
    uint64_t m = mem_index;
    for (unsigned k = 0; k < info->ndim; k++) {
        idx[k] = m % info->shape[k];
        m /= info->shape[k];
    }
    uint64_t c = 0;
    for (unsigned k = 0; k < info->ndim; k++)
        c = c * info->shape[k] + idx[k];
    return c;
}

/* What eg_source_first_c_index_of looks for. */
typedef struct probe {
    double f;
    int64_t i;
    uint64_t u;
    int want_nan;
} probe;

/* Compares element p (native order) with the probe: floats as doubles (so
 * -0.0 == 0.0) or by NaN-ness, integers exactly. */
static int element_matches(eg_dtype t, const unsigned char *p, const probe *q)
{
    union {
        float f32;
        double f64;
        int8_t i8;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
    } v;
    memcpy(&v, p, eg_dtype_size(t));
    double f;
    switch (t) {
    case EG_F32:
        f = v.f32;
        return q->want_nan ? isnan(f) : f == q->f;
    case EG_F64:
        f = v.f64;
        return q->want_nan ? isnan(f) : f == q->f;
    case EG_I8:
        return v.i8 == q->i;
    case EG_U8:
        return v.u8 == q->u;
    case EG_I16:
        return v.i16 == q->i;
    case EG_U16:
        return v.u16 == q->u;
    case EG_I32:
        return v.i32 == q->i;
    case EG_U32:
        return v.u32 == q->u;
    case EG_I64:
        return v.i64 == q->i;
    case EG_U64:
        return v.u64 == q->u;
    default:
        return 0;
    }
}

/* Elements the scan of eg_source_first_c_index_of takes at a time. */
#define SCAN_BLOCK_ELEMS 65536u

eg_status eg_source_first_c_index_of(const eg_source *src, double fvalue,
                                     int64_t ivalue, uint64_t uvalue,
                                     int want_nan, uint64_t *index,
                                     eg_error *err)
{
    const eg_array_info *info = &src->info;
    const probe q = {fvalue, ivalue, uvalue,
                     want_nan && eg_dtype_is_float(info->dtype)};
    size_t size = eg_dtype_size(info->dtype);
    *index = EG_NONE_INDEX;
    unsigned char *buf =
        eg_source_needs_buffer(src) ? malloc(SCAN_BLOCK_ELEMS * size) : NULL;
    if (eg_source_needs_buffer(src) && buf == NULL)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", src->name);
    /* One pass in memory order, in blocks (the file is read, not mapped):
     * in C order the first hit is the answer; in Fortran order the hit
     * with the smallest C-order index, which needs the whole pass but
     * reads every element once rather than jumping through the file. */
    eg_status st = EG_OK;
    for (uint64_t at = 0; at < info->count && st == EG_OK; at += SCAN_BLOCK_ELEMS) {
        uint64_t n = info->count - at < SCAN_BLOCK_ELEMS ? info->count - at
                                                          : SCAN_BLOCK_ELEMS;
        const void *p = NULL;
        st = eg_source_get(src, at, n, buf, &p, err);
        for (uint64_t k = 0; st == EG_OK && k < n; k++) {
            if (!element_matches(info->dtype,
                                 (const unsigned char *)p + k * size, &q))
                continue;
            uint64_t c = eg_source_c_index(src, at + k);
            if (c < *index)
                *index = c;
            if (!info->fortran_order)
                break;
        }
        if (!info->fortran_order && *index != EG_NONE_INDEX)
            break;
    }
    free(buf);
    return st;
}
