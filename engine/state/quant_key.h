/* quant_key.h - the order-preserving integer image of every dtype, the one
 * place where values become keys for radix selection and back.
 *
 * key(a) < key(b) exactly when a < b (floats: -0.0 sorts just before +0.0,
 * which numpy counts as equal; NaN never gets a key, callers count it
 * apart).  Floats flip all bits when negative and the sign bit otherwise;
 * signed integers flip the sign bit; unsigned integers are their own key.
 */
#ifndef EG_QUANT_KEY_H
#define EG_QUANT_KEY_H

#include <stdint.h>
#include <string.h>

#include "edgegrid.h"

/* Bits in the key of a dtype: its width. */
static inline unsigned eg_key_bits(eg_dtype t)
{
    return (unsigned)eg_dtype_size(t) * 8u;
}

/* Element i of p as a key; sets *nan for a NaN (key then meaningless). */
static inline uint64_t eg_key_of(const void *p, uint64_t i, eg_dtype t,
                                 int *nan)
{
    *nan = 0;
    switch (t) {
    case EG_F32: {
        float f = ((const float *)p)[i];
        uint32_t b;
        memcpy(&b, &f, 4);
        *nan = f != f;
        return (b >> 31) ? (uint32_t)~b : (b | 0x80000000u);
    }
    case EG_F64: {
        double f = ((const double *)p)[i];
        uint64_t b;
        memcpy(&b, &f, 8);
        *nan = f != f;
        return (b >> 63) ? ~b : (b | (UINT64_C(1) << 63));
    }
    case EG_I8:
        return (uint8_t)(((const int8_t *)p)[i] ^ INT8_MIN);
    case EG_U8:
        return ((const uint8_t *)p)[i];
    case EG_I16:
        return (uint16_t)(((const int16_t *)p)[i] ^ INT16_MIN);
    case EG_U16:
        return ((const uint16_t *)p)[i];
    case EG_I32:
        return (uint32_t)(((const int32_t *)p)[i] ^ INT32_MIN);
    case EG_U32:
        return ((const uint32_t *)p)[i];
    case EG_I64:
        return (uint64_t)(((const int64_t *)p)[i]) ^ (UINT64_C(1) << 63);
    case EG_U64:
        return ((const uint64_t *)p)[i];
    default:
        return 0;
    }
}

/* The value a key stands for, in the dtype's own kind: a double for floats
 * (f32 widened exactly), else an exact integer. */
static inline eg_number eg_key_value(uint64_t k, eg_dtype t)
{
    eg_number n;
    switch (t) {
    case EG_F32: {
        uint32_t b = (uint32_t)k;
        b = (b >> 31) ? (b & 0x7fffffffu) : ~b;
        float f;
        memcpy(&f, &b, 4);
        n.kind = EG_NUM_F64;
        n.v.f = f;
        return n;
    }
    case EG_F64: {
        uint64_t b = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;
        memcpy(&n.v.f, &b, 8);
        n.kind = EG_NUM_F64;
        return n;
    }
    case EG_U8:
    case EG_U16:
    case EG_U32:
    case EG_U64:
        n.kind = EG_NUM_U64;
        n.v.u = k;
        return n;
    default: {
        unsigned w = eg_key_bits(t);
        uint64_t sign = UINT64_C(1) << (w - 1);
        /* undo the sign flip, then sign-extend from w bits */
        uint64_t u = k ^ sign;
        if (w < 64 && (u & sign))
            u |= ~((sign << 1) - 1);
        n.kind = EG_NUM_I64;
        n.v.i = (int64_t)u;
        return n;
    }
    }
}

#endif
