/* lanes_fast.c - the fast path of the canonical lane on the host (lanes.h),
 * the reference every kernel matches bit for bit.
 *
 * Each accumulator group is one pass over the lane: the lane (16 or 32 KiB)
 * stays in L1, and each pass is a loop over rows of 8 elements whose inner
 * loop runs across the 8 slots, which the compiler turns into vector code.
 * A slot sees its elements in increasing order whatever the vector width,
 * so the bits do not depend on the instruction set the clone picked.
 * On x86 CPUs with AVX-512 (or else AVX2 and FMA), full float lanes take
 * the one-pass code of lanes_avx512.c (lanes_avx2.c) instead, with the
 * same bits; this file stays the reference and serves partial lanes,
 * integers and other CPUs. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lane_slots.h"
#include "lanes.h"

__extension__ typedef __int128 eg_i128;
__extension__ typedef unsigned __int128 eg_u128;

/* Vector clones picked at load time by the CPU's features. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&       \
    !defined(__SANITIZE_ADDRESS__)
#define EG_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
/* GCC 12 cannot lower a 512-bit vector compare for AVX2 (internal compiler
 * error), so the select passes skip that clone. */
#define EG_HOT_SELECT __attribute__((target_clones("avx512f", "default")))
#else
#define EG_HOT
#define EG_HOT_SELECT
#endif

#define S EG_LANE_SLOTS

/* Eight slots are one vector of doubles; GCC lowers the generic vectors to
 * one zmm, two ymm or four xmm registers, element by element IEEE.  Only
 * macros touch vector values: vector-valued functions would change the ABI
 * between the clones. */
typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));

#define DEFINE_VEC_TYPE(T, SFX)                                              \
    typedef T v8_##SFX __attribute__((vector_size(8 * sizeof(T))));
DEFINE_VEC_TYPE(float, f32)
DEFINE_VEC_TYPE(double, f64)
DEFINE_VEC_TYPE(int8_t, i8)
DEFINE_VEC_TYPE(uint8_t, u8)
DEFINE_VEC_TYPE(int16_t, i16)
DEFINE_VEC_TYPE(uint16_t, u16)
DEFINE_VEC_TYPE(int32_t, i32)
DEFINE_VEC_TYPE(uint32_t, u32)
DEFINE_VEC_TYPE(int64_t, i64)
DEFINE_VEC_TYPE(uint64_t, u64)

/* out = eight elements at p, as doubles. */
#define VLOAD(SFX, p, out)                                                   \
    do {                                                                     \
        v8_##SFX raw_;                                                       \
        memcpy(&raw_, (p), sizeof raw_);                                     \
        (out) = __builtin_convertvector(raw_, v8d);                          \
    } while (0)

/* TwoSum of every slot: (s, c) += v. */
#define VTWOSUM(vs, vc, v)                                                   \
    do {                                                                     \
        v8d t_ = (vs) + (v), z_ = t_ - (vs);                                 \
        (vc) = (vc) + (((vs) - (t_ - z_)) + ((v) - z_));                     \
        (vs) = t_;                                                           \
    } while (0)

/* |v|: clear the sign bits. */
#define VABS(v) ((v8d)((v8l)(v) & ((v8l){0} + INT64_MAX)))

/* The passes below work on LN lanes at once (lane l at x + l * stride):
 * every slot's chain is one add per row, so independent lanes are what
 * keeps the adders busy.  Each slot still sees its elements in order. */

/* A compensated pass: (s, c) += f(x[i]) (or f(x[i], y[i])) slot by slot,
 * in blocks of EG_LANE_BLOCK_ROWS rows: a block's values are summed plainly
 * from +0.0, then the block sum goes into (s, c) by TwoSum (lanes.h).
 * VEXPR maps the row vectors v (and w) to what is added, SEXPR the tail's
 * scalars e (and f).  S_ and C_ name the slots' pair (s/c, l1s/l1c, ds/dc). */
