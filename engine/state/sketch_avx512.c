/* sketch_avx512.c - the sketch's buckets of 8 doubles (16 floats) at a
 * time (sketch.h): the magnitude's bits shifted, for the finite, non-zero,
 * normal values whose bucket lies inside their side's window; every other
 * value (NaN, infinities, zeros, subnormals, a bucket that needs a window
 * to grow) goes through the scalar code, which gives the same bucket.
 * Only the counting stays scalar: the vectors give each lane its counter's
 * address (the side's array chosen by the sign, plus the bucket's offset),
 * so a value costs one load of its address and one increment.  Choosing the
 * side and scaling the offset one lane at a time took more than half of
 * the loop (1.7 ns a float32 value in cache on an Intel Xeon). */
#include <stdint.h>

#include "read_ahead.h"
#include "sketch.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))

/* The windows as vectors: bucket index of each side's first counter, its
 * length and its array.  Taken again whenever the scalar code ran, as it
 * may have grown (and moved) a window. */
typedef struct windows {
    __m512i plo, nlo, plen, nlen;         /* 64-bit lanes */
    __m512i plo32, nlo32, plen32, nlen32; /* 32-bit: windows_fit_32 */
    __m512i pc, nc;                       /* the arrays' addresses */
} windows;

TGT static inline windows take_windows(const eg_sketch *s)
{
    windows w;
    w.plo = _mm512_set1_epi64((int64_t)s->pos.lo);
    w.nlo = _mm512_set1_epi64((int64_t)s->neg.lo);
    w.plen = _mm512_set1_epi64((int64_t)s->pos.len);
    w.nlen = _mm512_set1_epi64((int64_t)s->neg.len);
    w.plo32 = _mm512_set1_epi32((int)(uint32_t)s->pos.lo);
    w.nlo32 = _mm512_set1_epi32((int)(uint32_t)s->neg.lo);
    w.plen32 = _mm512_set1_epi32((int)(uint32_t)s->pos.len);
    w.nlen32 = _mm512_set1_epi32((int)(uint32_t)s->neg.len);
    w.pc = _mm512_set1_epi64((int64_t)(uintptr_t)s->pos.c);
    w.nc = _mm512_set1_epi64((int64_t)(uintptr_t)s->neg.c);
    return w;
}

/* The counters of 8 lanes whose offsets o into their side's window are
 * known to be inside it, into at[0..7]. */
TGT static inline void addresses8(const windows *w, __m512i o, __mmask8 neg,
                                  uint64_t *at)
{
    __m512i base = _mm512_mask_blend_epi64(neg, w->pc, w->nc);
    _mm512_storeu_si512((void *)at,
                        _mm512_add_epi64(base, _mm512_slli_epi64(o, 3)));
}

/* Adds one to each counter at[l] of the lanes in ok; the lanes outside are
 * the caller's. */
static inline void bump(const uint64_t *at, unsigned ok, unsigned all)
{
    if (ok == all) {
        /* every lane counts: no mask walk (its bit scans are a chain) */
        for (unsigned l = 0; all; l++, all >>= 1)
            ++*(uint64_t *)(uintptr_t)at[l];
        return;
    }
    for (unsigned m = ok; m; m &= m - 1)
        ++*(uint64_t *)(uintptr_t)at[__builtin_ctz(m)];
}

/* Counts the lanes of x whose bucket is in its window; returns the others,
 * for the scalar code. */
TGT static inline unsigned count8(const windows *w, __m512d x, unsigned k)
{
    const __m512i absmask = _mm512_set1_epi64(INT64_MAX);
    const __m512i minnorm = _mm512_set1_epi64(INT64_C(0x0010000000000000));
    const __m512i inf = _mm512_set1_epi64(INT64_C(0x7ff0000000000000));
    uint64_t at[8];
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
    __m512i o = _mm512_sub_epi64(idx, _mm512_mask_blend_epi64(neg, w->plo,
                                                              w->nlo));
    ok &= _mm512_cmplt_epu64_mask(o,
                                  _mm512_mask_blend_epi64(neg, w->plen,
                                                          w->nlen));
    addresses8(w, o, neg, at);
    bump(at, ok, 0xffu);
    return (unsigned)(~ok & 0xffu);
}

TGT static uint64_t add_f64(eg_sketch *s, const double *v, uint64_t n)
{
    uint64_t i = 0;
    windows w = take_windows(s);
    for (; i + 8 <= n; i += 8) {
        eg_read_ahead(v + i, 64);
        unsigned m = count8(&w, _mm512_loadu_pd(v + i), s->k);
        if (m == 0)
            continue;
        for (; m; m &= m - 1)
            eg_sketch_add_one(s, v[i + (unsigned)__builtin_ctz(m)]);
        w = take_windows(s);
    }
    return i;
}

/* float32, 16 lanes of 32 bits: a normal float32 widens to the double of
 * exponent e + 896 and mantissa m << 29, so its bucket (sketch_bucket.h:
 * (exponent + 52) << k | the top k mantissa bits) is its own bits shifted,
 * (a >> (23 - k)) + (948 << k), below 2^32 for k <= 20.  float32
 * subnormals (normal doubles) go to the scalar code, which widens them.
 * Offsets are compared in 32 bits (windows_fit_32) and widened to 64 for
 * the addresses. */
TGT static inline unsigned count16(const windows *w, const float *v,
                                   unsigned k)
{
    const __m512i absmask = _mm512_set1_epi32(INT32_MAX);
    const __m512i minnorm = _mm512_set1_epi32(0x00800000);
    const __m512i inf = _mm512_set1_epi32(0x7f800000);
    uint64_t at[16];
    __m512i b = _mm512_loadu_si512((const void *)v);
    __m512i a = _mm512_and_si512(b, absmask);
    __mmask16 ok = _mm512_cmpge_epu32_mask(a, minnorm) &
                   _mm512_cmplt_epu32_mask(a, inf);
    __mmask16 neg = _mm512_cmplt_epi32_mask(b, _mm512_setzero_si512());
    __m512i idx =
        _mm512_add_epi32(_mm512_srl_epi32(a, _mm_cvtsi32_si128(23 - (int)k)),
                         _mm512_set1_epi32((int)(948u << k)));
    __m512i o =
        _mm512_sub_epi32(idx, _mm512_mask_blend_epi32(neg, w->plo32, w->nlo32));
    ok &= _mm512_cmplt_epu32_mask(
        o, _mm512_mask_blend_epi32(neg, w->plen32, w->nlen32));
    addresses8(w, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(o)),
               (__mmask8)neg, at);
    addresses8(w, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(o, 1)),
               (__mmask8)(neg >> 8), at + 8);
    bump(at, ok, 0xffffu);
    return (unsigned)(~ok & 0xffffu);
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
    windows w = take_windows(s);
    for (int fit = windows_fit_32(s); i + 16 <= n && fit; i += 16) {
        eg_read_ahead(v + i, 64);
        unsigned m = count16(&w, v + i, s->k);
        if (m == 0)
            continue;
        for (; m; m &= m - 1)
            eg_sketch_add_one(s, (double)v[i + (unsigned)__builtin_ctz(m)]);
        w = take_windows(s);
        fit = windows_fit_32(s);
    }
    for (; i + 8 <= n; i += 8) {
        unsigned m = count8(&w, _mm512_cvtps_pd(_mm256_loadu_ps(v + i)), s->k);
        if (m == 0)
            continue;
        for (; m; m &= m - 1)
            eg_sketch_add_one(s, (double)v[i + (unsigned)__builtin_ctz(m)]);
        w = take_windows(s);
    }
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
