/* quant.c - the quantile and histogram ops from end to end: the passes
 * over a source (selection, sketch, min/max, histogram), then numpy's
 * arithmetic on what they found.  The selection, sketch and histogram
 * passes count on the engine's devices (quant_scan.h); every pass yields
 * integer counts, which is why the bits never depend on the split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"
#include "device.h"
#include "error.h"
#include "hist.h"
#include "qselect.h"
#include "quant_key.h"
#include "quant_numpy.h"
#include "quant_range.h"
#include "quant_scan.h"
#include "sketch.h"
#include "source.h"

static eg_number nan_number(void)
{
    eg_number n = {.kind = EG_NUM_F64};
    n.v.f = NAN;
    return n;
}

/* ------------------------------------------------ quantile and median */

static eg_status run_exact(const eg_source *src, const eg_quant_opts *o,
                           eg_quant_result *r, eg_qdevs *devs, eg_error *err)
{
    eg_dtype t = eg_source_info(src)->dtype;
    eg_select s;
    uint64_t ranks[EG_SELECT_MAX_RANKS], keys[EG_SELECT_MAX_RANKS];
    size_t nr = 0;
    int want_q = (o->qops & EG_QOP_QUANTILE) != 0;
    int want_m = (o->qops & EG_QOP_MEDIAN) != 0;

    eg_status st = eg_select_first(&s, src, devs, err);
    if (st != EG_OK)
        return st;
    r->passes = s.passes;
    /* propagate: any NaN makes every order statistic NaN, as numpy's
     * quantile and median; omit drops them, as nanquantile/nanmedian */
    if (s.n == 0 || (s.nan > 0 && o->nan == EG_NAN_PROPAGATE)) {
        for (size_t i = 0; i < o->nq; i++)
            r->quantile[i] = nan_number();
        r->median = nan_number();
        eg_select_free(&s);
        return EG_OK;
    }
    if (want_q)
        for (size_t i = 0; i < o->nq; i++) {
            eg_np_quantile_ranks(s.n, o->q[i], o->method, &ranks[nr],
                                 &ranks[nr + 1]);
            nr += 2;
        }
    if (want_m) {
        eg_np_median_ranks(s.n, &ranks[nr], &ranks[nr + 1]);
        nr += 2;
    }
    st = eg_select_ranks(&s, src, ranks, nr, keys, err);
    r->passes = s.passes;
    eg_select_free(&s);
    if (st != EG_OK)
        return st;
    size_t j = 0;
    if (want_q)
        for (size_t i = 0; i < o->nq; i++, j += 2)
            r->quantile[i] = eg_np_quantile_value(s.n, o->q[i], o->method, t,
                                                  eg_key_value(keys[j], t),
                                                  eg_key_value(keys[j + 1], t));
    if (want_m)
        r->median = eg_np_median_value(s.n, t, eg_key_value(keys[j], t),
                                       eg_key_value(keys[j + 1], t));
    return EG_OK;
}

/* ----------------------------------------------------- approx_quantile */

typedef struct sketch_pass {
    eg_dtype dtype;
    eg_sketch sk[EG_QSCAN_MAX_THREADS];
    eg_status st[EG_QSCAN_MAX_THREADS];
} sketch_pass;

static void sketch_block(void *ctx, unsigned th, const void *data, uint64_t n)
{
    sketch_pass *p = ctx;
    if (p->st[th] == EG_OK)
        p->st[th] = eg_sketch_add(&p->sk[th], data, n, p->dtype, NULL);
}

static eg_status sketch_device(void *ctx, unsigned th, eg_device *dev,
                               const void *data, uint64_t n, eg_error *err)
{
    sketch_pass *p = ctx;
    if (!dev->ops->count_sketch)
        return eg_error_set(err, EG_EINTERNAL, "\"%s\" has no sketch kernel",
                            dev->info.name);
    return dev->ops->count_sketch(dev, &p->sk[th], p->dtype, data, n, err);
}

