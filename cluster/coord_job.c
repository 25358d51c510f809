/* coord_job.c - the coordinator's job: the input, how it is cut into tasks,
 * what a task frame says, whether a state fits its task, and the final
 * merge.  No sockets here; coordinator.c moves the frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_internal.h"
#include "engine_grid.h"
#include "../state/states_wire.h"

/* A task is chunk c of some outputs' segments; the task size is the
 * chunk, as for flat jobs. */
static eg_status open_struct(eg_coord *c, eg_error *err)
{
    eg_status st = eg_sgrid_open(&c->sg, c->x, c->y, c->o.structured,
                                 &c->o.reduce, c->task_elems, err);
    if (st != EG_OK)
        return st;
    eg_ledger_free(&c->ledger);
    uint64_t ntasks = eg_sgrid_ntasks(c->sg);
    if ((st = eg_ledger_init(&c->ledger, ntasks, err)) != EG_OK)
        return st;
    for (uint64_t i = 0; i < ntasks; i++) {
        const eg_sgrid_task *t = eg_sgrid_task_at(c->sg, i);
        eg_ledger_set_range(&c->ledger, i, t->e0, t->count);
    }
    c->mode = MODE_STRUCT;
    return EG_OK;
}

static eg_status open_inline(eg_coord *c, eg_error *err)
{
    const eg_coord_opts *o = &c->o;
    /* A structured job gathers by stride across the whole array: read
     * whole into memory first (a truncation is then an error, not SIGBUS). */
    eg_status (*open)(eg_source **, const char *, const eg_input_opts *,
                      eg_error *) =
        o->structured ? eg_source_open_stored : eg_source_open;
    eg_status st = open(&c->x, o->path, &o->in, err);
    if (st == EG_OK && o->with_path)
        st = open(&c->y, o->with_path, &o->in, err);
    if (st != EG_OK)
        return st;
    const eg_array_info *a = eg_source_info(c->x);
    if (c->y) {
        const eg_array_info *b = eg_source_info(c->y);
        if (a->count != b->count || a->dtype != b->dtype)
            return eg_error_set(err, EG_EINPUT,
                                "%s holds %llu %s but %s holds %llu %s; dot "
                                "needs the same count and dtype",
                                o->with_path, (unsigned long long)b->count,
                                eg_dtype_numpy_name(b->dtype), o->path,
                                (unsigned long long)a->count,
                                eg_dtype_numpy_name(a->dtype));
    }
    c->input_name = o->path;
    c->dtype = a->dtype;
    c->dtype_known = 1;
    c->count = a->count;
    size_t item = eg_dtype_size(a->dtype);
    if (o->task_bytes > EG_TASK_BYTES_MAX)
        return eg_error_set(err, EG_EUSAGE, "--task-bytes %llu is above the "
                            "limit of %u bytes per task",
                            (unsigned long long)o->task_bytes,
                            EG_TASK_BYTES_MAX);
    /* A task is one chunk of the worker's engine, so the states merge in
     * the same tree as a one-box run with that chunk size: same bits. */
    uint64_t elems = o->task_bytes ? o->task_bytes / item
                                   : (uint64_t)EG_DEFAULT_CHUNK_ELEMS;
    elems -= elems % EG_LANE_ELEMS;
    if (elems == 0)
        elems = EG_LANE_ELEMS;
    while (elems * item > EG_TASK_BYTES_MAX)
        elems -= EG_LANE_ELEMS;
    c->task_elems = elems;
    uint64_t ntasks = (a->count + elems - 1) / elems;
    if ((st = eg_ledger_init(&c->ledger, ntasks, err)) != EG_OK)
        return st;
    for (uint64_t i = 0; i < ntasks; i++) {
        uint64_t first = i * elems;
        uint64_t n = a->count - first < elems ? a->count - first : elems;
        eg_ledger_set_range(&c->ledger, i, first, n);
    }
    if (o->structured && o->reduce.ops)
        st = open_struct(c, err);
    if (st == EG_OK && o->structured && c->quant) {
        c->mode = MODE_STRUCT;
        st = coord_squant_open(c, err);
    }
    return st;
}

