/* avx512_extreme.h - where a lane's extreme first occurs, with AVX-512
 * (lanes_avx512.c, lanes_exact_avx512.c).  Both paths find a lane's min and
 * max on the input type with vminps/vmaxps (widening is exact and monotone,
 * so it is the same value), then its first index by one compare scan of
 * the lane while it is still in L1: the index the scalar rule "v < mn"
 * keeps, and the one the slot order gives (per slot the first extreme,
 * ties between slots to the smaller index).  x86-64 GCC-compatible
 * compilers only: include after <immintrin.h>. */
#ifndef EG_AVX512_EXTREME_H
#define EG_AVX512_EXTREME_H

#include <stdint.h>

#include "lanes.h"

/* First index among the n elements at x (n a multiple of four vectors,
 * never past the lane's end) holding a value equal to m; 0 when none
 * does, as for a NaN extreme (such lanes go the careful way).  Four
 * vectors per step, so the branch and the loop cost a quarter. */
#define EG_DEFINE_FIRST_EQUAL(SFX, T, V, W, SET1, LOAD, CMP, MASK)           \
    __attribute__((target("avx512f"))) static uint64_t first_equal_##SFX(    \
        const T *x, uint64_t n, T m)                                         \
    {                                                                        \
        V vm = SET1(m);                                                      \
        for (uint64_t i = 0; i < n; i += 4 * (W)) {                          \
            MASK h0 = CMP(LOAD(x + i), vm, _CMP_EQ_OQ);                      \
            MASK h1 = CMP(LOAD(x + i + (W)), vm, _CMP_EQ_OQ);                \
            MASK h2 = CMP(LOAD(x + i + 2 * (W)), vm, _CMP_EQ_OQ);            \
            MASK h3 = CMP(LOAD(x + i + 3 * (W)), vm, _CMP_EQ_OQ);            \
            if (h0 | h1 | h2 | h3) {                                         \
                uint64_t all = (uint64_t)h0 | (uint64_t)h1 << (W) |          \
                               (uint64_t)h2 << 2 * (W) |                     \
                               (uint64_t)h3 << 3 * (W);                      \
                return i + (uint64_t)__builtin_ctzll(all);                   \
            }                                                                \
        }                                                                    \
        return 0;                                                            \
    }

EG_DEFINE_FIRST_EQUAL(f32, float, __m512, 16, _mm512_set1_ps,
                      _mm512_loadu_ps, _mm512_cmp_ps_mask, __mmask16)
EG_DEFINE_FIRST_EQUAL(f64, double, __m512d, 8, _mm512_set1_pd,
                      _mm512_loadu_pd, _mm512_cmp_pd_mask, __mmask8)

#endif
