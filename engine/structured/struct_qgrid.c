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
 * Parameters ("EGSP", one per task, little-endian):
 *     0 magic  4 u16 version  6 u8 dtype  7 u8 qops
 *     8 u8 method  9 u8 nan  10 u8 have_range  11 u8 0
 *     12 u32 bins  16 u32 nq  20 u32 nseg
 *     24 f64 rel_err  32 f64 lo  40 f64 hi  48 u64 first output
 *     56 f64 q[nq], then u64 lens[nseg]
 * Payload ("EGSR"):
 *     0 magic  4 u16 version  6 u8 qops  7 u8 flags (1: edges per output)
 *     8 u32 nseg  12 u32 nq  16 u32 bins  20 u32 passes
 *     24 u64 first output  32 u64 elements
 *     40 per segment: u64 n; quantile nq x (u8 kind, 8 bytes); approx the
 *        same; median (u8 kind, 8 bytes); hist: u64 counts[bins], with
 *        flag 1 f64 edges[bins + 1], u64 below, above, nan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"
#include "error.h"
#include "hist.h"
#include "struct_qseg.h"
#include "structured.h"

#define SP_MAGIC "EGSP"
#define SR_MAGIC "EGSR"
#define SQ_VERSION 1u
#define SP_FIXED 56u
#define SR_FIXED 40u
#define SR_EDGES 1u

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

/* Bytes of one segment's record in a payload. */
static size_t rec_size(unsigned qops, size_t nq, unsigned bins, int edges)
{
    size_t n = 8;
    if (qops & EG_QOP_QUANTILE)
        n += 9 * nq;
    if (qops & EG_QOP_APPROX)
        n += 9 * nq;
    if (qops & EG_QOP_MEDIAN)
        n += 9;
    if (qops & EG_QOP_HIST)
        n += 8 * (size_t)bins + (edges ? 8 * ((size_t)bins + 1) : 0) + 24;
    return n;
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
static eg_status plan_tasks(eg_sqgrid *g, const char *name,
                            uint64_t task_elems, uint64_t max_elems,
                            eg_error *err)
{
    uint64_t nout = g->p.nout;
    if (g->rec > EG_QGRID_PAYLOAD_MAX - SR_FIXED)
        return eg_error_set(err, EG_EUSAGE,
                            "%s: one output's quantile results take %zu "
                            "bytes, above the grid's %u per task; use "
                            "fewer --bins",
                            name, g->rec, EG_QGRID_PAYLOAD_MAX);
    uint64_t per_payload = (EG_QGRID_PAYLOAD_MAX - SR_FIXED) / g->rec;
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
        while (e < nout && t.nseg < EG_SGRID_SEGS_MAX &&
               t.nseg < per_payload) {
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
        free(g);
        return st;
    }
    g->edges = (qo->qops & EG_QOP_HIST) && !qo->have_range;
    g->rec = rec_size(qo->qops, qo->nq, qo->bins, g->edges);
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
        st = eg_hist_plan_make(&shared, g->p.dtype, qo->bins, 1, qo->lo,
                               qo->hi, 0, 0, 0, err);
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
    *len = SP_FIXED + 8 * qo->nq + 8 * (size_t)k->nseg;
    uint8_t *p = calloc(1, *len);
    if (!p)
        return NULL;
    memcpy(p, SP_MAGIC, 4);
    eg_put_le(p + 4, SQ_VERSION, 2);
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
        eg_put_le(p + SP_FIXED + 8 * i, dbits(qo->q[i]), 8);
    uint8_t *l = p + SP_FIXED + 8 * qo->nq;
    for (uint64_t i = 0; i < k->nseg; i++)
        eg_put_le(l + 8 * i, seg_len(g, k->e0 + i), 8);
    return p;
}

/* ----------------------------------------------------- the parameters */

typedef struct sparams {
    eg_quant_opts qo;
    eg_dtype dtype;
    uint32_t nseg;
    uint64_t first;
    const uint8_t *lens;
} sparams;

static eg_status sparams_decode(const uint8_t *p, size_t len, sparams *s,
                                eg_error *err)
{
    if (len < SP_FIXED || memcmp(p, SP_MAGIC, 4) != 0)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: bad magic or size");
    if (eg_get_le(p + 4, 2) != SQ_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: version %llu, "
                            "this build reads %u",
                            (unsigned long long)eg_get_le(p + 4, 2),
                            SQ_VERSION);
    memset(s, 0, sizeof *s);
    uint64_t nq = eg_get_le(p + 16, 4), nseg = eg_get_le(p + 20, 4);
    if (p[6] >= EG_DTYPE_COUNT || p[7] == 0 ||
        (p[7] & ~(EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX |
                  EG_QOP_HIST)) ||
        p[8] >= EG_QM_COUNT || p[9] > EG_NAN_OMIT || p[10] > 1 || p[11] ||
        nq > EG_QUANT_MAX_Q || nseg == 0 || nseg > EG_SGRID_SEGS_MAX)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: "
                            "a field out of range");
    if (len != SP_FIXED + 8 * nq + 8 * nseg)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: "
                            "%zu bytes for %llu q and %llu segments",
                            len, (unsigned long long)nq,
                            (unsigned long long)nseg);
    eg_quant_opts_init(&s->qo);
    s->dtype = (eg_dtype)p[6];
    s->qo.qops = p[7];
    s->qo.method = (eg_qmethod)p[8];
    s->qo.nan = (eg_nan_policy)p[9];
    s->qo.have_range = p[10];
    s->qo.bins = (unsigned)eg_get_le(p + 12, 4);
    s->qo.nq = (size_t)nq;
    s->qo.rel_err = bitsd(eg_get_le(p + 24, 8));
    s->qo.lo = bitsd(eg_get_le(p + 32, 8));
    s->qo.hi = bitsd(eg_get_le(p + 40, 8));
    s->first = eg_get_le(p + 48, 8);
    for (size_t i = 0; i < s->qo.nq; i++)
        s->qo.q[i] = bitsd(eg_get_le(p + SP_FIXED + 8 * i, 8));
    s->nseg = (uint32_t)nseg;
    s->lens = p + SP_FIXED + 8 * nq;
    eg_error why;
    if (eg_quant_opts_check(&s->qo, &why) != EG_OK)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: %s", why.msg);
    if (s->first > UINT64_MAX - nseg)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: "
                            "first output out of range");
    return EG_OK;
}

