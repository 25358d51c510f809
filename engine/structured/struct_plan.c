/* struct_plan.c - the shapes of a structured reduction (numpy's axis and
 * keepdims rules), each source's strides, and gathering a segment's
 * elements into native-order runs. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "structured.h"

static eg_status set_axes(eg_struct_plan *p, const eg_struct_opts *so,
                          eg_error *err)
{
    int used[EG_MAX_DIMS] = {0};
    for (unsigned k = 0; k < so->naxes; k++) {
        int a = so->axes[k];
        int n = (int)p->ndim;
        if (a < -n || a >= n)
            return eg_error_set(err, EG_EUSAGE,
                                "--axis: axis %d is out of bounds for an "
                                "array of %u dimension%s",
                                a, p->ndim, p->ndim == 1 ? "" : "s");
        if (a < 0)
            a += n;
        if (used[a])
            return eg_error_set(err, EG_EUSAGE, "--axis: axis %d is repeated",
                                so->axes[k]);
        used[a] = 1;
    }
    p->nred = p->nkeep = 0;
    for (unsigned d = 0; d < p->ndim; d++) {
        if (used[d])
            p->red[p->nred++] = d;
        else
            p->keep[p->nkeep++] = d;
    }
    p->seg_len = 1;
    p->rest = 1;
    for (unsigned k = 0; k < p->nred; k++)
        p->seg_len *= p->dim[p->red[k]];
    for (unsigned k = 0; k < p->nkeep; k++)
        p->rest *= p->dim[p->keep[k]];
    p->out_ndim = 0;
    for (unsigned d = 0; d < p->ndim; d++) {
        if (!used[d])
            p->out_shape[p->out_ndim++] = p->dim[d];
        else if (so->keepdims)
            p->out_shape[p->out_ndim++] = 1;
    }
    p->ngroups = 1;
    p->nout = p->rest;
    return EG_OK;
}

eg_status eg_struct_plan_shape(eg_struct_plan *p, const eg_array_info *info,
                               const eg_struct_opts *so, unsigned ops,
                               eg_error *err)
{
    memset(p, 0, sizeof *p);
    p->dtype = info->dtype;
    p->size = eg_dtype_size(info->dtype);
    p->ndim = info->ndim;
    memcpy(p->dim, info->shape, sizeof p->dim);
    if (so->shape_ndim > 0) {
        if (so->shape_ndim > EG_MAX_DIMS)
            return eg_error_set(err, EG_EUSAGE,
                                "--shape: more than %d "
                                "dimensions",
                                EG_MAX_DIMS);
        uint64_t n = 1;
        for (unsigned d = 0; d < so->shape_ndim; d++)
            n *= so->shape[d];
        if (info->ndim > 1 || n != info->count)
            return eg_error_set(err, EG_EINPUT,
                                "--shape: a shape of %llu elements for an "
                                "input of %llu",
                                (unsigned long long)n,
                                (unsigned long long)info->count);
        p->ndim = so->shape_ndim;
        memcpy(p->dim, so->shape, so->shape_ndim * sizeof p->dim[0]);
    }
    if (so->naxes > EG_MAX_DIMS)
        return eg_error_set(err, EG_EUSAGE, "--axis: more than %d axes",
                            EG_MAX_DIMS);
    int by = so->keys != NULL || so->keys_path != NULL;
    if (by && so->naxes > 0)
        return eg_error_set(err, EG_EUSAGE,
                            "--by groups the rows (axis 0); "
                            "it does not take --axis");
    if (by) {
        if (p->ndim == 0)
            return eg_error_set(err, EG_EUSAGE,
                                "--by: the input is a 0-d "
                                "array, it has no rows");
        /* keepdims: axis 0 stays, as the groups' axis ([G, ...]) */
        eg_struct_opts rows = {.naxes = 1, .axes = {0}, .keepdims = 1};
        eg_status st = set_axes(p, &rows, err);
        if (st != EG_OK)
            return st;
        p->by = 1;
        return EG_OK;
    }
    if (so->naxes == 0)
        return eg_error_set(err, EG_EUSAGE,
                            "a structured reduction needs "
                            "axes or keys");
    if (so->naxes > p->ndim && p->ndim > 0)
        return eg_error_set(err, EG_EUSAGE,
                            "--axis: %u axes for an array "
                            "of %u dimensions",
                            so->naxes, p->ndim);
    eg_status st = set_axes(p, so, err);
    if (st != EG_OK)
        return st;
    unsigned args = EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX);
    if ((ops & args) && p->nred != 1)
        return eg_error_set(err, EG_EUSAGE,
                            "argmin and argmax take one axis "
                            "only, not %u",
                            p->nred);
    return EG_OK;
}

