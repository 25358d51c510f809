/* hostreduce.h - one chunk through the canonical host lanes and the state
 * algebra, without devices or sources: the algebra's own test bench. */
#ifndef EG_HOSTREDUCE_H
#define EG_HOSTREDUCE_H

#include "edgegrid.h"
#include "state.h"

/* Reduces x (and y) as one chunk starting at global index `offset`. */
void hr_state(const void *x, const void *y, uint64_t n, eg_dtype t,
              unsigned groups, uint64_t offset, eg_state *out);
/* hr_state + finalize with every op (dot only when y). */
eg_status hr_reduce(const void *x, const void *y, uint64_t n, eg_dtype t,
                    eg_nan_policy nan, unsigned ddof, eg_result *r);

#endif
