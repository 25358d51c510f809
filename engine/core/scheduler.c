/* scheduler.c - the chunk queue.
 *
 * Every device thread takes the next chunk indices from one atomic counter
 * (one, or a few where a device's call has a fixed cost), so a fast device
 * takes more chunks than a slow one without any tuning.  Each
 * chunk's state lands in its own slot; the slots merge in chunk order at the
 * end, so for a fixed chunk size the bits do not depend on which device ran
 * which chunk.
 *
 * Devices may also join a job under way (eg_job.late: an engine still
 * discovering its OpenCL devices starts on the host at once): they take
 * chunks from the same counter, so the bits stay the same. */
#include "scheduler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "finisher.h"
#include "lanes.h"
#include "registry.h"

typedef struct worker worker;

/* Native-order views of chunk [start, start+n) of x and y. */
typedef struct chunk_bufs {
    void *xs, *ys;     /* where a file's elements are read, or swapped */
    void *px, *py;     /* the host's pieces (EG_PIECE_BYTES each) */
    uint64_t *words;
} chunk_bufs;

/* One call's records, waiting to become chunk states: chunks
 * [idx, idx + k), n elements, read from x and y. */
typedef struct call_done {
    chunk_bufs *b;
    uint64_t idx, k, n;
    const void *x, *y;
} call_done;

typedef struct shared {
    const eg_job *job;
    uint64_t chunk, nchunks;
    atomic_size_t nthreads;  /* threads taking chunks now */
    eg_state *states;
    atomic_uint_fast64_t next;
    atomic_uint_fast64_t done_elems;
    atomic_uint running;
    /* Host threads asked to stop taking chunks, one for each device that
     * joined late (see joiner_main); host_spare: how many more may be
     * asked (the last host thread never is), the joiner's alone. */
    atomic_uint retire;
    unsigned host_spare;
    long host_delay_ms; /* test builds: see test_host_delay */
    pthread_mutex_t notes_lock;
    char *notes;
    size_t notes_len;
    /* The first input that could not be read (a file that changed under
     * the job): every thread stops taking chunks, the job fails with it. */
    atomic_int stop;
    eg_status input_st;       /* under notes_lock */
    eg_error input_err;
} shared;

struct worker {
    shared *sh;
    eg_device *dev;
    size_t dev_slot;
    pthread_t thread;
    int started;
    /* Results of this thread, summed per device after the join. */
    uint64_t elements, chunks, calls;
    double seconds;
    eg_status failure;
    /* Accelerators: chunk states are built by a finisher thread
     * (finisher.h) from one set while the device fills the other. */
    int split;
    eg_finisher fin;
    chunk_bufs bufs[EG_FINISH_SETS];
    call_done pending[EG_FINISH_SETS];
};

/* Bytes of input a host thread reads and reduces at a time when the input
 * is read from a file (pread) or swapped: the piece lands in a buffer that
 * stays in the core's L2 cache, and the lanes read it from there.  A piece
 * the size of a whole chunk would go out to memory and come back. */
#define EG_PIECE_BYTES ((size_t)256 << 10)

/* A buffer the input is read (or swapped) into, page-aligned: glibc's
 * malloc puts buffers of this size 16 bytes past a page, where every
 * 64-byte load of the lanes straddles two cache lines.  Measured with
 * `lanes_probe f64 minmax 300 16` against offset 0 (one core, L2): fast
 * f64 min/max 119 -> 76 GB/s, exact f32 min/max 56 -> 41. */
static void *page_alloc(size_t bytes)
{
    const size_t page = 4096;
    return aligned_alloc(page, (bytes + page - 1) / page * page);
}

static eg_status bufs_alloc(chunk_bufs *b, const eg_job *job, uint64_t chunk,
                            eg_error *err)
{
    size_t sz = eg_dtype_size(eg_source_info(job->x)->dtype);
    int bx = eg_source_needs_buffer(job->x);
    int by = job->y && eg_source_needs_buffer(job->y);
    memset(b, 0, sizeof *b);
    b->words = malloc(eg_lane_count(chunk) * eg_lane_words(job->groups) *
                      sizeof *b->words);
    if (bx) {
        b->xs = page_alloc(chunk * sz);
        b->px = page_alloc(EG_PIECE_BYTES);
    }
    if (by) {
        b->ys = page_alloc(chunk * sz);
        b->py = page_alloc(EG_PIECE_BYTES);
    }
    if (!b->words || (bx && (!b->xs || !b->px)) ||
        (by && (!b->ys || !b->py)))
        return eg_error_set(err, EG_ENOMEM, "chunk buffers: out of memory");
    return EG_OK;
}

