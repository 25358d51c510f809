/* worker_compute.c - the worker's compute thread: one task at a time, from
 * the frame to an encoded RESULT (or FAIL) frame.
 *
 * Inline tasks carry native-order bytes; they are wrapped as a source and
 * reduced as one chunk (the coordinator sets the chunk to the task size),
 * so the state is bit for bit the one a one-box run computes for that
 * chunk, then re-based to the task's global position.  Shard tasks name a
 * file below --shard-root that is opened and reduced whole; a shard's
 * quantile task opens it the same way and counts it whole. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_grid.h"
#include "sysdep.h"
#include "worker_internal.h"
#include "zsock.h"

/* Receives one message from the I/O thread; 0 for a task, -1 to stop. */
static int receive(eg_worker_compute *w, eg_worker_task *t)
{
    t->nparts = 0;
    do {
        if (t->nparts == 4) {
            eg_zsock_drain(w->pair);
            break;
        }
        zmq_msg_init(&t->part[t->nparts]);
        if (zmq_msg_recv(&t->part[t->nparts], w->pair, 0) < 0) {
            zmq_msg_close(&t->part[t->nparts]);
            return -1;
        }
        t->nparts++;
    } while (zmq_msg_more(&t->part[t->nparts - 1]));
    if (zmq_msg_size(&t->part[0]) == 0)
        return -1;
    /* The I/O thread validated this frame before passing it on. */
    eg_error err;
    return eg_frame_decode(&t->f, zmq_msg_data(&t->part[0]),
                           zmq_msg_size(&t->part[0]),
                           EG_FRAME_BIT(EG_FRAME_TASK), &err) == EG_OK
               ? 0
               : -1;
}

void eg_worker_task_close(eg_worker_task *t)
{
    for (int i = 0; i < t->nparts; i++)
        zmq_msg_close(&t->part[i]);
    t->nparts = 0;
}

/* Data handed to the engine must be aligned for its type; libzmq may place
 * a small message at any offset of its receive buffer. */
static const void *aligned(const zmq_msg_t *m, size_t item, void **copy)
{
    const void *p = zmq_msg_data((zmq_msg_t *)m);
    size_t len = zmq_msg_size((zmq_msg_t *)m);
    *copy = NULL;
    if (len == 0 || (uintptr_t)p % item == 0)
        return p;
    *copy = malloc(len);
    if (*copy)
        memcpy(*copy, p, len);
    return *copy;
}

static eg_status reduce_inline(eg_worker_compute *w, eg_worker_task *t,
                               const eg_reduce_opts *o, eg_state *s,
                               eg_result *stats, eg_error *err)
{
    const eg_frame_task *f = &t->f.u.task;
    size_t item = eg_dtype_size((eg_dtype)f->dtype);
    void *cx = NULL, *cy = NULL;
    eg_source *sx = NULL, *sy = NULL;
    const void *x = aligned(&t->part[1], item, &cx);
    const void *y = f->has_y ? aligned(&t->part[2], item, &cy) : NULL;
    eg_status st = EG_OK;
    if ((f->count && !x) || (f->has_y && f->count && !y))
        st = eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    if (st == EG_OK)
        st = eg_source_wrap(&sx, x, f->count, (eg_dtype)f->dtype, err);
    if (st == EG_OK && f->has_y)
        st = eg_source_wrap(&sy, y, f->count, (eg_dtype)f->dtype, err);
    if (st == EG_OK)
        st = eg_engine_reduce_range(w->engine, sx, sy, 0, f->count, o, s,
                                    stats, err);
    if (st == EG_OK)
        eg_state_shift(s, f->first);
    eg_source_close(&sx);
    eg_source_close(&sy);
    free(cx);
    free(cy);
    return st;
}

/* A QUANT task: the range counted as its parameters say (the I/O thread
 * checked them) into a malloc'ed payload. */
