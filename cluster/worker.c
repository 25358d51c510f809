/* worker.c - a worker's I/O thread: registration, credit, heartbeats, the
 * task queue, shard queries, and leaving cleanly.
 *
 * Credit: the worker promises to take `depth` tasks.  READY tells the
 * coordinator how many it may send now (depth minus the tasks still held);
 * every task finished, failed or returned gives one back (CREDIT 1).  A
 * coordinator that does not know this worker (it declared it dead, or it is
 * a new job's coordinator on the same port) answers any frame with RESET;
 * the worker then drops the tasks it has not started (nobody waits for
 * them) and registers again.  A coordinator silent for EG_GRID_DEAD_S is
 * taken for gone: READY is repeated until one answers.
 *
 * Results go out on the PUSH socket; when it is full (the collector reads
 * slower than this worker computes) they wait in an outbox, still holding
 * their credit, so the coordinator slows down instead of results being
 * lost.
 *
 * Leaving (first SIGINT/SIGTERM): queued tasks go back (RETURN), the task
 * being computed is finished and its result sent, then BYE.  A second
 * signal leaves at once. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_grid.h"
#include "sysdep.h"
#include "worker_internal.h"
#include "zsock.h"

#define TICK_MS 50

/* Tasks up to this many data bytes are computed on the I/O thread when the
 * compute thread is idle: handing them over would cost more than the work
 * (a few microseconds), and the heartbeats wait no longer than that. */
#define SMALL_TASK_BYTES (64u * 1024u)

typedef struct wk {
    const eg_worker_opts *o;
    volatile sig_atomic_t *stop;
    char name[EG_GRID_NAME_MAX + 1];
    void *zctx, *dealer, *push, *pair;
    void *hsmon;           /* the DEALER's handshake events */
    int curve, hs_told;    /* CURVE on; a handshake failure was logged */
    int hs_pending;        /* connected, handshake not done yet */
    double redial_at;      /* when to connect afresh after a refusal; 0 */
    double redial_wait;    /* the back-off, doubled per refusal */
    eg_curve_keys keys;    /* wiped once the sockets have them */
    eg_worker_compute compute;
    uint64_t session;
    uint32_t generation;
    unsigned depth;
    int registered, leaving, busy;
    double last_heard, last_sent, next_ready;
    uint64_t job;          /* the job of the last coordinator frame */
    eg_worker_task *q;     /* ring of tasks not started */
    size_t qhead, qn, qcap;
    unsigned held;         /* queued + computing */
    uint8_t *out;          /* small tasks' RESULT/FAIL frames */
    size_t out_cap;
    eg_result *stats;
    /* Results the PUSH socket could not take yet (its high-water mark: the
     * collector reads slower than this worker computes).  Each still holds
     * its credit, which is what slows the coordinator down. */
    zmq_msg_t *outbox;
    size_t ob_head, ob_n, ob_cap;
    double leaving_since;
} wk;

static void wlog(wk *w, const char *fmt, ...) EG_PRINTF(2, 3);

