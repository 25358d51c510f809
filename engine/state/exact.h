/* exact.h - the exact part of a partial state (exact mode): fixed-point
 * superaccumulators wide enough for every finite double and every product of
 * two doubles, plus the bits of arithmetic on them.
 *
 * Each accumulator is a two's-complement integer of 64-bit words, least
 * significant first, whose bit 0 weighs 2^lsb:
 *
 *   sum, l1   lsb 2^-1074 (the smallest subnormal); every double is a whole
 *             number of these, and 2^64 of the largest fit below the top
 *             (2^1024 * 2^64 < 2^(2176 - 1074 - 1)): 34 words.
 *   sq, dot   lsb 2^-2148 (the smallest product of two subnormals); products
 *             reach 2^2048, times 2^64 of them: 67 words.
 *
 * Adding is integer addition, so merging is associative and commutative bit
 * for bit: the exact value, and hence every result, does not depend on the
 * order in which elements, lanes, chunks or grid states arrive.  f32 input
 * uses the same accumulators (an f32 is an exact double, and so is the
 * product of two). */
#ifndef EG_EXACT_H
#define EG_EXACT_H

#include <stddef.h>
#include <stdint.h>

#define EG_EXACT_SUM_WORDS 34
#define EG_EXACT_PROD_WORDS 67
#define EG_EXACT_SUM_LSB (-1074)
#define EG_EXACT_PROD_LSB (-2148)

typedef struct eg_exact {
    uint64_t sum[EG_EXACT_SUM_WORDS];  /* sum of x */
    uint64_t l1[EG_EXACT_SUM_WORDS];   /* sum of |x| */
    uint64_t sq[EG_EXACT_PROD_WORDS];  /* sum of x^2 (var, std, l2) */
    uint64_t dot[EG_EXACT_PROD_WORDS]; /* sum of x*y */
} eg_exact;

/* w (nw words, bit 0 weighing 2^lsb) += d.  d must be finite and a whole
 * multiple of 2^lsb, which every double is for the lsb above. */
void eg_fixed_add_double(uint64_t *w, size_t nw, int lsb, double d);

/* w += a * b, the exact product of two finite doubles (no rounding, no
 * overflow, no underflow): for the product accumulators. */
void eg_fixed_add_product(uint64_t *w, size_t nw, int lsb, double a, double b);

/* w += v, both nw words. */
void eg_fixed_add(uint64_t *w, const uint64_t *v, size_t nw);

/* -1, 0 or 1: the sign of w. */
int eg_fixed_sign(const uint64_t *w, size_t nw);

/* 1 when w is zero. */
int eg_fixed_is_zero(const uint64_t *w, size_t nw);

/* acc += right for the accumulators that `groups` (EG_G_* of state.h) use. */
void eg_exact_merge(eg_exact *acc, const eg_exact *right, unsigned groups);

#endif
