/* struct_qgrid.c - the quantile ops per axis and per group as grid tasks of
 * whole outputs, and their collector (engine_grid.h, "Quantile ops per
 * axis and per group on the grid").
 *
 * A segment's quantiles, median and histogram are a deterministic function
 * of its elements alone, so the coordinator ships each task the whole
 * segments of consecutive outputs, a worker runs the one-box per-segment
 * code on them (eg_qseg for short segments, eg_quant for long ones, as
 * struct_quant.c chooses) and returns the finished values, and the
 * collector places them by output index.  Any worker, any retry: the same
 * bits as `reduce --axis/--by` on one box.  Selection histograms per
 * output would be far larger than the data of a short segment, which is
 * why finished values travel rather than counts.
 *
 * The wire forms of its parameters and payload: struct_qwire.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"
#include "error.h"
#include "hist.h"
#include "struct_qseg.h"
#include "struct_qwire.h"
#include "structured.h"

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* ------------------------------------------------------------ the plan */

struct eg_sqgrid {
    eg_struct_plan p;
    eg_quant_opts qo;
    void *xs, *ys; /* group mode: the permuted copy */
    eg_sqgrid_task *tasks;
    uint64_t ntasks;
    int edges; /* hist without a range: edges per output */
    size_t rec;
    eg_squant_result q;
    eg_squant_work w;
    uint64_t *counts_tmp; /* one record's counts, decoded */
    double *edges_tmp;
    unsigned passes;
    double t0;
};

static uint64_t seg_len(const eg_sqgrid *g, uint64_t e)
{
    return eg_struct_group_len(&g->p, e / g->p.rest);
}

/* Whole outputs side by side, up to task_elems elements (a longer segment
 * goes alone, up to max_elems), EG_SGRID_SEGS_MAX segments and a payload
 * that fits EG_QGRID_PAYLOAD_MAX. */
static eg_status plan_tasks(eg_sqgrid *g, const char *name, uint64_t task_elems,
                            uint64_t max_elems, eg_error *err)
{
    uint64_t nout = g->p.nout;
    if (g->rec > EG_QGRID_PAYLOAD_MAX - EG_SQR_FIXED)
        return eg_error_set(err, EG_EUSAGE,
                            "%s: one output's quantile results take %zu "
                            "bytes, above the grid's %u per task; use "
                            "fewer --bins",
                            name, g->rec, EG_QGRID_PAYLOAD_MAX);
    uint64_t per_payload = (EG_QGRID_PAYLOAD_MAX - EG_SQR_FIXED) / g->rec;
    g->tasks = malloc((nout ? nout : 1) * sizeof *g->tasks);
    if (!g->tasks)
        return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    uint64_t e = 0;
    while (e < nout) {
        uint64_t len = seg_len(g, e);
        if (len > max_elems)
            return eg_error_set(err, EG_EUSAGE,
                                "%s: median, quantile, approx_quantile and "
                                "hist on the grid take each output's "
                                "segment whole in one task; this one has "
                                "%llu elements, above the limit of %llu "
                                "(%u bytes per task); reduce it on one box",
                                name, (unsigned long long)len,
                                (unsigned long long)max_elems,
                                EG_SQGRID_TASK_BYTES_MAX);
        eg_sqgrid_task t = {.e0 = e, .nseg = 0, .count = 0};
        while (e < nout && t.nseg < EG_SGRID_SEGS_MAX && t.nseg < per_payload) {
            len = seg_len(g, e);
            if (t.nseg && t.count + len > task_elems)
                break;
            t.nseg++;
            t.count += len;
            e++;
        }
        g->tasks[g->ntasks++] = t;
    }
    return EG_OK;
}

