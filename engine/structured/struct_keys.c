/* struct_keys.c - rows grouped by integer keys: the distinct keys in
 * ascending order and, per group, its rows in ascending order, as pandas'
 * groupby(sort=True) orders them.  A stable counting sort by slot, cut
 * into slices of rows that the threads count at once: slice s's rows of a
 * group go after those of slices before it, so the order is the rows'
 * whatever the number of slices. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "structured.h"

/* Rows whose keys a pass reads at once: a file of keys is read with
 * pread block by block into a buffer that stays in L2, never copied whole
 * into fresh memory (whose page faults cost more than the passes). */
#define KEY_BLOCK EG_STRUCT_KEY_BLOCK
#define SIGN_BIT (1ull << 63)

/* Keys as unsigned numbers of the same order: signed keys flip the sign
 * bit, so that INT64_MIN maps to 0.  T: the key type, FLIP: the bit. */
#define MAPPED(T, FLIP, v) ((uint64_t)(int64_t)(v) ^ (FLIP))

/* Calls BODY(T, FLIP) with the key dtype's type; uint64 keys map as they
 * are (no conversion through int64_t). */
#define BY_KEY_TYPE(t, BODY)                                                   \
    switch (t) {                                                               \
    case EG_I8: BODY(int8_t, SIGN_BIT); break;                                 \
    case EG_U8: BODY(uint8_t, 0); break;                                       \
    case EG_I16: BODY(int16_t, SIGN_BIT); break;                               \
    case EG_U16: BODY(uint16_t, 0); break;                                     \
    case EG_I32: BODY(int32_t, SIGN_BIT); break;                               \
    case EG_U32: BODY(uint32_t, 0); break;                                     \
    case EG_I64: BODY(int64_t, SIGN_BIT); break;                               \
    default: BODY(uint64_t, 0); break;                                         \
    }

#define MAP_U64(T, FLIP, v) ((FLIP) ? MAPPED(T, FLIP, v) : (uint64_t)(v))

/* n keys at `keys` mapped into out. */
static void map_keys(const void *keys, eg_dtype t, uint64_t n, uint64_t *out)
{
#define MAP_BODY(T, FLIP)                                                      \
    do {                                                                       \
        const T *k = (const T *)keys;                                          \
        for (uint64_t i = 0; i < n; i++)                                       \
            out[i] = MAP_U64(T, FLIP, k[i]);                                   \
    } while (0)
    BY_KEY_TYPE(t, MAP_BODY)
#undef MAP_BODY
}

eg_status eg_struct_slots(const eg_struct_plan *p, uint64_t r0, uint64_t n,
                          void *kbuf, uint32_t *out, eg_error *err)
{
    if (!p->slot_keys) {
        memcpy(out, p->gid + r0, n * sizeof *out);
        return EG_OK;
    }
    const void *keys = NULL;
    eg_status st = eg_source_get_part(p->keys, r0, n, kbuf, &keys, err);
    if (st != EG_OK)
        return st;
    const uint64_t lo = p->key_lo;
#define SLOT_BODY(T, FLIP)                                                     \
    do {                                                                       \
        const T *k = keys;                                                     \
        for (uint64_t i = 0; i < n; i++)                                       \
            out[i] = (uint32_t)(MAP_U64(T, FLIP, k[i]) - lo);                  \
    } while (0)
    BY_KEY_TYPE(p->key_dtype, SLOT_BODY)
#undef SLOT_BODY
    return EG_OK;
}

/* What the passes over the slices share. */
typedef struct group_job {
    eg_struct_plan *p;
    uint64_t lo[EG_STRUCT_MAX_SLICES], hi[EG_STRUCT_MAX_SLICES];
    const uint64_t *ukeys; /* sparse keys: the distinct ones, sorted */
    uint64_t ng;
    eg_status st[EG_STRUCT_MAX_SLICES]; /* each slice's first failure */
    eg_error err[EG_STRUCT_MAX_SLICES];
} group_job;

