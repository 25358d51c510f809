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

/* Rows whose slots a pass takes at once (a stack buffer each). */
#define KEY_BLOCK 4096
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

/* Keys [r0, r0 + n) mapped into out. */
static void map_keys(const void *keys, eg_dtype t, uint64_t r0, uint64_t n,
                     uint64_t *out)
{
#define MAP_BODY(T, FLIP)                                                      \
    do {                                                                       \
        const T *k = (const T *)keys + r0;                                     \
        for (uint64_t i = 0; i < n; i++)                                       \
            out[i] = MAP_U64(T, FLIP, k[i]);                                   \
    } while (0)
    BY_KEY_TYPE(t, MAP_BODY)
#undef MAP_BODY
}

void eg_struct_slots(const eg_struct_plan *p, uint64_t r0, uint64_t n,
                     uint32_t *out)
{
    if (!p->slot_keys) {
        memcpy(out, p->gid + r0, n * sizeof *out);
        return;
    }
    const uint64_t lo = p->key_lo;
#define SLOT_BODY(T, FLIP)                                                     \
    do {                                                                       \
        const T *k = (const T *)p->keys + r0;                                  \
        for (uint64_t i = 0; i < n; i++)                                       \
            out[i] = (uint32_t)(MAP_U64(T, FLIP, k[i]) - lo);                  \
    } while (0)
    BY_KEY_TYPE(p->key_dtype, SLOT_BODY)
#undef SLOT_BODY
}

/* What the passes over the slices share. */
typedef struct group_job {
    eg_struct_plan *p;
    const void *keys;
    eg_dtype dt;
    uint64_t lo[EG_STRUCT_MAX_SLICES], hi[EG_STRUCT_MAX_SLICES];
    const uint64_t *ukeys; /* sparse keys: the distinct ones, sorted */
    uint64_t ng;
    int failed[EG_STRUCT_MAX_SLICES]; /* out of memory */
} group_job;

static void slice_range(const group_job *j, unsigned s, uint64_t *r0,
                        uint64_t *r1)
{
    *r0 = j->p->slice[s];
    *r1 = j->p->slice[s + 1];
}

/* Pass 1: each slice's smallest and largest mapped key. */
static void pass_range(void *ctx, unsigned s)
{
    group_job *j = ctx;
    uint64_t r0, r1, lo = UINT64_MAX, hi = 0;
    slice_range(j, s, &r0, &r1);
#define RANGE_BODY(T, FLIP)                                                    \
    do {                                                                       \
        const T *k = (const T *)j->keys;                                       \
        for (uint64_t r = r0; r < r1; r++) {                                   \
            uint64_t v = MAP_U64(T, FLIP, k[r]);                               \
            lo = v < lo ? v : lo;                                              \
            hi = v > hi ? v : hi;                                              \
        }                                                                      \
    } while (0)
    BY_KEY_TYPE(j->dt, RANGE_BODY)
#undef RANGE_BODY
    j->lo[s] = lo;
    j->hi[s] = hi;
}

/* Sparse keys: each row's group, by binary search in the distinct keys. */
static void pass_gid(void *ctx, unsigned s)
{
    group_job *j = ctx;
    uint64_t r0, r1, mk[KEY_BLOCK];
    slice_range(j, s, &r0, &r1);
    for (uint64_t b0 = r0; b0 < r1; b0 += KEY_BLOCK) {
        uint64_t bn = r1 - b0 < KEY_BLOCK ? r1 - b0 : KEY_BLOCK;
        map_keys(j->keys, j->dt, b0, bn, mk);
        for (uint64_t q = 0; q < bn; q++) {
            uint64_t a = 0, b = j->ng;
            while (b - a > 1) {
                uint64_t m = a + (b - a) / 2;
                if (j->ukeys[m] <= mk[q])
                    a = m;
                else
                    b = m;
            }
            j->p->gid[b0 + q] = (uint32_t)a;
        }
    }
}

