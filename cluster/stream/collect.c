/* collect.c - the collector's merge table (collect.h). */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdone.h"
#include "window.h"

/* Printed ids remembered (cdone.h), so late copies are known as such: a
 * (window, key) per time window, (box, epoch) and missing box per count
 * window. */
#define DONE_KEEP 65536

typedef struct entry {
    char box[EG_SF_NAME_MAX + 1];
    uint64_t epoch;
    uint8_t rid[EG_COLL_RID_MAX];
    size_t rid_len;
    uint64_t count, late, bad;
    eg_state *st;
    eg_sketch *sk;     /* channels, when approx_quantile */
    eg_hist_state *hs; /* channels, when hist */
} entry;

/* An acknowledgement waiting for its window's record to reach the disk. */
typedef struct pend_ack {
    uint8_t rid[EG_COLL_RID_MAX];
    size_t rid_len;
    eg_sf_head h;
} pend_ack;

typedef struct group {
    eg_sf_window proto; /* head, ops, quantile settings; no states */
    eg_hist_plan plan;  /* hist: the bins of every box's states */
    double first;
    entry *e;
    unsigned n, cap;
} group;

struct eg_coll {
    eg_coll_cfg cfg;
    group *g;
    size_t ng, capg;
    eg_cdone *done;
    pend_ack *acks; /* printed since the last flush */
    size_t nacks, capacks;
    unsigned pend_windows;
    int failed; /* the journal could not be written: no more acks */
    eg_error fail;
    char (*seen)[EG_SF_NAME_MAX + 1]; /* every box ever heard from */
    unsigned nseen;
    eg_coll_totals t;
};

static int same_window(const eg_sf_head *a, const eg_sf_head *b)
{
    return a->kind == b->kind && a->start == b->start && a->end == b->end &&
           a->has_key == b->has_key && strcmp(a->key, b->key) == 0;
}

eg_status eg_coll_open(eg_coll **out, const eg_coll_cfg *cfg, eg_error *err)
{
    *out = NULL;
    eg_coll *c = calloc(1, sizeof *c);
    if (c)
        c->seen = calloc(EG_COLL_MAX_BOXES, sizeof *c->seen);
    if (!c || !c->seen) {
        if (c)
            free(c->seen);
        free(c);
        return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
    }
    eg_status st = eg_cdone_open(&c->done, cfg->state_dir, DONE_KEEP, err);
    if (st != EG_OK) {
        free(c->seen);
        free(c);
        return st;
    }
    c->cfg = *cfg;
    c->t.recovered = eg_cdone_loaded(c->done);
    *out = c;
    return EG_OK;
}

static void entry_free(entry *e, unsigned channels)
{
    for (unsigned c = 0; e->sk && c < channels; c++)
        eg_sketch_free(&e->sk[c]);
    for (unsigned c = 0; e->hs && c < channels; c++)
        eg_hist_state_free(&e->hs[c]);
    free(e->st);
    free(e->sk);
    free(e->hs);
}

static void group_free(group *g)
{
    for (unsigned i = 0; i < g->n; i++)
        entry_free(&g->e[i], g->proto.channels);
    free(g->e);
    g->e = NULL;
    eg_hist_plan_free(&g->plan);
}

/* A box's sketches and histograms, copied out of the decoder's memory:
 * the merge of nothing and b is b. */
static eg_status copy_quant(entry *e, const eg_sf_window *w, eg_error *err)
{
    unsigned nc = w->channels;
    if (w->q.qops & EG_QOP_APPROX) {
        if (!(e->sk = calloc(nc, sizeof *e->sk)))
            return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
        for (unsigned c = 0; c < nc; c++) {
            eg_sketch_init(&e->sk[c], w->sketches[c].k);
            eg_status st = eg_sketch_merge(&e->sk[c], &w->sketches[c], err);
            if (st != EG_OK)
                return st;
        }
    }
    if (w->q.qops & EG_QOP_HIST) {
        if (!(e->hs = calloc(nc, sizeof *e->hs)))
            return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
        for (unsigned c = 0; c < nc; c++) {
            eg_status st = eg_hist_state_init(&e->hs[c], w->q.bins, err);
            if (st != EG_OK)
                return st;
            eg_hist_merge(&e->hs[c], &w->hists[c]);
        }
    }
    return EG_OK;
}

