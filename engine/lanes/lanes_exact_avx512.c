/* lanes_exact_avx512.c - the exact lane (lanes.h, exact_levels.h) of full
 * float lanes with AVX-512 intrinsics, in one pass over the lane as the
 * exact kernel does it; the same words as the generic lanes_exact.c, which
 * remains the reference and serves other CPUs.
 *
 * Why a second spelling: the generic code reads a lane once to scan its
 * magnitudes, once for min/max (scalar) and once per kind of term, and
 * GCC lowers its f32 -> f64 widening to four instructions per row.  Here
 * each lane is cut with its guessed plans (the first EG_EXACT_GUESS_ELEMS
 * elements fix them) while the same pass scans the magnitudes and the
 * extremes; the scan then picks the lane's plans with the generic code's
 * own rules (eg_exact_lane_plans), and only a lane whose plans are not the
 * guessed ones (rare: its later elements are far larger or smaller than
 * its first ones) is redone the generic way.  The level sums are exact, so
 * the rows may go to several accumulators side by side (which hides the
 * adds' latency) and be folded in any order: the same bits.  Two or four
 * lanes go through one pass side by side, each with its own plans and
 * sums (more memory streams and independent work for the core); a lane
 * whose plans fail is redone alone, its neighbours' results stand.
 *
 * Where the time goes (one core, lanes in L2): every cut level is four
 * vector operations a row and the f64 default set cuts x, x^2's p and its
 * e, about 24 vector operations a row against four pipes.  So the pass
 * cuts to the fewest levels a row needs (the short levels, and the long
 * ones only for a row that holds an element below the lane's threshold,
 * step_row) and issues the exact operations of each cut on the FMA pipes
 * as well as the FADD ones (add_fma). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lanes_exact.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include "avx512_extreme.h"

#define TGT __attribute__((target("avx512f")))
#define TGT_INLINE TGT __attribute__((always_inline)) static inline

#define ROW 8 /* a row: 8 elements, one vector of doubles */

/* The levels of the guessed plans: constants, so the cuts unroll. */
#define LX EG_EXACT_FIX_X
#define LP EG_EXACT_FIX_P
#define LE EG_EXACT_FIX_E

/* The work a group set asks of the exact pass: the index of its instance.
 * var and l2 need the same terms (x^2). */
enum { W_MINMAX = 1, W_L1 = 2, W_SQ = 4, W_DOT = 8, W_SETS = 16 };

/* How far ahead of its reads a pass prefetches, in bytes: far into L2
 * (the hardware streamer stops at each 4 KiB page, and a lane is one
 * stream) and near into L1.  Measured on 2 threads from memory: without
 * them about 0.7x, T0 alone at 2 KiB 0.9x, T1 alone at 4 KiB, 8 KiB or
 * 16 KiB 0.95x, 1x, 0.85x of these. */
#define EXACT_PREFETCH_AHEAD 8192
#define EXACT_PREFETCH_HINT _MM_HINT_T1
#define EXACT_PREFETCH_NEAR 1024

/* The sigmas of the guessed plans, one vector each. */
typedef struct sigmas {
    __m512d x[EG_EXACT_LEVELS - 1], sq[EG_EXACT_LEVELS - 1],
        sqe[EG_EXACT_LEVELS - 1], dot[EG_EXACT_LEVELS - 1],
        dote[EG_EXACT_LEVELS - 1];
    /* The short pass's thresholds of x and y (tiny_bits): bits of |x|
     * minus 1, per 64-bit element (f64) or 32-bit one (f32). */
    __m512i tiny1, tiny1y;
} sigmas;

/* One set of level accumulators per kind of term. */
typedef struct accs {
    __m512d x[LX], a[LX], sq[LP], sqe[LE], dot[LP], dote[LE];
} accs;

/* What a pass hands back: the level sums, the spans of x and y, the
 * extremes (as doubles; the input type's values widened). */
/* The running extremes, kept at the end of every segment of a lane (as
 * lanes_avx512.c keeps them), so that the first index of an extreme is
 * looked for in one segment only: the first segment whose snapshot holds
 * the extreme is where it first occurs (a running min only falls, and it
 * equals the lane's min once an element equal to it has been seen). */
#define SEG_ELEMS 256
#define SEGS (EG_LANE_ELEMS / SEG_ELEMS)

typedef union seg_snap {
    __m512 f32;
    __m512d f64;
} seg_snap;

typedef struct lane_out {
    double x[LX], a[LX], sq[LP], sqe[LE], dot[LP], dote[LE];
    eg_exact_mag sx, sy;
    double mn, mx;
    /* Last: lane_fold clears what comes before, the pass writes these. */
    seg_snap smn[SEGS], smx[SEGS];
} lane_out;

/* The magnitude scan's running state: largest |v| bits, smallest
 * non-zero |v| bits minus 1 (per 32- or 64-bit element). */
typedef struct scan {
    __m512i mx, mn1;
} scan;

TGT_INLINE __m512d load_row(const char *p, int f64)
{
    return f64 ? _mm512_loadu_pd((const double *)p)
               : _mm512_cvtps_pd(_mm256_loadu_ps((const float *)p));
}

