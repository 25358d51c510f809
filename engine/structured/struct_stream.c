/* struct_stream.c - --by with few groups, without the copy in group order:
 * the rows are read once, in order, each slice of them on a thread of its
 * own, and every element goes to its output's pending lane (EG_LANE_ELEMS
 * elements, the lane it falls in by its position in the group, which the
 * counting pass fixed: eg_struct_group's soff).  A full lane is reduced at
 * once; the few lanes that a slice boundary cuts are filled by both slices
 * in a shared buffer and reduced after.  Lanes are then folded in lane
 * order and cut into chunks as struct_run.c cuts a copied group, so every
 * output keeps the bits of the copy path (fast mode: the lanes' records
 * merged in the same order; exact mode: order-free sums).
 *
 * Pending lanes take about 2 * slices * nout * EG_LANE_ELEMS elements, so
 * the path is for few outputs (EG_STREAM_MAX_BYTES): beyond that the lanes
 * leave the caches between their first element and their last, every
 * append misses, and the copy's sequential writes win (bench/README.md,
 * --by). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_devs.h"
#include "error.h"
#include "lanes.h"
#include "scheduler.h" /* EG_DEFAULT_CHUNK_ELEMS */
#include "structured.h"

#define LANE EG_LANE_ELEMS
#define LANE_MASK (EG_LANE_ELEMS - 1u)
_Static_assert((EG_LANE_ELEMS & (EG_LANE_ELEMS - 1u)) == 0,
               "lane positions are masked");

/* Test builds may force the path (tests/cli/test_by_stream.py): "copy"
 * or "stream" whatever the number of groups.  Product builds ignore it. */
#define EG_BY_PATH_ENV "EDGEGRID_TEST_BY_PATH"

/* One slice's lane of one output, the cold part; the hot part (where its
 * next element goes, where the slice leaves the lane) is slice_ctx's wp
 * and lim, side by side for the loop that appends. */
typedef struct pend {
    unsigned char *cur, *ycur; /* the lane's buffer (private or shared) */
    uint64_t lane, end;        /* the lane; the slice's end position */
    int shared;                /* a lane that a slice boundary cuts */
} pend;

typedef struct stream_job {
    const eg_struct_plan *p;
    unsigned groups;
    int exact;
    uint64_t nout, nb;    /* outputs; boundary lanes per group at most */
    uint32_t *slot2g;     /* each slot's group */
    int slots_are_groups; /* every slot a group: slot2g the identity */
    uint64_t *gslot;      /* each group's slot */
    uint64_t *joff;       /* element j of a row: its offset (x's view) */
    uint64_t *yoff;
    uint64_t *blane;        /* per group nb lanes (UINT64_MAX: none) */
    unsigned char *bx, *by; /* per output nb shared lane buffers */
    uint64_t *lbase; /* fast mode: output e's lanes from lanes[lbase[e]] */
    eg_lane *lanes;
    eg_state *sstate; /* exact mode: per slice and output, then boundary */
    eg_status st[EG_STRUCT_MAX_SLICES];
    eg_error err[EG_STRUCT_MAX_SLICES];
} stream_job;

int eg_struct_stream_ok(const eg_struct_plan *p)
{
    if (!p->by || p->x.base == NULL || (p->has_y && p->y.base == NULL) ||
        p->nout == 0)
        return 0;
#ifdef EDGEGRID_TEST_HOOKS
    const char *env = getenv(EG_BY_PATH_ENV);
    if (env != NULL && strcmp(env, "copy") == 0)
        return 0;
    if (env != NULL && strcmp(env, "stream") == 0)
        return 1;
#endif
    /* the slices' private lanes and the shared ones, at most */
    uint64_t lanes = (2 * (uint64_t)p->nslice - 1) * p->nout;
    return lanes <= EG_STREAM_MAX_BYTES / ((uint64_t)LANE * p->size);
}

static uint64_t group_len(const eg_struct_plan *p, uint64_t g)
{
    return p->gstart[g + 1] - p->gstart[g];
}

/* Slice s's first position in group g (its rows of g follow in order). */
static uint64_t slice_q0(const stream_job *j, unsigned s, uint64_t g)
{
    const eg_struct_plan *p = j->p;
    if (s == p->nslice)
        return group_len(p, g);
    return p->soff[(uint64_t)s * p->nslots + j->gslot[g]] - p->gstart[g];
}