#define DEFINE_TWOSUM_PASS(NAME, T, SFX, LN, HAS_Y, S_, C_, VEXPR, SEXPR)   \
    EG_HOT static void NAME(const T *x, const T *y, uint64_t m,              \
                            slots *sl)                                       \
    {                                                                        \
        v8d vs[LN], vc[LN], p[LN], v, w = {0};                               \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(&vs[l], sl[l].S_, sizeof vs[l]);                          \
            memcpy(&vc[l], sl[l].C_, sizeof vc[l]);                          \
        }                                                                    \
        const uint64_t blk = (uint64_t)EG_LANE_BLOCK_ROWS * S;               \
        uint64_t i = 0;                                                      \
        for (; i + blk <= m; i += blk) {                                     \
            for (int l = 0; l < LN; l++)                                     \
                p[l] = (v8d){0};                                             \
            for (int r = 0; r < EG_LANE_BLOCK_ROWS; r++)                     \
                for (int l = 0; l < LN; l++) {                               \
                    uint64_t at = (uint64_t)l * EG_LANE_ELEMS + i + r * S;   \
                    VLOAD(SFX, x + at, v);                                   \
                    if (HAS_Y)                                               \
                        VLOAD(SFX, y + at, w);                               \
                    v = VEXPR;                                               \
                    p[l] = p[l] + v;                                         \
                }                                                            \
            for (int l = 0; l < LN; l++)                                     \
                VTWOSUM(vs[l], vc[l], p[l]);                                 \
        }                                                                    \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(sl[l].S_, &vs[l], sizeof vs[l]);                          \
            memcpy(sl[l].C_, &vc[l], sizeof vc[l]);                          \
            if (i == m)                                                      \
                continue;                                                    \
            /* The last, partial block: rows and the partial row. */        \
            double pe[S] = {0};                                              \
            for (uint64_t t = i; t < m; t++) {                               \
                double e = (double)x[l * EG_LANE_ELEMS + t];                 \
                double f = HAS_Y ? (double)y[l * EG_LANE_ELEMS + t] : 0.0;   \
                (void)f;                                                     \
                pe[t % S] = pe[t % S] + SEXPR;                               \
            }                                                                \
            for (int j = 0; j < S; j++)                                      \
                eg_twosum_acc(&sl[l].S_[j], &sl[l].C_[j], pe[j]);            \
        }                                                                    \
        (void)w;                                                             \
    }

#define DEFINE_PASSES(T, SFX, LN)                                            \
    DEFINE_TWOSUM_PASS(pass_dot_##SFX##_##LN, T, SFX, LN, 1, ds, dc, v * w,  \
                       e * f)                                                \
    EG_HOT static void pass_var_##SFX##_##LN(const T *x, uint64_t m,         \
                                             const double *k, slots *sl)     \
    {                                                                        \
        v8d a[LN], b[LN], vk[LN], v;                                         \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(&a[l], sl[l].d1, sizeof a[l]);                            \
            memcpy(&b[l], sl[l].d2, sizeof b[l]);                            \
            vk[l] = (v8d){0} + k[l];                                         \
        }                                                                    \
        uint64_t i = 0;                                                      \
        for (; i + S <= m; i += S)                                           \
            for (int l = 0; l < LN; l++) {                                   \
                VLOAD(SFX, x + l * EG_LANE_ELEMS + i, v);                    \
                v = v - vk[l];                                               \
                a[l] = a[l] + v;                                             \
                b[l] = b[l] + v * v;                                         \
            }                                                                \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(sl[l].d1, &a[l], sizeof a[l]);                            \
            memcpy(sl[l].d2, &b[l], sizeof b[l]);                            \
            for (uint64_t t = i; t < m; t++) {                               \
                double d = (double)x[l * EG_LANE_ELEMS + t] - k[l];          \
                sl[l].d1[t - i] = sl[l].d1[t - i] + d;                       \
                sl[l].d2[t - i] = sl[l].d2[t - i] + d * d;                   \
            }                                                                \
        }                                                                    \
    }                                                                        \
    EG_HOT static void pass_ssq_##SFX##_##LN(const T *x, uint64_t m,         \
                                             slots *sl)                      \
    {                                                                        \
        v8d a[LN], v;                                                        \
        for (int l = 0; l < LN; l++)                                         \
            memcpy(&a[l], sl[l].med, sizeof a[l]);                           \
        uint64_t i = 0;                                                      \
        for (; i + S <= m; i += S)                                           \
            for (int l = 0; l < LN; l++) {                                   \
                VLOAD(SFX, x + l * EG_LANE_ELEMS + i, v);                    \
                a[l] = a[l] + v * v;                                         \
            }                                                                \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(sl[l].med, &a[l], sizeof a[l]);                           \
            for (uint64_t t = i; t < m; t++) {                               \
                double e = (double)x[l * EG_LANE_ELEMS + t];                 \
                sl[l].med[t - i] = sl[l].med[t - i] + e * e;                 \
            }                                                                \
        }                                                                    \
    }

