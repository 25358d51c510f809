/* qselect.c - radix selection passes (qselect.h). */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "error.h"
#include "qselect.h"
#include "quant_key.h"
#include "quant_scan.h"
#include "qselect_pass.h"

/* The same pass on a device: its count_select over every group. */
static eg_status pass_device(void *ctx, unsigned th, eg_device *dev,
                             const void *data, uint64_t n, eg_error *err)
{
    sel_pass *p = ctx;
    eg_count_group cg[EG_SELECT_MAX_RANKS];
    for (size_t j = 0; j < p->ngroups; j++) {
        sel_group *g = &p->g[j];
        cg[j] = (eg_count_group){g->prefix,   g->fixed,    g->collect ? NULL
                                                                     : g->hist[th],
                                 g->keys[th], &g->len[th], g->cap};
    }
    uint64_t nan = 0;
    eg_status st = dev->ops->count_select(dev, p->s->dtype, cg, p->ngroups,
                                          data, n, &nan, err);
    if (st == EG_OK) {
        p->nan[th] += nan;
        p->keys[th] += n - nan;
    }
    return st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void pass_free(sel_pass *p)
{
    for (size_t j = 0; j < p->ngroups; j++)
        for (unsigned t = 0; t < EG_QSCAN_MAX_THREADS; t++) {
            free(p->g[j].hist[t]);
            free(p->g[j].keys[t]);
        }
}

/* Allocates the per-thread counters of every group and runs the pass. */
static eg_status pass_run(sel_pass *p, const eg_source *src, eg_error *err)
{
    const eg_select *s = p->s;
    size_t bins = (size_t)1 << s->digit;
    for (size_t j = 0; j < p->ngroups; j++)
        for (unsigned t = 0; t < s->threads; t++) {
            sel_group *g = &p->g[j];
            if (g->collect)
                g->keys[t] = malloc((g->cap ? g->cap : 1) * sizeof(uint64_t));
            else
                g->hist[t] = calloc(bins, sizeof(uint64_t));
            if (!(g->collect ? (void *)g->keys[t] : (void *)g->hist[t]))
                return eg_error_set(err, EG_ENOMEM,
                                    "%s: out of memory for a selection pass",
                                    eg_source_name(src));
        }
    return eg_qdevs_scan(src, s->devs, "median and quantile",
                         eg_select_pass_block, pass_device, p, err);
}

/* Sums a group's histograms into hist[0], or its keys into one sorted
 * array keys[0] of *len keys. */
static eg_status group_merge(sel_group *g, unsigned threads, size_t bins,
                             uint64_t *len, eg_error *err)
{
    if (!g->collect) {
        for (unsigned t = 1; t < threads; t++)
            for (size_t b = 0; b < bins; b++)
                g->hist[0][b] += g->hist[t][b];
        return EG_OK;
    }
    uint64_t total = 0;
    for (unsigned t = 0; t < threads; t++)
        total += g->len[t];
    uint64_t *all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return eg_error_set(err, EG_ENOMEM, "selection: out of memory");
    uint64_t at = 0;
    for (unsigned t = 0; t < threads; t++) {
        memcpy(all + at, g->keys[t], g->len[t] * sizeof *all);
        at += g->len[t];
    }
    qsort(all, total, sizeof *all, cmp_u64);
    free(g->keys[0]);
    g->keys[0] = all;
    *len = total;
    return EG_OK;
}

/* Moves a target down into its digit of the merged histogram h; -1 when h
 * holds fewer keys than its rank (the data changed under the passes). */
static int target_descend(const eg_select *s, eg_select_target *t,
                          const uint64_t *h)
{
    size_t bins = (size_t)1 << s->digit;
    uint64_t c = 0;
    for (size_t b = 0; b < bins; b++) {
        if (t->local < c + h[b]) {
            t->prefix = (t->prefix << s->digit) | b;
            t->fixed += s->digit;
            t->local -= c;
            t->bucket = h[b];
            if (t->fixed == s->width) {
                t->done = 1;
                t->key = t->prefix;
            }
            return 0;
        }
        c += h[b];
    }
    return -1;
}

static eg_status changed(const eg_source *src, eg_error *err)
{
    return eg_error_set(err, EG_EIO,
                        "%s: the data changed between selection passes",
                        eg_source_name(src));
}

eg_status eg_select_first(eg_select *s, const eg_source *src, eg_qdevs *devs,
                          eg_error *err)
{
    const eg_array_info *info = eg_source_info(src);
    sel_pass *p = calloc(1, sizeof *p);
    eg_status st;

    memset(s, 0, sizeof *s);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "selection: out of memory");
    s->dtype = info->dtype;
    s->width = eg_key_bits(info->dtype);
    s->digit = s->width == 8 ? 8 : 16;
    s->devs = devs;
    s->threads = devs ? eg_qdevs_slots(devs, info->count)
                      : eg_qscan_threads(info->count);
    p->s = s;
    p->ngroups = 1;
    p->g[0].collect = info->count <= EG_SELECT_COLLECT;
    p->g[0].cap = info->count;
    st = pass_run(p, src, err);
    uint64_t len = 0;
    if (st == EG_OK)
        st =
            group_merge(&p->g[0], s->threads, (size_t)1 << s->digit, &len, err);
    if (st == EG_OK) {
        for (unsigned t = 0; t < s->threads; t++) {
            s->nan += p->nan[t];
            s->n += p->keys[t];
        }
        s->passes = 1;
        if (p->g[0].collect) {
            s->all = p->g[0].keys[0];
            p->g[0].keys[0] = NULL;
        } else {
            s->top = p->g[0].hist[0];
            p->g[0].hist[0] = NULL;
        }
    }
    pass_free(p);
    free(p);
    return st;
}