eg_status eg_sqgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                 uint64_t first, uint32_t nseg,
                                 uint64_t count, eg_error *err)
{
    sparams s;
    eg_status st = sparams_decode(p, len, &s, err);
    if (st != EG_OK)
        return st;
    if (s.dtype != t || s.nseg != nseg || s.first != first)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: "
                            "dtype, segments or first output disagree with "
                            "the task");
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s.nseg; i++) {
        uint64_t n = eg_get_le(s.lens + 8 * (size_t)i, 8);
        if (n > count - sum)
            return eg_error_set(err, EG_EINPUT, "segment quantile "
                                "parameters: segment lengths exceed the "
                                "task's %llu elements",
                                (unsigned long long)count);
        sum += n;
    }
    if (sum != count)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: "
                            "segment lengths add up to %llu, not the task's "
                            "%llu elements",
                            (unsigned long long)sum,
                            (unsigned long long)count);
    return EG_OK;
}

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
    sparams s;
    eg_status st = sparams_decode(params, plen, &s, err);
    if (st != EG_OK)
        return st;
    const eg_quant_opts *qo = &s.qo;
    int edges = (qo->qops & EG_QOP_HIST) && !qo->have_range;
    size_t rec = rec_size(qo->qops, qo->nq, qo->bins, edges);
    size_t len = SR_FIXED + rec * s.nseg;
    if (len > EG_QGRID_PAYLOAD_MAX)
        return eg_error_set(err, EG_EUSAGE, "segment quantile results "
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
        st = eg_hist_plan_make(&shared, t, qo->bins, 1, qo->lo, qo->hi, 0, 0,
                               0, err);
    eg_qseg w;
    int have_w = 0;
    if (st == EG_OK) {
        st = eg_qseg_init(&w, qo, t, have_shared ? &shared : NULL, maxshort,
                          err);
        have_w = 1;
    }
    const unsigned char *x = data;
    size_t size = eg_dtype_size(t);
    uint8_t *d = p + SR_FIXED;
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
        st = eg_error_set(err, EG_EINPUT, "segment quantile task: %llu "
                          "elements, its segments hold %llu",
                          (unsigned long long)count,
                          (unsigned long long)total);
    if (st != EG_OK) {
        free(p);
        return st;
    }
    memcpy(p, SR_MAGIC, 4);
    eg_put_le(p + 4, SQ_VERSION, 2);
    p[6] = (uint8_t)qo->qops;
    p[7] = edges ? SR_EDGES : 0;
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

typedef struct shead {
    unsigned qops, flags;
    uint32_t nseg, nq, bins, passes;
    uint64_t first, count;
    size_t rec;
} shead;

static int num_ok(const uint8_t *d)
{
    return d[0] <= EG_NUM_U64;
}

eg_status eg_sqgrid_payload_check(const uint8_t *p, size_t len,
                                  uint64_t *count, eg_error *err)
{
    shead h;
    if (len < SR_FIXED || memcmp(p, SR_MAGIC, 4) != 0)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: bad magic or size");
    if (eg_get_le(p + 4, 2) != SQ_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: version %llu, this "
                            "build reads %u",
                            (unsigned long long)eg_get_le(p + 4, 2),
                            SQ_VERSION);
    h.qops = p[6];
    h.flags = p[7];
    h.nseg = (uint32_t)eg_get_le(p + 8, 4);
    h.nq = (uint32_t)eg_get_le(p + 12, 4);
    h.bins = (uint32_t)eg_get_le(p + 16, 4);
    h.passes = (uint32_t)eg_get_le(p + 20, 4);
    h.first = eg_get_le(p + 24, 8);
    h.count = eg_get_le(p + 32, 8);
    int hist = (h.qops & EG_QOP_HIST) != 0;
    if (h.qops == 0 ||
        (h.qops & ~(EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX |
                    EG_QOP_HIST)) ||
        h.flags > SR_EDGES || (h.flags && !hist) || h.nseg == 0 ||
        h.nseg > EG_SGRID_SEGS_MAX || h.nq > EG_QUANT_MAX_Q ||
        (hist ? h.bins == 0 || h.bins > EG_HIST_MAX_BINS : h.bins != 0) ||
        h.passes > 64 || h.first > UINT64_MAX - h.nseg)
        return eg_error_set(err, EG_EINPUT, "segment quantile payload: a "
                            "field out of range");
    h.rec = rec_size(h.qops, h.nq, h.bins, h.flags & SR_EDGES);
    if ((len - SR_FIXED) / h.rec != h.nseg || (len - SR_FIXED) % h.rec)
        return eg_error_set(err, EG_EINPUT, "segment quantile payload: %zu "
                            "bytes for %u segments", len, h.nseg);
    uint64_t total = 0;
    const uint8_t *d = p + SR_FIXED;
    for (uint32_t i = 0; i < h.nseg; i++, d += h.rec) {
        uint64_t n = eg_get_le(d, 8);
        if (n > h.count - total)
            return eg_error_set(err, EG_EINPUT, "segment quantile payload: "
                                "segments hold more than its elements");
        total += n;
        const uint8_t *v = d + 8;
        size_t nums = ((h.qops & EG_QOP_QUANTILE) ? h.nq : 0) +
                      ((h.qops & EG_QOP_APPROX) ? h.nq : 0) +
                      ((h.qops & EG_QOP_MEDIAN) ? 1 : 0);
        for (size_t k = 0; k < nums; k++, v += 9)
            if (!num_ok(v))
                return eg_error_set(err, EG_EINPUT, "segment quantile "
                                    "payload: a value of unknown kind");
        if (!hist)
            continue;
        /* Every element is counted once: in a bin, below, above or NaN. */
        uint64_t sum = 0;
        for (uint32_t b = 0; b < h.bins + 3; b++) {
            const uint8_t *c = b < h.bins ? v + 8 * (size_t)b
                               : v + 8 * (size_t)h.bins +
                                     ((h.flags & SR_EDGES)
                                          ? 8 * ((size_t)h.bins + 1)
                                          : 0) +
                                     8 * (size_t)(b - h.bins);
            uint64_t k = eg_get_le(c, 8);
            if (k > n - sum)
                return eg_error_set(err, EG_EINPUT, "segment quantile "
                                    "payload: hist counts exceed the "
                                    "segment");
            sum += k;
        }
        if (sum != n)
            return eg_error_set(err, EG_EINPUT, "segment quantile payload: "
                                "hist counts do not add up to the segment");
    }
    if (total != h.count)
        return eg_error_set(err, EG_EINPUT, "segment quantile payload: "
                            "segments hold %llu elements, it says %llu",
                            (unsigned long long)total,
                            (unsigned long long)h.count);
    *count = h.count;
    return EG_OK;
}

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
    const uint8_t *d = p + SR_FIXED;
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
    const uint8_t *d = p + SR_FIXED;
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
    eg_status st = eg_squant_settle(&g->qo, g->p.nout, &g->w, &g->q, EG_OK,
                                    err);
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