static void wlog(wk *w, const char *fmt, ...)
{
    if (!w->o->log_fn)
        return;
    char line[600];
    int n = snprintf(line, sizeof line, "worker %s: ", w->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    w->o->log_fn(w->o->log_ctx, line);
}

void eg_worker_opts_init(eg_worker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->die_on_task = -1;
}

/* ------------------------------------------------------------- sending */

static int send_control(wk *w, const uint8_t *buf, size_t n)
{
    if (n == 0 || zmq_send(w->dealer, buf, n, ZMQ_DONTWAIT) < 0)
        return -1;
    w->last_sent = eg_now();
    return 0;
}

static void send_ready(wk *w)
{
    eg_frame_ready r = {.session = w->session,
                        .generation = w->generation,
                        .credit = w->held < w->depth ? w->depth - w->held : 0,
                        .flags = w->o->shard_root ? EG_READY_SHARDS : 0};
    snprintf(r.name, sizeof r.name, "%s", w->name);
    uint8_t buf[EG_FRAME_SMALL_MAX];
    send_control(w, buf, eg_frame_encode_ready(buf, sizeof buf, w->job, &r));
}

static void send_credit(wk *w)
{
    uint8_t buf[EG_FRAME_SMALL_MAX];
    if (w->registered)
        send_control(w, buf, eg_frame_encode_credit(buf, sizeof buf, w->job,
                                                    1));
}

static void send_return(wk *w, const eg_worker_task *t)
{
    uint8_t buf[EG_FRAME_SMALL_MAX];
    send_control(w, buf, eg_frame_encode_return(buf, sizeof buf, t->f.job,
                                                t->f.u.task.task,
                                                t->f.u.task.attempt));
}

static void send_empty(wk *w, unsigned type)
{
    uint8_t buf[EG_FRAME_HEADER];
    send_control(w, buf, eg_frame_encode_empty(buf, sizeof buf, type, w->job));
}

/* --------------------------------------------------------------- queue */

static int push_task(wk *w, eg_worker_task *t)
{
    if (w->qn == w->qcap) {
        size_t cap = w->qcap ? w->qcap * 2 : 8;
        eg_worker_task *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < w->qn; i++)
            q[i] = w->q[(w->qhead + i) % w->qcap];
        free(w->q);
        w->q = q;
        w->qcap = cap;
        w->qhead = 0;
    }
    w->q[(w->qhead + w->qn) % w->qcap] = *t;
    w->qn++;
    w->held++;
    return 0;
}

static eg_worker_task pop_task(wk *w)
{
    eg_worker_task t = w->q[w->qhead];
    w->qhead = (w->qhead + 1) % w->qcap;
    w->qn--;
    return t;
}

/* Gives back every task not started: RETURN when leaving, silently after
 * a RESET (that coordinator holds no lease on them any more). */
static void drop_queue(wk *w, int return_them)
{
    while (w->qn) {
        eg_worker_task t = pop_task(w);
        if (return_them)
            send_return(w, &t);
        eg_worker_task_close(&t);
        w->held--;
    }
}

static void finished(wk *w, const uint8_t *frame, size_t n);
static void drop_outbox(wk *w);

static size_t task_bytes(const eg_worker_task *t)
{
    size_t n = 0;
    for (int i = 1; i < t->nparts; i++)
        n += zmq_msg_size((zmq_msg_t *)&t->part[i]);
    return n;
}

/* Starts the next task when the compute thread is idle: small ones right
 * here, the others on the compute thread. */
static void feed_compute(wk *w)
{
    while (!w->busy && w->qn > 0 && !w->leaving) {
        eg_worker_task t = pop_task(w);
        if (t.f.u.task.kind == EG_TASK_INLINE &&
            task_bytes(&t) <= SMALL_TASK_BYTES && w->o->task_delay_ms == 0) {
            size_t n = eg_worker_compute_run(&w->compute, &t, w->out,
                                             w->out_cap, w->stats);
            eg_worker_task_close(&t);
            finished(w, w->out, n);
            continue;
        }
        for (int i = 0; i < t.nparts; i++)
            if (zmq_msg_send(&t.part[i], w->pair,
                             i + 1 < t.nparts ? ZMQ_SNDMORE : 0) < 0) {
                /* An inproc PAIR with a live peer does not refuse; if it
                 * did, the task is lost here and its lease will expire. */
                for (int k = i; k < t.nparts; k++)
                    zmq_msg_close(&t.part[k]);
                w->held--;
                return;
            }
        w->busy = 1;
    }
}

/* ------------------------------------------------------------ receiving */

static eg_status segs_check(eg_worker_task *t, const eg_frame_task *task,
                            int ndata, eg_error *why)
{
    uint64_t *lens = malloc((size_t)task->nseg * sizeof *lens);
    if (!lens)
        return eg_error_set(why, EG_ENOMEM, "worker: out of memory");
    zmq_msg_t *m = &t->part[1 + ndata];
    eg_status st = ndata == 1 + task->has_y
                       ? eg_frame_task_lens(task, zmq_msg_data(m),
                                            zmq_msg_size(m), lens, why)
                       : eg_error_set(why, EG_EINPUT, "frame: TASK %llu "
                                      "segment lengths missing",
                                      (unsigned long long)task->task);
    free(lens);
    return st;
}

