/* lanes_exact.c - the exact lane on the host (lanes.h, exact_levels.h): the
 * reference that kernels/reduce_exact.cl matches word for word.
 *
 * Two kinds of pass over a lane that stays in L1: a scan (largest and
 * smallest non-zero magnitude, non-finite values, min/max), then one pass
 * per exact quantity that cuts each term onto the plan's grids.  The level
 * sums are exact, so any order gives the same words; rows of 8 terms let
 * the compiler vectorise. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exact_levels.h"
#include "lanes.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&       \
    !defined(__SANITIZE_ADDRESS__)
#define EG_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EG_HOT
#endif

#define ROW 8

/* The magnitudes of one operand of a lane. */
typedef struct span {
    uint64_t max_bits;  /* bits of the largest |v| */
    uint64_t min1_bits; /* bits of the smallest non-zero |v|, minus 1 (so
                           zeros, as -1, never win); UINT64_MAX if none */
} span;

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
/* Term kinds: x, |x|, the rounded products p of x * x and x * y, and (f64
 * only) their exact errors e = fma(v, w, -p). */
enum term { T_X, T_ABS, T_SQ, T_SQ_E, T_DOT, T_DOT_E, T_KINDS };

#define INLINE static inline __attribute__((always_inline))

/* One term onto the grids: L and the sigmas are constants once inlined. */
INLINE void cut(double t, const double *sig, const int L, int s,
                double acc[EG_EXACT_LEVELS][ROW])
{
    for (int j = 0; j + 1 < L; j++) {
        double q = (sig[j] + t) - sig[j];
        acc[j][s] += q;
        t -= q;
    }
    acc[L - 1][s] += t;
}

/* The terms of kind k of one row of 8 elements.  f64 products go in as
 * their TwoProduct pair p + e (e = fma(v, w, -p), exact); f32 products are
 * exact in double. */
#define DEFINE_ROW(SFX, T, IS_F64)                                           \
    INLINE void row_##SFX(const T *x, const T *y, const int k, const int L,   \
                          const double *sig,                                 \
                          double acc[EG_EXACT_LEVELS][ROW])                  \
    {                                                                        \
        for (int s = 0; s < ROW; s++) {                                      \
            double v = (double)x[s];                                         \
            int dot_ = k == T_DOT || k == T_DOT_E;                           \
            double w = dot_ ? (double)y[s] : v;                              \
            if (k == T_X || k == T_ABS) {                                    \
                cut(k == T_ABS ? fabs(v) : v, sig, L, s, acc);               \
            } else {                                                         \
                double p = v * w;                                            \
                if (k == T_SQ || k == T_DOT)                                 \
                    cut(p, sig, L, s, acc);                                  \
                else if (IS_F64)                                             \
                    cut(fma(v, w, -p), sig, L, s, acc);                      \
            }                                                                \
        }                                                                    \
    }                                                                        \
                                                                             \
    INLINE void pass_##SFX(const T *x, const T *y, uint64_t m, const int k,   \
                           const int L, const double *sig, double *out)      \
    {                                                                        \
        double acc[EG_EXACT_LEVELS][ROW];                                    \
        memset(acc, 0, sizeof acc);                                          \
        uint64_t full = m & ~(uint64_t)(ROW - 1);                            \
        for (uint64_t r = 0; r < full; r += ROW)                             \
            row_##SFX(x + r, y ? y + r : x, k, L, sig, acc);                 \
        if (full < m) {                                                      \
            /* the last row padded with zeros, which add nothing */          \
            T px[ROW] = {0}, py[ROW] = {0};                                  \
            memcpy(px, x + full, (m - full) * sizeof(T));                    \
            if (y)                                                           \
                memcpy(py, y + full, (m - full) * sizeof(T));                \
            row_##SFX(px, py, k, L, sig, acc);                               \
        }                                                                    \
        for (int j = 0; j < EG_EXACT_LEVELS; j++) {                          \
            double sum = 0.0;                                                \
            for (int s = 0; s < ROW; s++)                                    \
                sum += acc[j][s];                                            \
            out[j] = sum;                                                    \
        }                                                                    \
    }                                                                        \
                                                                             \
    INLINE void pass_k_##SFX(const T *x, const T *y, uint64_t m,              \
                             const int k, const eg_level_plan *p,            \
                             double *out)                                    \
    {                                                                        \
        switch (p->levels) {                                                 \
        case 1: pass_##SFX(x, y, m, k, 1, p->sigma, out); break;             \
        case 2: pass_##SFX(x, y, m, k, 2, p->sigma, out); break;             \
        case 3: pass_##SFX(x, y, m, k, 3, p->sigma, out); break;             \
        case 4: pass_##SFX(x, y, m, k, 4, p->sigma, out); break;             \
        default: pass_##SFX(x, y, m, k, 5, p->sigma, out); break;            \
        }                                                                    \
    }                                                                        \
                                                                             \
    EG_HOT static void level_sums_##SFX(const T *x, const T *y, uint64_t m,  \
                                        enum term k,                         \
                                        const eg_level_plan *p, double *out) \
    {                                                                        \
        switch (k) {                                                         \
        case T_X: pass_k_##SFX(x, y, m, T_X, p, out); break;                 \
        case T_ABS: pass_k_##SFX(x, y, m, T_ABS, p, out); break;             \
        case T_SQ: pass_k_##SFX(x, y, m, T_SQ, p, out); break;               \
        case T_SQ_E: pass_k_##SFX(x, y, m, T_SQ_E, p, out); break;           \
        case T_DOT: pass_k_##SFX(x, y, m, T_DOT, p, out); break;             \
        default: pass_k_##SFX(x, y, m, T_DOT_E, p, out); break;              \
        }                                                                    \
    }

