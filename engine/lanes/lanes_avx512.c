/* lanes_avx512.c - the fast path of full float lanes with AVX-512
 * intrinsics: the same bits as the generic vectors of lanes_fast.c (which
 * remain the reference and serve other CPUs), in one pass over the lane for
 * every group.
 *
 * Why a second spelling: GCC lowers the generic f32 -> f64 widening to two
 * 256-bit converts, an extract and an insert per row, and the generic code
 * reads a lane once per group.  Here a row is one vcvtps2pd from memory,
 * every group is fed from that one load, and min/max run on the input type
 * itself, then their first index by a compare scan (avx512_extreme.h). */
#include <stdint.h>

#include "lane_sets.h"
#include "lane_slots.h"
#include "lanes.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include "avx512_extreme.h"

#define TGT __attribute__((target("avx512f")))
#define TGT_INLINE TGT __attribute__((always_inline)) static inline

/* At most this many lanes go through one pass side by side: the slots'
 * adds are latency-bound chains, and independent lanes fill the gaps. */
#define MAX_LN 4
_Static_assert(MAX_LN <= EG_PASS_MAX_LN, "the driver holds MAX_LN lanes");

/* The fused set's accumulators fill the registers at two lanes (three
 * or four spill and ran slower, measured). */
#define FUSED_LN 2

/* The elements and the bytes of one block of rows of one lane. */
#define BLOCK_ELEMS ((uint64_t)EG_LANE_BLOCK_ROWS * EG_LANE_SLOTS)
#define BLOCK_ROWS_BYTES(es) (BLOCK_ELEMS * (es))

/* How far ahead of each lane's reads to prefetch.  The hardware streamer
 * stops at every 4 KiB page, and a pass reads several lanes side by side,
 * so each of those streams would stall at each page without this. */
#define PREFETCH_AHEAD 1024

typedef struct acc {
    __m512d s, c, p;       /* sum: compensated pair, open block        */
    __m512d d1, d2, k;     /* var: shifted sums, shift                 */
    __m512d l1s, l1c, l1p; /* l1, as sum                               */
    __m512d ssq;           /* l2 (the fast path's middle sum)          */
    __m512d ds, dc, dp;    /* dot, as sum                              */
    __m512 mn32, mx32;     /* min/max of an f32 lane                   */
    __m512d mn64, mx64;    /* min/max of an f64 lane                   */
    __m512 chk32;          /* EG_LANE_CHECKS_ITSELF: plain sums, only  */
    __m512d chk64;         /*   to see a non-finite element            */
} acc;

TGT_INLINE __m512d load_row(const void *p, int f32)
{
    return f32 ? _mm512_cvtps_pd(_mm256_loadu_ps((const float *)p))
               : _mm512_loadu_pd((const double *)p);
}

/* a + b, issued as a fused multiply-add with the multiplier exactly 1.0:
 * a * 1.0 is exact, so the one rounding is that of a + b and the bits are
 * the add's (signed zeros and infinities included; a NaN makes the lane
 * go the careful way in either form).  Nothing is contracted: no product
 * is ever folded into an add.  The point is the port: Zen 4 and 5 run adds
 * on two FADD pipes and FMAs on two others, which the lanes otherwise
 * leave idle but for var's one multiply a row; on Intel both forms share
 * the same ports and cost the same. */
TGT_INLINE __m512d add_fma(__m512d a, __m512d b)
{
    return _mm512_fmadd_pd(a, _mm512_set1_pd(1.0), b);
}

/* a - b the same way: -(b * 1.0) + a. */
TGT_INLINE __m512d sub_fma(__m512d a, __m512d b)
{
    return _mm512_fnmadd_pd(b, _mm512_set1_pd(1.0), a);
}

/* (s, c) += b, as VTWOSUM and eg_twosum_acc.  For f32 lanes, whose rows
 * also carry the widening on the FADD pipes, b - z moves to the FMA pipes
 * too (measured: f32 l1 +8 %, f64 no better). */
TGT_INLINE void twosum(__m512d *s, __m512d *c, __m512d b, int f32)
{
    __m512d t = _mm512_add_pd(*s, b), z = _mm512_sub_pd(t, *s);
    __m512d bz = f32 ? sub_fma(b, z) : _mm512_sub_pd(b, z);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(*s, _mm512_sub_pd(t, z)), bz);
    *c = add_fma(*c, e);
    *s = t;
}

TGT_INLINE __m512d vabs(__m512d v)
{
    return _mm512_castsi512_pd(_mm512_and_si512(
        _mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MAX)));
}

/* Whether the check sums of a lane are finite (x - x is 0 only then). */
TGT_INLINE int all_finite(const acc *a, int f32)
{
    if (f32)
        return _mm512_cmp_ps_mask(_mm512_sub_ps(a->chk32, a->chk32),
                                  _mm512_setzero_ps(), _CMP_EQ_OQ) == 0xffff;
    return _mm512_cmp_pd_mask(_mm512_sub_pd(a->chk64, a->chk64),
                              _mm512_setzero_pd(), _CMP_EQ_OQ) == 0xff;
}

