/* qselect_avx512.c - a selection pass over float data, 16 (float32) or 8
 * (float64) keys at a time: the key image, the NaN test and each bucket's
 * prefix test in vectors, so a block with no key in any bucket costs a
 * load and a few compares; the counting stays scalar (through a queue of
 * digits in the first pass).  The keys and digits are those of
 * quant_key.h and qselect.c, bit for bit. */
#include <stdint.h>

#include "qselect_vec.h"
#include "read_ahead.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define MAX_VG 16

/* The matching lanes' digits into the group's counts, or their keys. */
#define TAKE(G, HIT, K, DIGSH, SRL, AND, MASK, TMP)                            \
    do {                                                                       \
        if (!(G)->hist) {                                                      \
            _mm512_storeu_si512((void *)(TMP), (K));                           \
            for (unsigned m_ = (HIT); m_; m_ &= m_ - 1)                        \
                if ((G)->len < (G)->cap)                                       \
                    (G)->keys[(G)->len++] = (TMP)[__builtin_ctz(m_)];          \
        } else {                                                               \
            _mm512_storeu_si512((void *)(TMP),                                 \
                                AND(SRL((K), (DIGSH)), (MASK)));               \
            if ((HIT) == FULL) {                                               \
                /* every lane counts (the first pass): no mask walk */         \
                uint64_t *h_ = (G)->hist;                                      \
                for (unsigned l_ = 0; l_ < LANES; l_++)                        \
                    h_[(TMP)[l_]]++;                                           \
            } else {                                                           \
                for (unsigned m_ = (HIT); m_; m_ &= m_ - 1)                    \
                    (G)->hist[(TMP)[__builtin_ctz(m_)]]++;                     \
            }                                                                  \
        }                                                                      \
    } while (0)

/* The first pass counts every key's top 16 bits.  The digits of a block
 * without NaN go into a queue of 16-bit digits, counted in a plain loop
 * when it fills (a load and an increment a key, where taking each digit out
 * of the vector costs two operations more; hist_avx512.c does the same). */
#define QUEUE_LEN 2048u

static void queue_count(uint64_t *h, const uint16_t *q, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        h[q[i]]++;
}

TGT static uint64_t f32_first(const float *v, uint64_t n, uint64_t *h,
                              uint64_t *nan)
{
    const __m512i sign = _mm512_set1_epi32(INT32_MIN);
    uint64_t i = 0, nans = 0;
    uint16_t q[QUEUE_LEN];
    unsigned qn = 0;
    uint32_t tmp[16];
    for (; i + 16 <= n; i += 16) {
        eg_read_ahead(v + i, 64);
        __m512 x = _mm512_loadu_ps(v + i);
        __mmask16 isnan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        __m512i b = _mm512_castps_si512(x);
        __m512i d = _mm512_srli_epi32(
            _mm512_xor_si512(b,
                             _mm512_or_si512(_mm512_srai_epi32(b, 31), sign)),
            16);
        if (!isnan) {
            _mm256_storeu_si256((void *)(q + qn), _mm512_cvtepi32_epi16(d));
            if ((qn += 16) == QUEUE_LEN) {
                queue_count(h, q, qn);
                qn = 0;
            }
            continue;
        }
        nans += (uint64_t)__builtin_popcount(isnan);
        _mm512_storeu_si512((void *)tmp, d);
        for (unsigned m = (__mmask16)~isnan; m; m &= m - 1)
            h[tmp[__builtin_ctz(m)]]++;
    }
    queue_count(h, q, qn);
    *nan += nans;
    return i;
}

TGT static uint64_t f64_first(const double *v, uint64_t n, uint64_t *h,
                              uint64_t *nan)
{
    const __m512i sign = _mm512_set1_epi64(INT64_MIN);
    uint64_t i = 0, nans = 0;
    uint16_t q[QUEUE_LEN];
    unsigned qn = 0;
    uint64_t tmp[8];
    for (; i + 8 <= n; i += 8) {
        eg_read_ahead(v + i, 64);
        __m512d x = _mm512_loadu_pd(v + i);
        __mmask8 isnan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
        __m512i b = _mm512_castpd_si512(x);
        __m512i d = _mm512_srli_epi64(
            _mm512_xor_si512(b,
                             _mm512_or_si512(_mm512_srai_epi64(b, 63), sign)),
            48);
        if (!isnan) {
            _mm_storeu_si128((void *)(q + qn), _mm512_cvtepi64_epi16(d));
            if ((qn += 8) == QUEUE_LEN) {
                queue_count(h, q, qn);
                qn = 0;
            }
            continue;
        }
        nans += (uint64_t)__builtin_popcount(isnan);
        _mm512_storeu_si512((void *)tmp, d);
        for (unsigned m = (__mmask8)~isnan; m; m &= m - 1)
            h[tmp[__builtin_ctz(m)]]++;
    }
    queue_count(h, q, qn);
    *nan += nans;
    return i;
}

