/* struct_run.c - runs a structured plan: work units (a block of output
 * elements, one chunk of each of their segments) go to the device threads
 * from one atomic counter; each (element, chunk) becomes a chunk state from
 * its own lane records, so which device ran it does not change a bit; the
 * chunk states of an element merge in chunk order and finalize into the
 * result arrays.
 *
 * Which path a segment takes mirrors eg_engine_reduce_range for a 1-D
 * array of its length: a segment of at most EG_SMALL_INPUT_ELEMS elements
 * (and one chunk) is its chunk state; a longer one merges its chunk states
 * into the identity.  So every output element has the bits of that
 * column or group reduced alone. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "engine_devs.h"
#include "error.h"
#include "lanes.h"
#include "registry.h"
#include "scheduler.h"
#include "struct_cols.h"
#include "structured.h"

typedef struct unit {
    uint64_t e0, e1, c; /* outputs [e0, e1), chunk c of each segment */
} unit;

/* Elements a unit of short segments gathers at most: enough that taking a
 * unit costs nothing beside reducing it. */
#define UNIT_ELEMS (1u << 20)

/* run_tiled: positions per tile (one lane) and outputs side by side, so
 * that a tile of f32 columns (1 MiB) stays in L2 while it is gathered and
 * reduced, and a wide row is read 256 bytes at a time. */
#define TILE_ELEMS EG_LANE_ELEMS
#define TILE_OUTS 256
/* Tile rows lie this many elements apart: a power of two would put every
 * row's element q in the same L1 set, and the gather's writes across the
 * rows would evict each other. */
#define TILE_LD (TILE_ELEMS + 16)
/* Columns read in place (struct_cols.c): units split into runs of at
 * least this much of each row, and at most this many columns a call.
 * Wider runs of a row read faster (measured on C = 1024: 1, 2 and 4 KiB
 * runs at 0.6, 0.8 and 0.95 of the flat sum's bytes per thread-second). */
#define COLS_RUN_BYTES 2048u
#define COLS_OUTS 512u
_Static_assert(COLS_OUTS >= TILE_OUTS &&
                   COLS_OUTS * EG_LANE_SLOTS <= EG_COLS_POS,
               "a tile of columns fits eg_struct_cols_lanes");

typedef struct sjob {
    const eg_struct_plan *p;
    const eg_reduce_opts *o;
    eg_engine_devs devs;
    unsigned groups;
    uint64_t chunk;
    unit *units;
    uint64_t nunits, cap;
    atomic_uint_fast64_t next;
    eg_struct_out out;    /* result arrays and chunk slots */
    int xcontig, ycontig; /* segments readable in place */
    int short_ok;         /* one-lane segments take eg_struct_short */
    int sums_ok; /* and the sum alone: eg_struct_short_sums */
    int rows_ok; /* or min/max/var: eg_struct_short_rows */
    size_t nthreads;      /* device threads */
    uint64_t xstep, ystep; /* output e's segment at e * step, or 0 */
    uint64_t cols_st;     /* columns read in place (struct_cols.c): their
                             positions' stride; 0: gathered */
    pthread_mutex_t lock; /* notes and the first error */
    char *notes;
    size_t notes_len;
    eg_status st;
    uint64_t err_e; /* the smallest output element that failed */
    eg_error err;
} sjob;

typedef struct sworker {
    sjob *j;
    eg_device *dev;
    size_t dev_slot;
    pthread_t thread;
    int started;
    void *xbuf, *ybuf;
    uint64_t *words;
    eg_result tmp;     /* finalize's scratch */
    eg_status failure; /* the device failed: host lanes from then on */
    int tiled;         /* host thread on gathered segments: run_tiled */
    eg_state *cs;      /* run_tiled's chunk states, TILE_OUTS */
    void *cols;        /* eg_struct_cols_lanes' scratch, or NULL */
    uint64_t elements, host_elements, chunks, calls;
    double seconds;
} sworker;


