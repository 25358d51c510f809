/* grid.h - the grid as a front end sees it: a coordinator that owns one job
 * and the workers that serve jobs, over ZeroMQ.
 *
 * Like the engine, the grid never prints and never exits: it returns an
 * eg_status with an eg_error, and reports what happens along the way
 * (workers joining and lost, tasks sent again, frames refused) through an
 * optional event callback, which the front end may print or ignore.
 *
 *   eg_coord_open   reads the input, cuts it into tasks, binds the sockets
 *   eg_coord_run    hands out tasks, collects states, merges, finalises
 *   eg_coord_close
 *
 *   eg_worker_run   serves jobs until *stop becomes non-zero
 */
#ifndef EG_GRID_H
#define EG_GRID_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* Application heartbeats, both ways: a peer silent for EG_GRID_DEAD_S is
 * taken for dead (the socket monitor usually knows sooner). */
#define EG_GRID_HEARTBEAT_S 0.25
#define EG_GRID_DEAD_S 1.5
/* Credit a worker grants by default: one task computing, one in flight. */
#define EG_GRID_DEFAULT_CREDIT 2u

/* -------------------------------------------------------------- reports */

typedef struct eg_grid_worker_stats {
    char name[65];
    uint64_t tasks;       /* accepted results */
    uint64_t elements, bytes;
    double seconds;       /* compute time the worker reported */
} eg_grid_worker_stats;

typedef struct eg_grid_stats {
    uint64_t tasks;         /* tasks of the job */
    uint64_t attempts;      /* dispatches, first ones and repeats */
    uint64_t redispatched;  /* dispatches of a task already sent before */
    uint64_t failures;      /* attempts that failed (worker lost, lease
                               expired, worker reported failure) */
    uint64_t returned;      /* tasks handed back by leaving workers */
    uint64_t unstarted;     /* tasks a lost worker held but had not begun */
    uint64_t duplicates;    /* valid results dropped, their task done */
    uint64_t rejected;      /* frames refused by validation, and (CURVE)
                               results from an identity that does not hold
                               the task's lease */
    uint64_t refused;       /* CURVE handshakes the allow-list refused */
    uint64_t bytes;         /* data bytes reduced */
    double seconds;         /* first dispatch to last result */
    double tasks_per_s, gbps;
    size_t nworkers;
    eg_grid_worker_stats *workers;  /* malloc'ed; eg_grid_stats_free */
    char tasks_endpoint[256], results_endpoint[256];
} eg_grid_stats;

void eg_grid_stats_free(eg_grid_stats *s);

typedef enum eg_coord_event_kind {
    EG_EV_WAITING,    /* no (or too few) workers; text says for how long */
    EG_EV_JOINED,     /* a worker registered */
    EG_EV_LEFT,       /* a worker said goodbye */
    EG_EV_LOST,       /* a worker was seen dead; text says how */
    EG_EV_DISPATCH,   /* a task went out (attempt > 1: again) */
    EG_EV_REQUEUED,   /* a task went back to the queue; text says why */
    EG_EV_REJECTED,   /* a frame was refused; text says why */
    EG_EV_DUPLICATE,  /* a duplicate result was dropped */
    EG_EV_REFUSED,    /* a CURVE handshake was refused; text says whose */
    EG_EV_ALLOW,      /* the allow-list was read again (or could not be) */
    EG_EV_ROUND       /* a round of a quantile job begins; text says which */
} eg_coord_event_kind;

typedef struct eg_coord_event {
    eg_coord_event_kind kind;
    double t;             /* CLOCK_MONOTONIC seconds */
    uint64_t task;        /* when it concerns a task */
    uint32_t attempt;
    const char *worker;   /* name, or "" */
    const char *text;     /* one line, or "" */
} eg_coord_event;

/* ---------------------------------------------------------- coordinator */

typedef struct eg_coord eg_coord;

typedef struct eg_coord_opts {
    const char *tasks_endpoint;    /* bound: ROUTER, e.g. tcp://127.0.0.1:* */
    const char *results_endpoint;  /* bound: PULL */
    /* The data: a file (inline mode; `with_path` for dot), a shard
     * manifest (edge mode), or, for benchmarks, `noop_tasks` empty tasks. */
    const char *path;
    const char *with_path;
    eg_input_opts in;
    const char *manifest;
    uint64_t noop_tasks;
    eg_reduce_opts reduce;         /* ops, mode, nan, ddof */
    /* Inline mode: a structured job (--axis, --by), NULL: flat.  Its tasks
     * are chunks of the outputs' segments; eg_coord_take_sresult gives the
     * arrays. */
    const eg_struct_opts *structured;
    /* median, quantile, approx_quantile and hist (their qops; NULL or 0:
     * none), run as rounds of tasks after the ordinary ops: flat
     * (engine_grid.h, "Quantile jobs on the grid"; eg_coord_take_qresult
     * gives their results) or, with `structured`, one round of whole
     * outputs ("Quantile ops per axis and per group on the grid";
     * eg_coord_take_squant). */
    const eg_quant_opts *quant;
    uint64_t task_bytes;           /* bytes of data per task (per operand);
                                      0: the engine's default chunk */
    double timeout_s;              /* bound on the whole job; 0: none */
    unsigned min_workers;          /* wait for this many before starting */
    void (*event_fn)(void *ctx, const eg_coord_event *ev);
    void *event_ctx;
    /* Asked every ~100 ms; non-zero stops the job with EG_EIO and the
     * message it wrote into `why` (the local grid uses it when all its
     * worker processes have exited). */
    int (*stop_fn)(void *ctx, char *why, size_t len);
    void *stop_ctx;
    /* Security (README, "Grid security").  With `curve_secret` (the
     * coordinator's secret key file) and `allow_dir`, both endpoints are
     * CURVE servers that admit only the public keys of allow_dir/NAME.pub,
     * and a result counts only from the identity that holds its task's
     * lease.  Without them, plain TCP, refused on an endpoint that is not
     * loopback unless `insecure`. */
    const char *curve_secret;
    const char *allow_dir;
    int insecure;
    /* When this changes (a SIGHUP handler bumps it), the allow-list is read
     * again; NULL: never. */
    volatile sig_atomic_t *reload;
} eg_coord_opts;