/* a + b issued as a fused multiply-add with the multiplier exactly 1.0,
 * and a - b as -(b * 1.0) + a: the product is exact, so the one rounding
 * is the add's and the bits are the add's.  Nothing is contracted.  The
 * point is the port: Zen 4 and 5 run adds on two FADD pipes and FMAs on
 * two others, and the cuts are almost all adds (lanes_avx512.c does the
 * same for the fast lanes); on Intel both forms share the ports. */
TGT_INLINE __m512d add_fma(__m512d a, __m512d b)
{
    return _mm512_fmadd_pd(a, _mm512_set1_pd(1.0), b);
}

TGT_INLINE __m512d sub_fma(__m512d a, __m512d b)
{
    return _mm512_fnmadd_pd(b, _mm512_set1_pd(1.0), a);
}

#ifndef CUT_MIX
#define CUT_MIX 1
#endif

/* One level's extraction: q = (sigma + t) - sigma into acc, t -= q.  Every
 * operation but sigma + t is exact, so any of them may take either form. */
TGT_INLINE __m512d cut_level(__m512d *t, __m512d sig)
{
#if CUT_MIX == 0
    __m512d q = _mm512_sub_pd(_mm512_add_pd(sig, *t), sig);
    *t = _mm512_sub_pd(*t, q);
#elif CUT_MIX == 1
    __m512d q = _mm512_sub_pd(_mm512_add_pd(sig, *t), sig);
    *t = sub_fma(*t, q);
#else
    __m512d q = _mm512_sub_pd(add_fma(sig, *t), sig);
    *t = sub_fma(*t, q);
#endif
    return q;
}

#ifndef ACC_FMA
#define ACC_FMA 1
#endif
#ifndef LAST_FMA
#define LAST_FMA 0
#endif

/* acc + q for a level's sum, on the pipe the mix above leaves freer. */
TGT_INLINE __m512d acc_add(__m512d acc, __m512d q, int last)
{
    if (last ? LAST_FMA : ACC_FMA)
        return add_fma(acc, q);
    return _mm512_add_pd(acc, q);
}

TGT_INLINE __m512d acc_mask_add(__m512d acc, __mmask8 m, __m512d q, int last)
{
    if (last ? LAST_FMA : ACC_FMA)
        return _mm512_mask3_fmadd_pd(q, _mm512_set1_pd(1.0), acc, m);
    return _mm512_mask_add_pd(acc, m, acc, q);
}

/* Rump's extraction of one row of terms t onto L grids, as cut_row of
 * lanes_exact.c: q = (sigma + t) - sigma, the remainder goes on. */
TGT_INLINE void cut(__m512d t, const __m512d *sig, const int L, __m512d *acc)
{
    for (int j = 0; j + 1 < L; j++)
        acc[j] = acc_add(acc[j], cut_level(&t, sig[j]), 0);
    acc[L - 1] = acc_add(acc[L - 1], t, 1);
}

/* The pieces of x and of |x| at once: |x| is cut into the pieces of x
 * times the sign of x (the grids are symmetric about zero), so each piece
 * goes to pos or neg by the sign of its element; per level x is pos + neg
 * and |x| is pos - neg, both exact as every partial sum is. */
TGT_INLINE void cut_signed(__m512d t, const __m512d *sig, const int L,
                           __mmask8 neg, __m512d *pos, __m512d *nega)
{
    for (int j = 0; j + 1 < L; j++) {
        __m512d q = cut_level(&t, sig[j]);
        pos[j] = acc_mask_add(pos[j], (__mmask8)~neg, q, 0);
        nega[j] = acc_mask_add(nega[j], neg, q, 0);
    }
    pos[L - 1] = acc_mask_add(pos[L - 1], (__mmask8)~neg, t, 1);
    nega[L - 1] = acc_mask_add(nega[L - 1], neg, t, 1);
}

/* The levels a pass cuts per kind: the fixed plans' (long) or fewer
 * (short, eg_exact_short_holds). */
typedef struct levels {
    int x, p, e;
} levels;

#define MIN_(a, b) ((a) < (b) ? (a) : (b))

/* The levels of the long pass (the guessed plans') and of the short one:
 * f32 x within 2^17 of the top is on the first grid already, and its
 * products (48 bits) and f64 products within about 2^14 of it reach the
 * second grid only. */
#define LONG_LEVELS ((levels){LX, LP, LE})
#define SHORT_LEVELS(F64)                                                    \
    ((levels){(F64) ? LX : 1, MIN_(LP, 2), MIN_(LE, 2)})

/* Every term of one row v (and w of y) that the work wk asks for.  f64
 * products go in as their TwoProduct pair: e = fma(v, w, -p) exactly;
 * f32 products are exact in double.  With l1, a->x holds the pieces of
 * non-negative elements and a->a those of negative ones. */
TGT_INLINE void feed(__m512d v, __m512d w, const int f64, const unsigned wk,
                     const levels lv, const sigmas *sg, accs *a)
{
    if (wk & W_L1) {
        __mmask8 neg = _mm512_test_epi64_mask(_mm512_castpd_si512(v),
                                              _mm512_set1_epi64(INT64_MIN));
        cut_signed(v, sg->x, lv.x, neg, a->x, a->a);
    } else {
        cut(v, sg->x, lv.x, a->x);
    }
    if (wk & W_SQ) {
        __m512d p = _mm512_mul_pd(v, v);
        cut(p, sg->sq, lv.p, a->sq);
        if (f64)
            cut(_mm512_fmsub_pd(v, v, p), sg->sqe, lv.e, a->sqe);
    }
    if (wk & W_DOT) {
        __m512d p = _mm512_mul_pd(v, w);
        cut(p, sg->dot, lv.p, a->dot);
        if (f64)
            cut(_mm512_fmsub_pd(v, w, p), sg->dote, lv.e, a->dote);
    }
}