static void fail(sjob *j, uint64_t e, const eg_error *why)
{
    pthread_mutex_lock(&j->lock);
    if (j->st == EG_OK || e < j->err_e) {
        j->st = why->code;
        j->err_e = e;
        j->err = *why;
    }
    pthread_mutex_unlock(&j->lock);
}

static void fail_cb(void *ctx, uint64_t e, const eg_error *why)
{
    fail(ctx, e, why);
}

/* Positions [p0, p0 + n) of output e's segments in native order: in place
 * or gathered into the worker's buffers. */
static const void *segment(const sjob *j, const eg_struct_view *v, int contig,
                           uint64_t e, uint64_t p0, uint64_t n, void *buf)
{
    if (contig)
        return v->base + (eg_struct_out_offset(j->p, v, e) + p0) * j->p->size;
    eg_struct_gather(j->p, v, e, p0, n, buf);
    return buf;
}

static void finish_chunk(sworker *w, uint64_t e, uint64_t c, const eg_state *cs)
{
    eg_error why;
    eg_error_clear(&why);
    w->chunks++;
    if (eg_struct_out_chunk(&w->j->out, e, c, cs, &w->tmp, &why) != EG_OK)
        fail(w->j, e, &why);
}

static void run_segment(sworker *w, uint64_t e, uint64_t c)
{
    sjob *j = w->j;
    const eg_struct_plan *p = j->p;
    uint64_t g = e / p->rest, len = eg_struct_group_len(p, g);
    uint64_t p0 = c * j->chunk;
    uint64_t n = len - p0 < j->chunk ? len - p0 : j->chunk;
    if (len == 0)
        n = 0;
    const void *x = segment(j, &p->x, j->xcontig, e, p0, n, w->xbuf);
    const void *y =
        p->has_y ? segment(j, &p->y, j->ycontig, e, p0, n, w->ybuf) : NULL;
    int on_device = w->dev->info.kind != EG_DEV_HOST &&
                    n > EG_SMALL_INPUT_ELEMS && w->failure == EG_OK;
    if (on_device) {
        eg_error why;
        eg_error_clear(&why);
        eg_status st = w->dev->ops->reduce_chunk(w->dev, x, y, n, p->dtype,
                                                 j->groups, w->words, &why);
        if (st != EG_OK) {
            w->failure = st;
            on_device = 0;
            pthread_mutex_lock(&j->lock);
            eg_notes_append(j->notes, j->notes_len,
                            "device %u failed (%s); its chunks moved to the "
                            "host path",
                            w->dev->info.index, why.msg);
            pthread_mutex_unlock(&j->lock);
        } else {
            w->calls++;
        }
    }
    if (!on_device)
        eg_lanes_any(x, y, n, p->dtype, j->groups, w->words);
    eg_state cs;
    eg_chunk_state_any(w->words, x, y, n, p0, p->dtype, j->groups, &cs);
    if (on_device || w->dev->info.kind == EG_DEV_HOST)
        w->elements += n;
    else
        w->host_elements += n;
    finish_chunk(w, e, c, &cs);
}

/* A lane record of positions [q0, q0 + m) of output e (one lane, read in
 * place by struct_cols.c) into *cs, as eg_chunk_fold does for a piece of
 * one lane: a record the fast path could not finish is redone carefully
 * from that lane gathered. */
static void fold_lane(sworker *w, uint64_t e, uint64_t q0, uint64_t m,
                      const uint64_t *words, eg_state *cs)
{
    const eg_struct_plan *p = w->j->p;
    unsigned g = w->j->groups;
    eg_lane lane;
    eg_state st;
    if (!eg_lane_decode(words, p->dtype, g, &lane)) {
        eg_struct_gather(p, &p->x, e, q0, m, w->xbuf);
        if (p->has_y)
            eg_struct_gather(p, &p->y, e, q0, m, w->ybuf);
        eg_lane_careful(w->xbuf, p->has_y ? w->ybuf : NULL, m, 0, p->dtype, g,
                        &lane);
    }
    eg_state_from_lane(&st, &lane, p->dtype, g, q0);
    eg_state_merge(cs, &st);
}

