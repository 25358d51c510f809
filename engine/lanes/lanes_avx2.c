/* lanes_avx2.c - the fast path of full float lanes with AVX2 and FMA, for
 * the x86 CPUs without AVX-512: the same bits as the generic vectors of
 * lanes_fast.c and as lanes_avx512.c, in one pass over the lane for every
 * group.
 *
 * Why: GCC cannot build the generic min/max pass for AVX2 (lanes_fast.c,
 * EG_HOT_SELECT), so such CPUs ran it in SSE2, 64-bit compares and shifts
 * taken apart element by element, and read each lane once per group: min
 * and max alone ran at a tenth of numpy's speed on an AVX2 EPYC.  Here a
 * row of eight slots is two 256-bit vectors of doubles, every group is fed
 * from one load of the row, and min/max run on the input type itself,
 * then their first index by a compare scan while the lane is in L1. */
#include <stdint.h>

#include "lane_sets.h"
#include "lane_slots.h"
#include "lanes.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define TGT_INLINE TGT __attribute__((always_inline)) static inline

/* Sixteen vector registers: the sum's three accumulators of eight slots
 * take six, so two lanes side by side fill most of them; the fused set
 * fills them with one. */
#define MAX_LN 2
_Static_assert(MAX_LN <= EG_PASS_MAX_LN, "the driver holds MAX_LN lanes");

#define BLOCK_ELEMS ((uint64_t)EG_LANE_BLOCK_ROWS * EG_LANE_SLOTS)
#define BLOCK_ROWS_BYTES(es) (BLOCK_ELEMS * (es))

/* As lanes_avx512.c: the hardware streamer stops at each 4 KiB page. */
#define PREFETCH_AHEAD 1024

/* One row of the eight slots: slots 0-3 and 4-7. */
typedef struct row {
    __m256d lo, hi;
} row;

TGT_INLINE row row_zero(void)
{
    return (row){_mm256_setzero_pd(), _mm256_setzero_pd()};
}

TGT_INLINE row row_set1(double d)
{
    return (row){_mm256_set1_pd(d), _mm256_set1_pd(d)};
}

TGT_INLINE row load_row(const void *p, int f32)
{
    if (f32) {
        const float *f = p;
        return (row){_mm256_cvtps_pd(_mm_loadu_ps(f)),
                     _mm256_cvtps_pd(_mm_loadu_ps(f + 4))};
    }
    const double *d = p;
    return (row){_mm256_loadu_pd(d), _mm256_loadu_pd(d + 4)};
}

TGT_INLINE void store_row(double *p, row r)
{
    _mm256_storeu_pd(p, r.lo);
    _mm256_storeu_pd(p + 4, r.hi);
}

TGT_INLINE row row_add(row a, row b)
{
    return (row){_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)};
}

TGT_INLINE row row_sub(row a, row b)
{
    return (row){_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)};
}

TGT_INLINE row row_mul(row a, row b)
{
    return (row){_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)};
}

/* a + b and a - b as fused multiply-adds by exactly 1.0: the add's bits
 * (lanes_avx512.c, add_fma), on the FMA pipes that the adds leave idle
 * (Zen 2 and 3 run adds on two pipes, FMAs on two others). */
TGT_INLINE row add_fma(row a, row b)
{
    const __m256d one = _mm256_set1_pd(1.0);
    return (row){_mm256_fmadd_pd(a.lo, one, b.lo),
                 _mm256_fmadd_pd(a.hi, one, b.hi)};
}

TGT_INLINE row sub_fma(row a, row b)
{
    const __m256d one = _mm256_set1_pd(1.0);
    return (row){_mm256_fnmadd_pd(b.lo, one, a.lo),
                 _mm256_fnmadd_pd(b.hi, one, a.hi)};
}

TGT_INLINE row row_abs(row v)
{
    const __m256d m = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    return (row){_mm256_and_pd(v.lo, m), _mm256_and_pd(v.hi, m)};
}

/* (s, c) += b, as VTWOSUM and eg_twosum_acc; f32 rows also carry the
 * widening, so b - z goes to the FMA pipes there. */
TGT_INLINE void twosum(row *s, row *c, row b, int f32)
{
    row t = row_add(*s, b), z = row_sub(t, *s);
    row bz = f32 ? sub_fma(b, z) : row_sub(b, z);
    row e = row_add(row_sub(*s, row_sub(t, z)), bz);
    *c = add_fma(*c, e);
    *s = t;
}

