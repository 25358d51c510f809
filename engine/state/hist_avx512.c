/* hist_avx512.c - numpy's bin index of float32 data in float32 bins, 16
 * values at a time (hist.h).  The same steps as add_f32_fast in hist.c:
 * the range test, (x - first) * norm in float, the truncation (clamped to
 * [0, nbins] first, as the scalar code does), the step down from nbins,
 * and the two corrections against the float32 edges, which are recomputed
 * in vectors exactly as make_edges computes them (gathering them from the
 * table costs more on the CPUs at hand; the table serves step 0); only the
 * counting itself stays scalar. */
#include <stdint.h>

#include "hist.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512dq")))

/* edges[j] as make_edges in hist.c computes it: float(j * step + first)
 * in double, and `last` itself at j == nbins (step != 0). */
TGT static inline __m512 edge_at(__m512i j, __m512d step, __m512d first,
                                 __m512 lastv, __m512i nb)
{
    __m512d lo = _mm512_add_pd(
        _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(j)), step),
        first);
    __m512d hi = _mm512_add_pd(
        _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(j, 1)),
                      step),
        first);
    __m512 e = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)),
                                  _mm512_cvtpd_ps(hi), 1);
    return _mm512_mask_mov_ps(e, _mm512_cmpeq_epi32_mask(j, nb), lastv);
}

TGT static uint64_t add_avx512(const eg_hist_plan *p, eg_hist_state *s,
                               const float *v, uint64_t n)
{
    const double stepd = (p->last - p->first) / (double)p->nbins;
    const int arith = stepd != 0;
    const __m512d step = _mm512_set1_pd(stepd);
    const __m512d firstd = _mm512_set1_pd(p->first);
    const __m512 lastv = _mm512_set1_ps((float)p->last);
    const __m512 cf = _mm512_set1_ps((float)p->cfirst);
    const __m512 cl = _mm512_set1_ps((float)p->clast);
    const __m512 sf = _mm512_set1_ps((float)p->sfirst);
    const __m512 nf = _mm512_set1_ps((float)p->norm);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 nbf = _mm512_set1_ps((float)p->nbins);
    const __m512i nb = _mm512_set1_epi32((int)p->nbins);
    const __m512i last = _mm512_set1_epi32((int)p->nbins - 1);
    const __m512i one = _mm512_set1_epi32(1);
    uint64_t *counts = s->counts, below = 0, nan = 0, above = 0;
    uint64_t i = 0;
    int32_t idx[16];

    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(v + i);
        __mmask16 ge = _mm512_cmp_ps_mask(x, cf, _CMP_GE_OQ);
        __mmask16 le = _mm512_cmp_ps_mask(x, cl, _CMP_LE_OQ);
        __mmask16 keep = ge & le;
        if (keep != 0xffff) {
            __mmask16 isnan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
            nan += (uint64_t)__builtin_popcount(isnan);
            below += (uint64_t)__builtin_popcount(~ge & ~isnan & 0xffff);
            above += (uint64_t)__builtin_popcount(ge & ~le & 0xffff);
        }
        __m512 f = _mm512_mul_ps(_mm512_sub_ps(x, sf), nf);
        /* f >= nbins -> nbins; f > 0 -> trunc(f); else 0 */
        f = _mm512_min_ps(_mm512_max_ps(f, zero), nbf);
        __m512i j = _mm512_cvttps_epi32(f);
        j = _mm512_mask_sub_epi32(j, _mm512_cmpeq_epi32_mask(j, nb), j, one);
        /* lanes not kept may hold any index: keep them at 0 */
        j = _mm512_maskz_mov_epi32(keep, j);
        __m512 e0 = arith ? edge_at(j, step, firstd, lastv, nb)
                          : _mm512_i32gather_ps(j, p->edgesf, 4);
        __mmask16 dec = _mm512_cmp_ps_mask(x, e0, _CMP_LT_OQ) &
                        _mm512_cmpgt_epi32_mask(j, _mm512_setzero_si512()) &
                        keep;
        j = _mm512_mask_sub_epi32(j, dec, j, one);
        __m512i j1 = _mm512_add_epi32(j, one);
        __m512 e1 = arith ? edge_at(j1, step, firstd, lastv, nb)
                          : _mm512_i32gather_ps(j1, p->edgesf, 4);
        __mmask16 inc = _mm512_cmp_ps_mask(x, e1, _CMP_GE_OQ) &
                        _mm512_cmpneq_epi32_mask(j, last) & keep;
        j = _mm512_mask_add_epi32(j, inc, j, one);
        _mm512_storeu_si512((void *)idx, j);
        if (keep == 0xffff) {
            /* all in range: no mask walk (its bit scans are a chain) */
            for (unsigned l = 0; l < 16; l++)
                counts[idx[l]]++;
        } else {
            for (unsigned m = keep; m; m &= m - 1)
                counts[idx[__builtin_ctz(m)]]++;
        }
    }
    s->below += below;
    s->above += above;
    s->nan += nan;
    return i;
}

uint64_t eg_hist_add_f32_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const float *v, uint64_t n)
{
    if (!p->f32 || !p->norm_f32 || !p->edgesf || p->nbins > INT32_MAX - 2 ||
        !__builtin_cpu_supports("avx512f") ||
        !__builtin_cpu_supports("avx512dq"))
        return 0;
    return add_avx512(p, s, v, n);
}

#else

uint64_t eg_hist_add_f32_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const float *v, uint64_t n)
{
    (void)p;
    (void)s;
    (void)v;
    (void)n;
    return 0;
}

#endif
