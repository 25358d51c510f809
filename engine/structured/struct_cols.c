/* struct_cols.c - lane records of columns that lie side by side, read row
 * by row in place (--axis 0 on [N, C], and any plan whose outputs are
 * consecutive elements and whose segments step by one stride).
 *
 * The gathering path copies each column's lane (4096 rows) out before its
 * lanes run: C passes over a tile and a copy per element.  Here the lane's
 * arithmetic runs on the rows as they are.  Lane position t of a column
 * feeds slot t % 8, so one group of 8 rows holds, for every column, one
 * element of each slot: position i = slot * nb + column of the group is
 * one (slot, column) accumulator.  Where the columns fill the row (nb ==
 * the row stride) the group is 8 * nb consecutive elements, one run; else
 * it is 8 runs of nb (one per row).  Either way every accumulator sees its
 * slot's elements in increasing t, blocks of EG_LANE_BLOCK_ROWS rows
 * summed from +0.0 and added by TwoSum, the last partial block added to
 * every slot, as lanes.h says; each column's slots then go through
 * eg_float_lane_words (the combine tree, the record).  So every record has
 * the bits of eg_lanes_fast on that column's gathered lane.
 *
 * f64 with l2 keeps the gathering path: its records flag values outside
 * Blue's range from the lane's elements, which this pass does not hold. */
#include <math.h>
#include <string.h>

#include "lane_slots.h"
#include "lanes.h"
#include "struct_cols.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    !defined(__SANITIZE_ADDRESS__)
#define EG_COLS_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EG_COLS_HOT
#endif

#define S EG_LANE_SLOTS
#define BLK ((uint64_t)EG_LANE_BLOCK_ROWS)

typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

/* The accumulator arrays in the scratch, EG_COLS_POS doubles each. */
enum {
    A_S,
    A_C,
    A_D1,
    A_D2,
    A_MN,
    A_MX,
    A_AMN,
    A_AMX,
    A_L1S,
    A_L1C,
    A_MED,
    A_DS,
    A_DC,
    A_K,
    A_TIX,
    A_COUNT
};

size_t eg_struct_cols_scratch(void)
{
    return (size_t)A_COUNT * EG_COLS_POS * sizeof(double);
}

/* C-order steps of the axes in ax: 1 * s0, d_last * s0, ... (an axis of
 * length 1 steps anyhow). */
static int steps_as_c_order(const eg_struct_plan *p, const eg_struct_view *v,
                            const unsigned *ax, unsigned nax, uint64_t s0)
{
    uint64_t s = s0;
    for (unsigned k = nax; k-- > 0;) {
        unsigned d = ax[k];
        if (p->dim[d] > 1 && v->stride[d] != s)
            return 0;
        s *= p->dim[d];
    }
    return 1;
}

static int view_ok(const eg_struct_plan *p, const eg_struct_view *v,
                   uint64_t st)
{
    return !v->swap && (uintptr_t)v->base % p->size == 0 &&
           steps_as_c_order(p, v, p->keep, p->nkeep, 1) &&
           steps_as_c_order(p, v, p->red, p->nred, st);
}

uint64_t eg_struct_cols_stride(const eg_struct_plan *p, unsigned groups)
{
    if (p->by || p->nred == 0 || !eg_dtype_is_float(p->dtype) ||
        (groups & EG_G_EXACT) || (p->dtype == EG_F64 && (groups & EG_G_L2)))
        return 0;
    /* the stride of the last reduced axis of length > 1 (any, if none) */
    uint64_t st = 0;
    for (unsigned k = p->nred; k-- > 0 && st == 0;)
        if (p->dim[p->red[k]] > 1)
            st = p->x.stride[p->red[k]];
    if (st == 0)
        st = p->rest ? p->rest : 1;
    if (!view_ok(p, &p->x, st) || (p->has_y && !view_ok(p, &p->y, st)))
        return 0;
    if (p->has_y && memcmp(p->x.stride, p->y.stride, sizeof p->x.stride))
        return 0;
    return st;
}

/* Eight elements at q, as doubles; only the first `m` read (the rest +0.0):
 * a run's end may be the array's. */
