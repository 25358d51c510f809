/* lanes_host.c - the canonical lane on the host: the reference every kernel
 * matches bit for bit (fast path), the careful path for special values, and
 * the fold of a chunk's lanes into one state.  See lanes.h for the order. */
#include "lanes.h"

#include <math.h>
#include <string.h>

#include "twosum.h"

__extension__ typedef __int128 eg_i128;
__extension__ typedef unsigned __int128 eg_u128;

/* Per-slot accumulators of one lane. */
typedef struct slots {
    double s[EG_LANE_SLOTS], c[EG_LANE_SLOTS];
    double d1[EG_LANE_SLOTS], d2[EG_LANE_SLOTS];
    double mn[EG_LANE_SLOTS], mx[EG_LANE_SLOTS];
    uint64_t amn[EG_LANE_SLOTS], amx[EG_LANE_SLOTS];
    double l1s[EG_LANE_SLOTS], l1c[EG_LANE_SLOTS];
    double sml[EG_LANE_SLOTS], med[EG_LANE_SLOTS], big[EG_LANE_SLOTS];
    double ds[EG_LANE_SLOTS], dc[EG_LANE_SLOTS];
} slots;

static void slots_init(slots *sl)
{
    memset(sl, 0, sizeof *sl);
    for (int j = 0; j < EG_LANE_SLOTS; j++) {
        sl->mn[j] = INFINITY;
        sl->mx[j] = -INFINITY;
        sl->amn[j] = EG_NONE_INDEX;
        sl->amx[j] = EG_NONE_INDEX;
    }
}

/* The fixed combine tree ((0,1),(2,3)),((4,5),(6,7)): slot a absorbs slot b. */
static void combine_slot(slots *sl, int a, int b)
{
    eg_twosum_pair(&sl->s[a], &sl->c[a], sl->s[b], sl->c[b]);
    sl->d1[a] = sl->d1[a] + sl->d1[b];
    sl->d2[a] = sl->d2[a] + sl->d2[b];
    if (sl->mn[b] < sl->mn[a] ||
        (sl->mn[b] == sl->mn[a] && sl->amn[b] < sl->amn[a])) {
        sl->mn[a] = sl->mn[b];
        sl->amn[a] = sl->amn[b];
    }
    if (sl->mx[b] > sl->mx[a] ||
        (sl->mx[b] == sl->mx[a] && sl->amx[b] < sl->amx[a])) {
        sl->mx[a] = sl->mx[b];
        sl->amx[a] = sl->amx[b];
    }
    eg_twosum_pair(&sl->l1s[a], &sl->l1c[a], sl->l1s[b], sl->l1c[b]);
    sl->sml[a] = sl->sml[a] + sl->sml[b];
    sl->med[a] = sl->med[a] + sl->med[b];
    sl->big[a] = sl->big[a] + sl->big[b];
    eg_twosum_pair(&sl->ds[a], &sl->dc[a], sl->ds[b], sl->dc[b]);
}