DEFINE_ROW(f32, float, 0)
DEFINE_ROW(f64, double, 1)

/* Sums the pieces of every term of kind `k` of a lane into out[]. */
static void level_sums(const void *x, const void *y, uint64_t m, int is_f64,
                       enum term k, const eg_level_plan *plan, double *out)
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
        if (v < mn) {
            mn = v;
            amn = i;
        }
        if (v > mx) {
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
    if (f->is_f64 && low < -1074)
        return 0;
    if (!eg_exact_plan(a->e + b->e, low > ulp ? low : ulp, p))
        return 0;
    return !f->is_f64 || eg_exact_plan(a->e + b->e - 53, low, e);
}

/* The plans of the terms the groups need; 0 if the lane must go the
 * careful way. */
static int make_plans(const span *sx, const span *sy, const fmt *f,
                      unsigned g, eg_level_plan plans[T_KINDS])
{
    memset(plans, 0, T_KINDS * sizeof *plans);
    if (sx->max_bits >= f->inf_bits ||
        ((g & EG_G_DOT) && sy->max_bits >= f->inf_bits))
        return 0;
    bounds bx, by;
    int nzx = get_bounds(sx, f, &bx);
    int nzy = (g & EG_G_DOT) && get_bounds(sy, f, &by);
    if (nzx && !eg_exact_plan(bx.e, bx.b, &plans[T_X]))
        return 0;
    plans[T_ABS] = plans[T_X];
    if (nzx && (g & (EG_G_VAR | EG_G_L2)) &&
        !product_plans(&bx, &bx, f, &plans[T_SQ], &plans[T_SQ_E]))
        return 0;
    if (nzx && nzy &&
        !product_plans(&bx, &by, f, &plans[T_DOT], &plans[T_DOT_E]))
        return 0;
    return 1;
}

static void lane_exact(const void *x, const void *y, uint64_t m,
                       uint64_t base, int is_f64, unsigned g, uint64_t *w)
{
    const fmt *f = is_f64 ? &f64_fmt : &f32_fmt;
    span sx, sy = {0, UINT64_MAX};
    eg_level_plan plans[T_KINDS];
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
    if (!make_plans(&sx, &sy, f, g, plans)) {
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
        enum term k;
        unsigned need;
        int word;
    } parts[] = {{T_X, 0, EG_X_SUM},
                 {T_ABS, EG_G_L1, EG_X_L1},
                 {T_SQ, EG_G_VAR | EG_G_L2, EG_X_SQ},
                 {T_SQ_E, EG_G_VAR | EG_G_L2, EG_X_SQ_E},
                 {T_DOT, EG_G_DOT, EG_X_DOT},
                 {T_DOT_E, EG_G_DOT, EG_X_DOT_E}};
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

void eg_lanes_exact(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                    unsigned g, uint64_t *words)
{
    int is_f64 = dtype == EG_F64;
    size_t sz = eg_dtype_size(dtype);
    for (uint64_t l = 0; l < eg_lane_count(n); l++) {
        uint64_t off = l * EG_LANE_ELEMS;
        uint64_t m = n - off < EG_LANE_ELEMS ? n - off : EG_LANE_ELEMS;
        uint64_t *w = words + l * EG_EXACT_LANE_WORDS;
        if (dtype != EG_F32 && dtype != EG_F64) {
            /* Integers never run exact lanes (they are exact already). */
            memset(w, 0, EG_EXACT_LANE_WORDS * sizeof *w);
            w[EG_X_COUNT] = m;
            w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
            continue;
        }
        lane_exact((const char *)x + off * sz,
                   y ? (const char *)y + off * sz : NULL, m, off, is_f64, g,
                   w);
    }
}
