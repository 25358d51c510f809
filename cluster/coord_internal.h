/* coord_internal.h - the coordinator's state, shared by its two halves:
 * coord_job.c (the job: input, tasks, validating and merging states) and
 * coordinator.c (the event loop: sockets, credit, heartbeats, leases). */
#ifndef EG_COORD_INTERNAL_H
#define EG_COORD_INTERNAL_H

#include <zmq.h>

#include "engine_grid.h"
#include "frame.h"
#include "grid.h"
#include "ledger.h"
#include "manifest.h"
#include "peers.h"
#include "strikes.h"
#include "zap.h"

typedef enum coord_mode {
    MODE_INLINE,
    MODE_SHARDS,
    MODE_NOOP,
    MODE_STRUCT /* inline data, a structured job's segments per task */
} coord_mode;

struct eg_coord {
    eg_coord_opts o;
    coord_mode mode;
    uint64_t job;                 /* random per job: stale frames are refused */
    /* The data. */
    eg_source *x, *y;             /* inline mode */
    eg_manifest manifest;         /* shard mode */
    const char *input_name;       /* what the report calls the input */
    eg_dtype dtype;               /* inline: the file's; shards: the first
                                     accepted shard's (or the raw dtype) */
    int dtype_known;
    unsigned groups;              /* of every state: the ops' accumulator
                                     groups, plus whatever the engine adds
                                     for the mode (learned from the first
                                     state; all must agree) */
    int groups_known;
    uint64_t count;               /* inline: elements; shards: known sum */
    uint64_t task_elems;          /* inline: elements per task */
    uint64_t bytes_done;
    eg_ledger ledger;
    eg_sgrid *sg;                 /* MODE_STRUCT: the plan and collector */
    eg_sresult sres;              /* MODE_STRUCT: the result, once run */
    int sres_ready;
    /* A job with quantile ops (coord_quant.c): their plan and collector,
     * the round running (its reduce options; a PASS round's parameters,
     * NULL otherwise), the counts of the rounds done, and the results. */
    int quant;                    /* quantile ops asked */
    eg_qgrid *qg;
    eg_reduce_opts rr;
    const uint8_t *qparams;
    size_t qparams_len;
    unsigned rounds;
    eg_ledger past;               /* counters of the finished rounds */
    eg_quant_result qres;
    int qres_ready;
    /* A structured job with quantile ops (coord_squant.c): the plan and
     * collector of its round of whole outputs, whether that round runs,
     * and its results. */
    eg_sqgrid *sq;
    int sq_round;
    eg_squant_result sqres;
    int sqres_ready;
    double run_start;             /* the job's start, for --timeout */
    /* The grid. */
    void *zctx, *router, *pull, *monitor;
    char tasks_ep[256], results_ep[256];
    eg_peers peers;
    uint64_t rejected;
    double first_dispatch, last_result;
    uint8_t *shardq;              /* the SHARDQ frame, built once */
    size_t shardq_len;
    /* Security (curve_coord.c): the ZAP handler (NULL on plain TCP), the
     * reload count last acted on, handshakes refused, and the ROUTER peers
     * that sent malformed frames. */
    eg_zap *zap;
    sig_atomic_t reload_seen;
    uint64_t refused;
    eg_strikes strikes;
    /* A job-ending condition found while handling a frame. */
    eg_status fatal;
    eg_error fatal_err;
};

/* coord_job.c */
eg_status coord_job_open(eg_coord *c, eg_error *err);
void coord_job_close(eg_coord *c);
/* Checks a decoded RESULT against its task (range, dtype, ops) beyond what
 * the frame decoder can know; NULL when it fits, else why not.  May set
 * c->fatal for data errors that no retry can fix (a shard of another
 * dtype or size than the manifest says). */
const char *coord_job_check_result(eg_coord *c, const eg_frame_result *r);
/* Builds a TASK frame for task `id`, attempt `attempt`; returns its size. */
size_t coord_job_task_frame(eg_coord *c, uint64_t id, uint32_t attempt,
                            uint8_t *buf, size_t cap);
