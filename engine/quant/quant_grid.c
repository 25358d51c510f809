/* quant_grid.c - the quantile ops as rounds of grid tasks (engine_grid.h,
 * "Quantile jobs on the grid"): the coordinator's plan and collector, the
 * worker's counting of one task, and the wire forms between them.
 *
 * Parameters of a PASS round (the last part of every task), little-endian:
 *
 *   "EGQP"  u16 version  u8 kind  u8 dtype, then by kind
 *     hist    u32 bins  u8 have_range  u8 empty  u16 0  f64 lo  f64 hi
 *             u64 kmin  u64 kmax          (the plan, as eg_hist_plan_make)
 *     sketch  u32 k  u32 0
 *     select  u32 groups (1..EG_QGRID_GROUPS_MAX)  u32 0, then per group
 *             u32 fixed  u32 0  u64 prefix
 *
 * A task's result payload (in its RESULT frame):
 *
 *   "EGQR"  u16 version  u8 kind  u8 dtype  u64 elements, then
 *     hist    the histogram state (hist_wire.c, "EGHS")
 *     sketch  the sketch (sketch_wire.c, "EGSK")
 *     select  u32 groups  u32 0, then per group its pass counts
 *             (select_wire.c, "EGSP"), in the parameters' order
 *
 * Everything is checked before it is used: the worker checks the
 * parameters, the frame decoder the payload's structure, the collector the
 * payload against the round it runs (plan, buckets, and that the counts
 * add up to the task's elements). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"
#include "error.h"
#include "hist.h"
#include "qselect.h"
#include "quant_key.h"
#include "quant_numpy.h"
#include "quant_range.h"
#include "sketch.h"

#define QP_MAGIC "EGQP"
#define QR_MAGIC "EGQR"
#define QG_VERSION 1u
#define QP_HEADER 8
#define QR_HEADER 16
#define QP_HIST (QP_HEADER + 40)
#define QP_SKETCH (QP_HEADER + 8)
#define QP_GROUP 16
#define QP_SELECT_MAX (QP_HEADER + 8 + QP_GROUP * EG_QGRID_GROUPS_MAX)
/* The histogram state's fixed part (hist_wire.c). */
#define HS_FIXED 56
/* Largest part of a source a worker counts at once. */
#define QT_PART_BYTES (64u << 20)

typedef enum qkind { QK_NONE, QK_HIST, QK_SKETCH, QK_SELECT } qkind;

/* One bucket a selection pass searches, and its merged counts. */
typedef struct qg_group {
    uint64_t prefix;
    unsigned fixed;
    eg_select_counts c;
} qg_group;

struct eg_qgrid {
    eg_dtype dtype;
    uint64_t count;
    eg_quant_opts o;
    char name[256];
    unsigned width, digit;
    /* what is left */
    int need_range, hist_left, sketch_left, select_left;
    /* the round running */
    qkind kind;
    char round_name[64];
    uint8_t params[QP_SELECT_MAX];
    size_t params_len;
    /* hist */
    uint64_t kmin, kmax;
    int empty;
    eg_hist_plan plan;
    int have_plan;
    eg_hist_state h;
    /* approx_quantile */
    unsigned k;
    eg_sketch sk;
    int have_sketch;
    /* selection */
    int select_started, select_nan; /* select_nan: the answers are NaN */
    uint64_t n, nan;                /* non-NaN keys, NaNs */
    size_t ngroups;
    qg_group g[EG_QGRID_GROUPS_MAX];
    size_t ntargets;
    eg_select_target t[EG_SELECT_MAX_RANKS];
    unsigned passes;
};

/* ------------------------------------------------------------ wire bits */

static void put_header(uint8_t *p, const char *magic, qkind kind, eg_dtype t)
{
    memcpy(p, magic, 4);
    p[4] = QG_VERSION & 0xff;
    p[5] = QG_VERSION >> 8;
    p[6] = (uint8_t)kind;
    p[7] = (uint8_t)t;
}

