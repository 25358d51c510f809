/* state.c - init, lane -> state, merge and finalize of the partial state. */
#include "state.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "exact_state.h"
#include "finish_values.h"
#include "lanes.h"
#include "twosum.h"

__extension__ typedef __int128 eg_i128;
__extension__ typedef unsigned __int128 eg_u128;

/* Everything but the exact part (1.6 KiB that only exact states use). */
static void init_head(eg_state *s, eg_dtype dtype, unsigned groups)
{
    memset(s, 0, offsetof(eg_state, ex));
    s->dtype = dtype;
    s->groups = groups;
    s->first_nan = EG_NONE_INDEX;
    s->argmin = EG_NONE_INDEX;
    s->argmax = EG_NONE_INDEX;
}

void eg_state_init(eg_state *s, eg_dtype dtype, unsigned groups)
{
    init_head(s, dtype, groups);
    memset(&s->ex, 0, sizeof s->ex);
}

static uint64_t rebase(uint64_t idx, uint64_t base)
{
    return idx == EG_NONE_INDEX ? idx : base + idx;
}

void eg_state_from_lane(eg_state *s, const eg_lane *lane, eg_dtype dtype,
                        unsigned groups, uint64_t base)
{
    /* A lane state is merged and dropped: in fast mode its exact part is
     * never read, so the per-lane cost stays that of the fast fields. */
    init_head(s, dtype, groups);
    if (groups & EG_G_EXACT)
        memset(&s->ex, 0, sizeof s->ex);
    s->n = lane->n;
    s->nan_n = lane->nan_n;
    s->first_nan = rebase(lane->first_nan, base);
    s->pinf_n = lane->pinf_n;
    s->ninf_n = lane->ninf_n;
    s->sum_s = lane->sum_s;
    s->sum_c = lane->sum_c;
    s->isum_lo = lane->isum_lo;
    s->isum_hi = lane->isum_hi;
    s->vn = lane->vn;
    if (lane->vn > 0 && (groups & EG_G_VAR)) {
        /* Shifted sums -> (mean, M2); the shift keeps 1e9 + noise exact. */
        double q = lane->d1 / (double)lane->vn;
        s->mean_k = lane->k;
        s->mean_q = q;
        s->m2 = lane->d2 - lane->d1 * q;
        if (s->m2 < 0)
            s->m2 = 0;
        /* Finite inputs give NaN only when squares overflowed (inf - inf):
         * the variance is then infinite, as numpy's. */
        if (isnan(s->m2))
            s->m2 = INFINITY;
    }
    s->min = lane->min;
    s->max = lane->max;
    s->argmin = rebase(lane->argmin, base);
    s->argmax = rebase(lane->argmax, base);
    s->l1_s = lane->l1_s;
    s->l1_c = lane->l1_c;
    s->il1_lo = lane->il1_lo;
    s->il1_hi = lane->il1_hi;
    s->l2_sml = lane->l2_sml;
    s->l2_med = lane->l2_med;
    s->l2_big = lane->l2_big;
    s->dot_s = lane->dot_s;
    s->dot_c = lane->dot_c;
    s->dot_nan_in = lane->dot_nan_in;
    s->dot_nan_gen = lane->dot_nan_gen;
    s->dot_pinf = lane->dot_pinf;
    s->dot_ninf = lane->dot_ninf;
}

void eg_state_shift(eg_state *s, uint64_t offset)
{
    s->first_nan = rebase(s->first_nan, offset);
    s->argmin = rebase(s->argmin, offset);
    s->argmax = rebase(s->argmax, offset);
}

/* -1, 0, 1 as a < b, a == b, a > b, in the dtype's own order. */
static int value_cmp(eg_dtype t, eg_value a, eg_value b)
{
    if (eg_dtype_is_float(t))
        return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
    if (eg_dtype_is_signed(t))
        return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    return a.u < b.u ? -1 : a.u > b.u ? 1 : 0;
}

/* Should (v, idx) replace the current extreme (cur, cur_idx)?  sign -1 for
 * min, +1 for max; ties go to the smaller index, as numpy's first occurrence. */
static int takes_over(eg_dtype t, int sign, eg_value v, uint64_t idx,
                      eg_value cur, uint64_t cur_idx)
{
    if (idx == EG_NONE_INDEX)
        return 0;
    if (cur_idx == EG_NONE_INDEX)
        return 1;
    int c = value_cmp(t, v, cur) * sign;
    return c > 0 || (c == 0 && idx < cur_idx);
}

static void add_u128(uint64_t *lo, uint64_t *hi, uint64_t blo, uint64_t bhi)
{
    eg_u128 a = ((eg_u128)*hi << 64) | *lo;
    a += ((eg_u128)bhi << 64) | blo;
    *lo = (uint64_t)a;
    *hi = (uint64_t)(a >> 64);
}