/* The SHARDQ frame every new worker is asked: which of these do you hold? */
static eg_status build_shardq(eg_coord *c, eg_error *err)
{
    size_t names = 0;
    for (size_t i = 0; i < c->manifest.n; i++)
        names += strlen(c->manifest.names[i]);
    size_t cap = eg_frame_shardq_size((uint32_t)c->manifest.n, names);
    c->shardq = malloc(cap);
    if (!c->shardq)
        return eg_error_set(err, EG_ENOMEM, "coordinator: out of memory");
    size_t at = eg_frame_shardq_begin(c->shardq, cap, c->job,
                                      (uint32_t)c->manifest.n);
    for (size_t i = 0; i < c->manifest.n && at; i++)
        at = eg_frame_shardq_put(c->shardq, cap, at, (uint32_t)i,
                                 c->manifest.names[i]);
    if (at != cap)
        return eg_error_set(err, EG_EINTERNAL, "coordinator: SHARDQ frame "
                            "does not add up");
    c->shardq_len = cap;
    return EG_OK;
}

static eg_status open_shards(eg_coord *c, eg_error *err)
{
    const eg_coord_opts *o = &c->o;
    if (o->reduce.ops & EG_OPS_BIT(EG_OP_DOT))
        return eg_error_set(err, EG_EUSAGE, "dot is not available with "
                            "--shards (a shard has one operand)");
    eg_status st = eg_manifest_load(&c->manifest, o->manifest, err);
    if (st != EG_OK)
        return st;
    c->input_name = o->manifest;
    if (o->in.raw) {
        c->dtype = o->in.raw_dtype;
        c->dtype_known = 1;
    }
    if ((st = eg_ledger_init(&c->ledger, c->manifest.n, err)) != EG_OK)
        return st;
    for (size_t i = 0; i < c->manifest.n; i++) {
        uint64_t n = c->manifest.counts[i];
        eg_ledger_set_range(&c->ledger, i, 0,
                            n == EG_SHARD_COUNT_UNKNOWN ? 0 : n);
    }
    return build_shardq(c, err);
}

static eg_status open_noop(eg_coord *c, eg_error *err)
{
    c->input_name = "noop";
    c->dtype = EG_F64;
    c->dtype_known = 1;
    c->task_elems = EG_LANE_ELEMS;
    return eg_ledger_init(&c->ledger, c->o.noop_tasks, err);
}

eg_status coord_job_open(eg_coord *c, eg_error *err)
{
    const eg_coord_opts *o = &c->o;
    int quant = o->quant && o->quant->qops;
    c->quant = quant;
    c->rr = o->reduce;
    c->groups = eg_groups_for_ops(o->reduce.ops);
    /* Fast mode states carry exactly the ops' groups; other modes may add
     * bits of their own, learned from the first state. */
    c->groups_known = o->reduce.mode == EG_MODE_FAST;
    if (o->reduce.ops == 0 && !quant)
        return eg_error_set(err, EG_EUSAGE, "no ops requested");
    if (quant && (o->noop_tasks || o->with_path))
        return eg_error_set(err, EG_EUSAGE, "median, quantile, "
                            "approx_quantile and hist on the grid: not with "
                            "--noop-tasks or dot");
    if (!!(o->reduce.ops & EG_OPS_BIT(EG_OP_DOT)) != (o->with_path != NULL) &&
        !o->manifest)
        return eg_error_set(err, EG_EUSAGE, "dot needs --with Y.npy, and "
                            "--with needs dot");
    if (o->noop_tasks) {
        c->mode = MODE_NOOP;
        return open_noop(c, err);
    }
    if (o->structured && (o->manifest || o->noop_tasks))
        return eg_error_set(err, EG_EUSAGE, "--axis and --by need the data "
                            "inline (a FILE), not --shards or --noop-tasks");
    if (o->manifest) {
        /* The quantile plan waits for the first round: only the workers
         * know the shards' dtype and sizes (coord_quant_run). */
        c->mode = MODE_SHARDS;
        return open_shards(c, err);
    }
    if (!o->path)
        return eg_error_set(err, EG_EUSAGE, "no input: give a FILE or "
                            "--shards MANIFEST");
    c->mode = MODE_INLINE;
    eg_status st = open_inline(c, err);
    return st == EG_OK && quant && !o->structured ? coord_quant_open(c, err)
                                                  : st;
}