static void combine_tree(slots *sl)
{
    combine_slot(sl, 0, 1);
    combine_slot(sl, 2, 3);
    combine_slot(sl, 4, 5);
    combine_slot(sl, 6, 7);
    combine_slot(sl, 0, 2);
    combine_slot(sl, 4, 6);
    combine_slot(sl, 0, 4);
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Writes the double accumulators of slot 0 into a record. */
static void put_double_words(const slots *sl, unsigned g, double k,
                             uint64_t *w)
{
    w[EG_W_K] = dbits(k);
    if (g & EG_G_VAR) {
        w[EG_W_D1] = dbits(sl->d1[0]);
        w[EG_W_D2] = dbits(sl->d2[0]);
    }
    if (g & EG_G_L2)
        w[EG_W_SSQ] = dbits(sl->med[0]);
    if (g & EG_G_DOT) {
        w[EG_W_DOT_S] = dbits(sl->ds[0]);
        w[EG_W_DOT_C] = dbits(sl->dc[0]);
    }
}

/* ------------------------------------------------------------ fast path */

/* One element of a float lane into slot j (all values finite). */
#define FAST_FLOAT_STEP(sl, g, v, k, idx, j, yv)                             \
    do {                                                                     \
        eg_twosum_acc(&(sl)->s[j], &(sl)->c[j], (v));                        \
        if ((g) & EG_G_VAR) {                                                \
            double d_ = (v) - (k);                                           \
            (sl)->d1[j] = (sl)->d1[j] + d_;                                  \
            (sl)->d2[j] = (sl)->d2[j] + d_ * d_;                             \
        }                                                                    \
        if ((g) & EG_G_MINMAX) {                                             \
            if ((v) < (sl)->mn[j]) {                                         \
                (sl)->mn[j] = (v);                                           \
                (sl)->amn[j] = (idx);                                        \
            }                                                                \
            if ((v) > (sl)->mx[j]) {                                         \
                (sl)->mx[j] = (v);                                           \
                (sl)->amx[j] = (idx);                                        \
            }                                                                \
        }                                                                    \
        if ((g) & EG_G_L1)                                                   \
            eg_twosum_acc(&(sl)->l1s[j], &(sl)->l1c[j], fabs(v));            \
        if ((g) & EG_G_L2)                                                   \
            (sl)->med[j] = (sl)->med[j] + (v) * (v);                         \
        if ((g) & EG_G_DOT)                                                  \
            eg_twosum_acc(&(sl)->ds[j], &(sl)->dc[j], (v) * (yv));           \
    } while (0)

#define DEFINE_FAST_FLOAT(NAME, T, IS_F64)                                   \
    static void NAME(const T *x, const T *y, uint64_t m, uint64_t base,      \
                     unsigned g, uint64_t *w)                                \
    {                                                                        \
        slots sl;                                                            \
        slots_init(&sl);                                                     \
        double k = (double)x[0];                                             \
        uint64_t flags = 0;                                                  \
        for (uint64_t i = 0; i < m; i++) {                                   \
            int j = (int)(i & 7);                                            \
            double v = (double)x[i];                                         \
            double yv = (g & EG_G_DOT) ? (double)y[i] : 0.0;                 \
            FAST_FLOAT_STEP(&sl, g, v, k, base + i, j, yv);                  \
            if (IS_F64 && (g & EG_G_L2)) {                                   \
                double a_ = fabs(v);                                         \
                if (a_ > EG_BLUE_TBIG || (a_ < EG_BLUE_TSML && a_ != 0.0))   \
                    flags |= EG_LANE_NEEDS_CAREFUL;                          \
            }                                                                \
        }                                                                    \
        combine_tree(&sl);                                                   \
        memset(w, 0, EG_LANE_WORDS * sizeof *w);                             \
        w[EG_W_SUM_S] = dbits(sl.s[0]);                                      \
        w[EG_W_SUM_C] = dbits(sl.c[0]);                                      \
        if (g & EG_G_MINMAX) {                                               \
            w[EG_W_MIN] = dbits(sl.mn[0]);                                   \
            w[EG_W_MAX] = dbits(sl.mx[0]);                                   \
            w[EG_W_ARGMIN] = sl.amn[0];                                      \
            w[EG_W_ARGMAX] = sl.amx[0];                                      \
        }                                                                    \
        if (g & EG_G_L1) {                                                   \
            w[EG_W_L1_S] = dbits(sl.l1s[0]);                                 \
            w[EG_W_L1_C] = dbits(sl.l1c[0]);                                 \
        }                                                                    \
        put_double_words(&sl, g, k, w);                                      \
        w[EG_W_COUNT] = m;                                                   \
        w[EG_W_FLAGS] = flags;                                               \
    }

DEFINE_FAST_FLOAT(lane_fast_f32, float, 0)
DEFINE_FAST_FLOAT(lane_fast_f64, double, 1)

/* |x| of an integer given as its bits zero-extended from `size` bytes. */
static inline eg_u128 eg_abs_wide(int is_signed, uint64_t bits, size_t size)
{
    uint64_t sign = (uint64_t)1 << (8 * size - 1);
    if (!is_signed || !(bits & sign))
        return bits;
    uint64_t mask = size == 8 ? UINT64_MAX : (sign << 1) - 1;
    return (~bits + 1) & mask; /* two's complement negation, exact */
}

/* Integer lanes: sums of x and |x| exact in 128 bits, min/max exact (first
 * occurrence by a sequential scan), the double accumulators by slot. */
#define DEFINE_FAST_INT(NAME, T, UT, SIGNED)                                 \
    static void NAME(const T *x, const T *y, uint64_t m, uint64_t base,      \
                     unsigned g, uint64_t *w)                                \
    {                                                                        \
        slots sl;                                                            \
        slots_init(&sl);                                                     \
        double k = (double)x[0];                                             \
        eg_i128 sum = 0;                                                     \
        eg_u128 l1 = 0;                                                      \
        T mn = x[0], mx = x[0];                                              \
        uint64_t amn = 0, amx = 0;                                           \
        for (uint64_t i = 0; i < m; i++) {                                   \
            int j = (int)(i & 7);                                            \
            T xi = x[i];                                                     \
            double v = (double)xi;                                           \
            sum += (eg_i128)xi;                                              \
            if (g & EG_G_L1)                                                 \
                l1 += eg_abs_wide(SIGNED, (uint64_t)(UT)xi, sizeof(T));      \
            if (g & EG_G_MINMAX) {                                           \
                if (xi < mn) {                                               \
                    mn = xi;                                                 \
                    amn = i;                                                 \
                }                                                            \
                if (xi > mx) {                                               \
                    mx = xi;                                                 \
                    amx = i;                                                 \
                }                                                            \
            }                                                                \
            if (g & EG_G_VAR) {                                              \
                double d_ = v - k;                                           \
                sl.d1[j] = sl.d1[j] + d_;                                    \
                sl.d2[j] = sl.d2[j] + d_ * d_;                               \
            }                                                                \
            if (g & EG_G_L2)                                                 \
                sl.med[j] = sl.med[j] + v * v;                               \
            if (g & EG_G_DOT)                                                \
                eg_twosum_acc(&sl.ds[j], &sl.dc[j], v * (double)y[i]);       \
        }                                                                    \
        combine_tree(&sl);                                                   \
        memset(w, 0, EG_LANE_WORDS * sizeof *w);                             \
        w[EG_W_SUM_S] = (uint64_t)(eg_u128)sum;                              \
        w[EG_W_SUM_C] = (uint64_t)((eg_u128)sum >> 64);                      \
        if (g & EG_G_MINMAX) {                                               \
            eg_value a, b;                                                   \
            if (SIGNED) {                                                    \
                a.i = (int64_t)mn;                                           \
                b.i = (int64_t)mx;                                           \
            } else {                                                         \
                a.u = (uint64_t)mn;                                          \
                b.u = (uint64_t)mx;                                          \
            }                                                                \
            w[EG_W_MIN] = a.u;                                               \
            w[EG_W_MAX] = b.u;                                               \
            w[EG_W_ARGMIN] = base + amn;                                     \
            w[EG_W_ARGMAX] = base + amx;                                     \
        }                                                                    \
        if (g & EG_G_L1) {                                                   \
            w[EG_W_L1_S] = (uint64_t)l1;                                     \
            w[EG_W_L1_C] = (uint64_t)(l1 >> 64);                             \
        }                                                                    \
        put_double_words(&sl, g, k, w);                                      \
        w[EG_W_COUNT] = m;                                                   \
    }

DEFINE_FAST_INT(lane_fast_i8, int8_t, uint8_t, 1)
DEFINE_FAST_INT(lane_fast_u8, uint8_t, uint8_t, 0)
DEFINE_FAST_INT(lane_fast_i16, int16_t, uint16_t, 1)
DEFINE_FAST_INT(lane_fast_u16, uint16_t, uint16_t, 0)
DEFINE_FAST_INT(lane_fast_i32, int32_t, uint32_t, 1)
DEFINE_FAST_INT(lane_fast_u32, uint32_t, uint32_t, 0)
DEFINE_FAST_INT(lane_fast_i64, int64_t, uint64_t, 1)
DEFINE_FAST_INT(lane_fast_u64, uint64_t, uint64_t, 0)

typedef void (*lane_fn)(const void *, const void *, uint64_t, uint64_t,
                        unsigned, uint64_t *);

#define LANE_CASE(DT, FN, T)                                                 \
    case DT:                                                                 \
        FN((const T *)x + off, y ? (const T *)y + off : NULL, m, off, g, w); \
        break;

void eg_lanes_fast(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                   unsigned g, uint64_t *words)
{
    uint64_t lanes = eg_lane_count(n);
    for (uint64_t l = 0; l < lanes; l++) {
        uint64_t off = l * EG_LANE_ELEMS;
        uint64_t m = n - off < EG_LANE_ELEMS ? n - off : EG_LANE_ELEMS;
        uint64_t *w = words + l * EG_LANE_WORDS;
        switch (dtype) {
            LANE_CASE(EG_F32, lane_fast_f32, float)
            LANE_CASE(EG_F64, lane_fast_f64, double)
            LANE_CASE(EG_I8, lane_fast_i8, int8_t)
            LANE_CASE(EG_U8, lane_fast_u8, uint8_t)
            LANE_CASE(EG_I16, lane_fast_i16, int16_t)
            LANE_CASE(EG_U16, lane_fast_u16, uint16_t)
            LANE_CASE(EG_I32, lane_fast_i32, int32_t)
            LANE_CASE(EG_U32, lane_fast_u32, uint32_t)
            LANE_CASE(EG_I64, lane_fast_i64, int64_t)
            LANE_CASE(EG_U64, lane_fast_u64, uint64_t)
        default:
            memset(w, 0, EG_LANE_WORDS * sizeof *w);
        }
    }
}

/* -------------------------------------------------------------- decoding */

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

int eg_lane_decode(const uint64_t *w, eg_dtype dtype, unsigned g,
                   eg_lane *out)
{
    memset(out, 0, sizeof *out);
    out->n = w[EG_W_COUNT];
    out->vn = out->n;
    out->first_nan = EG_NONE_INDEX;
    out->k = bitsd(w[EG_W_K]);
    out->d1 = bitsd(w[EG_W_D1]);
    out->d2 = bitsd(w[EG_W_D2]);
    out->l2_med = bitsd(w[EG_W_SSQ]);
    out->dot_s = bitsd(w[EG_W_DOT_S]);
    out->dot_c = bitsd(w[EG_W_DOT_C]);
    out->argmin = w[EG_W_ARGMIN];
    out->argmax = w[EG_W_ARGMAX];
    out->min.u = w[EG_W_MIN];
    out->max.u = w[EG_W_MAX];
    out->flags = w[EG_W_FLAGS];
    if (!(g & EG_G_MINMAX))
        out->argmin = out->argmax = EG_NONE_INDEX;
    if (eg_dtype_is_float(dtype)) {
        out->sum_s = bitsd(w[EG_W_SUM_S]);
        out->sum_c = bitsd(w[EG_W_SUM_C]);
        out->l1_s = bitsd(w[EG_W_L1_S]);
        out->l1_c = bitsd(w[EG_W_L1_C]);
    } else {
        out->isum_lo = w[EG_W_SUM_S];
        out->isum_hi = (int64_t)w[EG_W_SUM_C];
        out->il1_lo = w[EG_W_L1_S];
        out->il1_hi = w[EG_W_L1_C];
    }
    if (out->n == 0)
        return 1;
    const double acc[] = {out->sum_s, out->sum_c, out->k, out->d1, out->d2,
                          out->l1_s, out->l1_c, out->l2_med, out->dot_s,
                          out->dot_c};
    if (!all_finite(acc, sizeof acc / sizeof acc[0]))
        return 0;
    return !(out->flags & EG_LANE_NEEDS_CAREFUL);
}

/* ---------------------------------------------------------- careful path */

static void careful_minmax(slots *sl, int j, double v, uint64_t idx)
{
    if (v < sl->mn[j]) {
        sl->mn[j] = v;
        sl->amn[j] = idx;
    }
    if (v > sl->mx[j]) {
        sl->mx[j] = v;
        sl->amx[j] = idx;
    }
}

/* Blue's three-range sum of squares: the middle range is the fast path's. */
static void careful_l2(slots *sl, int j, double v)
{
    double a = fabs(v);
    if (a > EG_BLUE_TBIG) {
        double t = v * EG_BLUE_SBIG;
        sl->big[j] = sl->big[j] + t * t;
    } else if (a < EG_BLUE_TSML) {
        double t = v * EG_BLUE_SSML;
        sl->sml[j] = sl->sml[j] + t * t;
    } else {
        sl->med[j] = sl->med[j] + v * v;
    }
}

static void careful_dot(slots *sl, eg_lane *out, int j, double v, double yv)
{
    if (isnan(v) || isnan(yv)) {
        out->dot_nan_in++;
        return;
    }
    double p = v * yv;
    if (isnan(p))
        out->dot_nan_gen++;
    else if (p == INFINITY)
        out->dot_pinf++;
    else if (p == -INFINITY)
        out->dot_ninf++;
    else
        eg_twosum_acc(&sl->ds[j], &sl->dc[j], p);
}

static double load_float(const void *x, eg_dtype dtype, uint64_t i)
{
    return dtype == EG_F32 ? (double)((const float *)x)[i]
                           : ((const double *)x)[i];
}

static void lane_careful_float(const void *x, const void *y, uint64_t m,
                               uint64_t base, eg_dtype dtype, unsigned g,
                               eg_lane *out)
{
    slots sl;
    slots_init(&sl);
    memset(out, 0, sizeof *out);
    out->n = m;
    out->first_nan = EG_NONE_INDEX;
    double k = 0.0;
    int have_k = 0;
    for (uint64_t i = 0; i < m; i++) {
        int j = (int)(i & 7);
        double v = load_float(x, dtype, i);
        if (g & EG_G_DOT)
            careful_dot(&sl, out, j, v, load_float(y, dtype, i));
        if (isnan(v)) {
            if (out->nan_n++ == 0)
                out->first_nan = base + i;
            continue;
        }
        if (g & EG_G_MINMAX)
            careful_minmax(&sl, j, v, base + i);
        if (isinf(v)) {
            if (v > 0)
                out->pinf_n++;
            else
                out->ninf_n++;
            continue;
        }
        if (!have_k) {
            k = v;
            have_k = 1;
        }
        out->vn++;
        eg_twosum_acc(&sl.s[j], &sl.c[j], v);
        if (g & EG_G_VAR) {
            double d = v - k;
            sl.d1[j] = sl.d1[j] + d;
            sl.d2[j] = sl.d2[j] + d * d;
        }
        if (g & EG_G_L1)
            eg_twosum_acc(&sl.l1s[j], &sl.l1c[j], fabs(v));
        if (g & EG_G_L2)
            careful_l2(&sl, j, v);
    }
    combine_tree(&sl);
    out->sum_s = sl.s[0];
    out->sum_c = sl.c[0];
    out->k = k;
    out->d1 = sl.d1[0];
    out->d2 = sl.d2[0];
    out->min.f = sl.mn[0];
    out->max.f = sl.mx[0];
    out->argmin = (g & EG_G_MINMAX) ? sl.amn[0] : EG_NONE_INDEX;
    out->argmax = (g & EG_G_MINMAX) ? sl.amx[0] : EG_NONE_INDEX;
    out->l1_s = sl.l1s[0];
    out->l1_c = sl.l1c[0];
    out->l2_sml = sl.sml[0];
    out->l2_med = sl.med[0];
    out->l2_big = sl.big[0];
    out->dot_s = sl.ds[0];
    out->dot_c = sl.dc[0];
}

void eg_lane_careful(const void *x, const void *y, uint64_t m, uint64_t base,
                     eg_dtype dtype, unsigned g, eg_lane *out)
{
    if (eg_dtype_is_float(dtype)) {
        lane_careful_float(x, y, m, base, dtype, g, out);
        return;
    }
    /* Integers are always finite: the fast path is already careful. */
    uint64_t w[EG_LANE_WORDS];
    eg_lanes_fast(x, y, m, dtype, g, w);
    eg_lane_decode(w, dtype, g, out);
    if (g & EG_G_MINMAX) {
        out->argmin += base;
        out->argmax += base;
    }
}

void eg_chunk_state(const uint64_t *words, const void *x, const void *y,
                    uint64_t n, uint64_t offset, eg_dtype dtype, unsigned g,
                    eg_state *out)
{
    size_t sz = eg_dtype_size(dtype);
    eg_state_init(out, dtype, g);
    for (uint64_t l = 0; l < eg_lane_count(n); l++) {
        uint64_t base = l * EG_LANE_ELEMS;
        uint64_t m = n - base < EG_LANE_ELEMS ? n - base : EG_LANE_ELEMS;
        eg_lane lane;
        eg_state st;
        if (!eg_lane_decode(words + l * EG_LANE_WORDS, dtype, g, &lane))
            eg_lane_careful((const char *)x + base * sz,
                            y ? (const char *)y + base * sz : NULL, m, base,
                            dtype, g, &lane);
        eg_state_from_lane(&st, &lane, dtype, g, offset);
        eg_state_merge(out, &st);
    }
}