/* The scan of 16 f32 or 8 f64 raw elements: the generic scan_f32/f64 on
 * the bits of |v|. */
TGT_INLINE __m512i scan_bits(__m512i raw, const int f64, scan *s)
{
    if (f64) {
        __m512i b = _mm512_and_si512(raw, _mm512_set1_epi64(INT64_MAX));
        __m512i b1 = _mm512_sub_epi64(b, _mm512_set1_epi64(1));
        s->mx = _mm512_max_epu64(s->mx, b);
        s->mn1 = _mm512_min_epu64(s->mn1, b1);
        return b1;
    }
    __m512i b = _mm512_and_si512(raw, _mm512_set1_epi32(0x7fffffff));
    __m512i b1 = _mm512_sub_epi32(b, _mm512_set1_epi32(1));
    s->mx = _mm512_max_epu32(s->mx, b);
    s->mn1 = _mm512_min_epu32(s->mn1, b1);
    return b1;
}

TGT_INLINE void scan_init(scan *s)
{
    s->mx = _mm512_setzero_si512();
    s->mn1 = _mm512_set1_epi32(-1);
}

TGT_INLINE eg_exact_mag scan_span(const scan *s, const int f64)
{
    eg_exact_mag sp;
    if (f64) {
        sp.max_bits = _mm512_reduce_max_epu64(s->mx);
        sp.min1_bits = _mm512_reduce_min_epu64(s->mn1);
    } else {
        uint32_t mn1 = _mm512_reduce_min_epu32(s->mn1);
        sp.max_bits = _mm512_reduce_max_epu32(s->mx);
        sp.min1_bits = mn1 == UINT32_MAX ? UINT64_MAX : mn1;
    }
    return sp;
}

/* Level sums of one kind: the U accumulator sets folded (exact, so in any
 * order).  A macro, as the kinds are fields of the sets. */
#define FOLD(A, U, FIELD, L, OUT)                                            \
    do {                                                                     \
        for (int j_ = 0; j_ < (L); j_++) {                                   \
            __m512d s_ = (A)[0].FIELD[j_];                                   \
            for (int u_ = 1; u_ < (U); u_++)                                 \
                s_ = _mm512_add_pd(s_, (A)[u_].FIELD[j_]);                   \
            (OUT)[j_] = _mm512_reduce_add_pd(s_);                            \
        }                                                                    \
    } while (0)

/* x and |x| per level from the pos and neg pieces (cut_signed). */
#define FOLD_SIGNED(A, U, L, X, ABS)                                         \
    do {                                                                     \
        for (int j_ = 0; j_ < (L); j_++) {                                   \
            __m512d p_ = (A)[0].x[j_], n_ = (A)[0].a[j_];                    \
            for (int u_ = 1; u_ < (U); u_++) {                               \
                p_ = _mm512_add_pd(p_, (A)[u_].x[j_]);                       \
                n_ = _mm512_add_pd(n_, (A)[u_].a[j_]);                       \
            }                                                                \
            (X)[j_] = _mm512_reduce_add_pd(_mm512_add_pd(p_, n_));           \
            (ABS)[j_] = _mm512_reduce_add_pd(_mm512_sub_pd(p_, n_));         \
        }                                                                    \
    } while (0)

#define MAX_U 4
/* At most this many lanes go through one pass side by side: each is a
 * memory stream of its own and an independent chain of adds, so the core
 * has more reads in flight and more work to fill the gaps (one lane at a
 * time reads and computes by turns, measured). */
#define MAX_LN 4
#define MAX_SETS 8 /* LN * U of any instance below */

TGT_INLINE void accs_zero(accs *a)
{
    const __m512d zero = _mm512_setzero_pd();
    for (int j = 0; j < LX; j++)
        a->x[j] = a->a[j] = zero;
    for (int j = 0; j < LP; j++)
        a->sq[j] = a->dot[j] = zero;
    for (int j = 0; j < LE; j++)
        a->sqe[j] = a->dote[j] = zero;
}

/* A lane's extremes so far, in the input type. */
typedef struct extremes {
    __m512 mn32, mx32;
    __m512d mn64, mx64;
} extremes;

TGT_INLINE void extremes_init(extremes *e)
{
    e->mn32 = _mm512_set1_ps(INFINITY);
    e->mx32 = _mm512_set1_ps(-INFINITY);
    e->mn64 = _mm512_set1_pd(INFINITY);
    e->mx64 = _mm512_set1_pd(-INFINITY);
}

/* Prefetches the `bytes` a step reads of one operand of one lane at p. */
TGT_INLINE void prefetch_step(const char *p, uint64_t bytes)
{
    for (uint64_t b = 0; b < bytes; b += 64) {
        _mm_prefetch(p + b + EXACT_PREFETCH_AHEAD, EXACT_PREFETCH_HINT);
        _mm_prefetch(p + b + EXACT_PREFETCH_NEAR, _MM_HINT_T0);
    }
}