static void bufs_free(chunk_bufs *b)
{
    free(b->xs);
    free(b->ys);
    free(b->px);
    free(b->py);
    free(b->words);
}

/* Records why the input could not be read (the first reason wins) and
 * stops the job. */
static void input_failed(shared *sh, const eg_error *err)
{
    pthread_mutex_lock(&sh->notes_lock);
    if (sh->input_st == EG_OK) {
        sh->input_st = err->code != EG_OK ? err->code : EG_EIO;
        sh->input_err = *err;
    }
    pthread_mutex_unlock(&sh->notes_lock);
    atomic_store(&sh->stop, 1);
}

/* Whether eg_chunk_state will read the elements of any of these lane
 * records: it does for a record the fast path could not fill (a
 * non-finite value, an extreme magnitude), and only then. */
static int records_need_input(const uint64_t *words, uint64_t lanes,
                              eg_dtype dt, unsigned groups)
{
    uint64_t nw = eg_lane_words(groups);
    for (uint64_t l = 0; l < lanes; l++) {
        const uint64_t *w = words + l * nw;
        eg_lane lane;
        if ((groups & EG_G_EXACT) ? (w[EG_X_FLAGS] & EG_LANE_NEEDS_CAREFUL) != 0
                                  : !eg_lane_decode(w, dt, groups, &lane))
            return 1;
    }
    return 0;
}

/* The host lanes over a range read from its file (or swapped) piece by
 * piece, each piece reduced right after it is read, from a buffer that
 * stays in L2.  The records are those of one call over the whole range: a
 * lane's record depends on its own elements only, and its indices move
 * from the piece's first element to the range's.  A piece whose records
 * eg_chunk_state must redo from the elements is also copied to its place
 * in the chunk buffers, which *x and *y then name. */
static eg_status host_pieces(const eg_job *job, chunk_bufs *b, uint64_t first,
                             uint64_t n, const void **x, const void **y,
                             eg_error *err)
{
    eg_dtype dt = eg_source_info(job->x)->dtype;
    size_t sz = eg_dtype_size(dt);
    uint64_t piece = EG_PIECE_BYTES / sz;
    piece -= piece % EG_LANE_ELEMS;
    if (piece == 0)
        piece = EG_LANE_ELEMS;
    uint64_t nw = eg_lane_words(job->groups);
    eg_status st = EG_OK;
    *x = b->xs;
    *y = NULL;
    if (job->y && !b->ys)
        st = eg_source_get(job->y, first, n, NULL, y, err);  /* in memory */
    else if (job->y)
        *y = b->ys;
    for (uint64_t at = 0; at < n && st == EG_OK; at += piece) {
        uint64_t m = n - at < piece ? n - at : piece;
        const void *xp = NULL, *yp = NULL;
        st = eg_source_get_part(job->x, first + at, m, b->px, &xp, err);
        if (st == EG_OK && job->y && b->ys)
            st = eg_source_get_part(job->y, first + at, m, b->py, &yp, err);
        else if (job->y)
            yp = (const char *)*y + at * sz;
        if (st != EG_OK)
            break;
        uint64_t *wp = b->words + (at / EG_LANE_ELEMS) * nw;
        eg_lanes_any(xp, yp, m, dt, job->groups, wp);
        if (records_need_input(wp, eg_lane_count(m), dt, job->groups)) {
            memcpy((char *)b->xs + at * sz, xp, m * sz);
            if (job->y && b->ys)
                memcpy((char *)b->ys + at * sz, yp, m * sz);
        }
        /* eg_lanes_rebase subtracts; (0 - at) mod 2^64 adds at */
        eg_lanes_rebase(wp, eg_lane_count(m), job->groups, (uint64_t)0 - at);
    }
    if (st == EG_OK)
        st = eg_source_check(job->x, first + n, err);
    if (st == EG_OK && job->y)
        st = eg_source_check(job->y, first + n, err);
    return st;
}

/* Test builds: EDGEGRID_TEST_HOST_DELAY_MS makes every call of the host
 * backend that long, so that a test knows devices joining a job find
 * chunks left (tests/test_overlap.c).  Read once per job. */