static void merge_moments(eg_state *a, const eg_state *b)
{
    if (b->vn == 0)
        return;
    if (a->vn == 0) {
        a->mean_k = b->mean_k;
        a->mean_q = b->mean_q;
        a->m2 = b->m2;
        a->vn = b->vn;
        return;
    }
    /* Chan, Golub and LeVeque's pairwise update.  The shifts are close data
     * values, so their difference is exact (Sterbenz) and delta keeps the
     * digits a plain mean near a large offset would lose. */
    double na = (double)a->vn, nb = (double)b->vn, n = na + nb;
    double delta = (b->mean_k - a->mean_k) + (b->mean_q - a->mean_q);
    a->mean_q = a->mean_q + delta * (nb / n);
    a->m2 = a->m2 + b->m2 + delta * delta * (na * (nb / n));
    if (isnan(a->m2)) /* overflowed means (inf - inf), see above */
        a->m2 = INFINITY;
    a->vn += b->vn;
}

void eg_state_merge(eg_state *a, const eg_state *b)
{
    a->n += b->n;
    if (b->first_nan < a->first_nan)
        a->first_nan = b->first_nan;
    a->nan_n += b->nan_n;
    a->pinf_n += b->pinf_n;
    a->ninf_n += b->ninf_n;
    eg_twosum_pair(&a->sum_s, &a->sum_c, b->sum_s, b->sum_c);
    uint64_t hi = (uint64_t)a->isum_hi;
    add_u128(&a->isum_lo, &hi, b->isum_lo, (uint64_t)b->isum_hi);
    a->isum_hi = (int64_t)hi;
    merge_moments(a, b);
    if (takes_over(a->dtype, -1, b->min, b->argmin, a->min, a->argmin)) {
        a->min = b->min;
        a->argmin = b->argmin;
    }
    if (takes_over(a->dtype, 1, b->max, b->argmax, a->max, a->argmax)) {
        a->max = b->max;
        a->argmax = b->argmax;
    }
    eg_twosum_pair(&a->l1_s, &a->l1_c, b->l1_s, b->l1_c);
    add_u128(&a->il1_lo, &a->il1_hi, b->il1_lo, b->il1_hi);
    a->l2_sml = a->l2_sml + b->l2_sml;
    a->l2_med = a->l2_med + b->l2_med;
    a->l2_big = a->l2_big + b->l2_big;
    eg_twosum_pair(&a->dot_s, &a->dot_c, b->dot_s, b->dot_c);
    a->dot_nan_in += b->dot_nan_in;
    a->dot_nan_gen += b->dot_nan_gen;
    a->dot_pinf += b->dot_pinf;
    a->dot_ninf += b->dot_ninf;
    if (a->groups & EG_G_EXACT)
        eg_exact_merge(&a->ex, &b->ex, a->groups);
}

/* ------------------------------------------------------------- finalize */

/* A compensated pair as one double; an overflowed s stands for itself. */
static double pair_value(double s, double c)
{
    return isfinite(s) ? s + c : s;
}

/* LAPACK dnrm2 (Blue's algorithm): combines the three scaled sums. */
static double blue_norm(double sml, double med, double big)
{
    if (big > 0) {
        if (med > 0 || isnan(med))
            big = big + (med * EG_BLUE_SBIG) * EG_BLUE_SBIG;
        return sqrt(big) / EG_BLUE_SBIG;
    }
    if (sml > 0) {
        if (med > 0 || isnan(med)) {
            double ymed = sqrt(med), ysml = sqrt(sml) / EG_BLUE_SSML;
            double ymin = ysml > ymed ? ymed : ysml;
            double ymax = ysml > ymed ? ysml : ymed;
            double r = ymin / ymax;
            return ymax * sqrt(1.0 + r * r);
        }
        return sqrt(sml) / EG_BLUE_SSML;
    }
    return sqrt(med);
}

static eg_i128 isum_of(const eg_state *s)
{
    return (eg_i128)(((eg_u128)(uint64_t)s->isum_hi << 64) | s->isum_lo);
}

static eg_status int_sum(const eg_state *s, eg_number *out, eg_error *err)
{
    eg_i128 v = isum_of(s);
    if (eg_dtype_is_signed(s->dtype)) {
        if (v > INT64_MAX || v < INT64_MIN)
            return eg_error_set(err, EG_EOVERFLOW,
                                "sum of %llu %s elements overflows int64",
                                (unsigned long long)s->n,
                                eg_dtype_name(s->dtype));
        *out = eg_num_i((int64_t)v);
    } else {
        if (v < 0 || v > (eg_i128)UINT64_MAX)
            return eg_error_set(err, EG_EOVERFLOW,
                                "sum of %llu %s elements overflows uint64",
                                (unsigned long long)s->n,
                                eg_dtype_name(s->dtype));
        *out = eg_num_u((uint64_t)v);
    }
    return EG_OK;
}