#define LOADN(T, q, m, out)                                                    \
    do {                                                                       \
        if ((m) >= 8) {                                                        \
            T raw_[8];                                                         \
            memcpy(raw_, (q), sizeof raw_);                                    \
            for (int u_ = 0; u_ < 8; u_++)                                     \
                (out)[u_] = (double)raw_[u_];                                  \
        } else {                                                               \
            (out) = (v8d){0};                                                  \
            for (uint64_t u_ = 0; u_ < (m); u_++)                              \
                (out)[u_] = (double)(q)[u_];                                   \
        }                                                                      \
    } while (0)

#define VABS(v_) ((v8d)((v8l)(v_) & ((v8l){0} + INT64_MAX)))
#define VSEL(m_, a_, b_) ((v8d)(((v8l)(a_) & (m_)) | ((v8l)(b_) & ~(m_))))
#define VSELU(m_, a_, b_) ((v8u)(((v8l)(a_) & (m_)) | ((v8l)(b_) & ~(m_))))
#define LD(arr, i) (*(v8d *)(void *)&(arr)[i])
#define LDU(arr, i) (*(v8u *)(void *)&(arr)[i])

/* (s, c) += b (eg_twosum_acc). */
#define VTWOSUM_ACC(s_, c_, b_)                                                \
    do {                                                                       \
        v8d t_ = (s_) + (b_), z_ = t_ - (s_);                                  \
        (c_) = (c_) + (((s_) - (t_ - z_)) + ((b_)-z_));                        \
        (s_) = t_;                                                             \
    } while (0)

/* One block of EG_LANE_BLOCK_ROWS groups for the eight positions at pos
 * (v[r]: group r's values, w[r]: y's). */
#define BLOCK_STEP(g, v, w, pos, q0)                                           \
    do {                                                                       \
        v8d p_ = (v8d){0};                                                     \
        for (int r_ = 0; r_ < (int)BLK; r_++)                                  \
            p_ = p_ + v[r_];                                                   \
        v8d s_ = LD(a[A_S], pos), c_ = LD(a[A_C], pos);                        \
        VTWOSUM_ACC(s_, c_, p_);                                               \
        LD(a[A_S], pos) = s_;                                                  \
        LD(a[A_C], pos) = c_;                                                  \
        if ((g)&EG_G_VAR) {                                                    \
            v8d k_ = LD(a[A_K], pos), d1_ = LD(a[A_D1], pos),                  \
                d2_ = LD(a[A_D2], pos);                                        \
            for (int r_ = 0; r_ < (int)BLK; r_++) {                            \
                v8d d_ = v[r_] - k_;                                           \
                d1_ = d1_ + d_;                                                \
                d2_ = d2_ + d_ * d_;                                           \
            }                                                                  \
            LD(a[A_D1], pos) = d1_;                                            \
            LD(a[A_D2], pos) = d2_;                                            \
        }                                                                      \
        if ((g)&EG_G_MINMAX) {                                                 \
            const v8u none_ = (v8u){0} + EG_NONE_INDEX;                        \
            v8d mn_ = LD(a[A_MN], pos), mx_ = LD(a[A_MX], pos);                \
            v8u an_ = LDU(a[A_AMN], pos), ax_ = LDU(a[A_AMX], pos);            \
            v8u t_ = LDU(a[A_TIX], pos) + (uint64_t)(q0)*S;                    \
            for (int r_ = 0; r_ < (int)BLK; r_++, t_ += S) {                   \
                /* the equality's mask through memory: GCC 12 turns a      \
                 * vector compare ANDed with another into scalar code */   \
                v8l eq_ = v[r_] == mn_;                                        \
                __asm__("" : "+m"(eq_));                                       \
                v8l lt_ = (v[r_] < mn_) | (eq_ & (v8l)(an_ == none_));         \
                mn_ = VSEL(lt_, v[r_], mn_);                                   \
                an_ = VSELU(lt_, t_, an_);                                     \
                eq_ = v[r_] == mx_;                                            \
                __asm__("" : "+m"(eq_));                                       \
                v8l gt_ = (v[r_] > mx_) | (eq_ & (v8l)(ax_ == none_));         \
                mx_ = VSEL(gt_, v[r_], mx_);                                   \
                ax_ = VSELU(gt_, t_, ax_);                                     \
            }                                                                  \
            LD(a[A_MN], pos) = mn_;                                            \
            LD(a[A_MX], pos) = mx_;                                            \
            LDU(a[A_AMN], pos) = an_;                                          \
            LDU(a[A_AMX], pos) = ax_;                                          \
        }                                                                      \
        if ((g)&EG_G_L1) {                                                     \
            v8d q_ = (v8d){0};                                                 \
            for (int r_ = 0; r_ < (int)BLK; r_++)                              \
                q_ = q_ + VABS(v[r_]);                                         \
            v8d ls_ = LD(a[A_L1S], pos), lc_ = LD(a[A_L1C], pos);              \
            VTWOSUM_ACC(ls_, lc_, q_);                                         \
            LD(a[A_L1S], pos) = ls_;                                           \
            LD(a[A_L1C], pos) = lc_;                                           \
        }                                                                      \
        if ((g)&EG_G_L2) {                                                     \
            v8d m_ = LD(a[A_MED], pos);                                        \
            for (int r_ = 0; r_ < (int)BLK; r_++)                              \
                m_ = m_ + v[r_] * v[r_];                                       \
            LD(a[A_MED], pos) = m_;                                            \
        }                                                                      \
        if ((g)&EG_G_DOT) {                                                    \
            v8d q_ = (v8d){0};                                                 \
            for (int r_ = 0; r_ < (int)BLK; r_++)                              \
                q_ = q_ + v[r_] * w[r_];                                       \
            v8d ds_ = LD(a[A_DS], pos), dc_ = LD(a[A_DC], pos);                \
            VTWOSUM_ACC(ds_, dc_, q_);                                         \
            LD(a[A_DS], pos) = ds_;                                            \
            LD(a[A_DC], pos) = dc_;                                            \
        }                                                                      \
    } while (0)