static eg_status run_sketch(const eg_source *src, const eg_quant_opts *o,
                            eg_quant_result *r, eg_qdevs *devs, eg_error *err)
{
    unsigned k, threads = eg_qdevs_slots(devs, eg_source_info(src)->count);
    eg_status st = eg_sketch_k_for(o->rel_err, &k, err);
    if (st != EG_OK)
        return st;
    sketch_pass *p = calloc(1, sizeof *p);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "sketch: out of memory");
    p->dtype = eg_source_info(src)->dtype;
    for (unsigned t = 0; t < threads; t++)
        eg_sketch_init(&p->sk[t], k);
    st = eg_qdevs_scan(src, devs, "approx_quantile", sketch_block,
                       sketch_device, p, err);
    for (unsigned t = 0; st == EG_OK && t < threads; t++)
        if (p->st[t] != EG_OK)
            st = eg_error_set(err, EG_ENOMEM, "sketch: out of memory");
    /* merged in thread order; addition makes any order give these bits */
    for (unsigned t = 1; st == EG_OK && t < threads; t++)
        st = eg_sketch_merge(&p->sk[0], &p->sk[t], err);
    if (st == EG_OK) {
        const eg_sketch *s = &p->sk[0];
        uint64_t n = eg_sketch_count(s);
        r->sketch_bytes = eg_sketch_encoded_size(s);
        for (size_t i = 0; i < o->nq; i++) {
            eg_number v = nan_number();
            if (n > 0 && !(s->nan > 0 && o->nan == EG_NAN_PROPAGATE))
                v.v.f = eg_sketch_at(s, eg_np_lower_rank(n, o->q[i]));
            r->approx[i] = v;
        }
    }
    for (unsigned t = 0; t < threads; t++)
        eg_sketch_free(&p->sk[t]);
    free(p);
    return st;
}

/* ----------------------------------------------------------------- hist */

typedef struct hist_pass {
    const eg_hist_plan *plan;
    eg_hist_state h[EG_QSCAN_MAX_THREADS];
} hist_pass;

static void hist_block(void *ctx, unsigned th, const void *data, uint64_t n)
{
    hist_pass *p = ctx;
    eg_hist_add(p->plan, &p->h[th], data, n);
}

static eg_status hist_device(void *ctx, unsigned th, eg_device *dev,
                             const void *data, uint64_t n, eg_error *err)
{
    hist_pass *p = ctx;
    return dev->ops->count_hist(dev, p->plan, data, n, &p->h[th], err);
}

/* numpy's automatic range, the data's min and max (NaN-free under omit),
 * from the engine's own min/max reduction on its devices. */
static eg_status hist_range(eg_engine *e, const eg_source *src,
                            const eg_quant_opts *o, uint64_t *kmin,
                            uint64_t *kmax, int *empty, eg_qdevs *devs,
                            eg_error *err)
{
    eg_reduce_opts ro;
    eg_result stats;
    eg_state s;
    eg_dtype t = eg_source_info(src)->dtype;
    eg_reduce_opts_init(&ro);
    ro.ops = EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX);
    ro.nan = EG_NAN_OMIT;
    memset(&stats, 0, sizeof stats);
    eg_status st = eg_engine_reduce_range(
        e, src, NULL, 0, eg_source_info(src)->count, &ro, &s, &stats, err);
    if (st != EG_OK)
        return st;
    for (size_t i = 0; i < stats.ndevices; i++)
        eg_qdevs_credit(devs, stats.devices[i].index, stats.devices[i].name,
                        stats.devices[i].elements, stats.devices[i].seconds);
    eg_qdevs_pass_done(devs);
    return eg_quant_range_keys(&s, t, o->nan, eg_source_name(src), kmin, kmax,
                               empty, err);
}

/* `first`: the state of the ordinary ops' pass over the same data, or
 * NULL.  When it holds min and max (NaN counted apart, as hist_range's
 * NaN-omitting pass has them), the automatic range comes from it and the
 * data is read once less. */