void eg_struct_plan_view(const eg_struct_plan *p, const eg_source *src,
                         eg_struct_view *v)
{
    const eg_array_info *info = eg_source_info(src);
    v->base = eg_source_stored(src);
    v->swap = info->swap;
    /* A raw or 1-D source is in C order of any shape laid over it. */
    int fortran = info->fortran_order && info->ndim > 1;
    uint64_t s = 1;
    if (fortran) {
        for (unsigned d = 0; d < p->ndim; d++) {
            v->stride[d] = s;
            s *= p->dim[d];
        }
    } else {
        for (unsigned d = p->ndim; d-- > 0;) {
            v->stride[d] = s;
            s *= p->dim[d];
        }
    }
}

void eg_struct_plan_free(eg_struct_plan *p)
{
    free(p->gstart);
    free(p->rows);
    free(p->gkeys);
    free(p->gid);
    free(p->soff);
    p->gid = NULL;
    p->soff = NULL;
    p->keys = NULL;
    p->gstart = p->rows = NULL;
    p->gkeys = NULL;
}

uint64_t eg_struct_out_offset(const eg_struct_plan *p, const eg_struct_view *v,
                              uint64_t e)
{
    uint64_t j = e % p->rest, off = 0;
    if (p->permuted)
        return j * p->dim[0] + p->gstart[e / p->rest];
    for (unsigned k = p->nkeep; k-- > 0;) {
        unsigned d = p->keep[k];
        off += (j % p->dim[d]) * v->stride[d];
        j /= p->dim[d];
    }
    return off;
}

uint64_t eg_struct_out_step(const eg_struct_plan *p, const eg_struct_view *v)
{
    if (p->by || p->permuted)
        return 0;
    /* the kept axes, in C order, step by s, s * dim, ... */
    uint64_t s = 0;
    for (unsigned k = p->nkeep; k-- > 0 && s == 0;)
        if (p->dim[p->keep[k]] > 1)
            s = v->stride[p->keep[k]];
    if (s == 0)
        return 1; /* one output */
    uint64_t want = s;
    for (unsigned k = p->nkeep; k-- > 0;) {
        unsigned d = p->keep[k];
        if (p->dim[d] > 1 && v->stride[d] != want)
            return 0;
        want *= p->dim[d];
    }
    return s;
}

int eg_struct_seg_contiguous(const eg_struct_plan *p, const eg_struct_view *v)
{
    /* Groups take rows from anywhere: contiguous once permuted. */
    if (p->permuted)
        return 1;
    /* Misaligned caller memory is gathered (memcpy) into aligned
     * buffers: the lanes load typed elements. */
    if (v->swap || p->by || (uintptr_t)v->base % p->size != 0)
        return 0;
    /* The reduced axes, in C order, must step by 1, dim, dim*dim', ... */
    uint64_t s = 1;
    for (unsigned k = p->nred; k-- > 0;) {
        unsigned d = p->red[k];
        if (p->dim[d] > 1 && v->stride[d] != s)
            return 0;
        s *= p->dim[d];
    }
    return 1;
}

/* n elements from src, `stride` apart, to dst in native order. */
/* Native-order columns of a few: the stride a constant, so that the
 * compiler turns the loop into vector loads and shuffles. */
