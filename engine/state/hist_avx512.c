/* hist_avx512.c - numpy's bin index of float32 data in float32 bins, 16
 * values at a time (hist.h).  The same steps as add_f32_fast in hist.c:
 * the range test, (x - first) * norm in float, the truncation (clamped to
 * [0, nbins] first, as the scalar code does), the step down from nbins,
 * and the two corrections against the float32 edges, which are recomputed
 * in vectors exactly as make_edges computes them (gathering them from the
 * table costs more on the CPUs at hand; the table serves step 0); only the
 * counting itself stays scalar.  float64 data goes 8 values at a time the
 * same way, its edges gathered from the plan's table (exact doubles).
 *
 * With few bins neighbouring values often fall in one bin, and each
 * increment then waits on the previous one's store (a chain of
 * store-to-load forwards, the cost of a 10-bin histogram of normal data).
 * So with up to SPREAD_BINS_MAX bins lane l counts into copy l % 4 of its
 * bin, 32-bit counters folded into the state at the end of each call;
 * the vectors give each lane its counter's index (bin * 4 + lane % 4). */
#include <stdint.h>
#include <string.h>

#include "hist.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512dq")))

#define SPREAD_COPIES 4u
#define SPREAD_BINS_MAX 512u
/* 32-bit copies: fold them before any can reach 2^32 */
#define SPREAD_CHUNK (1ull << 30)

typedef struct spread {
    uint32_t c[SPREAD_BINS_MAX * SPREAD_COPIES];
} spread;

/* The counters of a call: the spread copies with few bins (2^shift of
 * each), else (NULL) the state's own counts.  (One 32-bit copy of up to
 * 4096 bins, for a smaller cache footprint, measured no faster than the
 * 64-bit counts: its zeroing and folding per call cost what it saved.) */
static uint32_t *spread_begin(spread *sp, unsigned nbins, unsigned *shift)
{
    if (nbins > SPREAD_BINS_MAX)
        return NULL;
    *shift = 2u;
    memset(sp->c, 0, ((size_t)nbins << *shift) * sizeof sp->c[0]);
    return sp->c;
}

static void spread_fold(const uint32_t *c, unsigned shift, eg_hist_state *s)
{
    if (!c)
        return;
    for (unsigned b = 0; b < s->nbins; b++) {
        const uint32_t *k = c + ((size_t)b << shift);
        uint64_t sum = 0;
        for (unsigned l = 0; l < (1u << shift); l++)
            sum += k[l];
        s->counts[b] += sum;
    }
}

/* Counts the kept lanes (bits of keep, `all` when every lane is kept) of
 * the bin indexes idx. */
#define COUNT_LANES(C, COUNTS, IDX, KEEP, ALL, LANES)                          \
    do {                                                                       \
        if (C) {                                                               \
            if ((KEEP) == (ALL)) {                                             \
                for (unsigned l_ = 0; l_ < (LANES); l_++)                      \
                    (C)[(IDX)[l_]]++;                                          \
            } else {                                                           \
                for (unsigned m_ = (KEEP); m_; m_ &= m_ - 1) {                 \
                    unsigned l_ = (unsigned)__builtin_ctz(m_);                 \
                    (C)[(IDX)[l_]]++;                                          \
                }                                                              \
            }                                                                  \
        } else if ((KEEP) == (ALL)) {                                          \
            /* all in range: no mask walk (its bit scans are a chain) */       \
            for (unsigned l_ = 0; l_ < (LANES); l_++)                          \
                (COUNTS)[(IDX)[l_]]++;                                         \
        } else {                                                               \
            for (unsigned m_ = (KEEP); m_; m_ &= m_ - 1)                       \
                (COUNTS)[(IDX)[__builtin_ctz(m_)]]++;                          \
        }                                                                      \
    } while (0)

static inline double abs_d(double v)
{
    return v < 0 ? -v : v;
}

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

/* The counter of lane l in bin j: j's copy l % 2^shift of the spread
 * counters, or j itself in the state's counts. */
#define SLOT32(J)                                                              \
    (c ? _mm512_add_epi32(_mm512_sll_epi32((J), shv), lanes) : (J))
#define SLOT64(J)                                                              \
    (c ? _mm512_add_epi64(_mm512_sll_epi64((J), shv), lanes) : (J))