static uint64_t dbits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static double bitsd(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static eg_status bad(eg_error *err, const char *what, const char *why)
{
    return eg_error_set(err, EG_EINPUT, "%s: %s", what, why);
}

static unsigned digit_of(eg_dtype t)
{
    return eg_key_bits(t) == 8 ? 8 : 16;
}

/* --------------------------------------------------------- parameters */

/* Decoded parameters of one PASS round. */
typedef struct qparams {
    qkind kind;
    eg_dtype dtype;
    unsigned bins;
    int have_range, empty;
    double lo, hi;
    uint64_t kmin, kmax;
    unsigned k;
    size_t ngroups;
    uint64_t prefix[EG_QGRID_GROUPS_MAX];
    unsigned fixed[EG_QGRID_GROUPS_MAX];
} qparams;

static eg_status params_parse(qparams *q, const uint8_t *p, size_t len,
                              eg_error *err)
{
    const char *what = "quantile task parameters";
    memset(q, 0, sizeof *q);
    if (len < QP_HEADER || memcmp(p, QP_MAGIC, 4) != 0)
        return bad(err, what, "bad magic");
    if ((unsigned)(p[4] | p[5] << 8) != QG_VERSION)
        return bad(err, what, "unknown version");
    if (p[6] < QK_HIST || p[6] > QK_SELECT || p[7] >= EG_DTYPE_COUNT)
        return bad(err, what, "unknown kind or dtype");
    q->kind = (qkind)p[6];
    q->dtype = (eg_dtype)p[7];
    unsigned w = eg_key_bits(q->dtype), d = digit_of(q->dtype);
    switch (q->kind) {
    case QK_HIST:
        if (len != QP_HIST)
            return bad(err, what, "wrong size");
        q->bins = (unsigned)eg_get_le(p + 8, 4);
        q->have_range = p[12];
        q->empty = p[13];
        q->lo = bitsd(eg_get_le64(p + 16));
        q->hi = bitsd(eg_get_le64(p + 24));
        q->kmin = eg_get_le64(p + 32);
        q->kmax = eg_get_le64(p + 40);
        if (q->bins == 0 || q->bins > EG_HIST_MAX_BINS || q->have_range > 1 ||
            q->empty > 1 || p[14] || p[15])
            return bad(err, what, "histogram bins or flags out of range");
        if (q->have_range &&
            !(isfinite(q->lo) && isfinite(q->hi) && q->lo < q->hi))
            return bad(err, what, "histogram range is not finite LO < HI");
        if (!q->have_range && !q->empty &&
            (q->kmin > q->kmax || (w < 64 && q->kmax >> w)))
            return bad(err, what, "histogram min/max keys out of order");
        return EG_OK;
    case QK_SKETCH:
        if (len != QP_SKETCH)
            return bad(err, what, "wrong size");
        q->k = (unsigned)(eg_get_le64(p + 8) & 0xffffffffu);
        if (q->k > EG_SKETCH_MAX_K || eg_get_le64(p + 8) >> 32)
            return bad(err, what, "sketch bucket bits out of range");
        return EG_OK;
    default: {
        if (len < QP_HEADER + 8)
            return bad(err, what, "wrong size");
        uint64_t ng = eg_get_le64(p + 8);
        if (ng == 0 || ng > EG_QGRID_GROUPS_MAX ||
            len != QP_HEADER + 8 + QP_GROUP * ng)
            return bad(err, what, "selection buckets out of range");
        q->ngroups = (size_t)ng;
        for (size_t i = 0; i < q->ngroups; i++) {
            const uint8_t *g = p + QP_HEADER + 8 + QP_GROUP * i;
            uint64_t f = eg_get_le64(g);
            q->prefix[i] = eg_get_le64(g + 8);
            if (f > w || f + d > w ||
                (f == 0 ? q->prefix[i] != 0 : q->prefix[i] >> f != 0))
                return bad(err, what, "selection bucket does not fit its "
                           "dtype");
            q->fixed[i] = (unsigned)f;
        }
        return EG_OK;
    }
    }
}

eg_status eg_qgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                eg_error *err)
{
    qparams q;
    eg_status st = params_parse(&q, p, len, err);
    if (st == EG_OK && q.dtype != t)
        return bad(err, "quantile task parameters", "of another dtype than "
                   "the task's data");
    return st;
}

/* ------------------------------------------------------------- payloads */

