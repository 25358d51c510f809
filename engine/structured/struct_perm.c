/* struct_perm.c - --by's copy of the input in group order: every slice of
 * rows scattered at once by its own thread, each row to the place its
 * slot's position in that slice says (eg_struct_group), so the copy is the
 * same whatever the number of slices. */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_HUGEPAGE */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"
#include "structured.h"

/* Rows whose slots are computed at once (a stack buffer). */
#define SLOT_BLOCK 4096

/* Bytes of rows read at once from a file too large to hold twice
 * (eg_source_open_rows): large enough that a pread's cost is lost in the
 * copy, small enough to stay in L2 while it is scattered. */
#define PERMUTE_READ_BYTES (1u << 20)

/* A copy this large is asked for in huge pages: the scatter writes to a
 * place per group, and 4 KiB pages would cost a TLB miss for nearly every
 * row once there are thousands of groups (and a fault per page). */
#define HUGE_BYTES (8u << 20)
#define HUGE_ALIGN (2u << 20)

static void *alloc_copy(size_t bytes)
{
    if (bytes < HUGE_BYTES)
        return malloc(bytes);
    void *m = NULL;
    if (posix_memalign(&m, HUGE_ALIGN, bytes) != 0)
        return NULL;
#if defined(MADV_HUGEPAGE)
    /* advice only: without it the copy is the same, in small pages */
    (void)madvise(m, (bytes + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN,
                  MADV_HUGEPAGE);
#endif
    return m;
}

/* n rows at `in` (row 0's first element, rows s0 elements apart), of
 * slots sl, to their places in group order: row i's element j at
 * o[j * rows + pos[sl[i]]++]. */
#define SCATTER(T, SWAP)                                                       \
    do {                                                                       \
        T *o = (T *)buf;                                                       \
        if (p->rest == 1 && !swap) { /* 1-D: the common case */                \
            const T *x = (const T *)(const void *)in + joff[0];                \
            for (uint64_t i = 0; i < n; i++)                                   \
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

static void scatter(const eg_struct_plan *p, const unsigned char *in,
                    int swap, uint64_t s0, uint64_t n, const uint32_t *sl,
                    uint32_t *pos, const uint64_t *joff, void *buf)
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

/* Rows [r0, r1) of slice s at `in` (row r0's first element), in blocks. */
static void scatter_rows(const perm_job *j, const unsigned char *in, int swap,
                         uint64_t r0, uint64_t r1, uint32_t *pos)
{
    const eg_struct_plan *p = j->p;
    uint64_t s0 = j->v->base ? j->v->stride[0] : p->rest;
    uint32_t sl[SLOT_BLOCK];
    for (uint64_t b0 = r0; b0 < r1; b0 += SLOT_BLOCK) {
        uint64_t bn = r1 - b0 < SLOT_BLOCK ? r1 - b0 : SLOT_BLOCK;
        eg_struct_slots(p, b0, bn, sl);
        scatter(p, in + (b0 - r0) * s0 * p->size, swap, s0, bn, sl, pos,
                j->joff, j->buf);
    }
}

/* Slice s: in place, or (a source with no stored bytes, a file too large
 * to copy) read with pread in row ranges, a buffer of its own. */
static void perm_slice(void *ctx, unsigned s)
{
    perm_job *j = ctx;
    const eg_struct_plan *p = j->p;
    uint64_t r0 = p->slice[s], r1 = p->slice[s + 1];
    uint32_t *pos = malloc((p->nslots ? p->nslots : 1) * sizeof *pos);
    if (!pos) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM, "--by: out of memory");
        return;
    }
    memcpy(pos, p->soff + (uint64_t)s * p->nslots, p->nslots * sizeof *pos);
    if (j->v->base != NULL) {
        scatter_rows(j, j->v->base + r0 * j->v->stride[0] * p->size,
                     j->v->swap, r0, r1, pos);
        free(pos);
        return;
    }
    /* a C-order file: row r is elements [r * s0, (r + 1) * s0) */
    uint64_t s0 = p->rest;
    uint64_t step = PERMUTE_READ_BYTES / (s0 * p->size);
    if (step == 0)
        step = 1;
    void *block = malloc(step * s0 * p->size + 8);
    if (!block) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM,
                                "--by: no memory for a block of %llu rows",
                                (unsigned long long)step);
        free(pos);
        return;
    }
    for (uint64_t b0 = r0; b0 < r1; b0 += step) {
        uint64_t b1 = r1 - b0 < step ? r1 : b0 + step;
        const void *in = NULL;
        j->st[s] = eg_source_get_part(j->src, b0 * s0, (b1 - b0) * s0, block,
                                      &in, &j->err[s]);
        if (j->st[s] != EG_OK)
            break;
        /* eg_source_get_part swapped the bytes */
        scatter_rows(j, in, 0, b0, b1, pos);
    }
    free(block);
    free(pos);
}

eg_status eg_struct_permute(const eg_struct_plan *p, const eg_struct_view *v,
                            const eg_source *src, void **out, eg_error *err)
{
    uint64_t rows = p->dim[0];
    void *buf = alloc_copy(rows * p->rest * p->size + 8);
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