eg_status eg_sqgrid_open(eg_sqgrid **out, const eg_source *x,
                         const eg_struct_opts *so, const eg_reduce_opts *o,
                         const eg_quant_opts *qo, uint64_t task_elems,
                         eg_error *err)
{
    *out = NULL;
    eg_status st = eg_quant_opts_check(qo, err);
    if (st != EG_OK)
        return st;
    if (o->ops & EG_OPS_BIT(EG_OP_DOT))
        return eg_error_set(err, EG_EUSAGE,
                            "dot cannot be combined with median, quantile, "
                            "approx_quantile or hist");
    eg_sqgrid *g = calloc(1, sizeof *g);
    if (!g)
        return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    g->t0 = eg_now();
    g->qo = *qo;
    st = eg_struct_prepare(&g->p, x, NULL, so, o, &g->xs, &g->ys, err);
    if (st != EG_OK) {
        eg_sqgrid_close(&g); /* what the plan got before it failed */
        return st;
    }
    g->edges = (qo->qops & EG_QOP_HIST) && !qo->have_range;
    g->rec = eg_sqrec_size(qo->qops, qo->nq, qo->bins, g->edges);
    uint64_t max_elems = EG_SQGRID_TASK_BYTES_MAX / g->p.size;
    if (task_elems == 0 || task_elems > max_elems)
        task_elems = max_elems;
    st = plan_tasks(g, eg_source_name(x), task_elems, max_elems, err);
    eg_squant_result *q = &g->q;
    q->qops = qo->qops;
    q->nq = qo->nq;
    q->nout = g->p.nout;
    q->nbins = (qo->qops & EG_QOP_HIST) ? qo->bins : 0;
    q->shared_edges = (qo->qops & EG_QOP_HIST) && qo->have_range;
    if (st == EG_OK)
        st = eg_squant_alloc(qo, g->p.nout, q, &g->w, err);
    if (st == EG_OK && (qo->qops & EG_QOP_HIST) &&
        (!(g->counts_tmp = malloc(((size_t)qo->bins + 1) * 8)) ||
         !(g->edges_tmp = malloc(((size_t)qo->bins + 1) * 8))))
        st = eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    if (st == EG_OK && q->shared_edges) {
        /* Every output's edges, the one plan the one-box run makes. */
        eg_hist_plan shared;
        st = eg_hist_plan_make(&shared, g->p.dtype, qo->bins, 1, qo->lo, qo->hi,
                               0, 0, 0, err);
        if (st == EG_OK)
            memcpy(q->edges, shared.edges,
                   ((size_t)qo->bins + 1) * sizeof *q->edges);
        eg_hist_plan_free(&shared);
    }
    if (st != EG_OK) {
        eg_sqgrid_close(&g);
        return st;
    }
    *out = g;
    return EG_OK;
}

uint64_t eg_sqgrid_ntasks(const eg_sqgrid *g)
{
    return g->ntasks;
}

const eg_sqgrid_task *eg_sqgrid_task_at(const eg_sqgrid *g, uint64_t t)
{
    return &g->tasks[t];
}

void eg_sqgrid_task_data(const eg_sqgrid *g, uint64_t t, void *dst)
{
    const eg_sqgrid_task *k = &g->tasks[t];
    const eg_struct_plan *p = &g->p;
    int contig = eg_struct_seg_contiguous(p, &p->x);
    unsigned char *d = dst;
    for (uint64_t i = 0; i < k->nseg; i++) {
        uint64_t e = k->e0 + i, n = seg_len(g, e);
        if (n == 0)
            continue;
        if (contig)
            memcpy(d, p->x.base + eg_struct_out_offset(p, &p->x, e) * p->size,
                   n * p->size);
        else
            eg_struct_gather(p, &p->x, e, 0, n, d);
        d += n * p->size;
    }
}

