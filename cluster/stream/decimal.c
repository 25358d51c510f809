/* decimal.c - decimal to double, strtod's bits, its cost only where
 * needed (decimal.h). */
#include "decimal.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
#define EG_DEC_X87 1
/* 10^k for k <= 27: 5^k < 2^64, so each is exact in a 64-bit significand. */
static const long double P10L[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

/* 10^k for k <= 22: exact doubles (5^22 < 2^53). */
static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                               1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                               1e18, 1e19, 1e20, 1e21, 1e22};

/* The numbers a record may hold are short: 127 bytes at most, as before
 * the fast path (longer ones are not numbers to the parsers). */
#define DEC_MAX 128

static int slow(const char *p, size_t len, double *out)
{
    char buf[DEC_MAX];
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len)
        return -1;
    *out = v;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int eg_decimal_parse(const char *p, size_t len, double *out)
{
    if (len == 0 || len >= DEC_MAX)
        return -1;
    size_t i = 0;
    int neg = p[0] == '-';
    i += (size_t)neg;
    uint64_t m = 0; /* the significant digits, at most 19 */
    int digits = 0, exp10 = 0;
    size_t ndig = 0;
    for (; i < len && is_digit(p[i]); i++, ndig++) {
        if (m == 0 && p[i] == '0')
            continue; /* leading zeros */
        if (digits == 19)
            return slow(p, len, out);
        m = m * 10 + (uint64_t)(p[i] - '0');
        digits++;
    }
    if (i < len && p[i] == '.') {
        for (i++; i < len && is_digit(p[i]); i++, ndig++) {
            exp10--;
            if (m == 0 && p[i] == '0')
                continue;
            if (digits == 19)
                return slow(p, len, out);
            m = m * 10 + (uint64_t)(p[i] - '0');
            digits++;
        }
    }
    if (ndig == 0)
        return slow(p, len, out); /* inf, nan, '+', hex, or not a number */
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        size_t e0 = i;
        int ev = 0;
        for (; i < len && is_digit(p[i]); i++)
            if (ev < 100000)
                ev = ev * 10 + (p[i] - '0');
        if (i == e0)
            return slow(p, len, out);
        exp10 += eneg ? -ev : ev;
    }
    if (i != len)
        return slow(p, len, out);
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    double d;
#ifdef EG_DEC_X87
    if (exp10 >= -27 && exp10 <= 27) {
        long double x = (long double)m; /* exact: m < 2^64 */
        x = exp10 < 0 ? x / P10L[-exp10] : x * P10L[exp10];
        /* x is the exact value rounded to 64 bits; its low 11 bits are
         * what rounding to 53 drops.  0x400 is a midpoint of two doubles:
         * next to it the exact value may lie on its other side. */
        uint64_t sig;
        memcpy(&sig, &x, sizeof sig);
        unsigned low = (unsigned)(sig & 0x7ff);
        if (low < 0x3ff || low > 0x401) {
            d = (double)x;
            *out = neg ? -d : d;
            return 0;
        }
    }
#endif
    /* Clinger: both operands exact doubles, one correctly rounded step. */
    if (m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        d = (double)m;
        d = exp10 < 0 ? d / P10[-exp10] : d * P10[exp10];
        *out = neg ? -d : d;
        return 0;
    }
    return slow(p, len, out);
}
