/* quant_range.c - hist's automatic range from a min/max state
 * (quant_range.h). */
#include "quant_range.h"

#include "error.h"
#include "quant_key.h"

/* The key of a min or max the engine's state holds. */
static uint64_t value_key(eg_value v, eg_dtype t)
{
    union {
        float f32;
        double f64;
        int8_t i8;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
    } one;
    int nan;
    switch (t) {
    case EG_F32:
        one.f32 = (float)v.f;
        break;
    case EG_F64:
        one.f64 = v.f;
        break;
    case EG_I8:
        one.i8 = (int8_t)v.i;
        break;
    case EG_U8:
        one.u8 = (uint8_t)v.u;
        break;
    case EG_I16:
        one.i16 = (int16_t)v.i;
        break;
    case EG_U16:
        one.u16 = (uint16_t)v.u;
        break;
    case EG_I32:
        one.i32 = (int32_t)v.i;
        break;
    case EG_U32:
        one.u32 = (uint32_t)v.u;
        break;
    case EG_I64:
        one.i64 = v.i;
        break;
    default:
        one.u64 = v.u;
        break;
    }
    return eg_key_of(&one, 0, t, &nan);
}

eg_status eg_quant_range_keys(const eg_state *s, eg_dtype t, eg_nan_policy nan,
                              const char *name, uint64_t *kmin,
                              uint64_t *kmax, int *empty, eg_error *err)
{
    if (s->nan_n > 0 && nan == EG_NAN_PROPAGATE)
        return eg_error_set(err, EG_EINPUT,
                            "hist: %s holds NaN, so its automatic range is "
                            "undefined (numpy refuses it too); give --range "
                            "LO,HI or --nan omit",
                            name);
    *empty = s->n == s->nan_n;
    if (!*empty) {
        *kmin = value_key(s->min, t);
        *kmax = value_key(s->max, t);
    }
    return EG_OK;
}