void *eg_sqgrid_task_params(const eg_sqgrid *g, uint64_t t, size_t *len)
{
    const eg_sqgrid_task *k = &g->tasks[t];
    const eg_quant_opts *qo = &g->qo;
    *len = EG_SQP_FIXED + 8 * qo->nq + 8 * (size_t)k->nseg;
    uint8_t *p = calloc(1, *len);
    if (!p)
        return NULL;
    memcpy(p, EG_SQP_MAGIC, 4);
    eg_put_le(p + 4, EG_SQ_VERSION, 2);
    p[6] = (uint8_t)g->p.dtype;
    p[7] = (uint8_t)qo->qops;
    p[8] = (uint8_t)qo->method;
    p[9] = (uint8_t)qo->nan;
    p[10] = (uint8_t)(qo->have_range != 0);
    eg_put_le(p + 12, qo->bins, 4);
    eg_put_le(p + 16, qo->nq, 4);
    eg_put_le(p + 20, k->nseg, 4);
    eg_put_le(p + 24, dbits(qo->rel_err), 8);
    eg_put_le(p + 32, dbits(qo->lo), 8);
    eg_put_le(p + 40, dbits(qo->hi), 8);
    eg_put_le(p + 48, k->e0, 8);
    for (size_t i = 0; i < qo->nq; i++)
        eg_put_le(p + EG_SQP_FIXED + 8 * i, dbits(qo->q[i]), 8);
    uint8_t *l = p + EG_SQP_FIXED + 8 * qo->nq;
    for (uint64_t i = 0; i < k->nseg; i++)
        eg_put_le(l + 8 * i, seg_len(g, k->e0 + i), 8);
    return p;
}

/* ----------------------------------------------------- the parameters */

/* ----------------------------------------------------------- the worker */

static uint8_t *put_num(uint8_t *d, const eg_number *v)
{
    d[0] = (uint8_t)v->kind;
    uint64_t u;
    memcpy(&u, &v->v, 8);
    eg_put_le(d + 1, u, 8);
    return d + 9;
}

static uint8_t *put_record(uint8_t *d, const eg_quant_opts *qo, int edges,
                           uint64_t n, const eg_quant_result *r)
{
    eg_put_le(d, n, 8);
    d += 8;
    if (qo->qops & EG_QOP_QUANTILE)
        for (size_t i = 0; i < qo->nq; i++)
            d = put_num(d, &r->quantile[i]);
    if (qo->qops & EG_QOP_APPROX)
        for (size_t i = 0; i < qo->nq; i++)
            d = put_num(d, &r->approx[i]);
    if (qo->qops & EG_QOP_MEDIAN)
        d = put_num(d, &r->median);
    if (!(qo->qops & EG_QOP_HIST))
        return d;
    for (unsigned b = 0; b < qo->bins; b++, d += 8)
        eg_put_le(d, r->counts[b], 8);
    for (unsigned b = 0; edges && b <= qo->bins; b++, d += 8)
        eg_put_le(d, dbits(r->edges[b]), 8);
    eg_put_le(d, r->below, 8);
    eg_put_le(d + 8, r->above, 8);
    eg_put_le(d + 16, r->nan, 8);
    return d + 24;
}

