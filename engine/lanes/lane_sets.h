/* lane_sets.h - the group sets the SIMD passes of full float lanes
 * (lanes_avx512.c, lanes_avx2.c) compile a pass of their own for: the
 * common asks, with only their groups' code left in.  Any other set takes
 * a pass that tests the groups as it goes. */
#ifndef EG_LANE_SETS_H
#define EG_LANE_SETS_H

#include "lane_slots.h"
#include "state.h"

/* Extremes, l1, l2 or dot asked for alone (with count at most): no sum. */
#define EG_MINMAX_ONLY (EG_G_MINMAX | EG_G_NO_SUM)
#define EG_L1_ONLY (EG_G_L1 | EG_G_NO_SUM)
#define EG_L2_ONLY (EG_G_L2 | EG_G_NO_SUM)
#define EG_DOT_ONLY (EG_G_DOT | EG_G_NO_SUM)

/* X(name, F32, groups) for each set, in the order eg_special_set counts. */
#define EG_SPECIAL_SETS(X, SFX, F32)                                           \
    X(sum_##SFX, F32, 0u)                                                      \
    X(minmax_##SFX, F32, EG_G_MINMAX)                                          \
    X(var_##SFX, F32, EG_G_VAR)                                                \
    X(l1_##SFX, F32, EG_G_L1)                                                  \
    X(l2_##SFX, F32, EG_G_L2)                                                  \
    X(dot_##SFX, F32, EG_G_DOT)                                                \
    X(fused_##SFX, F32, EG_G_VAR | EG_G_MINMAX)                                \
    X(minmax_only_##SFX, F32, EG_MINMAX_ONLY)                                  \
    X(l1_only_##SFX, F32, EG_L1_ONLY)                                          \
    X(l2_only_##SFX, F32, EG_L2_ONLY)                                          \
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

/* A SIMD pass over ln lanes side by side (lane j at element j *
 * EG_LANE_ELEMS of x and y) for groups g into their slots, sl[j] for lane
 * j; base is the first lane's first element index, k[j] lane j's shift. */
typedef void (*eg_lane_pass)(const void *x, const void *y, unsigned g,
                             uint64_t base, const double *k, slots *sl);

/* A SIMD file's passes.  The file defines TGT (its target attribute),
 * SIDE(G) (the lanes side by side for a set) and an always inlined
 * fused_lanes(x, y, f32, g, lanes side by side, base, k, sl); then
 * EG_LANE_PASSES(SFX, F32) defines a pass of its own for each set of
 * EG_SPECIAL_SETS (f32, g and the lanes constant, so only the groups asked
 * for remain), the table special_SFX of them in eg_special_set's order,
 * and any_SFX, one lane at a time testing g as it goes, for every other
 * set. */
#define EG_LANE_PASS_ONE(NAME, F32, G)                                         \
    TGT static void NAME(const void *x, const void *y, unsigned g,             \
                         uint64_t base, const double *k, slots *sl)            \
    {                                                                          \
        (void)g;                                                               \
        fused_lanes(x, y, F32, G, SIDE(G), base, k, sl);                       \
    }

#define EG_LANE_PASSES(SFX, F32)                                               \
    EG_SPECIAL_SETS(EG_LANE_PASS_ONE, SFX, F32)                                \
    TGT static void any_##SFX(const void *x, const void *y, unsigned g,        \
                              uint64_t base, const double *k, slots *sl)       \
    {                                                                          \
        fused_lanes(x, y, F32, g, 1, base, k, sl);                             \
    }                                                                          \
    static const eg_lane_pass special_##SFX[] = {                              \
        EG_SPECIAL_SETS(EG_SPECIAL_NAME, SFX, F32)};

/* The pass for g from the tables EG_LANE_PASSES(f32, 1) and (f64, 0)
 * defined, run over the lanes: the end of a file's eg_lanes_* entry. */
#define EG_LANE_PASSES_RUN(x, y, lanes, dtype, g, words)                       \
    do {                                                                       \
        int f32_ = (dtype) == EG_F32;                                          \
        int at_ = eg_special_set(g);                                           \
        eg_lane_pass pass_ = at_ < 0                                           \
                                 ? (f32_ ? any_f32 : any_f64)                  \
                                 : (f32_ ? special_f32 : special_f64)[at_];    \
        return eg_run_lane_pass(pass_, at_ < 0 ? 1 : SIDE(g), x, y, lanes,     \
                                dtype, g, words);                              \
    } while (0)

/* The most lanes any pass takes side by side. */
#define EG_PASS_MAX_LN 4

/* The first lanes of `lanes` full float lanes through `pass`, ln at a
 * time, each lane's record written to words: the driver both SIMD files
 * share.  Returns the lanes done, a multiple of ln; the rest are left for
 * the caller's generic path. */
static inline uint64_t eg_run_lane_pass(eg_lane_pass pass, int ln,
                                        const void *x, const void *y,
                                        uint64_t lanes, eg_dtype dtype,
                                        unsigned g, uint64_t *words)
{
    const int f32 = dtype == EG_F32;
    const uint64_t es = f32 ? 4 : 8, step = EG_LANE_ELEMS * es;
    uint64_t l = 0;
    for (; l + (uint64_t)ln <= lanes; l += (uint64_t)ln) {
        const char *xl = (const char *)x + l * step;
        const char *yl = y ? (const char *)y + l * step : NULL;
        slots sl[EG_PASS_MAX_LN];
        double k[EG_PASS_MAX_LN];
        for (int j = 0; j < ln; j++) {
            slots_init(&sl[j]);
            const char *lane = xl + (uint64_t)j * step;
            k[j] = f32 ? (double)*(const float *)lane : *(const double *)lane;
        }
        pass(xl, yl, g, l * EG_LANE_ELEMS, k, sl);
        for (int j = 0; j < ln; j++)
            eg_float_lane_words(&sl[j], g, k[j], xl + (uint64_t)j * step, dtype,
                                EG_LANE_ELEMS,
                                words + (l + (uint64_t)j) * EG_LANE_WORDS);
    }
    return l;
}

#endif