static eg_status quant_check(eg_worker_task *t, const eg_frame_task *task,
                             int ndata, eg_error *why)
{
    /* QUANT: the data, then the parameters; SQUANT: the parameters. */
    int shard = task->kind == EG_TASK_SQUANT;
    if (ndata != !shard || t->nparts != 3 - shard)
        return eg_error_set(why, EG_EINPUT, "frame: TASK %llu quantile "
                            "parameters missing",
                            (unsigned long long)task->task);
    zmq_msg_t *m = &t->part[2 - shard];
    if (task->kind == EG_TASK_SQSEG)
        return eg_sqgrid_params_check(zmq_msg_data(m), zmq_msg_size(m),
                                      (eg_dtype)task->dtype, task->first,
                                      task->nseg, task->count, why);
    return eg_qgrid_params_check(zmq_msg_data(m), zmq_msg_size(m),
                                 (eg_dtype)task->dtype, why);
}

static void on_task(wk *w, eg_worker_task *t, const eg_frame *f)
{
    const eg_frame_task *task = &f->u.task;
    t->f = *f;
    eg_error why;
    /* A SEGS task's lengths, a QUANT task's parameters come last, after
     * its data parts. */
    int segs = task->kind == EG_TASK_SEGS;
    int quant = task->kind == EG_TASK_QUANT ||
                task->kind == EG_TASK_SQUANT || task->kind == EG_TASK_SQSEG;
    int ndata = t->nparts - 1 - ((segs || quant) && t->nparts > 1);
    size_t ylen = ndata > 1 ? zmq_msg_size(&t->part[2]) : 0;
    size_t xlen = ndata > 0 ? zmq_msg_size(&t->part[1]) : 0;
    if (eg_frame_task_check_parts(task, xlen, ndata > 1, ylen, &why) !=
            EG_OK ||
        ndata > 2 ||
        (task->kind != EG_TASK_SHARD && task->kind != EG_TASK_SQUANT &&
         t->nparts < 2) ||
        (segs && segs_check(t, task, ndata, &why) != EG_OK) ||
        (quant && quant_check(t, task, ndata, &why) != EG_OK)) {
        /* The frame is sound, its data is not: say so for this task. */
        eg_frame_fail fail = {.task = task->task, .attempt = task->attempt,
                              .status = EG_EINPUT};
        /* Messages longer than a frame carries are cut, on purpose. */
        snprintf(fail.msg, sizeof fail.msg, "%.*s", EG_FAIL_MSG_MAX,
                 why.msg[0] ? why.msg : "task data parts missing");
        uint8_t buf[EG_FRAME_SMALL_MAX];
        send_control(w, buf, eg_frame_encode_fail(buf, sizeof buf, f->job,
                                                  &fail));
        wlog(w, "refused task %llu: %s", (unsigned long long)task->task,
             fail.msg);
        eg_worker_task_close(t);
        send_credit(w);
        return;
    }
    if (w->leaving) {
        send_return(w, t);
        eg_worker_task_close(t);
        return;
    }
    if (push_task(w, t) != 0) {
        eg_worker_task_close(t);  /* out of memory: the lease will expire */
        return;
    }
    feed_compute(w);
}

/* SHARDQ: answers with the shards found as readable files under the root. */
static void on_shardq(wk *w, const eg_frame *f)
{
    uint32_t *have = malloc(((size_t)f->u.shards.count + 1) * sizeof *have);
    uint8_t *buf = malloc(eg_frame_sharda_size(f->u.shards.count));
    uint32_t n = 0, index;
    char name[EG_SHARD_NAME_MAX + 1], path[4096];
    eg_shardq_iter it = {0, 0};
    while (have && buf && w->o->shard_root &&
           eg_frame_shardq_next(f, &it, &index, name)) {
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", w->o->shard_root,
                             name) < sizeof path &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, R_OK) == 0)
            have[n++] = index;
    }
    if (have && buf) {
        send_control(w, buf, eg_frame_encode_sharda(
                                 buf, eg_frame_sharda_size(n), f->job, have,
                                 n));
        wlog(w, "holds %u of the job's %u shards", n, f->u.shards.count);
    }
    free(have);
    free(buf);
}