eg_status eg_qgrid_payload_check(const uint8_t *p, size_t len,
                                 uint64_t *count, eg_error *err)
{
    const char *what = "quantile result";
    if (len < QR_HEADER || memcmp(p, QR_MAGIC, 4) != 0)
        return bad(err, what, "bad magic");
    if (len > EG_QGRID_PAYLOAD_MAX)
        return bad(err, what, "larger than the grid's limit");
    if ((unsigned)(p[4] | p[5] << 8) != QG_VERSION)
        return bad(err, what, "unknown version");
    if (p[6] < QK_HIST || p[6] > QK_SELECT || p[7] >= EG_DTYPE_COUNT)
        return bad(err, what, "unknown kind or dtype");
    eg_dtype t = (eg_dtype)p[7];
    *count = eg_get_le64(p + 8);
    const uint8_t *b = p + QR_HEADER;
    size_t blen = len - QR_HEADER;
    switch ((qkind)p[6]) {
    case QK_HIST: {
        if (blen < HS_FIXED || memcmp(b, "EGHS", 4) != 0 || b[6] != p[7])
            return bad(err, what, "not a histogram state of its dtype");
        uint64_t bins = eg_get_le(b + 8, 4);
        if (bins == 0 || bins > EG_HIST_MAX_BINS ||
            blen != HS_FIXED + 8 * bins)
            return bad(err, what, "histogram size does not match its bins");
        return EG_OK;
    }
    case QK_SKETCH: {
        eg_sketch s;
        eg_status st = eg_sketch_decode(&s, b, blen, err);
        eg_sketch_free(&s);
        return st;
    }
    default: {
        if (blen < 8)
            return bad(err, what, "selection counts missing");
        uint64_t ng = eg_get_le64(b);
        size_t one = eg_select_counts_size(t);
        if (ng == 0 || ng > EG_QGRID_GROUPS_MAX || blen != 8 + one * ng)
            return bad(err, what, "selection counts of the wrong size");
        for (size_t i = 0; i < ng; i++) {
            const uint8_t *c = b + 8 + one * i;
            if (memcmp(c, "EGSP", 4) != 0 || c[6] != p[7])
                return bad(err, what, "selection counts of another dtype");
        }
        return EG_OK;
    }
    }
}

/* ---------------------------------------------------------------- worker */

static eg_status make_plan(eg_hist_plan *plan, const qparams *q, eg_error *err)
{
    return eg_hist_plan_make(plan, q->dtype, q->bins, q->have_range, q->lo,
                             q->hi, q->kmin, q->kmax, q->empty, err);
}

/* One task's counting, fed its data in one or more pieces (a shard is
 * read in parts): the counts add up, so the pieces never change them. */
typedef struct qtask {
    qparams q;
    uint64_t n;
    eg_hist_plan plan;
    int have_plan;
    eg_hist_state h;
    eg_sketch s;
    eg_select_counts c[EG_QGRID_GROUPS_MAX];
} qtask;

static void qtask_free(qtask *k)
{
    if (k->have_plan)
        eg_hist_plan_free(&k->plan);
    eg_hist_state_free(&k->h);
    eg_sketch_free(&k->s);
    for (size_t i = 0; i < EG_QGRID_GROUPS_MAX; i++)
        eg_select_counts_free(&k->c[i]);
}

static eg_status qtask_init(qtask *k, const uint8_t *params, size_t plen,
                            eg_dtype t, eg_error *err)
{
    memset(k, 0, sizeof *k);
    eg_sketch_init(&k->s, 0);
    eg_status st = params_parse(&k->q, params, plen, err);
    if (st == EG_OK && k->q.dtype != t)
        st = bad(err, "quantile task parameters", "of another dtype than "
                 "the task's data");
    if (st != EG_OK)
        return st;
    const qparams *q = &k->q;
    switch (q->kind) {
    case QK_HIST:
        st = make_plan(&k->plan, q, err);
        if (st != EG_OK) {
            eg_hist_plan_free(&k->plan);
            return st;
        }
        k->have_plan = 1;
        return eg_hist_state_init(&k->h, q->bins, err);
    case QK_SKETCH:
        eg_sketch_init(&k->s, q->k);
        return EG_OK;
    default: {
        unsigned d = digit_of(q->dtype);
        for (size_t i = 0; i < q->ngroups; i++) {
            k->c[i] = (eg_select_counts){.dtype = q->dtype, .digit = d,
                                         .fixed = q->fixed[i],
                                         .prefix = q->prefix[i]};
            k->c[i].hist = calloc((size_t)1 << d, sizeof *k->c[i].hist);
            if (!k->c[i].hist)
                return eg_error_set(err, EG_ENOMEM,
                                    "quantile task: out of memory");
        }
        return EG_OK;
    }
    }
}

