/* scheduler.h - cuts an array into chunks that the selected devices pull
 * from one shared queue, then merges the chunk states in chunk order. */
#ifndef EG_SCHEDULER_H
#define EG_SCHEDULER_H

#include "device.h"
#include "engine_grid.h" /* EG_DEFAULT_CHUNK_ELEMS, sources, states */

/* Devices that join a job already running (an engine whose discovery is
 * still under way, engine.c): the scheduler calls wait on a thread of its
 * own while the job's devices take chunks.  wait blocks until the devices
 * that may join are known, prepares them for the job while wanted(arg)
 * says chunks are still left (unprepared ones are returned all the same;
 * the scheduler starts none once the queue is empty), puts at most cap of
 * them in devs and returns how many.  Their stats follow the job's devices'
 * (stats[ndev + i]); n_joined says how many there are. */
typedef struct eg_late_devs {
    size_t (*wait)(void *ctx, int (*wanted)(void *arg), void *arg,
                   eg_device **devs, size_t cap);
    void *ctx;
    size_t n_joined; /* out: how many wait returned */
    /* out: eg_now() when the last chunk was done (eg_schedule may return
     * later: it waits for wait to return). */
    double done_at;
} eg_late_devs;

typedef struct eg_job {
    eg_device **devs;      /* borrowed */
    size_t ndev;
    const eg_source *x, *y;   /* y only for dot */
    uint64_t first, count;    /* element range of x (and y) to reduce */
    unsigned groups;
    uint64_t chunk_elems;     /* 0: EG_DEFAULT_CHUNK_ELEMS */
    const eg_reduce_opts *opts;  /* progress callback; may be NULL */
    eg_late_devs *late;          /* NULL: the job's devices only */
} eg_job;

/* Runs the job: `total` gets the merged state, stats[i] the work of devs[i]
 * (stats has ndev entries, and those of job->late after them), notes the
 * fallbacks taken.  A device that fails
 * mid-job hands its chunks to the host path and is named in notes. */
eg_status eg_schedule(const eg_job *job, eg_state *total,
                      eg_device_stats *stats, char *notes, size_t notes_len,
                      eg_error *err);

#endif
