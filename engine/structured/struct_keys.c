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
    case EG_I8:                                                                \
        BODY(int8_t, SIGN_BIT);                                                \
        break;                                                                 \
    case EG_U8:                                                                \
        BODY(uint8_t, 0);                                                      \
        break;                                                                 \
    case EG_I16:                                                               \
        BODY(int16_t, SIGN_BIT);                                               \
        break;                                                                 \
    case EG_U16:                                                               \
        BODY(uint16_t, 0);                                                     \
        break;                                                                 \
    case EG_I32:                                                               \
        BODY(int32_t, SIGN_BIT);                                               \
        break;                                                                 \
    case EG_U32:                                                               \
        BODY(uint32_t, 0);                                                     \
        break;                                                                 \
    case EG_I64:                                                               \
        BODY(int64_t, SIGN_BIT);                                               \
        break;                                                                 \
    default:                                                                   \
        BODY(uint64_t, 0);                                                     \
        break;                                                                 \
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
    /* pass_table's tables: slice s counts keys [tlo, tlo + tn) */
    uint32_t *tab[EG_STRUCT_MAX_SLICES];
    uint64_t tlo[EG_STRUCT_MAX_SLICES], tn[EG_STRUCT_MAX_SLICES];
    uint64_t tab_max;
    int wide[EG_STRUCT_MAX_SLICES];
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

/* Rows of slice s's block from row b0: KEY_BLOCK but the last. */
static uint64_t block_rows(const eg_struct_plan *p, unsigned s, uint64_t b0)
{
    uint64_t end = p->slice[s + 1];
    return end - b0 < KEY_BLOCK ? end - b0 : KEY_BLOCK;
}

/* Slice s's table of counts covers keys [tlo, tlo + tn) and grows to take
 * key v: by its own size or more towards v, so that a slice grows it a few
 * times at most.  0 when it would pass tab_max entries (the keys are then
 * sorted instead: sparse_slots). */
static int table_take(group_job *j, unsigned s, uint64_t v)
{
    uint64_t lo = j->tlo[s], n = j->tn[s];
    uint64_t hi = n ? lo + n - 1 : v;
    uint64_t ext = n > 1024 ? n : 1024;
    if (n == 0)
        lo = v;
    if (v < lo)
        lo = v >= ext ? v - ext : 0;
    else if (v > hi)
        hi = UINT64_MAX - v >= ext ? v + ext : UINT64_MAX;
    else if (n == 0)
        hi = UINT64_MAX - v >= ext ? v + ext : UINT64_MAX;
    if (hi - lo >= j->tab_max)
        return 0;
    uint32_t *t = calloc(hi - lo + 1, sizeof *t);
    if (!t) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM, "--by: out of memory");
        return 0;
    }
    if (n)
        memcpy(t + (j->tlo[s] - lo), j->tab[s], n * sizeof *t);
    free(j->tab[s]);
    j->tab[s] = t;
    j->tlo[s] = lo;
    j->tn[s] = hi - lo + 1;
    return 1;
}

/* A slice counts a table of up to SUB_MAX keys in SUB_TABLES copies, row
 * r into copy r % SUB_TABLES, folded into its table when the table grows
 * and at the slice's end: with few keys the same counter comes round
 * every few rows, and one copy makes each increment wait for the last
 * one's store.  Measured alone on int32 keys (AMD EPYC, Zen 5, one core):
 * 2 keys 1.00 ns a row with one table, 0.43 with four; 10 keys 0.37 and
 * 0.33; 300 keys 0.29 both (the keys mapped into 64-bit numbers first,
 * then counted with a test a row, as before: 0.8-1.5). */
#define SUB_TABLES 4
#define SUB_MAX 4096

/* The copies' counts added into slice s's table, the copies zeroed.  They
 * count the table as it is (they are folded before it grows), when it is
 * small enough for them. */
