/* sframe.c - stream frames (sframe.h): encode, and a decoder that checks
 * every length, name and state before anything reads them. */
#include "sframe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MAGIC[4] = {'E', 'G', 'S', 'F'};

typedef struct wr {
    uint8_t *p;
    size_t at, cap;
    int bad;
} wr;

static void put(wr *w, const void *v, size_t n)
{
    if (w->bad || w->cap - w->at < n) {
        w->bad = 1;
        return;
    }
    memcpy(w->p + w->at, v, n);
    w->at += n;
}

static uint64_t f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static double bits_f64(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static void put_u(wr *w, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, bytes);
}

size_t eg_sf_window_size(unsigned channels)
{
    return 8 + 2 + EG_SF_NAME_MAX + 2 + EG_REC_KEY_MAX + 25 + 24 + 8 + 1 + 4 +
           channels * (8 + eg_state_encoded_size());
}

static size_t quant_head_size(const eg_quant_opts *q)
{
    return q->qops ? 1 + 8 * q->nq + 8 + 4 + 16 : 0;
}

size_t eg_sf_window_len(const eg_sf_window *w)
{
    size_t n = eg_sf_window_size(w->channels) + quant_head_size(&w->q);
    for (unsigned c = 0; c < w->channels; c++) {
        if ((w->q.qops & EG_QOP_APPROX) && w->sketches)
            n += 8 + eg_sketch_encoded_size(&w->sketches[c]);
        if ((w->q.qops & EG_QOP_HIST) && w->plan)
            n += 8 + eg_hist_encoded_size(w->plan);
    }
    return n;
}

size_t eg_sf_ack_size(void)
{
    return 8 + 2 + EG_SF_NAME_MAX + 2 + EG_REC_KEY_MAX + 25;
}

static void put_head(wr *w, unsigned type, const eg_sf_head *h)
{
    put(w, MAGIC, 4);
    put_u(w, EG_SF_VERSION, 2);
    put_u(w, type, 2);
    size_t bl = strlen(h->box), kl = h->has_key ? strlen(h->key) : 0;
    if (bl > EG_SF_NAME_MAX || kl > EG_REC_KEY_MAX) {
        w->bad = 1;
        return;
    }
    put_u(w, bl, 1);
    put(w, h->box, bl);
    put_u(w, h->has_key ? 1 : 0, 1);
    put_u(w, kl, 1);
    put(w, h->key, kl);
    put_u(w, h->kind, 1);
    put_u(w, (uint64_t)h->start, 8);
    put_u(w, (uint64_t)h->end, 8);
    put_u(w, h->epoch, 8);
}

size_t eg_sf_encode_ack(const eg_sf_head *h, uint8_t *buf, size_t cap)
{
    wr w = {buf, 0, cap, 0};
    put_head(&w, EG_SF_ACK, h);
    return w.bad ? 0 : w.at;
}