/* Host threads on gathered segments: the unit's outputs go through their
 * chunk side by side, in tiles of whole lanes that stay in cache, each tile
 * folded into its output's chunk state (eg_chunk_fold): one pass over the
 * memory for TILE_OUTS strided columns, and the bits of the chunk at once. */
static void run_tiled(sworker *w, uint64_t e0, uint64_t e1, uint64_t c)
{
    sjob *j = w->j;
    const eg_struct_plan *p = j->p;
    uint64_t len = p->seg_len, p0 = c * j->chunk;
    uint64_t n = len == 0 ? 0 : len - p0 < j->chunk ? len - p0 : j->chunk;
    uint64_t lw = eg_lane_count(TILE_ELEMS) * eg_lane_words(j->groups);
    size_t tb = TILE_LD * p->size;
    /* columns read in place: COLS_OUTS at a time, their accumulators
     * in L1 beside the rows streaming through */
    uint64_t most = w->cols ? COLS_OUTS : TILE_OUTS;
    for (uint64_t eb = e0; eb < e1; eb += most) {
        uint64_t nb = e1 - eb < most ? e1 - eb : most;
        for (uint64_t k = 0; k < nb; k++)
            eg_state_init(&w->cs[k], p->dtype, j->groups);
        for (uint64_t t0 = 0; t0 < n; t0 += TILE_ELEMS) {
            uint64_t tn = n - t0 < TILE_ELEMS ? n - t0 : TILE_ELEMS;
            if (w->cols) {
                eg_struct_cols_lanes(p, j->groups, j->cols_st, eb, nb,
                                     p0 + t0, tn, w->cols, w->words);
                for (uint64_t k = 0; k < nb; k++)
                    fold_lane(w, eb + k, p0 + t0, tn,
                              w->words + k * EG_LANE_WORDS, &w->cs[k]);
                continue;
            }
            eg_struct_gather_block(p, &p->x, eb, nb, p0 + t0, tn, w->xbuf,
                                   TILE_LD);
            if (p->has_y)
                eg_struct_gather_block(p, &p->y, eb, nb, p0 + t0, tn, w->ybuf,
                                       TILE_LD);
            for (uint64_t k = 0; k < nb; k++) {
                unsigned char *xt = (unsigned char *)w->xbuf + k * tb;
                unsigned char *yt =
                    p->has_y ? (unsigned char *)w->ybuf + k * tb : NULL;
                eg_lanes_any(xt, yt, tn, p->dtype, j->groups,
                             w->words + k * lw);
                eg_chunk_fold_any(w->words + k * lw, xt, yt, tn, p0 + t0,
                                  p->dtype, j->groups, &w->cs[k]);
            }
        }
        for (uint64_t k = 0; k < nb; k++) {
            w->elements += n;
            finish_chunk(w, eb + k, c, &w->cs[k]);
        }
    }
}

/* A row eg_struct_short_sums left: the generic way, which counts it
 * itself. */
static void careful_row(void *ctx, uint64_t e)
{
    sworker *w = ctx;
    const eg_struct_plan *p = w->j->p;
    w->chunks--;
    if (w->dev->info.kind == EG_DEV_HOST)
        w->elements -= p->seg_len;
    else
        w->host_elements -= p->seg_len;
    run_segment(w, e, 0);
}

/* Outputs [e0, e1) of a unit of one-chunk segments: the one-lane ones
 * eight at a time through the segmented lane pass, the others (empty or
 * longer segments, lanes for the careful path) one by one. */
