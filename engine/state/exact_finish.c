/* exact_finish.c - results of an exact state: one rounding from the exact
 * value (sum, mean, l1, dot, var), or a square root of a once-rounded exact
 * value (std, l2).  NaN and infinity rules are fast mode's (state.c). */
#include <math.h>

#include "exact_big.h"
#include "exact_state.h"
#include "finish_values.h"

static double fixed_value(const uint64_t *w, size_t nw, int lsb)
{
    eg_big a;
    int neg = eg_big_from_fixed(&a, w, nw);
    return eg_big_to_double(&a, lsb, 0, neg);
}

/* Shifts a so that a / d has at least 56 significant bits, which makes the
 * round bit and the sticky bit of the quotient exact; returns the shift. */
static unsigned widen_for_division(eg_big *a, const eg_big *d)
{
    int s = 56 + (int)eg_big_bits(d) - (int)eg_big_bits(a);
    if (s <= 0)
        return 0;
    eg_big_shl(a, (unsigned)s);
    return (unsigned)s;
}

/* a * 2^lsb / count, correctly rounded. */
static double mean_value(const uint64_t *w, size_t nw, int lsb, uint64_t count)
{
    eg_big a, d, q;
    int neg = eg_big_from_fixed(&a, w, nw);
    eg_big_from_u128(&d, count, 0);
    unsigned s = widen_for_division(&a, &d);
    int sticky = eg_big_div(&q, &a, count, 0);
    return eg_big_to_double(&q, lsb - (int)s, sticky, neg);
}

/* sqrt(a * 2^lsb (+ sticky)): the radicand rounded once to 53 bits with an
 * unbounded exponent (so no overflow or underflow on the way), then one
 * correctly rounded sqrt and an exact scaling: within one ulp. */
static double sqrt_value(const eg_big *a, int lsb, int sticky)
{
    uint64_t m;
    int e;
    if (!eg_big_round(a, lsb, sticky, 0, &m, &e))
        return 0.0;
    int odd = e % 2 != 0;
    double v = (double)m * (odd ? 2.0 : 1.0);
    return ldexp(sqrt(v), (e - odd) / 2);
}

/* var and std from vn * sum(x^2) - (sum x)^2, exact, over vn * (vn - ddof):
 * var = M2 / (vn - ddof) with M2 = sum(x^2) - (sum x)^2 / vn. */
static void var_std(const eg_state *s, unsigned ddof, double *var, double *std)
{
    eg_big a, b, a2, vn, x, q;
    eg_big_from_fixed(&a, s->ex.sum, EG_EXACT_SUM_WORDS);
    eg_big_from_fixed(&b, s->ex.sq, EG_EXACT_PROD_WORDS);
    eg_big_mul(&a2, &a, &a); /* (sum x)^2 on the 2^-2148 grid of sum(x^2) */
    eg_big_from_u128(&vn, s->vn, 0);
    eg_big_mul(&x, &b, &vn);
    if (eg_big_cmp(&x, &a2) < 0)
        x.n = 0; /* impossible for an honest state (Cauchy-Schwarz) */
    else
        eg_big_sub(&x, &a2);
    if (s->vn <= ddof) {
        /* M2 / 0, as fast mode and numpy give: inf, or nan for 0 / 0. */
        *var = *std = x.n ? INFINITY : NAN;
        return;
    }
    __extension__ unsigned __int128 dd =
        (unsigned __int128)s->vn * (s->vn - ddof);
    eg_big d;
    eg_big_from_u128(&d, (uint64_t)dd, (uint64_t)(dd >> 64));
    unsigned sh = widen_for_division(&x, &d);
    int sticky = eg_big_div(&q, &x, (uint64_t)dd, (uint64_t)(dd >> 64));
    int lsb = 2 * EG_EXACT_SUM_LSB - (int)sh;
    *var = eg_big_to_double(&q, lsb, sticky, 0);
    *std = sqrt_value(&q, lsb, sticky);
}

void eg_exact_finish(const eg_state *s, unsigned ops, eg_nan_policy nan,
                     unsigned ddof, eg_result *out)
{
    int nan_out = nan == EG_NAN_PROPAGATE && s->nan_n > 0;
    uint64_t count = nan == EG_NAN_OMIT ? s->n - s->nan_n : s->n;
    uint64_t infs = s->pinf_n + s->ninf_n;
    eg_number *v = out->value;
    double inf_sum = eg_with_infinities(0.0, s->pinf_n, s->ninf_n);

    if (ops & (EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MEAN))) {
        double sum = nan_out ? NAN
                     : infs  ? inf_sum
                             : fixed_value(s->ex.sum, EG_EXACT_SUM_WORDS,
                                           EG_EXACT_SUM_LSB);
        if (ops & EG_OPS_BIT(EG_OP_SUM))
            v[EG_OP_SUM] = eg_num_f(sum);
        if (ops & EG_OPS_BIT(EG_OP_MEAN)) {
            double m = count == 0      ? NAN
                       : nan_out || infs ? sum
                                         : mean_value(s->ex.sum,
                                                      EG_EXACT_SUM_WORDS,
                                                      EG_EXACT_SUM_LSB, count);
            v[EG_OP_MEAN] = eg_num_f(m);
        }
    }
    if (ops & (EG_OPS_BIT(EG_OP_VAR) | EG_OPS_BIT(EG_OP_STD))) {
        double var = NAN, std = NAN;
        if (!nan_out && infs == 0 && s->vn > 0)
            var_std(s, ddof, &var, &std);
        if (ops & EG_OPS_BIT(EG_OP_VAR))
            v[EG_OP_VAR] = eg_num_f(var);
        if (ops & EG_OPS_BIT(EG_OP_STD))
            v[EG_OP_STD] = eg_num_f(std);
    }
    if (ops & EG_OPS_BIT(EG_OP_L1)) {
        double l1 = nan_out ? NAN
                    : infs  ? INFINITY
                            : fixed_value(s->ex.l1, EG_EXACT_SUM_WORDS,
                                          EG_EXACT_SUM_LSB);
        v[EG_OP_L1] = eg_num_f(l1);
    }
    if (ops & EG_OPS_BIT(EG_OP_L2)) {
        double l2 = nan_out ? NAN : infs ? INFINITY : 0.0;
        if (!nan_out && !infs) {
            eg_big b;
            eg_big_from_fixed(&b, s->ex.sq, EG_EXACT_PROD_WORDS);
            l2 = sqrt_value(&b, EG_EXACT_PROD_LSB, 0);
        }
        v[EG_OP_L2] = eg_num_f(l2);
    }
    if (ops & EG_OPS_BIT(EG_OP_DOT)) {
        double d;
        if (s->dot_nan_gen || (s->dot_nan_in && nan == EG_NAN_PROPAGATE))
            d = NAN;
        else if (s->dot_pinf || s->dot_ninf)
            d = eg_with_infinities(0.0, s->dot_pinf, s->dot_ninf);
        else
            d = fixed_value(s->ex.dot, EG_EXACT_PROD_WORDS,
                            EG_EXACT_PROD_LSB);
        v[EG_OP_DOT] = eg_num_f(d);
    }
}
