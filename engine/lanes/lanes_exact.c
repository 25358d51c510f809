/* lanes_exact.c - the exact lane on the host (lanes.h, exact_levels.h): the
 * reference that kernels/reduce_exact.cl matches word for word.
 *
 * Passes over a lane that stays in L1: a scan (largest and smallest
 * non-zero magnitude, non-finite values), min/max, then one pass per kind
 * of term that cuts each term onto its plan's grids.  The plan is the
 * guessed one (exact_levels.h) when the scan shows it holds, else the one
 * of the lane's actual bounds, so the words are the kernel's, which cuts
 * and scans in one pass.  The level sums are exact, so any order gives the
 * same words; terms go ROW to a vector.  On AVX-512 CPUs the
 * full lanes go the one-pass way of lanes_exact_avx512.c, which picks its
 * plans with the functions here (lanes_exact.h) and is held to this code
 * by tests/test_lanes.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exact_levels.h"
#include "lanes.h"
#include "lanes_exact.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&       \
    !defined(__SANITIZE_ADDRESS__)
#define EG_HOT                                                                 \
    __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define EG_HOT
#endif

/* Terms go 4 at a time: GCC lowers a vector of 4 doubles to one register
 * on AVX2 (and to one half of a zmm on AVX-512), where a vector of 8 sent
 * every operation of the AVX2 clone through the stack (9 ns an element,
 * measured).  The level sums are exact, so the width changes no word. */
#define ROW 4

/* The magnitudes of one operand of a lane. */
typedef eg_exact_mag span;

typedef struct fmt {
    int mant, bias, is_f64;
    uint64_t inf_bits; /* |v| bits at or above these: inf or nan */
} fmt;

static const fmt f32_fmt = {EG_F32_MANT, EG_F32_BIAS, 0, 0x7f800000u};
static const fmt f64_fmt = {EG_F64_MANT, EG_F64_BIAS, 1,
                            UINT64_C(0x7ff0000000000000)};

EG_HOT static void scan_f32(const float *x, uint64_t m, span *sp)
{
    uint32_t mx = 0, mn1 = UINT32_MAX;
    for (uint64_t i = 0; i < m; i++) {
        uint32_t b;
        memcpy(&b, &x[i], sizeof b);
        b &= 0x7fffffffu;
        mx = b > mx ? b : mx;
        mn1 = b - 1u < mn1 ? b - 1u : mn1;
    }
    sp->max_bits = mx;
    sp->min1_bits = mn1 == UINT32_MAX ? UINT64_MAX : mn1;
}

EG_HOT static void scan_f64(const double *x, uint64_t m, span *sp)
{
    uint64_t mx = 0, mn1 = UINT64_MAX;
    for (uint64_t i = 0; i < m; i++) {
        uint64_t b;
        memcpy(&b, &x[i], sizeof b);
        b &= UINT64_C(0x7fffffffffffffff);
        mx = b > mx ? b : mx;
        mn1 = b - 1u < mn1 ? b - 1u : mn1;
    }
    sp->max_bits = mx;
    sp->min1_bits = mn1;
}

static double load(const void *x, int is_f64, uint64_t i)
{
    return is_f64 ? ((const double *)x)[i] : (double)((const float *)x)[i];
}
#define INLINE static inline __attribute__((always_inline))

/* ROW doubles as one vector: GCC lowers the generic vectors to one ymm or
 * two xmm registers, element by element IEEE.  Vectors only go
 * by pointer to always-inline functions, so no ABI differs between the
 * clones. */
typedef double v4d __attribute__((vector_size(ROW * sizeof(double))));
typedef int64_t v4l __attribute__((vector_size(ROW * sizeof(int64_t))));

/* The terms of kind k of ROW elements v (and w) onto the grids: L and the
 * sigmas are constants once inlined.  f64 products go in as their
 * TwoProduct pair p + e (e = fma(v, w, -p), exact); f32 products are exact
 * in double. */
INLINE void cut_row(const v4d *v, const v4d *w, const int k, const int L,
                    const int is_f64, const v4d *sg, v4d *acc)
{
    v4d t;
    if (k == EG_T_X) {
        t = *v;
    } else if (k == EG_T_ABS) {
        t = (v4d)((v4l)*v & INT64_MAX);
    } else {
        v4d p = *v * *w;
        t = p;
        if ((k == EG_T_SQ_E || k == EG_T_DOT_E) && is_f64)
            for (int s = 0; s < ROW; s++)
                t[s] = fma((*v)[s], (*w)[s], -p[s]);
    }
    for (int j = 0; j + 1 < L; j++) {
        v4d q = (sg[j] + t) - sg[j];
        acc[j] += q;
        t -= q;
    }
    acc[L - 1] += t;
}