static eg_status reduce_quant(eg_worker_task *t, uint8_t **payload,
                              size_t *len, eg_result *stats, eg_error *err)
{
    const eg_frame_task *f = &t->f.u.task;
    size_t item = eg_dtype_size((eg_dtype)f->dtype);
    void *cx = NULL;
    const void *x = aligned(&t->part[1], item, &cx);
    zmq_msg_t *pp = &t->part[2];
    eg_status st = EG_OK;
    if (f->count && !x)
        st = eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    if (st == EG_OK)
        st = eg_qgrid_task_run(zmq_msg_data(pp), zmq_msg_size(pp), x,
                               f->count, (eg_dtype)f->dtype, payload, len,
                               err);
    if (st == EG_OK) {
        stats->bytes = f->count * item;
        stats->elements = f->count;
    }
    free(cx);
    return st;
}

/* An SQSEG task: each whole segment's quantile ops, run as the one-box
 * run runs them, into a malloc'ed payload of finished values (the I/O
 * thread checked the parameters against the frame). */
static eg_status reduce_sqseg(eg_worker_compute *w, eg_worker_task *t,
                              uint8_t **payload, size_t *len,
                              eg_result *stats, eg_error *err)
{
    const eg_frame_task *f = &t->f.u.task;
    size_t item = eg_dtype_size((eg_dtype)f->dtype);
    void *cx = NULL;
    const void *x = aligned(&t->part[1], item, &cx);
    zmq_msg_t *pp = &t->part[2];
    eg_status st = EG_OK;
    if (f->count && !x)
        st = eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    if (st == EG_OK)
        st = eg_sqgrid_task_run(w->engine, zmq_msg_data(pp),
                                zmq_msg_size(pp), x, f->count,
                                (eg_dtype)f->dtype, payload, len, err);
    if (st == EG_OK) {
        stats->bytes = f->count * item;
        stats->elements = f->count;
    }
    free(cx);
    return st;
}

/* A SEGS task: each segment's chunk into its own state (the I/O thread
 * checked the lengths against the data). */
static eg_status reduce_segs(eg_worker_task *t, const eg_reduce_opts *o,
                             eg_state **states, eg_result *stats,
                             eg_error *err)
{
    const eg_frame_task *f = &t->f.u.task;
    size_t item = eg_dtype_size((eg_dtype)f->dtype);
    zmq_msg_t *lp = &t->part[2 + f->has_y];
    uint64_t *lens = malloc((size_t)f->nseg * sizeof *lens);
    *states = malloc((size_t)f->nseg * sizeof **states);
    void *cx = NULL, *cy = NULL;
    const void *x = aligned(&t->part[1], item, &cx);
    const void *y = f->has_y ? aligned(&t->part[2], item, &cy) : NULL;
    eg_status st = EG_OK;
    if (!lens || !*states || (f->count && !x) || (f->has_y && f->count && !y))
        st = eg_error_set(err, EG_ENOMEM, "worker: out of memory");
    if (st == EG_OK)
        st = eg_frame_task_lens(f, zmq_msg_data(lp), zmq_msg_size(lp), lens,
                                err);
    if (st == EG_OK)
        st = eg_reduce_segments(x, y, lens, f->nseg, f->p0,
                                (eg_dtype)f->dtype, o, *states, err);
    if (st == EG_OK) {
        stats->bytes = f->count * item * (f->has_y ? 2 : 1);
        stats->elements = f->count;
    }
    free(lens);
    free(cx);
    free(cy);
    return st;
}

/* The shard a SHARD or SQUANT task names, opened below --shard-root. */
static eg_status open_shard(eg_worker_compute *w, const eg_frame_task *f,
                            eg_source **src, eg_error *err)
{
    *src = NULL;
    if (!w->o->shard_root)
        return eg_error_set(err, EG_ENOENT, "shard '%s': this worker has no "
                            "--shard-root", f->shard);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", w->o->shard_root,
                         f->shard) >= sizeof path)
        return eg_error_set(err, EG_EINPUT, "shard '%s': path too long",
                            f->shard);
    eg_input_opts in = {.raw = f->raw, .raw_dtype = (eg_dtype)f->dtype};
    return eg_source_open(src, path, &in, err);
}

