/* lanes_values.c - the state of a short run of values held on the host:
 * what a stream window folds its buffered records with.  The run is cut
 * into canonical lanes (lanes.h) and folded lane by lane in order
 * (eg_chunk_fold_any), so runs folded one after another give a window's
 * state the bits of its values taken as one chunk whenever the runs are
 * whole lanes. */
#include "engine_grid.h"

#include "lanes.h"

void eg_state_fold_values(eg_state *acc, const void *x, uint64_t n,
                          eg_dtype dtype, unsigned groups, uint64_t base)
{
    /* One lane record at a time keeps the words on the stack. */
    uint64_t words[EG_EXACT_LANE_WORDS];
    size_t esize = eg_dtype_size(dtype);
    const unsigned char *p = x;
    for (uint64_t at = 0; at < n; at += EG_LANE_ELEMS) {
        uint64_t m = n - at < EG_LANE_ELEMS ? n - at : EG_LANE_ELEMS;
        eg_lanes_any(p + at * esize, NULL, m, dtype, groups, words);
        eg_chunk_fold_any(words, p + at * esize, NULL, m, base + at, dtype,
                          groups, acc);
    }
}

void eg_state_of_values(const void *x, uint64_t n, eg_dtype dtype,
                        unsigned groups, uint64_t base, eg_state *out)
{
    eg_state_init(out, dtype, groups);
    eg_state_fold_values(out, x, n, dtype, groups, base);
}
