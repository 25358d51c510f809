/* scheduler.h - cuts an array into chunks that the selected devices pull
 * from one shared queue, then merges the chunk states in chunk order. */
#ifndef EG_SCHEDULER_H
#define EG_SCHEDULER_H

#include "device.h"
#include "engine_grid.h" /* EG_DEFAULT_CHUNK_ELEMS, sources, states */

typedef struct eg_job {
    eg_device **devs;      /* borrowed */
    size_t ndev;
    const eg_source *x, *y;   /* y only for dot */
    uint64_t first, count;    /* element range of x (and y) to reduce */
    unsigned groups;
    uint64_t chunk_elems;     /* 0: EG_DEFAULT_CHUNK_ELEMS */
    const eg_reduce_opts *opts;  /* progress callback; may be NULL */
} eg_job;

/* Runs the job: `total` gets the merged state, stats[i] the work of devs[i]
 * (stats has ndev entries), notes the fallbacks taken.  A device that fails
 * mid-job hands its chunks to the host path and is named in notes. */
eg_status eg_schedule(const eg_job *job, eg_state *total,
                      eg_device_stats *stats, char *notes, size_t notes_len,
                      eg_error *err);

#endif
