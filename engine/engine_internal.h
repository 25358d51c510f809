/* engine_internal.h - the engine at the level of partial states, for
 * producers and carriers of states beside the public API (the grid's worker
 * reduces task ranges; its collector finishes merged states). */
#ifndef EG_ENGINE_INTERNAL_H
#define EG_ENGINE_INTERNAL_H

#include "edgegrid.h"
#include "source.h"
#include "state.h"

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

#endif