void coord_job_close(eg_coord *c)
{
    eg_sgrid_close(&c->sg);
    eg_sresult_free(&c->sres);
    eg_qgrid_close(&c->qg);
    eg_quant_result_free(&c->qres);
    eg_sqgrid_close(&c->sq);
    eg_squant_result_free(&c->sqres);
    eg_source_close(&c->x);
    eg_source_close(&c->y);
    eg_manifest_free(&c->manifest);
    eg_ledger_free(&c->ledger);
    free(c->shardq);
    c->shardq = NULL;
}

/* ------------------------------------------------------------- frames */

size_t coord_job_task_frame(eg_coord *c, uint64_t id, uint32_t attempt,
                            uint8_t *buf, size_t cap)
{
    const eg_task *t = &c->ledger.tasks[id];
    eg_frame_task f;
    memset(&f, 0, sizeof f);
    f.task = id;
    f.attempt = attempt;
    f.mode = (uint8_t)c->rr.mode;
    f.nan = (uint8_t)c->rr.nan;
    f.ops = c->rr.ops;
    f.ddof = c->rr.ddof;
    if (c->sq_round) {
        /* Whole outputs: their data, then parameters and lengths. */
        const eg_sqgrid_task *s = eg_sqgrid_task_at(c->sq, id);
        f.kind = EG_TASK_SQSEG;
        f.ops = 0;
        f.ddof = 0;
        f.dtype = (uint8_t)c->dtype;
        f.first = s->e0;
        f.count = s->count;
        f.nseg = (uint32_t)s->nseg;
    } else if (c->qparams && c->mode == MODE_SHARDS) {
        /* A quantile round over a shard: its name and the count the first
         * round found, the parameters in the one other part. */
        f.kind = EG_TASK_SQUANT;
        f.ops = 0;
        f.ddof = 0;
        f.raw = (uint8_t)(c->o.in.raw != 0);
        f.dtype = (uint8_t)c->dtype;
        f.count = t->count;
        snprintf(f.shard, sizeof f.shard, "%s", c->manifest.names[id]);
    } else if (c->qparams) {
        /* A quantile round: the range, and its parameters in a last part. */
        f.kind = EG_TASK_QUANT;
        f.ops = 0;
        f.ddof = 0;
        f.dtype = (uint8_t)c->dtype;
        f.first = t->first;
        f.count = t->count;
        f.chunk = c->task_elems;
    } else if (c->mode == MODE_STRUCT) {
        const eg_sgrid_task *s = eg_sgrid_task_at(c->sg, id);
        f.kind = EG_TASK_SEGS;
        f.dtype = (uint8_t)c->dtype;
        f.has_y = c->y != NULL && (c->o.reduce.ops & EG_OPS_BIT(EG_OP_DOT));
        f.first = s->e0;
        f.count = s->count;
        f.chunk = eg_sgrid_chunk(c->sg);
        f.nseg = (uint32_t)s->nseg;
        f.p0 = s->p0;
    } else if (c->mode == MODE_SHARDS) {
        f.kind = EG_TASK_SHARD;
        f.raw = (uint8_t)(c->o.in.raw != 0);
        f.dtype = (uint8_t)(c->o.in.raw ? c->o.in.raw_dtype : 0);
        f.count = t->count;
        snprintf(f.shard, sizeof f.shard, "%s", c->manifest.names[id]);
    } else {
        f.kind = EG_TASK_INLINE;
        f.dtype = (uint8_t)c->dtype;
        f.has_y = c->y != NULL;
        f.first = t->first;
        f.count = t->count;
        f.chunk = c->task_elems;
    }
    return eg_frame_encode_task(buf, cap, c->job, &f);
}

