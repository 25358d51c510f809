/* coord_quant.c - a job with median, quantile, approx_quantile or hist as
 * rounds of tasks (engine_grid.h, "Quantile jobs on the grid").
 *
 * Every round covers the input with the same tasks as the flat job, under
 * a ledger of its own and a job id of its own, so a late result of an
 * earlier round is refused as another job's, never merged into this one;
 * a worker lost in a round has its tasks sent again like in any job.  The
 * rounds: the ordinary ops first (when asked), then what eg_qgrid_next
 * says: a min/max round for hist's automatic range, and PASS rounds whose
 * integer counts are added up as they are accepted.
 *
 * With --shards the data never reaches the coordinator: the first round
 * (the ordinary ops; when none are asked, hist's min/max round if it
 * needs one, else a count of each shard) is where it learns the shards'
 * dtype and sizes, so the plan is made after it; every later round's task
 * names its shard and carries that size, which the worker checks against
 * the file before counting it. */
#include <stdio.h>
#include <string.h>

#include "coord_internal.h"
#include "engine_grid.h"
#include "sysdep.h"

eg_status coord_quant_open(eg_coord *c, eg_error *err)
{
    eg_quant_opts q = *c->o.quant;
    /* One --nan for the whole job, as in `reduce`. */
    q.nan = c->o.reduce.nan;
    return eg_qgrid_open(&c->qg, c->dtype, c->count, &q, c->input_name, err);
}

void coord_ledger_retire(eg_coord *c, uint64_t ntasks, eg_error *err,
                         eg_status *st)
{
    eg_ledger *l = &c->ledger, *p = &c->past;
    if (c->rounds > 0) { /* else: the ledger of open, never run */
        p->ntasks += l->ntasks;
        p->done += l->done;
        p->attempts += l->attempts;
        p->redispatched += l->redispatched;
        p->duplicates += l->duplicates;
        p->failures += l->failures;
        p->returned += l->returned;
        p->unstarted += l->unstarted;
    }
    eg_ledger_free(l);
    *st = eg_ledger_init(l, ntasks, err);
    c->job = eg_random64();
}

/* Starts a new round over the same ranges: the finished ledger's counters
 * are kept for the report. */
static eg_status next_ledger(eg_coord *c, eg_error *err)
{
    eg_ledger *l = &c->ledger;
    eg_status st;
    coord_ledger_retire(c, l->ntasks, err, &st);
    uint64_t n = l->ntasks;
    for (uint64_t i = 0; st == EG_OK && i < n; i++) {
        if (c->mode == MODE_SHARDS) {
            /* a shard's size, as the first round found it */
            eg_ledger_set_range(l, i, 0, c->manifest.counts[i]);
            continue;
        }
        uint64_t f = i * c->task_elems;
        eg_ledger_set_range(l, i, f,
                            c->count - f < c->task_elems ? c->count - f
                                                         : c->task_elems);
    }
    return st;
}

/* The result's figures when no ordinary op ran: those of the input (the
 * shards: their dtype and, one after another, one long array). */
static void input_result(eg_coord *c, eg_result *res)
{
    memset(res, 0, sizeof *res);
    res->mode = c->o.reduce.mode;
    if (c->mode == MODE_SHARDS) {
        res->dtype = c->dtype;
        res->elements = c->count;
        res->ndim = 1;
        res->shape[0] = c->count;
        return;
    }
    const eg_array_info *info = eg_source_info(c->x);
    res->dtype = info->dtype;
    res->elements = info->count;
    res->ndim = info->ndim;
    memcpy(res->shape, info->shape, sizeof res->shape);
}

void coord_round_notice(eg_coord *c, const char *what)
{
    char text[160];
    c->rounds++;
    snprintf(text, sizeof text, "round %u: %s (%llu tasks)", c->rounds, what,
             (unsigned long long)c->ledger.ntasks);
    coord_emit_round(c, text);
}

/* A round of states with these ops, fast mode (count, min and max are
 * exact in every mode). */
static void state_round_opts(eg_coord *c, unsigned ops, eg_nan_policy nan)
{
    eg_reduce_opts_init(&c->rr);
    c->rr.ops = ops;
    c->rr.nan = nan;
    c->rr.mode = EG_MODE_FAST;
    c->groups = eg_groups_for_ops(c->rr.ops);
    c->groups_known = 1;
}

/* numpy's range ignores nothing but NaN here: min and max, NaN omitted. */
#define MINMAX_OPS (EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX))

/* The hist range from the min/max round just run. */
static eg_status take_minmax(eg_coord *c, eg_error *err)
{
    eg_state total;
    eg_state_init(&total, c->dtype, c->groups);
    eg_ledger_merge(&c->ledger, c->mode == MODE_SHARDS, &total);
    return eg_qgrid_minmax(c->qg, &total, err);
}