static long test_host_delay(void)
{
#ifdef EDGEGRID_TEST_HOOKS
    const char *v = getenv("EDGEGRID_TEST_HOST_DELAY_MS");
    return v && *v ? strtol(v, NULL, 10) : 0;
#else
    return 0;
#endif
}

static void host_delay(const worker *w)
{
    long ms = w->sh->host_delay_ms;
    if (ms <= 0 || w->dev->info.kind != EG_DEV_HOST)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Reduces chunks [idx, idx + k) in one call on the worker's device, or on
 * the host path once the device has failed, into the lane records of b;
 * *out says what finish_call must turn into chunk states.  Returns 0 when
 * the input could not be read (the job stops). */
static int run_chunks(worker *w, chunk_bufs *b, uint64_t idx, uint64_t k,
                      call_done *out)
{
    shared *sh = w->sh;
    const eg_job *job = sh->job;
    eg_dtype dt = eg_source_info(job->x)->dtype;
    uint64_t off = idx * sh->chunk;
    uint64_t n =
        job->count - off < k * sh->chunk ? job->count - off : k * sh->chunk;
    double t0 = eg_now();
    host_delay(w);
    const void *x = NULL, *y = NULL;
    eg_error rerr;
    eg_error_clear(&rerr);
    /* The host backend reads a file in pieces as it reduces them; other
     * devices get the whole call's range at once. */
    int pieces = w->dev->info.kind == EG_DEV_HOST && w->failure == EG_OK &&
                 b->xs != NULL;
    eg_status rst;
    if (pieces) {
        rst = host_pieces(job, b, job->first + off, n, &x, &y, &rerr);
    } else {
        rst = eg_source_get(job->x, job->first + off, n, b->xs, &x, &rerr);
        if (rst == EG_OK && job->y)
            rst = eg_source_get(job->y, job->first + off, n, b->ys, &y,
                                &rerr);
    }
    if (rst != EG_OK) {
        input_failed(sh, &rerr);
        return 0;
    }
    if (w->failure == EG_OK && !pieces) {
        eg_error err;
        eg_error_clear(&err);
        eg_status st = w->dev->ops->reduce_chunk(w->dev, x, y, n, dt,
                                                 job->groups, b->words, &err);
        if (st != EG_OK) {
            w->failure = st;
            pthread_mutex_lock(&sh->notes_lock);
            eg_notes_append(sh->notes, sh->notes_len,
                            "device %u failed (%s); its chunks moved to the "
                            "host path",
                            w->dev->info.index, err.msg);
            pthread_mutex_unlock(&sh->notes_lock);
        }
    }
    if (w->failure != EG_OK)
        eg_lanes_any(x, y, n, dt, job->groups, b->words);
    w->seconds += eg_now() - t0;
    w->calls++;
    *out = (call_done){.b = b, .idx = idx, .k = k, .n = n, .x = x, .y = y};
    return 1;
}

/* Chunk states from the records of one call: each chunk's state from its
 * own lane records (and its elements where a record needs them), in its
 * own slot. */
static void finish_call(worker *w, const call_done *c)
{
    shared *sh = w->sh;
    const eg_job *job = sh->job;
    eg_dtype dt = eg_source_info(job->x)->dtype;
    size_t sz = eg_dtype_size(dt);
    chunk_bufs *b = c->b;
    uint64_t idx = c->idx, k = c->k, n = c->n;
    uint64_t off = idx * sh->chunk;
    const void *x = c->x, *y = c->y;
    uint64_t chunk_words =
        eg_lane_count(sh->chunk) * eg_lane_words(job->groups);
    for (uint64_t j = 0; j < k; j++) {
        uint64_t at = j * sh->chunk;
        uint64_t nj = n - at < sh->chunk ? n - at : sh->chunk;
        eg_lanes_rebase(b->words + j * chunk_words, eg_lane_count(nj),
                        job->groups, at);
        eg_chunk_state_any(
            b->words + j * chunk_words, (const char *)x + at * sz,
            y ? (const char *)y + at * sz : NULL, nj, job->first + off + at, dt,
            job->groups, &sh->states[idx + j]);
    }
    w->elements += n;
    w->chunks += k;
    atomic_fetch_add(&sh->done_elems, n);
}

static void finish_set(void *arg, unsigned set)
{
    worker *w = arg;
    finish_call(w, &w->pending[set]);
}

/* Elements one call takes at most: batching is for small chunks, whose
 * calls' fixed cost counts; large ones would only multiply the buffers. */
#define EG_CALL_MAX_ELEMS (8 * (uint64_t)EG_DEFAULT_CHUNK_ELEMS)

/* The most chunks one call of the worker's device takes (>= 1). */
static uint64_t chunks_per_call(const worker *w)
{
    uint64_t per = w->dev->chunks_per_call ? w->dev->chunks_per_call : 1;
    uint64_t fit = EG_CALL_MAX_ELEMS / w->sh->chunk;
    if (per > fit)
        per = fit ? fit : 1;
    return per;
}

/* How many chunks the worker takes next: chunks_per_call, but near the
 * end at most its share of what is left, so that no device sits idle while
 * another finishes a long call. */
static uint64_t chunks_to_take(const worker *w)
{
    shared *sh = w->sh;
    uint64_t per = chunks_per_call(w);
    uint64_t taken = atomic_load(&sh->next);
    uint64_t left = taken < sh->nchunks ? sh->nchunks - taken : 0;
    size_t threads = atomic_load(&sh->nthreads);
    uint64_t share = left / (threads ? threads : 1);
    if (share < per)
        per = share ? share : 1;
    return per;
}

/* Whether a host thread is to stop taking chunks, leaving its core to the
 * feeder of a device that joined the job; counts it out if so. */
static int host_retires(worker *w)
{
    shared *sh = w->sh;
    if (w->dev->info.kind != EG_DEV_HOST)
        return 0;
    unsigned r = atomic_load(&sh->retire);
    while (r > 0)
        if (atomic_compare_exchange_weak(&sh->retire, &r, r - 1)) {
            atomic_fetch_sub(&sh->nthreads, 1);
            return 1;
        }
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    eg_error err;
    uint64_t cap = chunks_per_call(w) * sh->chunk;
    /* The host's own threads build their states themselves: they have no
     * device to keep busy.  Without a second thread or set, one thread. */
    w->split = w->dev->info.kind != EG_DEV_HOST &&
               bufs_alloc(&w->bufs[1], sh->job, cap, &err) == EG_OK &&
               eg_finisher_start(&w->fin, finish_set, w, &err) == EG_OK;
    if (bufs_alloc(&w->bufs[0], sh->job, cap, &err) == EG_OK) {
        unsigned set = 0;
        while (!atomic_load(&sh->stop) && !host_retires(w)) {
            uint64_t k = chunks_to_take(w);
            uint64_t idx = atomic_fetch_add(&sh->next, k);
            if (idx >= sh->nchunks)
                break;
            if (k > sh->nchunks - idx)
                k = sh->nchunks - idx;
            if (w->split)
                eg_finisher_wait(&w->fin, set);
            if (!run_chunks(w, &w->bufs[set], idx, k, &w->pending[set]))
                break;
            if (w->split) {
                eg_finisher_post(&w->fin, set);
                set = (set + 1) % EG_FINISH_SETS;
            } else {
                finish_call(w, &w->pending[set]);
            }
        }
    } else {
        w->failure = EG_ENOMEM;
    }
    if (w->split)
        eg_finisher_stop(&w->fin);
    bufs_free(&w->bufs[0]);
    bufs_free(&w->bufs[1]);
    atomic_fetch_sub(&sh->running, 1);
    return NULL;
}

static size_t thread_count(const eg_job *job)
{
    size_t t = 0;
    for (size_t i = 0; i < job->ndev; i++)
        t += job->devs[i]->threads ? job->devs[i]->threads : 1;
    return t;
}

static void report_progress(shared *sh)
{
    const eg_reduce_opts *o = sh->job->opts;
    if (!o || !o->progress || !o->progress_fn)
        return;
    while (atomic_load(&sh->running) > 0) {
        o->progress_fn(o->progress_ctx, atomic_load(&sh->done_elems),
                       sh->job->count);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    o->progress_fn(o->progress_ctx, atomic_load(&sh->done_elems),
                   sh->job->count);
}

static eg_status start_workers(shared *sh, worker *ws, size_t nthreads,
                               eg_error *err)
{
    const eg_job *job = sh->job;
    size_t t = 0;
    for (size_t d = 0; d < job->ndev; d++) {
        unsigned per = job->devs[d]->threads ? job->devs[d]->threads : 1;
        for (unsigned k = 0; k < per && t < nthreads; k++, t++) {
            ws[t].sh = sh;
            ws[t].dev = job->devs[d];
            ws[t].dev_slot = d;
        }
    }
    atomic_store(&sh->running, (unsigned)nthreads);
    for (t = 0; t < nthreads; t++) {
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            /* The threads already running drain the queue on their own. */
            atomic_fetch_sub(&sh->running, (unsigned)(nthreads - t));
            if (t == 0)
                return eg_error_set(err, EG_ENOMEM, "cannot start a thread");
            break;
        }
        ws[t].started = 1;
    }
    return EG_OK;
}

/* The thread that waits for job->late's devices and starts their threads
 * while chunks are left. */
typedef struct joiner {
    shared *sh;
    pthread_t thread;
    int started;
    eg_device *devs[EG_MAX_DEVICES];
    size_t cap, n;
    worker *ws;
    size_t nws;
    double done_at; /* when its threads were done (with nws > 0) */
} joiner;

static int chunks_left(void *arg)
{
    shared *sh = arg;
    return !atomic_load(&sh->stop) && atomic_load(&sh->next) < sh->nchunks;
}

/* share_cores (registry.c) gives the host backend a core less for each
 * other device, whose feeding thread needs one.  A job starts before the
 * others are known, so the host starts with every core, and each device
 * that joins takes one back: one host thread stops taking chunks when the
 * device's first thread starts (never the last host thread).  The engine
 * then keeps share_cores' split for its later jobs. */
static void *joiner_main(void *arg)
{
    joiner *j = arg;
    shared *sh = j->sh;
    eg_late_devs *late = sh->job->late;
    j->n = late->wait(late->ctx, chunks_left, sh, j->devs, j->cap);
    size_t want = 0;
    for (size_t d = 0; d < j->n; d++)
        want += j->devs[d]->threads ? j->devs[d]->threads : 1;
    if (want > 0 && chunks_left(sh))
        j->ws = calloc(want, sizeof *j->ws);
    for (size_t d = 0; j->ws && d < j->n; d++) {
        eg_device *dev = j->devs[d];
        unsigned per = dev->threads ? dev->threads : 1;
        dev->launch_global = dev->launch_local = 0;
        for (unsigned k = 0; k < per && chunks_left(sh); k++) {
            worker *w = &j->ws[j->nws];
            w->sh = sh;
            w->dev = dev;
            w->dev_slot = sh->job->ndev + d;
            atomic_fetch_add(&sh->running, 1);
            atomic_fetch_add(&sh->nthreads, 1);
            if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
                atomic_fetch_sub(&sh->running, 1);
                atomic_fetch_sub(&sh->nthreads, 1);
                break;
            }
            w->started = 1;
            j->nws++;
            if (k == 0 && sh->host_spare > 0) {
                sh->host_spare--;
                atomic_fetch_add(&sh->retire, 1);
            }
        }
    }
    for (size_t t = 0; t < j->nws; t++)
        pthread_join(j->ws[t].thread, NULL);
    j->done_at = eg_now();
    atomic_fetch_sub(&sh->running, 1);
    return NULL;
}