/* Slots to groups and back: a slot's rows start where its group does. */
static void map_slots(stream_job *j)
{
    const eg_struct_plan *p = j->p;
    uint64_t g = 0, rows = p->dim[0];
    for (uint64_t k = 0; k < p->nslots; k++) {
        uint64_t at = p->soff[k];
        uint64_t next = k + 1 < p->nslots ? p->soff[k + 1] : rows;
        while (g < p->ngroups && p->gstart[g] < at)
            g++;
        j->slot2g[k] = (uint32_t)(g < p->ngroups ? g : 0);
        if (next > at && g < p->ngroups)
            j->gslot[g] = k;
    }
    j->slots_are_groups = p->nslots == p->ngroups;
}

/* The lanes of group g that a slice boundary cuts (strictly inside), in
 * order, each once. */
static void boundary_lanes(stream_job *j, uint64_t g)
{
    uint64_t *bl = j->blane + g * j->nb, len = group_len(j->p, g), n = 0;
    for (uint64_t k = 0; k < j->nb; k++)
        bl[k] = UINT64_MAX;
    for (unsigned s = 1; s < j->p->nslice; s++) {
        uint64_t b = slice_q0(j, s, g);
        if ((b & LANE_MASK) == 0 || b >= len)
            continue;
        if (n == 0 || bl[n - 1] != b / LANE)
            bl[n++] = b / LANE;
    }
}

/* Lane L of output e, m elements at x (and y): its record decoded, or
 * redone carefully, into the lane array (fast); folded into *st (exact). */
static void reduce_lane(const stream_job *j, uint64_t e, uint64_t L,
                        const void *x, const void *y, uint64_t m,
                        uint64_t *words, eg_state *st)
{
    const eg_struct_plan *p = j->p;
    eg_lanes_any(x, y, m, p->dtype, j->groups, words);
    if (j->exact) {
        eg_exact_chunk_fold(words, x, y, m, L * LANE, p->dtype, j->groups, st);
        return;
    }
    eg_lane *lane = &j->lanes[j->lbase[e] + L];
    if (!eg_lane_decode(words, p->dtype, j->groups, lane))
        eg_lane_careful(x, y, m, 0, p->dtype, j->groups, lane);
}

typedef struct slice_ctx {
    stream_job *j;
    unsigned s;
    pend *pd;
    unsigned char **wp, **lim; /* per output: next place, lane's end */
    unsigned char *px, *py;    /* private lane buffers, one per output */
    uint64_t *words;
    eg_state *st; /* exact: this slice's states */
} slice_ctx;

/* Output e's lane at position pos: shared when a boundary cuts it. */
static void open_lane(slice_ctx *c, uint64_t e, uint64_t pos)
{
    stream_job *j = c->j;
    const eg_struct_plan *p = j->p;
    pend *d = &c->pd[e];
    uint64_t g = e / p->rest, L = pos / LANE, len = group_len(p, g);
    uint64_t lend = L * LANE + LANE < len ? L * LANE + LANE : len;
    const uint64_t *bl = j->blane + g * j->nb;
    d->lane = L;
    d->shared = 0;
    d->cur = c->px + e * LANE * p->size;
    d->ycur = c->py ? c->py + e * LANE * p->size : NULL;
    for (uint64_t k = 0; k < j->nb && bl[k] != UINT64_MAX; k++)
        if (bl[k] == L) {
            d->shared = 1;
            d->cur = j->bx + (e * j->nb + k) * LANE * p->size;
            d->ycur = j->by ? j->by + (e * j->nb + k) * LANE * p->size : NULL;
        }
    c->wp[e] = d->cur + (pos - L * LANE) * p->size;
    c->lim[e] = d->cur + ((lend < d->end ? lend : d->end) - L * LANE) * p->size;
}

/* Output e's lane is left: reduced now if this slice filled it all. */
static void close_lane(slice_ctx *c, uint64_t e)
{
    pend *d = &c->pd[e];
    uint64_t m = (uint64_t)(c->lim[e] - d->cur) / c->j->p->size;
    uint64_t pos = d->lane * LANE + m;
    if (!d->shared)
        reduce_lane(c->j, e, d->lane, d->cur, d->ycur, m, c->words,
                    c->st ? &c->st[e] : NULL);
    if (pos < d->end)
        open_lane(c, e, pos);
}

static void put(unsigned char *dst, const unsigned char *src, size_t size,
                int swap)
{
    switch (size) {
    case 1:
        *dst = *src;
        break;
    case 2: {
        uint16_t w;
        memcpy(&w, src, 2);
        w = swap ? __builtin_bswap16(w) : w;
        memcpy(dst, &w, 2);
        break;
    }
    case 4: {
        uint32_t w;
        memcpy(&w, src, 4);
        w = swap ? __builtin_bswap32(w) : w;
        memcpy(dst, &w, 4);
        break;
    }
    default: {
        uint64_t w;
        memcpy(&w, src, 8);
        w = swap ? __builtin_bswap64(w) : w;
        memcpy(dst, &w, 8);
        break;
    }
    }
}