/* The running min and max, kept at the end of every segment of a lane, so
 * that the first index of an extreme is looked for in one segment only:
 * the first segment whose snapshot holds the extreme is where it first
 * occurs (a running min only falls, and it can only equal the lane's min
 * once an element equal to it has been seen). */
#define SEG_ELEMS 256
#define SEGS (EG_LANE_ELEMS / SEG_ELEMS)

typedef struct snaps {
    __m512 mn32[SEGS], mx32[SEGS];
    __m512d mn64[SEGS], mx64[SEGS];
} snaps;

/* The first segment whose snapshot holds m. */
#define DEFINE_FIRST_SEG(SFX, T, V, SET1, CMP)                               \
    TGT static uint64_t first_seg_##SFX(const V *snap, T m)                  \
    {                                                                        \
        V vm = SET1(m);                                                      \
        uint64_t s = 0;                                                      \
        while (s + 1 < SEGS && !CMP(snap[s], vm, _CMP_EQ_OQ))                \
            s++;                                                             \
        return s;                                                            \
    }

DEFINE_FIRST_SEG(f32, float, __m512, _mm512_set1_ps, _mm512_cmp_ps_mask)
DEFINE_FIRST_SEG(f64, double, __m512d, _mm512_set1_pd, _mm512_cmp_pd_mask)

/* Where the lane's extremes first occur; slot 0 holds them and their
 * indices, the other slots keep their +-inf from slots_init, so the combine
 * tree passes slot 0 through. */
TGT static void put_extremes(const void *lane, int f32, const snaps *sn,
                             uint64_t base, slots *sl)
{
    uint64_t imn, imx;
    if (f32) {
        const float *x = lane;
        float mn = _mm512_reduce_min_ps(sn->mn32[SEGS - 1]);
        float mx = _mm512_reduce_max_ps(sn->mx32[SEGS - 1]);
        imn = first_seg_f32(sn->mn32, mn) * SEG_ELEMS;
        imx = first_seg_f32(sn->mx32, mx) * SEG_ELEMS;
        imn += first_equal_f32(x + imn, EG_LANE_ELEMS - imn, mn);
        imx += first_equal_f32(x + imx, EG_LANE_ELEMS - imx, mx);
        sl->mn[0] = (double)x[imn];
        sl->mx[0] = (double)x[imx];
    } else {
        const double *x = lane;
        double mn = _mm512_reduce_min_pd(sn->mn64[SEGS - 1]);
        double mx = _mm512_reduce_max_pd(sn->mx64[SEGS - 1]);
        imn = first_seg_f64(sn->mn64, mn) * SEG_ELEMS;
        imx = first_seg_f64(sn->mx64, mx) * SEG_ELEMS;
        imn += first_equal_f64(x + imn, EG_LANE_ELEMS - imn, mn);
        imx += first_equal_f64(x + imx, EG_LANE_ELEMS - imx, mx);
        sl->mn[0] = x[imn];
        sl->mx[0] = x[imx];
    }
    sl->amn[0] = base + imn;
    sl->amx[0] = base + imx;
}

/* One pass over LN full lanes at x (lane l at element l * EG_LANE_ELEMS)
 * for groups g, into their slots.  Always inlined into the instances below,
 * where f32, g and ln are constants, so only the groups asked for remain. */