static eg_number extreme(const eg_state *s, eg_value v, uint64_t idx,
                         int nan_result)
{
    if (nan_result || idx == EG_NONE_INDEX)
        return eg_num_f(NAN);
    if (eg_dtype_is_float(s->dtype))
        return eg_num_f(v.f);
    return eg_dtype_is_signed(s->dtype) ? eg_num_i(v.i) : eg_num_u(v.u);
}

static eg_number arg_extreme(uint64_t idx, uint64_t first_nan, int nan_result)
{
    if (nan_result)
        return eg_num_i((int64_t)first_nan);
    if (idx == EG_NONE_INDEX)
        return (eg_number){.kind = EG_NUM_NONE};
    return eg_num_i((int64_t)idx);
}

eg_status eg_state_finalize(const eg_state *s, unsigned ops,
                            eg_nan_policy nan, unsigned ddof, eg_result *out,
                            eg_error *err)
{
    int is_float = eg_dtype_is_float(s->dtype);
    int nan_out = nan == EG_NAN_PROPAGATE && s->nan_n > 0;
    uint64_t count = nan == EG_NAN_OMIT ? s->n - s->nan_n : s->n;
    uint64_t infs = s->pinf_n + s->ninf_n;
    eg_number *v = out->value;
    eg_status st = EG_OK;

    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
        v[op].kind = EG_NUM_NONE;
    out->ops = ops;
    out->dtype = s->dtype;
    out->elements = s->n;

    double fsum = nan_out ? NAN
                          : eg_with_infinities(pair_value(s->sum_s, s->sum_c),
                                            s->pinf_n, s->ninf_n);
    double var = NAN;
    if (!nan_out && infs == 0 && s->vn > 0) {
        double dof = (double)s->vn - (double)ddof;
        var = s->m2 / (dof > 0 ? dof : 0.0);
    }

    if (ops & EG_OPS_BIT(EG_OP_COUNT))
        v[EG_OP_COUNT] = eg_num_u(count);
    if (ops & EG_OPS_BIT(EG_OP_SUM)) {
        if (is_float)
            v[EG_OP_SUM] = eg_num_f(fsum);
        else if ((st = int_sum(s, &v[EG_OP_SUM], err)) != EG_OK)
            return st;
    }
    if (ops & EG_OPS_BIT(EG_OP_MEAN)) {
        double m;
        if (count == 0)
            m = NAN;
        else if (is_float)
            m = fsum / (double)count;
        else
            m = (double)((long double)isum_of(s) / (long double)count);
        v[EG_OP_MEAN] = eg_num_f(m);
    }
    if (ops & EG_OPS_BIT(EG_OP_MIN))
        v[EG_OP_MIN] = extreme(s, s->min, s->argmin, nan_out);
    if (ops & EG_OPS_BIT(EG_OP_MAX))
        v[EG_OP_MAX] = extreme(s, s->max, s->argmax, nan_out);
    if (ops & EG_OPS_BIT(EG_OP_ARGMIN))
        v[EG_OP_ARGMIN] = arg_extreme(s->argmin, s->first_nan, nan_out);
    if (ops & EG_OPS_BIT(EG_OP_ARGMAX))
        v[EG_OP_ARGMAX] = arg_extreme(s->argmax, s->first_nan, nan_out);
    if (ops & EG_OPS_BIT(EG_OP_VAR))
        v[EG_OP_VAR] = eg_num_f(var);
    if (ops & EG_OPS_BIT(EG_OP_STD))
        v[EG_OP_STD] = eg_num_f(sqrt(var));
    if (ops & EG_OPS_BIT(EG_OP_L1)) {
        double l1;
        if (nan_out)
            l1 = NAN;
        else if (infs)
            l1 = INFINITY;
        else if (is_float)
            l1 = pair_value(s->l1_s, s->l1_c);
        else
            l1 = (double)(((eg_u128)s->il1_hi << 64) | s->il1_lo);
        v[EG_OP_L1] = eg_num_f(l1);
    }
    if (ops & EG_OPS_BIT(EG_OP_L2)) {
        double l2 = nan_out ? NAN
                    : infs  ? INFINITY
                            : blue_norm(s->l2_sml, s->l2_med, s->l2_big);
        v[EG_OP_L2] = eg_num_f(l2);
    }
    if (ops & EG_OPS_BIT(EG_OP_DOT)) {
        double d;
        if (s->dot_nan_gen || (s->dot_nan_in && nan == EG_NAN_PROPAGATE))
            d = NAN;
        else
            d = eg_with_infinities(pair_value(s->dot_s, s->dot_c), s->dot_pinf,
                                s->dot_ninf);
        v[EG_OP_DOT] = eg_num_f(d);
    }
    if (is_float && (s->groups & EG_G_EXACT))
        eg_exact_finish(s, ops, nan, ddof, out);
    return EG_OK;
}