static void on_coordinator(wk *w, eg_worker_task *t, const eg_frame *f,
                           double now)
{
    w->last_heard = now;
    if (f->job != w->job) {
        w->job = f->job;
        wlog(w, "serving job %016llx", (unsigned long long)f->job);
    }
    if (f->type == EG_FRAME_RESET) {
        drop_queue(w, 0);
        drop_outbox(w);
        w->registered = 0;
        w->generation++;
        send_ready(w);
        w->next_ready = now + EG_GRID_HEARTBEAT_S;
        return;
    }
    if (!w->registered) {
        w->registered = 1;
        wlog(w, "registered with the coordinator");
    }
    if (f->type == EG_FRAME_TASK)
        on_task(w, t, f);
    else if (f->type == EG_FRAME_SHARDQ)
        on_shardq(w, f);
}

static void read_dealer(wk *w, double now)
{
    const unsigned expect =
        EG_FRAME_BIT(EG_FRAME_TASK) | EG_FRAME_BIT(EG_FRAME_HEARTBEAT) |
        EG_FRAME_BIT(EG_FRAME_RESET) | EG_FRAME_BIT(EG_FRAME_SHARDQ);
    for (int k = 0; k < 64; k++) {
        eg_worker_task t = {.nparts = 0};
        zmq_msg_init(&t.part[0]);
        if (zmq_msg_recv(&t.part[0], w->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&t.part[0]);
            return;
        }
        t.nparts = 1;
        while (zmq_msg_more(&t.part[t.nparts - 1]) && t.nparts < 4) {
            zmq_msg_init(&t.part[t.nparts]);
            zmq_msg_recv(&t.part[t.nparts], w->dealer, 0);
            t.nparts++;
        }
        int extra = zmq_msg_more(&t.part[t.nparts - 1])
                        ? (int)eg_zsock_drain(w->dealer)
                        : 0;
        eg_frame f;
        eg_error why;
        if (extra || eg_frame_decode(&f, zmq_msg_data(&t.part[0]),
                                     zmq_msg_size(&t.part[0]), expect,
                                     &why) != EG_OK) {
            wlog(w, "refused a frame from the coordinator: %s",
                 extra ? "too many parts" : why.msg);
            eg_worker_task_close(&t);
            continue;
        }
        on_coordinator(w, &t, &f, now);
        if (f.type != EG_FRAME_TASK)
            eg_worker_task_close(&t);
    }
}

/* Queues a result that the PUSH socket refused for now. */
static int outbox_add(wk *w, const uint8_t *p, size_t n)
{
    if (w->ob_n == w->ob_cap) {
        size_t cap = w->ob_cap ? w->ob_cap * 2 : 8;
        zmq_msg_t *v = malloc(cap * sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < w->ob_n; i++)
            v[i] = w->outbox[(w->ob_head + i) % w->ob_cap];
        free(w->outbox);
        w->outbox = v;
        w->ob_cap = cap;
        w->ob_head = 0;
    }
    zmq_msg_t *m = &w->outbox[(w->ob_head + w->ob_n) % w->ob_cap];
    if (zmq_msg_init_size(m, n) != 0)
        return -1;
    memcpy(zmq_msg_data(m), p, n);
    w->ob_n++;
    return 0;
}

/* A task is over: its slot (and credit) is free again. */
static void release_slot(wk *w)
{
    w->held--;
    if (!w->leaving)
        send_credit(w);
}

/* Sends what the outbox holds, oldest first, as far as the socket takes. */
static void flush_outbox(wk *w)
{
    while (w->ob_n > 0) {
        zmq_msg_t *m = &w->outbox[w->ob_head];
        if (zmq_msg_send(m, w->push, ZMQ_DONTWAIT) < 0)
            return;
        zmq_msg_close(m);
        w->ob_head = (w->ob_head + 1) % w->ob_cap;
        w->ob_n--;
        release_slot(w);
    }
}

