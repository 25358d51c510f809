/* sketch.c - the log-bucket sketch (sketch.h): bucket indices from the
 * bits of a double, growing bucket windows, merge, and the rank walk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sketch.h"

eg_status eg_sketch_k_for(double rel_err, unsigned *k, eg_error *err)
{
    if (!(rel_err > 0 && rel_err < 0.5))
        return eg_error_set(err, EG_EUSAGE, "--rel-err: %g is not in (0, 0.5)",
                            rel_err);
    if (rel_err < EG_SKETCH_MIN_REL_ERR)
        return eg_error_set(err, EG_EUSAGE,
                            "--rel-err: %g is below %g, whose sketch would "
                            "need more than 2^20 buckets per octave",
                            rel_err, EG_SKETCH_MIN_REL_ERR);
    /* the bound 1 / (2^(k+1) + 1), with a margin for the rounding of the
     * representative and of 64-bit integers to double */
    unsigned b = 0;
    while (b < EG_SKETCH_MAX_K &&
           1.0 / (2.0 * (double)(UINT64_C(1) << b) + 1.0) >
               rel_err * (1 - 1e-9))
        b++;
    *k = b;
    return EG_OK;
}

void eg_sketch_init(eg_sketch *s, unsigned k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
}

void eg_sketch_free(eg_sketch *s)
{
    free(s->pos.c);
    free(s->neg.c);
    s->pos.c = s->neg.c = NULL;
    s->pos.len = s->neg.len = s->pos.cap = s->neg.cap = 0;
}

/* The bucket of a finite, non-zero |x| given by its bits (sign cleared):
 * (normalised exponent + 52) << k | the top k bits of the mantissa. */
static inline uint64_t bucket_of(uint64_t bits, unsigned k)
{
    uint64_t e = bits >> 52, m = bits & ((UINT64_C(1) << 52) - 1);
    if (e == 0) {
        /* subnormal: shift the leading one out to bit 52 */
        unsigned shift = (unsigned)__builtin_clzll(m) - 11;
        m = (m << shift) & ((UINT64_C(1) << 52) - 1);
        return ((uint64_t)(53 - shift) << k) | (m >> (52 - k));
    }
    return ((e + 52) << k) | (m >> (52 - k));
}

/* Makes room for index i in side d, keeping the window [lo, lo + len)
 * zero outside the counts; 0, or -1 out of memory. */
static int side_reserve(eg_sketch_side *d, uint64_t i)
{
    if (d->len == 0) {
        if (d->cap == 0) {
            d->c = calloc(64, sizeof *d->c);
            if (!d->c)
                return -1;
            d->cap = 64;
        }
        d->c[0] = 0;
        d->lo = i;
        d->len = 1;
        return 0;
    }
    if (i >= d->lo && i - d->lo < d->len)
        return 0;
    uint64_t lo = i < d->lo ? i : d->lo;
    uint64_t hi = i >= d->lo + d->len ? i + 1 : d->lo + d->len;
    uint64_t need = hi - lo;
    if (need > d->cap) {
        uint64_t cap = d->cap * 2 > need ? d->cap * 2 : need + need / 2;
        uint64_t *c = calloc(cap, sizeof *c);
        if (!c)
            return -1;
        memcpy(c + (d->lo - lo), d->c, d->len * sizeof *c);
        free(d->c);
        d->c = c;
        d->cap = cap;
    } else if (lo < d->lo) {
        memmove(d->c + (d->lo - lo), d->c, d->len * sizeof *d->c);
        memset(d->c, 0, (d->lo - lo) * sizeof *d->c);
    } else {
        memset(d->c + d->len, 0, (need - d->len) * sizeof *d->c);
    }
    d->lo = lo;
    d->len = need;
    return 0;
}

static inline void add_double(eg_sketch *s, double x)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    uint64_t a = b & ~(UINT64_C(1) << 63);
    if (a >= UINT64_C(0x7ff0000000000000)) {
        if (a > UINT64_C(0x7ff0000000000000))
            s->nan++;
        else if (b >> 63)
            s->ninf++;
        else
            s->pinf++;
        return;
    }
    if (a == 0) {
        s->zero++;
        return;
    }
    eg_sketch_side *d = (b >> 63) ? &s->neg : &s->pos;
    uint64_t i = bucket_of(a, s->k);
    if (d->len == 0 || i < d->lo || i - d->lo >= d->len) {
        if (side_reserve(d, i) != 0) {
            s->oom = 1;
            return;
        }
    }
    d->c[i - d->lo]++;
}

