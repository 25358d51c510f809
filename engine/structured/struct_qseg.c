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
                       const eg_hist_plan *shared, eg_error *err)
{
    memset(w, 0, sizeof *w);
    w->qo = qo;
    w->dtype = t;
    w->shared = shared;
    if (qo->qops & EG_QOP_APPROX) {
        eg_status st = eg_sketch_k_for(qo->rel_err, &w->k, err);
        if (st != EG_OK)
            return st;
    }
    w->keys = malloc(EG_QSEG_MAX * sizeof *w->keys);
    if (!w->keys)
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
    free(w->edges);
    eg_hist_state_free(&w->h);
    memset(w, 0, sizeof *w);
}

static int key_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
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
    memset(r, 0, sizeof *r);
    r->qops = o->qops;
    r->nq = o->nq;
    int want_keys = (o->qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)) != 0;
    int want_ext = (o->qops & EG_QOP_HIST) && !w->shared;
    uint64_t nn = 0, nan = 0, kmin = UINT64_MAX, kmax = 0;
    if (want_keys || want_ext)
        for (uint64_t i = 0; i < n; i++) {
            int isnan;
            uint64_t k = eg_key_of(data, i, w->dtype, &isnan);
            if (isnan) {
                nan++;
                continue;
            }
            kmin = k < kmin ? k : kmin;
            kmax = k > kmax ? k : kmax;
            w->keys[nn++] = k;
        }
    if (want_keys) {
        qsort(w->keys, nn, sizeof *w->keys, key_cmp);
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
