/* hostreduce.c - see hostreduce.h. */
#include "hostreduce.h"

#include <stdlib.h>

#include "lanes.h"

void hr_state(const void *x, const void *y, uint64_t n, eg_dtype t,
              unsigned groups, uint64_t offset, eg_state *out)
{
    uint64_t *w = malloc((eg_lane_count(n) + 1) * EG_LANE_WORDS * 8);
    eg_lanes_fast(x, y, n, t, groups, w);
    eg_chunk_state(w, x, y, n, offset, t, groups, out);
    free(w);
}

eg_status hr_reduce(const void *x, const void *y, uint64_t n, eg_dtype t,
                    eg_nan_policy nan, unsigned ddof, eg_result *r)
{
    unsigned ops = (1u << EG_OP_COUNT_ALL) - 1;
    if (!y)
        ops &= ~EG_OPS_BIT(EG_OP_DOT);
    eg_state s;
    hr_state(x, y, n, t, eg_groups_for_ops(ops), 0, &s);
    return eg_state_finalize(&s, ops, nan, ddof, r, NULL);
}