static void start_joiner(shared *sh, joiner *j, const worker *ws,
                         size_t nthreads)
{
    const eg_job *job = sh->job;
    j->sh = sh;
    j->cap = EG_MAX_DEVICES - job->ndev;
    for (size_t t = 0; t < nthreads; t++)
        if (ws[t].started && ws[t].dev->info.kind == EG_DEV_HOST)
            sh->host_spare++;
    if (sh->host_spare > 0)
        sh->host_spare--;
    atomic_fetch_add(&sh->running, 1);
    if (pthread_create(&j->thread, NULL, joiner_main, j) != 0) {
        atomic_fetch_sub(&sh->running, 1);
        return;
    }
    j->started = 1;
}

/* Joins the joiner; the late devices' stats follow the job's. */
static void finish_joiner(joiner *j, eg_device_stats *stats)
{
    const eg_job *job = j->sh->job;
    job->late->done_at = eg_now();
    if (!j->started)
        return;
    pthread_join(j->thread, NULL);
    if (j->nws > 0 && j->done_at > job->late->done_at)
        job->late->done_at = j->done_at;
    job->late->n_joined = j->n;
    for (size_t d = 0; d < j->n; d++) {
        eg_device_stats *s = &stats[job->ndev + d];
        memset(s, 0, sizeof *s);
        s->index = j->devs[d]->info.index;
        memcpy(s->name, j->devs[d]->info.name, EG_NAME_MAX);
        if (j->ws) {
            s->launch_global = j->devs[d]->launch_global;
            s->launch_local = j->devs[d]->launch_local;
        }
    }
    for (size_t t = 0; t < j->nws; t++) {
        eg_device_stats *s = &stats[j->ws[t].dev_slot];
        s->elements += j->ws[t].elements;
        s->chunks += j->ws[t].chunks;
        s->calls += j->ws[t].calls;
        s->seconds += j->ws[t].seconds;
    }
    free(j->ws);
}