/* Row r of a step of one lane at x (and y): its terms into the set a, its
 * bits into the scans, its values into the extremes.  An f32 pair of rows
 * (r even, then odd) is one raw vector for the scan and the extremes.
 *
 * With hyb (HYB: a work whose short levels leave some out) a row that holds a
 * non-zero element below the lane's threshold (tiny_bits) is cut to the
 * long pass's levels, every other row to the short pass's: a row of
 * elements at or above it has every term on the grid of its short last
 * level, where the long cut's last-but-one level takes each term whole
 * and its last level takes zeros (eg_exact_short_holds), so the two cuts
 * put the same values into the same accumulators and the level sums,
 * exact in any order, are the long pass's.  `tiny` keeps an f32 pair's
 * mask for its odd row. */
TGT_INLINE void step_row(const char *x, const char *y, const int f64,
                         const unsigned wk, const int r, const levels lv,
                         const int hyb, const sigmas *sg, accs *a, scan *sx,
                         scan *sy, extremes *e, __mmask16 *tiny)
{
    __m512d v = load_row(x, f64);
    __m512d w = (wk & W_DOT) ? load_row(y, f64) : v;
    int slow = 0;
    if (f64) {
        __m512i b1 = scan_bits(_mm512_castpd_si512(v), 1, sx);
        if (hyb)
            slow = _mm512_cmplt_epu64_mask(b1, sg->tiny1) != 0;
        if (wk & W_DOT) {
            __m512i c1 = scan_bits(_mm512_castpd_si512(w), 1, sy);
            if (hyb)
                slow |= _mm512_cmplt_epu64_mask(c1, sg->tiny1y) != 0;
        }
        if (wk & W_MINMAX) {
            e->mn64 = _mm512_min_pd(e->mn64, v);
            e->mx64 = _mm512_max_pd(e->mx64, v);
        }
    } else if (r % 2 == 0) {
        __m512 raw = _mm512_loadu_ps((const float *)x);
        __m512i b1 = scan_bits(_mm512_castps_si512(raw), 0, sx);
        if (hyb)
            *tiny = _mm512_cmplt_epu32_mask(b1, sg->tiny1);
        if (wk & W_DOT) {
            __m512i c1 = scan_bits(_mm512_loadu_si512(y), 0, sy);
            if (hyb)
                *tiny |= _mm512_cmplt_epu32_mask(c1, sg->tiny1y);
        }
        if (wk & W_MINMAX) {
            e->mn32 = _mm512_min_ps(e->mn32, raw);
            e->mx32 = _mm512_max_ps(e->mx32, raw);
        }
    }
    if (hyb && !f64)
        slow = (r % 2 == 0 ? (*tiny & 0xff) : (*tiny >> 8)) != 0;
    if (hyb && __builtin_expect(slow, 0))
        feed(v, w, f64, wk, LONG_LEVELS, sg, a);
    else
        feed(v, w, f64, wk, lv, sg, a);
}

/* Folds one lane's U sets a, scans and extremes into its lane_out. */
TGT_INLINE void lane_fold(const accs *a, const int U, const int f64,
                          const unsigned wk, const levels lv, const scan *sx,
                          const scan *sy, const extremes *e, lane_out *o)
{
    memset(o, 0, offsetof(lane_out, smn)); /* levels a pass leaves out */
    if (wk & W_L1)
        FOLD_SIGNED(a, U, lv.x, o->x, o->a);
    else
        FOLD(a, U, x, lv.x, o->x);
    if (wk & W_SQ) {
        FOLD(a, U, sq, lv.p, o->sq);
        if (f64)
            FOLD(a, U, sqe, lv.e, o->sqe);
    }
    if (wk & W_DOT) {
        FOLD(a, U, dot, lv.p, o->dot);
        if (f64)
            FOLD(a, U, dote, lv.e, o->dote);
    }
    o->sx = scan_span(sx, f64);
    o->sy = scan_span(sy, f64);
    if (wk & W_MINMAX) {
        o->mn = f64 ? _mm512_reduce_min_pd(e->mn64)
                    : (double)_mm512_reduce_min_ps(e->mn32);
        o->mx = f64 ? _mm512_reduce_max_pd(e->mx64)
                    : (double)_mm512_reduce_max_ps(e->mx32);
    }
}

/* One pass over LN full lanes at xs[l] (and ys[l]), each cut with its own
 * sigmas sg[l] into o[l], for the work wk with U accumulator sets per
 * lane.  A step takes R rows of every lane (R even, so f32 rows pair up),
 * row r to set r % U, the lanes' rows interleaved so that neighbouring
 * adds are independent.  Each lane's sums are exact whatever the order, so
 * its results are those of a pass over it alone.  With hyb (step_row)
 * the rows of tiny elements are cut to the long levels, so the pass gives
 * the long pass's sums.  Always inlined into the instances below, where
 * f64, wk, LN, U and hyb are constants. */