/* Eight elements at q, as doubles. */
#define LOAD8(T, q, out)                                                       \
    do {                                                                       \
        T raw_[8];                                                             \
        memcpy(raw_, (q), sizeof raw_);                                        \
        for (int u_ = 0; u_ < 8; u_++)                                         \
            (out)[u_] = (double)raw_[u_];                                      \
    } while (0)

/* The positions [k, k + 8) of run r of block b, groups G (a constant where
 * the compiler should drop the others); m: the elements there (8 but at a
 * run's end). */
#define BLOCK_AT(T, G, m)                                                      \
    do {                                                                       \
        v8d v[BLK], w[BLK];                                                    \
        for (uint64_t q = 0; q < BLK; q++) {                                   \
            /* the next block's rows: runs a line or more apart outrun         \
             * the hardware prefetcher */                                      \
            if (far && b + 1 < blocks && (k * sizeof(T)) % 64 == 0)            \
                __builtin_prefetch(row + (q + BLK) * S * st + k);              \
            if ((m) >= 8)                                                      \
                LOAD8(T, row + q * S * st + k, v[q]);                          \
            else                                                               \
                LOADN(T, row + q * S * st + k, m, v[q]);                       \
            w[q] = (v8d){0};                                                   \
            if ((G)&EG_G_DOT)                                                  \
                LOADN(T, yrow + q * S * st + k, m, w[q]);                      \
        }                                                                      \
        BLOCK_STEP(G, v, w, r *wp + k, b * BLK);                               \
    } while (0)

/* The whole blocks of a lane for groups G. */
#define BLOCKS(T, G)                                                           \
    for (uint64_t b = 0; b < blocks; b++)                                      \
        for (uint64_t r = 0; r < runs; r++) {                                  \
            const T *row = x + (b * BLK * S + r) * st;                         \
            const T *yrow = y ? y + (b * BLK * S + r) * st : NULL;             \
            (void)yrow;                                                        \
            uint64_t k = 0;                                                    \
            for (; k + 8 <= wd; k += 8)                                        \
                BLOCK_AT(T, G, 8u);                                            \
            if (k < wd)                                                        \
                BLOCK_AT(T, G, wd - k);                                        \
        }

