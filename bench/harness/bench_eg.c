/* bench_eg.c - times eg_reduce.  The clock runs around the call and nothing
 * else: opening the engine and building kernels happened before, and the
 * warm-up runs of the plan absorb first-touch and first-launch costs. */
#include <stdio.h>
#include <string.h>

#include "bench_eg.h"
#include "bench_timing.h"

typedef struct eg_run {
    eg_engine *e;
    const bench_data *d;
    uint64_t count;
    eg_reduce_opts opts;
    int dot;
    eg_result res;
    eg_error err;
    eg_status st;
} eg_run;

static int eg_rep(void *ctx)
{
    eg_run *r = ctx;

    r->st = eg_reduce(r->e, r->d->x, r->dot ? r->d->y : NULL, r->count,
                      r->d->dtype, &r->opts, &r->res, &r->err);
    return r->st != EG_OK;
}

eg_status bench_eg_measure(eg_engine *e, const bench_data *d, uint64_t count,
                           unsigned ops, eg_mode mode, const bench_plan *plan,
                           bench_eg_cell *cell)
{
    eg_run run;

    memset(&run, 0, sizeof run);
    memset(cell, 0, sizeof *cell);
    cell->ops = ops;
    run.e = e;
    run.d = d;
    run.count = count;
    run.dot = (ops & EG_OPS_BIT(EG_OP_DOT)) != 0;
    eg_reduce_opts_init(&run.opts);
    run.opts.ops = ops;
    run.opts.mode = mode;
    if (run.dot && d->y == NULL) {
        snprintf(cell->error, sizeof cell->error, "dot: no second operand");
        return EG_EINTERNAL;
    }
    int rc = bench_repeat(plan, eg_rep, &run,
                          bench_bytes(d->dtype, count, run.dot), &cell->fig);
    if (rc != 0) {
        if (run.st != EG_OK) {
            snprintf(cell->error, sizeof cell->error, "%s",
                     run.err.msg[0] ? run.err.msg : eg_strerror(run.st));
            return run.st;
        }
        snprintf(cell->error, sizeof cell->error, "out of memory");
        return EG_ENOMEM;
    }
    memcpy(cell->value, run.res.value, sizeof cell->value);
    for (size_t i = 0; i < run.res.ndevices && i < EG_MAX_DEVICES; i++) {
        cell->shares[i].index = run.res.devices[i].index;
        cell->shares[i].elements = run.res.devices[i].elements;
        cell->shares[i].seconds = run.res.devices[i].seconds;
        cell->nshares = i + 1;
    }
    return EG_OK;
}

unsigned bench_eg_exact_ops(eg_dtype t, unsigned ops)
{
    const unsigned sums = EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MEAN) |
                          EG_OPS_BIT(EG_OP_L1) | EG_OPS_BIT(EG_OP_DOT) |
                          EG_OPS_BIT(EG_OP_VAR) | EG_OPS_BIT(EG_OP_STD) |
                          EG_OPS_BIT(EG_OP_L2);

    return eg_dtype_is_float(t) ? ops & sums : 0;
}
