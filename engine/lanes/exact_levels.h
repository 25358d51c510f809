/* exact_levels.h - the level plan of an exact lane (see lanes.h): from the
 * largest and the smallest non-zero magnitude of a lane's terms, the grids
 * its terms are cut onto.  kernels/reduce_exact.cl restates these integer
 * rules (a kernel cannot include this file); tests/test_opencl.c holds the
 * two to the same record words.
 *
 * Why the pieces sum exactly: a lane has at most 2^13 terms per level (4096
 * elements, two terms each for f64 products).  Terms are below 2^E and whole
 * multiples of 2^B.  Level 1 cuts with sigma = 1.5 * 2^k, k = E + 12, so
 * sigma + t stays inside sigma's binade and q = (sigma + t) - sigma is t
 * rounded to a multiple of 2^(k-52), exactly; 2^13 such q stay below
 * 2^(k+1) = 2^53 grid steps, so their sum never rounds.  The remainder
 * t - q is exact and below 2^(k-53); level j+1 does the same with
 * k - 41.  The last level adds the remainders themselves, multiples of 2^B
 * below 2^(k-53), which stays exact while k <= B + 93: with L levels the
 * span E - B may reach 40 (L = 1) or 81 + 41 (L - 2).  Terms up to 2^E
 * (not only below) are fine too, which the rounded products need.
 *
 * Products a * b (x * x, x * y) with |a| < 2^ea, 2^fa <= |a| and a on the
 * 2^ba grid: p = fl(a * b) is at most 2^(ea + eb) and on the grid of
 * 2^max(ba + bb, fa + fb - 52) (its own ulp); for f64 its exact error
 * e = a * b - p (fma) is at most 2^(ea + eb - 53) and on the 2^(ba + bb)
 * grid.  p and e get plans of their own: each spans about half the bits of
 * the pair.  f64 products must keep ba + bb >= -1074, which keeps every
 * non-zero p normal and e exact; f32 products are exact, with no e. */
#ifndef EG_EXACT_LEVELS_H
#define EG_EXACT_LEVELS_H

#include <stdint.h>
#include <string.h>

#include "exact_rules.h"
#include "lanes.h"

/* The one-pass plan.  A kernel would rather not read a lane twice, so each
 * lane first guesses its plan from its first EG_EXACT_GUESS_ELEMS elements:
 * E from their largest |x| plus EG_EXACT_GUESS_MARGIN binades, and a fixed
 * number of levels per kind of term (exact_rules.h), which fixes the lowest
 * grid.  It then cuts and scans in the same pass, and keeps the result when
 * the scan shows the guess held (every term below 2^E and on the lowest
 * grid); otherwise it recomputes the lane with the plan of its actual
 * bounds.  The rule is a function of the lane's data alone, so every
 * backend picks the same plan and writes the same words. */

typedef struct eg_level_plan {
    int levels; /* 0: every term is zero */
    double sigma[EG_EXACT_LEVELS - 1];
} eg_level_plan;

/* Float formats: fraction bits and exponent bias. */
#define EG_F64_MANT 52
#define EG_F64_BIAS 1023
#define EG_F32_MANT 23
#define EG_F32_BIAS 127

/* Fills the plan of `levels` levels for terms up to 2^e; 0 when a sigma
 * would not be a finite normal double. */
static inline int eg_exact_fixed_plan(int e, int levels, eg_level_plan *p)
{
    if (!eg_exact_fixed_fits(e, levels))
        return 0;
    p->levels = levels;
    for (int j = 0; j + 1 < levels; j++)
        p->sigma[j] = eg_exact_level_sigma(e, j);
    return 1;
}

/* Fills the plan for terms below 2^e that are multiples of 2^b; 0 when the
 * span needs more than EG_EXACT_LEVELS levels or e is too large (the lane
 * then goes the careful way). */
static inline int eg_exact_plan(int e, int b, eg_level_plan *p)
{
    int levels = eg_exact_levels_for(e, b, EG_EXACT_LEVELS);
    if (!levels)
        return 0;
    p->levels = levels;
    for (int j = 0; j + 1 < levels; j++)
        p->sigma[j] = eg_exact_level_sigma(e, j);
    return 1;
}

#endif