/* Groups the unfinished targets by bucket for one pass. */
static void pass_plan(const eg_select *s, sel_pass *p)
{
    p->s = s;
    for (size_t i = 0; i < s->ntargets; i++) {
        const eg_select_target *t = &s->t[i];
        if (t->done)
            continue;
        size_t j = 0;
        while (j < p->ngroups &&
               !(p->g[j].prefix == t->prefix && p->g[j].fixed == t->fixed))
            j++;
        if (j == p->ngroups) {
            p->g[j].prefix = t->prefix;
            p->g[j].fixed = t->fixed;
            p->g[j].collect = t->bucket <= EG_SELECT_COLLECT;
            p->g[j].cap = t->bucket;
            p->ngroups++;
        }
    }
}

eg_status eg_select_ranks(eg_select *s, const eg_source *src,
                          const uint64_t *ranks, size_t nranks, uint64_t *keys,
                          eg_error *err)
{
    if (nranks > EG_SELECT_MAX_RANKS)
        return eg_error_set(err, EG_EINTERNAL, "selection: %zu ranks", nranks);
    for (size_t i = 0; i < nranks; i++)
        if (ranks[i] >= s->n)
            return eg_error_set(
                err, EG_EINTERNAL, "selection: rank %llu of %llu keys",
                (unsigned long long)ranks[i], (unsigned long long)s->n);
    s->ntargets = nranks;
    for (size_t i = 0; i < nranks; i++) {
        eg_select_target *t = &s->t[i];
        memset(t, 0, sizeof *t);
        t->rank = t->local = ranks[i];
        t->bucket = s->n;
        if (s->all) {
            t->done = 1;
            t->key = s->all[ranks[i]];
        } else if (target_descend(s, t, s->top) != 0) {
            return changed(src, err);
        }
    }
    for (;;) {
        sel_pass *p = calloc(1, sizeof *p);
        if (!p)
            return eg_error_set(err, EG_ENOMEM, "selection: out of memory");
        pass_plan(s, p);
        if (p->ngroups == 0) {
            free(p);
            break;
        }
        eg_status st = pass_run(p, src, err);
        size_t bins = (size_t)1 << s->digit;
        for (size_t j = 0; st == EG_OK && j < p->ngroups; j++) {
            sel_group *g = &p->g[j];
            uint64_t len = 0;
            st = group_merge(g, s->threads, bins, &len, err);
            for (size_t i = 0; st == EG_OK && i < s->ntargets; i++) {
                eg_select_target *t = &s->t[i];
                if (t->done || t->prefix != g->prefix || t->fixed != g->fixed)
                    continue;
                if (!g->collect) {
                    if (target_descend(s, t, g->hist[0]) != 0)
                        st = changed(src, err);
                } else if (t->local < len) {
                    t->done = 1;
                    t->key = g->keys[0][t->local];
                } else {
                    st = changed(src, err);
                }
            }
        }
        s->passes++;
        pass_free(p);
        free(p);
        if (st != EG_OK)
            return st;
    }
    for (size_t i = 0; i < nranks; i++)
        keys[i] = s->t[i].key;
    return EG_OK;
}

void eg_select_free(eg_select *s)
{
    free(s->top);
    free(s->all);
    s->top = s->all = NULL;
}