eg_status eg_sqgrid_task_run(eg_engine *e, const uint8_t *params, size_t plen,
                             const void *data, uint64_t count, eg_dtype t,
                             uint8_t **out, size_t *out_len, eg_error *err)
{
    *out = NULL;
    *out_len = 0;
    eg_sqparams s;
    eg_status st = eg_sqparams_decode(params, plen, &s, err);
    if (st != EG_OK)
        return st;
    const eg_quant_opts *qo = &s.qo;
    int edges = (qo->qops & EG_QOP_HIST) && !qo->have_range;
    size_t rec = eg_sqrec_size(qo->qops, qo->nq, qo->bins, edges);
    size_t len = EG_SQR_FIXED + rec * s.nseg;
    if (len > EG_QGRID_PAYLOAD_MAX)
        return eg_error_set(err, EG_EUSAGE,
                            "segment quantile results "
                            "above the payload limit");
    uint64_t maxshort = 0;
    for (uint32_t i = 0; i < s.nseg; i++) {
        uint64_t n = eg_get_le(s.lens + 8 * (size_t)i, 8);
        if (n <= EG_QSEG_MAX && n > maxshort)
            maxshort = n;
    }
    uint8_t *p = calloc(1, len);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    eg_hist_plan shared;
    int have_shared = (qo->qops & EG_QOP_HIST) && qo->have_range;
    memset(&shared, 0, sizeof shared);
    if (have_shared)
        st = eg_hist_plan_make(&shared, t, qo->bins, 1, qo->lo, qo->hi, 0, 0, 0,
                               err);
    eg_qseg w;
    int have_w = 0;
    if (st == EG_OK) {
        st = eg_qseg_init(&w, qo, t, have_shared ? &shared : NULL, maxshort,
                          err);
        have_w = 1;
    }
    const unsigned char *x = data;
    size_t size = eg_dtype_size(t);
    uint8_t *d = p + EG_SQR_FIXED;
    unsigned passes = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; st == EG_OK && i < s.nseg; i++) {
        uint64_t n = eg_get_le(s.lens + 8 * (size_t)i, 8);
        eg_quant_result r;
        eg_error why;
        if (n > count - total)
            st = eg_error_set(&why, EG_EINPUT, "segments exceed the data");
        else if (n <= EG_QSEG_MAX)
            st = eg_qseg_run(&w, x, n, &r, &why);
        else
            st = eg_quant(e, x, n, t, qo, &r, &why);
        if (st != EG_OK) {
            /* The coordinator names the task; this names its output. */
            eg_error_set(err, st, "output %llu: %s",
                         (unsigned long long)(s.first + i), why.msg);
            break;
        }
        d = put_record(d, qo, edges, n, &r);
        if (n > EG_QSEG_MAX) {
            passes = r.passes > passes ? r.passes : passes;
            eg_quant_result_free(&r);
        }
        x += n * size;
        total += n;
    }
    if (have_w)
        eg_qseg_free(&w);
    if (have_shared)
        eg_hist_plan_free(&shared);
    if (st == EG_OK && total != count)
        st = eg_error_set(err, EG_EINPUT,
                          "segment quantile task: %llu "
                          "elements, its segments hold %llu",
                          (unsigned long long)count, (unsigned long long)total);
    if (st != EG_OK) {
        free(p);
        return st;
    }
    memcpy(p, EG_SQR_MAGIC, 4);
    eg_put_le(p + 4, EG_SQ_VERSION, 2);
    p[6] = (uint8_t)qo->qops;
    p[7] = edges ? EG_SQR_EDGES : 0;
    eg_put_le(p + 8, s.nseg, 4);
    eg_put_le(p + 12, qo->nq, 4);
    eg_put_le(p + 16, (qo->qops & EG_QOP_HIST) ? qo->bins : 0, 4);
    eg_put_le(p + 20, passes, 4);
    eg_put_le(p + 24, s.first, 8);
    eg_put_le(p + 32, count, 8);
    *out = p;
    *out_len = len;
    return EG_OK;
}

/* ----------------------------------------------------------- the payload */

/* -------------------------------------------------------- the collector */

const char *eg_sqgrid_check(const eg_sqgrid *g, uint64_t t, const uint8_t *p,
                            size_t len)
{
    const eg_sqgrid_task *k = &g->tasks[t];
    uint64_t count;
    eg_error why;
    if (eg_sqgrid_payload_check(p, len, &count, &why) != EG_OK)
        return "segment quantile payload unreadable";
    const eg_quant_opts *qo = &g->qo;
    if (p[6] != qo->qops || (p[7] != 0) != (g->edges != 0) ||
        eg_get_le(p + 12, 4) != qo->nq ||
        eg_get_le(p + 16, 4) != ((qo->qops & EG_QOP_HIST) ? qo->bins : 0))
        return "segment quantile payload for other ops";
    if (eg_get_le(p + 8, 4) != k->nseg || eg_get_le(p + 24, 8) != k->e0 ||
        count != k->count)
        return "segment quantile payload for other outputs";
    const uint8_t *d = p + EG_SQR_FIXED;
    for (uint64_t i = 0; i < k->nseg; i++, d += g->rec)
        if (eg_get_le(d, 8) != seg_len(g, k->e0 + i))
            return "segment quantile payload does not cover its segment";
    return NULL;
}

static const uint8_t *get_num(const uint8_t *s, eg_number *v)
{
    memset(v, 0, sizeof *v);
    v->kind = (eg_number_kind)s[0];
    uint64_t u = eg_get_le(s + 1, 8);
    memcpy(&v->v, &u, 8);
    return s + 9;
}

