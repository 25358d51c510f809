/* push.c - the outbox of window frames and its acknowledgements (push.h). */
#include "push.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "zsock.h"

typedef struct pending {
    eg_sf_head h;
    uint8_t *bytes;
    size_t len;
    double sent; /* last send, 0 when never got out */
    int tries;
} pending;

struct eg_push {
    void *sock;
    pending *q;
    size_t n, cap;
    double resend_s;
    size_t frame_max;
    eg_push_totals t;
};

eg_status eg_push_open(eg_push **out, void *zctx, const char *endpoint,
                       const eg_curve_keys *curve, size_t cap, double resend_s,
                       eg_error *err)
{
    *out = NULL;
    eg_push *p = calloc(1, sizeof *p);
    if (!p || cap == 0 || !(p->q = calloc(cap, sizeof *p->q))) {
        free(p);
        return eg_error_set(err, EG_ENOMEM, "push: out of memory");
    }
    p->cap = cap;
    p->resend_s = resend_s;
    p->frame_max = eg_sf_window_size(EG_SF_MAX_CHANNELS);
    eg_status st = eg_zsock_connect_tasks(zctx, endpoint, eg_sf_ack_size(),
                                          curve, &p->sock, err);
    if (st != EG_OK) {
        free(p->q);
        free(p);
        return st;
    }
    *out = p;
    return EG_OK;
}

void eg_push_close(eg_push **pp)
{
    eg_push *p = *pp;
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->q[i].bytes);
    free(p->q);
    eg_zsock_close(&p->sock);
    free(p);
    *pp = NULL;
}

void *eg_push_socket(eg_push *p)
{
    return p->sock;
}

static void try_send(eg_push *p, pending *e, double now)
{
    /* DONTWAIT: a stalled collector (a full pipe, none connected) leaves
     * the frame pending for the next try; the box never blocks. */
    if (zmq_send(p->sock, e->bytes, e->len, ZMQ_DONTWAIT) == (int)e->len) {
        if (e->tries++ > 0)
            p->t.resent++;
        e->sent = now;
    }
}

int eg_push_window(eg_push *p, const eg_sf_window *w, double now)
{
    if (p->n == p->cap) {
        p->t.unsent++;
        return -1;
    }
    /* A window of sketches has no fixed size: its own, within the cap. */
    size_t need = eg_sf_window_len(w);
    if (need < p->frame_max)
        need = p->frame_max;
    uint8_t *buf = need <= EG_SF_FRAME_MAX ? malloc(need) : NULL;
    size_t len = buf ? eg_sf_encode_window(w, buf, need) : 0;
    if (len == 0) {
        free(buf);
        p->t.unsent++;
        return -1;
    }
    pending *e = &p->q[p->n++];
    memset(e, 0, sizeof *e);
    e->h = w->h;
    e->bytes = buf;
    e->len = len;
    p->t.queued++;
    try_send(p, e, now);
    return 0;
}

static int same_head(const eg_sf_head *a, const eg_sf_head *b)
{
    return a->kind == b->kind && a->start == b->start && a->end == b->end &&
           a->has_key == b->has_key && strcmp(a->key, b->key) == 0 &&
           strcmp(a->box, b->box) == 0 && a->epoch == b->epoch;
}

void eg_push_service(eg_push *p, double now)
{
    uint8_t buf[512];
    for (;;) {
        int n = zmq_recv(p->sock, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n < 0)
            break;
        if ((size_t)n > sizeof buf)
            continue; /* not an ack of ours */
        int type;
        eg_sf_window w = {.moments = NULL};
        if (eg_sf_decode(buf, (size_t)n, &type, &w, NULL) != EG_OK ||
            type != EG_SF_ACK)
            continue;
        for (size_t i = 0; i < p->n; i++)
            if (same_head(&p->q[i].h, &w.h)) {
                free(p->q[i].bytes);
                /* Keep the queue in order: oldest frames go first. */
                memmove(&p->q[i], &p->q[i + 1], (p->n - i - 1) * sizeof *p->q);
                p->n--;
                p->t.acked++;
                break;
            }
    }
    for (size_t i = 0; i < p->n; i++) {
        pending *e = &p->q[i];
        if (e->sent == 0 || now - e->sent >= p->resend_s) {
            size_t before = p->t.resent;
            double was = e->sent;
            try_send(p, e, now);
            if (e->sent == was && p->t.resent == before)
                break; /* the pipe is full: try the rest later */
        }
    }
}

void eg_push_give_up(eg_push *p)
{
    p->t.unsent += p->n;
    for (size_t i = 0; i < p->n; i++)
        free(p->q[i].bytes);
    p->n = 0;
}

void eg_push_totals_get(const eg_push *p, eg_push_totals *t)
{
    *t = p->t;
    t->pending = p->n;
}