/* A slice's buffers: the keys of a block as read, and their slots. */
typedef struct slice_bufs {
    void *kbuf;
    uint32_t *sl;
    uint64_t *mk;
} slice_bufs;

static int bufs_open(group_job *j, unsigned s, slice_bufs *b)
{
    b->kbuf = malloc(KEY_BLOCK * sizeof(uint64_t));
    b->sl = malloc(KEY_BLOCK * sizeof *b->sl);
    b->mk = malloc(KEY_BLOCK * sizeof *b->mk);
    if (b->kbuf && b->sl && b->mk)
        return 1;
    j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM, "--by: out of memory");
    return 0;
}

static void bufs_close(slice_bufs *b)
{
    free(b->kbuf);
    free(b->sl);
    free(b->mk);
}

/* Keys [b0, b0 + bn) of slice s mapped into b->mk; 0 when the read
 * failed (recorded as the slice's failure). */
static int mapped_block(group_job *j, unsigned s, slice_bufs *b, uint64_t b0,
                        uint64_t bn)
{
    const void *k = NULL;
    j->st[s] = eg_source_get_part(j->p->keys, b0, bn, b->kbuf, &k, &j->err[s]);
    if (j->st[s] != EG_OK)
        return 0;
    map_keys(k, j->p->key_dtype, bn, b->mk);
    return 1;
}

#define FOR_BLOCKS(j, s, b0, bn)                                               \
    for (uint64_t b0 = (j)->p->slice[s], bn;                                   \
         b0 < (j)->p->slice[(s) + 1] &&                                        \
         (bn = (j)->p->slice[(s) + 1] - b0 < KEY_BLOCK                         \
                   ? (j)->p->slice[(s) + 1] - b0                               \
                   : KEY_BLOCK,                                                \
         1);                                                                   \
         b0 += bn)

/* Pass 1: each slice's smallest and largest mapped key. */
static void pass_range(void *ctx, unsigned s)
{
    group_job *j = ctx;
    uint64_t lo = UINT64_MAX, hi = 0;
    slice_bufs b;
    if (bufs_open(j, s, &b))
        FOR_BLOCKS(j, s, b0, bn) {
            if (!mapped_block(j, s, &b, b0, bn))
                break;
            for (uint64_t q = 0; q < bn; q++) {
                lo = b.mk[q] < lo ? b.mk[q] : lo;
                hi = b.mk[q] > hi ? b.mk[q] : hi;
            }
        }
    bufs_close(&b);
    j->lo[s] = lo;
    j->hi[s] = hi;
}

/* Sparse keys: each row's group, by binary search in the distinct keys. */
static void pass_gid(void *ctx, unsigned s)
{
    group_job *j = ctx;
    slice_bufs b;
    if (bufs_open(j, s, &b))
        FOR_BLOCKS(j, s, b0, bn) {
            if (!mapped_block(j, s, &b, b0, bn))
                break;
            for (uint64_t q = 0; q < bn; q++) {
                uint64_t a = 0, e = j->ng;
                while (e - a > 1) {
                    uint64_t m = a + (e - a) / 2;
                    if (j->ukeys[m] <= b.mk[q])
                        a = m;
                    else
                        e = m;
                }
                j->p->gid[b0 + q] = (uint32_t)a;
            }
        }
    bufs_close(&b);
}

/* Pass 2: slice s's rows per slot, into its row of soff. */
static void pass_count(void *ctx, unsigned s)
{
    group_job *j = ctx;
    eg_struct_plan *p = j->p;
    uint32_t *cnt = p->soff + (uint64_t)s * p->nslots;
    slice_bufs b;
    if (bufs_open(j, s, &b))
        FOR_BLOCKS(j, s, b0, bn) {
            j->st[s] = eg_struct_slots(p, b0, bn, b.kbuf, b.sl, &j->err[s]);
            if (j->st[s] != EG_OK)
                break;
            for (uint64_t q = 0; q < bn; q++)
                cnt[b.sl[q]]++;
        }
    bufs_close(&b);
}