/* Opens the input, plans the tasks and binds both sockets (so the actual
 * endpoints are known before any worker starts).  Usage and input errors
 * are EG_EUSAGE/EG_EINPUT/EG_ENOENT; a busy port is EG_ENET. */
eg_status eg_coord_open(eg_coord **out, const eg_coord_opts *o,
                        eg_error *err);
/* The endpoints bound, with '*' ports resolved. */
const char *eg_coord_tasks_endpoint(const eg_coord *c);
const char *eg_coord_results_endpoint(const eg_coord *c);
uint64_t eg_coord_task_count(const eg_coord *c);
/* Runs the job to its end.  On success `res` holds the result as
 * eg_reduce_file would give it (devices: one per worker) and `stats` the
 * grid's account; on failure err names the task, the shards missing or the
 * reason, and `stats` still tells how far the job got. */
eg_status eg_coord_run(eg_coord *c, eg_result *res, eg_grid_stats *stats,
                       eg_error *err);
void eg_coord_close(eg_coord **c);
/* After a successful eg_coord_run of a structured job: moves its arrays
 * into out (eg_sresult_free frees them).  EG_EUSAGE for a flat job. */
eg_status eg_coord_take_sresult(eg_coord *c, eg_sresult *out, eg_error *err);

/* After a successful eg_coord_run of a job with quantile ops: moves their
 * results into out (eg_quant_result_free frees them).  EG_EUSAGE for a
 * job without. */
eg_status eg_coord_take_qresult(eg_coord *c, eg_quant_result *out,
                                eg_error *err);

/* After a successful eg_coord_run of a structured job with quantile ops:
 * moves their per-output results into out (eg_squant_result_free frees
 * them); the shapes and groups come with eg_coord_take_sresult.
 * EG_EUSAGE for a job without. */
eg_status eg_coord_take_squant(eg_coord *c, eg_squant_result *out,
                               eg_error *err);

/* --------------------------------------------------------------- worker */

typedef struct eg_worker_opts {
    const char *tasks_endpoint;    /* connected: DEALER */
    const char *results_endpoint;  /* connected: PUSH */
    const char *devices;           /* engine device spec; NULL: default */
    const char *name;              /* NULL: host:pid */
    const char *shard_root;        /* edge mode: where its shards live */
    unsigned credit;               /* queue depth; 0: the default */
    /* Fault injection for tests (see `edgegrid worker --help`). */
    int64_t die_on_task;           /* SIGKILL itself EG_DIE_DELAY_MS into
                                      this task; -1 none */
    const char *fail_once_file;    /* fail one task if this file can be
                                      removed */
    int duplicate_results;         /* push every result twice */
    unsigned task_delay_ms;        /* sleep this long in every task */
    int forge_results;             /* before each result of task t > 0,
                                      send a copy re-labelled as task t-1,
                                      its indices shifted to fit: a
                                      valid-looking state for a task that
                                      another worker holds or did (or, if
                                      this one did it, a duplicate) */
    /* Security: with `curve_secret` (its secret key file; its public key
     * is derived from it) and `server_key` (the coordinator's public key
     * file), both connections are CURVE clients.  Without, plain TCP,
     * refused to an endpoint that is not loopback unless `insecure`. */
    const char *curve_secret;
    const char *server_key;
    int insecure;
    /* Lines worth telling the user (joined, left, refused frames). */
    void (*log_fn)(void *ctx, const char *line);
    void *log_ctx;
} eg_worker_opts;

#define EG_DIE_DELAY_MS 50

void eg_worker_opts_init(eg_worker_opts *o);

/* Serves jobs until *stop is non-zero (a signal handler sets it): then
 * returns the tasks not started, finishes the one running, says goodbye
 * and returns EG_OK.  Errors: the engine cannot open, a bad endpoint. */
eg_status eg_worker_run(const eg_worker_opts *o, volatile sig_atomic_t *stop,
                        eg_error *err);

#endif