#define FULL 0xffffu
#define LANES 16u
TGT static uint64_t f32_pass(const float *v, uint64_t n, eg_select_vgroup *g,
                             size_t ng, uint64_t *nan)
{
    const __m512i sign = _mm512_set1_epi32(INT32_MIN);
    const __m512i mask16 = _mm512_set1_epi32(0xffff);
    __m512i want[MAX_VG];
    __m128i hi_sh[MAX_VG], dig_sh[MAX_VG];
    uint64_t i = 0, nans = 0;
    uint32_t tmp[16];
    for (size_t j = 0; j < ng; j++) {
        want[j] = _mm512_set1_epi32((int32_t)(uint32_t)g[j].prefix);
        hi_sh[j] = _mm_cvtsi32_si128(32 - (int)g[j].fixed);
        dig_sh[j] = _mm_cvtsi32_si128(g[j].hist ? 16 - (int)g[j].fixed : 0);
    }
    for (; i + 16 <= n; i += 16) {
        eg_read_ahead(v + i, 64);
        __m512 x = _mm512_loadu_ps(v + i);
        __mmask16 isnan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        __m512i b = _mm512_castps_si512(x);
        /* negative: all bits flipped; else the sign bit set */
        __m512i k = _mm512_xor_si512(
            b, _mm512_or_si512(_mm512_srai_epi32(b, 31), sign));
        nans += (uint64_t)__builtin_popcount(isnan);
        for (size_t j = 0; j < ng; j++) {
            __mmask16 hit = (__mmask16)~isnan;
            if (g[j].fixed != 0)
                hit &= _mm512_cmpeq_epi32_mask(_mm512_srl_epi32(k, hi_sh[j]),
                                               want[j]);
            if (hit)
                TAKE(&g[j], hit, k, dig_sh[j], _mm512_srl_epi32,
                     _mm512_and_si512, mask16, tmp);
        }
    }
    *nan += nans;
    return i;
}

#undef FULL
#undef LANES
#define FULL 0xffu
#define LANES 8u
TGT static uint64_t f64_pass(const double *v, uint64_t n, eg_select_vgroup *g,
                             size_t ng, uint64_t *nan)
{
    const __m512i sign = _mm512_set1_epi64(INT64_MIN);
    const __m512i mask16 = _mm512_set1_epi64(0xffff);
    __m512i want[MAX_VG];
    __m128i hi_sh[MAX_VG], dig_sh[MAX_VG];
    uint64_t i = 0, nans = 0;
    uint64_t tmp[8];
    for (size_t j = 0; j < ng; j++) {
        want[j] = _mm512_set1_epi64((int64_t)g[j].prefix);
        hi_sh[j] = _mm_cvtsi32_si128(64 - (int)g[j].fixed);
        dig_sh[j] = _mm_cvtsi32_si128(g[j].hist ? 48 - (int)g[j].fixed : 0);
    }
    for (; i + 8 <= n; i += 8) {
        eg_read_ahead(v + i, 64);
        __m512d x = _mm512_loadu_pd(v + i);
        __mmask8 isnan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
        __m512i b = _mm512_castpd_si512(x);
        __m512i k = _mm512_xor_si512(
            b, _mm512_or_si512(_mm512_srai_epi64(b, 63), sign));
        nans += (uint64_t)__builtin_popcount(isnan);
        for (size_t j = 0; j < ng; j++) {
            __mmask8 hit = (__mmask8)~isnan;
            if (g[j].fixed != 0)
                hit &= _mm512_cmpeq_epi64_mask(_mm512_srl_epi64(k, hi_sh[j]),
                                               want[j]);
            if (hit)
                TAKE(&g[j], hit, k, dig_sh[j], _mm512_srl_epi64,
                     _mm512_and_si512, mask16, tmp);
        }
    }
    *nan += nans;
    return i;
}

#undef FULL
#undef LANES

uint64_t eg_select_pass_avx512(eg_dtype t, const void *data, uint64_t n,
                               eg_select_vgroup *g, size_t ng, uint64_t *nan)
{
    if (!eg_select_vgroups_ok(t, g, ng, MAX_VG) ||
        !__builtin_cpu_supports("avx512f"))
        return 0;
    if (ng == 1 && g[0].fixed == 0 && g[0].hist)
        return t == EG_F32 ? f32_first(data, n, g[0].hist, nan)
                           : f64_first(data, n, g[0].hist, nan);
    return t == EG_F32 ? f32_pass(data, n, g, ng, nan)
                       : f64_pass(data, n, g, ng, nan);
}

#else

uint64_t eg_select_pass_avx512(eg_dtype t, const void *data, uint64_t n,
                               eg_select_vgroup *g, size_t ng, uint64_t *nan)
{
    (void)t;
    (void)data;
    (void)n;
    (void)g;
    (void)ng;
    (void)nan;
    return 0;
}

#endif
