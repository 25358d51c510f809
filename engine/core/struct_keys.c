/* struct_keys.c - rows grouped by integer keys: the distinct keys in
 * ascending order and, per group, its rows in ascending order (a stable
 * counting sort by group id), as pandas' groupby(sort=True) orders them. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "structured.h"

/* A key as an unsigned number of the same order: signed keys flip the sign
 * bit, so that INT64_MIN maps to 0. */
static uint64_t key_at(const void *keys, eg_dtype t, uint64_t i)
{
    switch (t) {
    case EG_I8: return (uint64_t)(int64_t)((const int8_t *)keys)[i] ^ (1ull << 63);
    case EG_U8: return ((const uint8_t *)keys)[i];
    case EG_I16: return (uint64_t)(int64_t)((const int16_t *)keys)[i] ^ (1ull << 63);
    case EG_U16: return ((const uint16_t *)keys)[i];
    case EG_I32: return (uint64_t)(int64_t)((const int32_t *)keys)[i] ^ (1ull << 63);
    case EG_U32: return ((const uint32_t *)keys)[i];
    case EG_I64: return (uint64_t)((const int64_t *)keys)[i] ^ (1ull << 63);
    default: return ((const uint64_t *)keys)[i];
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Group ids in key order: a table over the key range when it is small,
 * else the sorted distinct keys and a binary search per row. */
static eg_status group_ids(const void *keys, eg_dtype t, uint64_t n,
                           uint64_t *gid, uint64_t **ukeys, uint64_t *ng,
                           eg_error *err)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = key_at(keys, t, i);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
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
        for (uint64_t i = 0; i < n; i++)
            tab[key_at(keys, t, i) - lo] = 1;
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
        for (uint64_t i = 0; i < n; i++)
            gid[i] = tab[key_at(keys, t, i) - lo];
        free(tab);
        *ukeys = u;
        *ng = g;
        return EG_OK;
    }
    uint64_t *u = malloc(n * sizeof *u);
    if (!u)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    for (uint64_t i = 0; i < n; i++)
        u[i] = key_at(keys, t, i);
    qsort(u, n, sizeof *u, cmp_u64);
    uint64_t g = 0;
    for (uint64_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[g - 1])
            u[g++] = u[i];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = key_at(keys, t, i), a = 0, b = g;
        while (b - a > 1) {
            uint64_t m = a + (b - a) / 2;
            if (u[m] <= k)
                a = m;
            else
                b = m;
        }
        gid[i] = a;
    }
    *ukeys = u;
    *ng = g;
    return EG_OK;
}

eg_status eg_struct_group(eg_struct_plan *p, const void *keys,
                          eg_dtype key_dtype, uint64_t nkeys,
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
    uint64_t *gid = malloc((rows ? rows : 1) * sizeof *gid);
    p->gid = malloc((rows ? rows : 1) * sizeof *p->gid);
    p->rows = malloc((rows ? rows : 1) * sizeof *p->rows);
    if (!gid || !p->rows || !p->gid) {
        free(gid);
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    uint64_t *ukeys = NULL, ng = 0;
    eg_status st = group_ids(keys, key_dtype, rows, gid, &ukeys, &ng, err);
    if (st != EG_OK) {
        free(gid);
        return st;
    }
    p->gstart = calloc(ng + 2, sizeof *p->gstart);
    p->gkeys = malloc((ng ? ng : 1) * sizeof *p->gkeys);
    if (!p->gstart || !p->gkeys) {
        free(gid);
        free(ukeys);
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    }
    /* Stable counting sort of the rows by group id. */
    for (uint64_t i = 0; i < rows; i++)
        p->gstart[gid[i] + 2]++;
    for (uint64_t g = 2; g < ng + 2; g++)
        p->gstart[g] += p->gstart[g - 1];
    for (uint64_t i = 0; i < rows; i++) {
        p->rows[p->gstart[gid[i] + 1]++] = i;
        p->gid[i] = (uint32_t)gid[i];
    }
    p->keys_unsigned = key_dtype == EG_U64;
    int is_signed = eg_dtype_is_signed(key_dtype);
    for (uint64_t g = 0; g < ng; g++)
        p->gkeys[g] = is_signed ? (int64_t)(ukeys[g] ^ (1ull << 63))
                                : (int64_t)ukeys[g];
    free(gid);
    free(ukeys);
    p->ngroups = ng;
    p->nout = ng * p->rest;
    p->out_shape[0] = ng;
    return EG_OK;
}

#define SCATTER(T, SWAP)                                                   \
    do {                                                                   \
        T *o = (T *)buf;                                                   \
        for (uint64_t r = 0; r < rows; r++) {                              \
            uint64_t q = pos[p->gid[r]]++;                                 \
            const unsigned char *src = v->base + r * s0 * sizeof(T);       \
            for (uint64_t j = 0; j < p->rest; j++) {                       \
                T w;                                                       \
                memcpy(&w, src + joff[j] * sizeof(T), sizeof(T));          \
                o[j * rows + q] = v->swap ? SWAP(w) : w;                   \
            }                                                              \
        }                                                                  \
    } while (0)

#define NO_SWAP(w) (w)

eg_status eg_struct_permute(const eg_struct_plan *p, const eg_struct_view *v,
                            void **out, eg_error *err)
{
    uint64_t rows = p->dim[0], s0 = v->stride[0];
    void *buf = malloc(rows * p->rest * p->size + 8);
    uint64_t *pos = malloc((p->ngroups + 1) * sizeof *pos);
    uint64_t *joff = malloc((p->rest ? p->rest : 1) * sizeof *joff);
    if (!buf || !pos || !joff) {
        free(buf);
        free(pos);
        free(joff);
        return eg_error_set(err, EG_ENOMEM, "--by: no memory for the rows "
                                            "in group order");
    }
    memcpy(pos, p->gstart, p->ngroups * sizeof *pos);
    for (uint64_t j = 0; j < p->rest; j++)
        joff[j] = eg_struct_out_offset(p, v, j);
    switch (p->size) {
    case 1: SCATTER(uint8_t, NO_SWAP); break;
    case 2: SCATTER(uint16_t, __builtin_bswap16); break;
    case 4: SCATTER(uint32_t, __builtin_bswap32); break;
    default: SCATTER(uint64_t, __builtin_bswap64); break;
    }
    free(pos);
    free(joff);
    *out = buf;
    return EG_OK;
}
