/* exact.c - adding doubles, exact products and whole accumulators into the
 * fixed-point superaccumulators of exact.h. */
#include "exact.h"

#include <string.h>

#include "state.h"

__extension__ typedef unsigned __int128 eg_u128;

/* A finite double as mant * 2^exp with mant < 2^53; *neg its sign. */
static uint64_t split_double(double d, int *exp, int *neg)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    *neg = (int)(bits >> 63);
    unsigned be = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    if (be == 0) {
        *exp = -1074;
        return frac;
    }
    *exp = (int)be - 1075;
    return frac | (UINT64_C(1) << 52);
}

/* w += p (np words placed at word i) or w -= p when neg, carrying or
 * borrowing up only as far as needed: the rest of w is unchanged once the
 * carry dies, which is usually within a word or two. */
static void add_words(uint64_t *w, size_t nw, size_t i, const uint64_t *p,
                      size_t np, int neg)
{
    unsigned carry = 0;
    for (size_t k = 0; k < np && i < nw; k++, i++) {
        uint64_t a = w[i], b = p[k], r;
        if (!neg) {
            r = a + b;
            unsigned c1 = r < b;
            uint64_t r2 = r + carry;
            carry = c1 | (r2 < r);
            w[i] = r2;
        } else {
            r = a - b;
            unsigned b1 = a < b;
            uint64_t r2 = r - carry;
            carry = b1 | (r < r2);
            w[i] = r2;
        }
    }
    for (; carry && i < nw; i++) {
        if (!neg) {
            w[i] += 1;
            carry = w[i] == 0;
        } else {
            carry = w[i] == 0;
            w[i] -= 1;
        }
    }
}

/* Places mant (at most 128 bits as lo, hi) at bit position pos of w. */
static void add_shifted(uint64_t *w, size_t nw, unsigned pos, uint64_t lo,
                        uint64_t hi, int neg)
{
    unsigned sh = pos % 64;
    uint64_t p[3];
    p[0] = lo << sh;
    p[1] = sh ? (hi << sh) | (lo >> (64 - sh)) : hi;
    p[2] = sh ? hi >> (64 - sh) : 0;
    add_words(w, nw, pos / 64, p, 3, neg);
}

void eg_fixed_add_double(uint64_t *w, size_t nw, int lsb, double d)
{
    int exp, neg;
    uint64_t mant = split_double(d, &exp, &neg);
    if (mant == 0)
        return;
    add_shifted(w, nw, (unsigned)(exp - lsb), mant, 0, neg);
}

void eg_fixed_add_product(uint64_t *w, size_t nw, int lsb, double a, double b)
{
    int ea, eb, na, nb;
    uint64_t ma = split_double(a, &ea, &na);
    uint64_t mb = split_double(b, &eb, &nb);
    if (ma == 0 || mb == 0)
        return;
    eg_u128 p = (eg_u128)ma * mb;
    add_shifted(w, nw, (unsigned)(ea + eb - lsb), (uint64_t)p,
                (uint64_t)(p >> 64), na ^ nb);
}

void eg_fixed_add(uint64_t *w, const uint64_t *v, size_t nw)
{
    unsigned carry = 0;
    for (size_t i = 0; i < nw; i++) {
        uint64_t r = w[i] + v[i];
        unsigned c1 = r < v[i];
        uint64_t r2 = r + carry;
        carry = c1 | (r2 < r);
        w[i] = r2;
    }
}

int eg_fixed_is_zero(const uint64_t *w, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (w[i])
            return 0;
    return 1;
}

int eg_fixed_sign(const uint64_t *w, size_t nw)
{
    if (w[nw - 1] >> 63)
        return -1;
    return eg_fixed_is_zero(w, nw) ? 0 : 1;
}

void eg_exact_merge(eg_exact *a, const eg_exact *b, unsigned groups)
{
    eg_fixed_add(a->sum, b->sum, EG_EXACT_SUM_WORDS);
    if (groups & EG_G_L1)
        eg_fixed_add(a->l1, b->l1, EG_EXACT_SUM_WORDS);
    if (groups & (EG_G_VAR | EG_G_L2))
        eg_fixed_add(a->sq, b->sq, EG_EXACT_PROD_WORDS);
    if (groups & EG_G_DOT)
        eg_fixed_add(a->dot, b->dot, EG_EXACT_PROD_WORDS);
}
