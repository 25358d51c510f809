/* struct_quant.c - the quantile and histogram ops per axis and per group.
 *
 * Order statistics do not come from lane states: each output element's
 * segment (a column, or a group's column) is handed whole to eg_quant,
 * contiguous in place where the plan allows (a reduced last axis, a
 * permuted group) and gathered into native order otherwise.  So every
 * output has the bits numpy gives for that column alone, by construction,
 * and the selection passes, the sketch and the histogram stay the ones the
 * flat ops use.  The ordinary ops of the same job run through the
 * structured lanes (eg_struct_run) on the one reading of the input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "error.h"
#include "hist.h"
#include "quant_scan.h"
#include "source.h"
#include "struct_qseg.h"
#include "structured.h"

void eg_squant_result_free(eg_squant_result *r)
{
    if (!r)
        return;
    free(r->quantile.data);
    free(r->median.data);
    free(r->approx.data);
    free(r->counts);
    free(r->edges);
    free(r->below);
    free(r->above);
    free(r->nan);
    memset(r, 0, sizeof *r);
}

/* "column [i, j]" or "group K, column [j]": where output e sits, for
 * messages. */
static void where_text(const eg_struct_plan *p, uint64_t e, char *buf,
                       size_t len)
{
    size_t at = 0;
    uint64_t j = e % p->rest;
    if (p->by) {
        uint64_t g = e / p->rest;
        if (p->keys_unsigned)
            at = (size_t)snprintf(buf, len, "group %llu",
                                  (unsigned long long)p->gkeys[g]);
        else
            at = (size_t)snprintf(buf, len, "group %lld",
                                  (long long)p->gkeys[g]);
        if (p->nkeep == 0 || at >= len)
            return;
        at += (size_t)snprintf(buf + at, len - at, ", ");
    }
    if (at >= len)
        return;
    if (p->nkeep == 0) {
        snprintf(buf + at, len - at, "the whole array");
        return;
    }
    uint64_t idx[EG_MAX_DIMS];
    for (unsigned k = p->nkeep; k-- > 0;) {
        uint64_t d = p->dim[p->keep[k]];
        idx[k] = d ? j % d : 0;
        j = d ? j / d : 0;
    }
    at += (size_t)snprintf(buf + at, len - at, "column [");
    for (unsigned k = 0; k < p->nkeep && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%llu", k ? ", " : "",
                               (unsigned long long)idx[k]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
}

/* eg_quant's message names its wrapped segment "memory": name the input
 * and the column instead. */
eg_status eg_squant_segment_error(const eg_struct_plan *p, uint64_t e,
                                  const char *input, eg_status st,
                                  const eg_error *why, eg_error *err)
{
    char where[256], msg[EG_ERROR_MSG_MAX];
    where_text(p, e, where, sizeof where);
    const char *m = why->msg, *mem = strstr(m, "memory");
    if (mem)
        snprintf(msg, sizeof msg, "%.*s%s%s", (int)(mem - m), m,
                 "that column", mem + strlen("memory"));
    else
        snprintf(msg, sizeof msg, "%s", m);
    return eg_error_set(err, st, "%s, %s: %s", input, where, msg);
}

/* One array of eg_numbers of one kind: that kind, or float64 when kinds
 * mix (a NaN among integers). */
static eg_status settle(const eg_number *v, uint64_t n, eg_array_result *a,
                        eg_error *err)
{
    eg_number_kind kind = n ? v[0].kind : EG_NUM_F64;
    for (uint64_t i = 1; i < n; i++)
        if (v[i].kind != kind)
            kind = EG_NUM_F64;
    if (kind == EG_NUM_NONE)
        kind = EG_NUM_F64;
    a->kind = kind;
    a->data = malloc((n ? n : 1) * 8);
    if (!a->data)
        return eg_error_set(err, EG_ENOMEM, "quantile: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *d = (unsigned char *)a->data + 8 * i;
        if (kind == v[i].kind) {
            memcpy(d, &v[i].v, 8);
            continue;
        }
        double f = v[i].kind == EG_NUM_I64   ? (double)v[i].v.i
                   : v[i].kind == EG_NUM_U64 ? (double)v[i].v.u
                   : v[i].kind == EG_NUM_F64 ? v[i].v.f
                                             : NAN;
        memcpy(d, &f, 8);
    }
    return EG_OK;
}

eg_status eg_squant_alloc(const eg_quant_opts *qo, uint64_t nout,
                              eg_squant_result *q, eg_squant_work *w, eg_error *err)
{
    uint64_t n = nout ? nout : 1, nq = qo->nq ? qo->nq : 1;
    int bad = 0;
    memset(w, 0, sizeof *w);
    if (qo->qops & EG_QOP_QUANTILE)
        bad |= !(w->quant = calloc(nq * n, sizeof *w->quant));
    if (qo->qops & EG_QOP_APPROX)
        bad |= !(w->approx = calloc(nq * n, sizeof *w->approx));
    if (qo->qops & EG_QOP_MEDIAN)
        bad |= !(w->median = calloc(n, sizeof *w->median));
    if (qo->qops & EG_QOP_HIST) {
        uint64_t ne = qo->have_range ? 1 : n;
        if (n > UINT64_MAX / 8 / ((uint64_t)qo->bins + 1))
            return eg_error_set(err, EG_EOVERFLOW,
                                "hist: %llu outputs of %u bins overflow "
                                "64-bit sizes",
                                (unsigned long long)nout, qo->bins);
        bad |= !(q->counts = calloc(n * qo->bins, sizeof *q->counts));
        bad |= !(q->edges = calloc(ne * (qo->bins + 1), sizeof *q->edges));
        bad |= !(q->below = calloc(n, sizeof *q->below));
        bad |= !(q->above = calloc(n, sizeof *q->above));
        bad |= !(q->nan = calloc(n, sizeof *q->nan));
    }
    if (bad)
        return eg_error_set(err, EG_ENOMEM,
                            "quantile: no memory for %llu outputs",
                            (unsigned long long)nout);
    return EG_OK;
}

eg_status eg_squant_settle(const eg_quant_opts *qo, uint64_t nout,
                           eg_squant_work *w, eg_squant_result *q,
                           eg_status st, eg_error *err)
{
    uint64_t nq = qo->nq * nout;
    if (st == EG_OK && w->quant)
        st = settle(w->quant, nq, &q->quantile, err);
    if (st == EG_OK && w->approx)
        st = settle(w->approx, nq, &q->approx, err);
    if (st == EG_OK && w->median)
        st = settle(w->median, nout, &q->median, err);
    free(w->quant);
    free(w->approx);
    free(w->median);
    memset(w, 0, sizeof *w);
    return st;
}

/* Output e's values from its own eg_quant (or eg_qseg) result.  Threads
 * call it for distinct outputs. */
void eg_squant_store(const eg_quant_opts *qo, uint64_t nout, uint64_t e,
                  const eg_quant_result *r, eg_squant_result *q, eg_squant_work *w)
{
    for (size_t i = 0; i < qo->nq; i++) {
        if (w->quant)
            w->quant[i * nout + e] = r->quantile[i];
        if (w->approx)
            w->approx[i * nout + e] = r->approx[i];
    }
    if (w->median)
        w->median[e] = r->median;
    if (!(qo->qops & EG_QOP_HIST))
        return;
    unsigned nb = qo->bins;
    memcpy(q->counts + e * nb, r->counts, nb * sizeof *q->counts);
    if (!qo->have_range)
        memcpy(q->edges + e * (nb + 1), r->edges, (nb + 1) * sizeof *q->edges);
    q->below[e] = r->below;
    q->above[e] = r->above;
    q->nan[e] = r->nan;
}

/* One thread's share of the short segments: outputs [from, to). */
typedef struct qslice {
    const struct qjob *job;
    uint64_t from, to;
    uint64_t fail_at; /* UINT64_MAX: none */
    eg_status st;
    eg_error why;
} qslice;

typedef struct qjob {
    const eg_struct_plan *p;
    const eg_quant_opts *qo;
    const eg_hist_plan *shared;
    eg_squant_result *q;
    eg_squant_work *w;
    int contiguous;
    uint64_t maxshort; /* the longest short segment */
} qjob;

/* Segment of output o: in place, or gathered into buf. */
static const void *segment(const qjob *j, uint64_t o, uint64_t len, void *buf)
{
    const eg_struct_plan *p = j->p;
    if (len == 0)
        return buf; /* nothing is read; an empty array may have no base */
    if (j->contiguous)
        return p->x.base + eg_struct_out_offset(p, &p->x, o) * p->size;
    eg_struct_gather(p, &p->x, o, 0, len, buf);
    return buf;
}

static void *short_slice(void *arg)
{
    qslice *sl = arg;
    const qjob *j = sl->job;
    const eg_struct_plan *p = j->p;
    eg_qseg w;
    unsigned char *buf = NULL;
    sl->fail_at = UINT64_MAX;
    sl->st = eg_qseg_init(&w, j->qo, p->dtype, j->shared, j->maxshort,
                          &sl->why);
    if (sl->st == EG_OK && !j->contiguous &&
        !(buf = malloc(j->maxshort * p->size + 8)))
        sl->st = eg_error_set(&sl->why, EG_ENOMEM,
                              "quantile: out of memory");
    if (sl->st != EG_OK)
        sl->fail_at = sl->from;
    for (uint64_t o = sl->from; sl->st == EG_OK && o < sl->to; o++) {
        uint64_t len = eg_struct_group_len(p, o / p->rest);
        if (len > EG_QSEG_MAX)
            continue; /* eg_quant's, after the threads */
        eg_quant_result r;
        sl->st = eg_qseg_run(&w, segment(j, o, len, buf), len, &r, &sl->why);
        if (sl->st != EG_OK)
            sl->fail_at = o;
        else
            eg_squant_store(j->qo, p->nout, o, &r, j->q, j->w);
    }
    free(buf);
    eg_qseg_free(&w);
    return NULL;
}

/* The short segments on the host's cores, in slices of outputs; the first
 * failing output (the lowest index) gives the error. */
static eg_status run_short(const qjob *j, uint64_t *bad, eg_error *why)
{
    const eg_struct_plan *p = j->p;
    uint64_t elems = 0;
    for (uint64_t g = 0; g < p->ngroups; g++) {
        uint64_t len = eg_struct_group_len(p, g);
        if (len <= EG_QSEG_MAX)
            elems += len * p->rest;
    }
    unsigned t = eg_qscan_threads(elems);
    if (t > p->nout)
        t = p->nout ? (unsigned)p->nout : 1;
    qslice sl[EG_QSCAN_MAX_THREADS];
    pthread_t th[EG_QSCAN_MAX_THREADS];
    int started[EG_QSCAN_MAX_THREADS] = {0};
    for (unsigned i = 0; i < t; i++) {
        sl[i] = (qslice){.job = j,
                         .from = p->nout * i / t,
                         .to = p->nout * (i + 1) / t};
        if (i > 0)
            started[i] = pthread_create(&th[i], NULL, short_slice, &sl[i]) == 0;
    }
    for (unsigned i = 0; i < t; i++)
        if (!started[i])
            short_slice(&sl[i]); /* the caller's share, or a failed start */
    for (unsigned i = 1; i < t; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    eg_status st = EG_OK;
    *bad = UINT64_MAX;
    for (unsigned i = 0; i < t; i++)
        if (sl[i].st != EG_OK && sl[i].fail_at < *bad) {
            *bad = sl[i].fail_at;
            st = sl[i].st;
            *why = sl[i].why;
        }
    return st;
}

/* Every output's segment: the short ones by eg_qseg on threads, the long
 * ones through eg_quant (whose passes use every core), one at a time. */
static eg_status run_outputs(eg_engine *e, const eg_struct_plan *p,
                             const char *input, const eg_quant_opts *qo,
                             eg_squant_result *q, eg_squant_work *w, eg_error *err)
{
    qjob j = {.p = p, .qo = qo, .q = q, .w = w,
              .contiguous = eg_struct_seg_contiguous(p, &p->x)};
    uint64_t maxlen = 0;
    for (uint64_t g = 0; g < p->ngroups; g++) {
        uint64_t len = eg_struct_group_len(p, g);
        maxlen = len > maxlen ? len : maxlen;
        if (len <= EG_QSEG_MAX && len > j.maxshort)
            j.maxshort = len;
    }
    eg_hist_plan shared;
    int have_shared = (qo->qops & EG_QOP_HIST) && qo->have_range;
    eg_status st = EG_OK;
    if (have_shared) {
        st = eg_hist_plan_make(&shared, p->dtype, qo->bins, 1, qo->lo, qo->hi,
                               0, 0, 0, err);
        if (st != EG_OK) {
            eg_hist_plan_free(&shared);
            return st;
        }
        j.shared = &shared;
        memcpy(q->edges, shared.edges, (qo->bins + 1) * sizeof *q->edges);
    }
    uint64_t bad = UINT64_MAX;
    eg_error why = {0};
    if (p->nout > 0)
        st = run_short(&j, &bad, &why);
    unsigned char *buf = NULL;
    if (st == EG_OK && maxlen > EG_QSEG_MAX && !j.contiguous &&
        !(buf = malloc(maxlen * p->size + 8)))
        st = eg_error_set(err, EG_ENOMEM,
                          "quantile: no memory to gather %llu elements",
                          (unsigned long long)maxlen);
    for (uint64_t o = 0; st == EG_OK && maxlen > EG_QSEG_MAX && o < p->nout;
         o++) {
        uint64_t len = eg_struct_group_len(p, o / p->rest);
        if (len <= EG_QSEG_MAX)
            continue;
        eg_quant_result r;
        st = eg_quant(e, segment(&j, o, len, buf), len, p->dtype, qo, &r,
                      &why);
        if (st != EG_OK) {
            bad = o;
            break;
        }
        if (r.passes > q->passes)
            q->passes = r.passes;
        eg_squant_store(qo, p->nout, o, &r, q, w);
        eg_quant_result_free(&r);
    }
    free(buf);
    if (have_shared)
        eg_hist_plan_free(&shared);
    if (st != EG_OK && bad != UINT64_MAX)
        st = eg_squant_segment_error(p, bad, input, st, &why, err);
    if (st == EG_OK && q->passes == 0 && p->nout > 0 &&
        (qo->qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)))
        q->passes = 1; /* the short segments' one reading */
    return st;
}

static eg_status quant_plan(eg_engine *e, const eg_struct_plan *p,
                            const char *input, const eg_quant_opts *qo,
                            eg_squant_result *q, eg_error *err)
{
    eg_squant_work w;
    double t0 = eg_now();
    q->qops = qo->qops;
    q->nq = qo->nq;
    q->nout = p->nout;
    q->nbins = (qo->qops & EG_QOP_HIST) ? qo->bins : 0;
    q->shared_edges = (qo->qops & EG_QOP_HIST) && qo->have_range;
    eg_status st = eg_squant_alloc(qo, p->nout, q, &w, err);
    if (st == EG_OK)
        st = run_outputs(e, p, input, qo, q, &w, err);
    st = eg_squant_settle(qo, p->nout, &w, q, st, err);
    q->seconds = eg_now() - t0;
    return st;
}

/* The devices line when only quantile ops ran, and the note that the
 * counting ran on the host's cores, as eg_reduce_file_quant says them. */
static void host_figures(eg_engine *e, eg_sresult *out,
                         const eg_squant_result *q, int ran_lanes)
{
    eg_result *r = &out->r;
    size_t nd = eg_engine_device_count(e);
    int opencl = 0;
    for (size_t i = 0; i < nd; i++)
        opencl |= eg_engine_device(e, i)->kind != EG_DEV_HOST;
    if (!ran_lanes) {
        eg_device_stats *d = &r->devices[0];
        memset(d, 0, sizeof *d);
        d->index = (unsigned)nd;
        for (size_t i = 0; i < nd; i++)
            if (eg_engine_device(e, i)->kind == EG_DEV_HOST)
                d->index = eg_engine_device(e, i)->index;
        snprintf(d->name, sizeof d->name, "host (quantile passes)");
        d->elements = r->elements;
        d->chunks = d->calls = 1;
        d->seconds = q->seconds;
        r->ndevices = 1;
    }
    if (opencl)
        eg_notes_append(r->notes, sizeof r->notes,
                        "median, quantile, approx_quantile and hist counted "
                        "on the host's cores, not on OpenCL devices");
}

static eg_status quant_sources(eg_engine *e, const eg_source *x,
                               const eg_struct_opts *so,
                               const eg_reduce_opts *o,
                               const eg_quant_opts *qo, eg_sresult *out,
                               eg_squant_result *q, eg_error *err)
{
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        defaults.ops = 0;
        o = &defaults;
    }
    if (!e || !qo)
        return eg_error_set(err, EG_EUSAGE,
                            "eg_reduce_structured_quant: NULL engine or "
                            "quantile options");
    if (o->ops & EG_OPS_BIT(EG_OP_DOT))
        return eg_error_set(err, EG_EUSAGE,
                            "dot cannot be combined with median, quantile, "
                            "approx_quantile or hist");
    eg_status st = eg_quant_opts_check(qo, err);
    if (st != EG_OK)
        return st;
    if (o->ops == 0 && qo->qops == 0)
        return eg_error_set(err, EG_EUSAGE, "no ops requested");
    double t0 = eg_now();
    eg_struct_plan p;
    void *xs = NULL, *ys = NULL;
    st = eg_struct_prepare(&p, x, NULL, so, o, &xs, &ys, err);
    if (st == EG_OK && o->ops)
        st = eg_struct_run(e, &p, o, out, err);
    if (st == EG_OK && qo->qops)
        st = quant_plan(e, &p, eg_source_name(x), qo, q, err);
    free(xs);
    free(ys);
    if (st == EG_OK) {
        eg_struct_result_meta(&p, x, 0, o, out);
        out->r.seconds = eg_now() - t0;
        if (qo->qops)
            host_figures(e, out, q, o->ops != 0);
    } else {
        eg_sresult_free(out);
        eg_squant_result_free(q);
    }
    eg_struct_plan_free(&p);
    return st;
}