/* Pass 2: slice s's rows per slot, into its row of soff. */
static void pass_count(void *ctx, unsigned s)
{
    group_job *j = ctx;
    eg_struct_plan *p = j->p;
    uint32_t *cnt = p->soff + (uint64_t)s * p->nslots, sl[KEY_BLOCK];
    uint64_t r0, r1;
    slice_range(j, s, &r0, &r1);
    for (uint64_t b0 = r0; b0 < r1; b0 += KEY_BLOCK) {
        uint64_t bn = r1 - b0 < KEY_BLOCK ? r1 - b0 : KEY_BLOCK;
        eg_struct_slots(p, b0, bn, sl);
        for (uint64_t q = 0; q < bn; q++)
            cnt[sl[q]]++;
    }
}

/* argmin/argmax: each group's rows, ascending, in the places the
 * permutations put their elements. */
static void pass_rows(void *ctx, unsigned s)
{
    group_job *j = ctx;
    eg_struct_plan *p = j->p;
    uint32_t *pos = malloc((p->nslots ? p->nslots : 1) * sizeof *pos);
    uint32_t sl[KEY_BLOCK];
    if (!pos) {
        j->failed[s] = 1;
        return;
    }
    memcpy(pos, p->soff + (uint64_t)s * p->nslots, p->nslots * sizeof *pos);
    uint64_t r0, r1;
    slice_range(j, s, &r0, &r1);
    for (uint64_t b0 = r0; b0 < r1; b0 += KEY_BLOCK) {
        uint64_t bn = r1 - b0 < KEY_BLOCK ? r1 - b0 : KEY_BLOCK;
        eg_struct_slots(p, b0, bn, sl);
        for (uint64_t q = 0; q < bn; q++)
            p->rows[pos[sl[q]]++] = b0 + q;
    }
    free(pos);
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
    p->gid = malloc(rows * sizeof *p->gid);
    if (!u || !p->gid) {
        free(u);
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    map_keys(j->keys, j->dt, 0, rows, u);
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
    return EG_OK;
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

eg_status eg_struct_group(eg_struct_plan *p, const void *keys,
                          eg_dtype key_dtype, uint64_t nkeys, int with_rows,
                          const char *name, eg_error *err)
{
    if (eg_dtype_is_float(key_dtype))
        return eg_error_set(err, EG_EINPUT,
                            "--by %s: keys must be integers, not %s", name,
                            eg_dtype_numpy_name(key_dtype));
    uint64_t rows = p->dim[0];
    if (rows > UINT32_MAX)
        return eg_error_set(err, EG_EINPUT, "--by %s: more than 2^32 rows",
                            name);
    if (nkeys != rows)
        return eg_error_set(err, EG_EINPUT,
                            "--by %s: %llu keys for %llu rows (axis 0 of the "
                            "input)",
                            name, (unsigned long long)nkeys,
                            (unsigned long long)rows);
    group_job *j = calloc(1, sizeof *j);
    if (!j)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    j->p = p;
    j->keys = keys;
    j->dt = key_dtype;
    p->keys = keys;
    p->key_dtype = key_dtype;
    p->nslice = eg_struct_threads(rows);
    for (unsigned s = 0; s <= p->nslice; s++)
        p->slice[s] = rows * s / p->nslice;
    eg_struct_par(p->nslice, pass_range, j);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned s = 0; s < p->nslice; s++) {
        lo = j->lo[s] < lo ? j->lo[s] : lo;
        hi = j->hi[s] > hi ? j->hi[s] : hi;
    }
    /* A table of slots per slice while it is no larger than about the
     * keys themselves (and small ones always): else sorted keys. */
    uint64_t table_max = 2 * rows > (1u << 22) ? 2 * rows : (1u << 22);
    eg_status st = EG_OK;
    if (rows == 0) {
        p->slot_keys = 1;
        p->nslots = 0;
    } else if (hi - lo < table_max / p->nslice) {
        p->slot_keys = 1;
        p->key_lo = lo;
        p->nslots = hi - lo + 1;
    } else {
        st = sparse_slots(j, rows, err);
    }
    if (st == EG_OK) {
        p->soff = calloc(p->nslice * p->nslots + 1, sizeof *p->soff);
        if (!p->soff)
            st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    if (st == EG_OK)
        eg_struct_par(p->nslice, pass_count, j);
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
        if (!p->rows)
            st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
        else
            eg_struct_par(p->nslice, pass_rows, j);
        for (unsigned s = 0; s < p->nslice && st == EG_OK; s++)
            if (j->failed[s])
                st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
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