TGT_INLINE void lanes_pass(const char *const *xs, const char *const *ys,
                           const int f64, const unsigned wk, const int LN,
                           const int U, const levels lv, const int hyb,
                           const sigmas *sg, lane_out *o)
{
    const uint64_t es = f64 ? 8 : 4;
    const int R = U > 2 ? U : 2;
    accs a[MAX_SETS];
    scan sx[MAX_LN], sy[MAX_LN];
    extremes e[MAX_LN];
    __mmask16 tiny[MAX_LN] = {0};
    for (int l = 0; l < LN; l++) {
        for (int u = 0; u < U; u++)
            accs_zero(&a[l * U + u]);
        scan_init(&sx[l]);
        scan_init(&sy[l]);
        extremes_init(&e[l]);
    }
    for (uint64_t i = 0; i < EG_LANE_ELEMS; i += (uint64_t)ROW * R) {
        for (int l = 0; l < LN; l++) {
            prefetch_step(xs[l] + i * es, (uint64_t)ROW * R * es);
            if (wk & W_DOT)
                prefetch_step(ys[l] + i * es, (uint64_t)ROW * R * es);
        }
        for (int r = 0; r < R; r++)
            for (int l = 0; l < LN; l++) {
                uint64_t at = (i + (uint64_t)ROW * r) * es;
                step_row(xs[l] + at, (wk & W_DOT) ? ys[l] + at : NULL, f64,
                         wk, r, lv, hyb, &sg[l], &a[l * U + r % U], &sx[l],
                         &sy[l], &e[l], &tiny[l]);
            }
        if ((wk & W_MINMAX) && (i + (uint64_t)ROW * R) % SEG_ELEMS == 0)
            for (int l = 0; l < LN; l++) {
                uint64_t seg = i / SEG_ELEMS;
                if (f64) {
                    o[l].smn[seg].f64 = e[l].mn64;
                    o[l].smx[seg].f64 = e[l].mx64;
                } else {
                    o[l].smn[seg].f32 = e[l].mn32;
                    o[l].smx[seg].f32 = e[l].mx32;
                }
            }
    }
    for (int l = 0; l < LN; l++)
        lane_fold(&a[l * U], U, f64, wk, hyb ? LONG_LEVELS : lv, &sx[l],
                  &sy[l], &e[l], &o[l]);
}

/* A pass over LN lanes (LN of the instance: 1 or side_ln's). */
typedef void (*pass_fn)(const char *const *xs, const char *const *ys,
                        const sigmas *sg, lane_out *o);

/* Accumulator vectors per set for the work wk. */
#define ACC_VECS(WK, F64)                                                    \
    (LX + (((WK) & W_L1) ? LX : 0) +                                         \
     (((WK) & W_SQ) ? LP + ((F64) ? LE : 0) : 0) +                           \
     (((WK) & W_DOT) ? LP + ((F64) ? LE : 0) : 0))
/* Sets of a lane alone: with many accumulators, two sets side by side
 * already hide the latency and four would spill. */
#define SETS(WK, F64) (ACC_VECS(WK, F64) <= 5 ? 4 : 2)

/* Lanes side by side and sets per lane: the LN * U sets, the scans, the
 * extremes and the sigmas of the lanes must stay in the 32 registers
 * (spilled accumulators put a store and a load on every add's chain).
 * With few accumulators four lanes of one set each (as many chains as a
 * lane alone has); else two lanes, of two sets while they fit. */
#define SIDE_LN(WK, F64)                                                     \
    (ACC_VECS(WK, F64) <= 2 ? MAX_LN : ACC_VECS(WK, F64) <= 5 ? 2 : 1)
#define SIDE_U(WK, F64)                                                      \
    (SIDE_LN(WK, F64) == MAX_LN ? 1                                          \
     : SIDE_LN(WK, F64) == 2    ? 2                                          \
                                : SETS(WK, F64))

/* Whether the short pass of a work cuts the rows of tiny elements long
 * (step_row): every work but the f64 ones without products, whose short
 * levels are the long ones (no threshold to compare with). */
#define HYB(WK, F64) (!(F64) || ((WK) & (W_SQ | W_DOT)) != 0)

/* Per work: the pass of one lane alone (the last lanes of a call) and of
 * SIDE_LN lanes side by side.  Both cut to the short levels, and to the
 * long ones the rows that need them (HYB; a work without it has no
 * levels to leave out), so no lane is ever redone for its levels. */
#define INSTANCE(SFX, F64, WK)                                               \
    TGT static void short1_##SFX##_##WK(const char *const *x,                \
                                        const char *const *y,                \
                                        const sigmas *sg, lane_out *o)       \
    {                                                                        \
        lanes_pass(x, y, F64, WK, 1, SETS(WK, F64), SHORT_LEVELS(F64),       \
                   HYB(WK, F64), sg, o);                                     \
    }                                                                        \
    TGT static void shortn_##SFX##_##WK(const char *const *x,                \
                                        const char *const *y,                \
                                        const sigmas *sg, lane_out *o)       \
    {                                                                        \
        lanes_pass(x, y, F64, WK, SIDE_LN(WK, F64), SIDE_U(WK, F64),         \
                   SHORT_LEVELS(F64), HYB(WK, F64), sg, o);                  \
    }

#define TABLE(NAME, SFX)                                                     \
    static const pass_fn NAME##_##SFX[W_SETS] = {                            \
        NAME##_##SFX##_0,  NAME##_##SFX##_1,  NAME##_##SFX##_2,              \
        NAME##_##SFX##_3,  NAME##_##SFX##_4,  NAME##_##SFX##_5,              \
        NAME##_##SFX##_6,  NAME##_##SFX##_7,  NAME##_##SFX##_8,              \
        NAME##_##SFX##_9,  NAME##_##SFX##_10, NAME##_##SFX##_11,             \
        NAME##_##SFX##_12, NAME##_##SFX##_13, NAME##_##SFX##_14,             \
        NAME##_##SFX##_15};