TGT static uint64_t add_avx512(const eg_hist_plan *p, eg_hist_state *s,
                               uint32_t *c, unsigned shift, const float *v,
                               uint64_t n)
{
    const __m128i shv = _mm_cvtsi32_si128((int)shift);
    const __m512i lanes = _mm512_and_si512(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                          15),
        _mm512_set1_epi32((int)(1u << shift) - 1));
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
    /* Up to 31 bins the edges sit in two registers: a permute fetches
     * them, cheaper than recomputing them or a gather. */
    const int small = p->nbins + 1 <= 32;
    float tab[32];
    for (unsigned k = 0; k < 32; k++)
        tab[k] = p->edgesf[k <= p->nbins ? k : p->nbins];
    const __m512 tlo = _mm512_loadu_ps(tab), thi = _mm512_loadu_ps(tab + 16);
    /* The corrections against the edges can only fire for a value whose
     * computed position f lies within `mg` bins of a bin's end: f, the
     * float32 edges and numpy's norm each err by a few units of float32
     * rounding (2^-24) of |f| <= nbins and of |first|, |last| in bins; mg
     * allows 16 of each on all of them.  A block whose kept lanes all lie
     * further inside their bins skips the edges. */
    const double mg =
        0x1p-20 * ((double)p->nbins + (abs_d(p->first) + abs_d(p->last) +
                                       abs_d(p->sfirst)) *
                                          p->norm);
    const int skip = mg < 0.25;
    const __m512 mlo = _mm512_set1_ps((float)mg);
    const __m512 mhi = _mm512_set1_ps((float)(1.0 - mg));

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
        if (skip) {
            __m512 fr = _mm512_sub_ps(
                f, _mm512_roundscale_ps(f, _MM_FROUND_TO_ZERO |
                                               _MM_FROUND_NO_EXC));
            __mmask16 near = (_mm512_cmp_ps_mask(fr, mlo, _CMP_LT_OQ) |
                              _mm512_cmp_ps_mask(fr, mhi, _CMP_GT_OQ)) &
                             keep;
            if (!near) {
                _mm512_storeu_si512((void *)idx, SLOT32(j));
                COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffffu, 16u);
                continue;
            }
        }
        __m512 e0 = small   ? _mm512_permutex2var_ps(tlo, j, thi)
                    : arith ? edge_at(j, step, firstd, lastv, nb)
                            : _mm512_i32gather_ps(j, p->edgesf, 4);
        __mmask16 dec = _mm512_cmp_ps_mask(x, e0, _CMP_LT_OQ) &
                        _mm512_cmpgt_epi32_mask(j, _mm512_setzero_si512()) &
                        keep;
        j = _mm512_mask_sub_epi32(j, dec, j, one);
        __m512i j1 = _mm512_add_epi32(j, one);
        __m512 e1 = small   ? _mm512_permutex2var_ps(tlo, j1, thi)
                    : arith ? edge_at(j1, step, firstd, lastv, nb)
                            : _mm512_i32gather_ps(j1, p->edgesf, 4);
        __mmask16 inc = _mm512_cmp_ps_mask(x, e1, _CMP_GE_OQ) &
                        _mm512_cmpneq_epi32_mask(j, last) & keep;
        j = _mm512_mask_add_epi32(j, inc, j, one);
        _mm512_storeu_si512((void *)idx, SLOT32(j));
        COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffffu, 16u);
    }
    s->below += below;
    s->above += above;
    s->nan += nan;
    return i;
}

/* edges[j] of float64 bins as make_edges computes them: j * step + first,
 * and `last` itself at j == nbins (step != 0). */
TGT static inline __m512d edge_at_pd(__m512i j, __m512d step, __m512d first,
                                     __m512d lastv, __m512i nb)
{
    __m512d e =
        _mm512_add_pd(_mm512_mul_pd(_mm512_cvtepi64_pd(j), step), first);
    return _mm512_mask_mov_pd(e, _mm512_cmpeq_epi64_mask(j, nb), lastv);
}

/* float64 data (float64 bins): hist.c's add_float and bin_index, 8 lanes;
 * the edges from registers (up to 15 bins), recomputed (more, step != 0:
 * a gather costs more here) or gathered. */
