/* struct_perm.c - --by's copy of the input in group order: every slice of
 * rows scattered at once by its own thread, each row to the place its
 * slot's position in that slice says (eg_struct_group), so the copy is the
 * same whatever the number of slices. */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_HUGEPAGE, MADV_POPULATE_WRITE */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "structured.h"

/* Rows whose slots are computed at once. */
#define SLOT_BLOCK EG_STRUCT_KEY_BLOCK

/* Bytes of rows read at once from a file too large to hold twice
 * (eg_source_open_rows): large enough that a pread's cost is lost in the
 * copy, small enough to stay in L2 while it is scattered. */
#define PERMUTE_READ_BYTES (1u << 20)

/* The copy is asked for in huge pages (2 MiB; advice, where the kernel
 * has them) and its pages brought in before the scatter, a part per slice
 * at once (MADV_POPULATE_WRITE): the scatter writes to a place per group
 * anywhere in the copy, and with 4 KiB pages nearly every row would miss
 * the TLB once there are thousands of groups, and a page fault each, one
 * at a time, costs more than the scatter itself (measured: bench/README.md,
 * --by).  Without the advice the writes fault the pages in. */
#define POPULATE_MIN_BYTES (4u << 20)
#define HUGE_PAGE (2u << 20)

typedef struct populate_job {
    unsigned char *buf;
    size_t bytes;
    unsigned parts;
} populate_job;

static void populate_part(void *ctx, unsigned s)
{
#if defined(MADV_POPULATE_WRITE)
    populate_job *j = ctx;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = (uintptr_t)j->buf, e = b + j->bytes;
    uintptr_t lo = b + j->bytes * s / j->parts,
              hi = b + j->bytes * (s + 1) / j->parts;
    lo = (lo + page - 1) & ~(page - 1); /* whole pages inside the buffer */
    hi = hi == e ? hi & ~(page - 1) : (hi + page - 1) & ~(page - 1);
    if (hi > e)
        hi = e & ~(page - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)ctx;
    (void)s;
#endif
}

static void *alloc_copy(const eg_struct_plan *p, size_t bytes)
{
    if (bytes < POPULATE_MIN_BYTES)
        return malloc(bytes);
    void *m = NULL;
    if (posix_memalign(&m, HUGE_PAGE, bytes) != 0)
        return NULL;
#if defined(MADV_HUGEPAGE)
    (void)madvise(m, bytes, MADV_HUGEPAGE);
#endif
    populate_job j = {m, bytes, p->nslice};
    eg_struct_par(p->nslice, populate_part, &j);
    return m;
}

/* With more slots than lines L2 holds, a row's place is a miss to L3 or
 * memory: it is fetched this many rows ahead (its slot's position then,
 * the same line or the next but rarely). */
#define PREFETCH_SLOTS 16384
#define PREFETCH_AHEAD 32

/* n rows at `in` (row 0's first element, rows s0 elements apart), of
 * slots sl, to their places in group order: row i's element j at
 * o[j * rows + pos[sl[i]]++]. */
#define SCATTER(T, SWAP)                                                       \
    do {                                                                       \
        T *o = (T *)buf;                                                       \
        if (p->rest == 1 && !swap) { /* 1-D: the common case */                \
            const T *x = (const T *)(const void *)in + joff[0];                \
            uint64_t i = 0;                                                    \
            if (p->nslots > PREFETCH_SLOTS)                                    \
                for (; i + PREFETCH_AHEAD < n; i++) {                          \
                    __builtin_prefetch(&o[pos[sl[i + PREFETCH_AHEAD]]], 1);    \
                    o[pos[sl[i]]++] = x[i * s0];                               \
                }                                                              \
            for (; i < n; i++)                                                 \
                o[pos[sl[i]]++] = x[i * s0];                                   \
            break;                                                             \
        }                                                                      \
        for (uint64_t i = 0; i < n; i++) {                                     \
            uint64_t q = pos[sl[i]]++;                                         \
            const unsigned char *src = in + i * s0 * sizeof(T);                \
            for (uint64_t j = 0; j < p->rest; j++) {                           \
                T w;                                                           \
                memcpy(&w, src + joff[j] * sizeof(T), sizeof(T));              \
                o[j * rows + q] = swap ? SWAP(w) : w;                          \
            }                                                                  \
        }                                                                      \
    } while (0)

#define NO_SWAP(w) (w)

static void scatter(const eg_struct_plan *p, const unsigned char *in, int swap,
                    uint64_t s0, uint64_t n, const uint32_t *sl, uint32_t *pos,
                    const uint64_t *joff, void *buf)
{
    uint64_t rows = p->dim[0];
    switch (p->size) {
    case 1:
        SCATTER(uint8_t, NO_SWAP);
        break;
    case 2:
        SCATTER(uint16_t, __builtin_bswap16);
        break;
    case 4:
        SCATTER(uint32_t, __builtin_bswap32);
        break;
    default:
        SCATTER(uint64_t, __builtin_bswap64);
        break;
    }
}