eg_status coord_job_task_data(eg_coord *c, uint64_t id, int which,
                              const void **data, size_t *len, int *owned,
                              eg_error *err)
{
    const eg_task *t = &c->ledger.tasks[id];
    const eg_source *s = which ? c->y : c->x;
    *owned = 0;
    *len = 0;
    *data = NULL;
    if (!s || t->count == 0)
        return EG_OK;
    *len = (size_t)(t->count * eg_dtype_size(c->dtype));
    if (c->mode == MODE_STRUCT) {
        /* Gathered (and swapped) into a buffer ZeroMQ frees once sent. */
        void *sbuf = malloc(*len);
        if (!sbuf)
            return eg_error_set(err, EG_ENOMEM,
                                "coordinator: out of memory for task %llu's "
                                "data",
                                (unsigned long long)id);
        if (c->sq_round)
            eg_sqgrid_task_data(c->sq, id, sbuf);
        else
            eg_sgrid_task_data(c->sg, id, which, sbuf);
        *owned = 1;
        *data = sbuf;
        return EG_OK;
    }
    void *buf = NULL;
    if (eg_source_needs_buffer(s)) {
        /* Read from the file, or swapped to native order: into a buffer
         * ZeroMQ frees once sent. */
        buf = malloc(*len);
        if (!buf)
            return eg_error_set(err, EG_ENOMEM,
                                "coordinator: out of memory for task %llu's "
                                "data",
                                (unsigned long long)id);
        *owned = 1;
    }
    eg_status st = eg_source_get(s, t->first, t->count, buf, data, err);
    if (st != EG_OK) {
        free(buf);
        *owned = 0;
        *data = NULL;
    }
    return st;
}

void *coord_job_task_lens(eg_coord *c, uint64_t id, size_t *len)
{
    const eg_sgrid_task *t = eg_sgrid_task_at(c->sg, id);
    uint64_t *lens = malloc(t->nseg * sizeof *lens);
    uint8_t *part = malloc(t->nseg * 4);
    *len = 0;
    if (lens && part) {
        eg_sgrid_task_lens(c->sg, id, lens);
        eg_frame_put_lens(part, lens, (uint32_t)t->nseg);
        *len = t->nseg * 4;
    } else {
        free(part);
        part = NULL;
    }
    free(lens);
    return part;
}

/* -------------------------------------------------------------- results */

/* A compact container has no exact blocks, which an exact-mode job of a
 * float dtype needs: refused by name rather than merged as zero sums or
 * reported as a mode mismatch.  (Integer states have no exact block even in
 * exact mode, so their compact form is honest.) */
static const char *compact_refused(const eg_coord *c,
                                   const eg_frame_result *r, const eg_state *s)
{
    if (eg_states_is_compact(r->states, r->states_len) &&
        c->rr.mode == EG_MODE_EXACT && eg_dtype_is_float(s->dtype))
        return "compact state container in an exact-mode job";
    return NULL;
}

static const char *struct_check(eg_coord *c, const eg_frame_result *r)
{
    const eg_sgrid_task *t = eg_sgrid_task_at(c->sg, r->task);
    if (r->nstates != t->nseg)
        return "result holds another number of states than its task";
    for (uint32_t i = 0; i < r->nstates; i++) {
        eg_state s;
        eg_error why;
        if (eg_states_get(r->states, r->states_len, i, &s, &why) != EG_OK)
            return "state container unreadable";
        const char *bad = compact_refused(c, r, &s);
        if (!bad)
            bad = eg_sgrid_check(c->sg, r->task, i, &s);
        if (bad)
            return bad;
    }
    return NULL;
}

void coord_job_accept(eg_coord *c, const eg_frame_result *r)
{
    if (c->sq_round) {
        eg_sqgrid_put(c->sq, r->task, r->quant, r->quant_len);
        return;
    }
    if (c->qparams) {
        coord_quant_accept(c, r);
        return;
    }
    if (c->mode != MODE_STRUCT)
        return;
    for (uint32_t i = 0; i < r->nstates; i++) {
        eg_state s;
        eg_error why;
        if (eg_states_get(r->states, r->states_len, i, &s, &why) == EG_OK)
            eg_sgrid_put(c->sg, r->task, i, &s);
    }
}

static int index_in(uint64_t idx, uint64_t first, uint64_t n)
{
    return idx == EG_NONE_INDEX || (idx >= first && idx - first < n);
}