#define STRIDED(T, S)                                                      \
    do {                                                                   \
        T *d = (T *)(void *)dst;                                           \
        for (uint64_t i = 0; i < n; i++) {                                 \
            T w;                                                           \
            memcpy(&w, src + (i * (S)) * sizeof(T), sizeof(T));            \
            d[i] = w;                                                      \
        }                                                                  \
    } while (0)

#define STRIDED_SMALL(T)                                                   \
    switch (stride) {                                                      \
    case 2: STRIDED(T, 2); return 1;                                       \
    case 3: STRIDED(T, 3); return 1;                                       \
    case 4: STRIDED(T, 4); return 1;                                       \
    case 8: STRIDED(T, 8); return 1;                                       \
    default: return 0;                                                     \
    }

static int copy_small_stride(unsigned char *dst, const unsigned char *src,
                             uint64_t n, uint64_t stride, size_t size)
{
    if (size == 4)
        STRIDED_SMALL(uint32_t)
    if (size == 8)
        STRIDED_SMALL(uint64_t)
    return 0;
}

static void copy_run(unsigned char *dst, const unsigned char *src, uint64_t n,
                     uint64_t stride, size_t size, int swap)
{
    if (stride == 1 && !swap) {
        memcpy(dst, src, n * size);
        return;
    }
    if (!swap && copy_small_stride(dst, src, n, stride, size))
        return;
    uint64_t step = stride * size;
    switch (size) {
    case 1:
        for (uint64_t i = 0; i < n; i++)
            dst[i] = src[i * step];
        return;
    case 2:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t w;
            memcpy(&w, src + i * step, 2);
            if (swap)
                w = __builtin_bswap16(w);
            memcpy(dst + 2 * i, &w, 2);
        }
        return;
    case 4:
        for (uint64_t i = 0; i < n; i++) {
            uint32_t w;
            memcpy(&w, src + i * step, 4);
            if (swap)
                w = __builtin_bswap32(w);
            memcpy(dst + 4 * i, &w, 4);
        }
        return;
    default:
        for (uint64_t i = 0; i < n; i++) {
            uint64_t w;
            memcpy(&w, src + i * step, 8);
            if (swap)
                w = __builtin_bswap64(w);
            memcpy(dst + 8 * i, &w, 8);
        }
        return;
    }
}

void eg_struct_gather(const eg_struct_plan *p, const eg_struct_view *v,
                      uint64_t e, uint64_t p0, uint64_t n, void *dst)
{
    unsigned char *out = dst;
    const unsigned char *base =
        v->base + eg_struct_out_offset(p, v, e) * p->size;
    if (p->by) {
        const uint64_t *rows = p->rows + p->gstart[e / p->rest] + p0;
        uint64_t s0 = v->stride[0];
        for (uint64_t q = 0; q < n; q++)
            copy_run(out + q * p->size, base + rows[q] * s0 * p->size, 1, 1,
                     p->size, v->swap);
        return;
    }
    if (n == 0)
        return;
    /* An odometer over the reduced axes, from position p0; the last
     * reduced axis goes in runs of one stride. */
    uint64_t idx[EG_MAX_DIMS], off = 0, pos = p0;
    for (unsigned k = p->nred; k-- > 0;) {
        unsigned d = p->red[k];
        idx[k] = pos % p->dim[d];
        pos /= p->dim[d];
        off += idx[k] * v->stride[d];
    }
    unsigned last = p->nred - 1;
    uint64_t dl = p->dim[p->red[last]], sl = v->stride[p->red[last]];
    uint64_t q = 0;
    while (q < n) {
        uint64_t run = dl - idx[last];
        if (run > n - q)
            run = n - q;
        copy_run(out + q * p->size, base + off * p->size, run, sl, p->size,
                 v->swap);
        q += run;
        off += run * sl;
        idx[last] += run;
        /* carry into the slower axes */
        for (unsigned k = last; k > 0 && idx[k] == p->dim[p->red[k]]; k--) {
            off -= idx[k] * v->stride[p->red[k]];
            idx[k] = 0;
            idx[k - 1]++;
            off += v->stride[p->red[k - 1]];
        }
    }
}