typedef struct perm_job {
    const eg_struct_plan *p;
    const eg_struct_view *v;
    const eg_source *src;
    const uint64_t *joff;
    void *buf;
    eg_status st[EG_STRUCT_MAX_SLICES];
    eg_error err[EG_STRUCT_MAX_SLICES];
} perm_job;

/* A slice's buffers: its slots' next places, and a block's keys and
 * slots. */
typedef struct slice_bufs {
    uint32_t *pos, *sl;
    void *kbuf;
} slice_bufs;

/* Rows [r0, r1) of slice s at `in` (row r0's first element), in blocks. */
static eg_status scatter_rows(perm_job *j, unsigned s, const slice_bufs *b,
                              const unsigned char *in, int swap, uint64_t r0,
                              uint64_t r1)
{
    const eg_struct_plan *p = j->p;
    uint64_t s0 = j->v->base ? j->v->stride[0] : p->rest;
    for (uint64_t b0 = r0; b0 < r1; b0 += SLOT_BLOCK) {
        uint64_t bn = r1 - b0 < SLOT_BLOCK ? r1 - b0 : SLOT_BLOCK;
        eg_status st = eg_struct_slots(p, b0, bn, b->kbuf, b->sl, &j->err[s]);
        if (st != EG_OK)
            return st;
        scatter(p, in + (b0 - r0) * s0 * p->size, swap, s0, bn, b->sl, b->pos,
                j->joff, j->buf);
    }
    return EG_OK;
}

/* Slice s: in place, or (a source with no stored bytes, a file too large
 * to copy) read with pread in row ranges, a buffer of its own. */
static void perm_slice(void *ctx, unsigned s)
{
    perm_job *j = ctx;
    const eg_struct_plan *p = j->p;
    uint64_t r0 = p->slice[s], r1 = p->slice[s + 1];
    /* a C-order file: row r is elements [r * s0, (r + 1) * s0) */
    uint64_t s0 = p->rest;
    uint64_t step = PERMUTE_READ_BYTES / (s0 * p->size);
    if (step == 0)
        step = 1;
    slice_bufs b;
    b.pos = malloc((p->nslots ? p->nslots : 1) * sizeof *b.pos);
    b.sl = malloc(SLOT_BLOCK * sizeof *b.sl);
    b.kbuf = malloc(SLOT_BLOCK * sizeof(uint64_t));
    void *block = j->v->base ? NULL : malloc(step * s0 * p->size + 8);
    if (!b.pos || !b.sl || !b.kbuf || (!j->v->base && !block)) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM,
                                "--by: no memory for a block of %llu rows",
                                (unsigned long long)step);
    } else if (j->v->base != NULL) {
        memcpy(b.pos, p->soff + (uint64_t)s * p->nslots,
               p->nslots * sizeof *b.pos);
        j->st[s] =
            scatter_rows(j, s, &b, j->v->base + r0 * j->v->stride[0] * p->size,
                         j->v->swap, r0, r1);
    } else {
        memcpy(b.pos, p->soff + (uint64_t)s * p->nslots,
               p->nslots * sizeof *b.pos);
        for (uint64_t b0 = r0; b0 < r1; b0 += step) {
            uint64_t b1 = r1 - b0 < step ? r1 : b0 + step;
            const void *in = NULL;
            j->st[s] = eg_source_get_part(j->src, b0 * s0, (b1 - b0) * s0,
                                          block, &in, &j->err[s]);
            /* eg_source_get_part swapped the bytes */
            if (j->st[s] == EG_OK)
                j->st[s] = scatter_rows(j, s, &b, in, 0, b0, b1);
            if (j->st[s] != EG_OK)
                break;
        }
    }
    free(block);
    free(b.pos);
    free(b.sl);
    free(b.kbuf);
}

eg_status eg_struct_permute(const eg_struct_plan *p, const eg_struct_view *v,
                            const eg_source *src, void **out, eg_error *err)
{
    uint64_t rows = p->dim[0];
    void *buf = alloc_copy(p, rows * p->rest * p->size + 8);
    uint64_t *joff = malloc((p->rest ? p->rest : 1) * sizeof *joff);
    perm_job *j = calloc(1, sizeof *j);
    eg_status st = EG_OK;
    if (!buf || !joff || !j) {
        st = eg_error_set(err, EG_ENOMEM,
                          "--by: no memory for the rows "
                          "in group order");
    } else if (rows > 0 && p->rest > 0) {
        for (uint64_t k = 0; k < p->rest; k++)
            joff[k] = eg_struct_out_offset(p, v, k);
        *j = (perm_job){.p = p, .v = v, .src = src, .joff = joff, .buf = buf};
        eg_struct_par(p->nslice, perm_slice, j);
        /* the first slice's failure, as one pass in order would meet it */
        for (unsigned s = 0; s < p->nslice && st == EG_OK; s++)
            if (j->st[s] != EG_OK) {
                st = j->st[s];
                if (err)
                    *err = j->err[s];
            }
        if (st == EG_OK && v->base == NULL)
            st = eg_source_check(src, rows * p->rest, err);
    }
    free(j);
    free(joff);
    if (st != EG_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return EG_OK;
}