size_t eg_sf_encode_window(const eg_sf_window *x, uint8_t *buf, size_t cap)
{
    wr w = {buf, 0, cap, 0};
    const eg_quant_opts *q = &x->q;
    int sk = (q->qops & EG_QOP_APPROX) != 0, hs = (q->qops & EG_QOP_HIST) != 0;
    if ((sk && !x->sketches) || (hs && (!x->hists || !x->plan)))
        return 0;
    put_head(&w, EG_SF_WINDOW, &x->h);
    put_u(&w, x->count, 8);
    put_u(&w, x->late, 8);
    put_u(&w, x->bad, 8);
    put_u(&w, x->ops, 4);
    put_u(&w, x->nan, 1);
    put_u(&w, x->ddof, 1);
    put_u(&w, x->mode, 1);
    put_u(&w, x->dtype, 1);
    put_u(&w, q->qops, 1);
    if (q->qops) {
        put_u(&w, q->nq, 1);
        for (size_t i = 0; i < q->nq; i++)
            put_u(&w, f64_bits(q->q[i]), 8);
        put_u(&w, f64_bits(q->rel_err), 8);
        put_u(&w, q->bins, 4);
        put_u(&w, f64_bits(q->lo), 8);
        put_u(&w, f64_bits(q->hi), 8);
    }
    put_u(&w, x->channels, 2);
    put_u(&w, (uint64_t)x->channels * (1u + (unsigned)sk + (unsigned)hs), 2);
    size_t es = eg_state_encoded_size();
    for (unsigned c = 0; c < x->channels && !w.bad; c++) {
        put_u(&w, EG_SF_MOMENTS, 2);
        put_u(&w, c, 2);
        put_u(&w, es, 4);
        if (w.bad || w.cap - w.at < es) {
            w.bad = 1;
            break;
        }
        if (eg_state_encode(&x->moments[c], buf + w.at, es) != es)
            w.bad = 1;
        w.at += es;
        if (sk) {
            size_t n = eg_sketch_encoded_size(&x->sketches[c]);
            put_u(&w, EG_SF_SKETCH, 2);
            put_u(&w, c, 2);
            put_u(&w, n, 4);
            if (w.bad || x->sketches[c].oom || w.cap - w.at < n) {
                w.bad = 1;
                break;
            }
            eg_sketch_encode(&x->sketches[c], buf + w.at);
            w.at += n;
        }
        if (hs) {
            size_t n = eg_hist_encoded_size(x->plan);
            put_u(&w, EG_SF_HIST, 2);
            put_u(&w, c, 2);
            put_u(&w, n, 4);
            if (w.bad || w.cap - w.at < n) {
                w.bad = 1;
                break;
            }
            eg_hist_encode(x->plan, &x->hists[c], buf + w.at);
            w.at += n;
        }
    }
    return w.bad ? 0 : w.at;
}

/* ---------------------------------------------------------------- decode */

typedef struct rd {
    const uint8_t *p;
    size_t at, len;
} rd;

static int get(rd *r, void *v, size_t n)
{
    if (r->len - r->at < n)
        return -1;
    memcpy(v, r->p + r->at, n);
    r->at += n;
    return 0;
}