/* One lane (n rows from x, y) of nb columns into the accumulators a[]
 * (positions: `runs` runs of width wd, padded to wp; the slot of each
 * position in a[A_TIX]). */
#define DEFINE_COLS_PASS(T, SFX)                                               \
    EG_COLS_HOT static void pass_##SFX(                                        \
        const T *x, const T *y, uint64_t st, uint64_t n, uint64_t runs,        \
        uint64_t wd, uint64_t wp, unsigned g, double *const *a)                \
    {                                                                          \
        uint64_t groups = n / S, blocks = groups / BLK;                        \
        int far = st * sizeof(T) >= 64; /* rows of a line or more */           \
        if (g == 0) {                   /* the sum alone */                    \
            BLOCKS(T, 0u)                                                      \
        } else {                                                               \
            BLOCKS(T, g)                                                       \
        }                                                                      \
        /* The last, partial block, position by position. */                   \
        uint64_t q0 = blocks * BLK * S;                                        \
        if (q0 == n)                                                           \
            return;                                                            \
        for (uint64_t r = 0; r < runs; r++)                                    \
            for (uint64_t k = 0; k < wd; k++) {                                \
                uint64_t pos = r * wp + k, slot;                               \
                memcpy(&slot, &a[A_TIX][pos], sizeof slot);                    \
                double pe = 0.0, pl = 0.0, pd = 0.0;                           \
                for (uint64_t t = q0 + slot; t < n; t += S) {                  \
                    /* row t's element of this position */                     \
                    uint64_t at = (t - slot + r) * st + k;                     \
                    double v = (double)x[at];                                  \
                    pe = pe + v;                                               \
                    if (g & EG_G_VAR) {                                        \
                        double d = v - a[A_K][pos];                            \
                        a[A_D1][pos] = a[A_D1][pos] + d;                       \
                        a[A_D2][pos] = a[A_D2][pos] + d * d;                   \
                    }                                                          \
                    if (g & EG_G_MINMAX) {                                     \
                        uint64_t an, ax;                                       \
                        memcpy(&an, &a[A_AMN][pos], sizeof an);                \
                        memcpy(&ax, &a[A_AMX][pos], sizeof ax);                \
                        if (v < a[A_MN][pos] ||                                \
                            (v == a[A_MN][pos] && an == EG_NONE_INDEX)) {      \
                            a[A_MN][pos] = v;                                  \
                            memcpy(&a[A_AMN][pos], &t, sizeof t);              \
                        }                                                      \
                        if (v > a[A_MX][pos] ||                                \
                            (v == a[A_MX][pos] && ax == EG_NONE_INDEX)) {      \
                            a[A_MX][pos] = v;                                  \
                            memcpy(&a[A_AMX][pos], &t, sizeof t);              \
                        }                                                      \
                    }                                                          \
                    if (g & EG_G_L1)                                           \
                        pl = pl + fabs(v);                                     \
                    if (g & EG_G_L2)                                           \
                        a[A_MED][pos] = a[A_MED][pos] + v * v;                 \
                    if (g & EG_G_DOT)                                          \
                        pd = pd + v * (double)y[at];                           \
                }                                                              \
                eg_twosum_acc(&a[A_S][pos], &a[A_C][pos], pe);                 \
                if (g & EG_G_L1)                                               \
                    eg_twosum_acc(&a[A_L1S][pos], &a[A_L1C][pos], pl);         \
                if (g & EG_G_DOT)                                              \
                    eg_twosum_acc(&a[A_DS][pos], &a[A_DC][pos], pd);           \
            }                                                                  \
    }

DEFINE_COLS_PASS(float, f32)
DEFINE_COLS_PASS(double, f64)

