/* qselect_portable.c - a selection pass over float data in GCC's generic
 * vectors (qselect_vec.h), for the CPUs the AVX-512 code
 * (qselect_avx512.c) does not serve: AVX2 through the x86-64-v3 clone,
 * SSE2 by default, NEON on ARM hosts.
 *
 * The scalar loop (qselect_pass.c) took 2.0 ns a key in cache for the
 * first pass on an Intel Xeon with its vectors turned off: the key image,
 * the NaN test and a loop over the buckets per value.  Here a vector of 8
 * float32 (4 float64) values is made into keys at once, a block without
 * NaN sends its digits to a queue counted in a plain loop (the first
 * pass), and each bucket's prefix test is one compare a block, so a block
 * with no key in any bucket costs a few operations.  The keys and digits
 * are quant_key.h's, bit for bit: a float's bits, all flipped when
 * negative, else the sign bit set. */
#include <stdint.h>
#include <string.h>

#include "portable_vec.h"
#include "qselect_vec.h"
#include "read_ahead.h"

#if defined(EG_PORTABLE_VEC)

#define MAX_VG 16
#define QUEUE_LEN 2048u

static void queue_count(uint64_t *h, const uint32_t *q, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        h[q[i]]++;
}

/* Keys of W values of type T (vectors VF, keys VU, masks VM, B bits): K
 * the keys, NAN the NaN lanes. */
#define KEYS(VF, VU, VM, B, v, K, NAN)                                         \
    do {                                                                       \
        VF x_;                                                                 \
        memcpy(&x_, (v), sizeof x_);                                           \
        VU b_;                                                                 \
        memcpy(&b_, (v), sizeof b_);                                           \
        (NAN) = x_ != x_;                                                      \
        VM neg_ = (VM)b_ < 0;                                                  \
        (K) = b_ ^ ((VU)neg_ | ((VU){0} + ((uint64_t)1 << ((B)-1))));          \
    } while (0)

/* The first pass (one bucket, every key): the top 16 bits of each key
 * counted into h.  And a later pass: each bucket's keys, their next 16
 * bits counted or the keys kept.  KT: a key's type (VU's lanes). */
#define DEFINE_PASSES(SFX, T, VF, VU, VM, KT, W, B)                            \
    EG_PORTABLE_HOT static uint64_t first_##SFX(const T *v, uint64_t n,        \
                                                uint64_t *h, uint64_t *nan)    \
    {                                                                          \
        uint32_t q[QUEUE_LEN];                                                 \
        unsigned qn = 0;                                                       \
        uint64_t i = 0, nans = 0;                                              \
        for (; i + (W) <= n; i += (W)) {                                       \
            eg_read_ahead(v + i, sizeof(T) * (W));                             \
            VU k;                                                              \
            VM isnan;                                                          \
            KEYS(VF, VU, VM, B, v + i, k, isnan);                              \
            VU d = k >> ((B)-16);                                              \
            int any;                                                           \
            EG_ANY_##VM(isnan, any);                                           \
            if (!any) {                                                        \
                for (int l = 0; l < (W); l++)                                  \
                    q[qn + (unsigned)l] = (uint32_t)d[l];                      \
                if ((qn += (W)) == QUEUE_LEN) {                                \
                    queue_count(h, q, qn);                                     \
                    qn = 0;                                                    \
                }                                                              \
                continue;                                                      \
            }                                                                  \
            for (int l = 0; l < (W); l++) {                                    \
                if (isnan[l])                                                  \
                    nans++;                                                    \
                else                                                           \
                    h[d[l]]++;                                                 \
            }                                                                  \
        }                                                                      \
        queue_count(h, q, qn);                                                 \
        *nan += nans;                                                          \
        return i;                                                              \
    }                                                                          \
                                                                               \
    EG_PORTABLE_HOT static uint64_t pass_##SFX(                                \
        const T *v, uint64_t n, eg_select_vgroup *g, size_t ng, uint64_t *nan) \
    {                                                                          \
        uint64_t i = 0, nans = 0;                                              \
        for (; i + (W) <= n; i += (W)) {                                       \
            eg_read_ahead(v + i, sizeof(T) * (W));                             \
            VU k;                                                              \
            VM isnan;                                                          \
            KEYS(VF, VU, VM, B, v + i, k, isnan);                              \
            int any;                                                           \
            EG_ANY_##VM(isnan, any);                                           \
            if (any)                                                           \
                for (int l = 0; l < (W); l++)                                  \
                    nans += isnan[l] != 0;                                     \
            for (size_t j = 0; j < ng; j++) {                                  \
                eg_select_vgroup *gj = &g[j];                                  \
                /* fixed is 1 to B - 1 here (eg_select_pass_portable) */       \
                VM hit = ((k >> (B - gj->fixed)) == (KT)gj->prefix) & ~isnan;  \
                EG_ANY_##VM(hit, any);                                         \
                if (!any)                                                      \
                    continue;                                                  \
                for (int l = 0; l < (W); l++) {                                \
                    if (!hit[l])                                               \
                        continue;                                              \
                    if (!gj->hist) {                                           \
                        if (gj->len < gj->cap)                                 \
                            gj->keys[gj->len++] = k[l];                        \
                    } else {                                                   \
                        gj->hist[(k[l] >> (B - gj->fixed - 16)) & 0xffff]++;   \
                    }                                                          \
                }                                                              \
            }                                                                  \
        }                                                                      \
        *nan += nans;                                                          \
        return i;                                                              \
    }

DEFINE_PASSES(f32, float, v8f, v8u, v8i, uint32_t, 8, 32)
DEFINE_PASSES(f64, double, v4d, v4u, v4l, uint64_t, 4, 64)

uint64_t eg_select_pass_portable(eg_dtype t, const void *data, uint64_t n,
                                 eg_select_vgroup *g, size_t ng, uint64_t *nan)
{
    if (!eg_select_vgroups_ok(t, g, ng, MAX_VG))
        return 0;
    if (ng == 1 && g[0].fixed == 0) {
        if (!g[0].hist)
            return 0;
        return t == EG_F32 ? first_f32(data, n, g[0].hist, nan)
                           : first_f64(data, n, g[0].hist, nan);
    }
    return t == EG_F32 ? pass_f32(data, n, g, ng, nan)
                       : pass_f64(data, n, g, ng, nan);
}

#else

uint64_t eg_select_pass_portable(eg_dtype t, const void *data, uint64_t n,
                                 eg_select_vgroup *g, size_t ng, uint64_t *nan)
{
    (void)t;
    (void)data;
    (void)n;
    (void)g;
    (void)ng;
    (void)nan;
    return 0;
}

#endif