eg_status eg_reduce_structured_quant(eg_engine *e, const void *x,
                                     uint64_t count, eg_dtype dtype,
                                     const eg_struct_opts *so,
                                     const eg_reduce_opts *o,
                                     const eg_quant_opts *qo, eg_sresult *out,
                                     eg_squant_result *qout, eg_error *err)
{
    eg_source *sx = NULL;
    memset(out, 0, sizeof *out);
    memset(qout, 0, sizeof *qout);
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x && count > 0)
        return eg_error_set(err, EG_EUSAGE,
                            "eg_reduce_structured_quant: NULL data");
    eg_status st = eg_source_wrap(&sx, x, count, dtype, err);
    if (st == EG_OK)
        st = quant_sources(e, sx, so, o, qo, out, qout, err);
    eg_source_close(&sx);
    return st;
}

eg_status eg_reduce_file_structured_quant(eg_engine *e, const char *path,
                                          const eg_input_opts *in,
                                          const eg_struct_opts *so,
                                          const eg_reduce_opts *o,
                                          const eg_quant_opts *qo,
                                          eg_sresult *out,
                                          eg_squant_result *qout,
                                          eg_error *err)
{
    eg_source *sx = NULL;
    eg_input_opts plain = {0};
    memset(out, 0, sizeof *out);
    memset(qout, 0, sizeof *qout);
    /* as eg_reduce_file_structured: read whole, as --axis gathers by
     * stride; --by reads by row ranges into its permuted copy */
    int by = so != NULL && (so->keys != NULL || so->keys_path != NULL);
    eg_status st = (by ? eg_source_open_rows : eg_source_open_stored)(
        &sx, path, in ? in : &plain, err);
    if (st == EG_OK)
        st = quant_sources(e, sx, so, o, qo, out, qout, err);
    return eg_source_close_checked(&sx, st, err);
}