/* Row r of a lane as doubles; rows past m are zero (they add nothing). */
#define DEFINE_ROW(SFX, T, IS_F64)                                             \
    INLINE void load_##SFX(const T *x, uint64_t r, uint64_t m, v4d *out)       \
    {                                                                          \
        T raw[ROW] = {0};                                                      \
        if (r + ROW <= m)                                                      \
            memcpy(raw, x + r, sizeof raw);                                    \
        else                                                                   \
            memcpy(raw, x + r, (m - r) * sizeof(T));                           \
        for (int s = 0; s < ROW; s++)                                          \
            (*out)[s] = (double)raw[s];                                        \
    }                                                                          \
                                                                               \
    INLINE void pass_##SFX(const T *x, const T *y, uint64_t m, const int k,    \
                           const int L, const double *sig, double *out)        \
    {                                                                          \
        /* Two sets of level sums take alternate vectors, so that two          \
         * chains of adds run at once; the sums are exact, so how the          \
         * terms are shared out changes nothing. */                            \
        v4d a0[EG_EXACT_LEVELS] = {{0}}, a1[EG_EXACT_LEVELS] = {{0}};          \
        const int dot_ = k == EG_T_DOT || k == EG_T_DOT_E;                     \
        v4d v = {0}, w = {0}, sg[EG_EXACT_LEVELS - 1];                         \
        for (int j = 0; j + 1 < L; j++) /* broadcast once, not per row */      \
            sg[j] = (v4d){0} + sig[j];                                         \
        uint64_t r = 0;                                                        \
        for (; r + 2 * ROW <= m; r += 2 * ROW) {                               \
            load_##SFX(x, r, m, &v);                                           \
            w = v;                                                             \
            if (dot_)                                                          \
                load_##SFX(y, r, m, &w);                                       \
            cut_row(&v, &w, k, L, IS_F64, sg, a0);                             \
            load_##SFX(x, r + ROW, m, &v);                                     \
            w = v;                                                             \
            if (dot_)                                                          \
                load_##SFX(y, r + ROW, m, &w);                                 \
            cut_row(&v, &w, k, L, IS_F64, sg, a1);                             \
        }                                                                      \
        for (; r < m; r += ROW) {                                              \
            load_##SFX(x, r, m, &v);                                           \
            w = v;                                                             \
            if (dot_)                                                          \
                load_##SFX(y, r, m, &w);                                       \
            cut_row(&v, &w, k, L, IS_F64, sg, a0);                             \
        }                                                                      \
        for (int j = 0; j < EG_EXACT_LEVELS; j++) {                            \
            v4d both = a0[j] + a1[j];                                          \
            double sum = 0.0;                                                  \
            for (int s = 0; s < ROW; s++)                                      \
                sum += both[s];                                                \
            out[j] = sum;                                                      \
        }                                                                      \
    }                                                                          \
                                                                               \
    INLINE void pass_k_##SFX(const T *x, const T *y, uint64_t m, const int k,  \
                             const eg_level_plan *p, double *out)              \
    {                                                                          \
        switch (p->levels) {                                                   \
        case 1:                                                                \
            pass_##SFX(x, y, m, k, 1, p->sigma, out);                          \
            break;                                                             \
        case 2:                                                                \
            pass_##SFX(x, y, m, k, 2, p->sigma, out);                          \
            break;                                                             \
        case 3:                                                                \
            pass_##SFX(x, y, m, k, 3, p->sigma, out);                          \
            break;                                                             \
        case 4:                                                                \
            pass_##SFX(x, y, m, k, 4, p->sigma, out);                          \
            break;                                                             \
        default:                                                               \
            pass_##SFX(x, y, m, k, 5, p->sigma, out);                          \
            break;                                                             \
        }                                                                      \
    }                                                                          \
                                                                               \
    EG_HOT static void level_sums_##SFX(const T *x, const T *y, uint64_t m,    \
                                        enum eg_exact_term k,                  \
                                        const eg_level_plan *p, double *out)   \
    {                                                                          \
        switch (k) {                                                           \
        case EG_T_X:                                                           \
            pass_k_##SFX(x, y, m, EG_T_X, p, out);                             \
            break;                                                             \
        case EG_T_ABS:                                                         \
            pass_k_##SFX(x, y, m, EG_T_ABS, p, out);                           \
            break;                                                             \
        case EG_T_SQ:                                                          \
            pass_k_##SFX(x, y, m, EG_T_SQ, p, out);                            \
            break;                                                             \
        case EG_T_SQ_E:                                                        \
            pass_k_##SFX(x, y, m, EG_T_SQ_E, p, out);                          \
            break;                                                             \
        case EG_T_DOT:                                                         \
            pass_k_##SFX(x, y, m, EG_T_DOT, p, out);                           \
            break;                                                             \
        default:                                                               \
            pass_k_##SFX(x, y, m, EG_T_DOT_E, p, out);                         \
            break;                                                             \
        }                                                                      \
    }