/* Slot j keeps its first extreme: strict compares, so a later equal value
 * never replaces it, except while the slot has no element (the start +inf
 * or -inf itself is a value, lanes.h); the combine tree breaks ties between
 * slots by index.  Only finite lanes keep these words (others go careful),
 * but the rule is the same everywhere.  "No element" is an index with the
 * sign bit (only EG_NONE_INDEX has it), so index >> 63 is the lane mask
 * (a compare of the index vectors crashes GCC 12's default clone).
 * Values travel as their bits (finite doubles: a blend of bits is exact). */
#define DEFINE_MINMAX_PASS(T, SFX, LN)                                       \
    EG_HOT_SELECT static void pass_minmax_##SFX##_##LN(                      \
        const T *x, uint64_t m, uint64_t base, slots *sl)                    \
    {                                                                        \
        v8l mn[LN], mx[LN], an[LN], ax[LN], idx[LN], vb, lt, gt;             \
        v8d v, cur;                                                          \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(&mn[l], sl[l].mn, sizeof mn[l]);                          \
            memcpy(&mx[l], sl[l].mx, sizeof mx[l]);                          \
            memcpy(&an[l], sl[l].amn, sizeof an[l]);                         \
            memcpy(&ax[l], sl[l].amx, sizeof ax[l]);                         \
            idx[l] = (v8l){0, 1, 2, 3, 4, 5, 6, 7} +                         \
                     (int64_t)(base + (uint64_t)l * EG_LANE_ELEMS);          \
        }                                                                    \
        uint64_t i = 0;                                                      \
        for (; i + S <= m; i += S)                                           \
            for (int l = 0; l < LN; l++) {                                   \
                VLOAD(SFX, x + l * EG_LANE_ELEMS + i, v);                    \
                memcpy(&vb, &v, sizeof vb);                                  \
                memcpy(&cur, &mn[l], sizeof cur);                            \
                lt = (v < cur) | ((v == cur) & (an[l] >> 63));             \
                mn[l] = (vb & lt) | (mn[l] & ~lt);                           \
                an[l] = (idx[l] & lt) | (an[l] & ~lt);                       \
                memcpy(&cur, &mx[l], sizeof cur);                            \
                gt = (v > cur) | ((v == cur) & (ax[l] >> 63));             \
                mx[l] = (vb & gt) | (mx[l] & ~gt);                           \
                ax[l] = (idx[l] & gt) | (ax[l] & ~gt);                       \
                idx[l] += S;                                                 \
            }                                                                \
        for (int l = 0; l < LN; l++) {                                       \
            memcpy(sl[l].mn, &mn[l], sizeof mn[l]);                          \
            memcpy(sl[l].mx, &mx[l], sizeof mx[l]);                          \
            memcpy(sl[l].amn, &an[l], sizeof an[l]);                         \
            memcpy(sl[l].amx, &ax[l], sizeof ax[l]);                         \
            uint64_t b = base + (uint64_t)l * EG_LANE_ELEMS;                 \
            for (uint64_t t = i; t < m; t++) {                               \
                double e = (double)x[l * EG_LANE_ELEMS + t];                 \
                int j = (int)(t - i);                                        \
                if (e < sl[l].mn[j] || (e == sl[l].mn[j] &&                  \
                                        sl[l].amn[j] == EG_NONE_INDEX)) {    \
                    sl[l].mn[j] = e;                                         \
                    sl[l].amn[j] = b + t;                                    \
                }                                                            \
                if (e > sl[l].mx[j] || (e == sl[l].mx[j] &&                  \
                                        sl[l].amx[j] == EG_NONE_INDEX)) {    \
                    sl[l].mx[j] = e;                                         \
                    sl[l].amx[j] = b + t;                                    \
                }                                                            \
            }                                                                \
        }                                                                    \
    }