/* Counts n more elements at data (native order). */
static eg_status qtask_add(qtask *k, const void *data, uint64_t n,
                           eg_error *err)
{
    k->n += n;
    switch (k->q.kind) {
    case QK_HIST: eg_hist_add(&k->plan, &k->h, data, n); return EG_OK;
    case QK_SKETCH: return eg_sketch_add(&k->s, data, n, k->q.dtype, err);
    default: {
        eg_status st = EG_OK;
        for (size_t i = 0; st == EG_OK && i < k->q.ngroups; i++)
            st = eg_select_pass_counts(data, n, k->q.dtype, k->c[i].prefix,
                                       k->c[i].fixed, k->c[i].hist,
                                       &k->c[i].nan, err);
        return st;
    }
    }
}

/* The payload of what was counted, malloc'ed. */
static eg_status qtask_encode(const qtask *k, uint8_t **out, size_t *len,
                              eg_error *err)
{
    const qparams *q = &k->q;
    size_t one = eg_select_counts_size(q->dtype);
    size_t body = q->kind == QK_HIST     ? eg_hist_encoded_size(&k->plan)
                  : q->kind == QK_SKETCH ? eg_sketch_encoded_size(&k->s)
                                         : 8 + one * q->ngroups;
    *len = QR_HEADER + body;
    if (*len > EG_QGRID_PAYLOAD_MAX)
        return eg_error_set(err, EG_EINPUT, "quantile task: its result of "
                            "%zu bytes is above the grid's limit of %u "
                            "bytes%s", *len, EG_QGRID_PAYLOAD_MAX,
                            q->kind == QK_SKETCH ? " (raise --rel-err)" : "");
    uint8_t *p = malloc(*len);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "quantile task: out of memory");
    put_header(p, QR_MAGIC, q->kind, q->dtype);
    eg_put_le64(p + 8, k->n);
    if (q->kind == QK_HIST) {
        eg_hist_encode(&k->plan, &k->h, p + QR_HEADER);
    } else if (q->kind == QK_SKETCH) {
        eg_sketch_encode(&k->s, p + QR_HEADER);
    } else {
        eg_put_le64(p + QR_HEADER, q->ngroups);
        for (size_t i = 0; i < q->ngroups; i++)
            eg_select_counts_encode(&k->c[i], p + QR_HEADER + 8 + one * i);
    }
    *out = p;
    return EG_OK;
}

eg_status eg_qgrid_task_run(const uint8_t *params, size_t plen,
                            const void *data, uint64_t n, eg_dtype t,
                            uint8_t **out, size_t *out_len, eg_error *err)
{
    qtask k;
    *out = NULL;
    *out_len = 0;
    eg_status st = qtask_init(&k, params, plen, t, err);
    if (st == EG_OK)
        st = qtask_add(&k, data, n, err);
    if (st == EG_OK)
        st = qtask_encode(&k, out, out_len, err);
    qtask_free(&k);
    return st;
}

eg_status eg_qgrid_task_run_source(const uint8_t *params, size_t plen,
                                   const eg_source *src, uint8_t **out,
                                   size_t *out_len, eg_error *err)
{
    const eg_array_info *a = eg_source_info(src);
    size_t item = eg_dtype_size(a->dtype);
    qtask k;
    *out = NULL;
    *out_len = 0;
    eg_status st = qtask_init(&k, params, plen, a->dtype, err);
    /* Read in parts of a bounded size (a shard may be larger than the
     * memory), checked once at the end for a rewrite in place, as the
     * engine's reads of a file are. */
    uint64_t part = QT_PART_BYTES / item;
    void *buf = NULL;
    if (st == EG_OK && eg_source_needs_buffer(src) && a->count) {
        buf = malloc((size_t)(a->count < part ? a->count : part) * item);
        if (!buf)
            st = eg_error_set(err, EG_ENOMEM, "quantile task: out of memory "
                              "for a read buffer");
    }
    for (uint64_t at = 0; st == EG_OK && at < a->count; at += part) {
        uint64_t n = a->count - at < part ? a->count - at : part;
        const void *data = NULL;
        st = eg_source_get_part(src, at, n, buf, &data, err);
        if (st == EG_OK)
            st = qtask_add(&k, data, n, err);
    }
    if (st == EG_OK)
        st = eg_source_check(src, a->count, err);
    if (st == EG_OK)
        st = qtask_encode(&k, out, out_len, err);
    free(buf);
    qtask_free(&k);
    return st;
}

/* ------------------------------------------------------------ collector */