DEFINE_ROW(f32, float, 0)
DEFINE_ROW(f64, double, 1)

/* Sums the pieces of every term of kind `k` of a lane into out[]. */
static void level_sums(const void *x, const void *y, uint64_t m, int is_f64,
                       enum eg_exact_term k, const eg_level_plan *plan,
                       double *out)
{
    if (is_f64)
        level_sums_f64(x, y, m, k, plan, out);
    else
        level_sums_f32(x, y, m, k, plan, out);
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* First occurrence of the smallest and largest value (all finite here). */
static void min_max(const void *x, int is_f64, uint64_t m, uint64_t base,
                    uint64_t *w)
{
    double mn = INFINITY, mx = -INFINITY;
    uint64_t amn = 0, amx = 0;
    for (uint64_t i = 0; i < m; i++) {
        double v = load(x, is_f64, i);
        /* the lane rule (lanes.h): the first element is always taken, so
         * a lane of +-inf (not reaching here today) keeps index 0 */
        if (v < mn || (v == mn && i == 0)) {
            mn = v;
            amn = i;
        }
        if (v > mx || (v == mx && i == 0)) {
            mx = v;
            amx = i;
        }
    }
    w[EG_X_MIN] = dbits(mn);
    w[EG_X_MAX] = dbits(mx);
    w[EG_X_ARGMIN] = base + amn;
    w[EG_X_ARGMAX] = base + amx;
}

/* The bounds of one operand: |v| < 2^e, 2^f <= |v| and 2^b divides v for
 * every non-zero v; 0 when it is all zero. */
typedef struct bounds {
    int e, f, b;
} bounds;

static int get_bounds(const span *sp, const fmt *f, bounds *o)
{
    if (sp->max_bits == 0)
        return 0;
    o->e = eg_exact_top(sp->max_bits, f->mant, f->bias);
    o->f = eg_exact_floor(sp->min1_bits + 1, f->mant, f->bias);
    o->b = eg_exact_low(sp->min1_bits + 1, f->mant, f->bias);
    return 1;
}

/* Plans for the products a * b: p = fl(a * b) is at most 2^(ea + eb) and a
 * multiple of 2^(ba + bb) and of its own ulp, at least 2^(fa + fb - 52);
 * e = a * b - p is at most half that ulp, below 2^(ea + eb - 53), and a
 * multiple of 2^(ba + bb).  For f64 the products must stay on the 2^-1074
 * grid (ba + bb >= -1074), which also keeps every non-zero p normal and e
 * exact.  f32 products are exact: no e. */
static int product_plans(const bounds *a, const bounds *b, const fmt *f,
                         eg_level_plan *p, eg_level_plan *e)
{
    int low = a->b + b->b, ulp = a->f + b->f - 52;
    if (f->is_f64 && low < EG_EXACT_F64_MIN_LOW)
        return 0;
    if (!eg_exact_plan(a->e + b->e, low > ulp ? low : ulp, p))
        return 0;
    return !f->is_f64 || eg_exact_plan(a->e + b->e - 53, low, e);
}

/* E of the guessed plan of one operand (exact_levels.h): from its first
 * EG_EXACT_GUESS_ELEMS elements; 0 when they are all zero. */
static int guess_top(const void *p, uint64_t m, const fmt *f, int *e)
{
    span sp;
    uint64_t k = m < EG_EXACT_GUESS_ELEMS ? m : EG_EXACT_GUESS_ELEMS;
    if (f->is_f64)
        scan_f64(p, k, &sp);
    else
        scan_f32(p, k, &sp);
    if (sp.max_bits == 0 || sp.max_bits >= f->inf_bits)
        return 0;
    *e = eg_exact_top(sp.max_bits, f->mant, f->bias) + EG_EXACT_GUESS_MARGIN;
    return 1;
}

/* One kind of term under the guess: terms up to 2^e_act on the 2^b_act grid
 * fit the fixed plan of `levels` levels from 2^e_guess. */
static int guess_holds(int e_act, int b_act, int e_guess, int levels,
                       eg_level_plan *p)
{
    return eg_exact_guess_fits(e_act, b_act, e_guess, levels) &&
           eg_exact_fixed_plan(e_guess, levels, p);
}

/* The guessed plans of the terms the groups need, if the lane's actual
 * bounds fit them. */
static int guess_plans(const void *x, const void *y, uint64_t m,
                       const fmt *f, unsigned g, const bounds *bx,
                       const bounds *by, eg_level_plan plans[EG_T_KINDS])
{
    int gx, gy = 0;
    if (!guess_top(x, m, f, &gx) ||
        ((g & EG_G_DOT) && !guess_top(y, m, f, &gy)))
        return 0;
    if (!guess_holds(bx->e, bx->b, gx, EG_EXACT_FIX_X, &plans[EG_T_X]))
        return 0;
    plans[EG_T_ABS] = plans[EG_T_X];
    if (g & (EG_G_VAR | EG_G_L2)) {
        int low = 2 * bx->b, ulp = 2 * bx->f - 52;
        if ((f->is_f64 && low < EG_EXACT_F64_MIN_LOW) ||
            !guess_holds(2 * bx->e, low > ulp ? low : ulp, 2 * gx,
                         EG_EXACT_FIX_P, &plans[EG_T_SQ]) ||
            (f->is_f64 && !guess_holds(2 * bx->e - 53, low, 2 * gx - 53,
                                       EG_EXACT_FIX_E, &plans[EG_T_SQ_E])))
            return 0;
    }
    if (g & EG_G_DOT) { /* y's first elements are not all zero */
        int low = bx->b + by->b, ulp = bx->f + by->f - 52;
        if (by->e > gy || (f->is_f64 && low < EG_EXACT_F64_MIN_LOW) ||
            !guess_holds(bx->e + by->e, low > ulp ? low : ulp, gx + gy,
                         EG_EXACT_FIX_P, &plans[EG_T_DOT]) ||
            (f->is_f64 &&
             !guess_holds(bx->e + by->e - 53, low, gx + gy - 53,
                          EG_EXACT_FIX_E, &plans[EG_T_DOT_E])))
            return 0;
    }
    return 1;
}

/* The plans of the terms the groups need: the guessed ones when they hold,
 * else those of the lane's actual bounds; 0 if the lane must go the careful
 * way. */
static int make_plans(const void *x, const void *y, uint64_t m,
                      const span *sx, const span *sy, const fmt *f,
                      unsigned g, eg_level_plan plans[EG_T_KINDS])
{
    memset(plans, 0, EG_T_KINDS * sizeof *plans);
    if (sx->max_bits >= f->inf_bits ||
        ((g & EG_G_DOT) && sy->max_bits >= f->inf_bits))
        return 0;
    bounds bx = {0, 0, 0}, by = {0, 0, 0};
    int nzx = get_bounds(sx, f, &bx);
    int nzy = (g & EG_G_DOT) && get_bounds(sy, f, &by);
    if (!nzx)
        return 1; /* every term is zero */
    if (guess_plans(x, y, m, f, g, &bx, &by, plans))
        return 1;
    memset(plans, 0, EG_T_KINDS * sizeof *plans);
    if (nzx && !eg_exact_plan(bx.e, bx.b, &plans[EG_T_X]))
        return 0;
    plans[EG_T_ABS] = plans[EG_T_X];
    if (nzx && (g & (EG_G_VAR | EG_G_L2)) &&
        !product_plans(&bx, &bx, f, &plans[EG_T_SQ], &plans[EG_T_SQ_E]))
        return 0;
    if (nzx && nzy &&
        !product_plans(&bx, &by, f, &plans[EG_T_DOT], &plans[EG_T_DOT_E]))
        return 0;
    return 1;
}

int eg_exact_lane_plans(const void *x, const void *y, uint64_t m,
                        const eg_exact_mag *sx, const eg_exact_mag *sy,
                        int is_f64, unsigned g,
                        eg_level_plan plans[EG_T_KINDS])
{
    return make_plans(x, y, m, sx, sy, is_f64 ? &f64_fmt : &f32_fmt, g,
                      plans);
}

/* The guess alone, before the bounds are known: the plans guess_plans
 * fills when the bounds fit them. */
int eg_exact_guess_plans(const void *x, const void *y, uint64_t m,
                         int is_f64, unsigned g,
                         eg_level_plan plans[EG_T_KINDS])
{
    const fmt *f = is_f64 ? &f64_fmt : &f32_fmt;
    int gx, gy = 0;
    memset(plans, 0, EG_T_KINDS * sizeof *plans);
    if (!guess_top(x, m, f, &gx) ||
        ((g & EG_G_DOT) && !guess_top(y, m, f, &gy)) ||
        !eg_exact_fixed_plan(gx, EG_EXACT_FIX_X, &plans[EG_T_X]))
        return 0;
    plans[EG_T_ABS] = plans[EG_T_X];
    if ((g & (EG_G_VAR | EG_G_L2)) &&
        (!eg_exact_fixed_plan(2 * gx, EG_EXACT_FIX_P, &plans[EG_T_SQ]) ||
         (is_f64 && !eg_exact_fixed_plan(2 * gx - 53, EG_EXACT_FIX_E,
                                         &plans[EG_T_SQ_E]))))
        return 0;
    if ((g & EG_G_DOT) &&
        (!eg_exact_fixed_plan(gx + gy, EG_EXACT_FIX_P, &plans[EG_T_DOT]) ||
         (is_f64 && !eg_exact_fixed_plan(gx + gy - 53, EG_EXACT_FIX_E,
                                         &plans[EG_T_DOT_E]))))
        return 0;
    return 1;
}

static int same_plan(const eg_level_plan *a, const eg_level_plan *b)
{
    if (a->levels != b->levels)
        return 0;
    for (int j = 0; j + 1 < a->levels; j++)
        if (dbits(a->sigma[j]) != dbits(b->sigma[j]))
            return 0;
    return 1;
}

int eg_exact_same_plans(const eg_level_plan *a, const eg_level_plan *b,
                        int is_f64, unsigned g)
{
    int ok = same_plan(&a[EG_T_X], &b[EG_T_X]);
    if (g & EG_G_L1)
        ok = ok && same_plan(&a[EG_T_ABS], &b[EG_T_ABS]);
    if (g & (EG_G_VAR | EG_G_L2))
        ok = ok && same_plan(&a[EG_T_SQ], &b[EG_T_SQ]) &&
             (!is_f64 || same_plan(&a[EG_T_SQ_E], &b[EG_T_SQ_E]));
    if (g & EG_G_DOT)
        ok = ok && same_plan(&a[EG_T_DOT], &b[EG_T_DOT]) &&
             (!is_f64 || same_plan(&a[EG_T_DOT_E], &b[EG_T_DOT_E]));
    return ok;
}

/* Exponent k of a sigma 1.5 * 2^k. */
static int sigma_exp(double sigma)
{
    return (int)((dbits(sigma) >> EG_F64_MANT) & 0x7ff) - EG_F64_BIAS;
}

/* Whether the terms of one kind, all multiples of 2^low, lie on the grid
 * of level `lev` - 1 of plan p (true when lev covers every level). */
static int on_grid(const eg_level_plan *p, int lev, int low)
{
    return lev >= p->levels ||
           low >= sigma_exp(p->sigma[lev - 1]) - EG_F64_MANT;
}

int eg_exact_short_holds(const eg_exact_mag *sx, const eg_exact_mag *sy,
                         int is_f64, unsigned g,
                         const eg_level_plan plans[EG_T_KINDS],
                         const int lev[EG_T_KINDS])
{
    const fmt *f = is_f64 ? &f64_fmt : &f32_fmt;
    bounds bx, by;
    if (!get_bounds(sx, f, &bx))
        return 0;
    /* A product's rounded p is on its own ulp's grid too (product_plans). */
    int sq_low = 2 * bx.b, sq_ulp = 2 * bx.f - 52;
    int ok = on_grid(&plans[EG_T_X], lev[EG_T_X], bx.b);
    if (g & (EG_G_VAR | EG_G_L2))
        ok = ok &&
             on_grid(&plans[EG_T_SQ], lev[EG_T_SQ],
                     sq_low > sq_ulp ? sq_low : sq_ulp) &&
             (!is_f64 || on_grid(&plans[EG_T_SQ_E], lev[EG_T_SQ_E], sq_low));
    if (g & EG_G_DOT) {
        if (!get_bounds(sy, f, &by))
            return 0;
        int low = bx.b + by.b, ulp = bx.f + by.f - 52;
        ok = ok &&
             on_grid(&plans[EG_T_DOT], lev[EG_T_DOT],
                     low > ulp ? low : ulp) &&
             (!is_f64 || on_grid(&plans[EG_T_DOT_E], lev[EG_T_DOT_E], low));
    }
    return ok;
}

void eg_exact_lane_generic(const void *x, const void *y, uint64_t m,
                           uint64_t base, int is_f64, unsigned g,
                           uint64_t *w)
{
    const fmt *f = is_f64 ? &f64_fmt : &f32_fmt;
    span sx, sy = {0, UINT64_MAX};
    eg_level_plan plans[EG_T_KINDS];
    memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
    w[EG_X_COUNT] = m;
    if (is_f64)
        scan_f64(x, m, &sx);
    else
        scan_f32(x, m, &sx);
    if (g & EG_G_DOT) {
        if (is_f64)
            scan_f64(y, m, &sy);
        else
            scan_f32(y, m, &sy);
    }
    if (!make_plans(x, y, m, &sx, &sy, f, g, plans)) {
        w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
        return;
    }
    if (g & EG_G_MINMAX) {
        min_max(x, is_f64, m, base, w);
    } else {
        w[EG_X_ARGMIN] = EG_NONE_INDEX;
        w[EG_X_ARGMAX] = EG_NONE_INDEX;
    }
    static const struct {
        enum eg_exact_term k;
        unsigned need;
        int word;
    } parts[] = {{EG_T_X, 0, EG_X_SUM},
                 {EG_T_ABS, EG_G_L1, EG_X_L1},
                 {EG_T_SQ, EG_G_VAR | EG_G_L2, EG_X_SQ},
                 {EG_T_SQ_E, EG_G_VAR | EG_G_L2, EG_X_SQ_E},
                 {EG_T_DOT, EG_G_DOT, EG_X_DOT},
                 {EG_T_DOT_E, EG_G_DOT, EG_X_DOT_E}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const eg_level_plan *p = &plans[parts[i].k];
        if ((parts[i].need && !(g & parts[i].need)) || p->levels == 0)
            continue;
        double sums[EG_EXACT_LEVELS];
        level_sums(x, y, m, is_f64, parts[i].k, p, sums);
        for (int j = 0; j < EG_EXACT_LEVELS; j++)
            w[parts[i].word + j] = dbits(sums[j]);
    }
}

/* The record of a lane that never runs exact: integers are exact already. */
static void int_lane(uint64_t m, uint64_t *w)
{
    memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
    w[EG_X_COUNT] = m;
    w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
}

/* Lanes `from` to the chunk's end, generically. */
static void lanes_from(const void *x, const void *y, uint64_t n,
                       eg_dtype dtype, unsigned g, uint64_t from,
                       uint64_t *words)
{
    int is_f64 = dtype == EG_F64;
    size_t sz = eg_dtype_size(dtype);
    for (uint64_t l = from; l < eg_lane_count(n); l++) {
        uint64_t off = l * EG_LANE_ELEMS;
        uint64_t m = n - off < EG_LANE_ELEMS ? n - off : EG_LANE_ELEMS;
        uint64_t *w = words + l * EG_EXACT_LANE_WORDS;
        if (dtype != EG_F32 && dtype != EG_F64)
            int_lane(m, w);
        else
            eg_exact_lane_generic((const char *)x + off * sz,
                                  y ? (const char *)y + off * sz : NULL, m,
                                  off, is_f64, g, w);
    }
}

void eg_lanes_exact_generic(const void *x, const void *y, uint64_t n,
                            eg_dtype dtype, unsigned g, uint64_t *words)
{
    lanes_from(x, y, n, dtype, g, 0, words);
}

/* The full float lanes go the AVX-512 way where the CPU has it; the rest
 * (a partial last lane, other CPUs) the generic way. */
void eg_lanes_exact(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                    unsigned g, uint64_t *words)
{
    uint64_t done = 0;
    if (dtype == EG_F32 || dtype == EG_F64)
        done = eg_lanes_exact_avx512(x, y, n / EG_LANE_ELEMS,
                                     dtype == EG_F64, g, words);
    lanes_from(x, y, n, dtype, g, done, words);
}