/* argmin/argmax: each group's rows, ascending, in the places the
 * permutations put their elements. */
static void pass_rows(void *ctx, unsigned s)
{
    group_job *j = ctx;
    eg_struct_plan *p = j->p;
    uint32_t *pos = malloc((p->nslots ? p->nslots : 1) * sizeof *pos);
    slice_bufs b;
    if (!pos) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM, "--by: out of memory");
        return;
    }
    memcpy(pos, p->soff + (uint64_t)s * p->nslots, p->nslots * sizeof *pos);
    if (bufs_open(j, s, &b))
        FOR_BLOCKS(j, s, b0, bn) {
            j->st[s] = eg_struct_slots(p, b0, bn, b.kbuf, b.sl, &j->err[s]);
            if (j->st[s] != EG_OK)
                break;
            for (uint64_t q = 0; q < bn; q++)
                p->rows[pos[b.sl[q]]++] = b0 + q;
        }
    bufs_close(&b);
    free(pos);
}

/* The first failure of the slices, in row order: that of one pass. */
static eg_status slices_status(const group_job *j, eg_error *err)
{
    for (unsigned s = 0; s < j->p->nslice; s++)
        if (j->st[s] != EG_OK) {
            if (err)
                *err = j->err[s];
            return j->st[s];
        }
    return EG_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Keys spread too widely for a table of slots: the distinct keys sorted,
 * and every row's group found among them (its slot). */
static eg_status sparse_slots(group_job *j, uint64_t rows, eg_error *err)
{
    eg_struct_plan *p = j->p;
    uint64_t *u = malloc(rows * sizeof *u);
    void *kbuf = malloc(KEY_BLOCK * sizeof(uint64_t));
    p->gid = malloc(rows * sizeof *p->gid);
    eg_status st = EG_OK;
    if (!u || !kbuf || !p->gid)
        st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    for (uint64_t b0 = 0; b0 < rows && st == EG_OK; b0 += KEY_BLOCK) {
        uint64_t bn = rows - b0 < KEY_BLOCK ? rows - b0 : KEY_BLOCK;
        const void *k = NULL;
        st = eg_source_get_part(p->keys, b0, bn, kbuf, &k, err);
        if (st == EG_OK)
            map_keys(k, p->key_dtype, bn, u + b0);
    }
    free(kbuf);
    if (st != EG_OK) {
        free(u);
        return st;
    }
    qsort(u, rows, sizeof *u, cmp_u64);
    uint64_t g = 0;
    for (uint64_t i = 0; i < rows; i++)
        if (i == 0 || u[i] != u[g - 1])
            u[g++] = u[i];
    j->ukeys = u;
    j->ng = g;
    eg_struct_par(p->nslice, pass_gid, j);
    p->slot_keys = 0;
    p->nslots = g;
    return slices_status(j, err);
}

/* The counts of every slice per slot become where each slice's rows of it
 * start; the non-empty slots are the groups, in slot (key) order. */
static eg_status settle_groups(group_job *j, uint64_t **ukeys, eg_error *err)
{
    eg_struct_plan *p = j->p;
    uint64_t ns = p->nslots, ng = 0;
    for (uint64_t k = 0; k < ns; k++) {
        uint64_t tot = 0;
        for (unsigned s = 0; s < p->nslice; s++)
            tot += p->soff[s * ns + k];
        ng += tot > 0;
    }
    p->gstart = calloc(ng + 2, sizeof *p->gstart);
    uint64_t *u = malloc((ng ? ng : 1) * sizeof *u);
    if (!p->gstart || !u) {
        free(u);
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    uint64_t g = 0, at = 0;
    for (uint64_t k = 0; k < ns; k++) {
        uint64_t tot = 0;
        for (unsigned s = 0; s < p->nslice; s++) {
            uint32_t c = p->soff[s * ns + k];
            p->soff[s * ns + k] = (uint32_t)(at + tot);
            tot += c;
        }
        if (tot == 0)
            continue;
        u[g] = p->slot_keys ? p->key_lo + k : j->ukeys[k];
        p->gstart[g++] = at;
        at += tot;
    }
    p->gstart[g] = at;
    p->ngroups = ng;
    *ukeys = u;
    return EG_OK;
}

eg_status eg_struct_group(eg_struct_plan *p, const eg_source *keys,
                          int with_rows, const char *name, eg_error *err)
{
    const eg_array_info *ki = eg_source_info(keys);
    eg_dtype key_dtype = ki->dtype;
    if (eg_dtype_is_float(key_dtype))
        return eg_error_set(err, EG_EINPUT,
                            "--by %s: keys must be integers, not %s", name,
                            eg_dtype_numpy_name(key_dtype));
    uint64_t rows = p->dim[0];
    if (rows > UINT32_MAX)
        return eg_error_set(err, EG_EINPUT, "--by %s: more than 2^32 rows",
                            name);
    if (ki->count != rows)
        return eg_error_set(err, EG_EINPUT,
                            "--by %s: %llu keys for %llu rows (axis 0 of the "
                            "input)",
                            name, (unsigned long long)ki->count,
                            (unsigned long long)rows);
    group_job *j = calloc(1, sizeof *j);
    if (!j)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    j->p = p;
    p->keys = keys;
    p->key_dtype = key_dtype;
    p->nslice = eg_struct_threads(rows);
    for (unsigned s = 0; s <= p->nslice; s++)
        p->slice[s] = rows * s / p->nslice;
    eg_struct_par(p->nslice, pass_range, j);
    eg_status st = slices_status(j, err);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned s = 0; s < p->nslice; s++) {
        lo = j->lo[s] < lo ? j->lo[s] : lo;
        hi = j->hi[s] > hi ? j->hi[s] : hi;
    }
    /* A table of slots per slice while it is no larger than about the
     * keys themselves (and small ones always): else sorted keys. */
    uint64_t table_max = 2 * rows > (1u << 22) ? 2 * rows : (1u << 22);
    if (st == EG_OK && rows == 0) {
        p->slot_keys = 1;
        p->nslots = 0;
    } else if (st == EG_OK && hi - lo < table_max / p->nslice) {
        p->slot_keys = 1;
        p->key_lo = lo;
        p->nslots = hi - lo + 1;
    } else if (st == EG_OK) {
        st = sparse_slots(j, rows, err);
    }
    if (st == EG_OK) {
        p->soff = calloc(p->nslice * p->nslots + 1, sizeof *p->soff);
        if (!p->soff)
            st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    if (st == EG_OK) {
        eg_struct_par(p->nslice, pass_count, j);
        st = slices_status(j, err);
    }
    uint64_t *ukeys = NULL;
    if (st == EG_OK)
        st = settle_groups(j, &ukeys, err);
    p->gkeys = st == EG_OK ? malloc((p->ngroups ? p->ngroups : 1) *
                                    sizeof *p->gkeys)
                           : NULL;
    if (st == EG_OK && !p->gkeys)
        st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    /* Rows by group only where argmin/argmax report them. */
    if (st == EG_OK && with_rows) {
        p->rows = malloc((rows ? rows : 1) * sizeof *p->rows);
        if (!p->rows) {
            st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
        } else {
            eg_struct_par(p->nslice, pass_rows, j);
            st = slices_status(j, err);
        }
    }
    if (st == EG_OK) {
        p->keys_unsigned = key_dtype == EG_U64;
        int is_signed = eg_dtype_is_signed(key_dtype);
        for (uint64_t g = 0; g < p->ngroups; g++)
            p->gkeys[g] = is_signed ? (int64_t)(ukeys[g] ^ SIGN_BIT)
                                    : (int64_t)ukeys[g];
        p->nout = p->ngroups * p->rest;
        p->out_shape[0] = p->ngroups;
    }
    free(ukeys);
    free((void *)j->ukeys);
    free(j);
    return st;
}