static int get_u(rd *r, unsigned bytes, uint64_t *v)
{
    uint8_t b[8];
    if (get(r, b, bytes) != 0)
        return -1;
    *v = 0;
    for (unsigned i = 0; i < bytes; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return 0;
}

/* Names are printable ASCII without quotes or backslashes, so every report
 * can print them as they are. */
static int name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

#define BAD(msg) eg_error_set(err, EG_EINPUT, "stream frame: %s", msg)

static eg_status get_head(rd *r, int *type, eg_sf_head *h, eg_error *err)
{
    uint8_t magic[4];
    uint64_t ver, ty, bl, hk, kl, kind, s, e, ep;
    h->version = 0;
    if (get(r, magic, 4) != 0 || memcmp(magic, MAGIC, 4) != 0)
        return BAD("not a stream frame (magic)");
    if (get_u(r, 2, &ver) != 0 || ver < 1 || ver > EG_SF_VERSION)
        return BAD("unknown version");
    h->version = (unsigned)ver;
    if (ver < EG_SF_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "stream frame: version %u has no box epoch "
                            "(this collector takes version %u: upgrade the "
                            "box)",
                            (unsigned)ver, EG_SF_VERSION);
    if (get_u(r, 2, &ty) != 0 || (ty != EG_SF_WINDOW && ty != EG_SF_ACK))
        return BAD("unknown type");
    if (get_u(r, 1, &bl) != 0 || bl == 0 || bl > EG_SF_NAME_MAX ||
        get(r, h->box, bl) != 0 || !name_ok(h->box, bl))
        return BAD("bad box name");
    h->box[bl] = '\0';
    if (get_u(r, 1, &hk) != 0 || hk > 1 || get_u(r, 1, &kl) != 0 ||
        kl > EG_REC_KEY_MAX || (hk == 0 && kl != 0) ||
        get(r, h->key, kl) != 0 || !name_ok(h->key, kl))
        return BAD("bad key");
    h->key[kl] = '\0';
    h->has_key = (int)hk;
    if (get_u(r, 1, &kind) != 0 || (kind != 1 && kind != 2) ||
        get_u(r, 8, &s) != 0 || get_u(r, 8, &e) != 0)
        return BAD("bad window");
    if (get_u(r, 8, &ep) != 0 || ep == 0)
        return BAD("bad epoch");
    h->epoch = ep;
    h->kind = (uint8_t)kind;
    h->start = (int64_t)s;
    h->end = (int64_t)e;
    if (h->end <= h->start)
        return BAD("window ends before it starts");
    *type = (int)ty;
    return EG_OK;
}

void eg_sf_window_free_quant(eg_sf_window *w)
{
    for (unsigned c = 0; w->sketches && c < EG_SF_MAX_CHANNELS; c++)
        eg_sketch_free(&w->sketches[c]);
    for (unsigned c = 0; w->hists && c < EG_SF_MAX_CHANNELS; c++)
        eg_hist_state_free(&w->hists[c]);
    if (w->plan)
        eg_hist_plan_free(w->plan);
}

/* The quantile settings (qops not 0): checked as the command line checks
 * them, then the bins' plan made for the histograms that follow. */
static eg_status get_quant(rd *r, uint64_t qops, eg_sf_window *w,
                           eg_error *err)
{
    uint64_t nq, b, bins;
    eg_quant_opts *q = &w->q;
    if (get_u(r, 1, &nq) != 0)
        return BAD("truncated");
    if ((qops & ~(uint64_t)(EG_QOP_APPROX | EG_QOP_HIST)) ||
        nq > EG_QUANT_MAX_Q || (nq == 0) != !(qops & EG_QOP_APPROX))
        return BAD("bad quantile ops");
    q->qops = (unsigned)qops;
    q->nq = (size_t)nq;
    for (size_t i = 0; i < q->nq; i++) {
        if (get_u(r, 8, &b) != 0)
            return BAD("truncated");
        q->q[i] = bits_f64(b);
    }
    if (get_u(r, 8, &b) != 0)
        return BAD("truncated");
    q->rel_err = bits_f64(b);
    if (get_u(r, 4, &bins) != 0)
        return BAD("truncated");
    q->bins = (unsigned)bins;
    if (get_u(r, 8, &b) != 0)
        return BAD("truncated");
    q->lo = bits_f64(b);
    if (get_u(r, 8, &b) != 0)
        return BAD("truncated");
    q->hi = bits_f64(b);
    q->have_range = 1;
    eg_error qe;
    if (eg_quant_opts_check(q, &qe) != EG_OK ||
        !(isfinite(q->lo) && isfinite(q->hi) && q->lo < q->hi))
        return BAD("bad quantile settings");
    if ((q->qops & EG_QOP_APPROX) &&
        (!w->sketches || eg_sketch_k_for(q->rel_err, &w->sketch_k, &qe) != EG_OK))
        return BAD("a sketch where none is expected, or a bad rel-err");
    if (q->qops & EG_QOP_HIST) {
        if (!w->hists || !w->plan)
            return BAD("a histogram where none is expected");
        eg_hist_plan_free(w->plan);
        if (eg_hist_plan_make(w->plan, (eg_dtype)w->dtype, q->bins, 1, q->lo,
                              q->hi, 0, 0, 0, &qe) != EG_OK)
            return BAD("bad histogram range");
    }
    return EG_OK;
}

eg_status eg_sf_decode(const uint8_t *buf, size_t len, int *type,
                       eg_sf_window *w, eg_error *err)
{
    rd r = {buf, 0, len};
    eg_status st = get_head(&r, type, &w->h, err);
    if (st != EG_OK)
        return st;
    if (*type == EG_SF_ACK)
        return r.at == len ? EG_OK : BAD("bytes after the ack");
    uint64_t v[4], ch, ns;
    if (!w->moments)
        return BAD("a window frame where none is expected");
    if (get_u(&r, 8, &w->count) != 0 || get_u(&r, 8, &w->late) != 0 ||
        get_u(&r, 8, &w->bad) != 0 || get_u(&r, 4, &v[0]) != 0 ||
        get_u(&r, 1, &v[1]) != 0 || get_u(&r, 1, &v[2]) != 0 ||
        get_u(&r, 1, &v[3]) != 0)
        return BAD("truncated");
    w->ops = (uint32_t)v[0];
    w->nan = (uint8_t)v[1];
    w->ddof = (uint8_t)v[2];
    w->mode = (uint8_t)v[3];
    if (w->ops == 0 || w->ops >= EG_OPS_BIT(EG_OP_COUNT_ALL) ||
        (w->ops & EG_OPS_BIT(EG_OP_DOT)) || w->nan > 1 || w->mode > 1)
        return BAD("bad ops, NaN policy or mode");
    if (get_u(&r, 1, &v[0]) != 0 || v[0] >= EG_DTYPE_COUNT)
        return BAD("bad dtype");
    w->dtype = (uint8_t)v[0];
    eg_quant_opts_init(&w->q);
    w->q.qops = 0;
    w->q.nq = 0;
    if (get_u(&r, 1, &v[0]) != 0)
        return BAD("truncated");
    if (v[0] != 0 && (st = get_quant(&r, v[0], w, err)) != EG_OK)
        return st;
    unsigned per = 1 + !!(w->q.qops & EG_QOP_APPROX) +
                   !!(w->q.qops & EG_QOP_HIST);
    if (get_u(&r, 2, &ch) != 0 || ch == 0 || ch > EG_SF_MAX_CHANNELS ||
        get_u(&r, 2, &ns) != 0 || ns != ch * per)
        return BAD("bad channel count");
    w->channels = (uint16_t)ch;
    for (uint64_t i = 0; i < ns; i++) {
        uint64_t kind, c, sl;
        if (get_u(&r, 2, &kind) != 0 || get_u(&r, 2, &c) != 0 ||
            get_u(&r, 4, &sl) != 0 || r.len - r.at < sl)
            return BAD("truncated op state");
        /* Channels in order, each once, its kinds in order: one encoding
         * per window. */
        unsigned want_kind = EG_SF_MOMENTS, at = (unsigned)(i % per);
        if (at >= 1 && (w->q.qops & EG_QOP_APPROX))
            want_kind = at == 1 ? EG_SF_SKETCH : EG_SF_HIST;
        else if (at >= 1)
            want_kind = EG_SF_HIST;
        if (kind != EG_SF_MOMENTS && kind != EG_SF_SKETCH &&
            kind != EG_SF_HIST)
            return BAD("unknown op state kind");
        if (kind != want_kind || c != i / per)
            return BAD("op states out of channel order");
        if (kind == EG_SF_SKETCH || kind == EG_SF_HIST) {
            eg_error se;
            eg_status qs;
            if (kind == EG_SF_SKETCH) {
                eg_sketch *sk = &w->sketches[c];
                eg_sketch_free(sk);
                qs = eg_sketch_decode(sk, r.p + r.at, (size_t)sl, &se);
                if (qs == EG_OK && sk->k != w->sketch_k)
                    qs = eg_error_set(&se, EG_EINPUT, "sketch of another "
                                                      "relative error");
                if (qs == EG_OK && eg_sketch_count(sk) + sk->nan != w->count)
                    qs = eg_error_set(&se, EG_EINPUT, "sketch disagrees "
                                                      "with the count");
            } else {
                eg_hist_state *hs = &w->hists[c];
                eg_hist_state_free(hs);
                qs = eg_hist_decode(w->plan, hs, r.p + r.at, (size_t)sl, &se);
                /* every record lands in a bin, below, above or NaN */
                uint64_t sum = hs->below + hs->above + hs->nan;
                for (unsigned b = 0; qs == EG_OK && b < hs->nbins; b++)
                    sum += hs->counts[b];
                if (qs == EG_OK && sum != w->count)
                    qs = eg_error_set(&se, EG_EINPUT, "histogram disagrees "
                                                      "with the count");
            }
            if (qs != EG_OK)
                return eg_error_set(err, EG_EINPUT,
                                    "stream frame: channel %u: %s",
                                    (unsigned)c, se.msg);
            r.at += (size_t)sl;
            continue;
        }
        eg_state *s = &w->moments[c];
        eg_error se;
        if (eg_state_decode(s, r.p + r.at, (size_t)sl, &se) != EG_OK)
            return eg_error_set(err, EG_EINPUT, "stream frame: channel %u: %s",
                                (unsigned)c, se.msg);
        r.at += (size_t)sl;
        if (s->dtype != (eg_dtype)w->dtype || s->n != w->count)
            return BAD("a state disagrees with the window (dtype, count)");
        /* The state must hold what its ops read, in the window's mode. */
        unsigned want = eg_groups_for(w->ops, (eg_mode)w->mode, s->dtype);
        if (!eg_groups_cover(s->groups, want))
            return BAD("a state lacks what the window's ops need");
    }
    if (r.at != len)
        return BAD("bytes after the window");
    return EG_OK;
}
