/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tu_tempdir(char *dir, size_t cap, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/eg_%s_XXXXXX",
                     tmp && strlen(tmp) < 32 ? tmp : "/tmp", tag);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) ? 0 : -1;
}

void tu_tempdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (rmdir(path) != 0) {
            chmod(path, 0600);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

uint64_t tu_next(uint64_t *s)
{
    return eg_splitmix64(s);
}

double tu_unit(uint64_t *s)
{
    return (double)(tu_next(s) >> 11) * 0x1p-53;
}

void tu_fill(void *buf, eg_dtype t, size_t n, uint64_t seed, double lo,
             double hi)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = tu_next(&s);
        double u = lo + (hi - lo) * ((double)(r >> 11) * 0x1p-53);
        switch (t) {
        case EG_F32: ((float *)buf)[i] = (float)u; break;
        case EG_F64: ((double *)buf)[i] = u; break;
        case EG_I8: ((int8_t *)buf)[i] = (int8_t)r; break;
        case EG_U8: ((uint8_t *)buf)[i] = (uint8_t)r; break;
        case EG_I16: ((int16_t *)buf)[i] = (int16_t)r; break;
        case EG_U16: ((uint16_t *)buf)[i] = (uint16_t)r; break;
        case EG_I32: ((int32_t *)buf)[i] = (int32_t)r; break;
        case EG_U32: ((uint32_t *)buf)[i] = (uint32_t)r; break;
        case EG_I64: ((int64_t *)buf)[i] = (int64_t)r; break;
        case EG_U64: ((uint64_t *)buf)[i] = r; break;
        default: break;
        }
    }
}

long double tu_get(const void *buf, eg_dtype t, size_t i)
{
    switch (t) {
    case EG_F32: return ((const float *)buf)[i];
    case EG_F64: return ((const double *)buf)[i];
    case EG_I8: return ((const int8_t *)buf)[i];
    case EG_U8: return ((const uint8_t *)buf)[i];
    case EG_I16: return ((const int16_t *)buf)[i];
    case EG_U16: return ((const uint16_t *)buf)[i];
    case EG_I32: return ((const int32_t *)buf)[i];
    case EG_U32: return ((const uint32_t *)buf)[i];
    case EG_I64: return ((const int64_t *)buf)[i];
    case EG_U64: return ((const uint64_t *)buf)[i];
    default: return 0;
    }
}

/* Fixed point: bit 0 of w[0] weighs 2^-1100 (below the smallest subnormal,
 * 2^-1074); the top word leaves room for 2^64 additions of DBL_MAX. */
#define TU_LSB_EXP (-1100)

void tu_exact_init(tu_exact *a)
{
    memset(a, 0, sizeof *a);
}

void tu_exact_add(tu_exact *a, double v)
{
    if (v == 0)
        return;
    int e;
    double m = frexp(fabs(v), &e);       /* v = m * 2^e, 0.5 <= m < 1 */
    uint64_t mant = (uint64_t)ldexp(m, 53); /* exact: 53-bit integer */
    int shift = e - 53 - TU_LSB_EXP;        /* weight of mant's bit 0 */
    size_t word = (size_t)shift / 64;
    unsigned bit = (unsigned)shift % 64;
    uint64_t part[3] = {mant << bit, bit ? mant >> (64 - bit) : 0, 0};
    size_t nw = sizeof a->w / sizeof a->w[0];
    if (v > 0) {
        unsigned carry = 0;
        for (size_t i = word; i < nw; i++) {
            uint64_t add = i - word < 3 ? part[i - word] : 0;
            uint64_t s = a->w[i] + add;
            unsigned c1 = s < add;
            uint64_t s2 = s + carry;
            unsigned c2 = s2 < s;
            a->w[i] = s2;
            carry = c1 | c2;
            if (!carry && i - word >= 2)
                break;
        }
    } else {
        unsigned borrow = 0;
        for (size_t i = word; i < nw; i++) {
            uint64_t sub = i - word < 3 ? part[i - word] : 0;
            uint64_t d = a->w[i] - sub;
            unsigned b1 = a->w[i] < sub;
            uint64_t d2 = d - borrow;
            unsigned b2 = d < (uint64_t)borrow;
            a->w[i] = d2;
            borrow = b1 | b2;
            if (!borrow && i - word >= 2)
                break;
        }
    }
}

long double tu_exact_value(const tu_exact *a)
{
    size_t nw = sizeof a->w / sizeof a->w[0];
    tu_exact m = *a;
    int neg = (m.w[nw - 1] >> 63) != 0;
    if (neg) { /* two's complement negate */
        unsigned carry = 1;
        for (size_t i = 0; i < nw; i++) {
            m.w[i] = ~m.w[i] + carry;
            carry = carry && m.w[i] == 0;
        }
    }
    long double v = 0;
    for (size_t i = 0; i < nw; i++)
        v += ldexpl((long double)m.w[i], (int)(64 * i) + TU_LSB_EXP);
    return neg ? -v : v;
}

void tu_reference(const void *x, const void *y, eg_dtype t, size_t n,
                  tu_ref *r)
{
    tu_exact s, a, d;
    tu_exact_init(&s);
    tu_exact_init(&a);
    tu_exact_init(&d);
    memset(r, 0, sizeof *r);
    r->min = INFINITY;
    r->max = -INFINITY;
    int is_int = t >= EG_I8;
    long double isum = 0, iabs = 0;
    for (size_t i = 0; i < n; i++) {
        long double v = tu_get(x, t, i);
        if (is_int) {
            isum += v; /* |partial sums| < 2^63 * n: long double exact below 2^64 */
            iabs += fabsl(v);
        } else {
            tu_exact_add(&s, (double)v);
            tu_exact_add(&a, fabs((double)v));
        }
        if (y) {
            /* The product as an exact pair (p, e): p + e == a * b. */
            double av = (double)v, bv = (double)tu_get(y, t, i);
            double p = av * bv;
            tu_exact_add(&d, p);
            tu_exact_add(&d, fma(av, bv, -p));
        }
        if (v < r->min) {
            r->min = v;
            r->argmin = i;
        }
        if (v > r->max) {
            r->max = v;
            r->argmax = i;
        }
    }
    r->sum = is_int ? isum : tu_exact_value(&s);
    r->abs_sum = is_int ? iabs : tu_exact_value(&a);
    r->dot = tu_exact_value(&d);
    r->mean = n ? r->sum / n : NAN;
    long double m2 = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        long double v = tu_get(x, t, i), dv = v - r->mean;
        m2 += dv * dv;
        sq += v * v;
    }
    r->var_m2 = m2;
    r->l2sq = sq;
}