static eg_status run_hist(eg_engine *e, const eg_source *src,
                          const eg_quant_opts *o, const eg_state *first,
                          eg_quant_result *r, eg_qdevs *devs, eg_error *err)
{
    eg_dtype t = eg_source_info(src)->dtype;
    uint64_t kmin = 0, kmax = 0;
    int empty = 0;
    eg_hist_plan plan;
    eg_status st = EG_OK;

    if (!o->have_range && first && (first->groups & EG_G_MINMAX))
        st = eg_quant_range_keys(first, t, o->nan, eg_source_name(src), &kmin,
                                 &kmax, &empty, err);
    else if (!o->have_range)
        st = hist_range(e, src, o, &kmin, &kmax, &empty, devs, err);
    if (st != EG_OK)
        return st;
    st = eg_hist_plan_make(&plan, t, o->bins, o->have_range, o->lo, o->hi, kmin,
                           kmax, empty, err);
    if (st != EG_OK) {
        eg_hist_plan_free(&plan);
        return st;
    }
    unsigned threads = eg_qdevs_slots(devs, eg_source_info(src)->count);
    hist_pass *p = calloc(1, sizeof *p);
    if (!p) {
        eg_hist_plan_free(&plan);
        return eg_error_set(err, EG_ENOMEM, "hist: out of memory");
    }
    p->plan = &plan;
    for (unsigned i = 0; st == EG_OK && i < threads; i++)
        st = eg_hist_state_init(&p->h[i], o->bins, err);
    if (st == EG_OK)
        st = eg_qdevs_scan(src, devs, "hist", hist_block, hist_device, p,
                           err);
    if (st == EG_OK) {
        for (unsigned i = 1; i < threads; i++)
            eg_hist_merge(&p->h[0], &p->h[i]);
        r->nbins = o->bins;
        r->counts = p->h[0].counts;
        p->h[0].counts = NULL;
        r->below = p->h[0].below;
        r->above = p->h[0].above;
        r->nan = p->h[0].nan;
        r->edges = plan.edges;
        plan.edges = NULL;
    }
    for (unsigned i = 0; i < threads; i++)
        eg_hist_state_free(&p->h[i]);
    free(p);
    eg_hist_plan_free(&plan);
    return st;
}

/* -------------------------------------------------------------- public */

/* `first` as run_hist takes it. */
static eg_status quant_source(eg_engine *e, const eg_source *src,
                              const eg_quant_opts *o, const eg_state *first,
                              eg_quant_result *out, eg_error *err)
{
    if (!e || !o || !out)
        return eg_error_set(err, EG_EUSAGE,
                            "eg_quant: NULL engine, options or result");
    eg_status st = eg_quant_opts_check(o, err);
    memset(out, 0, sizeof *out);
    if (st != EG_OK)
        return st;
    double t0 = eg_now();
    out->qops = o->qops;
    out->nq = o->nq;
    eg_qdevs *devs = malloc(sizeof *devs);
    if (!devs)
        return eg_error_set(err, EG_ENOMEM, "eg_quant: out of memory");
    st = eg_qdevs_open(devs, e, eg_source_info(src)->dtype, err);
    if (st == EG_OK && (o->qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)))
        st = run_exact(src, o, out, devs, err);
    if (st == EG_OK && (o->qops & EG_QOP_APPROX))
        st = run_sketch(src, o, out, devs, err);
    if (st == EG_OK && (o->qops & EG_QOP_HIST))
        st = run_hist(e, src, o, first, out, devs, err);
    out->seconds = eg_now() - t0;
    out->ndevices = devs->nstats;
    memcpy(out->devices, devs->stats, devs->nstats * sizeof devs->stats[0]);
    snprintf(out->notes, sizeof out->notes, "%s", devs->notes);
    free(devs);
    if (st != EG_OK)
        eg_quant_result_free(out);
    return st;
}

void eg_quant_result_free(eg_quant_result *r)
{
    free(r->counts);
    free(r->edges);
    r->counts = NULL;
    r->edges = NULL;
}

