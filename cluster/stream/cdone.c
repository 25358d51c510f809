/* cdone.c - the printed set and its journal (cdone.h). */
#include "cdone.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC 24
#define HEAD 8
static const uint8_t MAGIC[4] = {'E', 'G', 'C', 'J'};

struct eg_cdone {
    eg_cdone_id *ring; /* cap ids, oldest at `at` once full */
    uint32_t *next;    /* chain of ring slots per bucket, slot + 1 */
    uint32_t *bucket;  /* nbuckets heads, slot + 1 */
    size_t cap, n, at, nbuckets;
    int fd; /* the journal, -1 without one */
    char path[4096], tmp[4096], dir[4096];
    size_t records; /* in the journal file */
    size_t loaded;
    uint8_t *pend; /* encoded records noted, not yet written */
    size_t npend, cappend;
};

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t check_of(eg_cdone_id id)
{
    return mix(id.a ^ mix(id.b ^ 0x45474a31ull));
}

static size_t bucket_of(const eg_cdone *d, eg_cdone_id id)
{
    return (size_t)(id.a ^ id.b) & (d->nbuckets - 1);
}

int eg_cdone_has(const eg_cdone *d, eg_cdone_id id)
{
    for (uint32_t s = d->bucket[bucket_of(d, id)]; s; s = d->next[s - 1])
        if (d->ring[s - 1].a == id.a && d->ring[s - 1].b == id.b)
            return 1;
    return 0;
}

static void unlink_slot(eg_cdone *d, size_t slot)
{
    uint32_t *p = &d->bucket[bucket_of(d, d->ring[slot])];
    while (*p && *p != slot + 1)
        p = &d->next[*p - 1];
    if (*p)
        *p = d->next[slot];
}

