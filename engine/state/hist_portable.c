/* hist_portable.c - numpy's bin index of float32 data in float32 bins (8
 * values at a time) and of float64 data (4 at a time) in GCC's generic
 * vectors (hist.h), for the CPUs the AVX-512 code (hist_avx512.c) does not
 * serve: AVX2 through the x86-64-v3 clone, SSE2 by default, NEON on ARM
 * hosts.
 *
 * The scalar loops (hist.c) took 2.6 ns a value in cache on an Intel Xeon
 * with its vectors turned off: a chain of compares and branches per
 * value.  Here the range test, (x - first) * norm, the clamp and the
 * truncation go a vector at once in the bin dtype's arithmetic (each
 * operation rounds once, as the scalar code's and numpy's ufuncs do).  The
 * two corrections against the edges need a table look-up, and can only
 * fire for a position within the edge margin (eg_hist_edge_margin) of a
 * bin's end: a block with such a lane, or with a value outside the range
 * (or NaN), goes to the scalar loop whole, so every count is the scalar
 * rule's.  The counter indexes wait in a queue; with few bins each lane
 * counts into copy lane % 4 of its bin (hist_spread.h), as the AVX-512
 * code does, so that neighbouring values of one bin do not wait on each
 * other's stores. */
#include <stdint.h>
#include <string.h>

#include "hist.h"
#include "hist_spread.h"
#include "portable_vec.h"
#include "read_ahead.h"

#if defined(EG_PORTABLE_VEC)

/* Lane-wise M ? A : B of float vectors VF with masks VM, by their bits. */
#define PICK(VF, VM, M, A, B) ((VF)(((M) & (VM)(A)) | (~(M) & (VM)(B))))

/* The counter indexes of whole blocks wait in a queue, counted in a plain
 * loop when it fills: a load and an increment a value, where taking each
 * index out of the vector in the block's own loop cost more (as in
 * hist_avx512.c). */
#define QUEUE_LEN 2048u

static void queue_count(uint64_t *counts, uint32_t *c, const uint32_t *q,
                        unsigned n)
{
    if (c)
        for (unsigned i = 0; i < n; i++)
            c[q[i]]++;
    else
        for (unsigned i = 0; i < n; i++)
            counts[q[i]]++;
}

/* The plan's numbers in the data's type T, for POSITIONS. */
#define BIN_CONSTS(T)                                                          \
    const T cf = (T)p->cfirst, cl = (T)p->clast;                               \
    const T sf = (T)p->sfirst, nf = (T)p->norm, nbf = (T)p->nbins;             \
    const T mg = (T)eg_hist_edge_margin(p)

/* The truncated positions J (VI) of the values X (VF, masks VM) in the
 * plan's arithmetic, and ODD: the lanes outside the range (or NaN), or
 * near a bin's end (a position clamped to 0 or nbins has no fraction:
 * near), which the scalar loop must count. */
#define POSITIONS(VF, VM, VI, X, J, ODD)                                       \
    do {                                                                       \
        VF f_ = ((X)-sf) * nf;                                                 \
        f_ = PICK(VF, VM, f_ > 0, f_, (VF){0});                                \
        f_ = PICK(VF, VM, f_ >= nbf, (VF){0} + nbf, f_);                       \
        (J) = __builtin_convertvector(f_, VI);                                 \
        VF fr_ = f_ - __builtin_convertvector((J), VF);                        \
        (ODD) = ~(((X) >= cf) & ((X) <= cl)) | (fr_ < mg) | (fr_ > 1 - mg);    \
    } while (0)

/* The blocks of W values of type T (vectors VF, masks VM, positions VI),
 * the odd blocks through SCALAR whole; returns how many were counted, a
 * multiple of W. */
#define DEFINE_BLOCKS(NAME, T, VF, VM, VI, W, SCALAR)                          \
    EG_PORTABLE_HOT static uint64_t NAME(const eg_hist_plan *p,                \
                                         eg_hist_state *s, uint32_t *c,        \
                                         const void *vv, uint64_t n)           \
    {                                                                          \
        const T *v = vv;                                                       \
        BIN_CONSTS(T);                                                         \
        /* each lane's counter: its bin, or with the spread copies its bin's   \
         * copy lane % 4 */                                                    \
        const int32_t shift = c ? (int32_t)EG_SPREAD_SHIFT : 0;                \
        VI copy = {0};                                                         \
        for (int l = 0; c && l < (W); l++)                                     \
            copy[l] = l & 3;                                                   \
        uint32_t q[QUEUE_LEN];                                                 \
        unsigned qn = 0;                                                       \
        uint64_t i = 0;                                                        \
        for (; i + (W) <= n; i += (W)) {                                       \
            eg_read_ahead(v + i, sizeof(T) * (W));                             \
            VF x;                                                              \
            memcpy(&x, v + i, sizeof x);                                       \
            VI j;                                                              \
            VM odd;                                                            \
            POSITIONS(VF, VM, VI, x, j, odd);                                  \
            int any;                                                           \
            EG_ANY_##VM(odd, any);                                             \
            if (any) {                                                         \
                SCALAR(p, s, v + i, (W));                                      \
                continue;                                                      \
            }                                                                  \
            j = (j << shift) | copy;                                           \
            memcpy(q + qn, &j, sizeof j);                                      \
            if ((qn += (W)) == QUEUE_LEN) {                                    \
                queue_count(s->counts, c, q, qn);                              \
                qn = 0;                                                        \
            }                                                                  \
        }                                                                      \
        queue_count(s->counts, c, q, qn);                                      \
        return i;                                                              \
    }

