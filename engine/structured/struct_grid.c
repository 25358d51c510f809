/* struct_grid.c - a structured job cut into grid tasks, and its collector
 * (engine_grid.h, "Structured jobs on the grid").
 *
 * A task is chunk c of the segments of consecutive output elements: the
 * coordinator gathers those elements in native order, a worker turns each
 * segment's chunk into its chunk state (eg_reduce_segments), and the
 * collector files every chunk state where the one-box run files it
 * (eg_struct_out): so every output has the bits of `reduce --axis/--by
 * --chunk` with the task's chunk, whatever worker computed which task. */
#include <stdlib.h>
#include <string.h>

#include "engine_devs.h"
#include "engine_grid.h"
#include "error.h"
#include "lanes.h"
#include "structured.h"

struct eg_sgrid {
    eg_struct_plan p;
    eg_reduce_opts o;
    void *xs, *ys; /* group mode: the permuted copies */
    eg_struct_out out;
    unsigned groups;
    uint64_t chunk;
    eg_sgrid_task *tasks;
    uint64_t ntasks, cap;
    eg_result tmp; /* finalize's scratch */
    eg_status st;  /* the first output that cannot be finalized */
    uint64_t err_e;
    eg_error err;
    double t0;
};

static eg_status add_task(eg_sgrid *g, uint64_t e0, uint64_t nseg, uint64_t c,
                          uint64_t count, eg_error *err)
{
    if (g->ntasks == g->cap) {
        uint64_t cap = g->cap ? 2 * g->cap : 64;
        eg_sgrid_task *t = realloc(g->tasks, cap * sizeof *t);
        if (!t)
            return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
        g->tasks = t;
        g->cap = cap;
    }
    g->tasks[g->ntasks++] = (eg_sgrid_task){
        .e0 = e0, .nseg = nseg, .c = c, .p0 = c * g->chunk, .count = count};
    return EG_OK;
}

/* Chunk c's length of output e's segment. */
static uint64_t seg_n(const eg_sgrid *g, uint64_t e, uint64_t c)
{
    uint64_t len = eg_struct_group_len(&g->p, e / g->p.rest);
    uint64_t p0 = c * g->chunk;
    return len <= p0 ? 0 : len - p0 < g->chunk ? len - p0 : g->chunk;
}

/* Tasks of at most `chunk` elements and EG_SGRID_SEGS_MAX segments: outputs
 * of one-chunk segments side by side, and for longer segments each chunk
 * of a block of outputs. */
static eg_status plan_tasks(eg_sgrid *g, eg_error *err)
{
    const eg_struct_plan *p = &g->p;
    uint64_t open0 = 0, nopen = 0, cost = 0;
    eg_status st = EG_OK;
    for (uint64_t gr = 0; gr < p->ngroups && st == EG_OK; gr++) {
        uint64_t len = eg_struct_group_len(p, gr);
        uint64_t nc = eg_struct_chunks(len, g->chunk);
        uint64_t e0 = gr * p->rest, e1 = e0 + p->rest;
        if (nc == 1) {
            for (uint64_t e = e0; e < e1 && st == EG_OK; e++) {
                if (nopen &&
                    (cost + len > g->chunk || nopen == EG_SGRID_SEGS_MAX)) {
                    st = add_task(g, open0, nopen, 0, cost, err);
                    nopen = 0;
                }
                if (!nopen) {
                    open0 = e;
                    cost = 0;
                }
                nopen++;
                cost += len;
            }
            continue;
        }
        if (nopen) {
            st = add_task(g, open0, nopen, 0, cost, err);
            nopen = 0;
        }
        for (uint64_t c = 0; c < nc && st == EG_OK; c++) {
            uint64_t n = seg_n(g, e0, c);
            uint64_t per = g->chunk / n;
            if (per > EG_SGRID_SEGS_MAX)
                per = EG_SGRID_SEGS_MAX;
            for (uint64_t e = e0; e < e1 && st == EG_OK; e += per) {
                uint64_t k = e1 - e < per ? e1 - e : per;
                st = add_task(g, e, k, c, k * n, err);
            }
        }
    }
    if (st == EG_OK && nopen)
        st = add_task(g, open0, nopen, 0, cost, err);
    return st;
}

eg_status eg_sgrid_open(eg_sgrid **out, const eg_source *x, const eg_source *y,
                        const eg_struct_opts *so, const eg_reduce_opts *o,
                        uint64_t chunk, eg_error *err)
{
    *out = NULL;
    if (chunk == 0 || chunk % EG_LANE_ELEMS)
        return eg_error_set(err, EG_EUSAGE,
                            "chunk size %llu is not a multiple of %u elements",
                            (unsigned long long)chunk, EG_LANE_ELEMS);
    if (o->ops == 0)
        return eg_error_set(err, EG_EUSAGE, "no ops requested");
    eg_sgrid *g = calloc(1, sizeof *g);
    if (!g)
        return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    g->t0 = eg_now();
    g->o = *o;
    g->o.chunk_elems = chunk;
    g->chunk = chunk;
    if (!(o->ops & EG_OPS_BIT(EG_OP_DOT)))
        y = NULL;
    eg_status st =
        eg_struct_prepare(&g->p, x, y, so, &g->o, &g->xs, &g->ys, err);
    if (st == EG_OK) {
        g->groups = eg_struct_groups(&g->p, &g->o);
        st = eg_struct_out_init(&g->out, &g->p, &g->o, chunk, err);
    }
    if (st == EG_OK)
        st = plan_tasks(g, err);
    if (st != EG_OK) {
        eg_sgrid_close(&g);
        return st;
    }
    *out = g;
    return EG_OK;
}

