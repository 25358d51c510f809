/* struct_qseg.c - one short segment's quantile ops (struct_qseg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quant_key.h"
#include "quant_numpy.h"
#include "sketch.h"
#include "struct_qseg.h"

eg_status eg_qseg_init(eg_qseg *w, const eg_quant_opts *qo, eg_dtype t,
                       const eg_hist_plan *shared, uint64_t cap,
                       eg_error *err)
{
    cap = cap == 0 ? 1 : cap > EG_QSEG_MAX ? EG_QSEG_MAX : cap;
    memset(w, 0, sizeof *w);
    w->qo = qo;
    w->dtype = t;
    w->shared = shared;
    if (qo->qops & EG_QOP_APPROX) {
        eg_status st = eg_sketch_k_for(qo->rel_err, &w->k, err);
        if (st != EG_OK)
            return st;
    }
    w->keys = malloc(cap * sizeof *w->keys);
    w->tmp = malloc(cap * sizeof *w->tmp);
    if (!w->keys || !w->tmp)
        return eg_error_set(err, EG_ENOMEM, "quantile: out of memory");
    if (!(qo->qops & EG_QOP_HIST))
        return EG_OK;
    w->edges = malloc(((size_t)qo->bins + 1) * sizeof *w->edges);
    if (!w->edges)
        return eg_error_set(err, EG_ENOMEM, "hist: out of memory");
    return eg_hist_state_init(&w->h, qo->bins, err);
}

void eg_qseg_free(eg_qseg *w)
{
    free(w->keys);
    free(w->tmp);
    free(w->edges);
    eg_hist_state_free(&w->h);
    memset(w, 0, sizeof *w);
}

/* Below this many keys a comparison sort wins; above, a radix sort. */
#define QSEG_RADIX_MIN 256

static void insertion_sort(uint64_t *k, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        uint64_t v = k[i], j = i;
        for (; j > 0 && k[j - 1] > v; j--)
            k[j] = k[j - 1];
        k[j] = v;
    }
}

/* Quicksort on the keys themselves (no comparison callback), median of
 * three, insertion sort below 16; n < QSEG_RADIX_MIN keeps the recursion
 * shallow. */