eg_status eg_quant(eg_engine *e, const void *x, uint64_t count, eg_dtype dtype,
                   const eg_quant_opts *o, eg_quant_result *out, eg_error *err)
{
    eg_source *src = NULL;
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x && count > 0)
        return eg_error_set(err, EG_EUSAGE, "eg_quant: NULL data");
    eg_status st = eg_source_wrap(&src, x, count, dtype, err);
    if (st == EG_OK)
        st = quant_source(e, src, o, NULL, out, err);
    eg_source_close(&src);
    return st;
}

eg_status eg_quant_file(eg_engine *e, const char *path, const eg_input_opts *in,
                        const eg_quant_opts *o, eg_quant_result *out,
                        eg_error *err)
{
    eg_source *src = NULL;
    eg_input_opts plain = {0};
    eg_status st = eg_source_open(&src, path, in ? in : &plain, err);
    if (st == EG_OK)
        st = quant_source(e, src, o, NULL, out, err);
    return eg_source_close_checked(&src, st, err);
}

eg_status eg_reduce_file_quant(eg_engine *e, const char *path,
                               const eg_input_opts *in, const eg_reduce_opts *o,
                               const eg_quant_opts *qo, eg_result *out,
                               eg_quant_result *qout, eg_error *err)
{
    eg_source *src = NULL;
    eg_input_opts plain = {0};
    eg_reduce_opts ro;
    eg_state total;

    if (!e || !o || !qo || !out || !qout)
        return eg_error_set(err, EG_EUSAGE,
                            "eg_reduce_file_quant: NULL "
                            "engine, options or result");
    ro = *o;
    memset(out, 0, sizeof *out);
    memset(qout, 0, sizeof *qout);
    eg_status st = eg_quant_opts_check(qo, err);
    if (st == EG_OK)
        st = eg_source_open(&src, path, in ? in : &plain, err);
    if (st != EG_OK)
        return st;
    /* the count, shape and devices come from the ordinary ops; with none
     * asked, from the source, and the quantile passes stand as the one
     * device: the host's cores */
    if (ro.ops != 0) {
        st = eg_engine_reduce_range(e, src, NULL, 0, eg_source_info(src)->count,
                                    &ro, &total, out, err);
        if (st == EG_OK)
            st = eg_result_finish(&total, src, &ro, out, err);
    } else {
        const eg_array_info *info = eg_source_info(src);
        out->dtype = info->dtype;
        out->mode = ro.mode;
        out->elements = info->count;
        out->ndim = info->ndim;
        memcpy(out->shape, info->shape, sizeof out->shape);
        out->bytes = info->count * eg_dtype_size(info->dtype);
    }
    if (st == EG_OK && qo->qops)
        st = quant_source(e, src, qo, ro.ops != 0 ? &total : NULL, qout, err);
    if (st == EG_OK) {
        out->seconds += qout->seconds;
        /* the devices that counted: with no ordinary op the only ones,
         * else their seconds added to the ordinary ops' entries (a device
         * only the quantile passes used reads 0 elements: the count is
         * the first pass's, the ordinary ops') */
        if (ro.ops == 0)
            out->ndevices = 0;
        for (size_t i = 0; i < qout->ndevices; i++) {
            const eg_device_stats *q = &qout->devices[i];
            size_t j = 0;
            while (j < out->ndevices && out->devices[j].index != q->index)
                j++;
            if (j == out->ndevices) {
                if (j == EG_MAX_DEVICES)
                    continue;
                out->devices[j] = *q;
                if (ro.ops != 0)
                    out->devices[j].elements = 0;
                out->ndevices++;
                continue;
            }
            /* the ordinary ops' pass read every element once already:
             * a device's elements are that pass's, its seconds all */
            out->devices[j].seconds += q->seconds;
            out->devices[j].chunks += q->chunks;
            out->devices[j].calls += q->calls;
        }
        if (qout->notes[0])
            eg_notes_append(out->notes, sizeof out->notes, "%s",
                            qout->notes);
    }
    return eg_source_close_checked(&src, st, err);
}