static eg_status run_round(eg_coord *c, eg_qround kind, eg_error *err)
{
    eg_status st = next_ledger(c, err);
    if (st != EG_OK)
        return st;
    if (kind == EG_QROUND_MINMAX)
        state_round_opts(c, MINMAX_OPS, EG_NAN_OMIT);
    coord_round_notice(c, eg_qgrid_round_name(c->qg));
    st = coord_loop(c, err);
    if (st != EG_OK)
        return st;
    return kind == EG_QROUND_PASS ? eg_qgrid_round_end(c->qg, err)
                                  : take_minmax(c, err);
}

/* Shards without ordinary ops: a first round for their sizes and dtype
 * (nothing else can tell them).  When hist needs the data's range, that
 * is the min/max round (*minmax set), which reads every shard anyway;
 * else a round of counts. */
static eg_status sizes_round(eg_coord *c, int *minmax, eg_error *err)
{
    const eg_quant_opts *q = c->o.quant;
    *minmax = (q->qops & EG_QOP_HIST) && !q->have_range;
    if (*minmax) {
        state_round_opts(c, MINMAX_OPS, EG_NAN_OMIT);
        coord_round_notice(c, "shard sizes and hist range (min/max)");
    } else {
        state_round_opts(c, EG_OPS_BIT(EG_OP_COUNT), EG_NAN_PROPAGATE);
        coord_round_notice(c, "shard sizes");
    }
    return coord_loop(c, err);
}

/* After the first round of a shard job: every shard's size from its
 * accepted state (checked against the manifest where it gives one), then
 * the quantile plan over them all. */
static eg_status shards_known(eg_coord *c, eg_error *err)
{
    if (!c->dtype_known)
        return eg_error_set(err, EG_EINTERNAL, "coordinator: no shard "
                            "reported its dtype");
    uint64_t total = 0;
    for (size_t i = 0; i < c->manifest.n; i++) {
        uint64_t n = c->ledger.states[i].n;
        if (total + n < total)
            return eg_error_set(err, EG_EINPUT, "%s: the shards hold more "
                                "than 2^64 elements", c->input_name);
        c->manifest.counts[i] = n;
        total += n;
    }
    c->count = total;
    return coord_quant_open(c, err);
}

eg_status coord_quant_run(eg_coord *c, eg_result *res, eg_error *err)
{
    eg_status st = EG_OK;
    int minmax = 0;
    if (c->o.reduce.ops) {
        coord_round_notice(c, "ordinary ops");
        st = coord_loop(c, err);
        if (st == EG_OK)
            st = coord_job_finish(c, res, err);
    } else if (c->mode == MODE_SHARDS) {
        st = sizes_round(c, &minmax, err);
    }
    if (st == EG_OK && c->mode == MODE_SHARDS)
        st = shards_known(c, err);
    if (st == EG_OK && minmax)
        st = take_minmax(c, err);
    if (st == EG_OK && !c->o.reduce.ops)
        input_result(c, res);
    while (st == EG_OK) {
        eg_qround kind;
        const uint8_t *params;
        size_t len;
        st = eg_qgrid_next(c->qg, &kind, &params, &len, err);
        if (st != EG_OK || kind == EG_QROUND_DONE)
            break;
        c->qparams = kind == EG_QROUND_PASS ? params : NULL;
        c->qparams_len = len;
        st = run_round(c, kind, err);
        c->qparams = NULL;
    }
    if (st == EG_OK) {
        eg_quant_result_free(&c->qres);
        st = eg_qgrid_result(c->qg, &c->qres, err);
    }
    if (st != EG_OK)
        return st;
    c->qres_ready = 1;
    coord_job_fill_devices(c, res);
    return EG_OK;
}

const char *coord_quant_check(eg_coord *c, const eg_frame_result *r)
{
    if (!c->qparams)
        return r->quant ? "quantile result in a round of states" : NULL;
    if (!r->quant)
        return "states in a quantile round";
    return eg_qgrid_check(c->qg, r->quant, r->quant_len,
                          c->ledger.tasks[r->task].count);
}

void coord_quant_accept(eg_coord *c, const eg_frame_result *r)
{
    eg_error why;
    if (c->fatal == EG_OK &&
        eg_qgrid_put(c->qg, r->quant, r->quant_len, &why) != EG_OK) {
        c->fatal = why.code;
        c->fatal_err = why;
    }
}

eg_status eg_coord_take_qresult(eg_coord *c, eg_quant_result *out,
                                eg_error *err)
{
    if (!c->qres_ready)
        return eg_error_set(err, EG_EUSAGE, "coordinator: no quantile "
                            "results (none asked, or not run)");
    *out = c->qres;
    memset(&c->qres, 0, sizeof c->qres);
    c->qres_ready = 0;
    return EG_OK;
}