/* In memory: the oldest id gives way once cap are held. */
static void remember(eg_cdone *d, eg_cdone_id id)
{
    size_t slot;
    if (d->n < d->cap) {
        slot = d->n++;
    } else {
        slot = d->at;
        unlink_slot(d, slot);
        d->at = (d->at + 1) % d->cap;
    }
    d->ring[slot] = id;
    size_t b = bucket_of(d, id);
    d->next[slot] = d->bucket[b];
    d->bucket[b] = (uint32_t)(slot + 1);
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void encode(uint8_t *p, eg_cdone_id id)
{
    put64(p, id.a);
    put64(p + 8, id.b);
    put64(p + 16, check_of(id));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static eg_status io_error(eg_error *err, const char *what, const char *path)
{
    return eg_error_set(err, EG_EIO, "collect: %s %s: %s", what, path,
                        strerror(errno));
}

/* Reads the journal's good records into memory; cuts off a torn tail. */
static eg_status load(eg_cdone *d, eg_error *err)
{
    struct stat sb;
    if (fstat(d->fd, &sb) != 0)
        return io_error(err, "cannot stat", d->path);
    uint8_t head[HEAD] = {'E', 'G', 'C', 'J', 1, 0, 0, 0};
    if (sb.st_size == 0) {
        if (write_all(d->fd, head, HEAD) != 0 || fsync(d->fd) != 0)
            return io_error(err, "cannot write", d->path);
        return EG_OK;
    }
    FILE *f = fdopen(dup(d->fd), "rb");
    if (!f)
        return io_error(err, "cannot read", d->path);
    uint8_t got[HEAD];
    if (fread(got, 1, HEAD, f) != HEAD || memcmp(got, MAGIC, 4) != 0 ||
        get64(got) >> 32 != 1) {
        fclose(f);
        return eg_error_set(err, EG_EINPUT,
                            "collect: %s is not a collector journal "
                            "(version 1)",
                            d->path);
    }
    off_t good = HEAD;
    uint8_t rec[REC];
    while (fread(rec, 1, REC, f) == REC) {
        eg_cdone_id id = {get64(rec), get64(rec + 8)};
        if (get64(rec + 16) != check_of(id))
            break;
        remember(d, id);
        d->records++;
        d->loaded++;
        good += REC;
    }
    fclose(f);
    if (good != sb.st_size &&
        (ftruncate(d->fd, good) != 0 || fsync(d->fd) != 0))
        return io_error(err, "cannot cut the torn end of", d->path);
    if (lseek(d->fd, 0, SEEK_END) < 0)
        return io_error(err, "cannot seek", d->path);
    return EG_OK;
}

eg_status eg_cdone_open(eg_cdone **out, const char *dir, size_t cap,
                        eg_error *err)
{
    *out = NULL;
    eg_cdone *d = calloc(1, sizeof *d);
    if (!d)
        return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
    d->fd = -1;
    d->cap = cap ? cap : 1;
    d->nbuckets = 1;
    while (d->nbuckets < 2 * d->cap)
        d->nbuckets *= 2;
    d->ring = calloc(d->cap, sizeof *d->ring);
    d->next = calloc(d->cap, sizeof *d->next);
    d->bucket = calloc(d->nbuckets, sizeof *d->bucket);
    if (!d->ring || !d->next || !d->bucket) {
        eg_cdone_close(&d);
        return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
    }
    if (dir) {
        if ((size_t)snprintf(d->dir, sizeof d->dir, "%s", dir) >=
                sizeof d->dir ||
            (size_t)snprintf(d->path, sizeof d->path, "%s/printed.log", dir) >=
                sizeof d->path ||
            (size_t)snprintf(d->tmp, sizeof d->tmp, "%s/printed.log.tmp",
                             dir) >= sizeof d->tmp) {
            eg_cdone_close(&d);
            return eg_error_set(err, EG_EUSAGE,
                                "collect: --state-dir: path too long");
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            eg_status st = io_error(err, "cannot create --state-dir", dir);
            eg_cdone_close(&d);
            return st;
        }
        d->fd = open(d->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        eg_status st =
            d->fd < 0 ? io_error(err, "cannot open", d->path) : load(d, err);
        if (st != EG_OK) {
            eg_cdone_close(&d);
            return st;
        }
    }
    *out = d;
    return EG_OK;
}

void eg_cdone_close(eg_cdone **pd)
{
    eg_cdone *d = *pd;
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    free(d->ring);
    free(d->next);
    free(d->bucket);
    free(d->pend);
    free(d);
    *pd = NULL;
}

/* The newest cap ids into a new journal, renamed over the old one. */
static eg_status compact(eg_cdone *d, eg_error *err)
{
    size_t len = HEAD + d->n * REC;
    uint8_t *buf = malloc(len);
    if (!buf)
        return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
    memcpy(buf, (uint8_t[HEAD]){'E', 'G', 'C', 'J', 1, 0, 0, 0}, HEAD);
    size_t first = d->n < d->cap ? 0 : d->at;
    for (size_t i = 0; i < d->n; i++)
        encode(buf + HEAD + i * REC, d->ring[(first + i) % d->cap]);
    int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write_all(fd, buf, len) == 0 && fsync(fd) == 0;
    free(buf);
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(d->tmp, d->path) != 0)
        return io_error(err, "cannot rewrite", d->tmp);
    int dfd = open(d->dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    int nfd = open(d->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (nfd < 0)
        return io_error(err, "cannot reopen", d->path);
    close(d->fd);
    d->fd = nfd;
    d->records = d->n;
    return EG_OK;
}

eg_status eg_cdone_note(eg_cdone *d, const eg_cdone_id *ids, size_t n,
                        eg_error *err)
{
    for (size_t i = 0; i < n; i++)
        remember(d, ids[i]);
    if (d->fd < 0 || n == 0)
        return EG_OK;
    if (d->npend + n > d->cappend) {
        size_t cap = d->cappend ? d->cappend : 64;
        while (cap < d->npend + n)
            cap *= 2;
        uint8_t *p = realloc(d->pend, cap * REC);
        if (!p)
            return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
        d->pend = p;
        d->cappend = cap;
    }
    for (size_t i = 0; i < n; i++)
        encode(d->pend + (d->npend + i) * REC, ids[i]);
    d->npend += n;
    return EG_OK;
}

eg_status eg_cdone_commit(eg_cdone *d, eg_error *err)
{
    if (d->fd < 0 || d->npend == 0)
        return EG_OK;
    size_t n = d->npend;
    d->npend = 0;
    if (write_all(d->fd, d->pend, n * REC) != 0 || fdatasync(d->fd) != 0)
        return io_error(err, "cannot write", d->path);
    d->records += n;
    if (d->records > 2 * d->cap)
        return compact(d, err);
    return EG_OK;
}

eg_status eg_cdone_add(eg_cdone *d, const eg_cdone_id *ids, size_t n,
                       eg_error *err)
{
    eg_status st = eg_cdone_note(d, ids, n, err);
    return st != EG_OK ? st : eg_cdone_commit(d, err);
}

size_t eg_cdone_loaded(const eg_cdone *d)
{
    return d->loaded;
}
