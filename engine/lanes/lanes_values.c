/* lanes_values.c - the state of a short run of values held on the host:
 * what a stream window folds its buffered records with.  The run is cut
 * into canonical lanes (lanes.h) and folded as one chunk, so a window's
 * state is the one any backend would give for the same values. */
#include "engine_grid.h"

#include "lanes.h"

void eg_state_of_values(const void *x, uint64_t n, eg_dtype dtype,
                        unsigned groups, uint64_t base, eg_state *out)
{
    /* One lane record at a time keeps the words on the stack: a window
     * folds at most a lane per call in practice, longer runs lane by lane
     * (merge order is lane order, as in a chunk). */
    uint64_t words[EG_EXACT_LANE_WORDS];
    size_t esize = eg_dtype_size(dtype);
    const unsigned char *p = x;
    eg_state_init(out, dtype, groups);
    for (uint64_t at = 0; at < n; at += EG_LANE_ELEMS) {
        uint64_t m = n - at < EG_LANE_ELEMS ? n - at : EG_LANE_ELEMS;
        eg_state part;
        eg_lanes_any(p + at * esize, NULL, m, dtype, groups, words);
        eg_chunk_state_any(words, p + at * esize, NULL, m, base + at, dtype,
                           groups, &part);
        eg_state_merge(out, &part);
    }
}