/* Forgets queued results (after a RESET: that coordinator expects none). */
static void drop_outbox(wk *w)
{
    while (w->ob_n > 0) {
        zmq_msg_close(&w->outbox[w->ob_head]);
        w->ob_head = (w->ob_head + 1) % w->ob_cap;
        w->ob_n--;
        w->held--;
    }
}

#ifdef EDGEGRID_TEST_HOOKS
/* Fault injection (--forge-results): before a result of task t, a copy
 * re-labelled as task t-1, its indices shifted back by the task's length
 * so that it passes every range check: the result a rogue worker would
 * forge for a task another worker holds.  Why t-1: tasks go out lowest id
 * first and a worker does them in order, so if t-1 was this worker's own,
 * its real result has gone out before, on the same socket, and the copy
 * can only be a duplicate (hence none while results wait in the outbox).
 * Under CURVE the coordinator must refuse every other copy. */
static void send_forgery(wk *w, const uint8_t *p, size_t n)
{
    eg_frame f;
    eg_error why;
    if (w->ob_n > 0 ||
        eg_frame_decode(&f, p, n, EG_FRAME_BIT(EG_FRAME_RESULT), &why) !=
            EG_OK ||
        f.u.result.task == 0)
        return;
    eg_frame_result r = f.u.result;
    r.task--;
    /* Unsigned wrap-around: the indices move back by n. */
    eg_state_shift(&r.state, (uint64_t)0 - r.state.n);
    uint8_t *buf = malloc(w->out_cap);  /* p may be w->out itself */
    size_t len = buf ? eg_frame_encode_result(buf, w->out_cap, f.job, &r) : 0;
    if (len && zmq_send(w->push, buf, len, ZMQ_DONTWAIT) >= 0)
        wlog(w, "forged a result for task %llu",
             (unsigned long long)r.task);
    free(buf);
}
#endif

/* A task's RESULT goes to the collector, a FAIL to the coordinator. */
static void finished(wk *w, const uint8_t *p, size_t n)
{
    if (n > EG_FRAME_HEADER && p[6] == EG_FRAME_RESULT) {
#ifdef EDGEGRID_TEST_HOOKS
        if (w->o->forge_results)
            send_forgery(w, p, n);  /* fault injection */
        if (w->o->duplicate_results)
            zmq_send(w->push, p, n, ZMQ_DONTWAIT);  /* fault injection */
#endif
        if (w->ob_n == 0 && zmq_send(w->push, p, n, ZMQ_DONTWAIT) >= 0) {
            release_slot(w);
        } else if (outbox_add(w, p, n) != 0) {
            wlog(w, "result dropped: out of memory");
            release_slot(w);
        }
        return;
    }
    eg_frame f;
    eg_error why;
    if (eg_frame_decode(&f, p, n, EG_FRAME_BIT(EG_FRAME_FAIL), &why) == EG_OK)
        wlog(w, "task %llu failed: %s", (unsigned long long)f.u.fail.task,
             f.u.fail.msg);
    send_control(w, p, n);
    release_slot(w);
}

/* What the compute thread sends back. */
static void read_pair(wk *w)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, w->pair, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return;
    }
    w->busy = 0;
    finished(w, zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    feed_compute(w);
}

/* Longest wait before dialling a coordinator that refused this worker
 * again. */
#define REDIAL_MAX_S 16.0

/* Connects both sockets afresh (see read_handshakes). */
static void redial(wk *w)
{
    const char *ep[2] = {w->o->tasks_endpoint, w->o->results_endpoint};
    void *s[2] = {w->dealer, w->push};
    w->redial_at = 0;
    for (int i = 0; i < 2; i++) {
        zmq_disconnect(s[i], ep[i]);  /* ENOENT once libzmq gave up */
        if (zmq_connect(s[i], ep[i]) != 0)
            wlog(w, "zmq_connect %s: %s", ep[i], zmq_strerror(zmq_errno()));
    }
}

/* Handshake news from the DEALER's monitor: a refused key or a wrong
 * server key is told once, until a handshake succeeds again.  A server
 * that cannot open a HELLO (the wrong --server-key) just hangs up, so a
 * connection that closes before its handshake is done counts too. */