#define DEFINE_FLOAT_PASSES(T, SFX, LN)                                      \
    DEFINE_TWOSUM_PASS(pass_sum_##SFX##_##LN, T, SFX, LN, 0, s, c, v, e)     \
    DEFINE_TWOSUM_PASS(pass_abs_##SFX##_##LN, T, SFX, LN, 0, l1s, l1c,       \
                       VABS(v), fabs(e))                                     \
    DEFINE_PASSES(T, SFX, LN)                                                \
    DEFINE_MINMAX_PASS(T, SFX, LN)

#define LANE_BLOCK 4

DEFINE_FLOAT_PASSES(float, f32, 1)
DEFINE_FLOAT_PASSES(float, f32, 4)
DEFINE_FLOAT_PASSES(double, f64, 1)
DEFINE_FLOAT_PASSES(double, f64, 4)

/* f64 values whose squares leave Blue's middle range need the careful path
 * for l2 (f32 values never do).  On the magnitudes' bits, which order as
 * the magnitudes do: b - 1 wraps for zero, so zeros never count as small. */
EG_HOT static int f64_outside_blue_range(const double *x, uint64_t m)
{
    uint64_t big, small;
    const double tbig = EG_BLUE_TBIG, tsml = EG_BLUE_TSML;
    memcpy(&big, &tbig, sizeof big);
    memcpy(&small, &tsml, sizeof small);
    uint64_t out = 0;
    for (uint64_t i = 0; i < m; i++) {
        uint64_t b;
        memcpy(&b, &x[i], sizeof b);
        b &= INT64_MAX;
        out |= (uint64_t)(b > big) | (uint64_t)(b - 1 < small - 1);
    }
    return out != 0;
}

/* Whether a float lane holds NaN or an infinity, for EG_LANE_CHECKS_ITSELF
 * (lanes_avx512.c checks its full lanes in its one pass instead).  On the
 * magnitudes' bits: non-finite ones are the largest. */
#define DEFINE_NON_FINITE(T, U, SFX, INF_BITS)                               \
    EG_HOT static int non_finite_##SFX(const T *x, uint64_t m)               \
    {                                                                        \
        U top = 0;                                                           \
        for (uint64_t i = 0; i < m; i++) {                                   \
            U b;                                                             \
            memcpy(&b, &x[i], sizeof b);                                     \
            b &= (U)~((U)1 << (8 * sizeof(U) - 1));                          \
            top = b > top ? b : top;                                         \
        }                                                                    \
        return top >= (INF_BITS);                                            \
    }
DEFINE_NON_FINITE(float, uint32_t, f32, 0x7f800000u)
DEFINE_NON_FINITE(double, uint64_t, f64, 0x7ff0000000000000u)

/* The record of one float lane from its slots. */
void eg_float_lane_words(slots *sl, unsigned g, double k, const void *lane,
                         eg_dtype dtype, uint64_t m, uint64_t *w)
{
    combine_tree(sl, g);
    memset(w, 0, EG_LANE_WORDS * sizeof *w);
    w[EG_W_FLAGS] = sl->flags;
    if (!(g & EG_G_NO_SUM)) {
        w[EG_W_SUM_S] = dbits(sl->s[0]);
        w[EG_W_SUM_C] = dbits(sl->c[0]);
    }
    if (g & EG_G_MINMAX) {
        w[EG_W_MIN] = dbits(sl->mn[0]);
        w[EG_W_MAX] = dbits(sl->mx[0]);
        w[EG_W_ARGMIN] = sl->amn[0];
        w[EG_W_ARGMAX] = sl->amx[0];
    }
    if (g & EG_G_L1) {
        w[EG_W_L1_S] = dbits(sl->l1s[0]);
        w[EG_W_L1_C] = dbits(sl->l1c[0]);
    }
    put_double_words(sl, g, k, w);
    w[EG_W_COUNT] = m;
    if (dtype == EG_F64 && (g & EG_G_L2) && f64_outside_blue_range(lane, m))
        w[EG_W_FLAGS] = EG_LANE_NEEDS_CAREFUL;
}

/* LN lanes of m elements each (m < EG_LANE_ELEMS only when LN == 1). */
#define DEFINE_FLOAT_BLOCK(T, SFX, LN, DT)                                   \
    static void block_fast_##SFX##_##LN(const T *x, const T *y, uint64_t m,  \
                                        uint64_t base, unsigned g,           \
                                        uint64_t *w)                         \
    {                                                                        \
        slots sl[LN];                                                        \
        double k[LN];                                                        \
        for (int l = 0; l < LN; l++) {                                       \
            slots_init(&sl[l]);                                              \
            k[l] = (double)x[l * EG_LANE_ELEMS];                             \
        }                                                                    \
        if (!(g & EG_G_NO_SUM))                                              \
            pass_sum_##SFX##_##LN(x, NULL, m, sl);                           \
        if (g & EG_G_VAR)                                                    \
            pass_var_##SFX##_##LN(x, m, k, sl);                              \
        if (g & EG_G_MINMAX)                                                 \
            pass_minmax_##SFX##_##LN(x, m, base, sl);                        \
        if (EG_LANE_CHECKS_ITSELF(g))                                        \
            for (int l = 0; l < LN; l++)                                     \
                if (non_finite_##SFX(x + l * EG_LANE_ELEMS, m))              \
                    sl[l].flags = EG_LANE_NEEDS_CAREFUL;                     \
        if (g & EG_G_L1)                                                     \
            pass_abs_##SFX##_##LN(x, NULL, m, sl);                           \
        if (g & EG_G_L2)                                                     \
            pass_ssq_##SFX##_##LN(x, m, sl);                                 \
        if (g & EG_G_DOT)                                                    \
            pass_dot_##SFX##_##LN(x, y, m, sl);                              \
        for (int l = 0; l < LN; l++)                                         \
            eg_float_lane_words(&sl[l], g, k[l], x + l * EG_LANE_ELEMS,      \
                                DT, m, w + l * EG_LANE_WORDS);               \
    }

DEFINE_FLOAT_BLOCK(float, f32, 1, EG_F32)
DEFINE_FLOAT_BLOCK(float, f32, 4, EG_F32)
DEFINE_FLOAT_BLOCK(double, f64, 1, EG_F64)
DEFINE_FLOAT_BLOCK(double, f64, 4, EG_F64)

/* -------------------------------------------------------- integer lanes */

/* |x| of an integer given as its bits zero-extended from `size` bytes. */
static inline uint64_t abs_bits(int is_signed, uint64_t bits, size_t size)
{
    uint64_t sign = (uint64_t)1 << (8 * size - 1);
    if (!is_signed || !(bits & sign))
        return bits;
    uint64_t mask = size == 8 ? UINT64_MAX : (sign << 1) - 1;
    return (~bits + 1) & mask; /* two's complement negation, exact */
}

/* Integer sums and extremes are exact, so their order is free; the double
 * accumulators (var, l2, dot) follow the slot order like the floats'. */
#define DEFINE_INT_LANE(T, UT, SFX, SIGNED)                                  \
    DEFINE_PASSES(T, SFX, 1)                                                 \
    static void lane_fast_##SFX(const T *x, const T *y, uint64_t m,          \
                                uint64_t base, unsigned g, uint64_t *w)      \
    {                                                                        \
        slots sl;                                                            \
        slots_init(&sl);                                                     \
        double k = (double)x[0];                                             \
        eg_i128 sum = 0;                                                     \
        eg_u128 l1 = 0;                                                      \
        T mn = x[0], mx = x[0];                                              \
        uint64_t amn = 0, amx = 0;                                           \
        if (!(g & EG_G_NO_SUM))                                              \
            for (uint64_t i = 0; i < m; i++)                                 \
                sum += (eg_i128)x[i];                                        \
        if (g & EG_G_L1)                                                     \
            for (uint64_t i = 0; i < m; i++)                                 \
                l1 += abs_bits(SIGNED, (uint64_t)(UT)x[i], sizeof(T));       \
        if (g & EG_G_MINMAX)                                                 \
            for (uint64_t i = 0; i < m; i++) {                               \
                if (x[i] < mn) {                                             \
                    mn = x[i];                                               \
                    amn = i;                                                 \
                }                                                            \
                if (x[i] > mx) {                                             \
                    mx = x[i];                                               \
                    amx = i;                                                 \
                }                                                            \
            }                                                                \
        if (g & EG_G_VAR)                                                    \
            pass_var_##SFX##_1(x, m, &k, &sl);                               \
        if (g & EG_G_L2)                                                     \
            pass_ssq_##SFX##_1(x, m, &sl);                                   \
        if (g & EG_G_DOT)                                                    \
            pass_dot_##SFX##_1(x, y, m, &sl);                                \
        combine_tree(&sl, g);                                                \
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

DEFINE_INT_LANE(int8_t, uint8_t, i8, 1)
DEFINE_INT_LANE(uint8_t, uint8_t, u8, 0)
DEFINE_INT_LANE(int16_t, uint16_t, i16, 1)
DEFINE_INT_LANE(uint16_t, uint16_t, u16, 0)
DEFINE_INT_LANE(int32_t, uint32_t, i32, 1)
DEFINE_INT_LANE(uint32_t, uint32_t, u32, 0)
DEFINE_INT_LANE(int64_t, uint64_t, i64, 1)
DEFINE_INT_LANE(uint64_t, uint64_t, u64, 0)

#define INT_CASE(DT, SFX, T)                                                 \
    case DT:                                                                 \
        lane_fast_##SFX((const T *)x + off, y ? (const T *)y + off : NULL,   \
                        m, off, g, w);                                       \
        return 1;