static void run_short(sworker *w, uint64_t e0, uint64_t e1)
{
    sjob *j = w->j;
    const eg_struct_plan *p = j->p;
    eg_short_batch b;
    b.n = 0;
    uint64_t len0 = p->seg_len;
    if (!p->by && j->xstep && len0 > 0 && len0 <= EG_LANE_ELEMS &&
        (!p->has_y || j->ystep)) {
        /* rows of one length at fixed steps: whole batches without the
         * per-output checks below */
        b.n = EG_SHORT_BATCH;
        b.uniform = j->xstep == len0 && (!p->has_y || j->ystep == len0);
        if (b.uniform && (j->sums_ok || j->rows_ok) &&
            e1 - e0 >= EG_SHORT_BATCH) {
            /* whole batches from the rows to the results */
            uint64_t nb = (e1 - e0) / EG_SHORT_BATCH;
            w->chunks += nb * EG_SHORT_BATCH;
            if (w->dev->info.kind == EG_DEV_HOST)
                w->elements += nb * EG_SHORT_BATCH * len0;
            else
                w->host_elements += nb * EG_SHORT_BATCH * len0;
            const void *x0 = p->x.base + e0 * len0 * p->size;
            if (j->sums_ok)
                eg_struct_short_sums(&j->out, x0, e0, nb, len0, careful_row,
                                     w);
            else
                eg_struct_short_rows(&j->out, x0, e0, nb, len0, careful_row,
                                     w);
            e0 += nb * EG_SHORT_BATCH;
        }
        for (; e0 + EG_SHORT_BATCH <= e1; e0 += EG_SHORT_BATCH) {
            for (int i = 0; i < EG_SHORT_BATCH; i++) {
                b.e[i] = e0 + (uint64_t)i;
                b.len[i] = len0;
                b.x[i] = p->x.base + b.e[i] * j->xstep * p->size;
                b.y[i] = p->has_y ? p->y.base + b.e[i] * j->ystep * p->size
                                  : b.x[i];
            }
            unsigned left = eg_struct_short(&j->out, &b);
            unsigned done = EG_SHORT_BATCH - (unsigned)__builtin_popcount(left);
            w->chunks += done;
            if (w->dev->info.kind == EG_DEV_HOST)
                w->elements += done * len0;
            else
                w->host_elements += done * len0;
            for (int i = 0; left; i++, left >>= 1)
                if (left & 1)
                    run_segment(w, b.e[i], 0);
        }
        b.n = 0;
    }
    for (uint64_t e = e0; e <= e1; e++) {
        if (e < e1) {
            uint64_t len = eg_struct_group_len(p, e / p->rest);
            if (len == 0 || len > EG_LANE_ELEMS) {
                run_segment(w, e, 0);
                continue;
            }
            b.e[b.n] = e;
            b.len[b.n] = len;
            b.x[b.n] = j->xstep ? p->x.base + e * j->xstep * p->size
                                : segment(j, &p->x, 1, e, 0, len, NULL);
            b.y[b.n] = !p->has_y ? b.x[b.n]
                       : j->ystep ? p->y.base + e * j->ystep * p->size
                                  : segment(j, &p->y, 1, e, 0, len, NULL);
            if (++b.n < EG_SHORT_BATCH)
                continue;
        }
        if (b.n == 0)
            break;
        /* eight rows one after the other: the pass loads them in blocks */
        b.uniform = b.n == EG_SHORT_BATCH;
        for (int i = 1; i < b.n && b.uniform; i++) {
            size_t at = (size_t)i * b.len[0] * p->size;
            b.uniform = b.len[i] == b.len[0] &&
                        (const char *)b.x[i] == (const char *)b.x[0] + at &&
                        (const char *)b.y[i] == (const char *)b.y[0] + at;
        }
        for (int i = b.n; i < EG_SHORT_BATCH; i++) {
            b.e[i] = b.e[0];
            b.len[i] = b.len[0];
            b.x[i] = b.x[0];
            b.y[i] = b.y[0];
        }
        unsigned left = eg_struct_short(&j->out, &b);
        for (int i = 0; i < b.n; i++) {
            w->chunks++;
            if (left & (1u << i)) {
                w->chunks--; /* run_segment counts its own */
                run_segment(w, b.e[i], 0);
            } else if (w->dev->info.kind == EG_DEV_HOST) {
                w->elements += b.len[i];
            } else {
                w->host_elements += b.len[i];
            }
        }
        b.n = 0;
    }
    eg_struct_short_fence();
}