/* dst[k * ld + q] = element (q) of output off[k]'s run, for nb outputs:
 * one position at a time across the outputs, so that outputs next to each
 * other in memory (columns of a row) are read together. */
#define COPY_ACROSS(T, SWAP)                                                   \
    do {                                                                       \
        T *d = (T *)(void *)dst + q;                                           \
        for (uint64_t k = 0; k < nb; k++) {                                    \
            T w;                                                               \
            memcpy(&w, src + off[k] * sizeof(T), sizeof(T));                   \
            if (swap)                                                          \
                w = SWAP(w);                                                   \
            d[k * ld] = w;                                                     \
        }                                                                      \
    } while (0)

#define NO_SWAP(w) (w)

static void copy_across(unsigned char *dst, uint64_t ld, uint64_t q,
                        const unsigned char *src, const uint64_t *off,
                        uint64_t nb, size_t size, int swap)
{
    switch (size) {
    case 1:
        COPY_ACROSS(uint8_t, NO_SWAP);
        return;
    case 2:
        COPY_ACROSS(uint16_t, __builtin_bswap16);
        return;
    case 4:
        COPY_ACROSS(uint32_t, __builtin_bswap32);
        return;
    default:
        COPY_ACROSS(uint64_t, __builtin_bswap64);
        return;
    }
}

void eg_struct_gather_block(const eg_struct_plan *p, const eg_struct_view *v,
                            uint64_t e0, uint64_t nb, uint64_t p0, uint64_t n,
                            void *dst, uint64_t ld)
{
    uint64_t off[256];
    /* Across the outputs only where each position of one output is a cache
     * line of its own (a wide row): narrower strides read whole lines per
     * output already, and that loop is the tighter one. */
    unsigned lastd = p->nred ? p->red[p->nred - 1] : 0;
    int wide = p->nred > 0 && v->stride[lastd] * p->size >= 64;
    if (nb > 256 || p->by || n == 0 || !wide) {
        for (uint64_t k = 0; k < nb; k++)
            eg_struct_gather(p, v, e0 + k, p0, n,
                             (unsigned char *)dst + k * ld * p->size);
        return;
    }
    for (uint64_t k = 0; k < nb; k++)
        off[k] = eg_struct_out_offset(p, v, e0 + k);
    uint64_t idx[EG_MAX_DIMS], soff = 0, pos = p0;
    for (unsigned k = p->nred; k-- > 0;) {
        unsigned d = p->red[k];
        idx[k] = pos % p->dim[d];
        pos /= p->dim[d];
        soff += idx[k] * v->stride[d];
    }
    unsigned last = p->nred - 1;
    /* Rows a page or more apart defeat the hardware prefetcher, which stays
     * within a page: fetch the lines of the row 8 positions on while this
     * one is copied (where the outputs lie side by side in a row). */
    const uint64_t ahead = 8 * v->stride[p->red[last]] * p->size;
    size_t span = off[nb - 1] > off[0] && off[nb - 1] - off[0] < 4096
                      ? (size_t)(off[nb - 1] - off[0] + 1) * p->size
                      : 0;
    for (uint64_t q = 0; q < n; q++) {
        const unsigned char *row = v->base + soff * p->size;
        if (q + 8 < n)
            for (size_t b = 0; b < span; b += 64)
                __builtin_prefetch(row + ahead + off[0] * p->size + b);
        copy_across(dst, ld, q, row, off, nb, p->size, v->swap);
        soff += v->stride[p->red[last]];
        idx[last]++;
        for (unsigned k = last; k > 0 && idx[k] == p->dim[p->red[k]]; k--) {
            soff -= idx[k] * v->stride[p->red[k]];
            idx[k] = 0;
            idx[k - 1]++;
            soff += v->stride[p->red[k - 1]];
        }
    }
}