static const char *shard_fatal(eg_coord *c, uint64_t id, const eg_state *s)
{
    uint64_t want = c->manifest.counts[id];
    if (want != EG_SHARD_COUNT_UNKNOWN && s->n != want) {
        c->fatal = eg_error_set(&c->fatal_err, EG_EINPUT,
                                "shard '%s' holds %llu elements; the manifest "
                                "says %llu",
                                c->manifest.names[id],
                                (unsigned long long)s->n,
                                (unsigned long long)want);
        return "shard size differs from the manifest";
    }
    if (!c->dtype_known) {
        c->dtype = s->dtype;
        c->dtype_known = 1;
    } else if (s->dtype != c->dtype) {
        c->fatal = eg_error_set(&c->fatal_err, EG_EINPUT,
                                "shard '%s' holds %s data; the job's other "
                                "shards hold %s",
                                c->manifest.names[id],
                                eg_dtype_numpy_name(s->dtype),
                                eg_dtype_numpy_name(c->dtype));
        return "shard dtype differs from the job's";
    }
    return NULL;
}

const char *coord_job_check_result(eg_coord *c, const eg_frame_result *r)
{
    if (r->task >= c->ledger.ntasks)
        return "task id out of range";
    if (c->sq_round)
        return coord_squant_check(c, r);
    const char *qwhy = coord_quant_check(c, r);
    if (qwhy || c->qparams)
        return qwhy;
    if (c->mode == MODE_STRUCT)
        return struct_check(c, r);
    if (r->nstates != 1)
        return "flat task with several states";
    const eg_task *t = &c->ledger.tasks[r->task];
    const eg_state *s = &r->state;
    const char *compact = compact_refused(c, r, s);
    if (compact)
        return compact;
    /* The engine may add mode bits (exact mode) to the ops' groups; the
     * first state tells which, and every other must agree. */
    const unsigned of_ops = EG_G_ALL | EG_G_NO_SUM;
    if ((s->groups & of_ops) != (c->groups & of_ops) ||
        (c->groups_known && s->groups != c->groups))
        return "state computed for other ops or another mode";
    const char *why = NULL;
    if (c->mode == MODE_SHARDS) {
        if (!index_in(s->argmin, 0, s->n) || !index_in(s->argmax, 0, s->n) ||
            !index_in(s->first_nan, 0, s->n))
            return "state index outside its shard";
        if (t->phase == EG_TASK_DONE)
            return NULL;  /* a duplicate: counted, never merged */
        why = shard_fatal(c, r->task, s);
    } else if (s->dtype != c->dtype) {
        why = "state of another dtype";
    } else if (s->n != t->count) {
        why = "state does not cover its task's range";
    } else if (!index_in(s->argmin, t->first, t->count) ||
               !index_in(s->argmax, t->first, t->count) ||
               !index_in(s->first_nan, t->first, t->count)) {
        why = "state index outside its task's range";
    }
    if (!why && !c->groups_known) {
        c->groups = s->groups;
        c->groups_known = 1;
    }
    return why;
}

void coord_job_fill_devices(eg_coord *c, eg_result *res)
{
    res->bytes = c->bytes_done;
    res->seconds = c->last_result > c->first_dispatch
                       ? c->last_result - c->first_dispatch
                       : 0.0;
    const eg_peers *p = &c->peers;
    res->ndevices = p->nstats < EG_MAX_DEVICES ? p->nstats : EG_MAX_DEVICES;
    for (size_t i = 0; i < res->ndevices; i++) {
        eg_device_stats *d = &res->devices[i];
        memset(d, 0, sizeof *d);
        d->index = (unsigned)i;
        snprintf(d->name, sizeof d->name, "%s", p->stats[i].name);
        d->elements = p->stats[i].elements;
        d->chunks = p->stats[i].tasks;
        d->seconds = p->stats[i].seconds;
    }
}

/* The inline inputs, read to their end, still as they were opened: a
 * mapped one is checked only here (source.h, eg_source_check). */
static eg_status coord_inputs_unchanged(const eg_coord *c, eg_error *err)
{
    eg_status st = EG_OK;
    if (c->x)
        st = eg_source_check(c->x, eg_source_info(c->x)->count, err);
    if (st == EG_OK && c->y)
        st = eg_source_check(c->y, eg_source_info(c->y)->count, err);
    return st;
}

static eg_status struct_finish(eg_coord *c, eg_result *res, eg_error *err)
{
    eg_sresult_free(&c->sres);
    eg_status st = coord_inputs_unchanged(c, err);
    if (st != EG_OK)
        return st;
    st = eg_sgrid_finish(c->sg, c->x, c->y != NULL, &c->sres, err);
    if (st != EG_OK)
        return st;
    coord_job_fill_devices(c, &c->sres.r);
    c->sres_ready = 1;
    *res = c->sres.r;
    return EG_OK;
}

