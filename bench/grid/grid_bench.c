/* grid_bench.c - the grid's benchmark, on loopback, in one run:
 *
 *   1. no-op tasks per second through the coordinator (empty tasks, so only
 *      dispatch, credit, validation and the ledger are timed);
 *   2. time from a worker's kill -9 (and from a SIGSTOP, found by heartbeat
 *      silence) to its task going out again;
 *   3. inline-data throughput against raw ZeroMQ PUSH/PULL throughput with
 *      the same messages (the same file bytes, the same message size, sent
 *      zero-copy to as many receiver processes as there are workers); the
 *      grid reduces a plain sum there, so the data plane is what is timed,
 *      and once more with the default ops;
 *   4. shard-mode throughput (the file cut into raw shards that the workers
 *      read themselves) against a one-box `reduce` of the whole file.
 *
 * With --curve it measures instead what CURVE costs: the no-op rate, the
 * inline and the shard throughput on plain TCP and on CURVE (throw-away
 * keys, the coordinator's ZAP handler and allow-list as in production),
 * the two interleaved trial by trial in the same run.
 *
 * The coordinator runs in this process (the cluster library), so its events
 * are timed without parsing logs; workers are `edgegrid worker` processes.
 * Every figure of a run comes from the same data on the same box; report
 * ratios, not absolute speeds (see bench/README.md, "Grid").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "edgegrid.h"
#include "grid.h"
#include "engine_grid.h"

#ifndef GRID_BENCH_EDGEGRID
#define GRID_BENCH_EDGEGRID "edgegrid"
#endif

#define MAX_WORKERS 16

typedef struct bench_opts {
    const char *edgegrid, *devices, *dir;
    unsigned workers, trials;
    uint64_t size_mib, task_mib, noop;
    int json;
    int curve_cost;               /* --curve: measure CURVE against plain */
    int curve;                    /* this run's jobs use CURVE */
    const eg_curve_local *keys;   /* their keys */
} bench_opts;