DEFINE_BLOCKS(blocks_f32, float, v8f, v8i, v8i, 8, eg_hist_add_f32_scalar)
DEFINE_BLOCKS(blocks_f64, double, v4d, v4l, v4i, 4, eg_hist_add_f64_scalar)

/* With up to 16 bins of float32 the counting goes into vectors too, as
 * hist_avx512.c's byte counters do: the bins of 32 values packed as bytes
 * by shifts (an odd lane's byte -1, that value counted by the scalar
 * loop; GCC took a conversion to bytes apart lane by lane), and per
 * bin one compare and one subtract into 32 byte counters, folded into the
 * state before any can wrap.  NC counters, fixed at compile time (8, 12 or
 * 16, the bins rounded up; those past nbins never match), so that they
 * stay in registers. */
#define BYTE_BINS_MAX 16u
#define BYTE_ROUNDS 255u /* subtracts a byte counter takes before a fold */

typedef int8_t v32c __attribute__((vector_size(32)));
typedef uint8_t v32b __attribute__((vector_size(32)));

#define FOLD_BYTES(C, NC)                                                      \
    do {                                                                       \
        for (unsigned b_ = 0; b_ < (NC); b_++) {                               \
            uint64_t sum_ = 0;                                                 \
            for (int l_ = 0; l_ < 32; l_++)                                    \
                sum_ += (uint8_t)(C)[b_][l_];                                  \
            if (b_ < s->nbins)                                                 \
                s->counts[b_] += sum_;                                         \
            (C)[b_] = (v32b){0};                                               \
        }                                                                      \
    } while (0)

#define DEFINE_BYTES(NAME, NC)                                                 \
    EG_PORTABLE_HOT static uint64_t NAME(                                      \
        const eg_hist_plan *p, eg_hist_state *s, const float *v, uint64_t n)   \
    {                                                                          \
        BIN_CONSTS(float);                                                     \
        v32b c[NC]; /* unsigned: a byte wraps only as counted for */           \
        for (unsigned b = 0; b < (NC); b++)                                    \
            c[b] = (v32b){0};                                                  \
        unsigned rounds = 0;                                                   \
        uint64_t i = 0;                                                        \
        for (; i + 32 <= n; i += 32) {                                         \
            eg_read_ahead(v + i, 128);                                         \
            /* byte r of lane l: the bin of value 8 r + l (the counters do     \
             * not care where a bin sits), -1 for an odd lane */               \
            v8u packed = {0};                                                  \
            v8i odd[4], odd_any = {0};                                         \
            for (int r = 0; r < 4; r++) {                                      \
                v8f x;                                                         \
                memcpy(&x, v + i + 8 * r, sizeof x);                           \
                v8i j;                                                         \
                POSITIONS(v8f, v8i, v8i, x, j, odd[r]);                        \
                packed |= ((v8u)(j | odd[r]) & 0xff) << (8 * r);               \
                odd_any |= odd[r];                                             \
            }                                                                  \
            int any;                                                           \
            EG_ANY_v8i(odd_any, any);                                          \
            for (int r = 0; any && r < 4; r++)                                 \
                for (int l = 0; l < 8; l++)                                    \
                    if (odd[r][l])                                             \
                        eg_hist_add_f32_scalar(p, s, v + i + 8 * r + l, 1);    \
            v32c bins = (v32c)packed;                                          \
            _Pragma("GCC unroll 16") for (unsigned b = 0; b < (NC); b++)       \
                c[b] -= (v32b)(bins == (int8_t)b);                             \
            if (++rounds == BYTE_ROUNDS) {                                     \
                FOLD_BYTES(c, NC);                                             \
                rounds = 0;                                                    \
            }                                                                  \
        }                                                                      \
        FOLD_BYTES(c, NC);                                                     \
        return i;                                                              \
    }

DEFINE_BYTES(bytes_8, 8)
DEFINE_BYTES(bytes_12, 12)
DEFINE_BYTES(bytes_16, 16)

/* The margin must leave most lanes out of the corrections, and the
 * positions must fit int32. */
static int vec_plan(const eg_hist_plan *p)
{
    return p->nbins <= (1u << 24) && eg_hist_edge_margin(p) < 0.25;
}

uint64_t eg_hist_add_f32_portable(const eg_hist_plan *p, eg_hist_state *s,
                                  const float *v, uint64_t n)
{
    if (!p->f32 || !p->norm_f32 || !vec_plan(p))
        return 0;
    uint64_t done = 0;
    if (p->nbins <= BYTE_BINS_MAX)
        done = p->nbins <= 8    ? bytes_8(p, s, v, n)
               : p->nbins <= 12 ? bytes_12(p, s, v, n)
                                : bytes_16(p, s, v, n);
    return done + eg_hist_spread_run(p, s, blocks_f32, v + done, sizeof(float),
                                     n - done);
}

uint64_t eg_hist_add_f64_portable(const eg_hist_plan *p, eg_hist_state *s,
                                  const double *v, uint64_t n)
{
    if (p->dtype != EG_F64 || p->f32 || !vec_plan(p))
        return 0;
    return eg_hist_spread_run(p, s, blocks_f64, v, sizeof(double), n);
}

#else

uint64_t eg_hist_add_f32_portable(const eg_hist_plan *p, eg_hist_state *s,
                                  const float *v, uint64_t n)
{
    (void)p;
    (void)s;
    (void)v;
    (void)n;
    return 0;
}

uint64_t eg_hist_add_f64_portable(const eg_hist_plan *p, eg_hist_state *s,
                                  const double *v, uint64_t n)
{
    (void)p;
    (void)s;
    (void)v;
    (void)n;
    return 0;
}

#endif