/* An SQUANT task: the shard counted whole as the parameters say (the I/O
 * thread checked them for the task's dtype).  The shard must still be the
 * one the job's first round reduced: same dtype, same count, or the
 * rounds would count different data. */
static eg_status reduce_squant(eg_worker_compute *w, eg_worker_task *t,
                               uint8_t **payload, size_t *len,
                               eg_result *stats, eg_error *err)
{
    const eg_frame_task *f = &t->f.u.task;
    eg_source *src = NULL;
    eg_status st = open_shard(w, f, &src, err);
    const eg_array_info *a = st == EG_OK ? eg_source_info(src) : NULL;
    if (st == EG_OK && a->dtype != (eg_dtype)f->dtype)
        st = eg_error_set(err, EG_EINPUT, "shard '%s' holds %s data; the "
                          "job's shards hold %s", f->shard,
                          eg_dtype_numpy_name(a->dtype),
                          eg_dtype_numpy_name((eg_dtype)f->dtype));
    else if (st == EG_OK && a->count != f->count)
        st = eg_error_set(err, EG_EINPUT, "shard '%s' holds %llu elements; "
                          "the job's first round counted %llu", f->shard,
                          (unsigned long long)a->count,
                          (unsigned long long)f->count);
    if (st == EG_OK)
        st = eg_qgrid_task_run_source(zmq_msg_data(&t->part[1]),
                                      zmq_msg_size(&t->part[1]), src,
                                      payload, len, err);
    if (st == EG_OK) {
        stats->bytes = a->count * eg_dtype_size(a->dtype);
        stats->elements = a->count;
    }
    return eg_source_close_checked(&src, st, err);
}

static eg_status reduce_shard(eg_worker_compute *w, const eg_frame_task *f,
                              const eg_reduce_opts *o, eg_state *s,
                              eg_result *stats, eg_error *err)
{
    eg_source *src = NULL;
    eg_status st = open_shard(w, f, &src, err);
    if (st == EG_OK)
        st = eg_engine_reduce_range(w->engine, src, NULL, 0,
                                    eg_source_info(src)->count, o, s, stats,
                                    err);
    return eg_source_close_checked(&src, st, err);
}

/* Fault injection: whoever removes the file first fails its task once. */
static int inject_failure(const eg_worker_opts *o)
{
#ifdef EDGEGRID_TEST_HOOKS
    return o->fail_once_file && unlink(o->fail_once_file) == 0;
#else
    (void)o;
    return 0;
#endif
}

size_t eg_worker_out_cap(void)
{
    size_t cap = eg_frame_result_max();
    return cap > EG_FRAME_SMALL_MAX ? cap : EG_FRAME_SMALL_MAX;
}

