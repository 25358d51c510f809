/* hist_avx512.c - numpy's bin index of float32 data in float32 bins, 16
 * values at a time (hist.h).  The same steps as add_f32_fast in hist.c:
 * the range test, (x - first) * norm in float, the truncation (clamped to
 * [0, nbins] first, as the scalar code does), the step down from nbins,
 * and the two corrections against the float32 edges, which are recomputed
 * in vectors exactly as make_edges computes them (gathering them from the
 * table costs more on the CPUs at hand; the table serves step 0).  float64
 * data goes 8 values at a time the same way.  Up to 32 bins the counting
 * is in vectors too (byte counters, below); with more it is scalar.
 *
 * With few bins each lane counts into copy lane % 4 of its bin
 * (hist_spread.h); the vectors give each lane its counter's index. */
#include <stdint.h>
#include <string.h>

#include "hist.h"
#include "hist_spread.h"
#include "read_ahead.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512dq")))
#define TGTB __attribute__((target("avx512f,avx512dq,avx512bw")))

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

/* What the float32 bin index needs, set once per call. */
typedef struct f32_bins {
    __m512d step, firstd;
    __m512 lastv, cf, cl, sf, nf, zero, nbf, tlo, thi, mlo, mhi;
    __m512i nb, last, one;
    const float *edgesf;
    int arith, small, skip;
} f32_bins;

TGT static void f32_bins_init(f32_bins *k, const eg_hist_plan *p)
{
    const double stepd = (p->last - p->first) / (double)p->nbins;
    k->arith = stepd != 0;
    k->step = _mm512_set1_pd(stepd);
    k->firstd = _mm512_set1_pd(p->first);
    k->lastv = _mm512_set1_ps((float)p->last);
    k->cf = _mm512_set1_ps((float)p->cfirst);
    k->cl = _mm512_set1_ps((float)p->clast);
    k->sf = _mm512_set1_ps((float)p->sfirst);
    k->nf = _mm512_set1_ps((float)p->norm);
    k->zero = _mm512_setzero_ps();
    k->nbf = _mm512_set1_ps((float)p->nbins);
    k->nb = _mm512_set1_epi32((int)p->nbins);
    k->last = _mm512_set1_epi32((int)p->nbins - 1);
    k->one = _mm512_set1_epi32(1);
    k->edgesf = p->edgesf;
    /* Up to 31 bins the edges sit in two registers: a permute fetches
     * them, cheaper than recomputing them or a gather. */
    k->small = p->nbins + 1 <= 32;
    float tab[32];
    for (unsigned b = 0; b < 32; b++)
        tab[b] = p->edgesf[b <= p->nbins ? b : p->nbins];
    k->tlo = _mm512_loadu_ps(tab);
    k->thi = _mm512_loadu_ps(tab + 16);
    /* A block whose kept lanes all lie further than the edge margin inside
     * their bins skips the edges (eg_hist_edge_margin says why). */
    const double mg = eg_hist_edge_margin(p);
    k->skip = mg < 0.25;
    k->mlo = _mm512_set1_ps((float)mg);
    k->mhi = _mm512_set1_ps((float)(1.0 - mg));
}

/* The range test of 16 values: the kept lanes, and the others counted. */
TGT static inline __attribute__((always_inline)) __mmask16
f32_keep(const f32_bins *k, __m512 x, uint64_t *below, uint64_t *above,
         uint64_t *nan)
{
    __mmask16 ge = _mm512_cmp_ps_mask(x, k->cf, _CMP_GE_OQ);
    __mmask16 le = _mm512_cmp_ps_mask(x, k->cl, _CMP_LE_OQ);
    __mmask16 keep = ge & le;
    if (keep != 0xffff) {
        __mmask16 isnan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        *nan += (uint64_t)__builtin_popcount(isnan);
        *below += (uint64_t)__builtin_popcount(~ge & ~isnan & 0xffff);
        *above += (uint64_t)__builtin_popcount(ge & ~le & 0xffff);
    }
    return keep;
}

