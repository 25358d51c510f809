/* window.c - window assignment, per-window buffers and states, closing by
 * watermark (window.h). */
#include "window.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A window's buffer starts small and doubles up to one lane while the
 * budget allows: 1,000 keys x 8 channels then stay within a few MiB. */
#define WIN_CAP_MIN 16u

/* A fast-mode window keeps its states compact: eg_state without the exact
 * block (its last member, 1.6 KiB that only exact mode fills; fast folds
 * leave it zero), so 1,000 keys x 8 channels hold 2 MiB of states, not
 * 15.  Folds and emits go through full states of the eg_win's own whose
 * exact blocks stay zero, so the bits are those of a full state. */
#define WIN_COMPACT offsetof(eg_state, ex)

typedef struct win {
    int64_t start, end;
    uint64_t count;  /* records in the window */
    uint64_t folded; /* records already in st */
    uint32_t len, cap;
    unsigned char *st;  /* channels states of stride bytes */
    eg_sketch *sk;      /* channels, when cfg.sketch */
    eg_hist_state *hs;  /* channels, when cfg.hist */
    unsigned char *buf; /* channels x cap values, channel-major */
} win;

typedef struct wkey {
    char *name;
    int has_key;
    uint64_t hash;
    uint64_t late_pending;
    uint64_t nrec; /* count windows: records of this key so far */
    win *w;
    size_t nw, capw;
} wkey;

struct eg_win {
    eg_win_cfg cfg;
    size_t esize;
    wkey *keys;
    size_t nkeys, capkeys;
    uint32_t *slots; /* hash table of key index + 1 */
    size_t nslots;
    int64_t max_t, wm, next_close;
    size_t buffered;
    uint64_t records, late, windows;
    size_t stride;  /* bytes of a window's state: full, or WIN_COMPACT */
    eg_state *full; /* channels full states to fold and emit through */
};

/* Channel c's state of window x, as a full state: in place (exact mode)
 * or copied into w->full[c]. */
static eg_state *state_in(eg_win *w, win *x, unsigned c)
{
    if (w->stride == sizeof(eg_state))
        return (eg_state *)(void *)(x->st + (size_t)c * w->stride);
    memcpy(&w->full[c], x->st + (size_t)c * w->stride, WIN_COMPACT);
    return &w->full[c];
}

static void state_out(eg_win *w, win *x, unsigned c, const eg_state *s)
{
    if (w->stride != sizeof(eg_state))
        memcpy(x->st + (size_t)c * w->stride, s, WIN_COMPACT);
}

static uint64_t hash_key(const char *s, int has_key)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)has_key;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

eg_status eg_win_open(eg_win **out, const eg_win_cfg *cfg, eg_error *err)
{
    *out = NULL;
    if (cfg->channels == 0 || (cfg->kind == EG_WIN_COUNT && cfg->count == 0) ||
        (cfg->kind == EG_WIN_TIME && (cfg->size_us <= 0 || cfg->slide_us <= 0 ||
                                      cfg->slide_us > cfg->size_us)))
        return eg_error_set(err, EG_EUSAGE, "stream: bad window settings");
    eg_win *w = calloc(1, sizeof *w);
    if (!w)
        return eg_error_set(err, EG_ENOMEM, "stream: out of memory");
    w->cfg = *cfg;
    w->esize = eg_dtype_size(cfg->dtype);
    w->max_t = INT64_MIN;
    w->wm = INT64_MIN;
    w->next_close = INT64_MAX;
    w->nslots = 64;
    w->slots = calloc(w->nslots, sizeof *w->slots);
    w->stride = (cfg->groups & EG_G_EXACT) ? sizeof(eg_state) : WIN_COMPACT;
    w->full = malloc(cfg->channels * sizeof *w->full);
    if (!w->slots || !w->full) {
        free(w->slots);
        free(w->full);
        free(w);
        return eg_error_set(err, EG_ENOMEM, "stream: out of memory");
    }
    *out = w;
    return EG_OK;
}

static void win_free(eg_win *w, win *x)
{
    w->buffered -= (size_t)x->cap * w->cfg.channels * w->esize;
    for (unsigned c = 0; x->sk && c < w->cfg.channels; c++)
        eg_sketch_free(&x->sk[c]);
    for (unsigned c = 0; x->hs && c < w->cfg.channels; c++)
        eg_hist_state_free(&x->hs[c]);
    free(x->st);
    free(x->sk);
    free(x->hs);
    free(x->buf);
    x->st = NULL;
    x->sk = NULL;
    x->hs = NULL;
    x->buf = NULL;
}

