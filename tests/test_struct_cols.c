/* test_struct_cols.c - columns side by side, reduced in place row by row
 * (struct_cols.c), and short rows eight at a time (struct_short.c): every
 * output element bitwise equal to eg_reduce of its elements copied out
 * alone, for widths that fill a row or not, lanes cut short, several
 * chunks, ties, NaN and infinities (the careful path), both float dtypes
 * and every op. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "engine_fixture.h"
#include "testutil.h"

#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)

/* Element i of x as a double. */
static double get(const void *x, eg_dtype t, size_t i)
{
    return t == EG_F32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
}

static void put(void *x, eg_dtype t, size_t i, double v)
{
    if (t == EG_F32)
        ((float *)x)[i] = (float)v;
    else
        ((double *)x)[i] = v;
}

/* x (and y) of shape dims reduced over the axes: each output against
 * eg_reduce on its own elements (out_elems(e) gives them). */
static void check_alone(eg_engine *e, eg_engine *h, const void *x,
                        const void *y, eg_dtype t, unsigned ndim,
                        const uint64_t *dims, unsigned naxes, const int *axes,
                        unsigned ops, uint64_t chunk, const char *what)
{
    size_t sz = t == EG_F32 ? 4 : 8;
    uint64_t total = 1;
    for (unsigned d = 0; d < ndim; d++)
        total *= dims[d];
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.shape_ndim = ndim;
    for (unsigned d = 0; d < ndim; d++)
        so.shape[d] = dims[d];
    so.naxes = naxes;
    int red[EG_MAX_DIMS] = {0};
    for (unsigned a = 0; a < naxes; a++) {
        so.axes[a] = axes[a];
        red[axes[a] < 0 ? (int)ndim + axes[a] : axes[a]] = 1;
    }
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ops;
    o.chunk_elems = chunk;
    eg_sresult r;
    eg_error err;
    cr_assert_eq(eg_reduce_structured(e, x, y, total, t, &so, &o, &r, &err),
                 EG_OK, "%s: %s", what, err.msg);
    uint64_t len = 1, nout = 1;
    for (unsigned d = 0; d < ndim; d++)
        *(red[d] ? &len : &nout) *= dims[d];
    /* every output's elements in C order of the reduced axes, side by
     * side: one pass over x in C order */
    unsigned char *all = malloc(total * sz + 8);
    unsigned char *yall = malloc(total * sz + 8);
    uint64_t *cnt = calloc(nout, sizeof *cnt);
    for (uint64_t i = 0; i < total; i++) {
        uint64_t rest = i, ko = 0, kmul = 1;
        for (unsigned d = ndim; d-- > 0;) {
            uint64_t idx = rest % dims[d];
            rest /= dims[d];
            if (!red[d]) {
                ko += idx * kmul;
                kmul *= dims[d];
            }
        }
        uint64_t at = ko * len + cnt[ko]++;
        memcpy(all + at * sz, (const unsigned char *)x + i * sz, sz);
        if (y)
            memcpy(yall + at * sz, (const unsigned char *)y + i * sz, sz);
    }
    for (uint64_t o_ = 0; o_ < nout; o_++) {
        cr_assert_eq(cnt[o_], len);
        const unsigned char *seg = all + o_ * len * sz;
        const unsigned char *yseg = yall + o_ * len * sz;
        eg_result one;
        cr_assert_eq(eg_reduce(h, seg, y ? yseg : NULL, len, t, &o, &one, &err),
                     EG_OK, "%s", err.msg);
        for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
            if (!(ops & EG_OPS_BIT(op)))
                continue;
            uint64_t a, b;
            memcpy(&a, (const char *)r.op[op].data + 8 * o_, 8);
            if (op == EG_OP_COUNT) {
                cr_assert_eq(a, one.value[op].v.u);
                continue;
            }
            cr_assert_eq(r.op[op].kind, one.value[op].kind, "%s %s", what,
                         eg_op_name((eg_op)op));
            memcpy(&b, &one.value[op].v, 8);
            cr_assert_eq(a, b, "%s: output %llu %s: %016llx vs %016llx", what,
                         (unsigned long long)o_, eg_op_name((eg_op)op),
                         (unsigned long long)a, (unsigned long long)b);
        }
    }
    free(all);
    free(yall);
    free(cnt);
    eg_sresult_free(&r);
}

/* Values with many ties (small integers) or spread ones, a NaN and an
 * infinity in chosen places. */
static void *make(eg_dtype t, uint64_t n, uint64_t seed, int ties)
{
    size_t sz = t == EG_F32 ? 4 : 8;
    void *x = malloc(n * sz + 8);
    tu_fill(x, t, n, seed, -1e3, 1e4);
    if (ties)
        for (uint64_t i = 0; i < n; i++)
            put(x, t, i, floor(get(x, t, i) / 2000.0));
    return x;
}