static void die(const char *what, const eg_error *err)
{
    fprintf(stderr, "grid_bench: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* Elements [first, +n) of s in native order; *buf, if set, is freed by the
 * caller. */
static const void *elements_of(const eg_source *s, uint64_t first, uint64_t n,
                               void **buf)
{
    eg_error err;
    const void *p = NULL;
    size_t size = eg_dtype_size(eg_source_info(s)->dtype);
    *buf = eg_source_needs_buffer(s) ? malloc(n * size + 1) : NULL;
    if (eg_source_needs_buffer(s) && !*buf)
        die("reading the data", NULL);
    if (eg_source_get(s, first, n, *buf, &p, &err) != EG_OK)
        die("reading the data", &err);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ------------------------------------------------------------- workers */

typedef struct workers {
    pid_t pid[MAX_WORKERS];
    char name[MAX_WORKERS][32];
    unsigned n;
} workers;

/* Starts n `edgegrid worker` processes on the coordinator's endpoints;
 * each dies with this process. */
static void start_workers(workers *w, const bench_opts *o, eg_coord *c,
                          unsigned n, const char *extra1,
                          const char *extra2)
{
    pid_t parent = getpid();
    for (unsigned k = 0; k < n; k++) {
        snprintf(w->name[w->n], sizeof w->name[0], "bench-%u", w->n + 1);
        char *argv[24];
        char secret[600], server[600];
        int i = 0;
        argv[i++] = "edgegrid";
        argv[i++] = "worker";
        argv[i++] = "--tasks";
        argv[i++] = (char *)eg_coord_tasks_endpoint(c);
        argv[i++] = "--results";
        argv[i++] = (char *)eg_coord_results_endpoint(c);
        argv[i++] = "--devices";
        argv[i++] = (char *)o->devices;
        argv[i++] = "--name";
        argv[i++] = w->name[w->n];
        if (extra1) {
            argv[i++] = (char *)extra1;
            argv[i++] = (char *)extra2;
        }
        if (o->curve) {
            eg_curve_local_path(o->keys, NULL, w->n + 1, secret,
                                sizeof secret);
            eg_curve_local_path(o->keys, "server.pub", 0, server,
                                sizeof server);
            argv[i++] = "--curve-secret";
            argv[i++] = secret;
            argv[i++] = "--server-key";
            argv[i++] = server;
        }
        argv[i] = NULL;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("grid_bench: fork");
            exit(1);
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            int null = open("/dev/null", O_RDWR);
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            execv(o->edgegrid, argv);
            fprintf(stderr, "grid_bench: cannot run %s: %s\n", o->edgegrid,
                    strerror(errno));
            _exit(127);
        }
        w->pid[w->n++] = pid;
    }
}

static void stop_workers(workers *w)
{
    for (unsigned k = 0; k < w->n; k++)
        kill(w->pid[k], SIGKILL);
    for (unsigned k = 0; k < w->n; k++)
        waitpid(w->pid[k], NULL, 0);
    w->n = 0;
}

/* One job on a fresh coordinator and fresh workers; returns its stats. */
static eg_status run_job(const bench_opts *o, eg_coord_opts *co,
                         unsigned nworkers, const char *x1, const char *x2,
                         eg_grid_stats *stats, eg_error *err)
{
    eg_coord *c = NULL;
    workers w = {.n = 0};
    eg_result res;
    co->tasks_endpoint = "tcp://127.0.0.1:*";
    co->results_endpoint = "tcp://127.0.0.1:*";
    co->min_workers = nworkers;
    if (co->timeout_s == 0)
        co->timeout_s = 300;
    char secret[600], allow[600];
    if (o->curve) {
        eg_curve_local_path(o->keys, "server.secret", 0, secret,
                            sizeof secret);
        eg_curve_local_path(o->keys, "allow", 0, allow, sizeof allow);
        co->curve_secret = secret;
        co->allow_dir = allow;
    }
    eg_status st = eg_coord_open(&c, co, err);
    if (st != EG_OK)
        return st;
    start_workers(&w, o, c, nworkers, x1, x2);
    memset(stats, 0, sizeof *stats);
    st = eg_coord_run(c, &res, stats, err);
    stop_workers(&w);
    eg_coord_close(&c);
    return st;
}

/* --------------------------------------------------------- 1. no-ops */

static double noop_rate(const bench_opts *o, const char *credit)
{
    eg_coord_opts co;
    memset(&co, 0, sizeof co);
    eg_reduce_opts_init(&co.reduce);
    co.reduce.ops = EG_OPS_BIT(EG_OP_COUNT);
    co.noop_tasks = o->noop;
    eg_grid_stats st;
    eg_error err;
    if (run_job(o, &co, o->workers, "--credit", credit, &st, &err) != EG_OK)
        die("no-op job", &err);
    double rate = st.tasks_per_s;
    eg_grid_stats_free(&st);
    return rate;
}

/* ------------------------------------------------- 2. kill to redispatch */

typedef struct kill_trial {
    workers *w;
    int sig;
    double start, t_kill, t_lost, t_again;
    char victim[32];
} kill_trial;

static void kill_events(void *ctx, const eg_coord_event *ev)
{
    kill_trial *k = ctx;
    if (k->t_kill == 0)
        return;
    if (ev->kind == EG_EV_LOST && strcmp(ev->worker, k->victim) == 0 &&
        k->t_lost == 0)
        k->t_lost = ev->t;
    if (ev->kind == EG_EV_DISPATCH && ev->attempt > 1 && k->t_lost > 0 &&
        k->t_again == 0)
        k->t_again = ev->t;
}

/* Called by the coordinator every ~100 ms: kills the victim once the job
 * has run a while, ends the job once its task went out again. */
static int kill_tick(void *ctx, char *why, size_t len)
{
    kill_trial *k = ctx;
    double now = eg_now();
    if (k->start == 0)
        k->start = now;
    if (k->t_kill == 0 && now - k->start > 0.4 && k->w->n > 0) {
        snprintf(k->victim, sizeof k->victim, "%s", k->w->name[0]);
        k->t_kill = eg_now();
        kill(k->w->pid[0], k->sig);
    }
    if (k->t_again > 0 || (k->t_kill > 0 && now - k->t_kill > 20)) {
        snprintf(why, len, "measured");
        return 1;
    }
    return 0;
}

static void kill_latency(const bench_opts *o, int sig, double *lost,
                         double *again)
{
    eg_coord_opts co;
    memset(&co, 0, sizeof co);
    eg_reduce_opts_init(&co.reduce);
    co.reduce.ops = EG_OPS_BIT(EG_OP_COUNT);
    co.noop_tasks = 1000000;  /* longer than the trial */
    co.tasks_endpoint = co.results_endpoint = "tcp://127.0.0.1:*";
    co.min_workers = 2;
    co.timeout_s = 60;
    workers w = {.n = 0};
    kill_trial k;
    memset(&k, 0, sizeof k);
    k.w = &w;
    k.sig = sig;
    co.event_fn = kill_events;
    co.event_ctx = &k;
    co.stop_fn = kill_tick;
    co.stop_ctx = &k;
    eg_coord *c = NULL;
    eg_error err;
    eg_result res;
    eg_grid_stats st;
    memset(&st, 0, sizeof st);
    if (eg_coord_open(&c, &co, &err) != EG_OK)
        die("kill trial", &err);
    /* Tasks that take a while, so the victim always holds some. */
    start_workers(&w, o, c, 2, "--task-delay-ms", "20");
    eg_coord_run(c, &res, &st, &err);  /* ends with "measured" */
    for (unsigned i = 0; i < w.n; i++)
        kill(w.pid[i], SIGCONT);
    stop_workers(&w);
    eg_coord_close(&c);
    eg_grid_stats_free(&st);
    *lost = k.t_lost > 0 ? k.t_lost - k.t_kill : NAN;
    *again = k.t_again > 0 ? k.t_again - k.t_kill : NAN;
}

/* --------------------------------------------- 3. raw ZeroMQ PUSH/PULL */

/* `grid_bench --raw-receiver DATA ACK`: a receiving process like a worker,
 * minus the work.  It acknowledges every message with its size, so the
 * sender knows when all bytes are in; an empty "hello" says it is up. */
static int raw_receiver(const char *data_ep, const char *ack_ep)
{
    /* The same allocator tuning as `edgegrid worker`, so both sides keep
     * their buffers between messages (a fair baseline). */
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
    void *ctx = zmq_ctx_new();
    void *in = zmq_socket(ctx, ZMQ_PULL), *ack = zmq_socket(ctx, ZMQ_PUSH);
    zmq_connect(in, data_ep);
    zmq_connect(ack, ack_ep);
    uint64_t size = 0;
    zmq_send(ack, &size, sizeof size, 0);
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, in, 0) < 0)
            break;
        size = zmq_msg_size(&m);
        zmq_msg_close(&m);
        zmq_send(ack, &size, sizeof size, 0);
    }
    return 0;
}

