/* sketch_bucket.h - the log-bucket sketch's mapping of a value to its
 * bucket, stated once for the host (engine/state/sketch.c includes this
 * file) and for the OpenCL kernel (engine/backend/opencl/cl_program.c puts
 * its embedded bytes in front of kernels/sketch.cl), so that every device
 * puts every value in the same bucket.  It compiles as C11 and as OpenCL C
 * 1.2: integer arithmetic on the bits of a double, nothing from libm.
 *
 * A value's class (what sketch.h counts apart) and, for a finite non-zero
 * one, the bucket of its magnitude: (normalised exponent + 52) << k | the
 * top k mantissa bits, subnormals normalised first so that their buckets
 * have the same relative width.  The index is below 2099 << k < 2^32 for
 * k <= 20 (sketch.h's EG_SKETCH_MAX_K), so a 32-bit word holds it. */
#ifndef EG_SKETCH_BUCKET_H
#define EG_SKETCH_BUCKET_H

#ifdef __OPENCL_VERSION__
typedef ulong eg_sk_u64;
#define EG_SK_FN
#define EG_SK_CLZ64(m) ((unsigned)clz(m))
#else
#include <stdint.h>
typedef uint64_t eg_sk_u64;
#define EG_SK_FN static inline
#define EG_SK_CLZ64(m) ((unsigned)__builtin_clzll(m))
#endif

/* What a value is to the sketch. */
#define EG_SK_POS 0  /* finite, > 0: a bucket of the positive side */
#define EG_SK_NEG 1  /* finite, < 0: a bucket of -x on the negative side */
#define EG_SK_ZERO 2 /* +0.0 and -0.0 */
#define EG_SK_PINF 3
#define EG_SK_NINF 4
#define EG_SK_NAN 5

#define EG_SK_ABS_MASK (~((eg_sk_u64)1 << 63))
#define EG_SK_INF_BITS ((eg_sk_u64)0x7ff0000000000000UL)
#define EG_SK_MANT_MASK (((eg_sk_u64)1 << 52) - 1)

/* The class of the double whose bits are b. */
EG_SK_FN unsigned eg_sk_class(eg_sk_u64 b)
{
    eg_sk_u64 a = b & EG_SK_ABS_MASK;
    if (a >= EG_SK_INF_BITS)
        return a > EG_SK_INF_BITS ? EG_SK_NAN
                                  : ((b >> 63) ? EG_SK_NINF : EG_SK_PINF);
    if (a == 0)
        return EG_SK_ZERO;
    return (b >> 63) ? EG_SK_NEG : EG_SK_POS;
}

/* The bucket of a finite, non-zero magnitude a (the bits, sign cleared). */
EG_SK_FN eg_sk_u64 eg_sk_bucket(eg_sk_u64 a, unsigned k)
{
    eg_sk_u64 e = a >> 52, m = a & EG_SK_MANT_MASK;
    if (e == 0) {
        /* subnormal: shift the leading one out to bit 52 */
        unsigned shift = EG_SK_CLZ64(m) - 11;
        m = (m << shift) & EG_SK_MANT_MASK;
        return ((eg_sk_u64)(53 - shift) << k) | (m >> (52 - k));
    }
    return ((e + 52) << k) | (m >> (52 - k));
}

#endif