Test(struct_cols, columns_have_the_bits_of_each_column_alone)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    /* widths under a vector, odd ones, a row of a line, more than a tile
     * of outputs (256) with a remainder, units of part of a row (1100);
     * rows that cut the last lane and
     * block short, and whole lanes */
    static const uint64_t cs[] = {1, 2, 3, 5, 8, 13, 64, 300, 1100};
    static const uint64_t rs[] = {37, 4096, 9000};
    for (int dt = 0; dt < 2; dt++) {
        eg_dtype t = dt ? EG_F64 : EG_F32;
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
            for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++) {
                uint64_t C = cs[ci], R = rs[ri];
                if (C * R > 400000)
                    R = 400000 / C;
                for (int ties = 0; ties < 2; ties++) {
                    void *x = make(t, R * C, 7 + ci * 31 + ri, ties);
                    void *y = make(t, R * C, 99 + ci, 0);
                    uint64_t dims[2] = {R, C};
                    int ax = 0;
                    char what[96];
                    snprintf(what, sizeof what, "%s [%llu, %llu] ties %d",
                             dt ? "f64" : "f32", (unsigned long long)R,
                             (unsigned long long)C, ties);
                    /* every op but l2 (f64 l2 takes the gathered path) */
                    check_alone(e, h, x, y, t, 2, dims, 1, &ax,
                                ALL_OPS & ~EG_OPS_BIT(EG_OP_L2), 0, what);
                    /* the sum alone, over chunks of one lane */
                    check_alone(e, h, x, NULL, t, 2, dims, 1, &ax,
                                EG_OPS_BIT(EG_OP_SUM), EG_LANE_ELEMS, what);
                    if (t == EG_F32)
                        check_alone(e, h, x, y, t, 2, dims, 1, &ax, ALL_OPS,
                                    2 * EG_LANE_ELEMS, what);
                    free(x);
                    free(y);
                }
            }
    }
    eg_engine_close(&e);
    eg_engine_close(&h);
}

/* Rows of one length side by side (the uniform batches: the sum alone
 * from the rows to the results, and min/max/var with local
 * accumulators): signed zeros and ties in the extremes (the first index
 * and its zero's sign), a row of -0.0 alone (its sum +0.0), rows whose
 * sum and M2 overflow f64 or meet NaN or an infinity (the careful path,
 * also in a unit's last batch), for every op set that picks a path. */
Test(struct_cols, uniform_short_rows_keep_their_bits)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    static const uint64_t cs[] = {1, 5, 8, 16, 24, 32, 33, 40, 64, 129};
    static const unsigned opsets[] = {
        EG_OPS_BIT(EG_OP_SUM),
        EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_SUM) |
            EG_OPS_BIT(EG_OP_MEAN),
        EG_OPS_BIT(EG_OP_MEAN),
        EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_SUM) |
            EG_OPS_BIT(EG_OP_MEAN) | EG_OPS_BIT(EG_OP_MIN) |
            EG_OPS_BIT(EG_OP_MAX) | EG_OPS_BIT(EG_OP_STD),
        EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX) |
            EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX),
        EG_OPS_BIT(EG_OP_VAR) | EG_OPS_BIT(EG_OP_SUM),
    };
    for (int dt = 0; dt < 2; dt++) {
        eg_dtype t = dt ? EG_F64 : EG_F32;
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
            uint64_t C = cs[ci], R = 8 * 13;
            void *x = make(t, R * C, 41 + ci, 1);
            /* rows 0-7: zeros of both signs, ties at the extremes */
            for (uint64_t q = 0; q < 8 * C; q++)
                put(x, t, q, (q * 7 + q / C) % 3 == 0 ? -0.0 : 0.0);
            for (uint64_t q = 0; q < C; q++)
                put(x, t, 9 * C + q, -0.0); /* row 9: -0.0 alone */
            put(x, t, 11 * C + C / 2, NAN);
            put(x, t, 20 * C, INFINITY);
            put(x, t, 21 * C + C - 1, -INFINITY);
            put(x, t, 30 * C, dt ? 1.5e308 : 3e38);
            if (C > 1)
                put(x, t, 30 * C + 1, dt ? 1.5e308 : 3e38);
            put(x, t, (R - 1) * C, NAN); /* in the last batch */
            uint64_t dims[2] = {R, C};
            int ax = -1;
            for (size_t oi = 0; oi < sizeof opsets / sizeof opsets[0]; oi++) {
                char what[96];
                snprintf(what, sizeof what, "%s rows [%llu, %llu] ops %zu",
                         dt ? "f64" : "f32", (unsigned long long)R,
                         (unsigned long long)C, oi);
                check_alone(e, h, x, NULL, t, 2, dims, 1, &ax, opsets[oi], 0,
                            what);
            }
            free(x);
        }
    }
    eg_engine_close(&e);
    eg_engine_close(&h);
}

