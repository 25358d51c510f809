/* exact_big.c - see exact_big.h.  Plain schoolbook arithmetic: these run a
 * few times per reduction, on at most a few thousand bits. */
#include "exact_big.h"

#include <math.h>
#include <string.h>

__extension__ typedef unsigned __int128 eg_u128;

static void trim(eg_big *a)
{
    while (a->n > 0 && a->w[a->n - 1] == 0)
        a->n--;
}

int eg_big_from_fixed(eg_big *out, const uint64_t *v, size_t nw)
{
    memset(out, 0, sizeof *out);
    int neg = (int)(v[nw - 1] >> 63);
    unsigned carry = 1;
    for (size_t i = 0; i < nw && i < EG_BIG_WORDS; i++) {
        if (!neg) {
            out->w[i] = v[i];
            continue;
        }
        /* two's complement negation: ~v + 1 */
        out->w[i] = ~v[i] + carry;
        carry = carry && out->w[i] == 0;
    }
    out->n = nw < EG_BIG_WORDS ? nw : EG_BIG_WORDS;
    trim(out);
    return neg;
}

void eg_big_from_u128(eg_big *out, uint64_t lo, uint64_t hi)
{
    memset(out, 0, sizeof *out);
    out->w[0] = lo;
    out->w[1] = hi;
    out->n = 2;
    trim(out);
}

unsigned eg_big_bits(const eg_big *a)
{
    if (a->n == 0)
        return 0;
    uint64_t top = a->w[a->n - 1];
    unsigned b = 0;
    while (top) {
        b++;
        top >>= 1;
    }
    return (unsigned)(64 * (a->n - 1)) + b;
}

int eg_big_cmp(const eg_big *a, const eg_big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

void eg_big_mul(eg_big *out, const eg_big *a, const eg_big *b)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        size_t j = 0;
        for (; j < b->n && i + j < EG_BIG_WORDS; j++) {
            eg_u128 t = (eg_u128)a->w[i] * b->w[j] + out->w[i + j] + carry;
            out->w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        if (i + j < EG_BIG_WORDS)
            out->w[i + j] = carry;
    }
    out->n = a->n + b->n < EG_BIG_WORDS ? a->n + b->n : EG_BIG_WORDS;
    trim(out);
}

void eg_big_sub(eg_big *a, const eg_big *b)
{
    unsigned borrow = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint64_t bi = i < b->n ? b->w[i] : 0;
        uint64_t r = a->w[i] - bi;
        unsigned b1 = a->w[i] < bi;
        uint64_t r2 = r - borrow;
        borrow = b1 | (r < r2);
        a->w[i] = r2;
    }
    trim(a);
}

void eg_big_shl(eg_big *a, unsigned s)
{
    if (a->n == 0 || s == 0)
        return;
    unsigned ws = s / 64, bs = s % 64;
    size_t n = a->n + ws + 1;
    if (n > EG_BIG_WORDS)
        n = EG_BIG_WORDS;
    for (size_t i = n; i-- > 0;) {
        uint64_t hi = i >= ws && i - ws < EG_BIG_WORDS ? a->w[i - ws] : 0;
        uint64_t lo = i >= ws + 1 ? a->w[i - ws - 1] : 0;
        a->w[i] = bs ? (hi << bs) | (lo >> (64 - bs)) : hi;
    }
    a->n = n;
    trim(a);
}

static int bit_at(const eg_big *a, unsigned i)
{
    return (int)((a->w[i / 64] >> (i % 64)) & 1);
}

int eg_big_div(eg_big *q, const eg_big *a, uint64_t dlo, uint64_t dhi)
{
    eg_u128 d = ((eg_u128)dhi << 64) | dlo, rem = 0;
    memset(q, 0, sizeof *q);
    for (unsigned i = eg_big_bits(a); i-- > 0;) {
        /* rem < d before the shift; when the shift carries out of 128 bits
         * the true remainder exceeds d, and rem - d wraps to the right
         * value. */
        int carry = (int)(rem >> 127);
        rem = (rem << 1) | (eg_u128)bit_at(a, i);
        if (carry || rem >= d) {
            rem -= d;
            q->w[i / 64] |= UINT64_C(1) << (i % 64);
        }
    }
    q->n = a->n;
    trim(q);
    return rem != 0;
}

/* The 64 bits of a starting at bit pos. */
static uint64_t bits_at(const eg_big *a, unsigned pos)
{
    unsigned w = pos / 64, s = pos % 64;
    uint64_t lo = w < EG_BIG_WORDS ? a->w[w] >> s : 0;
    uint64_t hi = s && w + 1 < EG_BIG_WORDS ? a->w[w + 1] << (64 - s) : 0;
    return lo | hi;
}

/* 1 when any bit below pos is set. */
static int any_below(const eg_big *a, unsigned pos)
{
    unsigned w = pos / 64, s = pos % 64;
    for (unsigned i = 0; i < w && i < a->n; i++)
        if (a->w[i])
            return 1;
    return s && w < EG_BIG_WORDS && (a->w[w] & ((UINT64_C(1) << s) - 1));
}

int eg_big_round(const eg_big *a, int lsb, int sticky, int ieee,
                 uint64_t *mant, int *exp)
{
    unsigned nbits = eg_big_bits(a);
    if (nbits == 0)
        return 0;
    int etop = (int)nbits - 1 + lsb; /* exponent of the leading bit */
    int r = etop - 52;               /* exponent of the result's last bit */
    if (ieee && r < -1074)
        r = -1074;
    int shift = r - lsb;
    uint64_t m;
    if (shift <= 0) {
        /* Every bit fits; callers pass enough bits that a sticky part
         * never lands here. */
        m = bits_at(a, 0) << -shift;
    } else {
        unsigned s = (unsigned)shift;
        m = bits_at(a, s) & ((UINT64_C(1) << 53) - 1);
        int round = (int)(bits_at(a, s - 1) & 1);
        sticky = sticky || any_below(a, s - 1);
        if (round && (sticky || (m & 1)))
            m++; /* may reach 2^53: still exact in a double */
    }
    *mant = m;
    *exp = r;
    return 1;
}

double eg_big_to_double(const eg_big *a, int lsb, int sticky, int neg)
{
    uint64_t m;
    int e;
    if (!eg_big_round(a, lsb, sticky, 1, &m, &e))
        return 0.0;
    /* m <= 2^53 is exact; the scaling is exact or overflows to inf, which
     * is what rounding to nearest gives past the largest double. */
    double d = e > 1100 ? INFINITY : ldexp((double)m, e);
    return neg ? -d : d;
}