void eg_coll_close(eg_coll **pc)
{
    eg_coll *c = *pc;
    if (!c)
        return;
    for (size_t i = 0; i < c->ng; i++)
        group_free(&c->g[i]);
    free(c->g);
    free(c->acks);
    eg_cdone_close(&c->done);
    free(c->seen);
    free(c);
    *pc = NULL;
}

static int expected(const eg_coll *c, const char *box)
{
    if (!c->cfg.expect)
        return 1;
    for (unsigned i = 0; i < c->cfg.nexpect; i++)
        if (strcmp(c->cfg.expect[i], box) == 0)
            return 1;
    return 0;
}

static void note_seen(eg_coll *c, const char *box)
{
    for (unsigned i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i], box) == 0)
            return;
    if (c->nseen < EG_COLL_MAX_BOXES)
        snprintf(c->seen[c->nseen++], EG_SF_NAME_MAX + 1, "%s", box);
}

/* Entries sorted by box: the boxes, each once (a restarted box may have
 * given one count window states of two epochs). */
static unsigned distinct_boxes(const group *g)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g->n; i++) {
        unsigned j = 0;
        while (j < i && strcmp(g->e[j].box, g->e[i].box) != 0)
            j++;
        n += j == i;
    }
    return n;
}

static int complete(const eg_coll *c, const group *g)
{
    if (c->cfg.expect)
        return distinct_boxes(g) >= c->cfg.nexpect;
    return distinct_boxes(g) >= c->cfg.boxes;
}

static int by_box(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int d = strcmp(x->box, y->box);
    if (d)
        return d;
    return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

/* ------------------------------------------------------------ identities */

static void hash_bytes(uint64_t h[2], const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h[0] = (h[0] ^ b[i]) * 1099511628211ull;
        h[1] = (h[1] ^ b[i]) * 0x100000001b3ull * 31u + 7u;
    }
}

static void hash_u64(uint64_t h[2], uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    hash_bytes(h, b, 8);
}

/* tag: 'W' a printed time window, 'S' a printed count window state of
 * (box, epoch), 'M' a box missing from a printed count window. */
static eg_cdone_id make_id(char tag, const eg_sf_head *h, const char *box,
                           uint64_t epoch)
{
    uint64_t s[2] = {1469598103934665603ull, 0x9e3779b97f4a7c15ull};
    size_t kl = h->has_key ? strlen(h->key) : 0;
    hash_bytes(s, &tag, 1);
    hash_u64(s, h->kind);
    hash_u64(s, (uint64_t)h->start);
    hash_u64(s, (uint64_t)h->end);
    hash_u64(s, (uint64_t)h->has_key);
    hash_u64(s, kl);
    hash_bytes(s, h->key, kl);
    if (box) {
        size_t bl = strlen(box);
        hash_u64(s, bl);
        hash_bytes(s, box, bl);
        hash_u64(s, epoch);
    }
    return (eg_cdone_id){s[0], s[1]};
}

/* Printed already?  A time window is named by the clock, so a copy from
 * any box or epoch (a replay, a box past the wait) is one.  A count window
 * is numbered from its box's start: (box, epoch) names a box's state, and
 * a box named missing when the window was printed reported too late. */
static int printed(const eg_coll *c, const eg_sf_head *h)
{
    if (h->kind != EG_WIN_COUNT)
        return eg_cdone_has(c->done, make_id('W', h, NULL, 0));
    return eg_cdone_has(c->done, make_id('S', h, h->box, h->epoch)) ||
           eg_cdone_has(c->done, make_id('M', h, h->box, 0));
}

/* Queues the group's acks for eg_coll_flush; one that finds no memory is
 * not sent, and its box sends the state again (known by then). */
