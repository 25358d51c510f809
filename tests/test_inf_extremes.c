/* test_inf_extremes.c - min, max and their indices when the extreme is the
 * start value of the lane rule (lanes.h): +inf for min, -inf for max.  An
 * all-+inf lane, chunk or state is not empty: its min is +inf at its first
 * element.  The fast lane words, the careful lane, chunk folds, state
 * merges and the finalized values, for f32 and f64, both NaN policies. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hostreduce.h"
#include "lanes.h"

#define MINMAX_OPS                                                           \
    (EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX) |                         \
     EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX))

/* n doubles as dtype t (f32 or f64), every one equal to v. */
static void *filled(eg_dtype t, size_t n, double v)
{
    void *p = malloc(n * 8 + 8);
    for (size_t i = 0; i < n; i++) {
        if (t == EG_F32)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
    return p;
}

static void put(void *p, eg_dtype t, size_t i, double v)
{
    if (t == EG_F32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

static void finalize(const eg_state *s, eg_nan_policy nan, eg_result *r)
{
    eg_error err;
    memset(r, 0, sizeof *r);
    cr_assert_eq(eg_state_finalize(s, MINMAX_OPS, nan, 0, r, &err), EG_OK,
                 "%s", err.msg);
}

/* min, max as doubles and argmin, argmax as indices, each asserted. */
static void expect(const eg_result *r, double mn, double mx, int64_t amn,
                   int64_t amx, const char *what)
{
    cr_assert_eq(r->value[EG_OP_MIN].kind, EG_NUM_F64, "%s: min kind", what);
    cr_assert_eq(r->value[EG_OP_MAX].kind, EG_NUM_F64, "%s: max kind", what);
    cr_assert_eq(r->value[EG_OP_MIN].v.f, mn, "%s: min %g, want %g", what,
                 r->value[EG_OP_MIN].v.f, mn);
    cr_assert_eq(r->value[EG_OP_MAX].v.f, mx, "%s: max %g, want %g", what,
                 r->value[EG_OP_MAX].v.f, mx);
    cr_assert_eq(r->value[EG_OP_ARGMIN].kind, EG_NUM_I64, "%s: argmin none",
                 what);
    cr_assert_eq(r->value[EG_OP_ARGMAX].kind, EG_NUM_I64, "%s: argmax none",
                 what);
    cr_assert_eq(r->value[EG_OP_ARGMIN].v.i, amn, "%s: argmin %lld, want %lld",
                 what, (long long)r->value[EG_OP_ARGMIN].v.i, (long long)amn);
    cr_assert_eq(r->value[EG_OP_ARGMAX].v.i, amx, "%s: argmax %lld, want %lld",
                 what, (long long)r->value[EG_OP_ARGMAX].v.i, (long long)amx);
}

static const eg_dtype FLOATS[] = {EG_F32, EG_F64};

/* The fast lane words keep the rule too (a full lane and a short tail),
 * although such lanes are redone by the careful path. */
Test(inf_extremes, fast_lane_words_take_the_first_infinity)
{
    const size_t n = EG_LANE_ELEMS + 100;
    for (int d = 0; d < 2; d++) {
        eg_dtype t = FLOATS[d];
        for (int sign = -1; sign <= 1; sign += 2) {
            void *x = filled(t, n, sign * INFINITY);
            uint64_t w[2 * EG_LANE_WORDS];
            eg_lanes_fast(x, NULL, n, t, EG_G_MINMAX, w);
            for (int l = 0; l < 2; l++) {
                const uint64_t *r = w + l * EG_LANE_WORDS;
                uint64_t want = (uint64_t)l * EG_LANE_ELEMS;
                cr_assert_eq(r[EG_W_ARGMIN], want, "%s lane %d sign %d argmin",
                             eg_dtype_name(t), l, sign);
                cr_assert_eq(r[EG_W_ARGMAX], want, "%s lane %d sign %d argmax",
                             eg_dtype_name(t), l, sign);
            }
            free(x);
        }
    }
}

Test(inf_extremes, careful_lane_of_infinities_is_not_empty)
{
    const size_t n = 37;
    for (int d = 0; d < 2; d++) {
        eg_dtype t = FLOATS[d];
        void *x = filled(t, n, INFINITY);
        eg_lane lane;
        eg_lane_careful(x, NULL, n, 0, t, EG_G_MINMAX, &lane);
        cr_assert_eq(lane.argmin, 0, "%s all +inf argmin", eg_dtype_name(t));
        cr_assert_eq(lane.argmax, 0, "%s all +inf argmax", eg_dtype_name(t));
        cr_assert_eq(lane.min.f, INFINITY);
        /* NaN first: the first non-NaN element, in every slot order */
        put(x, t, 0, NAN);
        put(x, t, 9, NAN);
        eg_lane_careful(x, NULL, n, 0, t, EG_G_MINMAX, &lane);
        cr_assert_eq(lane.argmin, 1, "%s nan,+inf argmin %llu",
                     eg_dtype_name(t), (unsigned long long)lane.argmin);
        cr_assert_eq(lane.min.f, INFINITY);
        free(x);
        x = filled(t, n, -INFINITY);
        eg_lane_careful(x, NULL, n, 0, t, EG_G_MINMAX, &lane);
        cr_assert_eq(lane.argmax, 0, "%s all -inf argmax", eg_dtype_name(t));
        cr_assert_eq(lane.max.f, -INFINITY);
        free(x);
    }
}

/* Whole arrays through the lanes and the state: all +inf, all -inf, NaN
 * beside +inf under both policies, and +inf lanes before and between
 * finite ones. */
Test(inf_extremes, chunks_of_infinities_finalize_to_numpy_values)
{
    const size_t n = 5 * EG_LANE_ELEMS + 11;
    for (int d = 0; d < 2; d++) {
        eg_dtype t = FLOATS[d];
        const char *nm = eg_dtype_name(t);
        eg_result r;
        eg_state s;
        void *x = filled(t, n, INFINITY);
        hr_state(x, NULL, n, t, EG_G_MINMAX, 0, &s);
        finalize(&s, EG_NAN_PROPAGATE, &r);
        expect(&r, INFINITY, INFINITY, 0, 0, nm);
        put(x, t, 0, NAN);
        hr_state(x, NULL, n, t, EG_G_MINMAX, 0, &s);
        finalize(&s, EG_NAN_OMIT, &r);
        expect(&r, INFINITY, INFINITY, 1, 1, nm);
        finalize(&s, EG_NAN_PROPAGATE, &r);
        cr_assert(isnan(r.value[EG_OP_MIN].v.f));
        cr_assert_eq(r.value[EG_OP_ARGMIN].v.i, 0);
        /* +inf lanes 0-1, finite lane 2, -inf lane 3, +inf after */
        put(x, t, 0, INFINITY);
        for (size_t i = 2 * EG_LANE_ELEMS; i < 3 * EG_LANE_ELEMS; i++)
            put(x, t, i, (double)(i % 97) - 40.0);
        for (size_t i = 3 * EG_LANE_ELEMS; i < 4 * EG_LANE_ELEMS; i++)
            put(x, t, i, -INFINITY);
        hr_state(x, NULL, n, t, EG_G_MINMAX, 0, &s);
        finalize(&s, EG_NAN_PROPAGATE, &r);
        expect(&r, -INFINITY, INFINITY, 3 * EG_LANE_ELEMS, 0, nm);
        free(x);
        x = filled(t, n, -INFINITY);
        hr_state(x, NULL, n, t, EG_G_MINMAX, 0, &s);
        finalize(&s, EG_NAN_OMIT, &r);
        expect(&r, -INFINITY, -INFINITY, 0, 0, nm);
        free(x);
    }
}

/* An all-+inf chunk merged with a finite one (either order) and with
 * another all-+inf chunk: the finite min, or the first +inf. */
Test(inf_extremes, merges_of_infinite_chunks)
{
    const size_t n = 2 * EG_LANE_ELEMS + 3;
    for (int d = 0; d < 2; d++) {
        eg_dtype t = FLOATS[d];
        const char *nm = eg_dtype_name(t);
        void *inf = filled(t, n, INFINITY);
        void *fin = filled(t, n, 2.5);
        put(fin, t, 7, -1.0);
        eg_state a, b, c;
        eg_result r;
        hr_state(inf, NULL, n, t, EG_G_MINMAX, 0, &a);
        hr_state(fin, NULL, n, t, EG_G_MINMAX, n, &b);
        eg_state_merge(&a, &b);
        finalize(&a, EG_NAN_PROPAGATE, &r);
        expect(&r, -1.0, INFINITY, (int64_t)n + 7, 0, nm);
        hr_state(fin, NULL, n, t, EG_G_MINMAX, 0, &a);
        hr_state(inf, NULL, n, t, EG_G_MINMAX, n, &b);
        eg_state_merge(&a, &b);
        finalize(&a, EG_NAN_OMIT, &r);
        expect(&r, -1.0, INFINITY, 7, (int64_t)n, nm);
        hr_state(inf, NULL, n, t, EG_G_MINMAX, n, &b);
        hr_state(inf, NULL, n, t, EG_G_MINMAX, 0, &c);
        eg_state_merge(&b, &c); /* the later chunk first */
        finalize(&b, EG_NAN_PROPAGATE, &r);
        expect(&r, INFINITY, INFINITY, 0, 0, nm);
        free(inf);
        free(fin);
    }
}