void eg_win_close(eg_win **pw)
{
    eg_win *w = *pw;
    if (!w)
        return;
    for (size_t i = 0; i < w->nkeys; i++) {
        for (size_t j = 0; j < w->keys[i].nw; j++)
            win_free(w, &w->keys[i].w[j]);
        free(w->keys[i].w);
        free(w->keys[i].name);
    }
    free(w->keys);
    free(w->slots);
    free(w->full);
    free(w);
    *pw = NULL;
}

static int rehash(eg_win *w)
{
    size_t n = w->nslots * 2;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < w->nkeys; i++) {
        size_t at = w->keys[i].hash & (n - 1);
        while (s[at])
            at = (at + 1) & (n - 1);
        s[at] = (uint32_t)(i + 1);
    }
    free(w->slots);
    w->slots = s;
    w->nslots = n;
    return 0;
}

static wkey *find_key(eg_win *w, const char *name, int has_key, eg_error *err)
{
    uint64_t h = hash_key(name, has_key);
    size_t at = h & (w->nslots - 1);
    while (w->slots[at]) {
        wkey *k = &w->keys[w->slots[at] - 1];
        if (k->hash == h && k->has_key == has_key && strcmp(k->name, name) == 0)
            return k;
        at = (at + 1) & (w->nslots - 1);
    }
    if ((w->nkeys + 1) * 2 > w->nslots) {
        if (rehash(w) != 0)
            goto oom;
        return find_key(w, name, has_key, err);
    }
    if (w->nkeys == w->capkeys) {
        size_t cap = w->capkeys ? w->capkeys * 2 : 16;
        wkey *k = realloc(w->keys, cap * sizeof *k);
        if (!k)
            goto oom;
        w->keys = k;
        w->capkeys = cap;
    }
    wkey *k = &w->keys[w->nkeys];
    memset(k, 0, sizeof *k);
    k->name = strdup(name);
    if (!k->name)
        goto oom;
    k->has_key = has_key;
    k->hash = h;
    w->slots[at] = (uint32_t)(++w->nkeys);
    return k;
oom:
    eg_error_set(err, EG_ENOMEM, "stream: out of memory for key '%s'", name);
    return NULL;
}

static win *open_window(eg_win *w, wkey *k, int64_t start, int64_t end,
                        eg_error *err)
{
    for (size_t i = 0; i < k->nw; i++)
        if (k->w[i].start == start)
            return &k->w[i];
    if (k->nw == k->capw) {
        size_t cap = k->capw ? k->capw * 2 : 2;
        win *n = realloc(k->w, cap * sizeof *n);
        if (!n)
            goto oom;
        k->w = n;
        k->capw = cap;
    }
    win *x = &k->w[k->nw];
    memset(x, 0, sizeof *x);
    x->start = start;
    x->end = end;
    x->cap = WIN_CAP_MIN;
    unsigned nc = w->cfg.channels;
    x->st = malloc(nc * w->stride);
    x->buf = malloc((size_t)x->cap * nc * w->esize);
    if (w->cfg.sketch)
        x->sk = malloc(nc * sizeof *x->sk);
    if (w->cfg.hist)
        x->hs = calloc(nc, sizeof *x->hs);
    int ok = x->st && x->buf && (!w->cfg.sketch || x->sk) &&
             (!w->cfg.hist || x->hs);
    for (unsigned c = 0; ok && x->hs && c < nc; c++)
        ok = eg_hist_state_init(&x->hs[c], w->cfg.hist->nbins, NULL) == EG_OK;
    if (!ok) {
        for (unsigned c = 0; x->hs && c < nc; c++)
            eg_hist_state_free(&x->hs[c]);
        free(x->st);
        free(x->buf);
        free(x->sk);
        free(x->hs);
        goto oom;
    }
    for (unsigned c = 0; c < nc; c++) {
        /* w->full[c]'s exact block is zeroed here and nowhere written
         * again in fast mode */
        eg_state_init(&w->full[c], w->cfg.dtype, w->cfg.groups);
        if (w->stride == sizeof(eg_state))
            memcpy(x->st + (size_t)c * w->stride, &w->full[c],
                   sizeof(eg_state));
        else
            state_out(w, x, c, &w->full[c]);
    }
    for (unsigned c = 0; x->sk && c < nc; c++)
        eg_sketch_init(&x->sk[c], w->cfg.sketch_k);
    w->buffered += (size_t)x->cap * w->cfg.channels * w->esize;
    k->nw++;
    if (end < w->next_close)
        w->next_close = end;
    return x;
oom:
    eg_error_set(err, EG_ENOMEM, "stream: out of memory for a window");
    return NULL;
}

