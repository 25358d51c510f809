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
 * adds' latency) and be folded in any order: the same bits. */
#include <math.h>
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
#ifndef EXACT_PREFETCH_AHEAD
#define EXACT_PREFETCH_AHEAD 8192
#endif
#ifndef EXACT_PREFETCH_HINT
#define EXACT_PREFETCH_HINT _MM_HINT_T1
#endif
#ifndef EXACT_PREFETCH_NEAR
#define EXACT_PREFETCH_NEAR 1024
#endif

/* The sigmas of the guessed plans, one vector each. */
typedef struct sigmas {
    __m512d x[EG_EXACT_LEVELS - 1], sq[EG_EXACT_LEVELS - 1],
        sqe[EG_EXACT_LEVELS - 1], dot[EG_EXACT_LEVELS - 1],
        dote[EG_EXACT_LEVELS - 1];
} sigmas;

/* One set of level accumulators per kind of term. */
typedef struct accs {
    __m512d x[LX], a[LX], sq[LP], sqe[LE], dot[LP], dote[LE];
} accs;

/* What a pass hands back: the level sums, the spans of x and y, the
 * extremes (as doubles; the input type's values widened). */
typedef struct lane_out {
    double x[LX], a[LX], sq[LP], sqe[LE], dot[LP], dote[LE];
    eg_exact_mag sx, sy;
    double mn, mx;
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

/* Rump's extraction of one row of terms t onto L grids, as cut_row of
 * lanes_exact.c: q = (sigma + t) - sigma, the remainder goes on. */
TGT_INLINE void cut(__m512d t, const __m512d *sig, const int L, __m512d *acc)
{
    for (int j = 0; j + 1 < L; j++) {
        __m512d q = _mm512_sub_pd(_mm512_add_pd(sig[j], t), sig[j]);
        acc[j] = _mm512_add_pd(acc[j], q);
        t = _mm512_sub_pd(t, q);
    }
    acc[L - 1] = _mm512_add_pd(acc[L - 1], t);
}

/* The pieces of x and of |x| at once: |x| is cut into the pieces of x
 * times the sign of x (the grids are symmetric about zero), so each piece
 * goes to pos or neg by the sign of its element; per level x is pos + neg
 * and |x| is pos - neg, both exact as every partial sum is. */
TGT_INLINE void cut_signed(__m512d t, const __m512d *sig, const int L,
                           __mmask8 neg, __m512d *pos, __m512d *nega)
{
    for (int j = 0; j + 1 < L; j++) {
        __m512d q = _mm512_sub_pd(_mm512_add_pd(sig[j], t), sig[j]);
        pos[j] = _mm512_mask_add_pd(pos[j], (__mmask8)~neg, pos[j], q);
        nega[j] = _mm512_mask_add_pd(nega[j], neg, nega[j], q);
        t = _mm512_sub_pd(t, q);
    }
    pos[L - 1] = _mm512_mask_add_pd(pos[L - 1], (__mmask8)~neg, pos[L - 1], t);
    nega[L - 1] = _mm512_mask_add_pd(nega[L - 1], neg, nega[L - 1], t);
}

/* The levels a pass cuts per kind: the fixed plans' (long) or fewer
 * (short, eg_exact_short_holds). */
typedef struct levels {
    int x, p, e;
} levels;

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
TGT_INLINE void scan_bits(__m512i raw, const int f64, scan *s)
{
    if (f64) {
        __m512i b = _mm512_and_si512(raw, _mm512_set1_epi64(INT64_MAX));
        s->mx = _mm512_max_epu64(s->mx, b);
        s->mn1 = _mm512_min_epu64(s->mn1,
                                  _mm512_sub_epi64(b, _mm512_set1_epi64(1)));
    } else {
        __m512i b = _mm512_and_si512(raw, _mm512_set1_epi32(0x7fffffff));
        s->mx = _mm512_max_epu32(s->mx, b);
        s->mn1 = _mm512_min_epu32(s->mn1,
                                  _mm512_sub_epi32(b, _mm512_set1_epi32(1)));
    }
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

/* One pass over the full lane at x (and y) for the work wk with U
 * accumulator sets (rows go round them); U is even, so an f32 pair of
 * rows is one raw vector for the scan and the extremes.  Always inlined
 * into the instances below, where f64, wk and U are constants. */
TGT_INLINE void lane_pass(const char *x, const char *y, const int f64,
                          const unsigned wk, const int U, const levels lv,
                          const sigmas *sg, lane_out *o)
{
    const uint64_t es = f64 ? 8 : 4;
    const __m512d zero = _mm512_setzero_pd();
    accs a[MAX_U];
    scan sx, sy;
    __m512 mn32 = _mm512_set1_ps(INFINITY), mx32 = _mm512_set1_ps(-INFINITY);
    __m512d mn64 = _mm512_set1_pd(INFINITY), mx64 = _mm512_set1_pd(-INFINITY);
    for (int u = 0; u < U; u++) {
        for (int j = 0; j < LX; j++)
            a[u].x[j] = a[u].a[j] = zero;
        for (int j = 0; j < LP; j++)
            a[u].sq[j] = a[u].dot[j] = zero;
        for (int j = 0; j < LE; j++)
            a[u].sqe[j] = a[u].dote[j] = zero;
    }
    scan_init(&sx);
    scan_init(&sy);
    for (uint64_t i = 0; i < EG_LANE_ELEMS; i += (uint64_t)ROW * U) {
        for (uint64_t b = 0; b < (uint64_t)ROW * U * es; b += 64) {
            const uint64_t at = i * es + b;
            _mm_prefetch(x + at + EXACT_PREFETCH_AHEAD, EXACT_PREFETCH_HINT);
            _mm_prefetch(x + at + EXACT_PREFETCH_NEAR, _MM_HINT_T0);
            if (wk & W_DOT) {
                _mm_prefetch(y + at + EXACT_PREFETCH_AHEAD,
                             EXACT_PREFETCH_HINT);
                _mm_prefetch(y + at + EXACT_PREFETCH_NEAR, _MM_HINT_T0);
            }
        }
        for (int u = 0; u < U; u++) {
            uint64_t at = (i + (uint64_t)ROW * u) * es;
            __m512d v = load_row(x + at, f64);
            __m512d w = (wk & W_DOT) ? load_row(y + at, f64) : v;
            feed(v, w, f64, wk, lv, sg, &a[u]);
            if (f64) {
                scan_bits(_mm512_castpd_si512(v), 1, &sx);
                if (wk & W_DOT)
                    scan_bits(_mm512_castpd_si512(w), 1, &sy);
                if (wk & W_MINMAX) {
                    mn64 = _mm512_min_pd(mn64, v);
                    mx64 = _mm512_max_pd(mx64, v);
                }
            } else if (u % 2 == 0) {
                __m512 raw = _mm512_loadu_ps((const float *)(x + at));
                scan_bits(_mm512_castps_si512(raw), 0, &sx);
                if (wk & W_DOT)
                    scan_bits(_mm512_loadu_si512(y + at), 0, &sy);
                if (wk & W_MINMAX) {
                    mn32 = _mm512_min_ps(mn32, raw);
                    mx32 = _mm512_max_ps(mx32, raw);
                }
            }
        }
    }
    memset(o, 0, sizeof *o); /* the levels a short pass leaves out */
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
    o->sx = scan_span(&sx, f64);
    o->sy = scan_span(&sy, f64);
    if (wk & W_MINMAX) {
        o->mn = f64 ? _mm512_reduce_min_pd(mn64)
                    : (double)_mm512_reduce_min_ps(mn32);
        o->mx = f64 ? _mm512_reduce_max_pd(mx64)
                    : (double)_mm512_reduce_max_ps(mx32);
    }
}

typedef void (*pass_fn)(const char *x, const char *y, const sigmas *sg,
                        lane_out *o);

/* Accumulator vectors per set for the work wk: with many, two sets side
 * by side already hide the latency and four would spill. */
#define ACC_VECS(WK, F64)                                                    \
    (LX + (((WK) & W_L1) ? LX : 0) +                                         \
     (((WK) & W_SQ) ? LP + ((F64) ? LE : 0) : 0) +                           \
     (((WK) & W_DOT) ? LP + ((F64) ? LE : 0) : 0))
#define SETS(WK, F64) (ACC_VECS(WK, F64) <= 5 ? 4 : 2)

#define MIN_(a, b) ((a) < (b) ? (a) : (b))

/* The levels of the long pass (the guessed plans') and of the short one:
 * f32 x within 2^17 of the top is on the first grid already, and its
 * products (48 bits) and f64 products within about 2^14 of it reach the
 * second grid only. */
#define LONG_LEVELS ((levels){LX, LP, LE})
#define SHORT_LEVELS(F64)                                                    \
    ((levels){(F64) ? LX : 1, MIN_(LP, 2), MIN_(LE, 2)})

#define INSTANCE(SFX, F64, WK)                                               \
    TGT static void long_##SFX##_##WK(const char *x, const char *y,          \
                                      const sigmas *sg, lane_out *o)         \
    {                                                                        \
        lane_pass(x, y, F64, WK, SETS(WK, F64), LONG_LEVELS, sg, o);         \
    }                                                                        \
    TGT static void short_##SFX##_##WK(const char *x, const char *y,         \
                                       const sigmas *sg, lane_out *o)        \
    {                                                                        \
        lane_pass(x, y, F64, WK, SETS(WK, F64), SHORT_LEVELS(F64), sg, o);   \
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
    TABLE(long, SFX)                                                         \
    TABLE(short, SFX)

INSTANCES(f32, 0)
INSTANCES(f64, 1)

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

/* The min/max words: the extremes' first indices by the compare scan. */
TGT static void put_extremes(const char *x, int f64, const lane_out *o,
                             uint64_t base, uint64_t *w)
{
    uint64_t imn, imx;
    double mn, mx;
    if (f64) {
        const double *xd = (const double *)x;
        imn = first_equal_f64(xd, o->mn);
        imx = first_equal_f64(xd, o->mx);
        mn = xd[imn];
        mx = xd[imx];
    } else {
        const float *xf = (const float *)x;
        imn = first_equal_f32(xf, (float)o->mn);
        imx = first_equal_f32(xf, (float)o->mx);
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

/* The passes of one call, and when to try the short one again: a lane
 * that needs the long pass makes the next few lanes skip the short one,
 * so data that never fits it pays the short pass rarely. */
#define SHORT_RETRY 8

typedef struct passes {
    pass_fn shrt, lng;
    levels short_lv;
    int skip_short; /* lanes to go before the short pass is tried again */
} passes;

/* The levels a pass cuts, per term kind (eg_exact_short_holds). */
static void kind_levels(levels lv, int lev[EG_T_KINDS])
{
    lev[EG_T_X] = lev[EG_T_ABS] = lv.x;
    lev[EG_T_SQ] = lev[EG_T_DOT] = lv.p;
    lev[EG_T_SQ_E] = lev[EG_T_DOT_E] = lv.e;
}

/* One full lane: the one pass under the guessed plans, kept when they are
 * the lane's plans (the short pass's when its levels suffice, else the
 * long pass again, from L1); the generic code otherwise. */
TGT static void lane(const char *x, const char *y, int f64, unsigned g,
                     passes *ps, uint64_t base, uint64_t *w)
{
    eg_level_plan guess[EG_T_KINDS], plans[EG_T_KINDS];
    if (!eg_exact_guess_plans(x, y, EG_LANE_ELEMS, f64, g, guess)) {
        eg_exact_lane_generic(x, y, EG_LANE_ELEMS, base, f64, g, w);
        return;
    }
    sigmas sg;
    lane_out o;
    load_sigmas(guess, &sg);
    int tried_short = ps->skip_short == 0;
    if (tried_short)
        ps->shrt(x, y, &sg, &o);
    else
        ps->lng(x, y, &sg, &o);
    if (!tried_short)
        ps->skip_short--;
    if (!eg_exact_lane_plans(x, y, EG_LANE_ELEMS, &o.sx, &o.sy, f64, g,
                             plans)) {
        memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
        w[EG_X_COUNT] = EG_LANE_ELEMS;
        w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
        return;
    }
    if (!eg_exact_same_plans(plans, guess, f64, g)) {
        eg_exact_lane_generic(x, y, EG_LANE_ELEMS, base, f64, g, w);
        return;
    }
    int lev[EG_T_KINDS];
    kind_levels(ps->short_lv, lev);
    if (tried_short &&
        !eg_exact_short_holds(&o.sx, &o.sy, f64, g, plans, lev)) {
        ps->lng(x, y, &sg, &o);
        ps->skip_short = SHORT_RETRY;
    }
    put_record(x, f64, g, &o, base, w);
}

uint64_t eg_lanes_exact_avx512(const void *x, const void *y, uint64_t lanes,
                               int is_f64, unsigned g, uint64_t *words)
{
    if (!__builtin_cpu_supports("avx512f"))
        return 0;
    const uint64_t es = is_f64 ? 8 : 4, stride = EG_LANE_ELEMS * es;
    unsigned wk = work_of(g);
    passes ps = {is_f64 ? short_f64[wk] : short_f32[wk],
                 is_f64 ? long_f64[wk] : long_f32[wk],
                 SHORT_LEVELS(is_f64), 0};
    const char *xb = x, *yb = y;
    for (uint64_t l = 0; l < lanes; l++)
        lane(xb + l * stride, yb ? yb + l * stride : NULL, is_f64, g, &ps,
             l * EG_LANE_ELEMS, words + l * EG_EXACT_LANE_WORDS);
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