static void small_sort(uint64_t *k, uint64_t n)
{
    while (n > 16) {
        uint64_t a = k[0], b = k[n / 2], c = k[n - 1];
        uint64_t pivot = a < b ? (b < c ? b : (a < c ? c : a))
                               : (a < c ? a : (b < c ? c : b));
        uint64_t i = 0, j = n - 1;
        for (;;) {
            while (k[i] < pivot)
                i++;
            while (k[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint64_t t = k[i];
            k[i++] = k[j];
            k[j--] = t;
        }
        /* [0, j] <= pivot <= [j + 1, n): the smaller side recursively */
        uint64_t left = j + 1;
        if (left < n - left) {
            small_sort(k, left);
            k += left;
            n -= left;
        } else {
            small_sort(k + left, n - left);
            n = left;
        }
    }
    insertion_sort(k, n);
}

/* Sorts n keys of `bits` bits: least significant byte first, a stable
 * counting pass per byte through tmp, skipping bytes all keys share.
 * The sorted keys end in k. */
static void sort_keys(uint64_t *k, uint64_t *tmp, uint64_t n, unsigned bits)
{
    if (n < QSEG_RADIX_MIN) {
        small_sort(k, n);
        return;
    }
    uint64_t *src = k, *dst = tmp;
    for (unsigned sh = 0; sh < bits; sh += 8) {
        uint64_t count[256] = {0};
        for (uint64_t i = 0; i < n; i++)
            count[(src[i] >> sh) & 0xff]++;
        if (count[(src[0] >> sh) & 0xff] == n)
            continue; /* one value of this byte: nothing moves */
        uint64_t at = 0;
        for (unsigned d = 0; d < 256; d++) {
            uint64_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (uint64_t i = 0; i < n; i++)
            dst[count[(src[i] >> sh) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != k)
        memcpy(k, src, n * sizeof *k);
}

static eg_number nan_number(void)
{
    eg_number n = {.kind = EG_NUM_F64};
    n.v.f = NAN;
    return n;
}

/* quantile and median from the sorted keys, as quant.c's run_exact reads
 * the ranks the selection found. */
static void exact(const eg_qseg *w, uint64_t n, uint64_t nan,
                  eg_quant_result *r)
{
    const eg_quant_opts *o = w->qo;
    eg_dtype t = w->dtype;
    const uint64_t *k = w->keys;
    if (n == 0 || (nan > 0 && o->nan == EG_NAN_PROPAGATE)) {
        for (size_t i = 0; i < o->nq; i++)
            r->quantile[i] = nan_number();
        r->median = nan_number();
        return;
    }
    uint64_t lo, hi;
    if (o->qops & EG_QOP_QUANTILE)
        for (size_t i = 0; i < o->nq; i++) {
            eg_np_quantile_ranks(n, o->q[i], o->method, &lo, &hi);
            r->quantile[i] = eg_np_quantile_value(
                n, o->q[i], o->method, t, eg_key_value(k[lo], t),
                eg_key_value(k[hi], t));
        }
    if (o->qops & EG_QOP_MEDIAN) {
        eg_np_median_ranks(n, &lo, &hi);
        r->median = eg_np_median_value(n, t, eg_key_value(k[lo], t),
                                       eg_key_value(k[hi], t));
    }
}

/* approx_quantile: the flat op's sketch over this segment alone. */
static eg_status approx(const eg_qseg *w, const void *data, uint64_t n,
                        eg_quant_result *r, eg_error *err)
{
    const eg_quant_opts *o = w->qo;
    eg_sketch s;
    eg_sketch_init(&s, w->k);
    eg_status st = eg_sketch_add(&s, data, n, w->dtype, err);
    if (st == EG_OK) {
        uint64_t c = eg_sketch_count(&s);
        for (size_t i = 0; i < o->nq; i++) {
            eg_number v = nan_number();
            if (c > 0 && !(s.nan > 0 && o->nan == EG_NAN_PROPAGATE))
                v.v.f = eg_sketch_at(&s, eg_np_lower_rank(c, o->q[i]));
            r->approx[i] = v;
        }
    }
    eg_sketch_free(&s);
    return st;
}

/* hist over the shared plan, or over this segment's min and max (the keys
 * of its non-NaN extremes) as numpy.histogram of it alone. */
static eg_status hist(eg_qseg *w, const void *data, uint64_t n, uint64_t nn,
                      uint64_t nan, uint64_t kmin, uint64_t kmax,
                      eg_quant_result *r, eg_error *err)
{
    const eg_quant_opts *o = w->qo;
    eg_hist_plan own;
    const eg_hist_plan *p = w->shared;
    if (!p) {
        if (nan > 0 && o->nan == EG_NAN_PROPAGATE)
            return eg_error_set(err, EG_EINPUT,
                                "hist: that column holds NaN, so its "
                                "automatic range is undefined (numpy "
                                "refuses it too); give --range LO,HI or "
                                "--nan omit");
        eg_status st = eg_hist_plan_make(&own, w->dtype, o->bins, 0, 0.0, 0.0,
                                         kmin, kmax, nn == 0, err);
        if (st != EG_OK) {
            eg_hist_plan_free(&own);
            return st;
        }
        p = &own;
    }
    memset(w->h.counts, 0, o->bins * sizeof *w->h.counts);
    w->h.below = w->h.above = w->h.nan = 0;
    eg_hist_add(p, &w->h, data, n);
    memcpy(w->edges, p->edges, ((size_t)o->bins + 1) * sizeof *w->edges);
    if (p == &own)
        eg_hist_plan_free(&own);
    r->nbins = o->bins;
    r->counts = w->h.counts;
    r->edges = w->edges;
    r->below = w->h.below;
    r->above = w->h.above;
    r->nan = w->h.nan;
    return EG_OK;
}

eg_status eg_qseg_run(eg_qseg *w, const void *data, uint64_t n,
                      eg_quant_result *r, eg_error *err)
{
    const eg_quant_opts *o = w->qo;
    /* only the fields store() reads: the whole result is 2 KiB, more than
     * a short segment's data */
    r->qops = o->qops;
    r->nq = o->nq;
    r->passes = 0;
    r->nbins = 0;
    r->counts = NULL;
    r->edges = NULL;
    r->below = r->above = r->nan = 0;
    int want_keys = (o->qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)) != 0;
    int want_ext = (o->qops & EG_QOP_HIST) && !w->shared;
    uint64_t nn = 0, nan = 0, kmin = UINT64_MAX, kmax = 0;
    if (want_keys || want_ext) {
        uint64_t *keys = w->keys;
        /* one loop per dtype, so eg_key_of's switch folds away */
#define KEY_LOOP(T)                                                          \
    for (uint64_t i = 0; i < n; i++) {                                       \
        int isnan;                                                           \
        uint64_t k = eg_key_of(data, i, T, &isnan);                          \
        if (isnan) {                                                         \
            nan++;                                                           \
            continue;                                                        \
        }                                                                    \
        kmin = k < kmin ? k : kmin;                                          \
        kmax = k > kmax ? k : kmax;                                          \
        keys[nn++] = k;                                                      \
    }
        switch (w->dtype) {
        case EG_F32: KEY_LOOP(EG_F32) break;
        case EG_F64: KEY_LOOP(EG_F64) break;
        case EG_I8: KEY_LOOP(EG_I8) break;
        case EG_U8: KEY_LOOP(EG_U8) break;
        case EG_I16: KEY_LOOP(EG_I16) break;
        case EG_U16: KEY_LOOP(EG_U16) break;
        case EG_I32: KEY_LOOP(EG_I32) break;
        case EG_U32: KEY_LOOP(EG_U32) break;
        case EG_I64: KEY_LOOP(EG_I64) break;
        default: KEY_LOOP(EG_U64) break;
        }
#undef KEY_LOOP
    }
    if (want_keys) {
        sort_keys(w->keys, w->tmp, nn, (unsigned)eg_dtype_size(w->dtype) * 8);
        exact(w, nn, nan, r);
        r->passes = 1;
    }
    eg_status st = EG_OK;
    if (o->qops & EG_QOP_APPROX)
        st = approx(w, data, n, r, err);
    if (st == EG_OK && (o->qops & EG_QOP_HIST))
        st = hist(w, data, n, nn, nan, kmin, kmax, r, err);
    return st;
}