#define INSTANCES(SFX, F64)                                                  \
    INSTANCE(SFX, F64, 0)                                                    \
    INSTANCE(SFX, F64, 1)                                                    \
    INSTANCE(SFX, F64, 2)                                                    \
    INSTANCE(SFX, F64, 3)                                                    \
    INSTANCE(SFX, F64, 4)                                                    \
    INSTANCE(SFX, F64, 5)                                                    \
    INSTANCE(SFX, F64, 6)                                                    \
    INSTANCE(SFX, F64, 7)                                                    \
    INSTANCE(SFX, F64, 8)                                                    \
    INSTANCE(SFX, F64, 9)                                                    \
    INSTANCE(SFX, F64, 10)                                                   \
    INSTANCE(SFX, F64, 11)                                                   \
    INSTANCE(SFX, F64, 12)                                                   \
    INSTANCE(SFX, F64, 13)                                                   \
    INSTANCE(SFX, F64, 14)                                                   \
    INSTANCE(SFX, F64, 15)                                                   \
    TABLE(short1, SFX)                                                       \
    TABLE(shortn, SFX)

INSTANCES(f32, 0)
INSTANCES(f64, 1)

/* SIDE_LN of a work, at run time (the constant the instances use). */
static int side_ln(int f64, unsigned wk)
{
    return f64 ? SIDE_LN(wk, 1) : SIDE_LN(wk, 0);
}

static unsigned work_of(unsigned g)
{
    return ((g & EG_G_MINMAX) ? W_MINMAX : 0) | ((g & EG_G_L1) ? W_L1 : 0) |
           ((g & (EG_G_VAR | EG_G_L2)) ? W_SQ : 0) |
           ((g & EG_G_DOT) ? W_DOT : 0);
}

TGT static void load_sigmas(const eg_level_plan *p, sigmas *sg)
{
    for (int j = 0; j + 1 < EG_EXACT_LEVELS; j++) {
        sg->x[j] = _mm512_set1_pd(p[EG_T_X].sigma[j]);
        sg->sq[j] = _mm512_set1_pd(p[EG_T_SQ].sigma[j]);
        sg->sqe[j] = _mm512_set1_pd(p[EG_T_SQ_E].sigma[j]);
        sg->dot[j] = _mm512_set1_pd(p[EG_T_DOT].sigma[j]);
        sg->dote[j] = _mm512_set1_pd(p[EG_T_DOT_E].sigma[j]);
    }
}

static void put_levels(uint64_t *w, int word, const double *sums, int L)
{
    for (int j = 0; j < L; j++)
        memcpy(&w[word + j], &sums[j], sizeof sums[j]);
}

/* The first segment whose snapshot holds m. */
TGT static uint64_t first_seg_f64(const seg_snap *snap, double m)
{
    __m512d vm = _mm512_set1_pd(m);
    uint64_t s = 0;
    while (s + 1 < SEGS && !_mm512_cmp_pd_mask(snap[s].f64, vm, _CMP_EQ_OQ))
        s++;
    return s;
}

TGT static uint64_t first_seg_f32(const seg_snap *snap, float m)
{
    __m512 vm = _mm512_set1_ps(m);
    uint64_t s = 0;
    while (s + 1 < SEGS && !_mm512_cmp_ps_mask(snap[s].f32, vm, _CMP_EQ_OQ))
        s++;
    return s;
}

/* The min/max words: the extremes' first indices by the compare scan of
 * the segment where each first occurs. */
TGT static void put_extremes(const char *x, int f64, const lane_out *o,
                             uint64_t base, uint64_t *w)
{
    uint64_t imn, imx;
    double mn, mx;
    if (f64) {
        const double *xd = (const double *)x;
        imn = first_seg_f64(o->smn, o->mn) * SEG_ELEMS;
        imx = first_seg_f64(o->smx, o->mx) * SEG_ELEMS;
        imn += first_equal_f64(xd + imn, EG_LANE_ELEMS - imn, o->mn);
        imx += first_equal_f64(xd + imx, EG_LANE_ELEMS - imx, o->mx);
        mn = xd[imn];
        mx = xd[imx];
    } else {
        const float *xf = (const float *)x;
        imn = first_seg_f32(o->smn, (float)o->mn) * SEG_ELEMS;
        imx = first_seg_f32(o->smx, (float)o->mx) * SEG_ELEMS;
        imn += first_equal_f32(xf + imn, EG_LANE_ELEMS - imn, (float)o->mn);
        imx += first_equal_f32(xf + imx, EG_LANE_ELEMS - imx, (float)o->mx);
        mn = (double)xf[imn];
        mx = (double)xf[imx];
    }
    memcpy(&w[EG_X_MIN], &mn, sizeof mn);
    memcpy(&w[EG_X_MAX], &mx, sizeof mx);
    w[EG_X_ARGMIN] = base + imn;
    w[EG_X_ARGMAX] = base + imx;
}