static void *worker_main(void *arg)
{
    sworker *w = arg;
    sjob *j = w->j;
    for (;;) {
        uint64_t u = atomic_fetch_add(&j->next, 1);
        if (u >= j->nunits)
            break;
        double t0 = eg_now();
        if (w->tiled)
            run_tiled(w, j->units[u].e0, j->units[u].e1, j->units[u].c);
        else if (j->short_ok && j->units[u].c == 0)
            run_short(w, j->units[u].e0, j->units[u].e1);
        else
            for (uint64_t e = j->units[u].e0; e < j->units[u].e1; e++)
                run_segment(w, e, j->units[u].c);
        w->seconds += eg_now() - t0;
    }
    return NULL;
}

static eg_status add_unit(sjob *j, uint64_t e0, uint64_t e1, uint64_t c,
                          eg_error *err)
{
    if (j->nunits == j->cap) {
        uint64_t cap = j->cap ? 2 * j->cap : 64;
        unit *u = realloc(j->units, cap * sizeof *u);
        if (!u)
            return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
        j->units = u;
        j->cap = cap;
    }
    j->units[j->nunits++] = (unit){e0, e1, c};
    return EG_OK;
}

/* Units and state slots: single-chunk segments batched up to UNIT_ELEMS,
 * each chunk of a longer segment a unit of its own. */
static eg_status plan_units(sjob *j, eg_error *err)
{
    const eg_struct_plan *p = j->p;
    uint64_t open0 = 0, open_cost = 0;
    int open = 0;
    eg_status st = EG_OK;
    for (uint64_t g = 0; g < p->ngroups && st == EG_OK; g++) {
        uint64_t len = eg_struct_group_len(p, g);
        uint64_t nc = eg_struct_chunks(len, j->chunk);
        uint64_t e0 = g * p->rest, e1 = e0 + p->rest;
        if (nc == 1) {
            /* gathered columns go TILE_OUTS side by side (run_tiled) */
            uint64_t cost = len ? len : 1;
            uint64_t most = UNIT_ELEMS;
            if (!j->xcontig && !p->by) {
                /* a tile's worth of columns: fewer would each walk every
                 * row (measured slower even with idle threads left) */
                if ((uint64_t)TILE_OUTS * cost > most)
                    most = (uint64_t)TILE_OUTS * cost;
                /* columns read in place: as many units as keep every
                 * thread busy, each taking runs of COLS_RUN_BYTES or more
                 * of a row (narrower, the threads' prefetchers fetch each
                 * other's lines: 4x the memory traffic on C = 64) */
                if (j->cols_st) {
                    if ((uint64_t)COLS_OUTS * cost > most)
                        most = (uint64_t)COLS_OUTS * cost;
                    uint64_t run = COLS_RUN_BYTES / p->size;
                    uint64_t ways = 2 * j->nthreads;
                    uint64_t per = (p->rest + ways - 1) / ways;
                    per = (per + run - 1) / run * run;
                    if (per * cost < most)
                        most = per * cost > UNIT_ELEMS ? per * cost
                                                       : UNIT_ELEMS;
                }
            }
            /* as many outputs at a time as fit the open unit: a plan of
             * millions of short rows is then no serial loop over them */
            for (uint64_t e = e0; e < e1 && st == EG_OK;) {
                if (open && open_cost + cost > most) {
                    st = add_unit(j, open0, e, 0, err);
                    open = 0;
                }
                if (!open) {
                    open = 1;
                    open0 = e;
                    open_cost = 0;
                }
                uint64_t take = open_cost < most ? (most - open_cost) / cost : 0;
                take = take == 0 ? 1 : take < e1 - e ? take : e1 - e;
                open_cost += take * cost;
                e += take;
            }
            continue;
        }
        if (open) {
            st = add_unit(j, open0, e0, 0, err);
            open = 0;
        }
        for (uint64_t c = 0; c < nc && st == EG_OK; c++)
            for (uint64_t e = e0; e < e1 && st == EG_OK; e += TILE_OUTS)
                st = add_unit(j, e, e1 - e < TILE_OUTS ? e1 : e + TILE_OUTS, c,
                              err);
    }
    if (st == EG_OK && open)
        st = add_unit(j, open0, p->nout, 0, err);
    return st;
}