/* One channel's values into its state, sketch and histogram.  A sketch
 * that could not grow keeps its oom flag, which the printer reports. */
static void fold_channel(eg_win *w, win *x, unsigned c, const void *v,
                         uint64_t n)
{
    eg_state *s = state_in(w, x, c);
    eg_state_fold_values(s, v, n, w->cfg.dtype, w->cfg.groups, x->folded);
    state_out(w, x, c, s);
    if (x->sk && eg_sketch_add(&x->sk[c], v, n, w->cfg.dtype, NULL) != EG_OK)
        x->sk[c].oom = 1;
    if (x->hs)
        eg_hist_add(w->cfg.hist, &x->hs[c], v, n);
}

static void fold(eg_win *w, win *x)
{
    if (x->len == 0)
        return;
    for (unsigned c = 0; c < w->cfg.channels; c++)
        fold_channel(w, x, c, x->buf + (size_t)c * x->cap * w->esize, x->len);
    x->folded += x->len;
    x->len = 0;
}

/* Makes room for one more record: grow while the budget allows, else fold. */
static void make_room(eg_win *w, win *x)
{
    if (x->len < x->cap)
        return;
    size_t per = (size_t)w->cfg.channels * w->esize;
    if (x->cap < EG_LANE_ELEMS &&
        w->buffered + (size_t)x->cap * per <= w->cfg.buffer_budget) {
        uint32_t cap = x->cap * 2;
        unsigned char *nb = malloc((size_t)cap * per);
        if (nb) {
            for (unsigned c = 0; c < w->cfg.channels; c++)
                memcpy(nb + (size_t)c * cap * w->esize,
                       x->buf + (size_t)c * x->cap * w->esize,
                       (size_t)x->len * w->esize);
            free(x->buf);
            x->buf = nb;
            w->buffered += (size_t)x->cap * per;
            x->cap = cap;
            return;
        }
    }
    fold(w, x);
}

static void put(eg_win *w, win *x, const unsigned char *vals, uint64_t nrec)
{
    unsigned nc = w->cfg.channels;
    size_t es = w->esize;
    uint64_t r = 0;
    while (r < nrec) {
        /* One channel, nothing buffered, whole lanes at hand: fold them
         * straight from the caller's memory, one copy fewer (a raw pipe's
         * or socket's records), when they are aligned for their type as
         * the lane code reads them. */
        if (nc == 1 && x->len == 0 && nrec - r >= EG_LANE_ELEMS &&
            (uintptr_t)(vals + r * es) % es == 0) {
            uint64_t n = (nrec - r) / EG_LANE_ELEMS * EG_LANE_ELEMS;
            fold_channel(w, x, 0, vals + r * es, n);
            x->folded += n;
            x->count += n;
            r += n;
            continue;
        }
        make_room(w, x);
        uint64_t take = x->cap - x->len;
        if (take > nrec - r)
            take = nrec - r;
        if (nc == 1) {
            memcpy(x->buf + (size_t)x->len * es, vals + r * es, take * es);
        } else {
            for (uint64_t i = 0; i < take; i++)
                for (unsigned c = 0; c < nc; c++)
                    memcpy(x->buf + ((size_t)c * x->cap + x->len + i) * es,
                           vals + ((r + i) * nc + c) * es, es);
        }
        x->len += (uint32_t)take;
        x->count += take;
        r += take;
    }
}

static void emit_one(eg_win *w, wkey *k, size_t i, eg_win_emit_fn emit,
                     void *ctx)
{
    win *x = &k->w[i];
    fold(w, x);
    const eg_state *states = (const eg_state *)(const void *)x->st;
    if (w->stride != sizeof(eg_state)) {
        for (unsigned ch = 0; ch < w->cfg.channels; ch++)
            (void)state_in(w, x, ch);
        states = w->full;
    }
    eg_win_closed c = {.kind = w->cfg.kind,
                       .start = x->start,
                       .end = x->end,
                       .key = k->name,
                       .has_key = k->has_key,
                       .count = x->count,
                       .late = k->late_pending,
                       .channels = w->cfg.channels,
                       .states = states,
                       .sketches = x->sk,
                       .hists = x->hs};
    k->late_pending = 0;
    w->windows++;
    emit(ctx, &c);
    win_free(w, x);
    k->w[i] = k->w[--k->nw];
}