eg_status eg_qgrid_open(eg_qgrid **out, eg_dtype t, uint64_t count,
                        const eg_quant_opts *qo, const char *name,
                        eg_error *err)
{
    *out = NULL;
    eg_status st = eg_quant_opts_check(qo, err);
    if (st != EG_OK)
        return st;
    eg_qgrid *g = calloc(1, sizeof *g);
    if (!g)
        return eg_error_set(err, EG_ENOMEM, "coordinator: out of memory");
    g->dtype = t;
    g->count = count;
    g->o = *qo;
    snprintf(g->name, sizeof g->name, "%s", name ? name : "input");
    g->width = eg_key_bits(t);
    g->digit = digit_of(t);
    g->hist_left = (qo->qops & EG_QOP_HIST) != 0;
    g->need_range = g->hist_left && !qo->have_range;
    g->sketch_left = (qo->qops & EG_QOP_APPROX) != 0;
    g->select_left = (qo->qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)) != 0;
    if (g->sketch_left && (st = eg_sketch_k_for(qo->rel_err, &g->k, err)))
        eg_qgrid_close(&g);
    *out = g;
    return st;
}

static void groups_free(eg_qgrid *g)
{
    for (size_t i = 0; i < g->ngroups; i++)
        eg_select_counts_free(&g->g[i].c);
    g->ngroups = 0;
}

void eg_qgrid_close(eg_qgrid **gp)
{
    if (!gp || !*gp)
        return;
    eg_qgrid *g = *gp;
    groups_free(g);
    eg_hist_state_free(&g->h);
    if (g->have_plan)
        eg_hist_plan_free(&g->plan);
    eg_sketch_free(&g->sk);
    free(g);
    *gp = NULL;
}

static eg_status begin_hist(eg_qgrid *g, eg_error *err)
{
    qparams q = {.kind = QK_HIST, .dtype = g->dtype, .bins = g->o.bins,
                 .have_range = g->o.have_range, .empty = g->empty,
                 .lo = g->o.lo, .hi = g->o.hi, .kmin = g->kmin,
                 .kmax = g->kmax};
    eg_status st = make_plan(&g->plan, &q, err);
    if (st != EG_OK) {
        eg_hist_plan_free(&g->plan);
        return st;
    }
    g->have_plan = 1;
    if ((st = eg_hist_state_init(&g->h, g->o.bins, err)) != EG_OK)
        return st;
    uint8_t *p = g->params;
    put_header(p, QP_MAGIC, QK_HIST, g->dtype);
    memset(p + 8, 0, QP_HIST - 8);
    eg_put_le(p + 8, q.bins, 4);
    p[12] = (uint8_t)q.have_range;
    p[13] = (uint8_t)q.empty;
    eg_put_le64(p + 16, dbits(q.lo));
    eg_put_le64(p + 24, dbits(q.hi));
    eg_put_le64(p + 32, q.kmin);
    eg_put_le64(p + 40, q.kmax);
    g->params_len = QP_HIST;
    g->kind = QK_HIST;
    snprintf(g->round_name, sizeof g->round_name, "hist");
    return EG_OK;
}

static void begin_sketch(eg_qgrid *g)
{
    eg_sketch_init(&g->sk, g->k);
    g->have_sketch = 1;
    uint8_t *p = g->params;
    put_header(p, QP_MAGIC, QK_SKETCH, g->dtype);
    eg_put_le64(p + 8, g->k);
    g->params_len = QP_SKETCH;
    g->kind = QK_SKETCH;
    snprintf(g->round_name, sizeof g->round_name, "approx_quantile");
}

/* The buckets of the next selection pass: the first pass counts the top
 * digit of every key; later ones the next digit inside each bucket that
 * still holds a wanted rank.  0 when every rank is found. */
