/* state.h - the mergeable partial state: the one algebra of edgegrid.
 *
 *   lane records (kernels, host)  -> eg_state_from_lane
 *   eg_state_merge(left, right)   (left covers lower indices)
 *   eg_state_finalize             -> eg_result values
 *   eg_state_encode / decode      (versioned little-endian wire form)
 *
 * Kernels, the host backend, the scheduler and the grid all produce and merge
 * these states; nothing else computes a result.
 */
#ifndef EG_STATE_H
#define EG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "exact.h"

/* Accumulator groups: what a kernel must compute for a set of ops.  The sum
 * is computed unless EG_G_NO_SUM says no op reads it. */
enum {
    EG_G_MINMAX = 1u << 0, /* min max argmin argmax */
    EG_G_VAR = 1u << 1,    /* var std (shifted sums) */
    EG_G_L1 = 1u << 2,
    EG_G_L2 = 1u << 3,
    EG_G_DOT = 1u << 4,
    EG_G_ALL = 0x1f,
    /* Not an accumulator group but the mode: exact lanes and states (floats
     * in exact mode; the engine sets it, see exact.h). */
    EG_G_EXACT = 1u << 5,
    /* No op reads the sum: neither sum nor mean is asked for, and some
     * group is.  The host lanes then skip the sum, which costs as much as
     * l1, l2 or dot itself, and write its words as zero; the state's sum
     * stays zero.  The sum was how a lane revealed NaN or an infinity:
     * without it the words of EG_G_REVEALS do (|x|, x^2, x*y and x - k are
     * non-finite whenever x is), and a set of min and max alone has the
     * host flag the lane EG_LANE_NEEDS_CAREFUL.  Kernels may still fill the
     * sum words, which the decoder then checks for finiteness but does not
     * keep.  eg_groups_for_ops sets it. */
    EG_G_NO_SUM = 1u << 6
};

/* The groups whose words are non-finite whenever an element is. */
#define EG_G_REVEALS (EG_G_VAR | EG_G_L1 | EG_G_L2 | EG_G_DOT)

/* The groups of a fast-mode reduction of these ops. */
unsigned eg_groups_for_ops(unsigned ops);
/* The groups the engine computes for these ops in this mode on this
 * dtype: exact mode adds EG_G_EXACT for floats only (integer sums are
 * exact already).  Every producer and checker of states takes this one. */
unsigned eg_groups_for(unsigned ops, eg_mode mode, eg_dtype dtype);

/* Whether a state computed for groups `have` holds what the groups `want`
 * read: every accumulator group, the sum unless `want` skips it, and the
 * same mode. */
static inline int eg_groups_cover(unsigned have, unsigned want)
{
    unsigned acc = EG_G_ALL | EG_G_EXACT;
    return (want & acc & ~have) == 0 &&
           ((have ^ want) & EG_G_EXACT) == 0 &&
           (!(have & EG_G_NO_SUM) || (want & EG_G_NO_SUM));
}

#define EG_NONE_INDEX UINT64_MAX

typedef union eg_value {
    double f;
    int64_t i;
    uint64_t u;
} eg_value;

/* A decoded lane: the words a kernel writes plus the special-value counters
 * only the careful host path fills (the fast kernels assume finite data and
 * leave them zero). Indices are relative to the start of the chunk. */
typedef struct eg_lane {
    uint64_t n;                /* elements in the lane */
    double sum_s, sum_c;       /* floats: TwoSum-compensated finite sum */
    uint64_t isum_lo;          /* ints: exact 128-bit sum */
    int64_t isum_hi;
    uint64_t vn;               /* finite elements behind k/d1/d2 */
    double k, d1, d2;          /* shift, sum(x-k), sum((x-k)^2) */
    eg_value min, max;
    uint64_t argmin, argmax;   /* EG_NONE_INDEX if no candidate */
    double l1_s, l1_c;         /* floats */
    uint64_t il1_lo, il1_hi;   /* ints: exact 128-bit sum of |x| */
    double l2_sml, l2_med, l2_big;  /* Blue's three sums of squares */
    double dot_s, dot_c;
    uint64_t flags;            /* EG_LANE_NEEDS_CAREFUL */
    uint64_t nan_n, first_nan, pinf_n, ninf_n;
    uint64_t dot_nan_in, dot_nan_gen, dot_pinf, dot_ninf;
} eg_lane;

typedef struct eg_state {
    eg_dtype dtype;
    unsigned groups;
    uint64_t n;                /* elements, NaN included */
    uint64_t nan_n, first_nan; /* first_nan: global index or EG_NONE_INDEX */
    uint64_t pinf_n, ninf_n;
    double sum_s, sum_c;
    uint64_t isum_lo;
    int64_t isum_hi;
    uint64_t vn;               /* finite elements behind the moments */
    double mean_k, mean_q;     /* mean = mean_k + mean_q: a shift (the first
                                  lane's k) and the offset from it, so means
                                  near 1e9 keep their low digits in merges */
    double m2;                 /* Chan's M2 */
    eg_value min, max;
    uint64_t argmin, argmax;
    double l1_s, l1_c;
    uint64_t il1_lo, il1_hi;
    double l2_sml, l2_med, l2_big;
    double dot_s, dot_c;
    uint64_t dot_nan_in, dot_nan_gen, dot_pinf, dot_ninf;
    eg_exact ex;               /* only with EG_G_EXACT: the exact sums; the
                                  fast fields above that they replace stay
                                  zero.  Keep it last (see state.c). */
} eg_state;

/* The identity of merge. */
void eg_state_init(eg_state *s, eg_dtype dtype, unsigned groups);
/* One lane; its indices are relative to a chunk whose first element has
 * global index `base`. */
void eg_state_from_lane(eg_state *s, const eg_lane *lane, eg_dtype dtype,
                        unsigned groups, uint64_t base);
/* Adds `offset` to every index the state holds (argmin, argmax, first NaN):
 * a state computed over a slice, re-based to the slice's global position. */
void eg_state_shift(eg_state *s, uint64_t offset);
/* acc = acc (+) right, where right covers indices after acc's. */
void eg_state_merge(eg_state *acc, const eg_state *right);
/* Fills out->value[] for the ops in `ops`. EG_EOVERFLOW when an integer sum
 * does not fit the 64-bit result. */
eg_status eg_state_finalize(const eg_state *s, unsigned ops,
                            eg_nan_policy nan, unsigned ddof, eg_result *out,
                            eg_error *err);

/* Wire form: "EGST", u16 version, then fixed little-endian fields and the
 * exact block (version 2: the block was added; version 3: EG_G_NO_SUM, a
 * state whose sum is zero because no op reads it). */
#define EG_STATE_WIRE_VERSION 3
size_t eg_state_encoded_size(void);
size_t eg_state_encode(const eg_state *s, uint8_t *buf, size_t cap);
eg_status eg_state_decode(eg_state *s, const uint8_t *buf, size_t len,
                          eg_error *err);
/* Compact form: the same bytes without the exact block, for fast-mode
 * states only (encode returns 0 for an exact state, decode refuses one);
 * decoding gives a zero exact block. */
size_t eg_state_compact_size(void);
size_t eg_state_encode_compact(const eg_state *s, uint8_t *buf, size_t cap);
eg_status eg_state_decode_compact(eg_state *s, const uint8_t *buf, size_t len,
                                  eg_error *err);

#endif