typedef struct acc {
    row s, c, p;       /* sum: compensated pair, open block   */
    row d1, d2, k;     /* var: shifted sums, shift            */
    row l1s, l1c, l1p; /* l1, as sum                          */
    row ssq;           /* l2 (the fast path's middle sum)     */
    row ds, dc, dp;    /* dot, as sum                         */
    __m256 mn32, mx32; /* min/max of an f32 lane              */
    row mn64, mx64;    /* min/max of an f64 lane              */
    __m256 chk32;      /* EG_LANE_CHECKS_ITSELF: plain sums,  */
    row chk64;         /*   only to see a non-finite element  */
} acc;

/* Whether every element of v is finite: v - v is 0 only then. */
TGT_INLINE int finite_ps(__m256 v)
{
    __m256 z =
        _mm256_cmp_ps(_mm256_sub_ps(v, v), _mm256_setzero_ps(), _CMP_EQ_OQ);
    return _mm256_movemask_ps(z) == 0xff;
}

TGT_INLINE int finite_pd(__m256d v)
{
    __m256d z =
        _mm256_cmp_pd(_mm256_sub_pd(v, v), _mm256_setzero_pd(), _CMP_EQ_OQ);
    return _mm256_movemask_pd(z) == 0xf;
}

TGT_INLINE int all_finite(const acc *a, int f32)
{
    if (f32)
        return finite_ps(a->chk32);
    return finite_pd(a->chk64.lo) && finite_pd(a->chk64.hi);
}

/* The running min and max at the end of every segment of a lane, so that
 * the first index of an extreme is looked for in one segment only (the
 * reasoning of lanes_avx512.c). */
#define SEG_ELEMS 256
#define SEGS (EG_LANE_ELEMS / SEG_ELEMS)

typedef struct snaps {
    __m256 mn32[SEGS], mx32[SEGS];
    row mn64[SEGS], mx64[SEGS];
} snaps;

/* The smallest and the largest of a vector (finite lanes only keep what
 * these give; NaN sends the lane the careful way). */
TGT static float least_f32(__m256 v, int largest)
{
    float e[8], m;
    _mm256_storeu_ps(e, v);
    m = e[0];
    for (int i = 1; i < 8; i++)
        m = largest ? (e[i] > m ? e[i] : m) : (e[i] < m ? e[i] : m);
    return m;
}

TGT static double least_f64(row v, int largest)
{
    double e[8], m;
    store_row(e, v);
    m = e[0];
    for (int i = 1; i < 8; i++)
        m = largest ? (e[i] > m ? e[i] : m) : (e[i] < m ? e[i] : m);
    return m;
}

/* The mask of the elements of a vector equal to m. */
TGT_INLINE int equal_f32(__m256 v, float m)
{
    return _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(m), _CMP_EQ_OQ));
}

TGT_INLINE int equal_f64(__m256d v, double m)
{
    return _mm256_movemask_pd(_mm256_cmp_pd(v, _mm256_set1_pd(m), _CMP_EQ_OQ));
}

TGT_INLINE int holds_f32(__m256 v, float m)
{
    return equal_f32(v, m);
}

TGT_INLINE int holds_f64(row v, double m)
{
    return equal_f64(v.lo, m) | equal_f64(v.hi, m);
}

/* For one input type (T, W elements to a vector loaded by LOAD, the
 * snapshots' fields mn##BITS and mx##BITS):
 *
 * first_equal: the first index among the n elements at x (n a multiple of
 * 4 W, never past the lane's end) equal to m; 0 when none is (a NaN
 * extreme: such lanes go the careful way).  Four vectors a step, one
 * branch for the four compares.
 *
 * put_extremes: where the lane's extremes first occur; slot 0 holds them
 * and their indices, the other slots keep their +-inf from slots_init, so
 * the combine tree passes slot 0 through (as lanes_avx512.c). */