uint64_t eg_sgrid_ntasks(const eg_sgrid *g)
{
    return g->ntasks;
}

const eg_sgrid_task *eg_sgrid_task_at(const eg_sgrid *g, uint64_t t)
{
    return &g->tasks[t];
}

uint64_t eg_sgrid_chunk(const eg_sgrid *g)
{
    return g->chunk;
}

eg_dtype eg_sgrid_dtype(const eg_sgrid *g)
{
    return g->p.dtype;
}

void eg_sgrid_task_lens(const eg_sgrid *g, uint64_t t, uint64_t *lens)
{
    const eg_sgrid_task *k = &g->tasks[t];
    for (uint64_t i = 0; i < k->nseg; i++)
        lens[i] = seg_n(g, k->e0 + i, k->c);
}

void eg_sgrid_task_data(const eg_sgrid *g, uint64_t t, int which, void *dst)
{
    const eg_sgrid_task *k = &g->tasks[t];
    const eg_struct_view *v = which ? &g->p.y : &g->p.x;
    unsigned char *d = dst;
    /* In place where the one-box run reads in place (group mode reads its
     * permuted copy), else gathered as it gathers. */
    int contig = eg_struct_seg_contiguous(&g->p, v);
    for (uint64_t i = 0; i < k->nseg; i++) {
        uint64_t e = k->e0 + i, n = seg_n(g, e, k->c);
        if (contig && n)
            memcpy(d,
                   v->base +
                       (eg_struct_out_offset(&g->p, v, e) + k->p0) * g->p.size,
                   n * g->p.size);
        else
            eg_struct_gather(&g->p, v, e, k->p0, n, d);
        d += n * g->p.size;
    }
}

static int index_ok(uint64_t idx, uint64_t p0, uint64_t n)
{
    return idx == EG_NONE_INDEX || (idx >= p0 && idx - p0 < n);
}

const char *eg_sgrid_check(const eg_sgrid *g, uint64_t t, uint64_t i,
                           const eg_state *s)
{
    const eg_sgrid_task *k = &g->tasks[t];
    if (i >= k->nseg)
        return "more states than the task has segments";
    uint64_t n = seg_n(g, k->e0 + i, k->c);
    if (s->dtype != g->p.dtype)
        return "state of another dtype";
    if (s->groups != g->groups)
        return "state computed for other ops or another mode";
    if (s->n != n)
        return "state does not cover its segment's chunk";
    if (!index_ok(s->argmin, k->p0, n) || !index_ok(s->argmax, k->p0, n) ||
        !index_ok(s->first_nan, k->p0, n))
        return "state index outside its segment's chunk";
    return NULL;
}

void eg_sgrid_put(eg_sgrid *g, uint64_t t, uint64_t i, const eg_state *s)
{
    const eg_sgrid_task *k = &g->tasks[t];
    uint64_t e = k->e0 + i;
    eg_error why;
    eg_error_clear(&why);
    if (eg_struct_out_chunk(&g->out, e, k->c, s, &g->tmp, &why) != EG_OK &&
        (g->st == EG_OK || e < g->err_e)) {
        g->st = why.code;
        g->err_e = e;
        g->err = why;
    }
}

static void merge_fail(void *ctx, uint64_t e, const eg_error *why)
{
    eg_sgrid *g = ctx;
    if (g->st == EG_OK || e < g->err_e) {
        g->st = why->code;
        g->err_e = e;
        g->err = *why;
    }
}

eg_status eg_sgrid_finish(eg_sgrid *g, const eg_source *x, int has_y,
                          eg_sresult *out, eg_error *err)
{
    memset(out, 0, sizeof *out);
    eg_struct_out_merge(&g->out, &g->tmp, merge_fail, g);
    if (g->st != EG_OK) {
        if (err)
            *err = g->err;
        return g->st;
    }
    eg_struct_out_settle(&g->out, out);
    eg_struct_result_meta(&g->p, x, has_y && (g->o.ops & EG_OPS_BIT(EG_OP_DOT)),
                          &g->o, out);
    out->r.seconds = eg_now() - g->t0;
    return EG_OK;
}

void eg_sgrid_close(eg_sgrid **gp)
{
    eg_sgrid *g = *gp;
    if (!g)
        return;
    eg_struct_out_free(&g->out);
    eg_struct_plan_free(&g->p);
    free(g->xs);
    free(g->ys);
    free(g->tasks);
    free(g);
    *gp = NULL;
}

/* ------------------------------------------------------------ worker */

eg_status eg_reduce_segments(const void *x, const void *y, const uint64_t *lens,
                             uint64_t nseg, uint64_t p0, eg_dtype dtype,
                             const eg_reduce_opts *o, eg_state *out,
                             eg_error *err)
{
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    unsigned groups = eg_groups_for(o->ops, o->mode, dtype);
    uint64_t longest = 0;
    for (uint64_t i = 0; i < nseg; i++)
        longest = lens[i] > longest ? lens[i] : longest;
    uint64_t *words = malloc(
        eg_lane_count(longest ? longest : 1) * eg_lane_words(groups) * 8 + 8);
    if (!words)
        return eg_error_set(err, EG_ENOMEM, "segments: out of memory");
    size_t size = eg_dtype_size(dtype);
    const unsigned char *xp = x, *yp = y;
    /* Every device gives the same lane records; the host's lanes need no
     * setup per segment, which is what short segments want. */
    for (uint64_t i = 0; i < nseg; i++) {
        eg_lanes_any(xp, yp, lens[i], dtype, groups, words);
        eg_chunk_state_any(words, xp, yp, lens[i], p0, dtype, groups, &out[i]);
        xp += lens[i] * size;
        if (yp)
            yp += lens[i] * size;
    }
    free(words);
    return EG_OK;
}