eg_status eg_coord_take_sresult(eg_coord *c, eg_sresult *out, eg_error *err)
{
    if (!c->sres_ready)
        return eg_error_set(err, EG_EUSAGE, "coordinator: no structured "
                            "result (a flat job, or not run)");
    *out = c->sres;
    memset(&c->sres, 0, sizeof c->sres);
    c->sres_ready = 0;
    return EG_OK;
}

eg_status coord_job_finish(eg_coord *c, eg_result *res, eg_error *err)
{
    if (c->mode == MODE_STRUCT)
        return struct_finish(c, res, err);
    eg_state total;
    eg_state_init(&total, c->dtype, c->groups);
    uint64_t merged =
        eg_ledger_merge(&c->ledger, c->mode == MODE_SHARDS, &total);
    if (c->mode == MODE_INLINE && merged != c->count)
        return eg_error_set(err, EG_EINTERNAL, "coordinator: states cover "
                            "%llu of %llu elements",
                            (unsigned long long)merged,
                            (unsigned long long)c->count);
    eg_status st = coord_inputs_unchanged(c, err);
    if (st != EG_OK)
        return st;
    memset(res, 0, sizeof *res);
    st = eg_result_finish(&total, c->x, &c->o.reduce, res, err);
    if (st != EG_OK)
        return st;
    coord_job_fill_devices(c, res);
    return EG_OK;
}

void coord_job_stats(eg_coord *c, eg_grid_stats *s)
{
    const eg_ledger *l = &c->ledger, *p = &c->past;
    /* A quantile job's rounds each had a ledger: all of them count. */
    s->tasks = p->ntasks + l->ntasks;
    s->attempts = p->attempts + l->attempts;
    s->redispatched = p->redispatched + l->redispatched;
    s->failures = p->failures + l->failures;
    s->returned = p->returned + l->returned;
    s->unstarted = p->unstarted + l->unstarted;
    s->duplicates = p->duplicates + l->duplicates;
    s->rejected = c->rejected;
    s->refused = c->refused;
    s->bytes = c->bytes_done;
    s->seconds = c->last_result > c->first_dispatch
                     ? c->last_result - c->first_dispatch
                     : 0.0;
    s->tasks_per_s =
        s->seconds > 0 ? (double)(p->done + l->done) / s->seconds : 0.0;
    s->gbps = s->seconds > 0 ? (double)s->bytes / s->seconds / 1e9 : 0.0;
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
    if (c->peers.nstats) {
        s->workers = malloc(c->peers.nstats * sizeof *s->workers);
        if (s->workers) {
            memcpy(s->workers, c->peers.stats,
                   c->peers.nstats * sizeof *s->workers);
            s->nworkers = c->peers.nstats;
        }
    }
    snprintf(s->tasks_endpoint, sizeof s->tasks_endpoint, "%s", c->tasks_ep);
    snprintf(s->results_endpoint, sizeof s->results_endpoint, "%s",
             c->results_ep);
}

void coord_job_missing(eg_coord *c, char *buf, size_t len)
{
    const eg_ledger *l = &c->ledger;
    size_t used = 0, shown = 0;
    uint64_t missing = l->ntasks - l->done;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, len, "missing %s",
                             c->mode == MODE_SHARDS ? "shards" : "tasks");
    for (uint64_t i = 0; i < l->ntasks && shown < 8 && used < len; i++) {
        if (l->tasks[i].phase == EG_TASK_DONE)
            continue;
        if (c->mode == MODE_SHARDS)
            used += (size_t)snprintf(buf + used, len - used, "%s '%s'",
                                     shown ? "," : ":", c->manifest.names[i]);
        else
            used += (size_t)snprintf(buf + used, len - used, "%s %llu",
                                     shown ? "," : ":", (unsigned long long)i);
        shown++;
    }
    if (missing > shown && used < len)
        snprintf(buf + used, len - used, " and %llu more",
                 (unsigned long long)(missing - shown));
}

void eg_grid_stats_free(eg_grid_stats *s)
{
    if (!s)
        return;
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
}