/* The record of the lane whose pass gave o under the plans it used. */
TGT static void put_record(const char *x, int f64, unsigned g,
                           const lane_out *o, uint64_t base, uint64_t *w)
{
    memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
    w[EG_X_COUNT] = EG_LANE_ELEMS;
    if (g & EG_G_MINMAX) {
        put_extremes(x, f64, o, base, w);
    } else {
        w[EG_X_ARGMIN] = EG_NONE_INDEX;
        w[EG_X_ARGMAX] = EG_NONE_INDEX;
    }
    put_levels(w, EG_X_SUM, o->x, LX);
    if (g & EG_G_L1)
        put_levels(w, EG_X_L1, o->a, LX);
    if (g & (EG_G_VAR | EG_G_L2)) {
        put_levels(w, EG_X_SQ, o->sq, LP);
        if (f64)
            put_levels(w, EG_X_SQ_E, o->sqe, LE);
    }
    if (g & EG_G_DOT) {
        put_levels(w, EG_X_DOT, o->dot, LP);
        if (f64)
            put_levels(w, EG_X_DOT_E, o->dote, LE);
    }
}

/* The passes of one call. */
typedef struct passes {
    pass_fn one, side; /* one lane; ln lanes side by side */
    int ln;
    levels short_lv;
    int hyb; /* HYB of the work */
    /* The last thresholds (tiny_bits) and the first sigmas of the x and
     * dot plans they were found for: the guessed plans all follow from
     * those, and neighbouring lanes mostly share them. */
    uint64_t tiny_key[2], tiny1[2];
} passes;

/* The levels a pass cuts, per term kind (eg_exact_short_holds). */
static void kind_levels(levels lv, int lev[EG_T_KINDS])
{
    lev[EG_T_X] = lev[EG_T_ABS] = lv.x;
    lev[EG_T_SQ] = lev[EG_T_DOT] = lv.p;
    lev[EG_T_SQ_E] = lev[EG_T_DOT_E] = lv.e;
}

/* k of a sigma 1.5 * 2^k. */
static int sigma_k(double sigma)
{
    uint64_t b;
    memcpy(&b, &sigma, sizeof b);
    return (int)((b >> EG_F64_MANT) & 0x7ff) - EG_F64_BIAS;
}

/* The fake span of an operand whose elements are all in or above binade
 * field f (0: any non-zero element). */
static eg_exact_mag span_from(int f, int mant)
{
    uint64_t t = f > 0 ? (uint64_t)f << mant : 0;
    eg_exact_mag m = {t ? t : 1, t ? t - 1 : 0};
    return m;
}

/* The thresholds of a hyb short pass under the guessed plans p: bits Tx
 * (and Ty) of the first |x| of a binade d binades below the guessed top
 * of x (and of y), for the largest d at which eg_exact_short_holds finds,
 * for a lane whose smallest non-zero |x| (and |y|) are those, every term
 * on the grids of the short levels.  Its rules are monotone in those
 * magnitudes, so a bisection finds d, and a row whose elements are all at
 * or above the thresholds has every term on those grids.  Returned as
 * T - 1 (0 when every element passes, all ones when none does), the form
 * step_row compares |x| bits - 1 with. */
static void tiny_bits(const eg_level_plan *p, int is_f64, unsigned g,
                      levels lv, uint64_t out[2])
{
    int lev[EG_T_KINDS];
    kind_levels(lv, lev);
    const int mant = is_f64 ? EG_F64_MANT : EG_F32_MANT;
    const int bias = is_f64 ? EG_F64_BIAS : EG_F32_BIAS;
    const int top = is_f64 ? 0x7fe : 0xfe; /* the largest finite binade */
    /* The guessed tops: |x| < 2^gx, |y| < 2^gy (exact_levels.h). */
    int k0 = EG_EXACT_HEADROOM - 1;
    int gx = sigma_k(p[EG_T_X].sigma[0]) - k0;
    int gy = (g & EG_G_DOT) ? sigma_k(p[EG_T_DOT].sigma[0]) - k0 - gx : gx;
    int fx = gx - 1 + bias, fy = gy - 1 + bias; /* their top binades */
    fx = fx > top ? top : fx;
    fy = fy > top ? top : fy;
    int lo = -1, hi = fx > fy ? fx : fy; /* the largest d that holds */
    while (lo < hi) {
        int d = (lo + hi + 1) / 2;
        eg_exact_mag sx = span_from(fx - d, mant), sy = span_from(fy - d, mant);
        if (eg_exact_short_holds(&sx, &sy, is_f64, g, p, lev))
            lo = d;
        else
            hi = d - 1;
    }
    const uint64_t none = is_f64 ? UINT64_MAX : UINT32_MAX;
    if (lo < 0) {
        out[0] = out[1] = none;
        return;
    }
    out[0] = fx - lo > 0 ? ((uint64_t)(fx - lo) << mant) - 1 : 0;
    out[1] = fy - lo > 0 ? ((uint64_t)(fy - lo) << mant) - 1 : 0;
}

/* The thresholds of lane plans p into sg, through the one-entry memo. */
TGT static void load_tiny(passes *ps, const eg_level_plan *p, int is_f64,
                          unsigned g, sigmas *sg)
{
    uint64_t key[2] = {0, 0};
    memcpy(&key[0], &p[EG_T_X].sigma[0], sizeof key[0]);
    if (g & EG_G_DOT)
        memcpy(&key[1], &p[EG_T_DOT].sigma[0], sizeof key[1]);
    if (key[0] != ps->tiny_key[0] || key[1] != ps->tiny_key[1]) {
        tiny_bits(p, is_f64, g, ps->short_lv, ps->tiny1);
        ps->tiny_key[0] = key[0];
        ps->tiny_key[1] = key[1];
    }
    if (is_f64) {
        sg->tiny1 = _mm512_set1_epi64((long long)ps->tiny1[0]);
        sg->tiny1y = _mm512_set1_epi64((long long)ps->tiny1[1]);
    } else {
        sg->tiny1 = _mm512_set1_epi32((int)(uint32_t)ps->tiny1[0]);
        sg->tiny1y = _mm512_set1_epi32((int)(uint32_t)ps->tiny1[1]);
    }
}