static eg_status alloc_worker(sworker *w, const sjob *j, eg_error *err)
{
    size_t sz = j->p->size;
    uint64_t n = j->chunk;
    w->tiled = !j->xcontig && !j->p->by && w->dev->info.kind == EG_DEV_HOST;
    if (w->tiled) {
        /* TILE_OUTS tiles instead of a chunk; words for each. */
        /* words for a tile, or for COLS_OUTS lanes read in place */
        n = (uint64_t)COLS_OUTS * TILE_LD;
        w->cs = malloc(COLS_OUTS * sizeof *w->cs);
        if (!w->cs)
            return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    }
    if (w->tiled && j->cols_st) {
        w->cols = aligned_alloc(64, eg_struct_cols_scratch());
        if (!w->cols)
            return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    }
    w->words = malloc(eg_lane_count(n) * eg_lane_words(j->groups) * 8 + 8);
    if (!j->xcontig)
        w->xbuf = malloc(n * sz + 8);
    /* run_tiled gathers y beside x even where y could be read in place */
    int ygather = j->p->has_y && (!j->ycontig || w->tiled);
    if (ygather)
        w->ybuf = malloc(n * sz + 8);
    if (!w->words || (!j->xcontig && !w->xbuf) || (ygather && !w->ybuf))
        return eg_error_set(err, EG_ENOMEM,
                            "structured: no memory for "
                            "chunk buffers");
    return EG_OK;
}

static void free_worker(sworker *w)
{
    free(w->cs);
    free(w->cols);
    free(w->words);
    free(w->xbuf);
    free(w->ybuf);
}

static void collect_stats(sjob *j, sworker *ws, size_t nthreads, eg_result *r)
{
    size_t nd = j->devs.ndev;
    uint64_t host_elems = 0;
    for (size_t d = 0; d < nd; d++) {
        memset(&r->devices[d], 0, sizeof r->devices[d]);
        r->devices[d].index = j->devs.devs[d]->info.index;
        memcpy(r->devices[d].name, j->devs.devs[d]->info.name, EG_NAME_MAX);
    }
    for (size_t t = 0; t < nthreads; t++) {
        eg_device_stats *d = &r->devices[ws[t].dev_slot];
        d->elements += ws[t].elements;
        d->chunks += ws[t].chunks;
        d->calls += ws[t].calls;
        d->seconds += ws[t].seconds;
        host_elems += ws[t].host_elements;
    }
    r->ndevices = nd;
    /* Short segments that device threads reduced with the host's lanes. */
    if (host_elems > 0 && nd < EG_MAX_DEVICES) {
        eg_device_stats *d = &r->devices[nd];
        memset(d, 0, sizeof *d);
        d->index = j->devs.host_index;
        snprintf(d->name, sizeof d->name, "host (short segments)");
        d->elements = host_elems;
        r->ndevices = nd + 1;
    }
}

/* One thread per device thread, each on its device, until the units run
 * out; then the multi-chunk outputs.  The first failure of any element
 * (the smallest index) is the job's. */
static eg_status run_workers(sjob *j, sworker *ws, size_t nthreads,
                             eg_error *err)
{
    eg_status st = EG_OK;
    size_t t = 0;
    for (size_t d = 0; d < j->devs.ndev && t < nthreads; d++) {
        unsigned per = j->devs.devs[d]->threads ? j->devs.devs[d]->threads : 1;
        for (unsigned k = 0; k < per && t < nthreads; k++, t++) {
            ws[t].j = j;
            ws[t].dev = j->devs.devs[d];
            ws[t].dev_slot = d;
        }
    }
    for (t = 0; t < nthreads && st == EG_OK; t++)
        st = alloc_worker(&ws[t], j, err);
    for (t = 0; t < nthreads && st == EG_OK; t++) {
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            if (t == 0)
                st = eg_error_set(err, EG_ENOMEM, "cannot start a thread");
            break; /* the threads running drain the units */
        }
        ws[t].started = 1;
    }
    for (t = 0; t < nthreads; t++)
        if (ws[t].started)
            pthread_join(ws[t].thread, NULL);
    if (st == EG_OK)
        eg_struct_out_merge(&j->out, &ws[0].tmp, fail_cb, j);
    if (st == EG_OK && j->st != EG_OK) {
        st = j->st;
        if (err)
            *err = j->err;
    }
    return st;
}

