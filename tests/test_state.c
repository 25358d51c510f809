/* test_state.c - the partial-state algebra: merge, finalize semantics (NaN,
 * infinities, empty input, ddof, integer overflow, nrm2 scaling) and the
 * wire encoding. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hostreduce.h"
#include "lanes.h"
#include "testutil.h"

__extension__ typedef __int128 i128;

static eg_result reduce_f64(const double *x, size_t n, eg_nan_policy nan,
                            unsigned ddof)
{
    eg_result r;
    cr_assert_eq(hr_reduce(x, NULL, n, EG_F64, nan, ddof, &r), EG_OK);
    return r;
}

#define F(r, op) ((r).value[EG_OP_##op].v.f)
#define I(r, op) ((r).value[EG_OP_##op].v.i)
#define U(r, op) ((r).value[EG_OP_##op].v.u)

Test(state, nan_propagates_like_numpy_and_is_skipped_by_omit)
{
    const double x[] = {1.0, NAN, 3.0, NAN, -2.0};
    eg_result p = reduce_f64(x, 5, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(U(p, COUNT), 5);
    cr_assert(isnan(F(p, SUM)) && isnan(F(p, MEAN)) && isnan(F(p, MIN)));
    cr_assert(isnan(F(p, MAX)) && isnan(F(p, VAR)) && isnan(F(p, L2)));
    cr_assert_eq(I(p, ARGMIN), 1, "numpy's argmin points at the first NaN");
    cr_assert_eq(I(p, ARGMAX), 1);
    eg_result o = reduce_f64(x, 5, EG_NAN_OMIT, 0);
    cr_assert_eq(U(o, COUNT), 3);
    cr_assert_eq(F(o, SUM), 2.0);
    cr_assert_float_eq(F(o, MEAN), 2.0 / 3.0, 1e-16);
    cr_assert_eq(F(o, MIN), -2.0);
    cr_assert_eq(I(o, ARGMIN), 4);
    cr_assert_eq(I(o, ARGMAX), 2);
    cr_assert_float_eq(F(o, VAR), 38.0 / 9.0, 1e-15);
}

Test(state, all_nan_with_omit_has_no_extremes)
{
    const double x[] = {NAN, NAN};
    eg_result o = reduce_f64(x, 2, EG_NAN_OMIT, 0);
    cr_assert_eq(U(o, COUNT), 0);
    cr_assert_eq(F(o, SUM), 0.0);
    cr_assert(isnan(F(o, MEAN)) && isnan(F(o, MIN)));
    cr_assert_eq(o.value[EG_OP_ARGMIN].kind, EG_NUM_NONE);
}

Test(state, infinities_follow_ieee)
{
    const double a[] = {1.0, INFINITY, 2.0};
    eg_result r = reduce_f64(a, 3, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(F(r, SUM), INFINITY);
    cr_assert_eq(F(r, MEAN), INFINITY);
    cr_assert_eq(F(r, MAX), INFINITY);
    cr_assert_eq(I(r, ARGMAX), 1);
    cr_assert_eq(F(r, MIN), 1.0);
    cr_assert(isnan(F(r, VAR)), "numpy: var with inf is nan");
    cr_assert_eq(F(r, L1), INFINITY);
    cr_assert_eq(F(r, L2), INFINITY);
    const double b[] = {-INFINITY, 5.0, INFINITY};
    r = reduce_f64(b, 3, EG_NAN_PROPAGATE, 0);
    cr_assert(isnan(F(r, SUM)));
    cr_assert_eq(F(r, MIN), -INFINITY);
    cr_assert_eq(I(r, ARGMIN), 0);
}

Test(state, overflowing_finite_sum_is_infinite)
{
    const double x[] = {DBL_MAX, DBL_MAX, 1.0};
    eg_result r = reduce_f64(x, 3, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(F(r, SUM), INFINITY);
}

Test(state, empty_input_gives_numpy_answers)
{
    eg_result r = reduce_f64(NULL, 0, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(U(r, COUNT), 0);
    cr_assert_eq(F(r, SUM), 0.0);
    cr_assert(isnan(F(r, MEAN)) && isnan(F(r, MIN)) && isnan(F(r, STD)));
    cr_assert_eq(r.value[EG_OP_ARGMAX].kind, EG_NUM_NONE);
    cr_assert_eq(F(r, L2), 0.0);
}

Test(state, ddof_divides_like_numpy)
{
    const double x[] = {1, 2, 3, 4};
    cr_assert_float_eq(F(reduce_f64(x, 4, EG_NAN_PROPAGATE, 1), VAR),
                       5.0 / 3.0, 1e-15);
    cr_assert_eq(F(reduce_f64(x, 4, EG_NAN_PROPAGATE, 4), VAR), INFINITY);
    cr_assert_eq(F(reduce_f64(x, 4, EG_NAN_PROPAGATE, 9), VAR), INFINITY);
    cr_assert(isnan(F(reduce_f64(x, 1, EG_NAN_PROPAGATE, 1), VAR)));
}

Test(state, negative_zero_and_ties_take_the_first_index)
{
    const double a[] = {0.0, -0.0, 5.0, 5.0};
    eg_result r = reduce_f64(a, 4, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(I(r, ARGMIN), 0);
    cr_assert_eq(I(r, ARGMAX), 2);
    cr_assert(!signbit(F(r, MIN)));
    /* Ties in different slots, lanes and chunks. */
    size_t n = 3 * EG_LANE_ELEMS + 17;
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(i % 1000) + 1.0;
    x[2 * EG_LANE_ELEMS + 3] = -7.0;
    x[EG_LANE_ELEMS + 9] = -7.0;
    x[EG_LANE_ELEMS + 1] = -7.0;
    x[n - 1] = 5000.0;
    x[13] = 5000.0;
    r = reduce_f64(x, n, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(I(r, ARGMIN), EG_LANE_ELEMS + 1);
    cr_assert_eq(I(r, ARGMAX), 13);
    eg_state a1, a2;
    size_t cut = 2 * EG_LANE_ELEMS;
    hr_state(x, NULL, cut, EG_F64, EG_G_MINMAX, 0, &a1);
    hr_state(x + cut, NULL, n - cut, EG_F64, EG_G_MINMAX, cut, &a2);
    eg_state_merge(&a1, &a2);
    cr_assert_eq(a1.argmin, EG_LANE_ELEMS + 1);
    free(x);
}

