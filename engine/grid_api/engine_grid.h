/* engine_grid.h - the engine's one internal contract with the grid
 * (cluster/): the engine at the level of partial states, for producers and
 * carriers of states beside the public API.  The grid's worker reduces task
 * ranges; its collector merges states and finishes them.
 *
 * cluster/ includes edgegrid.h and this header, nothing else of the engine:
 * the headers named here (the state and its wire form, sources, the error
 * helpers) are reached through it by relative path, and no other engine
 * folder is on the grid's include path. */
#ifndef EG_ENGINE_GRID_H
#define EG_ENGINE_GRID_H

#include "edgegrid.h"
#include "../core/error.h"
#include "../io/source.h"
#include "../state/state.h"

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

#endif
