/* lane_slots.h - the eight slot accumulators of a lane and their fixed
 * combine tree, shared by the fast and careful host paths (lanes.h). */
#ifndef EG_LANE_SLOTS_H
#define EG_LANE_SLOTS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lanes.h"
#include "twosum.h"

/* Per-slot accumulators of one lane. */
typedef struct slots {
    double s[EG_LANE_SLOTS], c[EG_LANE_SLOTS];
    double d1[EG_LANE_SLOTS], d2[EG_LANE_SLOTS];
    double mn[EG_LANE_SLOTS], mx[EG_LANE_SLOTS];
    uint64_t amn[EG_LANE_SLOTS], amx[EG_LANE_SLOTS];
    double l1s[EG_LANE_SLOTS], l1c[EG_LANE_SLOTS];
    double sml[EG_LANE_SLOTS], med[EG_LANE_SLOTS], big[EG_LANE_SLOTS];
    double ds[EG_LANE_SLOTS], dc[EG_LANE_SLOTS];
    uint64_t flags; /* EG_LANE_* bits a pass found (the lane's, not a slot's) */
} slots;

static inline void slots_init(slots *sl)
{
    memset(sl, 0, sizeof *sl);
    for (int j = 0; j < EG_LANE_SLOTS; j++) {
        sl->mn[j] = INFINITY;
        sl->mx[j] = -INFINITY;
        sl->amn[j] = EG_NONE_INDEX;
        sl->amx[j] = EG_NONE_INDEX;
    }
}

/* The fixed combine tree ((0,1),(2,3)),((4,5),(6,7)): slot a absorbs slot b,
 * for the sum and the groups g (the others are left as they are). */
static inline void combine_slot(slots *sl, int a, int b, unsigned g)
{
    eg_twosum_pair(&sl->s[a], &sl->c[a], sl->s[b], sl->c[b]);
    if (g & EG_G_VAR) {
        sl->d1[a] = sl->d1[a] + sl->d1[b];
        sl->d2[a] = sl->d2[a] + sl->d2[b];
    }
    if (g & EG_G_MINMAX) {
        if (sl->mn[b] < sl->mn[a] ||
            (sl->mn[b] == sl->mn[a] && sl->amn[b] < sl->amn[a])) {
            sl->mn[a] = sl->mn[b];
            sl->amn[a] = sl->amn[b];
        }
        if (sl->mx[b] > sl->mx[a] ||
            (sl->mx[b] == sl->mx[a] && sl->amx[b] < sl->amx[a])) {
            sl->mx[a] = sl->mx[b];
            sl->amx[a] = sl->amx[b];
        }
    }
    if (g & EG_G_L1)
        eg_twosum_pair(&sl->l1s[a], &sl->l1c[a], sl->l1s[b], sl->l1c[b]);
    if (g & EG_G_L2) {
        sl->sml[a] = sl->sml[a] + sl->sml[b];
        sl->med[a] = sl->med[a] + sl->med[b];
        sl->big[a] = sl->big[a] + sl->big[b];
    }
    if (g & EG_G_DOT)
        eg_twosum_pair(&sl->ds[a], &sl->dc[a], sl->ds[b], sl->dc[b]);
}

static inline void combine_tree(slots *sl, unsigned g)
{
    static const int pairs[7][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7},
                                    {0, 2}, {4, 6}, {0, 4}};
    for (int i = 0; i < 7; i++)
        combine_slot(sl, pairs[i][0], pairs[i][1], g);
}

static inline uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Writes the double accumulators of slot 0 into a record. */
static inline void put_double_words(const slots *sl, unsigned g, double k,
                             uint64_t *w)
{
    w[EG_W_K] = dbits(k);
    if (g & EG_G_VAR) {
        w[EG_W_D1] = dbits(sl->d1[0]);
        w[EG_W_D2] = dbits(sl->d2[0]);
    }
    if (g & EG_G_L2)
        w[EG_W_SSQ] = dbits(sl->med[0]);
    if (g & EG_G_DOT) {
        w[EG_W_DOT_S] = dbits(sl->ds[0]);
        w[EG_W_DOT_C] = dbits(sl->dc[0]);
    }
}

/* The record of one float lane of m elements at `lane` from its slots
 * (combined here), flagged for the careful path where l2 needs it. */
void eg_float_lane_words(slots *sl, unsigned g, double k, const void *lane,
                         eg_dtype dtype, uint64_t m, uint64_t *w);

/* The first lanes of `lanes` full float lanes through the AVX-512 pass
 * (lanes_avx512.c); returns how many it did: 0 without AVX-512 or for
 * other dtypes, else a multiple of the lanes it takes side by side. */
uint64_t eg_lanes_avx512(const void *x, const void *y, uint64_t lanes,
                         eg_dtype dtype, unsigned g, uint64_t *words);

/* The same through the AVX2 and FMA pass (lanes_avx2.c), for x86 CPUs
 * without AVX-512: 0 without AVX2 and FMA or for other dtypes. */
uint64_t eg_lanes_avx2(const void *x, const void *y, uint64_t lanes,
                       eg_dtype dtype, unsigned g, uint64_t *words);

#endif
