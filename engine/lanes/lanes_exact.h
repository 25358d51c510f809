/* lanes_exact.h - what the two spellings of the exact lane share: the
 * generic reference (lanes_exact.c, every CPU) and the AVX-512 one-pass
 * path (lanes_exact_avx512.c).  Both pick a lane's plans with the same
 * functions, so they cut onto the same grids and write the same words. */
#ifndef EG_LANES_EXACT_H
#define EG_LANES_EXACT_H

#include <stdint.h>

#include "exact_levels.h"
#include "lanes.h"

/* The magnitudes of one operand of a lane. */
typedef struct eg_exact_mag {
    uint64_t max_bits;  /* bits of the largest |v| */
    uint64_t min1_bits; /* bits of the smallest non-zero |v|, minus 1 (so
                           zeros, as -1, never win); UINT64_MAX if none */
} eg_exact_mag;

/* Term kinds: x, |x|, the rounded products p of x * x and x * y, and (f64
 * only) their exact errors e = fma(v, w, -p). */
enum eg_exact_term {
    EG_T_X,
    EG_T_ABS,
    EG_T_SQ,
    EG_T_SQ_E,
    EG_T_DOT,
    EG_T_DOT_E,
    EG_T_KINDS
};

/* The guessed plans (exact_levels.h) of the kinds the groups g need, from
 * the first EG_EXACT_GUESS_ELEMS elements alone: what a one-pass lane cuts
 * with before it knows the lane's bounds; 0 when there is no guess (those
 * elements all zero or not finite, or a grid out of range). */
int eg_exact_guess_plans(const void *x, const void *y, uint64_t m,
                         int is_f64, unsigned g,
                         eg_level_plan plans[EG_T_KINDS]);

/* The plans a lane of m elements with spans sx (and sy, with EG_G_DOT)
 * takes: the guessed ones when they hold, else those of its actual
 * bounds; 0 if the lane must go the careful way. */
int eg_exact_lane_plans(const void *x, const void *y, uint64_t m,
                        const eg_exact_mag *sx, const eg_exact_mag *sy,
                        int is_f64, unsigned g,
                        eg_level_plan plans[EG_T_KINDS]);

/* Whether the kinds groups g write have the same plans in a and b (the
 * same plan cuts every term the same way, so gives the same words). */
int eg_exact_same_plans(const eg_level_plan *a, const eg_level_plan *b,
                        int is_f64, unsigned g);

/* Whether every term of each kind g needs lies on the grid of level
 * lev[kind] - 1 of its plan (the lane's bounds sx, sy tell), so that a cut
 * to lev[kind] levels gives the plan's level sums: that level then takes
 * each term whole (q = t), and the finer levels sum only zeros.  A
 * lane of f32 data within 2^17 of its top needs one level for x, not
 * two, and the f32 products two, not three. */
int eg_exact_short_holds(const eg_exact_mag *sx, const eg_exact_mag *sy,
                         int is_f64, unsigned g,
                         const eg_level_plan plans[EG_T_KINDS],
                         const int lev[EG_T_KINDS]);

/* The generic exact record of one lane of m elements (1 <= m <=
 * EG_LANE_ELEMS) whose first index in the chunk is `base`. */
void eg_exact_lane_generic(const void *x, const void *y, uint64_t m,
                           uint64_t base, int is_f64, unsigned g,
                           uint64_t *w);

/* eg_lanes_exact without the AVX-512 path: the reference the tests hold
 * that path to. */
void eg_lanes_exact_generic(const void *x, const void *y, uint64_t n,
                            eg_dtype dtype, unsigned g, uint64_t *words);

/* The records of the first `lanes` full float lanes through the AVX-512
 * path; returns how many it did (0 without AVX-512). */
uint64_t eg_lanes_exact_avx512(const void *x, const void *y, uint64_t lanes,
                               int is_f64, unsigned g, uint64_t *words);

#endif