eg_status eg_schedule(const eg_job *job, eg_state *total,
                      eg_device_stats *stats, char *notes, size_t notes_len,
                      eg_error *err)
{
    shared sh = {.job = job, .notes = notes, .notes_len = notes_len};
    eg_dtype dt = eg_source_info(job->x)->dtype;
    sh.chunk = job->chunk_elems ? job->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    if (sh.chunk % EG_LANE_ELEMS)
        return eg_error_set(err, EG_EUSAGE,
                            "chunk size %llu is not a multiple of %u elements",
                            (unsigned long long)sh.chunk, EG_LANE_ELEMS);
    sh.nchunks = (job->count + sh.chunk - 1) / sh.chunk;
    eg_state_init(total, dt, job->groups);
    if (job->late) {
        job->late->n_joined = 0;
        job->late->done_at = eg_now();
    }
    for (size_t d = 0; d < job->ndev; d++) {
        memset(&stats[d], 0, sizeof stats[d]);
        stats[d].index = job->devs[d]->info.index;
        memcpy(stats[d].name, job->devs[d]->info.name, EG_NAME_MAX);
        /* The launch of this job only, not of an earlier one. */
        job->devs[d]->launch_global = job->devs[d]->launch_local = 0;
    }
    if (sh.nchunks == 0)
        return EG_OK;

    size_t nthreads = thread_count(job);
    if (nthreads > sh.nchunks)
        nthreads = (size_t)sh.nchunks;
    atomic_init(&sh.nthreads, nthreads);
    sh.states = malloc(sh.nchunks * sizeof *sh.states);
    worker *ws = calloc(nthreads, sizeof *ws);
    if (!sh.states || !ws) {
        free(sh.states);
        free(ws);
        return eg_error_set(err, EG_ENOMEM, "scheduler: out of memory");
    }
    pthread_mutex_init(&sh.notes_lock, NULL);
    atomic_init(&sh.next, 0);
    atomic_init(&sh.done_elems, 0);
    atomic_init(&sh.running, 0);
    atomic_init(&sh.stop, 0);
    atomic_init(&sh.retire, 0);
    sh.host_delay_ms = test_host_delay();
    joiner late = {0};
    eg_status st = start_workers(&sh, ws, nthreads, err);
    if (st == EG_OK && job->late)
        start_joiner(&sh, &late, ws, nthreads);
    if (st == EG_OK)
        report_progress(&sh);
    for (size_t t = 0; t < nthreads; t++) {
        if (!ws[t].started)
            continue;
        pthread_join(ws[t].thread, NULL);
        stats[ws[t].dev_slot].elements += ws[t].elements;
        stats[ws[t].dev_slot].chunks += ws[t].chunks;
        stats[ws[t].dev_slot].calls += ws[t].calls;
        stats[ws[t].dev_slot].seconds += ws[t].seconds;
    }
    if (job->late)
        finish_joiner(&late, stats);
    if (st == EG_OK && sh.input_st != EG_OK) {
        st = sh.input_st;
        *err = sh.input_err;
    }
    for (size_t d = 0; d < job->ndev; d++) {
        stats[d].launch_global = job->devs[d]->launch_global;
        stats[d].launch_local = job->devs[d]->launch_local;
    }
    /* Every chunk taken is finished; untaken ones mean every thread lacked
     * its buffers. */
    if (st == EG_OK && atomic_load(&sh.next) < sh.nchunks)
        st = eg_error_set(err, EG_ENOMEM, "scheduler: no memory for chunk "
                                          "buffers");
    if (st == EG_OK)
        for (uint64_t i = 0; i < sh.nchunks; i++)
            eg_state_merge(total, &sh.states[i]);
    pthread_mutex_destroy(&sh.notes_lock);
    free(sh.states);
    free(ws);
    return st;
}
