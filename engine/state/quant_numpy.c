/* quant_numpy.c - numpy's quantile and median arithmetic (quant_numpy.h).
 * Every line names the numpy step it follows; the float32 steps round
 * through float, the integer differences wrap as numpy's do. */
#include <math.h>

#include "quant_numpy.h"

static eg_number f64(double v)
{
    eg_number n = {.kind = EG_NUM_F64};
    n.v.f = v;
    return n;
}

static double as_double(eg_number v)
{
    switch (v.kind) {
    case EG_NUM_I64:
        return (double)v.v.i;
    case EG_NUM_U64:
        return (double)v.v.u;
    default:
        return v.v.f;
    }
}

/* (n - 1) * quantiles: a Python int times a float64. */
static double scaled(uint64_t n, double q)
{
    return (double)(n - 1) * q;
}

/* The virtual index of the interpolating methods. */
static double virtual_index(uint64_t n, double q, eg_qmethod m)
{
    double x = scaled(n, q);
    if (m == EG_QM_MIDPOINT)
        return 0.5 * (floor(x) + ceil(x));
    return x;
}

/* _get_indexes: floor and floor + 1, both the last index from n - 1 up. */
static void neighbours(uint64_t n, double vi, uint64_t *lo, uint64_t *hi,
                       int *above)
{
    *above = vi >= (double)(n - 1);
    if (*above) {
        *lo = *hi = n - 1;
        return;
    }
    double f = floor(vi);
    *lo = f > 0 ? (uint64_t)f : 0;
    *hi = *lo + 1;
}

static uint64_t clamp_rank(double v, uint64_t n)
{
    if (!(v > 0))
        return 0;
    return v >= (double)(n - 1) ? n - 1 : (uint64_t)v;
}

void eg_np_quantile_ranks(uint64_t n, double q, eg_qmethod m, uint64_t *lo,
                          uint64_t *hi)
{
    int above;
    switch (m) {
    case EG_QM_LOWER:
        *lo = *hi = clamp_rank(floor(scaled(n, q)), n);
        return;
    case EG_QM_HIGHER:
        *lo = *hi = clamp_rank(ceil(scaled(n, q)), n);
        return;
    /* np.around: half to even, as rint in the default rounding mode */
    case EG_QM_NEAREST:
        *lo = *hi = clamp_rank(rint(scaled(n, q)), n);
        return;
    default:
        neighbours(n, virtual_index(n, q, m), lo, hi, &above);
        return;
    }
}

uint64_t eg_np_lower_rank(uint64_t n, double q)
{
    return clamp_rank(floor(scaled(n, q)), n);
}

/* subtract(b, a) in the input dtype: float32 rounds, integers wrap. */
static double diff_in_dtype(eg_dtype t, eg_number a, eg_number b)
{
    switch (t) {
    case EG_F32:
        return (double)(float)((float)b.v.f - (float)a.v.f);
    case EG_F64:
        return b.v.f - a.v.f;
    case EG_I8:
        return (double)(int8_t)(uint8_t)((uint64_t)b.v.i - (uint64_t)a.v.i);
    case EG_I16:
        return (double)(int16_t)(uint16_t)((uint64_t)b.v.i - (uint64_t)a.v.i);
    case EG_I32:
        return (double)(int32_t)(uint32_t)((uint64_t)b.v.i - (uint64_t)a.v.i);
    case EG_I64:
        return (double)(int64_t)((uint64_t)b.v.i - (uint64_t)a.v.i);
    case EG_U8:
        return (double)(uint8_t)(b.v.u - a.v.u);
    case EG_U16:
        return (double)(uint16_t)(b.v.u - a.v.u);
    case EG_U32:
        return (double)(uint32_t)(b.v.u - a.v.u);
    default:
        return (double)(b.v.u - a.v.u);
    }
}

eg_number eg_np_quantile_value(uint64_t n, double q, eg_qmethod m, eg_dtype t,
                               eg_number a, eg_number b)
{
    if (m == EG_QM_LOWER || m == EG_QM_HIGHER || m == EG_QM_NEAREST)
        return a; /* take(arr, index): the element, in its dtype */
    double vi = virtual_index(n, q, m);
    uint64_t lo, hi;
    int above;
    neighbours(n, vi, &lo, &hi, &above);
    double gamma;
    if (m == EG_QM_MIDPOINT)
        /* fix_gamma: 0 where the index is whole, else 0.5 */
        gamma = vi - floor(vi) == 0 ? 0.0 : 0.5;
    else
        /* virtual_indexes - previous_indexes, where the index above the
         * bounds was set to -1 */
        gamma = vi - (above ? -1.0 : (double)lo);
    /* _lerp */
    double d = diff_in_dtype(t, a, b);
    double r = as_double(a) + d * gamma;
    if (gamma >= 0.5)
        r = as_double(b) - d * (1 - gamma);
    return f64(r);
}

void eg_np_median_ranks(uint64_t n, uint64_t *lo, uint64_t *hi)
{
    if (n % 2 == 0) {
        *lo = n / 2 - 1;
        *hi = n / 2;
    } else {
        *lo = *hi = (n - 1) / 2;
    }
}

eg_number eg_np_median_value(uint64_t n, eg_dtype t, eg_number a, eg_number b)
{
    /* mean(part[index-1:index+1]): a float32 sum for float32, float64
     * otherwise, then divided by the count */
    if (n % 2 == 1)
        return f64(t == EG_F32 ? (double)(float)a.v.f : as_double(a));
    if (t == EG_F32) {
        float s = (float)a.v.f + (float)b.v.f;
        return f64((double)(float)((double)s / 2.0));
    }
    return f64((as_double(a) + as_double(b)) / 2.0);
}