static void recompute_next(eg_win *w)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < w->nkeys; i++)
        for (size_t j = 0; j < w->keys[i].nw; j++)
            if (w->keys[i].w[j].end < next)
                next = w->keys[i].w[j].end;
    w->next_close = next;
}

void eg_win_advance(eg_win *w, int64_t wm, eg_win_emit_fn emit, void *ctx)
{
    if (wm > w->wm)
        w->wm = wm;
    while (w->next_close != INT64_MAX && w->next_close <= w->wm) {
        int64_t end = w->next_close;
        /* Windows of one end: by start (earliest first), keys in order. */
        for (;;) {
            int64_t start = INT64_MAX;
            for (size_t i = 0; i < w->nkeys; i++)
                for (size_t j = 0; j < w->keys[i].nw; j++)
                    if (w->keys[i].w[j].end == end &&
                        w->keys[i].w[j].start < start)
                        start = w->keys[i].w[j].start;
            if (start == INT64_MAX)
                break;
            for (size_t i = 0; i < w->nkeys; i++)
                for (size_t j = 0; j < w->keys[i].nw; j++)
                    if (w->keys[i].w[j].end == end &&
                        w->keys[i].w[j].start == start) {
                        emit_one(w, &w->keys[i], j, emit, ctx);
                        break;
                    }
        }
        recompute_next(w);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static eg_status add_count(eg_win *w, wkey *k, const unsigned char *vals,
                           uint64_t nrec, eg_win_emit_fn emit, void *ctx,
                           eg_error *err)
{
    uint64_t n = w->cfg.count;
    size_t rs = (size_t)w->cfg.channels * w->esize;
    while (nrec > 0) {
        uint64_t idx = k->nrec / n;
        win *x = open_window(w, k, (int64_t)(idx * n), (int64_t)((idx + 1) * n),
                             err);
        if (!x)
            return err ? err->code : EG_ENOMEM;
        uint64_t take = n - x->count;
        if (take > nrec)
            take = nrec;
        put(w, x, vals, take);
        k->nrec += take;
        vals += take * rs;
        nrec -= take;
        if (x->count == n) {
            emit_one(w, k, (size_t)(x - k->w), emit, ctx);
            recompute_next(w);
        }
    }
    return EG_OK;
}

eg_status eg_win_add(eg_win *w, const char *key, int has_key, int64_t t,
                     const void *vals, uint64_t nrec, eg_win_emit_fn emit,
                     void *ctx, eg_error *err)
{
    wkey *k = find_key(w, has_key ? key : "", has_key, err);
    if (!k)
        return EG_ENOMEM;
    w->records += nrec;
    if (w->cfg.kind == EG_WIN_COUNT)
        return add_count(w, k, vals, nrec, emit, ctx, err);
    int64_t size = w->cfg.size_us, slide = w->cfg.slide_us;
    int folded = 0;
    int64_t hi = floor_div(t, slide);
    /* t - size cannot overflow for the times a record can carry (the
     * parsers and the clock keep them within +-2^62 us). */
    int64_t lo = floor_div(t - size, slide) + 1;
    for (int64_t kk = lo; kk <= hi; kk++) {
        int64_t start = kk * slide, end = start + size;
        if (end <= w->wm)
            continue;
        win *x = open_window(w, k, start, end, err);
        if (!x)
            return EG_ENOMEM;
        put(w, x, vals, nrec);
        folded = 1;
    }
    if (!folded) {
        k->late_pending += nrec;
        w->late += nrec;
        w->records -= nrec;
    }
    if (w->cfg.event_time && t > w->max_t) {
        w->max_t = t;
        if (t - w->cfg.lateness_us > w->wm)
            eg_win_advance(w, t - w->cfg.lateness_us, emit, ctx);
    }
    return EG_OK;
}

int64_t eg_win_max_time(const eg_win *w)
{
    return w->max_t;
}
int64_t eg_win_watermark(const eg_win *w)
{
    return w->wm;
}
int64_t eg_win_next_close(const eg_win *w)
{
    return w->next_close;
}

void eg_win_totals_get(const eg_win *w, eg_win_totals *t)
{
    t->records = w->records;
    t->late = w->late;
    t->windows = w->windows;
    t->keys = w->nkeys;
    t->buffered_bytes = w->buffered;
}