#define DEFINE_EXTREMES(SFX, T, W, LOAD, BITS)                                 \
    TGT static uint64_t first_equal_##SFX(const T *x, uint64_t n, T m)         \
    {                                                                          \
        for (uint64_t i = 0; i < n; i += 4 * (W)) {                            \
            uint64_t all = 0;                                                  \
            for (int q = 0; q < 4; q++)                                        \
                all |= (uint64_t)(uint32_t)equal_##SFX(LOAD(x + i + (W)*q), m) \
                       << ((W)*q);                                             \
            if (all)                                                           \
                return i + (uint64_t)__builtin_ctzll(all);                     \
        }                                                                      \
        return 0;                                                              \
    }                                                                          \
                                                                               \
    TGT static void put_extremes_##SFX(const T *x, const snaps *sn,            \
                                       uint64_t base, slots *sl)               \
    {                                                                          \
        T mn = least_##SFX(sn->mn##BITS[SEGS - 1], 0);                         \
        T mx = least_##SFX(sn->mx##BITS[SEGS - 1], 1);                         \
        uint64_t smn = 0, smx = 0;                                             \
        while (smn + 1 < SEGS && !holds_##SFX(sn->mn##BITS[smn], mn))          \
            smn++;                                                             \
        while (smx + 1 < SEGS && !holds_##SFX(sn->mx##BITS[smx], mx))          \
            smx++;                                                             \
        uint64_t imn = smn * SEG_ELEMS, imx = smx * SEG_ELEMS;                 \
        imn += first_equal_##SFX(x + imn, EG_LANE_ELEMS - imn, mn);            \
        imx += first_equal_##SFX(x + imx, EG_LANE_ELEMS - imx, mx);            \
        sl->mn[0] = (double)x[imn];                                            \
        sl->mx[0] = (double)x[imx];                                            \
        sl->amn[0] = base + imn;                                               \
        sl->amx[0] = base + imx;                                               \
    }

DEFINE_EXTREMES(f32, float, 8, _mm256_loadu_ps, 32)
DEFINE_EXTREMES(f64, double, 4, _mm256_loadu_pd, 64)

TGT_INLINE void prefetch_block(const char *x, const char *y, uint64_t at,
                               uint64_t es, unsigned g)
{
    for (uint64_t b = 0; b < BLOCK_ROWS_BYTES(es); b += 64) {
        _mm_prefetch(x + at + PREFETCH_AHEAD + b, _MM_HINT_T0);
        if (g & EG_G_DOT)
            _mm_prefetch(y + at + PREFETCH_AHEAD + b, _MM_HINT_T0);
    }
}

/* One pass over LN full lanes at x (lane l at element l * EG_LANE_ELEMS)
 * for groups g, into their slots.  Always inlined into the instances below,
 * where f32, g and ln are constants, so only the groups asked for remain. */
TGT_INLINE void fused_lanes(const void *xv, const void *yv, int f32, unsigned g,
                            int ln, uint64_t base, const double *k, slots *sl)
{
    const char *x = xv, *y = yv;
    const uint64_t es = f32 ? 4 : 8;
    acc a[MAX_LN];
    snaps sn[MAX_LN]; /* written and read only with EG_G_MINMAX */
    for (int l = 0; l < ln; l++) {
        a[l].s = a[l].c = a[l].p = a[l].d1 = a[l].d2 = row_zero();
        a[l].l1s = a[l].l1c = a[l].l1p = a[l].ssq = row_zero();
        a[l].ds = a[l].dc = a[l].dp = a[l].chk64 = row_zero();
        a[l].chk32 = _mm256_setzero_ps();
        a[l].k = row_set1(k[l]);
        a[l].mn32 = _mm256_set1_ps(INFINITY);
        a[l].mx32 = _mm256_set1_ps(-INFINITY);
        a[l].mn64 = row_set1(INFINITY);
        a[l].mx64 = row_set1(-INFINITY);
    }
    for (uint64_t i = 0; i < EG_LANE_ELEMS; i += BLOCK_ELEMS) {
        for (int l = 0; l < ln; l++)
            prefetch_block(x, y, ((uint64_t)l * EG_LANE_ELEMS + i) * es, es, g);
        for (int r = 0; r < EG_LANE_BLOCK_ROWS; r++)
            for (int l = 0; l < ln; l++) {
                uint64_t at = ((uint64_t)l * EG_LANE_ELEMS + i +
                               (uint64_t)r * EG_LANE_SLOTS) *
                              es;
                row v = load_row(x + at, f32);
                /* A block starts from its first row: the bits of +0.0 +
                 * row (lanes_avx512.c says why). */
                if (!(g & EG_G_NO_SUM))
                    a[l].p = r ? add_fma(a[l].p, v) : v;
                if (g & EG_G_VAR) {
                    row d = row_sub(v, a[l].k);
                    a[l].d1 = add_fma(a[l].d1, d);
                    a[l].d2 = add_fma(a[l].d2, row_mul(d, d));
                }
                if (g & EG_G_L1)
                    a[l].l1p = r ? add_fma(a[l].l1p, row_abs(v)) : row_abs(v);
                if (g & EG_G_L2)
                    a[l].ssq = row_add(a[l].ssq, row_mul(v, v));
                if (g & EG_G_DOT) {
                    row xy = row_mul(v, load_row(y + at, f32));
                    a[l].dp = r ? add_fma(a[l].dp, xy) : xy;
                }
                if ((g & EG_G_MINMAX) && f32) {
                    __m256 z = _mm256_loadu_ps((const float *)(x + at));
                    a[l].mn32 = _mm256_min_ps(a[l].mn32, z);
                    a[l].mx32 = _mm256_max_ps(a[l].mx32, z);
                    /* NaN and infinities stay; a finite overflow only
                     * sends the lane the careful way, with the same bits */
                    if (EG_LANE_CHECKS_ITSELF(g))
                        a[l].chk32 = _mm256_add_ps(a[l].chk32, z);
                }
                if ((g & EG_G_MINMAX) && !f32) {
                    a[l].mn64.lo = _mm256_min_pd(a[l].mn64.lo, v.lo);
                    a[l].mn64.hi = _mm256_min_pd(a[l].mn64.hi, v.hi);
                    a[l].mx64.lo = _mm256_max_pd(a[l].mx64.lo, v.lo);
                    a[l].mx64.hi = _mm256_max_pd(a[l].mx64.hi, v.hi);
                    if (EG_LANE_CHECKS_ITSELF(g))
                        a[l].chk64 = row_add(a[l].chk64, v);
                }
            }
        if ((g & EG_G_MINMAX) && (i + BLOCK_ELEMS) % SEG_ELEMS == 0)
            for (int l = 0; l < ln; l++) {
                uint64_t seg = i / SEG_ELEMS;
                if (f32) {
                    sn[l].mn32[seg] = a[l].mn32;
                    sn[l].mx32[seg] = a[l].mx32;
                } else {
                    sn[l].mn64[seg] = a[l].mn64;
                    sn[l].mx64[seg] = a[l].mx64;
                }
            }
        for (int l = 0; l < ln; l++) {
            if (!(g & EG_G_NO_SUM))
                twosum(&a[l].s, &a[l].c, a[l].p, f32);
            if (g & EG_G_L1)
                twosum(&a[l].l1s, &a[l].l1c, a[l].l1p, f32);
            if (g & EG_G_DOT)
                twosum(&a[l].ds, &a[l].dc, a[l].dp, f32);
        }
    }
    for (int l = 0; l < ln; l++) {
        store_row(sl[l].s, a[l].s);
        store_row(sl[l].c, a[l].c);
        store_row(sl[l].d1, a[l].d1);
        store_row(sl[l].d2, a[l].d2);
        store_row(sl[l].l1s, a[l].l1s);
        store_row(sl[l].l1c, a[l].l1c);
        store_row(sl[l].med, a[l].ssq);
        store_row(sl[l].ds, a[l].ds);
        store_row(sl[l].dc, a[l].dc);
        if (g & EG_G_MINMAX) {
            uint64_t off = (uint64_t)l * EG_LANE_ELEMS;
            if (f32)
                put_extremes_f32((const float *)x + off, &sn[l], base + off,
                                 &sl[l]);
            else
                put_extremes_f64((const double *)x + off, &sn[l], base + off,
                                 &sl[l]);
        }
        if (EG_LANE_CHECKS_ITSELF(g) && !all_finite(&a[l], f32))
            sl[l].flags = EG_LANE_NEEDS_CAREFUL;
    }
}

/* The passes (lane_sets.h): var and dot fill the registers with one lane,
 * the other sets take two side by side. */
#define SIDE(G) (((G) & (EG_G_VAR | EG_G_DOT)) ? 1 : MAX_LN)

EG_LANE_PASSES(f32, 1)
EG_LANE_PASSES(f64, 0)

uint64_t eg_lanes_avx2(const void *x, const void *y, uint64_t lanes,
                       eg_dtype dtype, unsigned g, uint64_t *words)
{
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
        (dtype != EG_F32 && dtype != EG_F64))
        return 0;
    EG_LANE_PASSES_RUN(x, y, lanes, dtype, g, words);
}

#else

uint64_t eg_lanes_avx2(const void *x, const void *y, uint64_t lanes,
                       eg_dtype dtype, unsigned g, uint64_t *words)
{
    (void)x;
    (void)y;
    (void)lanes;
    (void)dtype;
    (void)g;
    (void)words;
    return 0;
}

#endif