static eg_status begin_select(eg_qgrid *g, int *any, eg_error *err)
{
    groups_free(g);
    if (!g->select_started) {
        g->g[0] = (qg_group){.prefix = 0, .fixed = 0};
        g->ngroups = 1;
    } else {
        for (size_t i = 0; i < g->ntargets; i++) {
            const eg_select_target *t = &g->t[i];
            if (t->done)
                continue;
            size_t j = 0;
            while (j < g->ngroups &&
                   !(g->g[j].prefix == t->prefix && g->g[j].fixed == t->fixed))
                j++;
            if (j == g->ngroups && j < EG_QGRID_GROUPS_MAX)
                g->g[g->ngroups++] =
                    (qg_group){.prefix = t->prefix, .fixed = t->fixed};
        }
    }
    *any = g->ngroups > 0;
    if (!*any)
        return EG_OK;
    size_t bins = (size_t)1 << g->digit;
    uint8_t *p = g->params;
    put_header(p, QP_MAGIC, QK_SELECT, g->dtype);
    eg_put_le64(p + 8, g->ngroups);
    for (size_t i = 0; i < g->ngroups; i++) {
        qg_group *q = &g->g[i];
        q->c = (eg_select_counts){.dtype = g->dtype, .digit = g->digit,
                                  .fixed = q->fixed, .prefix = q->prefix};
        q->c.hist = calloc(bins, sizeof *q->c.hist);
        if (!q->c.hist)
            return eg_error_set(err, EG_ENOMEM, "coordinator: out of memory "
                                "for a selection pass");
        eg_put_le64(p + QP_HEADER + 8 + QP_GROUP * i, q->fixed);
        eg_put_le64(p + QP_HEADER + 16 + QP_GROUP * i, q->prefix);
    }
    g->params_len = QP_HEADER + 8 + QP_GROUP * g->ngroups;
    g->kind = QK_SELECT;
    snprintf(g->round_name, sizeof g->round_name, "selection pass %u",
             g->passes + 1);
    return EG_OK;
}

eg_status eg_qgrid_next(eg_qgrid *g, eg_qround *kind, const uint8_t **params,
                        size_t *len, eg_error *err)
{
    *kind = EG_QROUND_DONE;
    *params = NULL;
    *len = 0;
    g->kind = QK_NONE;
    g->round_name[0] = '\0';
    eg_status st = EG_OK;
    if (g->need_range) {
        *kind = EG_QROUND_MINMAX;
        snprintf(g->round_name, sizeof g->round_name, "hist range (min/max)");
        return EG_OK;
    }
    if (g->hist_left) {
        st = begin_hist(g, err);
    } else if (g->sketch_left) {
        begin_sketch(g);
    } else if (g->select_left) {
        int any = 0;
        st = begin_select(g, &any, err);
        if (st == EG_OK && !any)
            g->select_left = 0;
    }
    if (st == EG_OK && g->kind != QK_NONE) {
        *kind = EG_QROUND_PASS;
        *params = g->params;
        *len = g->params_len;
    }
    return st;
}

const char *eg_qgrid_round_name(const eg_qgrid *g)
{
    return g->round_name;
}

eg_status eg_qgrid_minmax(eg_qgrid *g, const eg_state *s, eg_error *err)
{
    eg_status st = eg_quant_range_keys(s, g->dtype, g->o.nan, g->name,
                                       &g->kmin, &g->kmax, &g->empty, err);
    if (st == EG_OK)
        g->need_range = 0;
    return st;
}

/* Adds a to *sum; 0 when it overflows. */
static int add_to(uint64_t *sum, uint64_t a)
{
    if (*sum + a < *sum)
        return 0;
    *sum += a;
    return 1;
}

/* Decodes a payload of the running round: hist into *h, the sketch into
 * *s, selection counts into c[] (one per group); NULL or why not. */
static const char *decode(const eg_qgrid *g, const uint8_t *p, size_t len,
                          uint64_t count, eg_hist_state *h, eg_sketch *s,
                          eg_select_counts *c)
{
    uint64_t elems;
    eg_error why;
    if (eg_qgrid_payload_check(p, len, &elems, &why) != EG_OK)
        return "quantile result malformed";
    if (p[6] != (uint8_t)g->kind || p[7] != (uint8_t)g->dtype)
        return "quantile result of another round or dtype";
    if (elems != count)
        return "quantile result does not cover its task's range";
    const uint8_t *b = p + QR_HEADER;
    size_t blen = len - QR_HEADER;
    uint64_t sum = 0;
    if (g->kind == QK_HIST) {
        if (eg_hist_decode(&g->plan, h, b, blen, &why) != EG_OK)
            return "histogram state of another plan";
        int ok = add_to(&sum, h->below) && add_to(&sum, h->above) &&
                 add_to(&sum, h->nan);
        for (unsigned i = 0; ok && i < h->nbins; i++)
            ok = add_to(&sum, h->counts[i]);
        return ok && sum == count ? NULL
                                  : "histogram counts do not add up to its "
                                    "task's elements";
    }
    if (g->kind == QK_SKETCH) {
        if (eg_sketch_decode(s, b, blen, &why) != EG_OK || s->k != g->k)
            return "sketch of another relative error";
        return eg_sketch_count(s) + s->nan == count
                   ? NULL
                   : "sketch counts do not add up to its task's elements";
    }
    if (eg_get_le64(b) != g->ngroups)
        return "selection counts for other buckets";
    size_t one = eg_select_counts_size(g->dtype);
    for (size_t i = 0; i < g->ngroups; i++) {
        if (eg_select_counts_decode(&c[i], b + 8 + one * i, one, &why) !=
            EG_OK)
            return "selection counts malformed";
        if (c[i].fixed != g->g[i].fixed || c[i].prefix != g->g[i].prefix)
            return "selection counts for other buckets";
        sum = 0;
        int ok = add_to(&sum, c[i].nan);
        for (size_t b2 = 0; ok && b2 < ((size_t)1 << g->digit); b2++)
            ok = add_to(&sum, c[i].hist[b2]);
        /* every key is in the first pass's one bucket; later buckets hold
         * some keys of the task, and each pass sees all of its NaNs */
        if (!ok || sum > count || (g->g[i].fixed == 0 && sum != count) ||
            (i > 0 && c[i].nan != c[0].nan))
            return "selection counts do not add up to its task's elements";
    }
    return NULL;
}