Test(state, blue_scaling_keeps_l2_finite_and_nonzero)
{
    const double big[] = {1e300, 1e300, 3e300};
    cr_assert_float_eq(F(reduce_f64(big, 3, EG_NAN_PROPAGATE, 0), L2),
                       sqrt(11.0) * 1e300, 1e287);
    const double tiny[] = {3e-300, 4e-300};
    cr_assert_float_eq(F(reduce_f64(tiny, 2, EG_NAN_PROPAGATE, 0), L2),
                       5e-300, 1e-313);
    const double mixed[] = {1e-300, 3.0, 4.0, 1e-310};
    cr_assert_float_eq(F(reduce_f64(mixed, 4, EG_NAN_PROPAGATE, 0), L2), 5.0,
                       1e-15);
}

Test(state, integer_sums_are_exact_and_overflow_is_an_error)
{
    const int64_t ok[] = {INT64_MAX, -5, 5, INT64_MIN + 1};
    eg_result r;
    cr_assert_eq(hr_reduce(ok, NULL, 4, EG_I64, EG_NAN_PROPAGATE, 0, &r),
                 EG_OK);
    cr_assert_eq(r.value[EG_OP_SUM].kind, EG_NUM_I64);
    cr_assert_eq(I(r, SUM), 0);
    const int64_t over[] = {INT64_MAX, 1};
    eg_error err;
    eg_state s;
    hr_state(over, NULL, 2, EG_I64, 0, 0, &s);
    cr_assert_eq(eg_state_finalize(&s, EG_OPS_BIT(EG_OP_SUM),
                                   EG_NAN_PROPAGATE, 0, &r, &err),
                 EG_EOVERFLOW);
    cr_assert(strstr(err.msg, "overflows int64"), "%s", err.msg);
    /* The mean does not overflow: the 128-bit sum stays exact. */
    cr_assert_eq(eg_state_finalize(&s, EG_OPS_BIT(EG_OP_MEAN),
                                   EG_NAN_PROPAGATE, 0, &r, &err),
                 EG_OK);
    cr_assert_eq(F(r, MEAN), 0x1p62);
    const uint64_t u[] = {UINT64_MAX - 1, 1};
    cr_assert_eq(hr_reduce(u, NULL, 2, EG_U64, EG_NAN_PROPAGATE, 0, &r),
                 EG_OK);
    cr_assert_eq(r.value[EG_OP_SUM].kind, EG_NUM_U64);
    cr_assert_eq(U(r, SUM), UINT64_MAX);
    cr_assert_eq(F(r, L1), 0x1p64);
}

