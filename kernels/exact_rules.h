/* exact_rules.h - the integer rules of an exact lane's level plan, stated
 * once for the host (engine/lanes/exact_levels.h includes this file) and for
 * the OpenCL kernels (engine/backend/opencl/cl_program.c puts its embedded
 * bytes in front of reduce_exact.cl, so no kernel restates a rule and none is
 * looked up on disk at run time).  It compiles as C11 and as OpenCL C 1.2:
 * nothing here but integer arithmetic, one bit cast and the constants below.
 *
 * Why the plans sum exactly is explained in engine/lanes/exact_levels.h. */
#ifndef EG_EXACT_RULES_H
#define EG_EXACT_RULES_H

#ifdef __OPENCL_VERSION__
typedef ulong eg_rule_u64;
#define EG_RULE_FN
#else
#include <stdint.h>
#include <string.h>
typedef uint64_t eg_rule_u64;
#define EG_RULE_FN static inline
#endif

#define EG_EXACT_HEADROOM 13  /* log2 of the terms a level may take */
#define EG_EXACT_STEP 41      /* 54 - headroom: bits between two grids */
#define EG_EXACT_TOP_MAX 1010 /* largest E: sigma and the sums stay finite */

/* The one-pass plan's guess (see exact_levels.h): E from the largest |x|
 * of the first EG_EXACT_GUESS_ELEMS elements plus EG_EXACT_GUESS_MARGIN
 * binades, and a fixed number of levels per kind of term. */
#define EG_EXACT_GUESS_ELEMS 8
#define EG_EXACT_GUESS_MARGIN 2
#define EG_EXACT_FIX_X 2 /* levels of x and |x| */
#define EG_EXACT_FIX_P 3 /* of rounded products p */
#define EG_EXACT_FIX_E 3 /* of product errors e (f64) */

/* f64 products must stay on the 2^-1074 grid, which keeps every non-zero
 * p normal and e = a * b - p exact. */
#define EG_EXACT_F64_MIN_LOW (-1074)

/* E with |v| < 2^E, from the bits of |v| (sign cleared). */
EG_RULE_FN int eg_exact_top(eg_rule_u64 abs_bits, int mant, int bias)
{
    int be = (int)(abs_bits >> mant);
    return (be ? be : 1) - bias + 1;
}

/* B: the ulp of |v| (non-zero), which divides every element at least as
 * large. */
EG_RULE_FN int eg_exact_low(eg_rule_u64 abs_bits, int mant, int bias)
{
    int be = (int)(abs_bits >> mant);
    return (be ? be : 1) - bias - mant;
}

/* F with 2^F <= |v| (v non-zero): a lower bound of its binade. */
EG_RULE_FN int eg_exact_floor(eg_rule_u64 abs_bits, int mant, int bias)
{
    int be = (int)(abs_bits >> mant);
    return be ? be - bias : 1 - bias - mant;
}

/* 1.5 * 2^k for -1022 <= k <= 1023. */
EG_RULE_FN double eg_exact_sigma(int k)
{
    eg_rule_u64 bits = ((eg_rule_u64)(k + 1023) << 52) | ((eg_rule_u64)1 << 51);
#ifdef __OPENCL_VERSION__
    return as_double(bits);
#else
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
#endif
}

/* The largest span E - B that L levels hold. */
EG_RULE_FN int eg_exact_span(int levels)
{
    return levels == 1 ? 40 : 81 + EG_EXACT_STEP * (levels - 2);
}

/* The levels that terms below 2^e on the 2^b grid need, 0 when more than
 * `most` or e is too large (the lane then goes the careful way). */
EG_RULE_FN int eg_exact_levels_for(int e, int b, int most)
{
    int span = e - b, levels;
    if (span <= 40)
        levels = 1;
    else if (span <= 81)
        levels = 2;
    else
        levels = 2 + (span - 81 + EG_EXACT_STEP - 1) / EG_EXACT_STEP;
    return levels > most || e > EG_EXACT_TOP_MAX ? 0 : levels;
}

/* 1 when `levels` levels for terms up to 2^e have finite normal sigmas. */
EG_RULE_FN int eg_exact_fixed_fits(int e, int levels)
{
    int k_low = e + EG_EXACT_HEADROOM - 1 - EG_EXACT_STEP * (levels - 2);
    return !(e > EG_EXACT_TOP_MAX || (levels > 1 && k_low < -1022));
}

/* The extraction constant of level j (0-based) for terms up to 2^e. */
EG_RULE_FN double eg_exact_level_sigma(int e, int j)
{
    return eg_exact_sigma(e + EG_EXACT_HEADROOM - 1 - EG_EXACT_STEP * j);
}

/* A guessed plan of `levels` levels from 2^e_guess holds for terms up to
 * 2^e_act on the 2^b_act grid. */
EG_RULE_FN int eg_exact_guess_fits(int e_act, int b_act, int e_guess,
                                   int levels)
{
    return e_act <= e_guess && b_act >= e_guess - eg_exact_span(levels);
}

#endif
