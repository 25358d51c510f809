/* sketch_portable.c - the sketch's buckets of float data in GCC's generic
 * vectors (sketch.h), for the CPUs the AVX-512 code (sketch_avx512.c) does
 * not serve: AVX2 through the x86-64-v3 clone, SSE2 by default, NEON on
 * ARM hosts.
 *
 * The scalar code (sketch.c) took 2.1 ns a value in cache on an Intel Xeon
 * with its vectors turned off.  Here 8 float32 (4 float64) values get
 * their buckets at once, from the magnitude's bits shifted as in
 * sketch_avx512.c (a normal float32 widens to the double of exponent e +
 * 896 and mantissa m << 29, so its bucket is (a >> (23 - k)) + (948 << k));
 * the values whose bucket lies inside their side's window are counted
 * first, then every other value (NaN, infinities, zeros, subnormals, a
 * bucket that needs a window to grow, which may move the windows) goes
 * through the scalar code, which gives the same bucket. */
#include <stdint.h>
#include <string.h>

#include "portable_vec.h"
#include "read_ahead.h"
#include "sketch.h"

#if defined(EG_PORTABLE_VEC)

/* Whether the windows' bounds fit 32-bit lanes (the bucket indexes of
 * float32 do: below 2^32); a window that grows past them sends the rest
 * of a float32 call to the double lanes. */
static int windows_fit_32(const eg_sketch *s)
{
    return s->pos.lo <= UINT32_MAX && s->pos.len <= UINT32_MAX &&
           s->neg.lo <= UINT32_MAX && s->neg.len <= UINT32_MAX && s->k <= 20;
}

/* W values at v, their bits as VU of ET (masks VM): the normal,
 * finite ones inside their window counted, the others by the scalar code
 * after them.  MINNORM, INF: the magnitudes' bounds; SH, BASE: the bucket
 * of a magnitude a is (a >> SH) + BASE. */
#define BLOCK(ET, VU, VM, W, MINNORM, INF, SH, BASE, v)                        \
    do {                                                                       \
        VU b_;                                                                 \
        memcpy(&b_, (v), sizeof b_);                                           \
        VU a_ = b_ & (~(VU){0} >> 1);                                          \
        VM neg_ = (VM)b_ < 0;                                                  \
        VM ok_ = (a_ >= (MINNORM)) & (a_ < (INF));                             \
        VU idx_ = (a_ >> (SH)) + (BASE);                                       \
        VU lo_ = ((VU)neg_ & (ET)s->neg.lo) | (~(VU)neg_ & (ET)s->pos.lo);     \
        VU len_ = ((VU)neg_ & (ET)s->neg.len) | (~(VU)neg_ & (ET)s->pos.len);  \
        VU off_ = idx_ - lo_;                                                  \
        ok_ &= off_ < len_;                                                    \
        uint64_t *side_[2] = {s->pos.c, s->neg.c};                             \
        int odd_;                                                              \
        EG_ANY_##VM(~ok_, odd_);                                               \
        if (!odd_) {                                                           \
            /* every lane counts: no test per lane */                          \
            for (int l_ = 0; l_ < (W); l_++)                                   \
                side_[neg_[l_] & 1][off_[l_]]++;                               \
            break;                                                             \
        }                                                                      \
        for (int l_ = 0; l_ < (W); l_++)                                       \
            if (ok_[l_])                                                       \
                side_[neg_[l_] & 1][off_[l_]]++;                               \
        for (int l_ = 0; l_ < (W); l_++)                                       \
            if (!ok_[l_])                                                      \
                eg_sketch_add_one(s, (double)(v)[l_]);                         \
    } while (0)

EG_PORTABLE_HOT static uint64_t add_f64(eg_sketch *s, const double *v,
                                        uint64_t n)
{
    const unsigned k = s->k;
    uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        eg_read_ahead(v + i, 32);
        BLOCK(uint64_t, v4u, v4l, 4, UINT64_C(0x0010000000000000),
              UINT64_C(0x7ff0000000000000), 52 - k, UINT64_C(52) << k, v + i);
    }
    return i;
}

EG_PORTABLE_HOT static uint64_t add_f32(eg_sketch *s, const float *v,
                                        uint64_t n)
{
    const unsigned k = s->k;
    uint64_t i = 0;
    for (; i + 8 <= n && windows_fit_32(s); i += 8) {
        eg_read_ahead(v + i, 32);
        BLOCK(uint32_t, v8u, v8i, 8, UINT32_C(0x00800000), UINT32_C(0x7f800000),
              23 - k, UINT32_C(948) << k, v + i);
    }
    /* windows past 32 bits: the rest as doubles, 4 at a time */
    for (; i + 4 <= n; i += 4) {
        double d[4] = {v[i], v[i + 1], v[i + 2], v[i + 3]};
        BLOCK(uint64_t, v4u, v4l, 4, UINT64_C(0x0010000000000000),
              UINT64_C(0x7ff0000000000000), 52 - k, UINT64_C(52) << k, d);
    }
    return i;
}

uint64_t eg_sketch_add_portable(eg_sketch *s, const void *data, uint64_t n,
                                eg_dtype t)
{
    if (t != EG_F32 && t != EG_F64)
        return 0;
    return t == EG_F32 ? add_f32(s, data, n) : add_f64(s, data, n);
}

#else

uint64_t eg_sketch_add_portable(eg_sketch *s, const void *data, uint64_t n,
                                eg_dtype t)
{
    (void)s;
    (void)data;
    (void)n;
    (void)t;
    return 0;
}

#endif