Test(state, integer_sum_of_every_dtype_matches_int128)
{
    const size_t n = 100003;
    for (int t = EG_I8; t < EG_DTYPE_COUNT; t++) {
        void *x = malloc(n * 8);
        tu_fill(x, (eg_dtype)t, n, 1234 + t, 0, 0);
        if (t >= EG_I64) /* keep the 64-bit sums in range */
            for (size_t i = 0; i < n; i++)
                ((uint64_t *)x)[i] >>= 20;
        i128 want = 0;
        for (size_t i = 0; i < n; i++)
            want += (i128)tu_get(x, (eg_dtype)t, i);
        eg_result r;
        cr_assert_eq(hr_reduce(x, NULL, n, (eg_dtype)t, EG_NAN_PROPAGATE, 0,
                               &r),
                     EG_OK);
        i128 got = eg_dtype_is_signed((eg_dtype)t) ? (i128)I(r, SUM)
                                                   : (i128)U(r, SUM);
        cr_assert(got == want, "dtype %s", eg_dtype_name(t));
        free(x);
    }
}

Test(state, merge_of_split_halves_equals_the_whole)
{
    const size_t n = 10 * EG_LANE_ELEMS + 123;
    double *x = malloc(n * sizeof *x);
    tu_fill(x, EG_F64, n, 77, -1.0, 1.0);
    eg_state whole, left, right;
    hr_state(x, NULL, n, EG_F64, EG_G_ALL & ~EG_G_DOT, 0, &whole);
    for (size_t cut = EG_LANE_ELEMS; cut < n; cut += 3 * EG_LANE_ELEMS) {
        hr_state(x, NULL, cut, EG_F64, EG_G_ALL & ~EG_G_DOT, 0, &left);
        hr_state(x + cut, NULL, n - cut, EG_F64, EG_G_ALL & ~EG_G_DOT, cut,
                 &right);
        eg_state_merge(&left, &right);
        cr_assert_eq(left.n, whole.n);
        cr_assert_eq(left.argmin, whole.argmin);
        cr_assert_eq(left.argmax, whole.argmax);
        cr_assert_eq(left.min.f, whole.min.f);
        double a = left.sum_s + left.sum_c, b = whole.sum_s + whole.sum_c;
        cr_assert_leq(fabs(a - b), ldexp((double)n, -52));
        cr_assert_float_eq(left.m2, whole.m2, 1e-12 * whole.m2);
    }
    /* Associativity of three parts, both groupings. */
    eg_state p[3], q[3];
    size_t cuts[4] = {0, 2 * EG_LANE_ELEMS, 7 * EG_LANE_ELEMS, n};
    for (int i = 0; i < 3; i++) {
        hr_state(x + cuts[i], NULL, cuts[i + 1] - cuts[i], EG_F64,
                 EG_G_ALL & ~EG_G_DOT,
                 cuts[i], &p[i]);
        q[i] = p[i];
    }
    eg_state_merge(&p[0], &p[1]);
    eg_state_merge(&p[0], &p[2]); /* (a.b).c */
    eg_state_merge(&q[1], &q[2]);
    eg_state_merge(&q[0], &q[1]); /* a.(b.c) */
    cr_assert_eq(p[0].n, q[0].n);
    cr_assert_eq(p[0].argmax, q[0].argmax);
    cr_assert_float_eq(p[0].sum_s + p[0].sum_c, q[0].sum_s + q[0].sum_c,
                       1e-15 * n);
    cr_assert_float_eq(p[0].mean_k + p[0].mean_q, q[0].mean_k + q[0].mean_q,
                       1e-15);
    free(x);
}

Test(state, wire_roundtrip_is_bitwise)
{
    const double x[] = {1.5, NAN, -INFINITY, 4.25, 1e-310};
    eg_state s, d;
    hr_state(x, x, 5, EG_F64, EG_G_ALL, 1000, &s);
    uint8_t buf[4096]; /* > eg_state_encoded_size(), exact block included */
    size_t len = eg_state_encode(&s, buf, sizeof buf);
    cr_assert_eq(len, eg_state_encoded_size());
    cr_assert_eq(eg_state_encode(&s, buf, len - 1), 0);
    cr_assert_eq(eg_state_decode(&d, buf, len, NULL), EG_OK);
    cr_assert(!memcmp(&s, &d, sizeof s));
    cr_assert_eq(d.first_nan, 1001);
}