void eg_struct_cols_lanes(const eg_struct_plan *p, unsigned g, uint64_t st,
                          uint64_t e0, uint64_t nb, uint64_t p0, uint64_t n,
                          void *scratch, uint64_t *words)
{
    /* Columns that fill the row make one run of 8 * nb; others 8 runs. */
    uint64_t runs = st == nb ? 1 : S, wd = st == nb ? S * nb : nb;
    uint64_t wp = (wd + 7) / 8 * 8;
    double *a[A_COUNT];
    for (int i = 0; i < A_COUNT; i++)
        a[i] = (double *)scratch + (size_t)i * EG_COLS_POS;
    size_t sz = p->size;
    const unsigned char *xb = p->x.base + (e0 + p0 * st) * sz;
    const unsigned char *yb =
        (g & EG_G_DOT) ? p->y.base + (e0 + p0 * st) * sz : NULL;
    uint64_t np = runs * wp;
    for (uint64_t pos = 0; pos < np; pos++) {
        uint64_t r = pos / wp, k = pos % wp;
        uint64_t slot = runs == 1 ? k / nb : r, col = runs == 1 ? k % nb : k;
        uint64_t none = EG_NONE_INDEX;
        a[A_S][pos] = a[A_C][pos] = 0.0;
        memcpy(&a[A_TIX][pos], &slot, sizeof slot);
        if (g & EG_G_VAR) {
            a[A_D1][pos] = a[A_D2][pos] = 0.0;
            col = col < nb ? col : 0;
            a[A_K][pos] = p->dtype == EG_F32
                              ? (double)((const float *)(const void *)xb)[col]
                              : ((const double *)(const void *)xb)[col];
        }
        if (g & EG_G_MINMAX) {
            a[A_MN][pos] = INFINITY;
            a[A_MX][pos] = -INFINITY;
            memcpy(&a[A_AMN][pos], &none, sizeof none);
            memcpy(&a[A_AMX][pos], &none, sizeof none);
        }
        if (g & EG_G_L1)
            a[A_L1S][pos] = a[A_L1C][pos] = 0.0;
        if (g & EG_G_L2)
            a[A_MED][pos] = 0.0;
        if (g & EG_G_DOT)
            a[A_DS][pos] = a[A_DC][pos] = 0.0;
    }
    if (p->dtype == EG_F32)
        pass_f32((const float *)(const void *)xb,
                 (const float *)(const void *)yb, st, n, runs, wd, wp, g, a);
    else
        pass_f64((const double *)(const void *)xb,
                 (const double *)(const void *)yb, st, n, runs, wd, wp, g, a);
    for (uint64_t col = 0; col < nb; col++) {
        slots sl;
        slots_init(&sl);
        double k = 0.0;
        for (int j = 0; j < S; j++) {
            uint64_t pos =
                runs == 1 ? (uint64_t)j * nb + col : (uint64_t)j * wp + col;
            sl.s[j] = a[A_S][pos];
            sl.c[j] = a[A_C][pos];
            if (g & EG_G_VAR) {
                sl.d1[j] = a[A_D1][pos];
                sl.d2[j] = a[A_D2][pos];
                k = a[A_K][pos];
            }
            if (g & EG_G_MINMAX) {
                sl.mn[j] = a[A_MN][pos];
                sl.mx[j] = a[A_MX][pos];
                memcpy(&sl.amn[j], &a[A_AMN][pos], sizeof sl.amn[j]);
                memcpy(&sl.amx[j], &a[A_AMX][pos], sizeof sl.amx[j]);
            }
            if (g & EG_G_L1) {
                sl.l1s[j] = a[A_L1S][pos];
                sl.l1c[j] = a[A_L1C][pos];
            }
            if (g & EG_G_L2)
                sl.med[j] = a[A_MED][pos];
            if (g & EG_G_DOT) {
                sl.ds[j] = a[A_DS][pos];
                sl.dc[j] = a[A_DC][pos];
            }
        }
        if (!(g & EG_G_VAR))
            k = p->dtype == EG_F32
                    ? (double)((const float *)(const void *)xb)[col]
                    : ((const double *)(const void *)xb)[col];
        /* This pass keeps the sum even without EG_G_NO_SUM's ops, so its
         * slots say what the lane scan would (lanes.h) */
        if (EG_LANE_CHECKS_ITSELF(g))
            for (int j = 0; j < S; j++)
                if (!isfinite(sl.s[j]) || !isfinite(sl.c[j]))
                    sl.flags = EG_LANE_NEEDS_CAREFUL;
        /* no lane elements needed: f64 with l2 never comes here */
        eg_float_lane_words(&sl, g, k, NULL, p->dtype, n,
                            words + col * EG_LANE_WORDS);
    }
}