/* 1-D, native order, no second operand: the common case, one element a
 * row straight into its lane. */
#define APPEND_1D(T)                                                           \
    do {                                                                       \
        const T *xr = (const T *)(const void *)p->x.base;                      \
        uint64_t s0 = p->x.stride[0], off = j->joff[0];                        \
        unsigned char **wp = c->wp, *const *lim = c->lim;                      \
        for (uint64_t i = 0; i < bn; i++) {                                    \
            uint32_t e = MAP(sl[i]);                                           \
            T *w = (T *)(void *)wp[e];                                         \
            *w++ = xr[(b0 + i) * s0 + off];                                    \
            wp[e] = (unsigned char *)w;                                        \
            if ((unsigned char *)w == lim[e])                                  \
                close_lane(c, e);                                              \
        }                                                                      \
    } while (0)

static void append_rows(slice_ctx *c, uint64_t b0, uint64_t bn,
                        const uint32_t *sl)
{
    stream_job *j = c->j;
    const eg_struct_plan *p = j->p;
    if (p->rest == 1 && !p->has_y && !p->x.swap && j->slots_are_groups) {
#define MAP(k) (k)
        switch (p->size) {
        case 1:
            APPEND_1D(uint8_t);
            return;
        case 2:
            APPEND_1D(uint16_t);
            return;
        case 4:
            APPEND_1D(uint32_t);
            return;
        default:
            APPEND_1D(uint64_t);
            return;
        }
#undef MAP
    }
    if (p->rest == 1 && !p->has_y && !p->x.swap) {
#define MAP(k) (j->slot2g[k])
        switch (p->size) {
        case 1:
            APPEND_1D(uint8_t);
            return;
        case 2:
            APPEND_1D(uint16_t);
            return;
        case 4:
            APPEND_1D(uint32_t);
            return;
        default:
            APPEND_1D(uint64_t);
            return;
        }
#undef MAP
    }
    size_t sz = p->size;
    for (uint64_t i = 0; i < bn; i++) {
        uint64_t r = b0 + i, e0 = (uint64_t)j->slot2g[sl[i]] * p->rest;
        for (uint64_t k = 0; k < p->rest; k++) {
            uint64_t e = e0 + k;
            unsigned char *at = c->wp[e];
            put(at, p->x.base + (r * p->x.stride[0] + j->joff[k]) * sz, sz,
                p->x.swap);
            if (p->has_y)
                put(c->pd[e].ycur + (at - c->pd[e].cur),
                    p->y.base + (r * p->y.stride[0] + j->yoff[k]) * sz, sz,
                    p->y.swap);
            c->wp[e] = at + sz;
            if (c->wp[e] == c->lim[e])
                close_lane(c, e);
        }
    }
}

static void stream_slice(void *ctx, unsigned s)
{
    stream_job *j = ctx;
    const eg_struct_plan *p = j->p;
    slice_ctx c = {.j = j, .s = s};
    size_t lb = (size_t)j->nout * LANE * p->size;
    c.pd = malloc(j->nout * sizeof *c.pd);
    c.wp = malloc(j->nout * sizeof *c.wp);
    c.lim = malloc(j->nout * sizeof *c.lim);
    c.px = malloc(lb + 8);
    c.py = p->has_y ? malloc(lb + 8) : NULL;
    c.words = malloc(EG_EXACT_LANE_WORDS * sizeof *c.words);
    uint32_t *sl = malloc(EG_STRUCT_KEY_BLOCK * sizeof *sl);
    void *kbuf = malloc(EG_STRUCT_KEY_BLOCK * sizeof(uint64_t));
    c.st = j->exact ? j->sstate + (uint64_t)s * j->nout : NULL;
    if (!c.pd || !c.wp || !c.lim || !c.px || (p->has_y && !c.py) || !c.words ||
        !sl || !kbuf) {
        j->st[s] = eg_error_set(&j->err[s], EG_ENOMEM,
                                "--by: no memory for %llu pending lanes",
                                (unsigned long long)j->nout);
        goto done;
    }
    for (uint64_t e = 0; e < j->nout; e++) {
        uint64_t g = e / p->rest;
        uint64_t q0 = slice_q0(j, s, g);
        c.pd[e].end = slice_q0(j, s + 1, g);
        c.wp[e] = c.lim[e] = NULL; /* no rows of e in this slice */
        if (q0 < c.pd[e].end)
            open_lane(&c, e, q0);
        if (c.st)
            eg_state_init(&c.st[e], p->dtype, j->groups);
    }
    for (uint64_t b0 = p->slice[s], bn; b0 < p->slice[s + 1]; b0 += bn) {
        bn = p->slice[s + 1] - b0 < EG_STRUCT_KEY_BLOCK ? p->slice[s + 1] - b0
                                                        : EG_STRUCT_KEY_BLOCK;
        j->st[s] = eg_struct_slots(p, b0, bn, kbuf, sl, &j->err[s]);
        if (j->st[s] != EG_OK)
            break;
        append_rows(&c, b0, bn, sl);
    }
done:
    free(c.pd);
    free(c.wp);
    free(c.lim);
    free(c.px);
    free(c.py);
    free(c.words);
    free(sl);
    free(kbuf);
}

