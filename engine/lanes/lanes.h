/* lanes.h - the canonical lane: the unit of work every backend computes the
 * same way, bit for bit.
 *
 * A chunk of n elements is cut into lanes of EG_LANE_ELEMS consecutive
 * elements (the last may be shorter).  Inside a lane, element i (0-based in the
 * lane) feeds slot i % 8 in increasing i, and each slot accumulates in double
 * precision with IEEE round-to-nearest, no FMA contraction:
 *
 *   v = (double)x[i]            k = (double)x[0] of the lane
 *   sum:  rows (8 elements, one per slot) go in blocks of EG_LANE_BLOCK_ROWS:
 *         per slot, b = +0.0, b += v for each row of the block, then
 *         TwoSum(s, b) -> s, c += err     (t = s + b; z = t - s;
 *                                          err = (s - (t - z)) + (b - z)).
 *         A last, partial block (fewer rows, or a partial row) is summed
 *         the same way and added to every slot at the lane's end, whether
 *         or not the slot got an element in it.  A block of at most 4
 *         terms rounds 3 times, so the fast-mode bound holds:
 *         |err| <= (3u + 2u) sum|x| < 2^-50 sum|x|.
 *   var:  d = v - k;  d1 += d;  d2 += d * d
 *   min:  if (v < mn || (v == mn && amin == none)) mn = v, amin = i
 *         (mn starts at +inf, amin at EG_NONE_INDEX: the first non-NaN
 *         element is always taken, so an all-+inf slot has min +inf at its
 *         first index, not "no element")     max: the same with >, -inf
 *   l1:   fabs(v) in blocks like sum
 *   l2:   ssq += v * v
 *   dot:  p = v * (double)y[i] in blocks like sum
 *   ints: exact 128-bit sums of x and |x| (order free), integer min/max.
 *
 * The 8 slots then combine as ((0,1),(2,3)),((4,5),(6,7)): compensated pairs
 * by TwoSum of the s parts with c = (c_a + c_b) + err; plain sums by +; min and
 * max by value, ties to the smaller index.  A lane record is EG_LANE_WORDS
 * 64-bit words (doubles as their bit patterns, indices relative to the chunk):
 */
#ifndef EG_LANES_H
#define EG_LANES_H

#include <stdint.h>

#include "state.h"

#define EG_LANE_SLOTS 8
#define EG_LANE_BLOCK_ROWS 4
#define EG_LANE_WORDS 16

enum {
    EG_W_SUM_S = 0,   /* floats: double s      ints: u64 low word of sum  */
    EG_W_SUM_C = 1,   /* floats: double c      ints: i64 high word        */
    EG_W_K = 2,       /* double shift k                                   */
    EG_W_D1 = 3,      /* double                                           */
    EG_W_D2 = 4,      /* double                                           */
    EG_W_MIN = 5,     /* floats: double        ints: i64 or u64 bits      */
    EG_W_MAX = 6,
    EG_W_ARGMIN = 7,  /* u64 index in the chunk                           */
    EG_W_ARGMAX = 8,
    EG_W_L1_S = 9,    /* floats: double s      ints: u64 low word of sum|x| */
    EG_W_L1_C = 10,   /* floats: double c      ints: u64 high word        */
    EG_W_SSQ = 11,    /* double sum of squares                            */
    EG_W_DOT_S = 12,
    EG_W_DOT_C = 13,
    EG_W_COUNT = 14,  /* u64 elements in the lane                         */
    EG_W_FLAGS = 15   /* EG_LANE_* bits                                   */
};

/* Set by a kernel when a value it saw cannot be handled by the fast path
 * (f64 l2: |x| outside Blue's middle range).  Non-finite inputs need no flag:
 * they make the sum word non-finite, which the decoder checks.  With
 * EG_G_NO_SUM (state.h) the host writes the sum words as zero, and the
 * words of var, l1, l2 or dot, non-finite whenever an element is, or the
 * host's own flag (EG_LANE_CHECKS_ITSELF) take over; a kernel that fills
 * the sum words anyway still has them checked, never kept. */
#define EG_LANE_NEEDS_CAREFUL 1u