TGT static uint64_t add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                   uint32_t *c, unsigned shift,
                                   const double *v, uint64_t n)
{
    const __m128i shv = _mm_cvtsi32_si128((int)shift);
    const __m512i lanes =
        _mm512_and_si512(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7),
                         _mm512_set1_epi64((long long)(1u << shift) - 1));
    const __m512d cf = _mm512_set1_pd(p->cfirst);
    const __m512d cl = _mm512_set1_pd(p->clast);
    const __m512d sf = _mm512_set1_pd(p->sfirst);
    const __m512d nf = _mm512_set1_pd(p->norm);
    const __m512d zero = _mm512_setzero_pd();
    const __m512d nbf = _mm512_set1_pd((double)p->nbins);
    const __m512i nb = _mm512_set1_epi64((long long)p->nbins);
    const __m512i last = _mm512_set1_epi64((long long)p->nbins - 1);
    const __m512i one = _mm512_set1_epi64(1);
    const double *edges = p->edges;
    const double stepd = (p->last - p->first) / (double)p->nbins;
    const int arith = stepd != 0;
    const __m512d step = _mm512_set1_pd(stepd);
    const __m512d firstd = _mm512_set1_pd(p->first);
    const __m512d lastv = _mm512_set1_pd(p->last);
    uint64_t *counts = s->counts, below = 0, nan = 0, above = 0;
    uint64_t i = 0;
    int64_t idx[8];
    /* up to 15 bins the edges sit in two registers (as for float32) */
    const int small = p->nbins + 1 <= 16;
    double tab[16];
    for (unsigned k = 0; k < 16; k++)
        tab[k] = edges[k <= p->nbins ? k : p->nbins];
    const __m512d tlo = _mm512_loadu_pd(tab), thi = _mm512_loadu_pd(tab + 8);
    /* the edge skip of the float32 code, with float64's rounding (2^-53,
     * 16 of it allowed on every term) */
    const double mg =
        0x1p-49 * ((double)p->nbins + (abs_d(p->first) + abs_d(p->last) +
                                       abs_d(p->sfirst)) *
                                          p->norm);
    const int skip = mg < 0.25;
    const __m512d mlo = _mm512_set1_pd(mg), mhi = _mm512_set1_pd(1.0 - mg);

    for (; i + 8 <= n; i += 8) {
        __m512d x = _mm512_loadu_pd(v + i);
        __mmask8 ge = _mm512_cmp_pd_mask(x, cf, _CMP_GE_OQ);
        __mmask8 le = _mm512_cmp_pd_mask(x, cl, _CMP_LE_OQ);
        __mmask8 keep = ge & le;
        if (keep != 0xff) {
            __mmask8 isnan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
            nan += (uint64_t)__builtin_popcount(isnan);
            below += (uint64_t)__builtin_popcount(~ge & ~isnan & 0xff);
            above += (uint64_t)__builtin_popcount(ge & ~le & 0xff);
        }
        __m512d f = _mm512_mul_pd(_mm512_sub_pd(x, sf), nf);
        /* f >= nbins -> nbins; f > 0 -> trunc(f); else (NaN too) 0 */
        f = _mm512_min_pd(_mm512_max_pd(f, zero), nbf);
        __m512i j = _mm512_cvttpd_epi64(f);
        j = _mm512_mask_sub_epi64(j, _mm512_cmpeq_epi64_mask(j, nb), j, one);
        j = _mm512_maskz_mov_epi64(keep, j);
        if (skip) {
            __m512d fr = _mm512_sub_pd(
                f, _mm512_roundscale_pd(f, _MM_FROUND_TO_ZERO |
                                               _MM_FROUND_NO_EXC));
            __mmask8 near = (_mm512_cmp_pd_mask(fr, mlo, _CMP_LT_OQ) |
                             _mm512_cmp_pd_mask(fr, mhi, _CMP_GT_OQ)) &
                            keep;
            if (!near) {
                _mm512_storeu_si512((void *)idx, SLOT64(j));
                COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffu, 8u);
                continue;
            }
        }
        __m512d e0 = small   ? _mm512_permutex2var_pd(tlo, j, thi)
                     : arith ? edge_at_pd(j, step, firstd, lastv, nb)
                             : _mm512_i64gather_pd(j, edges, 8);
        __mmask8 dec = _mm512_cmp_pd_mask(x, e0, _CMP_LT_OQ) &
                       _mm512_cmpgt_epi64_mask(j, _mm512_setzero_si512()) &
                       keep;
        j = _mm512_mask_sub_epi64(j, dec, j, one);
        __m512i j1 = _mm512_add_epi64(j, one);
        __m512d e1 = small   ? _mm512_permutex2var_pd(tlo, j1, thi)
                     : arith ? edge_at_pd(j1, step, firstd, lastv, nb)
                             : _mm512_i64gather_pd(j1, edges, 8);
        __mmask8 inc = _mm512_cmp_pd_mask(x, e1, _CMP_GE_OQ) &
                       _mm512_cmpneq_epi64_mask(j, last) & keep;
        j = _mm512_mask_add_epi64(j, inc, j, one);
        _mm512_storeu_si512((void *)idx, SLOT64(j));
        COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffu, 8u);
    }
    s->below += below;
    s->above += above;
    s->nan += nan;
    return i;
}

static int have_avx512(void)
{
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512dq");
}

uint64_t eg_hist_add_f32_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const float *v, uint64_t n)
{
    if (!p->f32 || !p->norm_f32 || !p->edgesf || p->nbins > INT32_MAX - 2 ||
        !have_avx512())
        return 0;
    spread sp;
    uint64_t done = 0;
    while (done < n) {
        uint64_t k = n - done < SPREAD_CHUNK ? n - done : SPREAD_CHUNK;
        unsigned shift = 0;
        uint32_t *c = spread_begin(&sp, p->nbins, &shift);
        uint64_t d = add_avx512(p, s, c, shift, v + done, k);
        spread_fold(c, shift, s);
        done += d;
        if (d < k)
            break;
    }
    return done;
}

uint64_t eg_hist_add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const double *v, uint64_t n)
{
    if (p->dtype != EG_F64 || p->f32 || !p->edges || !have_avx512())
        return 0;
    spread sp;
    uint64_t done = 0;
    while (done < n) {
        uint64_t k = n - done < SPREAD_CHUNK ? n - done : SPREAD_CHUNK;
        unsigned shift = 0;
        uint32_t *c = spread_begin(&sp, p->nbins, &shift);
        uint64_t d = add_f64_avx512(p, s, c, shift, v + done, k);
        spread_fold(c, shift, s);
        done += d;
        if (d < k)
            break;
    }
    return done;
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

uint64_t eg_hist_add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const double *v, uint64_t n)
{
    (void)p;
    (void)s;
    (void)v;
    (void)n;
    return 0;
}

#endif