static void read_handshakes(wk *w)
{
    unsigned event;
    uint32_t value;
    char line[300];
    while (eg_zsock_monitor_read(w->hsmon, &event, &value) == 0) {
        if (event == ZMQ_EVENT_CONNECTED) {
            w->hs_pending = 1;
            continue;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            w->hs_pending = w->hs_told = 0;
            w->redial_wait = 0;
            continue;
        }
        /* After a refusal (ZAP said no, or the mechanisms differ) libzmq
         * gives the connection up for good; the worker dials again later,
         * as its key may be allowed by then (a SIGHUP). */
        if ((event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
             event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) &&
            w->redial_at == 0) {
            w->redial_wait = w->redial_wait > 0 ? 2 * w->redial_wait : 1.0;
            if (w->redial_wait > REDIAL_MAX_S)
                w->redial_wait = REDIAL_MAX_S;
            w->redial_at = eg_now() + w->redial_wait;
        }
        if (event == ZMQ_EVENT_DISCONNECTED && !w->hs_pending)
            continue;
        if (event == ZMQ_EVENT_DISCONNECTED)
            event = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
        w->hs_pending = 0;
        const char *text = eg_worker_handshake_text(event, value, w->curve,
                                                    line, sizeof line);
        if (text && !w->hs_told) {
            w->hs_told = 1;
            wlog(w, "%s: %s", w->o->tasks_endpoint, text);
        }
    }
}

/* --------------------------------------------------------------- timers */

static void timers(wk *w, double now)
{
    if (w->redial_at > 0 && now >= w->redial_at)
        redial(w);
    if (w->registered && now - w->last_heard > EG_GRID_DEAD_S) {
        w->registered = 0;
        wlog(w, "coordinator silent for %.1f s; waiting for one",
             now - w->last_heard);
    }
    if (!w->registered && !w->leaving && now >= w->next_ready) {
        send_ready(w);
        w->next_ready = now + EG_GRID_HEARTBEAT_S;
    } else if (w->registered && now - w->last_sent >= EG_GRID_HEARTBEAT_S) {
        send_empty(w, EG_FRAME_HEARTBEAT);
    }
}

/* ---------------------------------------------------------------- setup */

static eg_status open_sockets(wk *w, eg_error *err)
{
    const eg_worker_opts *o = w->o;
    if (!(w->zctx = zmq_ctx_new()))
        return eg_zmq_error(err, "zmq_ctx_new", "");
    const eg_curve_keys *keys = w->curve ? &w->keys : NULL;
    /* The DEALER is watched before it connects: libzmq gives a refused
     * connection up for good, so a refusal that came before the monitor
     * (a loaded box, a loopback handshake) was never told and never
     * redialled. */
    eg_status st = eg_zsock_tasks_socket(w->zctx, EG_TASK_BYTES_MAX, keys,
                                         &w->dealer, err);
    if (st == EG_OK)
        st = eg_zsock_monitor_events(
            w->zctx, w->dealer, "handshake",
            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
            &w->hsmon, err);
    if (st == EG_OK && zmq_connect(w->dealer, o->tasks_endpoint) != 0)
        st = eg_zmq_error(err, "zmq_connect", o->tasks_endpoint);
    if (st == EG_OK)
        st = eg_zsock_connect_results(w->zctx, o->results_endpoint, keys,
                                      &w->push, err);
    eg_curve_wipe(&w->keys, sizeof w->keys);
    if (st != EG_OK)
        return st;
    if (!(w->pair = zmq_socket(w->zctx, ZMQ_PAIR)))
        return eg_zmq_error(err, "zmq_socket", "PAIR");
    int zero = 0;
    zmq_setsockopt(w->pair, ZMQ_LINGER, &zero, sizeof zero);
    char addr[64];
    snprintf(addr, sizeof addr, "inproc://eg-worker-%p", (void *)w);
    return eg_worker_compute_start(&w->compute, w->zctx, w->pair, addr, err);
}