void eg_sketch_add_one(eg_sketch *s, double x)
{
    add_double(s, x);
}

#define SKETCH_LOOP(ctype)                                                     \
    do {                                                                       \
        const ctype *v = data;                                                 \
        for (uint64_t i = 0; i < n; i++)                                       \
            add_double(s, (double)v[i]);                                       \
    } while (0)

eg_status eg_sketch_add(eg_sketch *s, const void *data, uint64_t n, eg_dtype t,
                        eg_error *err)
{
    /* floats: the vectors take the bulk, the loops below the tail */
    uint64_t done = eg_sketch_add_avx512(s, data, n, t);
    data = (const char *)data + done * eg_dtype_size(t);
    n -= done;
    switch (t) {
    case EG_F32:
        SKETCH_LOOP(float);
        break;
    case EG_F64:
        SKETCH_LOOP(double);
        break;
    case EG_I8:
        SKETCH_LOOP(int8_t);
        break;
    case EG_U8:
        SKETCH_LOOP(uint8_t);
        break;
    case EG_I16:
        SKETCH_LOOP(int16_t);
        break;
    case EG_U16:
        SKETCH_LOOP(uint16_t);
        break;
    case EG_I32:
        SKETCH_LOOP(int32_t);
        break;
    case EG_U32:
        SKETCH_LOOP(uint32_t);
        break;
    case EG_I64:
        SKETCH_LOOP(int64_t);
        break;
    case EG_U64:
        SKETCH_LOOP(uint64_t);
        break;
    default:
        break;
    }
    if (s->oom)
        return eg_error_set(err, EG_ENOMEM, "sketch: out of memory");
    return EG_OK;
}

static int side_merge(eg_sketch_side *a, const eg_sketch_side *b)
{
    if (b->len == 0)
        return 0;
    if (side_reserve(a, b->lo) != 0 || side_reserve(a, b->lo + b->len - 1) != 0)
        return -1;
    for (uint64_t i = 0; i < b->len; i++)
        a->c[b->lo - a->lo + i] += b->c[i];
    return 0;
}

eg_status eg_sketch_merge(eg_sketch *a, const eg_sketch *b, eg_error *err)
{
    if (a->k != b->k)
        return eg_error_set(err, EG_EINPUT, "sketch: merging k=%u into k=%u",
                            b->k, a->k);
    a->nan += b->nan;
    a->zero += b->zero;
    a->pinf += b->pinf;
    a->ninf += b->ninf;
    if (side_merge(&a->pos, &b->pos) != 0 || side_merge(&a->neg, &b->neg) != 0)
        return eg_error_set(err, EG_ENOMEM, "sketch: out of memory");
    return EG_OK;
}

static uint64_t side_total(const eg_sketch_side *d)
{
    uint64_t t = 0;
    for (uint64_t i = 0; i < d->len; i++)
        t += d->c[i];
    return t;
}

uint64_t eg_sketch_count(const eg_sketch *s)
{
    return s->zero + s->pinf + s->ninf + side_total(&s->pos) +
           side_total(&s->neg);
}

/* 2LU / (L + U) of bucket i, exactly scaled by its power of two. */
static double bucket_value(uint64_t i, unsigned k)
{
    double m = (double)(UINT64_C(1) << k);
    double j = (double)(i & ((UINT64_C(1) << k) - 1));
    int e = (int)(i >> k) - 52 - 1023;
    double f = 2 * (m + j) * (m + j + 1) / (m * (2 * m + 2 * j + 1));
    return ldexp(f, e);
}

double eg_sketch_at(const eg_sketch *s, uint64_t r)
{
    if (r < s->ninf)
        return -INFINITY;
    r -= s->ninf;
    for (uint64_t i = s->neg.len; i-- > 0;) {
        if (r < s->neg.c[i])
            return -bucket_value(s->neg.lo + i, s->k);
        r -= s->neg.c[i];
    }
    if (r < s->zero)
        return 0.0;
    r -= s->zero;
    for (uint64_t i = 0; i < s->pos.len; i++) {
        if (r < s->pos.c[i])
            return bucket_value(s->pos.lo + i, s->k);
        r -= s->pos.c[i];
    }
    return INFINITY;
}