/* The shared lanes, now that every slice has put its part in. */
static void boundary_pass(stream_job *j, uint64_t *words)
{
    const eg_struct_plan *p = j->p;
    eg_state *post =
        j->exact ? j->sstate + (uint64_t)p->nslice * j->nout : NULL;
    for (uint64_t e = 0; e < j->nout; e++) {
        uint64_t g = e / p->rest, len = group_len(p, g);
        const uint64_t *bl = j->blane + g * j->nb;
        if (post)
            eg_state_init(&post[e], p->dtype, j->groups);
        for (uint64_t k = 0; k < j->nb && bl[k] != UINT64_MAX; k++) {
            uint64_t L = bl[k],
                     m = len - L * LANE < LANE ? len - L * LANE : LANE;
            size_t at = (e * j->nb + k) * LANE * p->size;
            reduce_lane(j, e, L, j->bx + at, j->by ? j->by + at : NULL, m,
                        words, post ? &post[e] : NULL);
        }
    }
}

/* eg_struct_out_merge's failures: the smallest output's is kept. */
typedef struct merge_fail {
    uint64_t e;
    eg_error why;
} merge_fail;

static void on_merge_fail(void *ctx, uint64_t e, const eg_error *why)
{
    merge_fail *mf = ctx;
    if (e < mf->e) {
        mf->e = e;
        mf->why = *why;
    }
}

/* Fast mode: each output's lanes folded in order into chunk states, cut
 * where struct_run.c cuts a copied group, and handed to out as it hands
 * them; exact mode: the slices' order-free states merged. */
static eg_status settle(stream_job *j, eg_struct_out *so, eg_error *err)
{
    const eg_struct_plan *p = j->p;
    eg_result *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    /* every output is finished; a failure is the smallest output's */
    merge_fail mf = {UINT64_MAX, {0}};
    eg_error_clear(&mf.why);
    for (uint64_t e = 0; e < j->nout; e++) {
        uint64_t len = group_len(p, e / p->rest);
        eg_error why;
        eg_error_clear(&why);
        eg_state cs;
        eg_status st = EG_OK;
        eg_state_init(&cs, p->dtype, j->groups);
        if (j->exact) {
            for (unsigned s = 0; s <= p->nslice; s++)
                eg_state_merge(&cs, &j->sstate[(uint64_t)s * j->nout + e]);
            st = eg_struct_out_store(so, e, &cs, tmp, &why);
        } else {
            uint64_t c = 0, per = so->chunk / LANE;
            for (uint64_t L = 0; L < eg_lane_count(len) && st == EG_OK; L++) {
                if (L > 0 && L % per == 0) {
                    st = eg_struct_out_chunk(so, e, c++, &cs, tmp, &why);
                    eg_state_init(&cs, p->dtype, j->groups);
                }
                eg_state ls;
                eg_state_from_lane(&ls, &j->lanes[j->lbase[e] + L], p->dtype,
                                   j->groups, L * LANE);
                eg_state_merge(&cs, &ls);
            }
            if (st == EG_OK)
                st = eg_struct_out_chunk(so, e, c, &cs, tmp, &why);
        }
        if (st != EG_OK)
            on_merge_fail(&mf, e, &why);
    }
    /* multi-chunk outputs, their chunk states in chunk order */
    if (!j->exact)
        eg_struct_out_merge(so, tmp, on_merge_fail, &mf);
    free(tmp);
    if (mf.e == UINT64_MAX)
        return EG_OK;
    if (err)
        *err = mf.why;
    return mf.why.code;
}

