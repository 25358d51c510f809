/* sketch.c - the log-bucket sketch (sketch.h): bucket indices from the
 * bits of a double, growing bucket windows, merge, and the rank walk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sketch.h"
#include "sketch_bucket.h"

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
    switch (eg_sk_class(b)) {
    case EG_SK_NAN:
        s->nan++;
        return;
    case EG_SK_NINF:
        s->ninf++;
        return;
    case EG_SK_PINF:
        s->pinf++;
        return;
    case EG_SK_ZERO:
        s->zero++;
        return;
    default:
        break;
    }
    eg_sketch_side *d = (b >> 63) ? &s->neg : &s->pos;
    /* kernels/sketch_bucket.h's bucket, the same on every device */
    uint64_t i = eg_sk_bucket(b & EG_SK_ABS_MASK, s->k);
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
    if (done == 0)
        done = eg_sketch_add_portable(s, data, n, t);
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

/* Adds c[0, len) to the buckets lo .. lo + len - 1 of side d; the window
 * was reserved before, so nothing can fail here. */
static void side_add32(eg_sketch_side *d, uint64_t lo, const uint32_t *c,
                       uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        d->c[lo - d->lo + i] += c[i];
}

eg_status eg_sketch_add_window(eg_sketch *s, const eg_sketch_window *w,
                               const uint32_t *pos, const uint32_t *neg,
                               eg_error *err)
{
    /* both windows first: a failure leaves every count as it was (a
     * window grown with zeros is the same sketch, sketch_wire.c) */
    if ((w->pos_len &&
         (side_reserve(&s->pos, w->pos_lo) != 0 ||
          side_reserve(&s->pos, w->pos_lo + w->pos_len - 1) != 0)) ||
        (w->neg_len &&
         (side_reserve(&s->neg, w->neg_lo) != 0 ||
          side_reserve(&s->neg, w->neg_lo + w->neg_len - 1) != 0)))
        return eg_error_set(err, EG_ENOMEM, "sketch: out of memory");
    if (w->pos_len)
        side_add32(&s->pos, w->pos_lo, pos, w->pos_len);
    if (w->neg_len)
        side_add32(&s->neg, w->neg_lo, neg, w->neg_len);
    s->nan += w->nan;
    s->zero += w->zero;
    s->pinf += w->pinf;
    s->ninf += w->ninf;
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