static void queue_acks(eg_coll *c, const group *g)
{
    for (unsigned i = 0; i < g->n; i++) {
        if (c->nacks == c->capacks) {
            size_t cap = c->capacks ? c->capacks * 2 : 64;
            pend_ack *a = realloc(c->acks, cap * sizeof *a);
            if (!a)
                return;
            c->acks = a;
            c->capacks = cap;
        }
        pend_ack *a = &c->acks[c->nacks++];
        a->h = g->proto.h;
        snprintf(a->h.box, sizeof a->h.box, "%s", g->e[i].box);
        a->h.epoch = g->e[i].epoch;
        memcpy(a->rid, g->e[i].rid, g->e[i].rid_len);
        a->rid_len = g->e[i].rid_len;
    }
}

void eg_coll_flush(eg_coll *c, eg_coll_ack_fn ack, void *ctx)
{
    if (c->pend_windows == 0 && c->nacks == 0)
        return;
    /* Lines first (the emit function flushes its own), then the record,
     * then the acks: killed before the record, the collector prints those
     * lines again; after it, never. */
    if (!c->failed && eg_cdone_commit(c->done, &c->fail) != EG_OK)
        c->failed = 1;
    if (!c->failed) {
        if (c->cfg.recorded)
            c->cfg.recorded(ctx, c->pend_windows);
        for (size_t i = 0; i < c->nacks; i++)
            ack(ctx, c->acks[i].rid, c->acks[i].rid_len, &c->acks[i].h);
    }
    c->nacks = 0;
    c->pend_windows = 0;
}

/* What the printed group leaves in the printed set: at once in memory,
 * on disk at the next flush and before any of its acks. */
static eg_status record_group(eg_coll *c, const group *g,
                              const char *const *missing, unsigned nmissing)
{
    eg_cdone_id ids[EG_COLL_MAX_BOXES * 2];
    size_t n = 0;
    if (g->proto.h.kind != EG_WIN_COUNT) {
        ids[n++] = make_id('W', &g->proto.h, NULL, 0);
    } else {
        for (unsigned i = 0; i < g->n && n < EG_COLL_MAX_BOXES; i++)
            ids[n++] = make_id('S', &g->proto.h, g->e[i].box, g->e[i].epoch);
        for (unsigned i = 0; i < nmissing; i++)
            ids[n++] = make_id('M', &g->proto.h, missing[i], 0);
    }
    return eg_cdone_note(c->done, ids, n, &c->fail);
}

/* Merges, prints, acknowledges and forgets group i. */
static void print_group(eg_coll *c, size_t i, eg_coll_emit_fn emit,
                        eg_coll_ack_fn ack, void *ctx)
{
    group *g = &c->g[i];
    qsort(g->e, g->n, sizeof *g->e, by_box);
    eg_state merged[EG_SF_MAX_CHANNELS];
    eg_sf_window w = g->proto;
    w.moments = merged;
    w.count = w.late = w.bad = 0;
    for (unsigned ch = 0; ch < w.channels; ch++) {
        eg_state_init(&merged[ch], g->e[0].st[ch].dtype, g->e[0].st[ch].groups);
        uint64_t offset = 0;
        for (unsigned b = 0; b < g->n; b++) {
            eg_state s = g->e[b].st[ch];
            eg_state_shift(&s, offset);
            eg_state_merge(&merged[ch], &s);
            offset += g->e[b].count;
        }
    }
    /* Sketches and histograms are integer counts: their sums are the same
     * bytes in any order. */
    eg_sketch msk[EG_SF_MAX_CHANNELS];
    eg_hist_state mhs[EG_SF_MAX_CHANNELS];
    int sk = (w.q.qops & EG_QOP_APPROX) != 0, hs = (w.q.qops & EG_QOP_HIST) != 0;
    memset(mhs, 0, sizeof mhs);
    for (unsigned ch = 0; ch < w.channels; ch++) {
        if (sk) {
            eg_sketch_init(&msk[ch], g->e[0].sk[ch].k);
            for (unsigned b = 0; b < g->n; b++)
                if (eg_sketch_merge(&msk[ch], &g->e[b].sk[ch], NULL) != EG_OK)
                    msk[ch].oom = 1;
        }
        if (hs && eg_hist_state_init(&mhs[ch], w.q.bins, NULL) == EG_OK)
            for (unsigned b = 0; b < g->n; b++)
                eg_hist_merge(&mhs[ch], &g->e[b].hs[ch]);
    }
    w.sketches = sk ? msk : NULL;
    w.hists = hs ? mhs : NULL;
    w.plan = hs ? &g->plan : NULL;
    const char *boxes[EG_COLL_MAX_BOXES], *missing[EG_COLL_MAX_BOXES];
    unsigned nmissing = 0, nboxes = 0;
    for (unsigned b = 0; b < g->n; b++) {
        if (nboxes == 0 || strcmp(boxes[nboxes - 1], g->e[b].box) != 0)
            boxes[nboxes++] = g->e[b].box;
        w.count += g->e[b].count;
        w.late += g->e[b].late;
        w.bad += g->e[b].bad;
    }
    /* The missing: the expected boxes, else every box ever heard from,
     * that did not report this window. */
    unsigned nnames = c->cfg.expect ? c->cfg.nexpect : c->nseen;
    for (unsigned k = 0; k < nnames; k++) {
        const char *name = c->cfg.expect ? c->cfg.expect[k] : c->seen[k];
        int found = 0;
        for (unsigned b = 0; b < g->n && !found; b++)
            found = strcmp(g->e[b].box, name) == 0;
        if (!found && nmissing < EG_COLL_MAX_BOXES)
            missing[nmissing++] = name;
    }
    eg_coll_line line = {&w, boxes, nboxes, missing, nmissing};
    emit(ctx, &line);
    for (unsigned ch = 0; ch < w.channels; ch++) {
        if (sk)
            eg_sketch_free(&msk[ch]);
        if (hs)
            eg_hist_state_free(&mhs[ch]);
    }
    c->t.printed++;
    if (complete(c, g))
        c->t.complete++;
    /* The line is out; its record and acks wait for eg_coll_flush. */
    (void)ack;
    if (!c->failed && record_group(c, g, missing, nmissing) != EG_OK)
        c->failed = 1;
    if (!c->failed) {
        queue_acks(c, g);
        c->pend_windows++;
    }
    group_free(g);
    c->g[i] = c->g[--c->ng];
}

