/* coordinator.c - the coordinator's event loop.
 *
 * One thread, three sockets: the ROUTER that workers' DEALERs connect to
 * (registrations, credit, heartbeats, failures going in; tasks, heartbeats
 * and RESETs going out), the PULL their PUSHes connect to (results), and a
 * PAIR that receives the ROUTER's monitor events (a worker's TCP connection
 * closing is the fastest news of its death).  Every pass of the loop reads
 * what has arrived, sends heartbeats, declares silent workers dead, expires
 * overdue leases, and hands pending tasks to workers with credit, lowest
 * task id first, one per worker in turn.
 *
 * Nothing a peer sends is trusted: every frame goes through the decoder,
 * results are checked against their task, and a frame that fails is counted
 * in `rejected` and dropped; the job goes on. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_internal.h"
#include "engine_grid.h"
#include "sysdep.h"
#include "zsock.h"

/* Most messages read from one socket per pass, so neither socket starves
 * the other nor the timers. */
#define BATCH 1024
/* The longest the loop sleeps in zmq_poll: the granularity of heartbeats,
 * lease expiry and the stop check. */
#define TICK_MS 20
/* Telling the user that no worker is there: first after this long, then
 * every WAIT_REPEAT_S. */
#define WAIT_FIRST_S 2.0
#define WAIT_REPEAT_S 5.0

enum send_outcome { SENT, PEER_GONE, PEER_BUSY, SEND_FATAL };

/* --------------------------------------------------------------- events */

static void emit(eg_coord *c, eg_coord_event_kind kind, uint64_t task,
                 uint32_t attempt, const char *worker, const char *fmt, ...)
    EG_PRINTF(6, 7);