static void close_all(wk *w)
{
    eg_worker_compute_stop(&w->compute, w->pair);
    drop_queue(w, 0);
    drop_outbox(w);
    free(w->outbox);
    free(w->q);
    free(w->out);
    free(w->stats);
    eg_zsock_close(&w->pair);
    eg_zsock_close(&w->hsmon);
    eg_zsock_close(&w->dealer);
    eg_zsock_close(&w->push);
    if (w->zctx)
        zmq_ctx_term(w->zctx);  /* waits at most the 1 s linger */
    eg_engine_close(&w->compute.engine);
}

/* Leaving waits for the running task and the results still queued, but
 * never longer than this when the collector does not take them. */
#define LEAVE_MAX_S 3.0

static void serve(wk *w)
{
    w->next_ready = eg_now();
    for (;;) {
        double now = eg_now();
        if (*w->stop && !w->leaving) {
            w->leaving = 1;
            w->leaving_since = now;
            unsigned n = (unsigned)w->qn;
            drop_queue(w, 1);
            wlog(w, "leaving: %u queued task(s) returned%s", n,
                 w->busy ? ", finishing the one running" : "");
        }
        if (w->leaving && ((!w->busy && w->ob_n == 0) || *w->stop >= 2 ||
                           now - w->leaving_since > LEAVE_MAX_S))
            break;
        zmq_pollitem_t items[4] = {{w->dealer, 0, ZMQ_POLLIN, 0},
                                   {w->pair, 0, ZMQ_POLLIN, 0},
                                   {w->hsmon, 0, ZMQ_POLLIN, 0},
                                   {w->push, 0, ZMQ_POLLOUT, 0}};
        if (zmq_poll(items, w->ob_n ? 4 : 3, TICK_MS) < 0 &&
            zmq_errno() != EINTR)
            break;
        now = eg_now();
        read_handshakes(w);
        flush_outbox(w);
        read_pair(w);
        read_dealer(w, now);
        timers(w, now);
    }
    send_empty(w, EG_FRAME_BYE);
}

eg_status eg_worker_run(const eg_worker_opts *o, volatile sig_atomic_t *stop,
                        eg_error *err)
{
    wk w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.stop = stop;
    w.depth = o->credit ? o->credit : EG_GRID_DEFAULT_CREDIT;
    if (w.depth > EG_CREDIT_MAX)
        return eg_error_set(err, EG_EUSAGE, "credit %u is above the limit of "
                            "%u", w.depth, EG_CREDIT_MAX);
    if (o->name)
        snprintf(w.name, sizeof w.name, "%s", o->name);
    else
        eg_default_name(w.name, sizeof w.name);
    if (!eg_frame_name_ok(w.name, strlen(w.name), EG_GRID_NAME_MAX))
        return eg_error_set(err, EG_EUSAGE, "worker name '%s' must be 1 to "
                            "%d printable characters without spaces",
                            w.name, EG_GRID_NAME_MAX);
    /* Keys and the plain-TCP rule before anything slow starts. */
    eg_status st = eg_worker_curve_keys(o, &w.keys, &w.curve, err);
    if (st != EG_OK)
        return st;
    w.session = eg_random64();
    w.out_cap = eg_worker_out_cap();
    w.out = malloc(w.out_cap);
    w.stats = malloc(sizeof *w.stats);
    if (!w.out || !w.stats) {
        free(w.out);
        free(w.stats);
        eg_curve_wipe(&w.keys, sizeof w.keys);
        return eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    }
    w.compute.o = o;
    w.compute.name = w.name;
    st = eg_engine_open(&w.compute.engine, o->devices, err);
    if (st != EG_OK) {
        free(w.out);
        free(w.stats);
        eg_curve_wipe(&w.keys, sizeof w.keys);
        return st;
    }
    /* A worker lives for many tasks: it waits for device discovery
     * (spec "all" runs it on a thread of its own) before it asks for work,
     * so that every task sees the whole device list. */
    (void)eg_engine_device_count(w.compute.engine);
    /* libzmq's threads and the compute thread inherit this mask, so the
     * signals that mean "leave" reach this thread's zmq_poll. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    st = open_sockets(&w, err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st == EG_OK) {
        wlog(&w, "connected to %s and %s", o->tasks_endpoint,
             o->results_endpoint);
        serve(&w);
    }
    close_all(&w);
    return st;
}