/* One lane of an integer dtype; 0 for the float dtypes. */
static int int_lane(const void *x, const void *y, uint64_t off, uint64_t m,
                    eg_dtype dtype, unsigned g, uint64_t *w)
{
    switch (dtype) {
        INT_CASE(EG_I8, i8, int8_t)
        INT_CASE(EG_U8, u8, uint8_t)
        INT_CASE(EG_I16, i16, int16_t)
        INT_CASE(EG_U16, u16, uint16_t)
        INT_CASE(EG_I32, i32, int32_t)
        INT_CASE(EG_U32, u32, uint32_t)
        INT_CASE(EG_I64, i64, int64_t)
        INT_CASE(EG_U64, u64, uint64_t)
    default:
        return 0;
    }
}

#define FLOAT_BLOCKS(T, SFX)                                                   \
    do {                                                                       \
        const T *xt = x, *yt = y;                                              \
        l = eg_lanes_avx512(x, y, full, dtype, g, words);                      \
        if (l == 0)                                                            \
            l = eg_lanes_avx2(x, y, full, dtype, g, words);                    \
        for (; l + LANE_BLOCK <= full; l += LANE_BLOCK)                        \
            block_fast_##SFX##_4(xt + l * EG_LANE_ELEMS,                       \
                                 yt ? yt + l * EG_LANE_ELEMS : NULL,           \
                                 EG_LANE_ELEMS, l * EG_LANE_ELEMS, g,          \
                                 words + l * EG_LANE_WORDS);                   \
        for (; l < lanes; l++) {                                               \
            uint64_t off = l * EG_LANE_ELEMS;                                  \
            block_fast_##SFX##_1(xt + off, yt ? yt + off : NULL,               \
                                 n - off < EG_LANE_ELEMS ? n - off             \
                                                         : EG_LANE_ELEMS,      \
                                 off, g, words + l * EG_LANE_WORDS);           \
        }                                                                      \
    } while (0)

void eg_lanes_fast(const void *x, const void *y, uint64_t n, eg_dtype dtype,
                   unsigned g, uint64_t *words)
{
    uint64_t lanes = eg_lane_count(n), full = n / EG_LANE_ELEMS, l = 0;
    if (dtype == EG_F32) {
        FLOAT_BLOCKS(float, f32);
        return;
    }
    if (dtype == EG_F64) {
        FLOAT_BLOCKS(double, f64);
        return;
    }
    for (; l < lanes; l++) {
        uint64_t off = l * EG_LANE_ELEMS;
        uint64_t m = n - off < EG_LANE_ELEMS ? n - off : EG_LANE_ELEMS;
        uint64_t *w = words + l * EG_LANE_WORDS;
        if (!int_lane(x, y, off, m, dtype, g, w))
            memset(w, 0, EG_LANE_WORDS * sizeof *w);
    }
}