/* Native-order bytes of task `id` of x (which = 0) or y (which = 1) into
 * *data: a pointer into the input held in memory, or a malloc'ed buffer
 * read from the file or swapped (*owned set).  EG_EIO names the file and
 * how far it was read when it changed under the job. */
eg_status coord_job_task_data(eg_coord *c, uint64_t id, int which,
                              const void **data, size_t *len, int *owned,
                              eg_error *err);
/* MODE_STRUCT: the lengths part of task `id` (malloc'ed, *len bytes). */
void *coord_job_task_lens(eg_coord *c, uint64_t id, size_t *len);
/* Files an accepted RESULT's states (MODE_STRUCT; nothing otherwise). */
void coord_job_accept(eg_coord *c, const eg_frame_result *r);
/* Merges, checks that every element is covered once, finalises. */
eg_status coord_job_finish(eg_coord *c, eg_result *res, eg_error *err);
/* Fills the report from the ledger and the per-worker table. */
void coord_job_stats(eg_coord *c, eg_grid_stats *stats);
/* "shards a, b and 3 more" still missing, or tasks for inline jobs. */
void coord_job_missing(eg_coord *c, char *buf, size_t len);

/* Fills res->bytes, seconds and one device per worker. */
void coord_job_fill_devices(eg_coord *c, eg_result *res);

/* coordinator.c: runs the current round's ledger to its end. */
eg_status coord_loop(eg_coord *c, eg_error *err);
/* Sends an event to the front end. */
void coord_emit_round(eg_coord *c, const char *text);

/* coord_quant.c */
/* Checks a job with quantile ops and plans its rounds (after the input is
 * open). */
eg_status coord_quant_open(eg_coord *c, eg_error *err);
/* Runs the flat round (if there are ordinary ops) and every quantile
 * round; res as coord_job_finish gives it. */
eg_status coord_quant_run(eg_coord *c, eg_result *res, eg_error *err);
/* NULL when a RESULT fits the quantile round running (or, outside one, is
 * no quantile payload), else why not. */
const char *coord_quant_check(eg_coord *c, const eg_frame_result *r);
/* Adds an accepted PASS result's counts (a failure ends the job). */
void coord_quant_accept(eg_coord *c, const eg_frame_result *r);

/* Ends the current round's ledger (its counters kept in c->past for the
 * report) and starts one of ntasks tasks under a new job id. */
void coord_ledger_retire(eg_coord *c, uint64_t ntasks, eg_error *err,
                         eg_status *st);
/* Counts a round and tells the front end what it does. */
void coord_round_notice(eg_coord *c, const char *what);

/* coord_squant.c: quantile ops per axis or group, a round of tasks of
 * whole outputs after the ordinary ops' round (if any). */
eg_status coord_squant_open(eg_coord *c, eg_error *err);
eg_status coord_squant_run(eg_coord *c, eg_result *res, eg_error *err);
/* NULL when a RESULT fits the round running, else why not. */
const char *coord_squant_check(eg_coord *c, const eg_frame_result *r);
/* Task id's parameters part, malloc'ed (*len bytes); NULL: no memory. */
void *coord_squant_params(eg_coord *c, uint64_t id, size_t *len);

/* curve_coord.c */
/* Checks the security options and, for CURVE, reads the secret key into
 * keys and binds the ZAP handler in c->zctx (before any socket binds);
 * *curve says which.  Plain TCP on an endpoint that is not loopback is
 * refused here unless --insecure. */
eg_status coord_curve_open(eg_coord *c, eg_curve_keys *keys, int *curve,
                           eg_error *err);
/* Answers waiting ZAP requests and reloads the allow-list when asked;
 * returns 1 when a reload took effect (some peers may be revoked). */
int coord_curve_serve(eg_coord *c);
/* The identity a message came from (its "User-Id" from the ZAP handler)
 * when its key is allowed now; 0 otherwise, and always on plain TCP. */
uint32_t coord_curve_uid(eg_coord *c, zmq_msg_t *m);
/* The name of an identity, for messages. */
const char *coord_curve_name(const eg_coord *c, uint32_t uid);

#endif
