/* engine_grid.h - the engine's one internal contract with the grid
 * (cluster/): the engine at the level of partial states, for producers and
 * carriers of states beside the public API.  The grid's worker reduces task
 * ranges; its collector merges states and finishes them.
 *
 * cluster/ includes edgegrid.h and this header, nothing else of the engine:
 * the headers named here (the state and its wire form, the little-endian
 * words of every wire form, sources, the error helpers) are reached through it by relative path, and no other engine
 * folder is on the grid's include path. */
#ifndef EG_ENGINE_GRID_H
#define EG_ENGINE_GRID_H

#include "edgegrid.h"
#include "../core/error.h"
#include "../io/source.h"
#include "../state/state.h"
#include "../state/wire_le.h"

/* Default chunk: 4 Mi elements (16 MiB of f32), a multiple of a lane; the
 * coordinator cuts tasks on the same grid. */
#define EG_DEFAULT_CHUNK_ELEMS (1024u * EG_LANE_ELEMS)

/* Reduces elements [first, first + count) of x (and y for dot) into `out`,
 * whose indices are global (first included).  Fills stats->devices,
 * ndevices, seconds, bytes and notes; nothing else of stats. */
eg_status eg_engine_reduce_range(eg_engine *e, const eg_source *x,
                                 const eg_source *y, uint64_t first,
                                 uint64_t count, const eg_reduce_opts *o,
                                 eg_state *out, eg_result *stats,
                                 eg_error *err);

/* Finalizes a merged state into out->value, mode and shape.  With x (may be
 * NULL when the data lives elsewhere) it also takes x's shape and turns
 * argmin/argmax of Fortran-order arrays into C-order indices. */
eg_status eg_result_finish(const eg_state *s, const eg_source *x,
                           const eg_reduce_opts *o, eg_result *out,
                           eg_error *err);

/* Folds n values at x (host memory), whose first has index `base` in its
 * window, into acc (acc (+) their state): the canonical lanes taken in
 * order, fast or exact as `groups` says (EG_G_* of state.h).  Streams fold
 * their windows' buffered records with it (cluster/stream/); runs of whole
 * lanes folded one after another give the bits of one chunk of them. */
void eg_state_fold_values(eg_state *acc, const void *x, uint64_t n,
                          eg_dtype dtype, unsigned groups, uint64_t base);
/* The state of those values alone: eg_state_init, then the fold. */
void eg_state_of_values(const void *x, uint64_t n, eg_dtype dtype,
                        unsigned groups, uint64_t base, eg_state *out);

/* ------------------------------------------- structured jobs on the grid
 *
 * The coordinator plans a structured job (--axis, --by) into tasks, each
 * chunk c of the segments of nseg consecutive output elements; a worker
 * reduces each gathered segment chunk into its chunk state; the collector
 * files them as a one-box run does.  Same bits as `reduce --chunk CHUNK`. */

/* Most segments one task holds (its RESULT carries one state each). */
#define EG_SGRID_SEGS_MAX 1024u

typedef struct eg_sgrid eg_sgrid;

typedef struct eg_sgrid_task {
    uint64_t e0, nseg; /* output elements [e0, e0 + nseg) */
    uint64_t c, p0;    /* chunk c of each segment, from position p0 */
    uint64_t count;    /* elements per operand, all segments together */
} eg_sgrid_task;

/* Plans x (and y for dot) with the options' axes or keys at `chunk`
 * elements per chunk (a lane multiple): shapes, groups, tasks.  Usage and
 * input errors as eg_reduce_file_structured gives them.  x and y must
 * outlive the plan. */
eg_status eg_sgrid_open(eg_sgrid **g, const eg_source *x, const eg_source *y,
                        const eg_struct_opts *so, const eg_reduce_opts *o,
                        uint64_t chunk, eg_error *err);
uint64_t eg_sgrid_ntasks(const eg_sgrid *g);
const eg_sgrid_task *eg_sgrid_task_at(const eg_sgrid *g, uint64_t t);
uint64_t eg_sgrid_chunk(const eg_sgrid *g);
eg_dtype eg_sgrid_dtype(const eg_sgrid *g);
/* Each segment's elements in task t (lens[nseg]). */
void eg_sgrid_task_lens(const eg_sgrid *g, uint64_t t, uint64_t *lens);
/* Task t's elements of x (which = 0) or y, native order, segment after
 * segment, into dst (count elements). */
void eg_sgrid_task_data(const eg_sgrid *g, uint64_t t, int which, void *dst);
/* NULL when s can be state i of task t (dtype, groups, length, indices
 * within the chunk), else why not. */
const char *eg_sgrid_check(const eg_sgrid *g, uint64_t t, uint64_t i,
                           const eg_state *s);
/* Files state i of task t (checked; each (t, i) once). */
void eg_sgrid_put(eg_sgrid *g, uint64_t t, uint64_t i, const eg_state *s);
/* Once every task is in: merges, finalizes and fills out (its shape,
 * groups and input figures; x as given to eg_sgrid_open). */
eg_status eg_sgrid_finish(eg_sgrid *g, const eg_source *x, int has_y,
                          eg_sresult *out, eg_error *err);
void eg_sgrid_close(eg_sgrid **g);

/* The worker's side: nseg segments of lens[i] elements side by side at x
 * (and y), each chunk p0.. of its segment, into out[nseg] chunk states
 * whose indices count from the segment's start. */
eg_status eg_reduce_segments(const void *x, const void *y,
                             const uint64_t *lens, uint64_t nseg, uint64_t p0,
                             eg_dtype dtype, const eg_reduce_opts *o,
                             eg_state *out, eg_error *err);

#endif