static void sub_fold(group_job *j, unsigned s, uint32_t *sub)
{
    uint64_t n = j->tn[s] <= SUB_MAX ? j->tn[s] : 0;
    for (uint64_t e = 0; e < n; e++) {
        uint32_t c = 0;
        for (int t = 0; t < SUB_TABLES; t++) {
            c += sub[t * SUB_MAX + e];
            sub[t * SUB_MAX + e] = 0;
        }
        j->tab[s][e] += c;
    }
}

/* bn keys of slice s counted, the table grown to take them; 0 when it
 * would grow too wide (or table_take failed).  `sub` (NULL: none) holds
 * the copies. */
static int count_block(group_job *j, unsigned s, const void *keys,
                       uint64_t bn, uint32_t *sub)
{
#define COUNT_BODY(T, FLIP)                                                    \
    do {                                                                       \
        const T *k = (const T *)keys;                                          \
        uint64_t q = 0;                                                        \
        while (q < bn) {                                                       \
            const uint64_t lo = j->tlo[s], n = j->tn[s];                       \
            int split = sub != NULL && n <= SUB_MAX;                           \
            uint32_t *t0 = split ? sub : j->tab[s];                            \
            uint32_t *t1 = split ? sub + SUB_MAX : t0;                         \
            uint32_t *t2 = split ? sub + 2 * SUB_MAX : t0;                     \
            uint32_t *t3 = split ? sub + 3 * SUB_MAX : t0;                     \
            /* below lo wraps past n */                                        \
            for (; q + 4 <= bn; q += 4) {                                      \
                uint64_t d0 = MAP_U64(T, FLIP, k[q]) - lo;                     \
                uint64_t d1 = MAP_U64(T, FLIP, k[q + 1]) - lo;                 \
                uint64_t d2 = MAP_U64(T, FLIP, k[q + 2]) - lo;                 \
                uint64_t d3 = MAP_U64(T, FLIP, k[q + 3]) - lo;                 \
                if ((d0 >= n) | (d1 >= n) | (d2 >= n) | (d3 >= n))             \
                    break;                                                     \
                t0[d0]++;                                                      \
                t1[d1]++;                                                      \
                t2[d2]++;                                                      \
                t3[d3]++;                                                      \
            }                                                                  \
            /* the tail, or up to the key the table must grow for */          \
            for (; q < bn; q++) {                                              \
                uint64_t d = MAP_U64(T, FLIP, k[q]) - lo;                      \
                if (d >= n)                                                    \
                    break;                                                     \
                t0[d]++;                                                       \
            }                                                                  \
            if (q < bn) {                                                      \
                uint64_t v = MAP_U64(T, FLIP, k[q]);                           \
                if (split)                                                     \
                    sub_fold(j, s, sub);                                       \
                if (!table_take(j, s, v))                                      \
                    return 0;                                                  \
                j->tab[s][v - j->tlo[s]]++;                                    \
                q++;                                                           \
            }                                                                  \
        }                                                                      \
    } while (0)
    BY_KEY_TYPE(j->p->key_dtype, COUNT_BODY)
#undef COUNT_BODY
    return 1;
}

/* Pass 1: slice s's rows per key, in a table over the keys' range as the
 * slice meets it (no pass for the range first); j->wide[s] when the range
 * is too wide for a table.  The keys are counted as read, not first copied
 * into mapped 64-bit numbers. */
static void pass_table(void *ctx, unsigned s)
{
    group_job *j = ctx;
    slice_bufs b;
    /* without memory for the copies, one table */
    uint32_t *sub = calloc(SUB_TABLES * SUB_MAX, sizeof *sub);
    if (bufs_open(j, s, &b))
        for (uint64_t b0 = j->p->slice[s], bn; b0 < j->p->slice[s + 1];
             b0 += bn) {
            bn = block_rows(j->p, s, b0);
            const void *k = NULL;
            j->st[s] = eg_source_get_part(j->p->keys, b0, bn, b.kbuf, &k,
                                          &j->err[s]);
            if (j->st[s] != EG_OK)
                break;
            if (!count_block(j, s, k, bn, sub)) {
                j->wide[s] = j->st[s] == EG_OK;
                break;
            }
        }
    if (sub != NULL && !j->wide[s] && j->st[s] == EG_OK)
        sub_fold(j, s, sub);
    free(sub);
    bufs_close(&b);
}