static void decoded_free(eg_hist_state *h, eg_sketch *s, eg_select_counts *c,
                         size_t n)
{
    eg_hist_state_free(h);
    eg_sketch_free(s);
    for (size_t i = 0; i < n; i++)
        eg_select_counts_free(&c[i]);
}

const char *eg_qgrid_check(const eg_qgrid *g, const uint8_t *payload,
                           size_t len, uint64_t count)
{
    if (g->kind == QK_NONE)
        return "quantile result outside a quantile round";
    eg_hist_state h = {0};
    eg_sketch s;
    eg_select_counts c[EG_QGRID_GROUPS_MAX];
    eg_sketch_init(&s, 0);
    memset(c, 0, sizeof c);
    const char *why = decode(g, payload, len, count, &h, &s, c);
    decoded_free(&h, &s, c, EG_QGRID_GROUPS_MAX);
    return why;
}

eg_status eg_qgrid_put(eg_qgrid *g, const uint8_t *payload, size_t len,
                       eg_error *err)
{
    eg_hist_state h = {0};
    eg_sketch s;
    eg_select_counts c[EG_QGRID_GROUPS_MAX];
    eg_sketch_init(&s, 0);
    memset(c, 0, sizeof c);
    uint64_t elems = payload && len >= QR_HEADER ? eg_get_le64(payload + 8)
                                                 : 0;
    const char *why = decode(g, payload, len, elems, &h, &s, c);
    eg_status st = EG_OK;
    if (why)
        st = eg_error_set(err, EG_EINTERNAL, "coordinator: %s", why);
    else if (g->kind == QK_HIST)
        eg_hist_merge(&g->h, &h);
    else if (g->kind == QK_SKETCH)
        st = eg_sketch_merge(&g->sk, &s, err);
    else
        for (size_t i = 0; st == EG_OK && i < g->ngroups; i++)
            st = eg_select_counts_merge(&g->g[i].c, &c[i], err);
    decoded_free(&h, &s, c, EG_QGRID_GROUPS_MAX);
    return st;
}

/* Moves a target down into its digit of the merged counts h (as
 * qselect.c's passes do); -1 when h holds fewer keys than its rank. */
static int descend(const eg_qgrid *g, eg_select_target *t, const uint64_t *h)
{
    uint64_t c = 0;
    for (size_t b = 0; b < ((size_t)1 << g->digit); b++) {
        if (t->local < c + h[b]) {
            t->prefix = (t->prefix << g->digit) | b;
            t->fixed += g->digit;
            t->local -= c;
            t->bucket = h[b];
            if (t->fixed == g->width) {
                t->done = 1;
                t->key = t->prefix;
            }
            return 0;
        }
        c += h[b];
    }
    return -1;
}