/* Whether the host must look for NaN and infinities itself and flag such
 * a lane: without the sum and without a group whose words reveal them (min
 * and max alone skip NaN).  A kernel's sum words, which the decoder checks,
 * reveal the same lanes (state.h, EG_G_NO_SUM). */
#define EG_LANE_CHECKS_ITSELF(g)                                               \
    (((g) & EG_G_NO_SUM) && !((g) & EG_G_REVEALS))

/* Blue's thresholds for double (LAPACK dnrm2). */
#define EG_BLUE_TSML 0x1p-511
#define EG_BLUE_TBIG 0x1p+486
#define EG_BLUE_SSML 0x1p+537
#define EG_BLUE_SBIG 0x1p-538

static inline uint64_t eg_lane_count(uint64_t n)
{
    return (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
}

/* Host implementation of the fast path, the reference for every kernel:
 * fills eg_lane_count(n) records. */
void eg_lanes_fast(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                   unsigned groups, uint64_t *words);

/* Decodes one record; returns 0 if the fast path was invalid for it (a
 * non-finite accumulator, or EG_LANE_NEEDS_CAREFUL) and the lane must be
 * recomputed by eg_lane_careful. */
int eg_lane_decode(const uint64_t *words, eg_dtype dtype, unsigned groups,
                   eg_lane *out);

/* The careful path for one lane of m elements: handles NaN, infinities and
 * extreme magnitudes; gives the fast path's bits when all are finite and in
 * range. `base` is the lane's first index in the chunk. */
void eg_lane_careful(const void *x, const void *y, uint64_t m, uint64_t base,
                     eg_dtype dtype, unsigned groups, eg_lane *out);

/* Folds a chunk's lane records into one state: decodes each record, redoes
 * invalid lanes carefully from x/y, merges in lane order.  `offset` is the
 * chunk's first global index. */
void eg_chunk_state(const uint64_t *words, const void *x, const void *y,
                    uint64_t n, uint64_t offset, eg_dtype dtype,
                    unsigned groups, eg_state *out);

/* The loop of eg_chunk_state without its eg_state_init: folds the records
 * into `out` in lane order, so that a chunk's lanes taken in pieces (tiles
 * of whole lanes, `offset` each piece's first index) give the bits of the
 * chunk taken at once. */
void eg_chunk_fold(const uint64_t *words, const void *x, const void *y,
                   uint64_t n, uint64_t offset, eg_dtype dtype,
                   unsigned groups, eg_state *out);

/* ------------------------------------------------------------ exact lanes
 *
 * With EG_G_EXACT (floats in exact mode) a lane record is EG_EXACT_LANE_WORDS
 * words instead.  A lane first finds its largest |x| (< 2^E) and the smallest
 * non-zero one, whose ulp 2^B divides every element; then every term (x, |x|,
 * x^2 and x*y: for f64 as TwoProduct pairs p + e, the rounded products p and
 * their exact errors e on plans of their own, as e is 2^-53 times smaller;
 * f32 products are exact) is cut into at most EG_EXACT_LEVELS pieces on
 * fixed grids (Rump's extraction q = (sigma + r) - sigma with sigma =
 * 1.5 * 2^k, k = E + 12, E + 12 - 41, ...), and each level sums its pieces
 * in a double.
 * The grids leave 13 bits of headroom over 2^13 terms, so every level sum is
 * exact whatever the order, and the record holds those exact level sums:
 * the same bits from any backend.  A lane whose terms span too many bits
 * (or holds NaN or an infinity, or f64 products that would underflow) is
 * flagged EG_LANE_NEEDS_CAREFUL and redone on the host straight into the
 * superaccumulators (exact_chunk.c). */
#define EG_EXACT_LEVELS 5

enum {
    EG_X_COUNT = 0,  /* u64 elements in the lane                         */
    EG_X_FLAGS = 1,  /* EG_LANE_NEEDS_CAREFUL: all other words are zero   */
    EG_X_MIN = 2,    /* double, as the fast record                       */
    EG_X_MAX = 3,
    EG_X_ARGMIN = 4, /* u64 index in the chunk, EG_NONE_INDEX without    */
    EG_X_ARGMAX = 5, /*   EG_G_MINMAX                                    */
    EG_X_SUM = 6,    /* EG_EXACT_LEVELS exact level sums of x             */
    EG_X_L1 = 11,    /* ... of |x|                                       */
    EG_X_SQ = 16,    /* ... of x^2 (f64: of p = fl(x * x))               */
    EG_X_SQ_E = 21,  /* ... of e = x * x - p (f64 only)                  */
    EG_X_DOT = 26,   /* ... of x*y (f64: of p = fl(x * y))               */
    EG_X_DOT_E = 31, /* ... of e = x * y - p (f64 only)                  */
    EG_EXACT_LANE_WORDS = 36
};

/* Words per lane record for `groups`: what the scheduler's buffers and the
 * kernels' output size take. */
static inline uint64_t eg_lane_words(unsigned groups)
{
    return (groups & EG_G_EXACT) ? EG_EXACT_LANE_WORDS : EG_LANE_WORDS;
}

/* Host implementation of the exact lane (lanes_exact.c), the reference for
 * the exact kernel: fills eg_lane_count(n) records. */
void eg_lanes_exact(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                    unsigned groups, uint64_t *words);

/* eg_chunk_state for exact records (exact_chunk.c). */
void eg_exact_chunk_state(const uint64_t *words, const void *x, const void *y,
                          uint64_t n, uint64_t offset, eg_dtype dtype,
                          unsigned groups, eg_state *out);

/* eg_chunk_fold for exact records (exact_chunk.c). */
void eg_exact_chunk_fold(const uint64_t *words, const void *x, const void *y,
                         uint64_t n, uint64_t offset, eg_dtype dtype,
                         unsigned groups, eg_state *out);

/* The lane records of either mode, on the host. */
static inline void eg_lanes_any(const void *x, const void *y, uint64_t n,
                                eg_dtype dtype, unsigned groups,
                                uint64_t *words)
{
    if (groups & EG_G_EXACT)
        eg_lanes_exact(x, y, n, dtype, groups, words);
    else
        eg_lanes_fast(x, y, n, dtype, groups, words);
}

/* Records made by one call over several chunks index from the call's
 * first element: those of the chunk `at` elements into the call, from the
 * chunk's own, as eg_chunk_state reads them.  Only extremes' indices move;
 * a lane without them (EG_NONE_INDEX) keeps its word. */
static inline void eg_lanes_rebase(uint64_t *words, uint64_t lanes,
                                   unsigned groups, uint64_t at)
{
    if (at == 0 || !(groups & EG_G_MINMAX))
        return;
    int exact = (groups & EG_G_EXACT) != 0;
    uint64_t nw = eg_lane_words(groups);
    int imin = exact ? EG_X_ARGMIN : EG_W_ARGMIN;
    int imax = exact ? EG_X_ARGMAX : EG_W_ARGMAX;
    for (uint64_t l = 0; l < lanes; l++) {
        uint64_t *w = words + l * nw;
        if (w[imin] != EG_NONE_INDEX)
            w[imin] -= at;
        if (w[imax] != EG_NONE_INDEX)
            w[imax] -= at;
    }
}

/* The chunk state from records of either mode. */
static inline void eg_chunk_state_any(const uint64_t *words, const void *x,
                                      const void *y, uint64_t n,
                                      uint64_t offset, eg_dtype dtype,
                                      unsigned groups, eg_state *out)
{
    if (groups & EG_G_EXACT)
        eg_exact_chunk_state(words, x, y, n, offset, dtype, groups, out);
    else
        eg_chunk_state(words, x, y, n, offset, dtype, groups, out);
}

/* eg_chunk_fold of either mode. */
static inline void eg_chunk_fold_any(const uint64_t *words, const void *x,
                                     const void *y, uint64_t n,
                                     uint64_t offset, eg_dtype dtype,
                                     unsigned groups, eg_state *out)
{
    if (groups & EG_G_EXACT)
        eg_exact_chunk_fold(words, x, y, n, offset, dtype, groups, out);
    else
        eg_chunk_fold(words, x, y, n, offset, dtype, groups, out);
}

#endif