/* Up to MAX_LN lanes with a guess, gathered for one pass side by side
 * (a lane with no guess goes the generic way at once, so the lanes of a
 * group need not be neighbours in the chunk). */
typedef struct group {
    sigmas sg[MAX_LN];
    lane_out o[MAX_LN];
    eg_level_plan guess[MAX_LN][EG_T_KINDS];
    const char *x[MAX_LN], *y[MAX_LN];
    uint64_t base[MAX_LN];
    uint64_t *w[MAX_LN];
    int n;
} group;

/* The record of lane l of gr after its pass: kept when its guessed plans
 * are its plans; the generic code otherwise.  Its neighbours' results do
 * not depend on it. */
TGT static void finish_lane(group *gr, int l, int is_f64, unsigned g)
{
    eg_level_plan plans[EG_T_KINDS];
    lane_out *o = &gr->o[l];
    uint64_t *w = gr->w[l];
    if (!eg_exact_lane_plans(gr->x[l], gr->y[l], EG_LANE_ELEMS, &o->sx,
                             &o->sy, is_f64, g, plans)) {
        memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
        w[EG_X_COUNT] = EG_LANE_ELEMS;
        w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
        return;
    }
    if (!eg_exact_same_plans(plans, gr->guess[l], is_f64, g)) {
        eg_exact_lane_generic(gr->x[l], gr->y[l], EG_LANE_ELEMS, gr->base[l],
                              is_f64, g, w);
        return;
    }
    put_record(gr->x[l], is_f64, g, o, gr->base[l], w);
}

/* One pass over the n lanes of gr from `from` (pass, of n lanes side by
 * side), then their records. */
TGT static void run_lanes(group *gr, int from, int n, pass_fn pass,
                          int is_f64, unsigned g)
{
    pass(&gr->x[from], &gr->y[from], &gr->sg[from], &gr->o[from]);
    for (int l = from; l < from + n; l++)
        finish_lane(gr, l, is_f64, g);
}

/* The group's lanes: side by side when it is full, else one by one. */
TGT static void run_group(passes *ps, group *gr, int is_f64, unsigned g)
{
    if (gr->n == ps->ln)
        run_lanes(gr, 0, gr->n, ps->side, is_f64, g);
    else
        for (int l = 0; l < gr->n; l++)
            run_lanes(gr, l, 1, ps->one, is_f64, g);
    gr->n = 0;
}

/* Lane x (and y) joins the group when it has a guess (and the group runs
 * once full); else its record is the generic one. */
TGT static void add_lane(passes *ps, group *gr, const char *x, const char *y,
                         int is_f64, unsigned g, uint64_t base, uint64_t *w)
{
    int l = gr->n;
    if (!eg_exact_guess_plans(x, y, EG_LANE_ELEMS, is_f64, g, gr->guess[l])) {
        eg_exact_lane_generic(x, y, EG_LANE_ELEMS, base, is_f64, g, w);
        return;
    }
    load_sigmas(gr->guess[l], &gr->sg[l]);
    if (ps->hyb)
        load_tiny(ps, gr->guess[l], is_f64, g, &gr->sg[l]);
    gr->x[l] = x;
    gr->y[l] = y;
    gr->base[l] = base;
    gr->w[l] = w;
    if (++gr->n == ps->ln)
        run_group(ps, gr, is_f64, g);
}

uint64_t eg_lanes_exact_avx512(const void *x, const void *y, uint64_t lanes,
                               int is_f64, unsigned g, uint64_t *words)
{
    if (!__builtin_cpu_supports("avx512f"))
        return 0;
    const uint64_t es = is_f64 ? 8 : 4, stride = EG_LANE_ELEMS * es;
    unsigned wk = work_of(g);
    passes ps = {is_f64 ? short1_f64[wk] : short1_f32[wk],
                 is_f64 ? shortn_f64[wk] : shortn_f32[wk],
                 side_ln(is_f64, wk),
                 SHORT_LEVELS(is_f64),
                 HYB(wk, is_f64),
                 {0, 0},
                 {0, 0}};
    const char *xb = x, *yb = y;
    group gr;
    gr.n = 0;
    for (uint64_t l = 0; l < lanes; l++)
        add_lane(&ps, &gr, xb + l * stride, yb ? yb + l * stride : NULL,
                 is_f64, g, l * EG_LANE_ELEMS,
                 words + l * EG_EXACT_LANE_WORDS);
    run_group(&ps, &gr, is_f64, g);
    return lanes;
}

#else

uint64_t eg_lanes_exact_avx512(const void *x, const void *y, uint64_t lanes,
                               int is_f64, unsigned g, uint64_t *words)
{
    (void)x;
    (void)y;
    (void)lanes;
    (void)is_f64;
    (void)g;
    (void)words;
    return 0;
}

#endif