eg_status eg_struct_run_stream(eg_engine *eng, const eg_struct_plan *p,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err)
{
    stream_job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    j.groups = eg_struct_groups(p, o);
    j.exact = (j.groups & EG_G_EXACT) != 0;
    j.nout = p->nout;
    j.nb = p->nslice > 1 ? p->nslice - 1 : 1;
    uint64_t chunk = o->chunk_elems ? o->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    if (chunk % LANE)
        return eg_error_set(err, EG_EUSAGE,
                            "chunk size %llu is not a multiple of %u elements",
                            (unsigned long long)chunk, LANE);
    eg_engine_devs devs;
    eg_status st = eg_engine_devices(eng, p->dtype, j.groups, &devs, err);
    if (st != EG_OK)
        return st;
    snprintf(out->r.notes, sizeof out->r.notes, "%s", devs.notes);
    /* as struct_run.c: a chunk longer than every group cuts none */
    uint64_t longest = 0, lanes = 0;
    for (uint64_t g = 0; g < p->ngroups; g++)
        longest = group_len(p, g) > longest ? group_len(p, g) : longest;
    if (longest < chunk)
        chunk = eg_lane_count(longest ? longest : 1) * LANE;
    eg_struct_out so;
    st = eg_struct_out_init(&so, p, o, chunk, err);
    double t0 = eg_now();
    size_t lane_bytes = (size_t)j.nout * j.nb * LANE * p->size + 8;
    j.slot2g = malloc((p->nslots ? p->nslots : 1) * sizeof *j.slot2g);
    j.gslot = malloc(p->ngroups * sizeof *j.gslot);
    j.joff = malloc(p->rest * sizeof *j.joff);
    j.yoff = malloc(p->rest * sizeof *j.yoff);
    j.blane = malloc(p->ngroups * j.nb * sizeof *j.blane);
    j.bx = malloc(lane_bytes);
    j.by = p->has_y ? malloc(lane_bytes) : NULL;
    j.lbase = malloc((j.nout + 1) * sizeof *j.lbase);
    if (st == EG_OK && (!j.slot2g || !j.gslot || !j.joff || !j.yoff ||
                        !j.blane || !j.bx || (p->has_y && !j.by) || !j.lbase))
        st = eg_error_set(err, EG_ENOMEM, "--by: out of memory");
    if (st == EG_OK) {
        for (uint64_t e = 0; e < j.nout; e++) {
            j.lbase[e] = lanes;
            lanes += eg_lane_count(group_len(p, e / p->rest));
        }
        j.lbase[j.nout] = lanes;
        for (uint64_t k = 0; k < p->rest; k++) {
            j.joff[k] = eg_struct_out_offset(p, &p->x, k);
            j.yoff[k] = p->has_y ? eg_struct_out_offset(p, &p->y, k) : 0;
        }
        map_slots(&j);
        for (uint64_t g = 0; g < p->ngroups; g++)
            boundary_lanes(&j, g);
        if (j.exact)
            j.sstate = malloc((p->nslice + 1) * j.nout * sizeof *j.sstate);
        else
            j.lanes = malloc((lanes ? lanes : 1) * sizeof *j.lanes);
        if (!j.sstate && !j.lanes)
            st = eg_error_set(err, EG_ENOMEM,
                              "--by: no memory for %llu lane records",
                              (unsigned long long)lanes);
    }
    if (st == EG_OK) {
        eg_struct_par(p->nslice, stream_slice, &j);
        for (unsigned s = 0; s < p->nslice && st == EG_OK; s++)
            if (j.st[s] != EG_OK) {
                st = j.st[s];
                if (err)
                    *err = j.err[s];
            }
    }
    if (st == EG_OK) {
        uint64_t words[EG_EXACT_LANE_WORDS];
        boundary_pass(&j, words);
        st = settle(&j, &so, err);
    }
    if (st == EG_OK) {
        eg_device_stats *d = &out->r.devices[0];
        memset(d, 0, sizeof *d);
        d->index = devs.host_index;
        snprintf(d->name, sizeof d->name, "host (--by streamed)");
        d->elements = p->dim[0] * p->rest;
        d->chunks = lanes;
        d->seconds = eg_now() - t0;
        out->r.ndevices = 1;
        out->r.seconds = d->seconds;
        eg_struct_out_settle(&so, out);
    }
    eg_struct_out_free(&so);
    free(j.slot2g);
    free(j.gslot);
    free(j.joff);
    free(j.yoff);
    free(j.blane);
    free(j.bx);
    free(j.by);
    free(j.lbase);
    free(j.lanes);
    free(j.sstate);
    return st;
}