Test(state, decode_rejects_damaged_or_forged_states)
{
    double x[] = {1.0, 2.0};
    eg_state s, d;
    hr_state(x, NULL, 2, EG_F64, EG_G_ALL & ~EG_G_DOT, 0, &s);
    uint8_t good[4096], bad[4096];
    size_t len = eg_state_encode(&s, good, sizeof good);
    eg_error err;
    cr_assert_eq(eg_state_decode(&d, good, len - 1, &err), EG_EINPUT);
    struct { size_t at; uint8_t val; const char *why; } cases[] = {
        {0, 'X', "magic"}, {4, 9, "version"}, {6, 200, "dtype"},
        {8, 0xff, "groups"},
        {12 + 8 * 1 + 0, 5, "counts"},     /* nan_n = 5 > n = 2 */
        {12 + 8 * 12 + 7, 0xbf, "M2"},     /* m2 negative */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, len);
        bad[cases[i].at] = cases[i].val;
        cr_assert_eq(eg_state_decode(&d, bad, len, &err), EG_EINPUT,
                     "%s accepted", cases[i].why);
        cr_assert(strstr(err.msg, "state:"), "%s", err.msg);
    }
}

/* A state whose ops read no sum (EG_G_NO_SUM) travels with a zero sum,
 * and one that holds a sum anyway is refused: one form per content. */
Test(state, a_state_without_its_sum_has_one_wire_form)
{
    const double x[] = {1.5, -2.0, 4.25};
    const unsigned g = EG_G_L1 | EG_G_NO_SUM;
    cr_assert_eq(eg_groups_for_ops(EG_OPS_BIT(EG_OP_L1)), g);
    cr_assert_eq(eg_groups_for_ops(EG_OPS_BIT(EG_OP_L1) |
                                   EG_OPS_BIT(EG_OP_MEAN)),
                 EG_G_L1);
    cr_assert_eq(eg_groups_for_ops(EG_OPS_BIT(EG_OP_MIN)),
                 EG_G_MINMAX | EG_G_NO_SUM);
    cr_assert_eq(eg_groups_for_ops(EG_OPS_BIT(EG_OP_COUNT)), 0u,
                 "count alone: the sum is its only finiteness check");
    /* exact mode marks floats only: integer sums are exact already */
    cr_assert_eq(eg_groups_for(EG_OPS_BIT(EG_OP_L1), EG_MODE_EXACT, EG_F32),
                 g | EG_G_EXACT);
    cr_assert_eq(eg_groups_for(EG_OPS_BIT(EG_OP_L1), EG_MODE_EXACT, EG_I32),
                 g);
    cr_assert_eq(eg_groups_for(EG_OPS_BIT(EG_OP_L1), EG_MODE_FAST, EG_F64),
                 g);
    eg_state s, d;
    hr_state(x, NULL, 3, EG_F64, g, 0, &s);
    cr_assert(s.sum_s == 0 && !signbit(s.sum_s) && s.sum_c == 0);
    uint8_t buf[4096];
    size_t len = eg_state_encode(&s, buf, sizeof buf);
    cr_assert_eq(eg_state_decode(&d, buf, len, NULL), EG_OK);
    cr_assert(!memcmp(&s, &d, sizeof s));
    s.sum_s = 2.0;
    len = eg_state_encode(&s, buf, sizeof buf);
    eg_error err;
    cr_assert_eq(eg_state_decode(&d, buf, len, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "a sum in a state whose ops read none"), "%s",
              err.msg);
    /* What a state must hold for a window's or a job's ops. */
    cr_assert(eg_groups_cover(EG_G_L1, g));
    cr_assert(eg_groups_cover(g, g));
    cr_assert_not(eg_groups_cover(g, EG_G_L1), "the sum is missing");
    cr_assert_not(eg_groups_cover(g, EG_G_L1 | EG_G_EXACT));
    cr_assert_not(eg_groups_cover(EG_G_L1, EG_G_L2));
}

Test(state, overflowing_variance_is_infinite_not_nan)
{
    size_t n = 3 * 3000;
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i += 3) {
        x[i] = 1e300;
        x[i + 1] = 1.0;
        x[i + 2] = -2.0;
    }
    eg_result r = reduce_f64(x, n, EG_NAN_PROPAGATE, 0);
    cr_assert_eq(F(r, VAR), INFINITY, "numpy: inf, got %g", F(r, VAR));
    eg_state s;
    hr_state(x, NULL, n, EG_F64, EG_G_VAR, 0, &s);
    uint8_t *buf = malloc(eg_state_encoded_size());
    size_t len = eg_state_encode(&s, buf, eg_state_encoded_size());
    eg_state d;
    eg_error err;
    cr_assert_eq(eg_state_decode(&d, buf, len, &err), EG_OK,
                 "an honest overflowed state must decode: %s", err.msg);
    free(buf);
    free(x);
}