size_t eg_worker_compute_run(eg_worker_compute *w, eg_worker_task *t,
                             uint8_t *out, size_t cap, eg_result *stats)
{
    const eg_frame_task *f = &t->f.u.task;
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = f->ops;
    o.mode = (eg_mode)f->mode;
    o.nan = (eg_nan_policy)f->nan;
    o.ddof = f->ddof;
    o.chunk_elems = f->chunk;
    eg_error err;
    eg_error_clear(&err);
    eg_state s;
    eg_state *segs = NULL;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    eg_status st;
    double t0 = eg_now();
#ifdef EDGEGRID_TEST_HOOKS
    if (w->o->die_on_task >= 0 && f->task == (uint64_t)w->o->die_on_task) {
        /* Fault injection: a crash while computing this task.  Dying a
         * little into it, as real crashes do, lets the previous task's
         * result leave first, so the coordinator blames the right task. */
        eg_sleep_ms(EG_DIE_DELAY_MS);
        raise(SIGKILL);
    }
#endif
    if (w->o->task_delay_ms)
        eg_sleep_ms(w->o->task_delay_ms);
    memset(stats, 0, sizeof *stats);
    if (inject_failure(w->o))
        st = eg_error_set(&err, EG_EIO, "injected failure (%s)",
                          w->o->fail_once_file);
    else if (f->kind == EG_TASK_SHARD)
        st = reduce_shard(w, f, &o, &s, stats, &err);
    else if (f->kind == EG_TASK_SEGS)
        st = reduce_segs(t, &o, &segs, stats, &err);
    else if (f->kind == EG_TASK_QUANT)
        st = reduce_quant(t, &payload, &payload_len, stats, &err);
    else if (f->kind == EG_TASK_SQUANT)
        st = reduce_squant(w, t, &payload, &payload_len, stats, &err);
    else if (f->kind == EG_TASK_SQSEG)
        st = reduce_sqseg(w, t, &payload, &payload_len, stats, &err);
    else
        st = reduce_inline(w, t, &o, &s, stats, &err);
    if (st != EG_OK) {
        free(segs);
        free(payload);
        eg_frame_fail fail = {.task = f->task, .attempt = f->attempt,
                              .status = st};
        /* Messages longer than a frame carries are cut, on purpose. */
        snprintf(fail.msg, sizeof fail.msg, "%.*s", EG_FAIL_MSG_MAX,
                 err.msg[0] ? err.msg : eg_strerror(st));
        return eg_frame_encode_fail(out, cap, t->f.job, &fail);
    }
    eg_frame_result r;
    memset(&r, 0, sizeof r);
    r.task = f->task;
    r.attempt = f->attempt;
    r.elements = s.n;
    r.bytes = stats->bytes;
    r.seconds = eg_now() - t0;
    snprintf(r.name, sizeof r.name, "%s", w->name);
    if (payload) {
        memset(&r.state, 0, sizeof r.state);
        r.elements = f->count;
        r.quant = payload;
        r.quant_len = payload_len;
    } else if (segs) {
        r.elements = f->count;
        r.state = segs[0];
        r.out_states = segs;
        r.out_n = f->nseg;
    } else {
        r.state = s;
    }
    size_t n = eg_frame_encode_result(out, cap, t->f.job, &r);
    free(segs);
    free(payload);
    return n;
}

static void *compute_main(void *arg)
{
    eg_worker_compute *w = arg;
    /* Signals are for the I/O thread, which decides how to leave. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    eg_result *stats = malloc(sizeof *stats);
    size_t cap = eg_worker_out_cap();
    uint8_t *out = malloc(cap);
    eg_worker_task t = {.nparts = 0};
    while (stats && out && receive(w, &t) == 0) {
        size_t n = eg_worker_compute_run(w, &t, out, cap, stats);
        eg_worker_task_close(&t);
        if (n == 0 || zmq_send(w->pair, out, n, 0) < 0)
            break;
    }
    eg_worker_task_close(&t);
    free(out);
    free(stats);
    return NULL;
}

eg_status eg_worker_compute_start(eg_worker_compute *w, void *zctx,
                                  void *main_pair, const char *addr,
                                  eg_error *err)
{
    if (zmq_bind(main_pair, addr) != 0)
        return eg_zmq_error(err, "zmq_bind", addr);
    w->pair = zmq_socket(zctx, ZMQ_PAIR);
    if (!w->pair)
        return eg_zmq_error(err, "zmq_socket", "PAIR");
    int zero = 0;
    zmq_setsockopt(w->pair, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(w->pair, addr) != 0)
        return eg_zmq_error(err, "zmq_connect", addr);
    if (pthread_create(&w->thread, NULL, compute_main, w) != 0)
        return eg_error_set(err, EG_ENOMEM, "worker: cannot start the "
                            "compute thread");
    w->started = 1;
    return EG_OK;
}

void eg_worker_compute_stop(eg_worker_compute *w, void *main_pair)
{
    if (w->started) {
        zmq_send(main_pair, "", 0, 0);
        pthread_join(w->thread, NULL);
        w->started = 0;
    }
    eg_zsock_close(&w->pair);
}