static void emit(eg_coord *c, eg_coord_event_kind kind, uint64_t task,
                 uint32_t attempt, const char *worker, const char *fmt, ...)
{
    if (!c->o.event_fn)
        return;
    char text[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    eg_coord_event ev = {kind, eg_now(), task, attempt, worker ? worker : "",
                         text};
    c->o.event_fn(c->o.event_ctx, &ev);
}

static void reject(eg_coord *c, const char *why)
{
    c->rejected++;
    emit(c, EG_EV_REJECTED, 0, 0, NULL, "%s", why);
}

static void fatal(eg_coord *c, eg_status code, const char *fmt, ...)
    EG_PRINTF(3, 4);

static void fatal(eg_coord *c, eg_status code, const char *fmt, ...)
{
    if (c->fatal != EG_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    c->fatal = code;
    c->fatal_err.code = code;
    vsnprintf(c->fatal_err.msg, sizeof c->fatal_err.msg, fmt, ap);
    va_end(ap);
}

/* "task 3 (elements 12288..16384)" or "shard 'a.npy'". */
static void task_label(const eg_coord *c, uint64_t id, char *buf, size_t len)
{
    const eg_task *t = &c->ledger.tasks[id];
    if (c->mode == MODE_SHARDS)
        snprintf(buf, len, "shard '%s'", c->manifest.names[id]);
    else
        snprintf(buf, len, "task %llu (elements %llu..%llu)",
                 (unsigned long long)id, (unsigned long long)t->first,
                 (unsigned long long)(t->first + t->count));
}

/* The ledger's "failed 4 times" ends the job, naming the task. */
static void ledger_failed(eg_coord *c, uint64_t id, const eg_error *why)
{
    char label[EG_SHARD_NAME_MAX + 64];
    task_label(c, id, label, sizeof label);
    fatal(c, EG_EIO, "%s %s", label, why->msg);
}

/* ---------------------------------------------------------------- open */

eg_status eg_coord_open(eg_coord **out, const eg_coord_opts *o, eg_error *err)
{
    *out = NULL;
    eg_coord *c = calloc(1, sizeof *c);
    if (!c)
        return eg_error_set(err, EG_ENOMEM, "coordinator: out of memory");
    c->o = *o;
    c->job = eg_random64();
    eg_peers_init(&c->peers);
    eg_status st = coord_job_open(c, err);
    if (st == EG_OK && !(c->zctx = zmq_ctx_new()))
        st = eg_zmq_error(err, "zmq_ctx_new", "");
    /* Security first: the ZAP handler must be bound before any CURVE
     * socket, and a plain endpoint on a network refused before binding. */
    eg_curve_keys keys;
    int curve = 0;
    if (st == EG_OK)
        st = coord_curve_open(c, &keys, &curve, err);
    /* The largest frames a worker sends each socket: SHARDA answers (a
     * word per shard) on the ROUTER, RESULTs on the PULL. */
    size_t max_ctl = eg_frame_sharda_size((uint32_t)c->manifest.n);
    if (max_ctl < 4096)
        max_ctl = 4096;
    if (st == EG_OK)
        st = eg_zsock_bind_tasks(c->zctx, o->tasks_endpoint, max_ctl,
                                 curve ? &keys : NULL, &c->router, err);
    if (st == EG_OK)
        st = eg_zsock_bind_results(c->zctx, o->results_endpoint,
                                   c->quant ? eg_frame_result_max()
                                         : eg_frame_result_states_max(),
                                   curve ? &keys : NULL, &c->pull, err);
    eg_curve_wipe(&keys, sizeof keys);
    if (st == EG_OK)
        st = eg_zsock_monitor(c->zctx, c->router, "tasks", &c->monitor, err);
    if (st == EG_OK)
        st = eg_zsock_endpoint(c->router, c->tasks_ep, sizeof c->tasks_ep,
                               err);
    if (st == EG_OK)
        st = eg_zsock_endpoint(c->pull, c->results_ep, sizeof c->results_ep,
                               err);
    if (st != EG_OK) {
        eg_coord_close(&c);
        return st;
    }
    *out = c;
    return EG_OK;
}

const char *eg_coord_tasks_endpoint(const eg_coord *c)
{
    return c->tasks_ep;
}

const char *eg_coord_results_endpoint(const eg_coord *c)
{
    return c->results_ep;
}

uint64_t eg_coord_task_count(const eg_coord *c)
{
    return c->ledger.ntasks;
}

void eg_coord_close(eg_coord **cp)
{
    if (!cp || !*cp)
        return;
    eg_coord *c = *cp;
    eg_zsock_close(&c->monitor);
    eg_zsock_close(&c->router);
    eg_zsock_close(&c->pull);
    eg_zap_close(&c->zap);
    /* Every socket lingers 0, so this returns at once; it must come before
     * the input is unmapped, as queued task frames point into it. */
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    coord_job_close(c);
    eg_peers_free(&c->peers);
    eg_strikes_free(&c->strikes);
    free(c);
    *cp = NULL;
}

/* ------------------------------------------------------------- sending */

static enum send_outcome send_parts(eg_coord *c, eg_peer *p,
                                    const uint8_t *frame, size_t len,
                                    int more)
{
    if (zmq_send(c->router, p->id, p->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EAGAIN ? PEER_BUSY : PEER_GONE;
    /* The rest of a multipart message is queued with its first part. */
    if (zmq_send(c->router, frame, len, more ? ZMQ_SNDMORE : 0) < 0)
        return PEER_GONE;
    return SENT;
}

static enum send_outcome send_small(eg_coord *c, eg_peer *p,
                                    const uint8_t *frame, size_t len)
{
    enum send_outcome r = send_parts(c, p, frame, len, 0);
    if (r == SENT)
        p->last_sent = eg_now();
    return r;
}

static void send_reset(eg_coord *c, const void *id, size_t id_len)
{
    uint8_t buf[EG_FRAME_HEADER];
    size_t n = eg_frame_encode_empty(buf, sizeof buf, EG_FRAME_RESET, c->job);
    if (zmq_send(c->router, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(c->router, buf, n, 0);
}

static void free_data(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* One data part; zero-copy from the input when it is in memory in native
 * order, else from a buffer ZeroMQ frees when it is done with it.  -1 and
 * the job's fatal error when the input could not be read (a file that
 * changed under the job), -2 when ZeroMQ refused the part. */
static int send_data(eg_coord *c, uint64_t id, int which, int more)
{
    size_t len;
    int owned;
    const void *data = NULL;
    eg_error err;
    eg_error_clear(&err);
    eg_status st =
        coord_job_task_data(c, id, which, &data, &len, &owned, &err);
    if (st != EG_OK) {
        fatal(c, st, "%s", err.msg);
        return -1;
    }
    zmq_msg_t m;
    if (len == 0)
        zmq_msg_init(&m);
    else
        zmq_msg_init_data(&m, (void *)data, len, owned ? free_data : NULL,
                          NULL);
    if (zmq_msg_send(&m, c->router, more ? ZMQ_SNDMORE : 0) < 0) {
        zmq_msg_close(&m);
        return -2;
    }
    return 0;
}

/* A SEGS task's last part: its segments' lengths. */
static int send_lens(eg_coord *c, uint64_t id)
{
    size_t len;
    void *part = coord_job_task_lens(c, id, &len);
    zmq_msg_t m;
    if (!part)
        return -1;
    zmq_msg_init_data(&m, part, len, free_data, NULL);
    if (zmq_msg_send(&m, c->router, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    return 0;
}

/* An SQSEG task's last part: its parameters and segment lengths. */
static int send_sqparams(eg_coord *c, uint64_t id)
{
    size_t len;
    void *part = coord_squant_params(c, id, &len);
    zmq_msg_t m;
    if (!part)
        return -1;
    zmq_msg_init_data(&m, part, len, free_data, NULL);
    if (zmq_msg_send(&m, c->router, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    return 0;
}

static enum send_outcome send_task(eg_coord *c, eg_peer *p, uint64_t id,
                                   double now)
{
    uint8_t frame[EG_FRAME_SMALL_MAX];
    uint32_t attempt = c->ledger.tasks[id].attempts + 1;
    size_t len = coord_job_task_frame(c, id, attempt, frame, sizeof frame);
    if (len == 0) {
        fatal(c, EG_EINTERNAL, "coordinator: task %llu frame does not fit",
              (unsigned long long)id);
        return SEND_FATAL;
    }
    int inline_data = c->mode != MODE_SHARDS;
    int quant = c->qparams != NULL || c->sq_round;
    int segs = c->mode == MODE_STRUCT && !quant;
    int with_y = c->y != NULL && !quant &&
                 (!segs || (c->o.reduce.ops & EG_OPS_BIT(EG_OP_DOT)));
    /* A shard's quantile task: the frame, then the parameters only. */
    enum send_outcome r = send_parts(c, p, frame, len, inline_data || quant);
    if (r != SENT)
        return r;
    int sent = inline_data ? send_data(c, id, 0, with_y || segs || quant) : 0;
    if (sent == 0 && inline_data && with_y)
        sent = send_data(c, id, 1, segs);
    if (sent == 0 && segs)
        sent = send_lens(c, id) == 0 ? 0 : -2;
    if (sent == 0 && c->sq_round)
        sent = send_sqparams(c, id) == 0 ? 0 : -2;
    else if (sent == 0 && quant &&
             zmq_send(c->router, c->qparams, c->qparams_len, 0) < 0)
        sent = -2;
    if (sent != 0) {
        /* fatal() keeps the first reason: a read error's, if it was one */
        fatal(c, EG_ENOMEM, "coordinator: cannot send task %llu's data: %s",
              (unsigned long long)id, zmq_strerror(zmq_errno()));
        return SEND_FATAL;
    }
    eg_ledger_lease_uid(&c->ledger, id, p->serial, p->uid, now);
    p->credit--;
    p->last_sent = now;
    if (c->first_dispatch == 0)
        c->first_dispatch = now;
    emit(c, EG_EV_DISPATCH, id, attempt, p->name, NULL);
    return SENT;
}

/* --------------------------------------------------------------- peers */

/* A worker is gone: its leases go back to the queue as failed attempts. */
static void lose_peer(eg_coord *c, eg_peer *p, const char *how)
{
    char why[160], name[EG_GRID_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", p->name);
    snprintf(why, sizeof why, "worker %s lost (%s)", name, how);
    uint64_t before = c->ledger.nleased, failed_task = EG_NO_TASK;
    eg_error err;
    uint64_t serial = p->serial;
    eg_peers_remove(&c->peers, p);
    eg_status st = eg_ledger_release_owner(&c->ledger, serial, 1, why,
                                           &failed_task, &err);
    emit(c, EG_EV_LOST, 0, 0, name, "%s; %llu task(s) back in the queue", why,
         (unsigned long long)(before - c->ledger.nleased));
    if (st != EG_OK)
        ledger_failed(c, failed_task, &err);
}

/* A malformed frame from ROUTER peer `id` counts against it; the one that
 * reaches the limit bans it (strikes.h) and drops it from the table. */
static void strike(eg_coord *c, const uint8_t *id, size_t id_len)
{
    if (!eg_strikes_add(&c->strikes, id, id_len))
        return;
    char how[96];
    snprintf(how, sizeof how, "sent %d bad frames; ignored from now on",
             EG_STRIKES_BAN);
    eg_peer *p = eg_peers_find(&c->peers, id, id_len);
    if (p)
        lose_peer(c, p, how);
    else
        emit(c, EG_EV_REJECTED, 0, 0, NULL, "an unregistered peer %s", how);
}

/* After a reload of the allow-list: workers whose key left it are dropped
 * (their leases go back); what they send from now on is refused. */
static void drop_revoked(eg_coord *c)
{
    for (size_t i = c->peers.n; i-- > 0;) {
        eg_peer *p = &c->peers.v[i];
        if (p->uid && !eg_zap_uid(c->zap, coord_curve_name(c, p->uid)))
            lose_peer(c, p, "its key left the allow-list");
    }
}

static void on_ready(eg_coord *c, const uint8_t *id, size_t id_len,
                     const eg_frame_ready *r, int fd, uint32_t uid, double now)
{
    if (c->zap && uid == 0) {
        /* Its key passed the handshake but has left the list since. */
        reject(c, "READY from a key no longer in the allow-list");
        strike(c, id, id_len);
        return;
    }
    eg_peer *p = eg_peers_find(&c->peers, id, id_len);
    if (p && p->session == r->session && p->generation == r->generation)
        return;  /* a repeated READY: already registered */
    if (p)
        lose_peer(c, p, "registered again");
    p = eg_peers_add(&c->peers, id, id_len);
    if (!p) {
        reject(c, "READY refused: too many workers");
        return;
    }
    p->session = r->session;
    p->generation = r->generation;
    p->uid = uid;
    p->credit = r->credit;
    p->fd = fd;
    p->last_seen = p->last_sent = now;
    snprintf(p->name, sizeof p->name, "%s", r->name);
    eg_peers_stats(&c->peers, p->name);  /* listed even if it does nothing */
    emit(c, EG_EV_JOINED, 0, 0, p->name, "worker %s joined (credit %u)",
         p->name, r->credit);
    if (c->mode == MODE_SHARDS &&
        send_small(c, p, c->shardq, c->shardq_len) != SENT)
        lose_peer(c, p, "cannot be reached");
}

static void on_fail(eg_coord *c, eg_peer *p, const eg_frame_fail *f)
{
    if (!eg_ledger_holds(&c->ledger, f->task, f->attempt, p->serial))
        return;  /* about an attempt that is over already */
    char why[EG_FAIL_MSG_MAX + 100], label[EG_SHARD_NAME_MAX + 64];
    snprintf(why, sizeof why, "worker %s: %s", p->name, f->msg);
    task_label(c, f->task, label, sizeof label);
    /* Inline tasks carry their own data: an input or usage error (a mode
     * the worker's build lacks, say) would repeat on every worker. */
    if (c->mode != MODE_SHARDS && eg_status_exit_code(f->status) == 2) {
        eg_error named;
        /* A column's data error, in the one-box run's words. */
        if (c->sq_round &&
            eg_sqgrid_name_failure(c->sq, f->task, f->msg, f->status,
                                   c->input_name, &named))
            fatal(c, f->status, "%s", named.msg);
        else
            fatal(c, f->status, "%s: %s", label, why);
        return;
    }
    eg_error err;
    if (eg_ledger_release(&c->ledger, f->task, f->attempt, p->serial,
                          EG_RELEASE_FAILED, why, &err) != EG_OK) {
        ledger_failed(c, f->task, &err);
        return;
    }
    emit(c, EG_EV_REQUEUED, f->task, f->attempt, p->name, "%s failed: %s",
         label, why);
}

static void on_sharda(eg_coord *c, eg_peer *p, const eg_frame *f)
{
    if (c->mode != MODE_SHARDS) {
        reject(c, "SHARDA in a job without shards");
        return;
    }
    if (!p->holds) {
        p->holds = calloc(c->manifest.n / 8 + 1, 1);
        if (!p->holds) {
            fatal(c, EG_ENOMEM, "coordinator: out of memory");
            return;
        }
    }
    for (uint32_t i = 0; i < f->u.shards.count; i++) {
        uint32_t s = eg_frame_sharda_get(f, i);
        if (s < c->manifest.n)
            eg_peer_set_holds(p, s);
    }
}

/* A frame from a registered worker (any but READY). */
static void on_peer_frame(eg_coord *c, eg_peer *p, const eg_frame *f)
{
    int job_bound = f->type == EG_FRAME_FAIL || f->type == EG_FRAME_RETURN ||
                    f->type == EG_FRAME_SHARDA;
    if (job_bound && f->job != c->job) {
        reject(c, "frame of another job");
        return;
    }
    eg_error err;
    switch (f->type) {
    case EG_FRAME_CREDIT:
        p->credit = p->credit + f->u.credit > EG_CREDIT_MAX
                        ? EG_CREDIT_MAX
                        : p->credit + f->u.credit;
        break;
    case EG_FRAME_FAIL: on_fail(c, p, &f->u.fail); break;
    case EG_FRAME_RETURN:
        if (eg_ledger_holds(&c->ledger, f->u.ret.task, f->u.ret.attempt,
                            p->serial)) {
            eg_ledger_release(&c->ledger, f->u.ret.task, f->u.ret.attempt,
                              p->serial, EG_RELEASE_RETURNED, NULL, &err);
            emit(c, EG_EV_REQUEUED, f->u.ret.task, f->u.ret.attempt, p->name,
                 "task %llu returned by worker %s",
                 (unsigned long long)f->u.ret.task, p->name);
        }
        break;
    case EG_FRAME_BYE: {
        char name[EG_GRID_NAME_MAX + 1];
        uint64_t serial = p->serial;
        snprintf(name, sizeof name, "%s", p->name);
        eg_peers_remove(&c->peers, p);
        eg_ledger_release_owner(&c->ledger, serial, 0, NULL, NULL, &err);
        emit(c, EG_EV_LEFT, 0, 0, name, "worker %s left", name);
        break;
    }
    case EG_FRAME_SHARDA: on_sharda(c, p, f); break;
    default: break;  /* HEARTBEAT: being heard from is the point */
    }
}

static void on_control(eg_coord *c, zmq_msg_t *idm, zmq_msg_t *fm, double now)
{
    const unsigned expect =
        EG_FRAME_BIT(EG_FRAME_READY) | EG_FRAME_BIT(EG_FRAME_CREDIT) |
        EG_FRAME_BIT(EG_FRAME_HEARTBEAT) | EG_FRAME_BIT(EG_FRAME_FAIL) |
        EG_FRAME_BIT(EG_FRAME_RETURN) | EG_FRAME_BIT(EG_FRAME_BYE) |
        EG_FRAME_BIT(EG_FRAME_SHARDA);
    const uint8_t *id = zmq_msg_data(idm);
    size_t id_len = zmq_msg_size(idm);
    eg_frame f;
    eg_error why;
    if (eg_frame_decode(&f, zmq_msg_data(fm), zmq_msg_size(fm), expect,
                        &why) != EG_OK) {
        reject(c, why.msg);
        strike(c, id, id_len);
        return;
    }
    eg_peer *p = eg_peers_find(&c->peers, id, id_len);
    if (p)
        p->last_seen = now;
    if (f.type == EG_FRAME_READY) {
        /* ZMQ_SRCFD names the TCP connection the frame came on (deprecated
         * in libzmq, still there in 4.3): the monitor reports disconnects
         * by that descriptor. */
        on_ready(c, id, id_len, &f.u.ready, zmq_msg_get(fm, ZMQ_SRCFD),
                 coord_curve_uid(c, fm), now);
        return;
    }
    if (!p) {
        /* A worker this coordinator does not know (it was declared dead,
         * or served an earlier job): ask it to register afresh. */
        if (f.type != EG_FRAME_BYE)
            send_reset(c, id, id_len);
        return;
    }
    on_peer_frame(c, p, &f);
}

static void read_router(eg_coord *c, double now)
{
    for (int k = 0; k < BATCH && c->fatal == EG_OK; k++) {
        zmq_msg_t idm, fm;
        zmq_msg_init(&idm);
        if (zmq_msg_recv(&idm, c->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&idm);
            return;
        }
        zmq_msg_init(&fm);
        const uint8_t *id = zmq_msg_data(&idm);
        size_t id_len = zmq_msg_size(&idm);
        if (eg_strikes_banned(&c->strikes, id, id_len)) {
            /* Counted, never decoded, never answered. */
            eg_zsock_drain(c->router);
            c->rejected++;
        } else if (!zmq_msg_more(&idm) ||
                   zmq_msg_recv(&fm, c->router, 0) < 0) {
            reject(c, "message without a body");
            strike(c, id, id_len);
        } else if (zmq_msg_more(&fm)) {
            eg_zsock_drain(c->router);
            reject(c, "multipart control message");
            strike(c, id, id_len);
        } else {
            on_control(c, &idm, &fm, now);
        }
        zmq_msg_close(&fm);
        zmq_msg_close(&idm);
    }
}

/* -------------------------------------------------------------- results */

/* Under CURVE a result counts only from the identity its task was
 * dispatched to (a late copy of its own accepted result is a duplicate);
 * without CURVE there is no identity to check (README, "Grid security"). */
static int from_holder(eg_coord *c, const eg_frame_result *r, uint32_t uid)
{
    if (!c->zap ||
        eg_ledger_result_from(&c->ledger, r->task, uid) != EG_FROM_STRANGER)
        return 1;
    char why[256];
    snprintf(why, sizeof why, "RESULT of task %llu from %s%s%s, which does "
             "not hold its lease", (unsigned long long)r->task,
             uid ? "'" : "", uid ? coord_curve_name(c, uid)
                                 : "a key no longer allowed",
             uid ? "'" : "");
    reject(c, why);
    return 0;
}

static void on_result(eg_coord *c, const eg_frame *f, uint32_t uid,
                      double now)
{
    const eg_frame_result *r = &f->u.result;
    if (f->job != c->job) {
        reject(c, "RESULT of another job");
        return;
    }
    if (!from_holder(c, r, uid))
        return;
    const char *why = coord_job_check_result(c, r);
    if (why) {
        reject(c, why);
        return;
    }
    if (c->fatal != EG_OK)
        return;
    if (eg_ledger_complete(&c->ledger, r->task, r->attempt, &r->state, now) ==
        EG_DUPLICATE) {
        emit(c, EG_EV_DUPLICATE, r->task, r->attempt, r->name,
             "duplicate result of task %llu from %s dropped",
             (unsigned long long)r->task, r->name);
        return;
    }
    coord_job_accept(c, r);
    c->bytes_done += r->bytes;
    c->last_result = now;
    eg_grid_worker_stats *s = eg_peers_stats(&c->peers, r->name);
    if (s) {
        s->tasks++;
        s->elements += r->elements;
        s->bytes += r->bytes;
        s->seconds += r->seconds;
    }
}

static void read_results(eg_coord *c, double now)
{
    for (int k = 0; k < BATCH && c->fatal == EG_OK; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        eg_frame f;
        eg_error why;
        if (zmq_msg_more(&m)) {
            eg_zsock_drain(c->pull);
            reject(c, "multipart result message");
        } else if (eg_frame_decode(&f, zmq_msg_data(&m), zmq_msg_size(&m),
                                   EG_FRAME_BIT(EG_FRAME_RESULT),
                                   &why) != EG_OK) {
            reject(c, why.msg);
        } else {
            on_result(c, &f, coord_curve_uid(c, &m), now);
        }
        zmq_msg_close(&m);
    }
}

static void read_monitor(eg_coord *c, double now)
{
    unsigned event;
    uint32_t fd;
    while (eg_zsock_monitor_read(c->monitor, &event, &fd) == 0) {
        if (event != ZMQ_EVENT_DISCONNECTED)
            continue;
        /* What the worker sent before closing (its last result, a RETURN,
         * a BYE) counts first: a clean leave is no failure. */
        read_results(c, now);
        read_router(c, now);
        eg_peer *p = eg_peers_find_fd(&c->peers, (int)fd);
        if (p)
            lose_peer(c, p, "connection closed");
    }
}

/* --------------------------------------------------------------- timers */

static void heartbeats(eg_coord *c, double now)
{
    uint8_t hb[EG_FRAME_HEADER];
    size_t n = eg_frame_encode_empty(hb, sizeof hb, EG_FRAME_HEARTBEAT, c->job);
    for (size_t i = c->peers.n; i-- > 0 && c->fatal == EG_OK;) {
        eg_peer *p = &c->peers.v[i];
        if (now - p->last_seen > EG_GRID_DEAD_S) {
            char how[64];
            snprintf(how, sizeof how, "silent for %.1f s", now - p->last_seen);
            lose_peer(c, p, how);
        } else if (now - p->last_sent >= EG_GRID_HEARTBEAT_S &&
                   send_small(c, p, hb, n) == PEER_GONE) {
            lose_peer(c, p, "unreachable");
        }
    }
}

typedef struct expire_ctx {
    eg_coord *c;
    uint64_t failed_task;
} expire_ctx;

static void on_expire(void *ctx, uint64_t id, uint64_t owner)
{
    expire_ctx *x = ctx;
    const char *name = "";
    for (size_t i = 0; i < x->c->peers.n; i++)
        if (x->c->peers.v[i].serial == owner)
            name = x->c->peers.v[i].name;
    x->failed_task = id;
    emit(x->c, EG_EV_REQUEUED, id, x->c->ledger.tasks[id].attempts, name,
         "task %llu: lease expired on worker %s", (unsigned long long)id,
         name);
}

static void expire_leases(eg_coord *c, double now)
{
    expire_ctx x = {c, EG_NO_TASK};
    eg_error err;
    if (eg_ledger_expire(&c->ledger, now, on_expire, &x, &err) != EG_OK)
        ledger_failed(c, x.failed_task, &err);
}

/* ------------------------------------------------------------- dispatch */

static int peer_holds_task(void *ctx, uint64_t id)
{
    return eg_peer_holds(ctx, id);
}

/* One pass over the workers, one task each where credit allows.  Returns
 * the tasks sent, or -1 when the table changed (a worker was lost). */
static int dispatch_round(eg_coord *c, double now)
{
    int sent = 0;
    size_t n = c->peers.n;
    for (size_t k = 0; k < n; k++) {
        eg_peer *p = &c->peers.v[(c->peers.rr + k) % n];
        if (p->credit == 0 || (c->mode == MODE_SHARDS && !p->holds))
            continue;
        uint64_t id;
        int shards = c->mode == MODE_SHARDS;
        if (!eg_ledger_take(&c->ledger, shards ? peer_holds_task : NULL, p,
                            &id)) {
            if (!shards)
                return sent;  /* nothing pending at all */
            continue;
        }
        switch (send_task(c, p, id, now)) {
        case SENT: sent++; break;
        case PEER_BUSY:
            /* Its queue is full despite the credit: it stopped reading.
             * Heartbeats will tell whether it is alive. */
            eg_ledger_untake(&c->ledger, id);
            p->credit = 0;
            break;
        case PEER_GONE:
            eg_ledger_untake(&c->ledger, id);
            lose_peer(c, p, "unreachable");
            return -1;
        case SEND_FATAL: eg_ledger_untake(&c->ledger, id); return -1;
        }
    }
    c->peers.rr++;
    return sent;
}

static void dispatch(eg_coord *c, double now)
{
    if (c->first_dispatch == 0 && c->peers.n < c->o.min_workers)
        return;
    for (;;) {
        int sent = dispatch_round(c, now);
        if (c->fatal != EG_OK || sent == 0)
            return;
    }
}

/* ------------------------------------------------------------------ run */

static void waiting_notice(eg_coord *c, double now, double start,
                           double *next)
{
    unsigned want = c->o.min_workers ? c->o.min_workers : 1;
    int starved = c->first_dispatch == 0 ? c->peers.n < want : c->peers.n == 0;
    if (!starved) {
        *next = now + WAIT_FIRST_S;
        return;
    }
    if (now < *next)
        return;
    *next = now + WAIT_REPEAT_S;
    char limit[64] = "";
    if (c->o.timeout_s > 0)
        snprintf(limit, sizeof limit, "; giving up after %g s",
                 c->o.timeout_s);
    emit(c, EG_EV_WAITING, 0, 0, NULL,
         "waiting for workers on %s (%zu of %u connected after %.0f s%s)",
         c->tasks_ep, c->peers.n, want, now - start, limit);
}

static eg_status timed_out(eg_coord *c, double now, double start,
                           eg_error *err)
{
    char missing[512];
    coord_job_missing(c, missing, sizeof missing);
    return eg_error_set(err, EG_ETIMEOUT,
                        "timed out after %.1f s with %llu of %llu %s done "
                        "and %zu worker(s) connected; %s",
                        now - start, (unsigned long long)c->ledger.done,
                        (unsigned long long)c->ledger.ntasks,
                        c->mode == MODE_SHARDS ? "shards" : "tasks",
                        c->peers.n, missing);
}

void coord_emit_round(eg_coord *c, const char *text)
{
    emit(c, EG_EV_ROUND, 0, 0, NULL, "%s", text);
}

eg_status coord_loop(eg_coord *c, eg_error *err)
{
    if (c->run_start == 0)
        c->run_start = eg_now();
    double start = c->run_start, next_wait = eg_now() + WAIT_FIRST_S;
    double next_stop = start, next_timer = start;
    while (!eg_ledger_finished(&c->ledger)) {
        if (c->fatal != EG_OK) {
            *err = c->fatal_err;
            return c->fatal;
        }
        double now = eg_now();
        if (c->o.timeout_s > 0 && now - start >= c->o.timeout_s)
            return timed_out(c, now, start, err);
        if (c->o.stop_fn && now >= next_stop) {
            char why[EG_ERROR_MSG_MAX] = "stopped";
            next_stop = now + 0.1;
            if (c->o.stop_fn(c->o.stop_ctx, why, sizeof why))
                return eg_error_set(err, EG_EIO, "%s", why);
        }
        zmq_pollitem_t items[4] = {{c->router, 0, ZMQ_POLLIN, 0},
                                   {c->pull, 0, ZMQ_POLLIN, 0},
                                   {c->monitor, 0, ZMQ_POLLIN, 0},
                                   {c->zap ? eg_zap_socket(c->zap) : NULL, 0,
                                    ZMQ_POLLIN, 0}};
        if (zmq_poll(items, c->zap ? 4 : 3, TICK_MS) < 0 &&
            zmq_errno() != EINTR)
            return eg_zmq_error(err, "zmq_poll", c->tasks_ep);
        now = eg_now();
        /* Handshakes first: a worker waits on them to join. */
        if (coord_curve_serve(c))
            drop_revoked(c);
        read_results(c, now);
        read_router(c, now);
        read_monitor(c, now);
        if (now >= next_timer) {
            next_timer = now + TICK_MS / 1000.0;
            heartbeats(c, now);
            expire_leases(c, now);
            waiting_notice(c, now, start, &next_wait);
        }
        if (c->fatal == EG_OK)
            dispatch(c, now);
    }
    return EG_OK;
}

eg_status eg_coord_run(eg_coord *c, eg_result *res, eg_grid_stats *stats,
                       eg_error *err)
{
    eg_status st;
    if (c->sq) {
        st = coord_squant_run(c, res, err);
    } else if (c->quant) {
        st = coord_quant_run(c, res, err);
    } else {
        st = coord_loop(c, err);
        if (st == EG_OK)
            st = coord_job_finish(c, res, err);
    }
    if (stats)
        coord_job_stats(c, stats);
    return st;
}