/* Sends `bytes` of `data` in messages of `msg` bytes, zero-copy, to `nrx`
 * receiver processes; GB/s from the first send to the last byte in. */
static double raw_zmq_gbps(const bench_opts *o, const uint8_t *data,
                           uint64_t bytes, uint64_t msg, unsigned nrx)
{
    (void)o;
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *acks = zmq_socket(ctx, ZMQ_PULL);
    int zero = 0, hwm = 2;  /* per receiver: the default credit */
    zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(acks, ZMQ_LINGER, &zero, sizeof zero);
    zmq_bind(push, "tcp://127.0.0.1:*");
    zmq_bind(acks, "tcp://127.0.0.1:*");
    char ep[256], ack_ep[256];
    size_t n = sizeof ep;
    zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, ep, &n);
    n = sizeof ack_ep;
    zmq_getsockopt(acks, ZMQ_LAST_ENDPOINT, ack_ep, &n);
    pid_t pid[MAX_WORKERS];
    pid_t parent = getpid();
    for (unsigned i = 0; i < nrx; i++) {
        fflush(NULL);
        pid[i] = fork();
        if (pid[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            char *argv[] = {"grid_bench", "--raw-receiver", ep, ack_ep, NULL};
            execv("/proc/self/exe", argv);
            _exit(127);
        }
    }
    uint64_t size, got = 0;
    for (unsigned i = 0; i < nrx; i++)
        zmq_recv(acks, &size, sizeof size, 0);  /* hellos */
    /* Give every data connection time to finish its handshake, so PUSH
     * spreads over all receivers. */
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    double t0 = eg_now();
    uint64_t sent = 0;
    while (got < bytes) {
        /* Send while the socket takes more, then collect acks. */
        while (sent < bytes) {
            uint64_t len = bytes - sent < msg ? bytes - sent : msg;
            zmq_msg_t m;
            zmq_msg_init_data(&m, (void *)(data + sent), len, NULL, NULL);
            if (zmq_msg_send(&m, push, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            sent += len;
        }
        zmq_pollitem_t it = {acks, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, sent < bytes ? 1 : 100) > 0)
            while (zmq_recv(acks, &size, sizeof size, ZMQ_DONTWAIT) >= 0)
                got += size;
    }
    double secs = eg_now() - t0;
    for (unsigned i = 0; i < nrx; i++)
        kill(pid[i], SIGKILL);
    for (unsigned i = 0; i < nrx; i++)
        waitpid(pid[i], NULL, 0);
    zmq_close(push);
    zmq_close(acks);
    zmq_ctx_term(ctx);
    return (double)bytes / secs / 1e9;
}

/* --------------------------------------------------------------- data */

typedef struct bench_data {
    char dir[256], whole[300], manifest[300];
    unsigned nshards;
} bench_data;

static void make_data(const bench_opts *o, bench_data *d)
{
    eg_error err;
    snprintf(d->dir, sizeof d->dir, "%s/grid_bench.XXXXXX", o->dir);
    if (!mkdtemp(d->dir)) {
        perror("grid_bench: mkdtemp");
        exit(1);
    }
    snprintf(d->whole, sizeof d->whole, "%s/whole.npy", d->dir);
    eg_gen_opts g = {.count = o->size_mib * 1024 * 1024 / 4,
                     .dtype = EG_F32,
                     .dist = EG_DIST_NORMAL,
                     .seed = 1};
    if (eg_gen_npy(d->whole, &g, &err) != EG_OK)
        die("generating the data", &err);
    /* The same bytes as raw shards, for edge mode. */
    eg_source *s = NULL;
    if (eg_source_open(&s, d->whole, NULL, &err) != EG_OK)
        die("opening the data", &err);
    d->nshards = 2 * o->workers;
    uint64_t count = eg_source_info(s)->count, per = count / d->nshards;
    snprintf(d->manifest, sizeof d->manifest, "%s/manifest.txt", d->dir);
    FILE *m = fopen(d->manifest, "w");
    for (unsigned i = 0; i < d->nshards && m; i++) {
        uint64_t first = i * per;
        uint64_t n = i + 1 == d->nshards ? count - first : per;
        char path[400];
        snprintf(path, sizeof path, "%s/shard%u.f32", d->dir, i);
        FILE *f = fopen(path, "wb");
        void *buf = NULL;
        const void *p = elements_of(s, first, n, &buf);
        if (!f || fwrite(p, 4, n, f) != n || fclose(f) != 0)
            die("writing a shard", NULL);
        free(buf);
        fprintf(m, "shard%u.f32 %llu\n", i, (unsigned long long)n);
    }
    if (!m || fclose(m) != 0)
        die("writing the manifest", NULL);
    eg_source_close(&s);
}

static void remove_data(const bench_data *d)
{
    char path[400];
    for (unsigned i = 0; i < d->nshards; i++) {
        snprintf(path, sizeof path, "%s/shard%u.f32", d->dir, i);
        unlink(path);
    }
    unlink(d->manifest);
    unlink(d->whole);
    rmdir(d->dir);
}

/* ---------------------------------------------- 3 and 4: data throughput */

/* One box, the same file: the wall time of eg_reduce_file, opening and
 * mapping included, as the grid's shard runs open their files too. */
static double one_box_gbps(const bench_opts *o, const bench_data *d)
{
    eg_engine *e = NULL;
    eg_error err;
    eg_result r;
    if (eg_engine_open(&e, o->devices, &err) != EG_OK)
        die("opening the engine", &err);
    double t0 = eg_now();
    if (eg_reduce_file(e, d->whole, NULL, NULL, NULL, &r, &err) != EG_OK)
        die("one-box reduce", &err);
    double secs = eg_now() - t0;
    eg_engine_close(&e);
    return (double)r.bytes / secs / 1e9;
}

/* Inline data through the grid.  With `light`, the reduction is a plain
 * sum, the cheapest there is, so what is timed is the data plane; else the
 * default ops. */
static double inline_run(const bench_opts *o, const bench_data *d, int light)
{
    eg_coord_opts co;
    memset(&co, 0, sizeof co);
    eg_reduce_opts_init(&co.reduce);
    if (light)
        co.reduce.ops = EG_OPS_BIT(EG_OP_SUM);
    co.path = d->whole;
    co.task_bytes = o->task_mib * 1024 * 1024;
    eg_grid_stats st;
    eg_error err;
    if (run_job(o, &co, o->workers, NULL, NULL, &st, &err) != EG_OK)
        die("inline job", &err);
    double g = st.gbps;
    eg_grid_stats_free(&st);
    return g;
}

static double inline_sum_gbps(const bench_opts *o, const bench_data *d)
{
    return inline_run(o, d, 1);
}

static double inline_default_gbps(const bench_opts *o, const bench_data *d)
{
    return inline_run(o, d, 0);
}

static double shard_gbps(const bench_opts *o, const bench_data *d)
{
    eg_coord_opts co;
    memset(&co, 0, sizeof co);
    eg_reduce_opts_init(&co.reduce);
    co.manifest = d->manifest;
    co.in.raw = 1;
    co.in.raw_dtype = EG_F32;
    eg_grid_stats st;
    eg_error err;
    if (run_job(o, &co, o->workers, "--shard-root", d->dir, &st, &err) !=
        EG_OK)
        die("shard job", &err);
    double g = st.gbps;
    eg_grid_stats_free(&st);
    return g;
}

static double median_of(double (*fn)(const bench_opts *, const bench_data *),
                        const bench_opts *o, const bench_data *d)
{
    double v[16];
    for (unsigned i = 0; i < o->trials; i++)
        v[i] = fn(o, d);
    return median(v, o->trials);
}

/* ------------------------------------------------------------------ main */

static const char usage[] =
    "usage: grid_bench [options]\n"
    "  --edgegrid PATH   the edgegrid program the workers run\n"
    "                    (default: the one built beside this program)\n"
    "  --workers N       workers (default 2)\n"
    "  --devices SPEC    the workers' and the one-box run's devices\n"
    "                    (default host)\n"
    "  --size-mib N      float32 data set size (default 256)\n"
    "  --task-mib N      inline task size and raw message size (default 8)\n"
    "  --noop N          no-op tasks per rate measurement (default 100000)\n"
    "  --trials N        repeats of each timing; medians (default 3)\n"
    "  --dir DIR         where to write the data (default /tmp)\n"
    "  --json            one JSON object instead of the table\n"
    "  --curve           measure CURVE's cost instead: no-op tasks/s,\n"
    "                    inline and shard GB/s on plain TCP and on CURVE,\n"
    "                    interleaved in the same run\n";

static void parse(int argc, char **argv, bench_opts *o)
{
    static const struct option opts[] = {
        {"edgegrid", required_argument, NULL, 'e'},
        {"workers", required_argument, NULL, 'w'},
        {"devices", required_argument, NULL, 'd'},
        {"size-mib", required_argument, NULL, 's'},
        {"task-mib", required_argument, NULL, 't'},
        {"noop", required_argument, NULL, 'n'},
        {"trials", required_argument, NULL, 'r'},
        {"dir", required_argument, NULL, 'D'},
        {"json", no_argument, NULL, 'j'},
        {"curve", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': o->edgegrid = optarg; break;
        case 'w': o->workers = (unsigned)atoi(optarg); break;
        case 'd': o->devices = optarg; break;
        case 's': o->size_mib = strtoull(optarg, NULL, 10); break;
        case 't': o->task_mib = strtoull(optarg, NULL, 10); break;
        case 'n': o->noop = strtoull(optarg, NULL, 10); break;
        case 'r': o->trials = (unsigned)atoi(optarg); break;
        case 'D': o->dir = optarg; break;
        case 'j': o->json = 1; break;
        case 'c': o->curve_cost = 1; break;
        case 'h': fputs(usage, stdout); exit(0);
        default: fputs(usage, stderr); exit(2);
        }
    }
    if (o->workers < 1 || o->workers > MAX_WORKERS / 2 || o->trials < 1 ||
        o->trials > 16 || o->size_mib < 16 || o->task_mib < 1 ||
        o->task_mib > 256 || o->noop < 1000) {
        fputs(usage, stderr);
        exit(2);
    }
}

/* ------------------------------------------------------- CURVE's cost */

/* The same jobs on plain TCP and on CURVE, alternating trial by trial so
 * that drift on a shared box falls on both alike. */
static int curve_cost(const bench_opts *o, const bench_data *d)
{
    eg_curve_local keys;
    eg_error err;
    if (eg_curve_local_create(&keys, o->workers, &err) != EG_OK)
        die("making keys", &err);
    bench_opts on = *o, off = *o;
    on.curve = 1;
    on.keys = &keys;
    double n2[2][16], n32[2][16], inl[2][16], def[2][16], shd[2][16];
    for (unsigned i = 0; i < o->trials; i++) {
        for (int c = 0; c < 2; c++) {
            const bench_opts *b = c ? &on : &off;
            n2[c][i] = noop_rate(b, "2");
            n32[c][i] = noop_rate(b, "32");
            inl[c][i] = inline_sum_gbps(b, d);
            def[c][i] = inline_default_gbps(b, d);
            shd[c][i] = shard_gbps(b, d);
        }
    }
    eg_curve_local_remove(&keys);
    double m[5][2];
    for (int c = 0; c < 2; c++) {
        m[0][c] = median(n2[c], o->trials);
        m[1][c] = median(n32[c], o->trials);
        m[2][c] = median(inl[c], o->trials);
        m[3][c] = median(def[c], o->trials);
        m[4][c] = median(shd[c], o->trials);
    }
    if (o->json) {
        printf("{\"workers\": %u, \"devices\": \"%s\", \"size_mib\": %llu, "
               "\"task_mib\": %llu, \"trials\": %u, "
               "\"noop_credit2\": [%.0f, %.0f], "
               "\"noop_credit32\": [%.0f, %.0f], "
               "\"inline_sum_gbps\": [%.3f, %.3f], "
               "\"inline_default_ops_gbps\": [%.3f, %.3f], "
               "\"shard_gbps\": [%.3f, %.3f]}\n",
               o->workers, o->devices, (unsigned long long)o->size_mib,
               (unsigned long long)o->task_mib, o->trials, m[0][0], m[0][1],
               m[1][0], m[1][1], m[2][0], m[2][1], m[3][0], m[3][1],
               m[4][0], m[4][1]);
        return 0;
    }
    printf("grid bench, CURVE's cost: loopback, %u workers (--devices %s), "
           "%llu MiB of float32, tasks of %llu MiB, medians of %u, plain "
           "and CURVE interleaved\n\n",
           o->workers, o->devices, (unsigned long long)o->size_mib,
           (unsigned long long)o->task_mib, o->trials);
    printf("%-40s %12s %12s %8s\n", "measure", "plain TCP", "CURVE",
           "CURVE/plain");
    static const char *names[5] = {
        "no-op tasks/s, credit 2 per worker",
        "no-op tasks/s, credit 32 per worker",
        "inline GB/s (--ops sum)", "inline GB/s (default ops)",
        "shard mode GB/s (only states travel)"};
    for (int k = 0; k < 5; k++)
        printf("%-40s %12.*f %12.*f %8.3f\n", names[k], k < 2 ? 0 : 3,
               m[k][0], k < 2 ? 0 : 3, m[k][1], m[k][1] / m[k][0]);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o = {.edgegrid = GRID_BENCH_EDGEGRID, .devices = "host",
                    .dir = "/tmp", .workers = 2, .trials = 3,
                    .size_mib = 256, .task_mib = 8, .noop = 100000};
    if (argc == 4 && strcmp(argv[1], "--raw-receiver") == 0)
        return raw_receiver(argv[2], argv[3]);
    parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);

    bench_data d;
    make_data(&o, &d);
    fprintf(stderr, "grid_bench: data ready (%llu MiB); measuring\n",
            (unsigned long long)o.size_mib);
    if (o.curve_cost) {
        int rc = curve_cost(&o, &d);
        remove_data(&d);
        return rc;
    }

    double noop2 = noop_rate(&o, "2"), noop32 = noop_rate(&o, "32");
    double kl[16], ka[16], sl[16], sa[16];
    for (unsigned i = 0; i < o.trials; i++) {
        kill_latency(&o, SIGKILL, &kl[i], &ka[i]);
        kill_latency(&o, SIGSTOP, &sl[i], &sa[i]);
    }
    double kill_lost = median(kl, o.trials), kill_again = median(ka, o.trials);
    double stop_lost = median(sl, o.trials), stop_again = median(sa, o.trials);

    double one_box = median_of(one_box_gbps, &o, &d);  /* also warms cache */
    eg_source *s = NULL;
    eg_error err;
    if (eg_source_open(&s, d.whole, NULL, &err) != EG_OK)
        die("opening the data", &err);
    uint64_t bytes = eg_source_info(s)->count * 4;
    void *data_buf = NULL;
    const uint8_t *data =
        elements_of(s, 0, eg_source_info(s)->count, &data_buf);
    double raw[16];
    for (unsigned i = 0; i < o.trials; i++)
        raw[i] = raw_zmq_gbps(&o, data, bytes, o.task_mib * 1024 * 1024,
                              o.workers);
    double raw_gbps = median(raw, o.trials);
    free(data_buf);
    eg_source_close(&s);
    double inl = median_of(inline_sum_gbps, &o, &d);
    double inl_default = median_of(inline_default_gbps, &o, &d);
    double shard = median_of(shard_gbps, &o, &d);
    remove_data(&d);

    if (o.json) {
        printf("{\"workers\": %u, \"devices\": \"%s\", \"size_mib\": %llu, "
               "\"task_mib\": %llu, \"trials\": %u, "
               "\"noop_tasks_per_s\": {\"credit2\": %.0f, \"credit32\": "
               "%.0f}, \"kill9_lost_s\": %.4f, \"kill9_redispatch_s\": %.4f, "
               "\"sigstop_lost_s\": %.4f, \"sigstop_redispatch_s\": %.4f, "
               "\"inline_gbps\": %.3f, \"inline_default_ops_gbps\": %.3f, "
               "\"raw_zmq_gbps\": %.3f, "
               "\"inline_over_raw\": %.3f, \"shard_gbps\": %.3f, "
               "\"one_box_gbps\": %.3f, \"shard_over_one_box\": %.3f}\n",
               o.workers, o.devices, (unsigned long long)o.size_mib,
               (unsigned long long)o.task_mib, o.trials, noop2, noop32,
               kill_lost, kill_again, stop_lost, stop_again, inl, inl_default,
               raw_gbps,
               inl / raw_gbps, shard, one_box, shard / one_box);
        return 0;
    }
    printf("grid bench: loopback, %u workers (--devices %s), %llu MiB of "
           "float32, tasks of %llu MiB, medians of %u\n\n",
           o.workers, o.devices, (unsigned long long)o.size_mib,
           (unsigned long long)o.task_mib, o.trials);
    printf("%-44s %12s   %s\n", "measure", "value", "goal");
    printf("%-44s %10.0f/s   >= 20000/s\n", "no-op tasks/s, credit 2 per worker",
           noop2);
    printf("%-44s %10.0f/s   >= 20000/s\n",
           "no-op tasks/s, credit 32 per worker", noop32);
    printf("%-44s %10.4f s   <= 3 s\n", "kill -9 -> task sent again", kill_again);
    printf("%-44s %10.4f s\n", "  of which: kill -9 -> worker declared lost",
           kill_lost);
    printf("%-44s %10.4f s\n", "SIGSTOP -> task sent again (heartbeats)",
           stop_again);
    printf("%-44s %10.3f GB/s\n", "inline data through the grid (--ops sum)",
           inl);
    printf("%-44s %10.3f GB/s\n", "raw ZeroMQ PUSH/PULL, same messages",
           raw_gbps);
    printf("%-44s %10.3f     >= 0.7\n", "  inline / raw", inl / raw_gbps);
    printf("%-44s %10.3f GB/s (%.3f of raw)\n",
           "inline, default ops (compute shares the CPUs)", inl_default,
           inl_default / raw_gbps);
    printf("%-44s %10.3f GB/s\n", "shard mode (raw shards on the workers)",
           shard);
    printf("%-44s %10.3f GB/s\n", "one-box reduce of the same file (w/ open)",
           one_box);
    printf("%-44s %10.3f     >= 0.8\n", "  shard / one-box", shard / one_box);
    return 0;
}