/* The bins of 16 values (0 in the lanes not kept). */
TGT static inline __attribute__((always_inline)) __m512i
f32_bins_of(const f32_bins *k, __m512 x, __mmask16 keep)
{
    __m512 f = _mm512_mul_ps(_mm512_sub_ps(x, k->sf), k->nf);
    /* f >= nbins -> nbins; f > 0 -> trunc(f); else 0 */
    f = _mm512_min_ps(_mm512_max_ps(f, k->zero), k->nbf);
    __m512i j = _mm512_cvttps_epi32(f);
    j = _mm512_mask_sub_epi32(j, _mm512_cmpeq_epi32_mask(j, k->nb), j,
                              k->one);
    /* lanes not kept may hold any index: keep them at 0 */
    j = _mm512_maskz_mov_epi32(keep, j);
    if (k->skip) {
        __m512 fr = _mm512_sub_ps(
            f, _mm512_roundscale_ps(f, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
        __mmask16 near = (_mm512_cmp_ps_mask(fr, k->mlo, _CMP_LT_OQ) |
                          _mm512_cmp_ps_mask(fr, k->mhi, _CMP_GT_OQ)) &
                         keep;
        if (!near)
            return j;
    }
    __m512 e0 = k->small   ? _mm512_permutex2var_ps(k->tlo, j, k->thi)
                : k->arith ? edge_at(j, k->step, k->firstd, k->lastv, k->nb)
                           : _mm512_i32gather_ps(j, k->edgesf, 4);
    __mmask16 dec = _mm512_cmp_ps_mask(x, e0, _CMP_LT_OQ) &
                    _mm512_cmpgt_epi32_mask(j, _mm512_setzero_si512()) & keep;
    j = _mm512_mask_sub_epi32(j, dec, j, k->one);
    __m512i j1 = _mm512_add_epi32(j, k->one);
    __m512 e1 = k->small   ? _mm512_permutex2var_ps(k->tlo, j1, k->thi)
                : k->arith ? edge_at(j1, k->step, k->firstd, k->lastv, k->nb)
                           : _mm512_i32gather_ps(j1, k->edgesf, 4);
    __mmask16 inc = _mm512_cmp_ps_mask(x, e1, _CMP_GE_OQ) &
                    _mm512_cmpneq_epi32_mask(j, k->last) & keep;
    return _mm512_mask_add_epi32(j, inc, j, k->one);
}

/* The bins of blocks whose every value is kept go into a queue of 16-bit
 * counter indexes, counted in a plain loop when it fills: a load and an
 * increment per value, where taking each index out of the vector costs two
 * operations more.  Blocks with values outside the range are counted at
 * once, lane by lane.  (Measured on 2 GiB of float32, 4096 and 1000 bins:
 * 14-15 % less CPU time than counting every block at once.) */
#define QUEUE_LEN 2048u
#define QUEUE_SLOTS_MAX 65536u /* counter indexes a uint16_t holds */

static void queue_count(uint64_t *counts, uint32_t *c, const uint16_t *q,
                        unsigned n)
{
    if (c)
        for (unsigned i = 0; i < n; i++)
            c[q[i]]++;
    else
        for (unsigned i = 0; i < n; i++)
            counts[q[i]]++;
}

TGT static uint64_t add_avx512(const eg_hist_plan *p, eg_hist_state *s,
                               uint32_t *c, const void *vv, uint64_t n)
{
    const float *v = vv;
    const unsigned shift = c ? EG_SPREAD_SHIFT : 0;
    const __m128i shv = _mm_cvtsi32_si128((int)shift);
    const __m512i lanes = _mm512_and_si512(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                          15),
        _mm512_set1_epi32((int)(1u << shift) - 1));
    f32_bins k;
    f32_bins_init(&k, p);
    uint64_t *counts = s->counts, below = 0, nan = 0, above = 0;
    uint64_t i = 0;
    int32_t idx[16];
    uint16_t q[QUEUE_LEN];
    unsigned qn = 0;
    const int queue = ((uint64_t)p->nbins << shift) <= QUEUE_SLOTS_MAX;
    for (; i + 16 <= n; i += 16) {
        eg_read_ahead(v + i, 64);
        __m512 x = _mm512_loadu_ps(v + i);
        __mmask16 keep = f32_keep(&k, x, &below, &above, &nan);
        __m512i slot = SLOT32(f32_bins_of(&k, x, keep));
        if (queue && keep == 0xffff) {
            _mm256_storeu_si256((void *)(q + qn), _mm512_cvtepi32_epi16(slot));
            if ((qn += 16) == QUEUE_LEN) {
                queue_count(counts, c, q, qn);
                qn = 0;
            }
            continue;
        }
        _mm512_storeu_si512((void *)idx, slot);
        COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffffu, 16u);
    }
    queue_count(counts, c, q, qn);
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

/* What the float64 bin index needs (hist.c's add_float and bin_index):
 * the edges from registers (up to 15 bins), recomputed (more, step != 0:
 * a gather costs more here) or gathered. */
typedef struct f64_bins {
    __m512d cf, cl, sf, nf, zero, nbf, step, firstd, lastv, tlo, thi, mlo, mhi;
    __m512i nb, last, one;
    const double *edges;
    int arith, small, skip;
} f64_bins;

TGT static void f64_bins_init(f64_bins *k, const eg_hist_plan *p)
{
    k->cf = _mm512_set1_pd(p->cfirst);
    k->cl = _mm512_set1_pd(p->clast);
    k->sf = _mm512_set1_pd(p->sfirst);
    k->nf = _mm512_set1_pd(p->norm);
    k->zero = _mm512_setzero_pd();
    k->nbf = _mm512_set1_pd((double)p->nbins);
    k->nb = _mm512_set1_epi64((long long)p->nbins);
    k->last = _mm512_set1_epi64((long long)p->nbins - 1);
    k->one = _mm512_set1_epi64(1);
    k->edges = p->edges;
    const double stepd = (p->last - p->first) / (double)p->nbins;
    k->arith = stepd != 0;
    k->step = _mm512_set1_pd(stepd);
    k->firstd = _mm512_set1_pd(p->first);
    k->lastv = _mm512_set1_pd(p->last);
    /* up to 15 bins the edges sit in two registers (as for float32) */
    k->small = p->nbins + 1 <= 16;
    double tab[16];
    for (unsigned b = 0; b < 16; b++)
        tab[b] = p->edges[b <= p->nbins ? b : p->nbins];
    k->tlo = _mm512_loadu_pd(tab);
    k->thi = _mm512_loadu_pd(tab + 8);
    /* the edge skip of the float32 code, with float64's rounding */
    const double mg = eg_hist_edge_margin(p);
    k->skip = mg < 0.25;
    k->mlo = _mm512_set1_pd(mg);
    k->mhi = _mm512_set1_pd(1.0 - mg);
}

TGT static inline __attribute__((always_inline)) __mmask8
f64_keep(const f64_bins *k, __m512d x, uint64_t *below, uint64_t *above,
         uint64_t *nan)
{
    __mmask8 ge = _mm512_cmp_pd_mask(x, k->cf, _CMP_GE_OQ);
    __mmask8 le = _mm512_cmp_pd_mask(x, k->cl, _CMP_LE_OQ);
    __mmask8 keep = ge & le;
    if (keep != 0xff) {
        __mmask8 isnan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
        *nan += (uint64_t)__builtin_popcount(isnan);
        *below += (uint64_t)__builtin_popcount(~ge & ~isnan & 0xff);
        *above += (uint64_t)__builtin_popcount(ge & ~le & 0xff);
    }
    return keep;
}

TGT static inline __attribute__((always_inline)) __m512i
f64_bins_of(const f64_bins *k, __m512d x, __mmask8 keep)
{
    __m512d f = _mm512_mul_pd(_mm512_sub_pd(x, k->sf), k->nf);
    /* f >= nbins -> nbins; f > 0 -> trunc(f); else (NaN too) 0 */
    f = _mm512_min_pd(_mm512_max_pd(f, k->zero), k->nbf);
    __m512i j = _mm512_cvttpd_epi64(f);
    j = _mm512_mask_sub_epi64(j, _mm512_cmpeq_epi64_mask(j, k->nb), j,
                              k->one);
    j = _mm512_maskz_mov_epi64(keep, j);
    if (k->skip) {
        __m512d fr = _mm512_sub_pd(
            f, _mm512_roundscale_pd(f, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
        __mmask8 near = (_mm512_cmp_pd_mask(fr, k->mlo, _CMP_LT_OQ) |
                         _mm512_cmp_pd_mask(fr, k->mhi, _CMP_GT_OQ)) &
                        keep;
        if (!near)
            return j;
    }
    __m512d e0 = k->small ? _mm512_permutex2var_pd(k->tlo, j, k->thi)
                 : k->arith
                     ? edge_at_pd(j, k->step, k->firstd, k->lastv, k->nb)
                     : _mm512_i64gather_pd(j, k->edges, 8);
    __mmask8 dec = _mm512_cmp_pd_mask(x, e0, _CMP_LT_OQ) &
                   _mm512_cmpgt_epi64_mask(j, _mm512_setzero_si512()) & keep;
    j = _mm512_mask_sub_epi64(j, dec, j, k->one);
    __m512i j1 = _mm512_add_epi64(j, k->one);
    __m512d e1 = k->small ? _mm512_permutex2var_pd(k->tlo, j1, k->thi)
                 : k->arith
                     ? edge_at_pd(j1, k->step, k->firstd, k->lastv, k->nb)
                     : _mm512_i64gather_pd(j1, k->edges, 8);
    __mmask8 inc = _mm512_cmp_pd_mask(x, e1, _CMP_GE_OQ) &
                   _mm512_cmpneq_epi64_mask(j, k->last) & keep;
    return _mm512_mask_add_epi64(j, inc, j, k->one);
}

TGT static uint64_t add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                   uint32_t *c, const void *vv, uint64_t n)
{
    const double *v = vv;
    const unsigned shift = c ? EG_SPREAD_SHIFT : 0;
    const __m128i shv = _mm_cvtsi32_si128((int)shift);
    const __m512i lanes =
        _mm512_and_si512(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7),
                         _mm512_set1_epi64((long long)(1u << shift) - 1));
    f64_bins k;
    f64_bins_init(&k, p);
    uint64_t *counts = s->counts, below = 0, nan = 0, above = 0;
    uint64_t i = 0;
    int64_t idx[8];
    uint16_t q[QUEUE_LEN];
    unsigned qn = 0;
    /* (with the spread counters, 8 lanes a block, the queue measured 7 %
     * slower in quant_probe: it queues only into the state's counts) */
    const int queue = !c && p->nbins <= QUEUE_SLOTS_MAX;
    for (; i + 8 <= n; i += 8) {
        eg_read_ahead(v + i, 64);
        __m512d x = _mm512_loadu_pd(v + i);
        __mmask8 keep = f64_keep(&k, x, &below, &above, &nan);
        __m512i slot = SLOT64(f64_bins_of(&k, x, keep));
        if (queue && keep == 0xff) {
            _mm_storeu_si128((void *)(q + qn), _mm512_cvtepi64_epi16(slot));
            if ((qn += 8) == QUEUE_LEN) {
                queue_count(counts, c, q, qn);
                qn = 0;
            }
            continue;
        }
        _mm512_storeu_si512((void *)idx, slot);
        COUNT_LANES(c, counts, idx, (unsigned)keep, 0xffu, 8u);
    }
    queue_count(counts, c, q, qn);
    s->below += below;
    s->above += above;
    s->nan += nan;
    return i;
}

/* With few bins the counting goes into the vectors too: the bins of 64
 * values packed as bytes, and per bin one compare and one masked add into
 * 64 byte counters held in registers, folded into the state (vpsadbw)
 * before any can wrap.  That is 2 operations per bin per 64 values, where
 * the scalar increments cost a load, an add and a store per value.  The
 * number of counters is fixed at compile time (8, 12, 16 or 32, the bins
 * rounded up; those past nbins never match), so that they stay in
 * registers. */
#define BYTE_BINS_MAX 32u
#define BYTE_ROUNDS 255u /* adds a byte counter takes before it is folded */
#define NO_BIN 0xff      /* the byte of a lane not kept: no bin's */

/* The bins of values v[i, i + 64) as bytes. */
TGTB static inline __attribute__((always_inline)) __m512i
f32_bin_bytes(const f32_bins *k, const float *v, uint64_t *below,
              uint64_t *above, uint64_t *nan)
{
    const __m512i none = _mm512_set1_epi32(NO_BIN);
    __m128i q[4];
    for (unsigned r = 0; r < 4; r++) {
        __m512 x = _mm512_loadu_ps(v + 16 * r);
        __mmask16 keep = f32_keep(k, x, below, above, nan);
        q[r] = _mm512_cvtepi32_epi8(
            _mm512_mask_mov_epi32(none, keep, f32_bins_of(k, x, keep)));
    }
    __m512i bins = _mm512_castsi128_si512(q[0]);
    bins = _mm512_inserti32x4(bins, q[1], 1);
    bins = _mm512_inserti32x4(bins, q[2], 2);
    return _mm512_inserti32x4(bins, q[3], 3);
}

TGTB static inline __attribute__((always_inline)) void
fold_bytes(__m512i *c, unsigned nc, eg_hist_state *s)
{
    for (unsigned b = 0; b < nc; b++) {
        if (b < s->nbins)
            s->counts[b] += (uint64_t)_mm512_reduce_add_epi64(
                _mm512_sad_epu8(c[b], _mm512_setzero_si512()));
        c[b] = _mm512_setzero_si512();
    }
}

/* The bins of values v[i, i + 64) of float64 data as bytes. */
TGTB static inline __attribute__((always_inline)) __m512i
f64_bin_bytes(const f64_bins *k, const double *v, uint64_t *below,
              uint64_t *above, uint64_t *nan)
{
    const __m512i none = _mm512_set1_epi64(NO_BIN);
    __m128i q[8];
    for (unsigned r = 0; r < 8; r++) {
        __m512d x = _mm512_loadu_pd(v + 8 * r);
        __mmask8 keep = f64_keep(k, x, below, above, nan);
        q[r] = _mm512_cvtepi64_epi8(
            _mm512_mask_mov_epi64(none, keep, f64_bins_of(k, x, keep)));
    }
    __m512i bins = _mm512_castsi128_si512(_mm_unpacklo_epi64(q[0], q[1]));
    bins = _mm512_inserti32x4(bins, _mm_unpacklo_epi64(q[2], q[3]), 1);
    bins = _mm512_inserti32x4(bins, _mm_unpacklo_epi64(q[4], q[5]), 2);
    return _mm512_inserti32x4(bins, _mm_unpacklo_epi64(q[6], q[7]), 3);
}

/* Data of type T with at most NC bins: 64 values a round, counted in NC
 * byte counters; returns how many were counted (a multiple of 64). */
#define BYTE_COUNTER(NAME, NC, T, BINS, INIT, BYTES)                           \
    TGTB static uint64_t NAME(const eg_hist_plan *p, eg_hist_state *s,         \
                              const T *v, uint64_t n)                          \
    {                                                                          \
        BINS k;                                                                \
        INIT(&k, p);                                                           \
        __m512i c[NC], binc[NC];                                               \
        for (unsigned b = 0; b < NC; b++) {                                    \
            c[b] = _mm512_setzero_si512();                                     \
            binc[b] = _mm512_set1_epi8((char)b);                               \
        }                                                                      \
        const __m512i one = _mm512_set1_epi8(1);                               \
        uint64_t below = 0, nan = 0, above = 0, i = 0;                         \
        unsigned rounds = 0;                                                   \
        for (; i + 64 <= n; i += 64) {                                         \
            eg_read_ahead(v + i, 64 * sizeof(T));                              \
            __m512i bins = BYTES(&k, v + i, &below, &above, &nan);             \
            _Pragma("GCC unroll 32") for (unsigned b = 0; b < NC; b++) c[b] =  \
                _mm512_mask_add_epi8(                                          \
                    c[b], _mm512_cmpeq_epi8_mask(bins, binc[b]), c[b], one);   \
            if (++rounds == BYTE_ROUNDS) {                                     \
                fold_bytes(c, NC, s);                                          \
                rounds = 0;                                                    \
            }                                                                  \
        }                                                                      \
        fold_bytes(c, NC, s);                                                  \
        s->below += below;                                                     \
        s->above += above;                                                     \
        s->nan += nan;                                                         \
        return i;                                                              \
    }

#define F32_COUNTER(NC)                                                        \
    BYTE_COUNTER(f32_bytes_##NC, NC, float, f32_bins, f32_bins_init,           \
                 f32_bin_bytes)
#define F64_COUNTER(NC)                                                        \
    BYTE_COUNTER(f64_bytes_##NC, NC, double, f64_bins, f64_bins_init,          \
                 f64_bin_bytes)
F32_COUNTER(8)
F32_COUNTER(12)
F32_COUNTER(16)
F32_COUNTER(32)
F64_COUNTER(8)
F64_COUNTER(12)
F64_COUNTER(16)
F64_COUNTER(32)

TGTB static uint64_t add_f32_bytes(const eg_hist_plan *p, eg_hist_state *s,
                                   const float *v, uint64_t n)
{
    if (p->nbins <= 8)
        return f32_bytes_8(p, s, v, n);
    if (p->nbins <= 12)
        return f32_bytes_12(p, s, v, n);
    if (p->nbins <= 16)
        return f32_bytes_16(p, s, v, n);
    return f32_bytes_32(p, s, v, n);
}

TGTB static uint64_t add_f64_bytes(const eg_hist_plan *p, eg_hist_state *s,
                                   const double *v, uint64_t n)
{
    if (p->nbins <= 8)
        return f64_bytes_8(p, s, v, n);
    if (p->nbins <= 12)
        return f64_bytes_12(p, s, v, n);
    if (p->nbins <= 16)
        return f64_bytes_16(p, s, v, n);
    return f64_bytes_32(p, s, v, n);
}

static int have_avx512(void)
{
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512dq");
}

static int have_avx512bw(void)
{
    return __builtin_cpu_supports("avx512bw");
}

uint64_t eg_hist_add_f32_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const float *v, uint64_t n)
{
    if (!p->f32 || !p->norm_f32 || !p->edgesf || p->nbins > INT32_MAX - 2 ||
        !have_avx512())
        return 0;
    uint64_t done = 0;
    if (p->nbins <= BYTE_BINS_MAX && have_avx512bw())
        done = add_f32_bytes(p, s, v, n);
    return done + eg_hist_spread_run(p, s, add_avx512, v + done, sizeof(float),
                                     n - done);
}

uint64_t eg_hist_add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const double *v, uint64_t n)
{
    if (p->dtype != EG_F64 || p->f32 || !p->edges || !have_avx512())
        return 0;
    uint64_t done = 0;
    if (p->nbins <= BYTE_BINS_MAX && have_avx512bw())
        done = add_f64_bytes(p, s, v, n);
    return done + eg_hist_spread_run(p, s, add_f64_avx512, v + done,
                                     sizeof(double), n - done);
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