/* Enough rows of eight for several units on each thread, with rows for
 * the careful path in some units only: the results of every unit land. */
Test(struct_cols, many_short_rows_over_units)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    enum { R = 400003, C = 8 };
    float *x = make(EG_F32, (uint64_t)R * C, 77, 0);
    put(x, EG_F32, 200000 * C + 3, NAN);
    put(x, EG_F32, 399999 * C, INFINITY);
    uint64_t dims[2] = {R, C};
    int ax = -1;
    check_alone(e, h, x, NULL, EG_F32, 2, dims, 1, &ax,
                EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_COUNT), 0,
                "f32 rows of 8, sum");
    check_alone(e, h, x, NULL, EG_F32, 2, dims, 1, &ax,
                EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX) |
                    EG_OPS_BIT(EG_OP_STD) | EG_OPS_BIT(EG_OP_MEAN),
                0, "f32 rows of 8, default ops");
    free(x);
    eg_engine_close(&e);
    eg_engine_close(&h);
}

Test(struct_cols, non_finite_columns_take_the_careful_path)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    enum { R = 5000, C = 24 };
    for (int dt = 0; dt < 2; dt++) {
        eg_dtype t = dt ? EG_F64 : EG_F32;
        void *x = make(t, R * C, 5, 0);
        put(x, t, 100 * C + 3, NAN);       /* column 3, first lane */
        put(x, t, 4500 * C + 7, INFINITY); /* column 7, second lane */
        put(x, t, 17 * C + 11, -INFINITY);
        put(x, t, 18 * C + 11, INFINITY); /* column 11: inf - inf */
        put(x, t, 4200 * C + 20, dt ? 1e308 : 3e38);
        put(x, t, 4201 * C + 20, dt ? 1e308 : 3e38); /* overflow in f32? */
        uint64_t dims[2] = {R, C};
        int ax = 0;
        check_alone(e, h, x, NULL, t, 2, dims, 1, &ax,
                    ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT), 0,
                    dt ? "f64 non-finite" : "f32 non-finite");
        free(x);
    }
    eg_engine_close(&e);
    eg_engine_close(&h);
}

Test(struct_cols, three_dims_axes_leading_and_trailing)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    uint64_t dims[3] = {300, 7, 6};
    float *x = make(EG_F32, 300 * 7 * 6, 3, 1);
    int a0[1] = {0}, a01[2] = {0, 1}, a12[2] = {1, 2}, am1[1] = {-1};
    unsigned ops = ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT);
    check_alone(e, h, x, NULL, EG_F32, 3, dims, 1, a0, ops, 0, "axis 0");
    check_alone(e, h, x, NULL, EG_F32, 3, dims, 2, a01,
                ops & ~(EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX)), 0,
                "axes 0,1");
    check_alone(e, h, x, NULL, EG_F32, 3, dims, 2, a12,
                ops & ~(EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX)), 0,
                "axes 1,2");
    check_alone(e, h, x, NULL, EG_F32, 3, dims, 1, am1, ops, 0, "axis -1");
    free(x);
    eg_engine_close(&e);
    eg_engine_close(&h);
}

Test(struct_cols, short_rows_have_the_bits_of_each_row_alone)
{
    eg_engine *e = tu_open_engine("host");
    eg_engine *h = tu_open_engine("host");
    /* rows of one element to one lane; row counts that leave a partial
     * batch of eight */
    static const uint64_t cs[] = {1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 100, 4096};
    for (int dt = 0; dt < 2; dt++) {
        eg_dtype t = dt ? EG_F64 : EG_F32;
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
            uint64_t C = cs[ci], R = C >= 1000 ? 11 : 203;
            for (int ties = 0; ties < 2; ties++) {
                void *x = make(t, R * C, 17 + ci, ties);
                void *y = make(t, R * C, 3 + ci, 0);
                if (R * C > 500)
                    put(x, t, 500, NAN); /* one row the careful path's */
                uint64_t dims[2] = {R, C};
                int ax = -1;
                char what[96];
                snprintf(what, sizeof what, "%s rows [%llu, %llu] ties %d",
                         dt ? "f64" : "f32", (unsigned long long)R,
                         (unsigned long long)C, ties);
                check_alone(e, h, x, y, t, 2, dims, 1, &ax, ALL_OPS, 0, what);
                check_alone(e, h, x, NULL, t, 2, dims, 1, &ax,
                            EG_OPS_BIT(EG_OP_SUM), 0, what);
                check_alone(e, h, x, NULL, t, 2, dims, 1, &ax,
                            EG_OPS_BIT(EG_OP_MEAN) | EG_OPS_BIT(EG_OP_STD), 0,
                            what);
                free(x);
                free(y);
            }
        }
    }
    eg_engine_close(&e);
    eg_engine_close(&h);
}
