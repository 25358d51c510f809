/* sketch_avx512.c - the sketch's buckets of 8 doubles (16 floats) at a
 * time (sketch.h): the magnitude's bits shifted, for the finite, non-zero,
 * normal values whose bucket lies inside their side's window; every other
 * value (NaN, infinities, zeros, subnormals, a bucket that needs a window
 * to grow) goes through the scalar code, which gives the same bucket.
 * Only the counting stays scalar. */
#include <stdint.h>

#include "read_ahead.h"
#include "sketch.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))

/* Counts the lanes of x whose bucket is in its window; returns the others,
 * for the scalar code. */
TGT static inline unsigned count8(eg_sketch *s, __m512d x, unsigned k)
{
    const __m512i absmask = _mm512_set1_epi64(INT64_MAX);
    const __m512i minnorm = _mm512_set1_epi64(INT64_C(0x0010000000000000));
    const __m512i inf = _mm512_set1_epi64(INT64_C(0x7ff0000000000000));
    uint64_t off[8];
    __m512i b = _mm512_castpd_si512(x);
    __m512i a = _mm512_and_si512(b, absmask);
    /* normal and finite: 2^-1022 <= |x| < inf */
    __mmask8 ok = _mm512_cmpge_epu64_mask(a, minnorm) &
                  _mm512_cmplt_epu64_mask(a, inf);
    __mmask8 neg = _mm512_cmplt_epi64_mask(b, _mm512_setzero_si512());
    __m512i idx =
        _mm512_add_epi64(_mm512_srl_epi64(a, _mm_cvtsi32_si128(52 - (int)k)),
                         _mm512_set1_epi64((int64_t)(UINT64_C(52) << k)));
    /* inside the window: idx - lo < len, unsigned, per side */
    __m512i lo = _mm512_mask_blend_epi64(
        neg, _mm512_set1_epi64((int64_t)s->pos.lo),
        _mm512_set1_epi64((int64_t)s->neg.lo));
    __m512i len = _mm512_mask_blend_epi64(
        neg, _mm512_set1_epi64((int64_t)s->pos.len),
        _mm512_set1_epi64((int64_t)s->neg.len));
    __m512i o = _mm512_sub_epi64(idx, lo);
    ok &= _mm512_cmplt_epu64_mask(o, len);
    _mm512_storeu_si512((void *)off, o);
    uint64_t *side[2] = {s->pos.c, s->neg.c};
    if (ok == 0xff) {
        /* every lane counts: no mask walk (its bit scans are a chain) */
        for (unsigned l = 0; l < 8; l++)
            side[(neg >> l) & 1][off[l]]++;
        return 0;
    }
    for (unsigned m = ok; m; m &= m - 1) {
        unsigned l = (unsigned)__builtin_ctz(m);
        side[(neg >> l) & 1][off[l]]++;
    }
    return (unsigned)(~ok & 0xff);
}

TGT static uint64_t add_f64(eg_sketch *s, const double *v, uint64_t n)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        eg_read_ahead(v + i, 64);
        for (unsigned m = count8(s, _mm512_loadu_pd(v + i), s->k); m;
             m &= m - 1)
            eg_sketch_add_one(s, v[i + (unsigned)__builtin_ctz(m)]);
    }
    return i;
}

/* float32, 16 lanes of 32 bits: a normal float32 widens to the double of
 * exponent e + 896 and mantissa m << 29, so its bucket (sketch_bucket.h:
 * (exponent + 52) << k | the top k mantissa bits) is its own bits shifted,
 * (a >> (23 - k)) + (948 << k), below 2^32 for k <= 20.  float32
 * subnormals (normal doubles) go to the scalar code, which widens them. */
TGT static inline unsigned count16(eg_sketch *s, const float *v, unsigned k)
{
    const __m512i absmask = _mm512_set1_epi32(INT32_MAX);
    const __m512i minnorm = _mm512_set1_epi32(0x00800000);
    const __m512i inf = _mm512_set1_epi32(0x7f800000);
    uint32_t off[16];
    __m512i b = _mm512_loadu_si512((const void *)v);
    __m512i a = _mm512_and_si512(b, absmask);
    __mmask16 ok = _mm512_cmpge_epu32_mask(a, minnorm) &
                   _mm512_cmplt_epu32_mask(a, inf);
    __mmask16 neg = _mm512_cmplt_epi32_mask(b, _mm512_setzero_si512());
    __m512i idx =
        _mm512_add_epi32(_mm512_srl_epi32(a, _mm_cvtsi32_si128(23 - (int)k)),
                         _mm512_set1_epi32((int)(948u << k)));
    __m512i lo = _mm512_mask_blend_epi32(
        neg, _mm512_set1_epi32((int)(uint32_t)s->pos.lo),
        _mm512_set1_epi32((int)(uint32_t)s->neg.lo));
    __m512i len = _mm512_mask_blend_epi32(
        neg, _mm512_set1_epi32((int)(uint32_t)s->pos.len),
        _mm512_set1_epi32((int)(uint32_t)s->neg.len));
    ok &= _mm512_cmplt_epu32_mask(_mm512_sub_epi32(idx, lo), len);
    _mm512_storeu_si512((void *)off, _mm512_sub_epi32(idx, lo));
    uint64_t *side[2] = {s->pos.c, s->neg.c};
    if (ok == 0xffff) {
        for (unsigned l = 0; l < 16; l++)
            side[(neg >> l) & 1][off[l]]++;
        return 0;
    }
    for (unsigned m = ok; m; m &= m - 1) {
        unsigned l = (unsigned)__builtin_ctz(m);
        side[(neg >> l) & 1][off[l]]++;
    }
    return (unsigned)(~ok & 0xffff);
}

/* Whether the windows' bounds fit the 32-bit lanes of count16 (the bucket
 * indexes do: below 2^32); a window that grows past them sends the rest to
 * the double lanes. */
static int windows_fit_32(const eg_sketch *s)
{
    return s->pos.lo <= UINT32_MAX && s->pos.len <= UINT32_MAX &&
           s->neg.lo <= UINT32_MAX && s->neg.len <= UINT32_MAX &&
           s->k <= 20;
}

TGT static uint64_t add_f32(eg_sketch *s, const float *v, uint64_t n)
{
    uint64_t i = 0;
    for (; i + 16 <= n && windows_fit_32(s); i += 16) {
        eg_read_ahead(v + i, 64);
        for (unsigned m = count16(s, v + i, s->k); m; m &= m - 1)
            eg_sketch_add_one(s, (double)v[i + (unsigned)__builtin_ctz(m)]);
    }
    for (; i + 8 <= n; i += 8)
        for (unsigned m = count8(s, _mm512_cvtps_pd(_mm256_loadu_ps(v + i)),
                                 s->k);
             m; m &= m - 1)
            eg_sketch_add_one(s, (double)v[i + (unsigned)__builtin_ctz(m)]);
    return i;
}

uint64_t eg_sketch_add_avx512(eg_sketch *s, const void *data, uint64_t n,
                              eg_dtype t)
{
    if ((t != EG_F32 && t != EG_F64) || !__builtin_cpu_supports("avx512f"))
        return 0;
    return t == EG_F32 ? add_f32(s, data, n) : add_f64(s, data, n);
}

#else

uint64_t eg_sketch_add_avx512(eg_sketch *s, const void *data, uint64_t n,
                              eg_dtype t)
{
    (void)s;
    (void)data;
    (void)n;
    (void)t;
    return 0;
}

#endif
