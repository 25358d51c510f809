/* lane_sets.h - the group sets the SIMD passes of full float lanes
 * (lanes_avx512.c, lanes_avx2.c) compile a pass of their own for: the
 * common asks, with only their groups' code left in.  Any other set takes
 * a pass that tests the groups as it goes. */
#ifndef EG_LANE_SETS_H
#define EG_LANE_SETS_H

#include "state.h"

/* Extremes, l1, l2 or dot asked for alone (with count at most): no sum. */
#define EG_MINMAX_ONLY (EG_G_MINMAX | EG_G_NO_SUM)
#define EG_L1_ONLY (EG_G_L1 | EG_G_NO_SUM)
#define EG_L2_ONLY (EG_G_L2 | EG_G_NO_SUM)
#define EG_DOT_ONLY (EG_G_DOT | EG_G_NO_SUM)

/* X(name, F32, groups) for each set, in the order eg_special_set counts. */
#define EG_SPECIAL_SETS(X, SFX, F32)                                         \
    X(sum_##SFX, F32, 0u)                                                    \
    X(minmax_##SFX, F32, EG_G_MINMAX)                                        \
    X(var_##SFX, F32, EG_G_VAR)                                              \
    X(l1_##SFX, F32, EG_G_L1)                                                \
    X(l2_##SFX, F32, EG_G_L2)                                                \
    X(dot_##SFX, F32, EG_G_DOT)                                              \
    X(fused_##SFX, F32, EG_G_VAR | EG_G_MINMAX)                              \
    X(minmax_only_##SFX, F32, EG_MINMAX_ONLY)                                \
    X(l1_only_##SFX, F32, EG_L1_ONLY)                                        \
    X(l2_only_##SFX, F32, EG_L2_ONLY)                                        \
    X(dot_only_##SFX, F32, EG_DOT_ONLY)

/* For a table of the instances' names in that order. */
#define EG_SPECIAL_NAME(NAME, F32, G) NAME,
#define EG_SPECIAL_GROUPS(NAME, F32, G) G,

/* Where g is in that order; -1 when it has no pass of its own. */
static inline int eg_special_set(unsigned g)
{
    static const unsigned sets[] = {EG_SPECIAL_SETS(EG_SPECIAL_GROUPS, , 0)};
    for (int i = 0; i < (int)(sizeof sets / sizeof *sets); i++)
        if (sets[i] == g)
            return i;
    return -1;
}

#endif
