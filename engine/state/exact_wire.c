/* exact_wire.c - the exact block at the end of an encoded state: the four
 * superaccumulators as little-endian 64-bit words (sum, l1, sq, dot), zero
 * for a fast-mode state, and the checks that keep a forged block from
 * reaching a merge (a negative variance, a sum larger than its l1, ...). */
#include <string.h>

#include "exact_big.h"
#include "exact_state.h"

static void put_words(uint8_t *p, const uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            p[8 * i + (size_t)b] = (uint8_t)(w[i] >> (8 * b));
}

static void get_words(uint64_t *w, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v |= (uint64_t)p[8 * i + (size_t)b] << (8 * b);
        w[i] = v;
    }
}

void eg_exact_encode(const eg_state *s, uint8_t *buf)
{
    if (!(s->groups & EG_G_EXACT)) {
        /* A fast state's exact part is not even initialised (see
         * eg_state_from_lane): it goes out as zeros. */
        memset(buf, 0, EG_EXACT_WIRE_BYTES);
        return;
    }
    const eg_exact *x = &s->ex;
    put_words(buf, x->sum, EG_EXACT_SUM_WORDS);
    buf += 8 * EG_EXACT_SUM_WORDS;
    put_words(buf, x->l1, EG_EXACT_SUM_WORDS);
    buf += 8 * EG_EXACT_SUM_WORDS;
    put_words(buf, x->sq, EG_EXACT_PROD_WORDS);
    buf += 8 * EG_EXACT_PROD_WORDS;
    put_words(buf, x->dot, EG_EXACT_PROD_WORDS);
}

void eg_exact_decode(eg_state *s, const uint8_t *buf)
{
    eg_exact *x = &s->ex;
    get_words(x->sum, buf, EG_EXACT_SUM_WORDS);
    buf += 8 * EG_EXACT_SUM_WORDS;
    get_words(x->l1, buf, EG_EXACT_SUM_WORDS);
    buf += 8 * EG_EXACT_SUM_WORDS;
    get_words(x->sq, buf, EG_EXACT_PROD_WORDS);
    buf += 8 * EG_EXACT_PROD_WORDS;
    get_words(x->dot, buf, EG_EXACT_PROD_WORDS);
}

static int all_zero(const eg_exact *x)
{
    return eg_fixed_is_zero(x->sum, EG_EXACT_SUM_WORDS) &&
           eg_fixed_is_zero(x->l1, EG_EXACT_SUM_WORDS) &&
           eg_fixed_is_zero(x->sq, EG_EXACT_PROD_WORDS) &&
           eg_fixed_is_zero(x->dot, EG_EXACT_PROD_WORDS);
}

static unsigned bits_u64(uint64_t v)
{
    unsigned b = 0;
    while (v) {
        b++;
        v >>= 1;
    }
    return b;
}

/* |w| <= vn * 2^top_exp on the grid of lsb: a sum of vn finite doubles
 * (top_exp 1024) or products (2048) cannot be larger. */
static int within(const uint64_t *w, size_t nw, int lsb, int top_exp,
                  uint64_t vn)
{
    eg_big a;
    eg_big_from_fixed(&a, w, nw);
    return eg_big_bits(&a) <= (unsigned)(top_exp - lsb) + bits_u64(vn);
}

const char *eg_exact_insane(const eg_state *s)
{
    const eg_exact *x = &s->ex;
    unsigned g = s->groups;
    if (!(g & EG_G_EXACT))
        return all_zero(x) ? NULL : "exact block in a fast-mode state";
    if (!eg_dtype_is_float(s->dtype))
        return "exact mode for an integer dtype";
    if ((!(g & EG_G_L1) && !eg_fixed_is_zero(x->l1, EG_EXACT_SUM_WORDS)) ||
        (!(g & (EG_G_VAR | EG_G_L2)) &&
         !eg_fixed_is_zero(x->sq, EG_EXACT_PROD_WORDS)) ||
        (!(g & EG_G_DOT) && !eg_fixed_is_zero(x->dot, EG_EXACT_PROD_WORDS)))
        return "exact accumulator of a group the state does not have";
    if (s->vn == 0 && !(eg_fixed_is_zero(x->sum, EG_EXACT_SUM_WORDS) &&
                        eg_fixed_is_zero(x->l1, EG_EXACT_SUM_WORDS) &&
                        eg_fixed_is_zero(x->sq, EG_EXACT_PROD_WORDS)))
        return "exact sums without finite elements";
    if (eg_fixed_sign(x->l1, EG_EXACT_SUM_WORDS) < 0 ||
        eg_fixed_sign(x->sq, EG_EXACT_PROD_WORDS) < 0)
        return "negative exact sum of |x| or x^2";
    if (!within(x->sum, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, 1024, s->vn) ||
        !within(x->l1, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, 1024, s->vn) ||
        !within(x->sq, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB, 2048, s->vn) ||
        !within(x->dot, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB, 2048, s->n))
        return "exact sum out of range for the element count";
    eg_big a, b, c;
    eg_big_from_fixed(&a, x->sum, EG_EXACT_SUM_WORDS);
    if (g & EG_G_L1) {
        eg_big_from_fixed(&b, x->l1, EG_EXACT_SUM_WORDS);
        if (eg_big_cmp(&a, &b) > 0)
            return "exact |sum x| exceeds sum |x|";
    }
    if (g & (EG_G_VAR | EG_G_L2)) {
        eg_big vn, p;
        eg_big_from_fixed(&b, x->sq, EG_EXACT_PROD_WORDS);
        eg_big_from_u128(&vn, s->vn, 0);
        eg_big_mul(&c, &a, &a);
        eg_big_mul(&p, &b, &vn);
        if (eg_big_cmp(&c, &p) > 0)
            return "exact sums give a negative variance";
    }
    return NULL;
}
