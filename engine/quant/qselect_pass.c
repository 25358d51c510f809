/* qselect_pass.c - one selection pass's counting on a block of values
 * (qselect_pass.h), and a grid task's pass over its values
 * (eg_select_pass_counts, qselect.h). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qselect_pass.h"
#include "qselect_vec.h"
#include "quant_key.h"

/* One key into every group it belongs to. */
static inline void pass_key(sel_pass *p, unsigned th, uint64_t k, unsigned w,
                            unsigned d, uint64_t mask)
{
    for (size_t j = 0; j < p->ngroups; j++) {
        sel_group *g = &p->g[j];
        if (g->fixed != 0 && (k >> (w - g->fixed)) != g->prefix)
            continue;
        if (g->collect) {
            if (g->len[th] < g->cap)
                g->keys[th][g->len[th]++] = k;
        } else {
            g->hist[th][(k >> (w - g->fixed - d)) & mask]++;
        }
    }
}

/* The loop per dtype, so the key's switch is resolved once per block. */
#define PASS_LOOP(T)                                                           \
    for (uint64_t i = 0; i < n; i++) {                                         \
        int nan;                                                               \
        uint64_t k = eg_key_of(data, i, T, &nan);                              \
        if (nan) {                                                             \
            nan_n++;                                                           \
            continue;                                                          \
        }                                                                      \
        pass_key(p, th, k, w, d, mask);                                        \
    }

void eg_select_pass_block(void *ctx, unsigned th, const void *data, uint64_t n)
{
    sel_pass *p = ctx;
    const eg_select *s = p->s;
    unsigned w = s->width, d = s->digit;
    uint64_t mask = (UINT64_C(1) << d) - 1, nan_n = 0, total = n;

    /* float data: the vector code takes the bulk, for every bucket */
    if (p->ngroups <= 16) {
        eg_select_vgroup vg[16];
        for (size_t j = 0; j < p->ngroups; j++) {
            sel_group *g = &p->g[j];
            vg[j] = (eg_select_vgroup){
                g->prefix,   g->fixed,   g->collect ? NULL : g->hist[th],
                g->keys[th], g->len[th], g->cap};
        }
        uint64_t done =
            eg_select_pass_avx512(s->dtype, data, n, vg, p->ngroups, &nan_n);
        if (done == 0)
            done = eg_select_pass_portable(s->dtype, data, n, vg, p->ngroups,
                                           &nan_n);
        for (size_t j = 0; j < p->ngroups; j++)
            p->g[j].len[th] = vg[j].len;
        data = (const char *)data + done * eg_dtype_size(s->dtype);
        n -= done;
    }
    switch (s->dtype) {
    case EG_F32:
        PASS_LOOP(EG_F32) break;
    case EG_F64:
        PASS_LOOP(EG_F64) break;
    case EG_I8:
        PASS_LOOP(EG_I8) break;
    case EG_U8:
        PASS_LOOP(EG_U8) break;
    case EG_I16:
        PASS_LOOP(EG_I16) break;
    case EG_U16:
        PASS_LOOP(EG_U16) break;
    case EG_I32:
        PASS_LOOP(EG_I32) break;
    case EG_U32:
        PASS_LOOP(EG_U32) break;
    case EG_I64:
        PASS_LOOP(EG_I64) break;
    default:
        PASS_LOOP(EG_U64) break;
    }
    p->nan[th] += nan_n;
    p->keys[th] += total - nan_n;
}

eg_status eg_select_pass_counts(const void *data, uint64_t n, eg_dtype t,
                                uint64_t prefix, unsigned fixed,
                                uint64_t *hist, uint64_t *nan, eg_error *err)
{
    unsigned w = eg_key_bits(t), d = w == 8 ? 8 : 16;
    if ((unsigned)t >= EG_DTYPE_COUNT || fixed + d > w ||
        (fixed > 0 && fixed < 64 && prefix >> fixed != 0))
        return eg_error_set(err, EG_EUSAGE,
                            "selection pass: bucket %llu/%u does not fit %s",
                            (unsigned long long)prefix, fixed,
                            eg_dtype_name(t));
    eg_select s;
    sel_pass *p = calloc(1, sizeof *p);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "selection: out of memory");
    memset(&s, 0, sizeof s);
    s.dtype = t;
    s.width = w;
    s.digit = d;
    s.threads = 1;
    p->s = &s;
    p->ngroups = 1;
    p->g[0].prefix = prefix;
    p->g[0].fixed = fixed;
    p->g[0].hist[0] = hist;
    eg_select_pass_block(p, 0, data, n);
    *nan += p->nan[0];
    free(p);
    return EG_OK;
}