static int same_quant(const eg_quant_opts *a, const eg_quant_opts *b)
{
    if (a->qops != b->qops || a->nq != b->nq)
        return 0;
    if (a->qops == 0)
        return 1;
    for (size_t i = 0; i < a->nq; i++)
        if (memcmp(&a->q[i], &b->q[i], sizeof a->q[i]) != 0)
            return 0;
    return memcmp(&a->rel_err, &b->rel_err, sizeof a->rel_err) == 0 &&
           a->bins == b->bins && memcmp(&a->lo, &b->lo, sizeof a->lo) == 0 &&
           memcmp(&a->hi, &b->hi, sizeof a->hi) == 0;
}

static int same_shape(const eg_sf_window *a, const eg_sf_window *b)
{
    return a->ops == b->ops && a->nan == b->nan && a->ddof == b->ddof &&
           a->mode == b->mode && a->dtype == b->dtype &&
           a->channels == b->channels && same_quant(&a->q, &b->q);
}

eg_status eg_coll_take(eg_coll *c, const eg_sf_window *w, const uint8_t *rid,
                       size_t rid_len, double now, eg_coll_emit_fn emit,
                       eg_coll_ack_fn ack, void *ctx, eg_error *err)
{
    if (!expected(c, w->h.box)) {
        c->t.refused++;
        return eg_error_set(err, EG_EINPUT,
                            "collect: box '%s' is not in --expect", w->h.box);
    }
    if (rid_len > EG_COLL_RID_MAX)
        rid_len = 0;
    note_seen(c, w->h.box);
    size_t gi = c->ng;
    for (size_t i = 0; i < c->ng; i++)
        if (same_window(&c->g[i].proto.h, &w->h)) {
            gi = i;
            break;
        }
    if (printed(c, &w->h)) {
        /* Printed already: a copy sent again, or a box that reported
         * after the wait.  Acknowledge it so that the box stops sending
         * it (not while the printed set cannot be written). */
        c->t.after++;
        if (!c->failed)
            ack(ctx, rid, rid_len, &w->h);
        return EG_OK;
    }
    if (gi == c->ng) {
        if (c->ng == c->capg) {
            size_t cap = c->capg ? c->capg * 2 : 16;
            group *g = realloc(c->g, cap * sizeof *g);
            if (!g)
                return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
            c->g = g;
            c->capg = cap;
        }
        group *g = &c->g[c->ng++];
        memset(g, 0, sizeof *g);
        g->proto = *w;
        g->proto.moments = NULL;
        g->proto.sketches = NULL;
        g->proto.hists = NULL;
        g->proto.plan = NULL;
        g->first = now;
        if ((w->q.qops & EG_QOP_HIST) &&
            eg_hist_plan_make(&g->plan, (eg_dtype)w->dtype, w->q.bins, 1,
                              w->q.lo, w->q.hi, 0, 0, 0, err) != EG_OK) {
            c->ng--;
            return err ? err->code : EG_EINPUT;
        }
    }
    group *g = &c->g[gi];
    if (!same_shape(&g->proto, w)) {
        c->t.refused++;
        return eg_error_set(err, EG_EINPUT,
                            "collect: box '%s' sent a window whose ops, mode, "
                            "dtype or channels differ from the others'",
                            w->h.box);
    }
    /* A box's state of a time window, or of a count window in one epoch,
     * comes once; a restarted box's count window of a new epoch is new. */
    for (unsigned i = 0; i < g->n; i++)
        if (strcmp(g->e[i].box, w->h.box) == 0 &&
            (w->h.kind != EG_WIN_COUNT || g->e[i].epoch == w->h.epoch)) {
            c->t.duplicates++;
            /* The newest connection is where an ack can still arrive. */
            memcpy(g->e[i].rid, rid, rid_len);
            g->e[i].rid_len = rid_len;
            return EG_OK;
        }
    if (g->n == EG_COLL_MAX_BOXES) {
        c->t.refused++;
        return eg_error_set(err, EG_EINPUT,
                            "collect: box '%s': more than %d states for one "
                            "window",
                            w->h.box, EG_COLL_MAX_BOXES);
    }
    if (g->n == g->cap) {
        unsigned cap = g->cap ? g->cap * 2 : 4;
        entry *e = realloc(g->e, cap * sizeof *e);
        if (!e)
            return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
        g->e = e;
        g->cap = cap;
    }
    entry *e = &g->e[g->n];
    memset(e, 0, sizeof *e);
    e->st = malloc(w->channels * sizeof *e->st);
    if (!e->st)
        return eg_error_set(err, EG_ENOMEM, "collect: out of memory");
    memcpy(e->st, w->moments, w->channels * sizeof *e->st);
    eg_status qst = copy_quant(e, w, err);
    if (qst != EG_OK) {
        entry_free(e, w->channels);
        return qst;
    }
    snprintf(e->box, sizeof e->box, "%s", w->h.box);
    e->epoch = w->h.epoch;
    memcpy(e->rid, rid, rid_len);
    e->rid_len = rid_len;
    e->count = w->count;
    e->late = w->late;
    e->bad = w->bad;
    g->n++;
    c->t.states++;
    if (complete(c, g))
        print_group(c, gi, emit, ack, ctx);
    return EG_OK;
}

void eg_coll_tick(eg_coll *c, double now, eg_coll_emit_fn emit,
                  eg_coll_ack_fn ack, void *ctx)
{
    /* Oldest first, so lines come out in the order windows began. */
    for (;;) {
        size_t best = c->ng;
        for (size_t i = 0; i < c->ng; i++)
            if (now - c->g[i].first >= c->cfg.wait_s &&
                (best == c->ng || c->g[i].first < c->g[best].first))
                best = i;
        if (best == c->ng)
            return;
        print_group(c, best, emit, ack, ctx);
    }
}

double eg_coll_next_due(const eg_coll *c, double now)
{
    double due = -1;
    for (size_t i = 0; i < c->ng; i++) {
        double d = c->g[i].first + c->cfg.wait_s - now;
        if (d < 0)
            d = 0;
        if (due < 0 || d < due)
            due = d;
    }
    return due;
}

const eg_error *eg_coll_failure(const eg_coll *c)
{
    return c->failed ? &c->fail : NULL;
}

void eg_coll_totals_get(const eg_coll *c, eg_coll_totals *t)
{
    *t = c->t;
    t->pending = c->ng;
}