/* The slices' tables as rows of soff over the keys' range [lo, hi]. */
static eg_status tables_to_slots(group_job *j, eg_error *err)
{
    eg_struct_plan *p = j->p;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned s = 0; s < p->nslice; s++) {
        uint64_t a = 0, e = j->tn[s];
        while (a < e && j->tab[s][a] == 0)
            a++;
        while (e > a && j->tab[s][e - 1] == 0)
            e--;
        if (a == e)
            continue; /* an empty slice */
        lo = j->tlo[s] + a < lo ? j->tlo[s] + a : lo;
        hi = j->tlo[s] + e - 1 > hi ? j->tlo[s] + e - 1 : hi;
    }
    p->slot_keys = 1;
    p->key_lo = lo == UINT64_MAX ? 0 : lo;
    p->nslots = lo == UINT64_MAX ? 0 : hi - lo + 1;
    p->soff = calloc(p->nslice * p->nslots + 1, sizeof *p->soff);
    if (!p->soff)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    for (unsigned s = 0; s < p->nslice && p->nslots; s++) {
        uint64_t a = j->tlo[s] > lo ? j->tlo[s] : lo;
        uint64_t e = j->tn[s] ? j->tlo[s] + j->tn[s] - 1 : 0;
        e = e < hi ? e : hi;
        for (uint64_t k = a; j->tn[s] && k <= e; k++)
            p->soff[s * p->nslots + (k - lo)] = j->tab[s][k - j->tlo[s]];
    }
    return EG_OK;
}

/* Sparse keys: each row's group, by binary search in the distinct keys. */
static void pass_gid(void *ctx, unsigned s)
{
    group_job *j = ctx;
    slice_bufs b;
    if (bufs_open(j, s, &b))
        for (uint64_t b0 = j->p->slice[s], bn; b0 < j->p->slice[s + 1];
             b0 += bn) {
            bn = block_rows(j->p, s, b0);
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
        for (uint64_t b0 = j->p->slice[s], bn; b0 < j->p->slice[s + 1];
             b0 += bn) {
            bn = block_rows(j->p, s, b0);
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
        for (uint64_t b0 = j->p->slice[s], bn; b0 < j->p->slice[s + 1];
             b0 += bn) {
            bn = block_rows(j->p, s, b0);
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
    /* A table of slots per slice while it is no larger than about the
     * keys themselves (and small ones always): else sorted keys. */
    uint64_t table_max = 2 * rows > (1u << 22) ? 2 * rows : (1u << 22);
    j->tab_max = table_max / p->nslice;
    eg_struct_par(p->nslice, pass_table, j);
    eg_status st = slices_status(j, err);
    int wide = 0;
    for (unsigned s = 0; s < p->nslice; s++)
        wide |= j->wide[s];
    if (st == EG_OK && !wide)
        st = tables_to_slots(j, err);
    for (unsigned s = 0; s < p->nslice; s++) {
        free(j->tab[s]);
        j->tab[s] = NULL;
    }
    if (st == EG_OK && wide)
        st = sparse_slots(j, rows, err);
    if (st == EG_OK && wide) {
        p->soff = calloc(p->nslice * p->nslots + 1, sizeof *p->soff);
        if (!p->soff)
            st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    if (st == EG_OK && wide) {
        eg_struct_par(p->nslice, pass_count, j);
        st = slices_status(j, err);
    }
    uint64_t *ukeys = NULL;
    if (st == EG_OK)
        st = settle_groups(j, &ukeys, err);
    p->gkeys = st == EG_OK
                   ? malloc((p->ngroups ? p->ngroups : 1) * sizeof *p->gkeys)
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
            p->gkeys[g] =
                is_signed ? (int64_t)(ukeys[g] ^ SIGN_BIT) : (int64_t)ukeys[g];
        p->nout = p->ngroups * p->rest;
        p->out_shape[0] = p->ngroups;
    }
    free(ukeys);
    free((void *)j->ukeys);
    free(j);
    return st;
}