/* After the first pass: how many keys and NaNs, and the ranks wanted. */
static void select_targets(eg_qgrid *g)
{
    const eg_select_counts *top = &g->g[0].c;
    g->nan = top->nan;
    g->n = 0;
    for (size_t b = 0; b < ((size_t)1 << g->digit); b++)
        g->n += top->hist[b];
    /* propagate: any NaN makes every order statistic NaN, as numpy */
    g->select_nan = g->n == 0 || (g->nan > 0 && g->o.nan == EG_NAN_PROPAGATE);
    g->ntargets = 0;
    if (g->select_nan)
        return;
    uint64_t ranks[EG_SELECT_MAX_RANKS];
    size_t nr = 0;
    if (g->o.qops & EG_QOP_QUANTILE)
        for (size_t i = 0; i < g->o.nq; i++, nr += 2)
            eg_np_quantile_ranks(g->n, g->o.q[i], g->o.method, &ranks[nr],
                                 &ranks[nr + 1]);
    if (g->o.qops & EG_QOP_MEDIAN) {
        eg_np_median_ranks(g->n, &ranks[nr], &ranks[nr + 1]);
        nr += 2;
    }
    for (size_t i = 0; i < nr; i++)
        g->t[i] = (eg_select_target){.rank = ranks[i], .local = ranks[i],
                                     .bucket = g->n};
    g->ntargets = nr;
}

eg_status eg_qgrid_round_end(eg_qgrid *g, eg_error *err)
{
    switch (g->kind) {
    case QK_HIST: g->hist_left = 0; break;
    case QK_SKETCH: g->sketch_left = 0; break;
    case QK_SELECT:
        g->passes++;
        if (!g->select_started) {
            g->select_started = 1;
            select_targets(g);
            if (g->select_nan)
                g->select_left = 0;
        }
        for (size_t i = 0; i < g->ntargets; i++) {
            eg_select_target *t = &g->t[i];
            for (size_t j = 0; !t->done && j < g->ngroups; j++) {
                if (g->g[j].prefix != t->prefix || g->g[j].fixed != t->fixed)
                    continue;
                if (descend(g, t, g->g[j].c.hist) != 0)
                    return eg_error_set(err, EG_EIO, "%s: selection pass %u "
                                        "counts fewer keys than a rank "
                                        "needs", g->name, g->passes);
                break;
            }
        }
        break;
    default: break;
    }
    g->kind = QK_NONE;
    return EG_OK;
}

static eg_number nan_number(void)
{
    eg_number n = {.kind = EG_NUM_F64};
    n.v.f = NAN;
    return n;
}

eg_status eg_qgrid_result(eg_qgrid *g, eg_quant_result *r, eg_error *err)
{
    memset(r, 0, sizeof *r);
    if (g->need_range || g->hist_left || g->sketch_left || g->select_left)
        return eg_error_set(err, EG_EINTERNAL, "coordinator: quantile "
                            "rounds left to run");
    r->qops = g->o.qops;
    r->nq = g->o.nq;
    r->passes = g->passes;
    eg_dtype t = g->dtype;
    if (g->o.qops & (EG_QOP_QUANTILE | EG_QOP_MEDIAN)) {
        size_t j = 0;
        r->median = nan_number();
        for (size_t i = 0; i < g->o.nq; i++)
            r->quantile[i] = nan_number();
        if (!g->select_nan && (g->o.qops & EG_QOP_QUANTILE))
            for (size_t i = 0; i < g->o.nq; i++, j += 2)
                r->quantile[i] = eg_np_quantile_value(
                    g->n, g->o.q[i], g->o.method, t,
                    eg_key_value(g->t[j].key, t),
                    eg_key_value(g->t[j + 1].key, t));
        if (!g->select_nan && (g->o.qops & EG_QOP_MEDIAN))
            r->median = eg_np_median_value(g->n, t,
                                           eg_key_value(g->t[j].key, t),
                                           eg_key_value(g->t[j + 1].key, t));
    }
    if (g->o.qops & EG_QOP_APPROX) {
        uint64_t n = eg_sketch_count(&g->sk);
        r->sketch_bytes = eg_sketch_encoded_size(&g->sk);
        for (size_t i = 0; i < g->o.nq; i++) {
            eg_number v = nan_number();
            if (n > 0 && !(g->sk.nan > 0 && g->o.nan == EG_NAN_PROPAGATE))
                v.v.f = eg_sketch_at(&g->sk, eg_np_lower_rank(n, g->o.q[i]));
            r->approx[i] = v;
        }
    }
    if (g->o.qops & EG_QOP_HIST) {
        r->nbins = g->o.bins;
        r->counts = g->h.counts;
        g->h.counts = NULL;
        r->below = g->h.below;
        r->above = g->h.above;
        r->nan = g->h.nan;
        r->edges = g->plan.edges;
        g->plan.edges = NULL;
    }
    return EG_OK;
}