TGT_INLINE void fused_lanes(const void *xv, const void *yv, int f32,
                            unsigned g, int ln, uint64_t base,
                            const double *k, slots *sl)
{
    const char *x = xv, *y = yv;
    const uint64_t es = f32 ? 4 : 8;
    const __m512d zero = _mm512_setzero_pd();
    acc a[MAX_LN];
    snaps sn[MAX_LN]; /* written and read only with EG_G_MINMAX */
    for (int l = 0; l < ln; l++) {
        a[l].s = a[l].c = a[l].p = a[l].d1 = a[l].d2 = zero;
        a[l].l1s = a[l].l1c = a[l].l1p = a[l].ssq = zero;
        a[l].ds = a[l].dc = a[l].dp = a[l].chk64 = zero;
        a[l].chk32 = _mm512_setzero_ps();
        a[l].k = _mm512_set1_pd(k[l]);
        a[l].mn32 = _mm512_set1_ps(INFINITY);
        a[l].mx32 = _mm512_set1_ps(-INFINITY);
        a[l].mn64 = _mm512_set1_pd(INFINITY);
        a[l].mx64 = _mm512_set1_pd(-INFINITY);
    }
    for (uint64_t i = 0; i < EG_LANE_ELEMS; i += BLOCK_ELEMS) {
        for (int l = 0; l < ln; l++) {
            const char *ahead = x + ((uint64_t)l * EG_LANE_ELEMS + i) * es +
                                PREFETCH_AHEAD;
            for (uint64_t b = 0; b < BLOCK_ROWS_BYTES(es); b += 64) {
                _mm_prefetch(ahead + b, _MM_HINT_T0);
                if (g & EG_G_DOT)
                    _mm_prefetch(y + (ahead - x) + b, _MM_HINT_T0);
            }
        }
        for (int r = 0; r < EG_LANE_BLOCK_ROWS; r++)
            for (int l = 0; l < ln; l++) {
                uint64_t at = ((uint64_t)l * EG_LANE_ELEMS + i +
                               (uint64_t)r * EG_LANE_SLOTS) * es;
                __m512d v = load_row(x + at, f32);
                /* A block's sums start from its first row rather than from
                 * +0.0 + row: the same bits, as only an all -0.0 block
                 * differs (-0.0 for +0.0), and TwoSum into an s that is
                 * never -0.0 gives the same (s, c) for either zero. */
                if (!(g & EG_G_NO_SUM))
                    a[l].p = r ? add_fma(a[l].p, v) : v;
                if (g & EG_G_VAR) {
                    __m512d d = _mm512_sub_pd(v, a[l].k);
                    a[l].d1 = add_fma(a[l].d1, d);
                    a[l].d2 = add_fma(a[l].d2, _mm512_mul_pd(d, d));
                }
                if (g & EG_G_L1)
                    a[l].l1p = r ? add_fma(a[l].l1p, vabs(v)) : vabs(v);
                if (g & EG_G_L2)
                    a[l].ssq = _mm512_add_pd(a[l].ssq, _mm512_mul_pd(v, v));
                if (g & EG_G_DOT) {
                    __m512d xy = _mm512_mul_pd(v, load_row(y + at, f32));
                    a[l].dp = r ? add_fma(a[l].dp, xy) : xy;
                }
                if ((g & EG_G_MINMAX) && f32 && r % 2 == 0) {
                    __m512 z = _mm512_loadu_ps((const float *)(x + at));
                    a[l].mn32 = _mm512_min_ps(a[l].mn32, z);
                    a[l].mx32 = _mm512_max_ps(a[l].mx32, z);
                    /* NaN and infinities stay; a finite overflow only
                     * sends the lane the careful way, with the same bits */
                    if (EG_LANE_CHECKS_ITSELF(g))
                        a[l].chk32 = _mm512_add_ps(a[l].chk32, z);
                }
                if ((g & EG_G_MINMAX) && !f32) {
                    a[l].mn64 = _mm512_min_pd(a[l].mn64, v);
                    a[l].mx64 = _mm512_max_pd(a[l].mx64, v);
                    if (EG_LANE_CHECKS_ITSELF(g))
                        a[l].chk64 = _mm512_add_pd(a[l].chk64, v);
                }
            }
        if ((g & EG_G_MINMAX) && (i + BLOCK_ELEMS) % SEG_ELEMS == 0)
            for (int l = 0; l < ln; l++) {
                uint64_t seg = i / SEG_ELEMS;
                sn[l].mn32[seg] = a[l].mn32;
                sn[l].mx32[seg] = a[l].mx32;
                sn[l].mn64[seg] = a[l].mn64;
                sn[l].mx64[seg] = a[l].mx64;
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
        _mm512_storeu_pd(sl[l].s, a[l].s);
        _mm512_storeu_pd(sl[l].c, a[l].c);
        _mm512_storeu_pd(sl[l].d1, a[l].d1);
        _mm512_storeu_pd(sl[l].d2, a[l].d2);
        _mm512_storeu_pd(sl[l].l1s, a[l].l1s);
        _mm512_storeu_pd(sl[l].l1c, a[l].l1c);
        _mm512_storeu_pd(sl[l].med, a[l].ssq);
        _mm512_storeu_pd(sl[l].ds, a[l].ds);
        _mm512_storeu_pd(sl[l].dc, a[l].dc);
        if (g & EG_G_MINMAX) {
            uint64_t off = (uint64_t)l * EG_LANE_ELEMS;
            put_extremes(x + off * es, f32, &sn[l], base + off, &sl[l]);
        }
        if (EG_LANE_CHECKS_ITSELF(g) && !all_finite(&a[l], f32))
            sl[l].flags = EG_LANE_NEEDS_CAREFUL;
    }
}

/* The passes (lane_sets.h): each set of lane_sets.h with as many lanes side
 * by side as its accumulators leave registers for. */
#define SIDE(G) ((G) == (EG_G_VAR | EG_G_MINMAX) ? FUSED_LN : MAX_LN)

EG_LANE_PASSES(f32, 1)
EG_LANE_PASSES(f64, 0)

uint64_t eg_lanes_avx512(const void *x, const void *y, uint64_t lanes,
                         eg_dtype dtype, unsigned g, uint64_t *words)
{
    if (!__builtin_cpu_supports("avx512f") ||
        (dtype != EG_F32 && dtype != EG_F64))
        return 0;
    EG_LANE_PASSES_RUN(x, y, lanes, dtype, g, words);
}

#else

uint64_t eg_lanes_avx512(const void *x, const void *y, uint64_t lanes,
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
