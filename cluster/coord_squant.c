/* coord_squant.c - a structured job (--axis, --by) with median, quantile,
 * approx_quantile or hist (engine_grid.h, "Quantile ops per axis and per
 * group on the grid").
 *
 * The ordinary ops run first as the structured job's own round (when
 * asked); then one round whose tasks are whole outputs: each carries its
 * segments' elements and gets back their finished values.  The round has
 * a ledger and a job id of its own, so a late result of the first round
 * is refused as another job's; a worker lost in it has its tasks sent
 * again, and since a segment's values depend on its elements alone, the
 * retry gives the same bits. */
#include <string.h>

#include "coord_internal.h"
#include "engine_grid.h"

eg_status coord_squant_open(eg_coord *c, eg_error *err)
{
    eg_quant_opts q = *c->o.quant;
    /* One --nan for the whole job, as in `reduce`. */
    q.nan = c->o.reduce.nan;
    eg_status st = eg_sqgrid_open(&c->sq, c->x, c->o.structured, &c->o.reduce,
                                  &q, c->task_elems, err);
    if (st != EG_OK || c->o.reduce.ops)
        return st; /* with ordinary ops, their round's ledger comes first */
    coord_ledger_retire(c, eg_sqgrid_ntasks(c->sq), err, &st);
    return st;
}

/* The round of whole outputs under a fresh ledger. */
static eg_status squant_round(eg_coord *c, eg_error *err)
{
    eg_status st = EG_OK;
    uint64_t n = eg_sqgrid_ntasks(c->sq);
    if (c->rounds > 0)
        coord_ledger_retire(c, n, err, &st);
    for (uint64_t i = 0; st == EG_OK && i < n; i++) {
        const eg_sqgrid_task *t = eg_sqgrid_task_at(c->sq, i);
        eg_ledger_set_range(&c->ledger, i, t->e0, t->count);
    }
    if (st != EG_OK)
        return st;
    coord_round_notice(c, "median, quantile, approx_quantile and hist of "
                          "whole outputs");
    c->sq_round = 1;
    st = coord_loop(c, err);
    c->sq_round = 0;
    return st;
}

eg_status coord_squant_run(eg_coord *c, eg_result *res, eg_error *err)
{
    eg_status st = EG_OK;
    int ops = c->o.reduce.ops != 0;
    if (ops) {
        coord_round_notice(c, "ordinary ops");
        st = coord_loop(c, err);
        if (st == EG_OK)
            st = coord_job_finish(c, res, err); /* c->sres */
    }
    if (st == EG_OK)
        st = squant_round(c, err);
    if (st == EG_OK) {
        eg_squant_result_free(&c->sqres);
        if (!ops)
            eg_sresult_free(&c->sres);
        st = eg_sqgrid_finish(c->sq, c->x, &c->o.reduce, ops ? NULL : &c->sres,
                              &c->sqres, err);
    }
    if (st != EG_OK)
        return st;
    coord_job_fill_devices(c, &c->sres.r);
    c->sres_ready = 1;
    c->sqres_ready = 1;
    *res = c->sres.r;
    return EG_OK;
}

const char *coord_squant_check(eg_coord *c, const eg_frame_result *r)
{
    if (!c->sq_round)
        return NULL;
    if (!r->quant)
        return "states in a round of whole outputs";
    return eg_sqgrid_check(c->sq, r->task, r->quant, r->quant_len);
}

void *coord_squant_params(eg_coord *c, uint64_t id, size_t *len)
{
    return eg_sqgrid_task_params(c->sq, id, len);
}

eg_status eg_coord_take_squant(eg_coord *c, eg_squant_result *out,
                               eg_error *err)
{
    if (!c->sqres_ready)
        return eg_error_set(err, EG_EUSAGE,
                            "coordinator: no per-output "
                            "quantile results (none asked, or not run)");
    *out = c->sqres;
    memset(&c->sqres, 0, sizeof c->sqres);
    c->sqres_ready = 0;
    return EG_OK;
}