void eg_sqgrid_put(eg_sqgrid *g, uint64_t t, const uint8_t *p, size_t len)
{
    (void)len; /* checked by eg_sqgrid_check */
    const eg_sqgrid_task *k = &g->tasks[t];
    const eg_quant_opts *qo = &g->qo;
    unsigned passes = (unsigned)eg_get_le(p + 20, 4);
    g->passes = passes > g->passes ? passes : g->passes;
    const uint8_t *d = p + EG_SQR_FIXED;
    for (uint64_t i = 0; i < k->nseg; i++) {
        eg_quant_result r;
        memset(&r, 0, sizeof r);
        r.qops = qo->qops;
        r.nq = qo->nq;
        const uint8_t *v = d + 8;
        if (qo->qops & EG_QOP_QUANTILE)
            for (size_t j = 0; j < qo->nq; j++)
                v = get_num(v, &r.quantile[j]);
        if (qo->qops & EG_QOP_APPROX)
            for (size_t j = 0; j < qo->nq; j++)
                v = get_num(v, &r.approx[j]);
        if (qo->qops & EG_QOP_MEDIAN)
            v = get_num(v, &r.median);
        if (qo->qops & EG_QOP_HIST) {
            r.nbins = qo->bins;
            r.counts = g->counts_tmp;
            r.edges = g->edges_tmp;
            for (unsigned b = 0; b < qo->bins; b++, v += 8)
                r.counts[b] = eg_get_le(v, 8);
            for (unsigned b = 0; g->edges && b <= qo->bins; b++, v += 8)
                r.edges[b] = bitsd(eg_get_le(v, 8));
            r.below = eg_get_le(v, 8);
            r.above = eg_get_le(v + 8, 8);
            r.nan = eg_get_le(v + 16, 8);
        }
        eg_squant_store(qo, g->p.nout, k->e0 + i, &r, &g->q, &g->w);
        d += g->rec;
    }
}

eg_status eg_sqgrid_finish(eg_sqgrid *g, const eg_source *x,
                           const eg_reduce_opts *o, eg_sresult *meta,
                           eg_squant_result *out, eg_error *err)
{
    memset(out, 0, sizeof *out);
    eg_status st =
        eg_squant_settle(&g->qo, g->p.nout, &g->w, &g->q, EG_OK, err);
    if (st != EG_OK)
        return st;
    g->q.passes = g->passes;
    if (g->q.passes == 0 && g->p.nout > 0 &&
        (g->qo.qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)))
        g->q.passes = 1; /* the short segments' one reading */
    g->q.seconds = eg_now() - g->t0;
    if (meta) {
        memset(meta, 0, sizeof *meta);
        eg_struct_result_meta(&g->p, x, 0, o, meta);
        meta->r.seconds = g->q.seconds;
    }
    *out = g->q;
    memset(&g->q, 0, sizeof g->q);
    return EG_OK;
}

int eg_sqgrid_name_failure(const eg_sqgrid *g, uint64_t t, const char *msg,
                           eg_status st, const char *input, eg_error *err)
{
    /* The worker wrote "output E: WHY" (eg_sqgrid_task_run). */
    const eg_sqgrid_task *k = &g->tasks[t];
    const char *pre = "output ";
    if (strncmp(msg, pre, strlen(pre)) != 0)
        return 0;
    char *end;
    unsigned long long e = strtoull(msg + strlen(pre), &end, 10);
    if (end == msg + strlen(pre) || strncmp(end, ": ", 2) != 0 || e < k->e0 ||
        e - k->e0 >= k->nseg)
        return 0;
    eg_error why;
    eg_error_clear(&why);
    snprintf(why.msg, sizeof why.msg, "%s", end + 2);
    eg_squant_segment_error(&g->p, e, input, st, &why, err);
    return 1;
}

void eg_sqgrid_close(eg_sqgrid **gp)
{
    eg_sqgrid *g = *gp;
    if (!g)
        return;
    free(g->w.quant);
    free(g->w.approx);
    free(g->w.median);
    eg_squant_result_free(&g->q);
    free(g->counts_tmp);
    free(g->edges_tmp);
    eg_struct_plan_free(&g->p);
    free(g->xs);
    free(g->ys);
    free(g->tasks);
    free(g);
    *gp = NULL;
}