eg_status eg_struct_run(eg_engine *e, const eg_struct_plan *p,
                        const eg_reduce_opts *o, eg_sresult *out, eg_error *err)
{
    sjob j;
    memset(&j, 0, sizeof j);
    j.p = p;
    j.o = o;
    j.groups = eg_struct_groups(p, o);
    j.chunk = o->chunk_elems ? o->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    if (j.chunk % EG_LANE_ELEMS)
        return eg_error_set(err, EG_EUSAGE,
                            "chunk size %llu is not a multiple of %u elements",
                            (unsigned long long)j.chunk, EG_LANE_ELEMS);
    j.xcontig = eg_struct_seg_contiguous(p, &p->x);
    j.ycontig = p->has_y && eg_struct_seg_contiguous(p, &p->y);
    j.short_ok = eg_struct_short_ok(p, o, j.groups, j.xcontig, j.ycontig);
    j.cols_st = j.xcontig ? 0 : eg_struct_cols_stride(p, j.groups);
    j.xstep = eg_struct_out_step(p, &p->x);
    j.ystep = p->has_y ? eg_struct_out_step(p, &p->y) : 0;
    j.notes = out->r.notes;
    j.notes_len = sizeof out->r.notes;
    eg_status st = eg_engine_devices(e, p->dtype, j.groups, &j.devs, err);
    if (st != EG_OK)
        return st;
    snprintf(out->r.notes, sizeof out->r.notes, "%s", j.devs.notes);
    /* A chunk longer than every segment cuts none of them: buffers of the
     * longest segment do, with the bits of the chunk asked for. */
    uint64_t longest = 0;
    for (uint64_t g = 0; g < p->ngroups; g++) {
        uint64_t len = eg_struct_group_len(p, g);
        longest = len > longest ? len : longest;
    }
    if (longest < j.chunk)
        j.chunk = eg_lane_count(longest ? longest : 1) * EG_LANE_ELEMS;
    st = eg_struct_out_init(&j.out, p, o, j.chunk, err);
    j.sums_ok = st == EG_OK && j.short_ok && eg_struct_short_sums_ok(&j.out);
    j.rows_ok = st == EG_OK && j.short_ok && !p->has_y &&
                eg_struct_short_rows_ok(&j.out);
    size_t nthreads = 0;
    for (size_t d = 0; d < j.devs.ndev; d++)
        nthreads += j.devs.devs[d]->threads ? j.devs.devs[d]->threads : 1;
    j.nthreads = nthreads;
    if (st == EG_OK)
        st = plan_units(&j, err);

    if (nthreads > j.nunits)
        nthreads = j.nunits ? (size_t)j.nunits : 1;
    sworker *ws = st == EG_OK ? calloc(nthreads, sizeof *ws) : NULL;
    if (st == EG_OK && !ws)
        st = eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    pthread_mutex_init(&j.lock, NULL);
    atomic_init(&j.next, 0);
    double t0 = eg_now();
    if (st == EG_OK)
        st = run_workers(&j, ws, nthreads, err);
    out->r.seconds = eg_now() - t0;
    if (st == EG_OK) {
        collect_stats(&j, ws, nthreads, &out->r);
        eg_struct_out_settle(&j.out, out);
    }
    if (ws)
        for (size_t t = 0; t < nthreads; t++)
            free_worker(&ws[t]);
    free(ws);
    pthread_mutex_destroy(&j.lock);
    eg_struct_out_free(&j.out);
    free(j.units);
    return st;
}
