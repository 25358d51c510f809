/* struct_keys.c - rows grouped by integer keys: the distinct keys in
 * ascending order and, per group, its rows in ascending order (a stable
 * counting sort by group id), as pandas' groupby(sort=True) orders them. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "structured.h"

/* Keys as unsigned numbers of the same order: signed keys flip the sign
 * bit, so that INT64_MIN maps to 0 (map_keys). */

/* All keys mapped, in one pass per dtype. */
#define MAP_KEYS(T, FLIP)                                                      \
    do {                                                                       \
        const T *k = keys;                                                     \
        for (uint64_t i = 0; i < n; i++)                                       \
            out[i] = (uint64_t)(int64_t)k[i] ^ (FLIP);                         \
    } while (0)

static void map_keys(const void *keys, eg_dtype t, uint64_t n, uint64_t *out)
{
    const uint64_t s = 1ull << 63;
    switch (t) {
    case EG_I8:
        MAP_KEYS(int8_t, s);
        break;
    case EG_U8:
        MAP_KEYS(uint8_t, 0);
        break;
    case EG_I16:
        MAP_KEYS(int16_t, s);
        break;
    case EG_U16:
        MAP_KEYS(uint16_t, 0);
        break;
    case EG_I32:
        MAP_KEYS(int32_t, s);
        break;
    case EG_U32:
        MAP_KEYS(uint32_t, 0);
        break;
    case EG_I64:
        MAP_KEYS(int64_t, s);
        break;
    default: {
        const uint64_t *k = keys;
        for (uint64_t i = 0; i < n; i++)
            out[i] = k[i];
    }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Keys [b0, b0 + bn) mapped into mk; returns bn (0 past the end).  The
 * passes below take the keys a block at a time, with no array of them all. */
#define KEY_BLOCK 4096

static uint64_t key_block(const void *keys, eg_dtype t, uint64_t n, uint64_t b0,
                          uint64_t *mk)
{
    if (b0 >= n)
        return 0;
    uint64_t bn = n - b0 < KEY_BLOCK ? n - b0 : KEY_BLOCK;
    map_keys((const char *)keys + b0 * eg_dtype_size(t), t, bn, mk);
    return bn;
}

/* Group ids in key order: a table over the key range when it is small,
 * else the sorted distinct keys and a binary search per row. */
static eg_status group_ids(const void *keys, eg_dtype t, uint64_t n,
                           uint32_t *gid, uint64_t **ukeys, uint64_t *ng,
                           eg_error *err)
{
    uint64_t mk[KEY_BLOCK], bn;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t b0 = 0; (bn = key_block(keys, t, n, b0, mk)); b0 += bn)
        for (uint64_t q = 0; q < bn; q++) {
            lo = mk[q] < lo ? mk[q] : lo;
            hi = mk[q] > hi ? mk[q] : hi;
        }
    *ng = 0;
    *ukeys = NULL;
    if (n == 0)
        return EG_OK;
    uint64_t span = hi - lo;
    uint64_t table_max = 2 * n > (1u << 20) ? 2 * n : (1u << 20);
    if (span < table_max) {
        uint64_t *tab = calloc(span + 1, sizeof *tab);
        if (!tab)
            return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
        for (uint64_t b0 = 0; (bn = key_block(keys, t, n, b0, mk)); b0 += bn)
            for (uint64_t q = 0; q < bn; q++)
                tab[mk[q] - lo] = 1;
        uint64_t g = 0;
        for (uint64_t k = 0; k <= span; k++)
            if (tab[k])
                g++;
        uint64_t *u = malloc((g ? g : 1) * sizeof *u);
        if (!u) {
            free(tab);
            return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
        }
        g = 0;
        for (uint64_t k = 0; k <= span; k++)
            if (tab[k]) {
                u[g] = lo + k;
                tab[k] = g++;
            }
        for (uint64_t b0 = 0; (bn = key_block(keys, t, n, b0, mk)); b0 += bn)
            for (uint64_t q = 0; q < bn; q++)
                gid[b0 + q] = (uint32_t)tab[mk[q] - lo];
        free(tab);
        *ukeys = u;
        *ng = g;
        return EG_OK;
    }
    uint64_t *u = malloc(n * sizeof *u);
    if (!u)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    map_keys(keys, t, n, u);
    qsort(u, n, sizeof *u, cmp_u64);
    uint64_t g = 0;
    for (uint64_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[g - 1])
            u[g++] = u[i];
    for (uint64_t b0 = 0; (bn = key_block(keys, t, n, b0, mk)); b0 += bn)
        for (uint64_t q = 0; q < bn; q++) {
            uint64_t a = 0, b = g;
            while (b - a > 1) {
                uint64_t m = a + (b - a) / 2;
                if (u[m] <= mk[q])
                    a = m;
                else
                    b = m;
            }
            gid[b0 + q] = (uint32_t)a;
        }
    *ukeys = u;
    *ng = g;
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
    uint32_t *gid = p->gid = malloc((rows ? rows : 1) * sizeof *p->gid);
    /* Rows by group only where argmin/argmax report them. */
    if (with_rows)
        p->rows = malloc((rows ? rows : 1) * sizeof *p->rows);
    if (!p->gid || (with_rows && !p->rows))
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    uint64_t *ukeys = NULL, ng = 0;
    eg_status st = group_ids(keys, key_dtype, rows, gid, &ukeys, &ng, err);
    if (st != EG_OK)
        return st;
    p->gstart = calloc(ng + 2, sizeof *p->gstart);
    p->gkeys = malloc((ng ? ng : 1) * sizeof *p->gkeys);
    if (!p->gstart || !p->gkeys) {
        free(ukeys);
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    /* Stable counting sort of the rows by group id. */
    for (uint64_t i = 0; i < rows; i++)
        p->gstart[gid[i] + 2]++;
    for (uint64_t g = 2; g < ng + 2; g++)
        p->gstart[g] += p->gstart[g - 1];
    if (p->rows)
        for (uint64_t i = 0; i < rows; i++)
            p->rows[p->gstart[gid[i] + 1]++] = i;
    else
        for (uint64_t g = 0; g < ng; g++)
            p->gstart[g + 1] = p->gstart[g + 2];
    p->keys_unsigned = key_dtype == EG_U64;
    int is_signed = eg_dtype_is_signed(key_dtype);
    for (uint64_t g = 0; g < ng; g++)
        p->gkeys[g] =
            is_signed ? (int64_t)(ukeys[g] ^ (1ull << 63)) : (int64_t)ukeys[g];
    free(ukeys);
    p->ngroups = ng;
    p->nout = ng * p->rest;
    p->out_shape[0] = ng;
    return EG_OK;
}

/* Rows [r0, r1) of the input, at `in` (row r0's first element, rows s0
 * elements apart), to their places in group order: row r's element j at
 * o[j * rows + pos[its group]++]. */
#define SCATTER(T, SWAP)                                                       \
    do {                                                                       \
        T *o = (T *)buf;                                                       \
        if (p->rest == 1 && !swap) { /* 1-D: the common case */                \
            const T *x = (const T *)(const void *)in;                          \
            for (uint64_t r = r0; r < r1; r++)                                 \
                o[pos[p->gid[r]]++] = x[(r - r0) * s0 + joff[0]];              \
            break;                                                             \
        }                                                                      \
        for (uint64_t r = r0; r < r1; r++) {                                   \
            uint64_t q = pos[p->gid[r]]++;                                     \
            const unsigned char *src = in + (r - r0) * s0 * sizeof(T);         \
            for (uint64_t j = 0; j < p->rest; j++) {                           \
                T w;                                                           \
                memcpy(&w, src + joff[j] * sizeof(T), sizeof(T));              \
                o[j * rows + q] = swap ? SWAP(w) : w;                          \
            }                                                                  \
        }                                                                      \
    } while (0)

#define NO_SWAP(w) (w)

static void scatter(const eg_struct_plan *p, const unsigned char *in,
                    int swap, uint64_t s0, uint64_t r0, uint64_t r1,
                    uint64_t *pos, const uint64_t *joff, void *buf)
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

/* Bytes of rows read at once from a file too large to hold twice
 * (eg_source_open_rows): large enough that a pread's cost is lost in the
 * copy, small enough to stay in L2 while it is scattered. */
#define PERMUTE_READ_BYTES (1u << 20)

/* Rows of a source with no stored bytes, read in ranges with pread (a C
 * order file: row r is elements [r * s0, (r + 1) * s0)), then one check
 * that the file did not change under the reads. */
static eg_status scatter_read(const eg_struct_plan *p, const eg_source *src,
                              uint64_t *pos, const uint64_t *joff, void *buf,
                              eg_error *err)
{
    uint64_t rows = p->dim[0], s0 = p->rest;
    uint64_t step = PERMUTE_READ_BYTES / (s0 * p->size);
    if (step == 0)
        step = 1;
    void *block = malloc(step * s0 * p->size + 8);
    if (!block)
        return eg_error_set(err, EG_ENOMEM,
                            "--by: no memory for a block of %llu rows",
                            (unsigned long long)step);
    eg_status st = EG_OK;
    for (uint64_t r0 = 0; r0 < rows && st == EG_OK; r0 += step) {
        uint64_t r1 = rows - r0 < step ? rows : r0 + step;
        const void *in = NULL;
        st = eg_source_get_part(src, r0 * s0, (r1 - r0) * s0, block, &in,
                                err);
        if (st == EG_OK) /* eg_source_get_part swapped the bytes */
            scatter(p, in, 0, s0, r0, r1, pos, joff, buf);
    }
    if (st == EG_OK)
        st = eg_source_check(src, rows * s0, err);
    free(block);
    return st;
}

eg_status eg_struct_permute(const eg_struct_plan *p, const eg_struct_view *v,
                            const eg_source *src, void **out, eg_error *err)
{
    uint64_t rows = p->dim[0];
    void *buf = malloc(rows * p->rest * p->size + 8);
    uint64_t *pos = malloc((p->ngroups + 1) * sizeof *pos);
    uint64_t *joff = malloc((p->rest ? p->rest : 1) * sizeof *joff);
    eg_status st = EG_OK;
    if (!buf || !pos || !joff) {
        st = eg_error_set(err, EG_ENOMEM,
                          "--by: no memory for the rows "
                          "in group order");
    } else {
        memcpy(pos, p->gstart, p->ngroups * sizeof *pos);
        for (uint64_t j = 0; j < p->rest; j++)
            joff[j] = eg_struct_out_offset(p, v, j);
        if (v->base != NULL)
            scatter(p, v->base, v->swap, v->stride[0], 0, rows, pos, joff,
                    buf);
        else if (rows > 0 && p->rest > 0)
            st = scatter_read(p, src, pos, joff, buf, err);
    }
    free(pos);
    free(joff);
    if (st != EG_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return EG_OK;
}
