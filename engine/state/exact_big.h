/* exact_big.h - unsigned big integers for finishing exact states: the
 * magnitudes of the superaccumulators, n * sum(x^2) - (sum x)^2 for the
 * variance, quotients for means and variances, and rounding to double.
 * Fixed capacity, no allocation; every operation is exact. */
#ifndef EG_EXACT_BIG_H
#define EG_EXACT_BIG_H

#include <stddef.h>
#include <stdint.h>

/* (sum x)^2 takes 68 words and the shifts of a division 3 more. */
#define EG_BIG_WORDS 80

typedef struct eg_big {
    uint64_t w[EG_BIG_WORDS]; /* least significant first */
    size_t n;                 /* words in use; w[n..] are zero */
} eg_big;

/* |v| of a two's-complement accumulator; returns 1 when v < 0. */
int eg_big_from_fixed(eg_big *out, const uint64_t *v, size_t nw);
void eg_big_from_u128(eg_big *out, uint64_t lo, uint64_t hi);
/* Bits up to the highest set one; 0 for zero. */
unsigned eg_big_bits(const eg_big *a);
int eg_big_cmp(const eg_big *a, const eg_big *b);
/* out = a * b (out may not alias a or b). */
void eg_big_mul(eg_big *out, const eg_big *a, const eg_big *b);
/* a -= b, requires a >= b. */
void eg_big_sub(eg_big *a, const eg_big *b);
/* a <<= s (the result must fit EG_BIG_WORDS). */
void eg_big_shl(eg_big *a, unsigned s);
/* q = a / d, rounded down; returns 1 when the remainder is non-zero.
 * d is a non-zero 128-bit value (lo, hi). */
int eg_big_div(eg_big *q, const eg_big *a, uint64_t dlo, uint64_t dhi);

/* a * 2^lsb (plus a sticky amount below its last bit when `sticky`), rounded
 * to nearest even on 53 bits: *mant in [2^52, 2^53] and the value is
 * *mant * 2^*exp.  The exponent is unbounded; with `ieee` it is kept at or
 * above -1074, so the rounding is the one of a double, subnormals included.
 * Returns 0 for a == 0. */
int eg_big_round(const eg_big *a, int lsb, int sticky, int ieee,
                 uint64_t *mant, int *exp);

/* a * 2^lsb correctly rounded to a double with sign `neg` (overflow gives
 * +-inf, as IEEE rounding does). */
double eg_big_to_double(const eg_big *a, int lsb, int sticky, int neg);

#endif
