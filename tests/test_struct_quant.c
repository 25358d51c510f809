/* test_struct_quant.c - the quantile ops per axis and per group from the
 * public API (eg_reduce_structured_quant): values worked out by hand for
 * small arrays and for permutations of 0..n-1 (whose order statistics are
 * known), on both the short-segment path and eg_quant's passes (columns
 * over 2^16 elements), the result kinds, the shared and per-column hist
 * edges, the npz members, and the refusals. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "engine_fixture.h"
#include "testutil.h"

static eg_struct_opts axes2(uint64_t r, uint64_t c, int axis)
{
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.shape_ndim = 2;
    so.shape[0] = r;
    so.shape[1] = c;
    so.naxes = 1;
    so.axes[0] = axis;
    return so;
}

static eg_quant_opts qopts(unsigned qops, double q, eg_qmethod m)
{
    eg_quant_opts qo;
    eg_quant_opts_init(&qo);
    qo.qops = qops;
    /* q only for the ops that take it (a q without them is refused) */
    qo.nq = (qops & (EG_QOP_QUANTILE | EG_QOP_APPROX)) ? 1 : 0;
    qo.q[0] = q;
    qo.method = m;
    return qo;
}

static double f64_at(const eg_array_result *a, uint64_t i)
{
    cr_assert_eq(a->kind, EG_NUM_F64);
    return ((const double *)a->data)[i];
}

Test(struct_quant, small_columns_and_rows_by_hand)
{
    /* [[1, 10], [3, 30], [2, 20], [4, 40]] */
    const double x[8] = {1, 10, 3, 30, 2, 20, 4, 40};
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so = axes2(4, 2, 0);
    eg_quant_opts qo = qopts(EG_QOP_MEDIAN | EG_QOP_QUANTILE, 0.5,
                             EG_QM_LOWER);
    eg_sresult r;
    eg_squant_result q;
    eg_error err;
    cr_assert_eq(eg_reduce_structured_quant(e, x, 8, EG_F64, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(r.ndim, 1);
    cr_assert_eq(r.shape[0], 2);
    cr_assert_eq(q.nout, 2);
    cr_assert_eq(f64_at(&q.median, 0), 2.5);
    cr_assert_eq(f64_at(&q.median, 1), 25.0);
    cr_assert_eq(f64_at(&q.quantile, 0), 2.0);
    cr_assert_eq(f64_at(&q.quantile, 1), 20.0);
    eg_sresult_free(&r);
    eg_squant_result_free(&q);

    /* rows, integers: lower stays an integer, the median a double */
    const int32_t xi[8] = {1, 10, 3, 30, 2, 20, 4, 40};
    so = axes2(4, 2, -1);
    cr_assert_eq(eg_reduce_structured_quant(e, xi, 8, EG_I32, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(q.nout, 4);
    cr_assert_eq(q.quantile.kind, EG_NUM_I64);
    const int64_t want_lo[4] = {1, 3, 2, 4};
    const double want_med[4] = {5.5, 16.5, 11, 22};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(((const int64_t *)q.quantile.data)[i], want_lo[i]);
        cr_assert_eq(f64_at(&q.median, (uint64_t)i), want_med[i]);
    }
    eg_sresult_free(&r);
    eg_squant_result_free(&q);
    eg_engine_close(&e);
}

/* Column c of an [n, 2] array: a shuffled 0..n-1 times (c + 1). */
static double *permutations(uint64_t n)
{
    double *x = malloc(n * 2 * sizeof *x);
    uint64_t *perm = malloc(n * sizeof *perm), s = 12345;
    for (uint64_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = tu_next(&s) % (i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (uint64_t i = 0; i < n; i++) {
        x[2 * i] = (double)perm[i];
        x[2 * i + 1] = 2.0 * (double)perm[n - 1 - i];
    }
    free(perm);
    return x;
}

static void check_permutations(uint64_t n)
{
    double *x = permutations(n);
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so = axes2(n, 2, 0);
    eg_quant_opts qo = qopts(EG_QOP_MEDIAN | EG_QOP_QUANTILE, 0.25,
                             EG_QM_LINEAR);
    eg_sresult r;
    eg_squant_result q;
    eg_error err;
    cr_assert_eq(eg_reduce_structured_quant(e, x, 2 * n, EG_F64, &so, NULL,
                                            &qo, &r, &q, &err),
                 EG_OK, "%s", err.msg);
    double m = (double)(n - 1) / 2, q25 = 0.25 * (double)(n - 1);
    cr_assert_eq(f64_at(&q.median, 0), m, "n %llu", (unsigned long long)n);
    cr_assert_eq(f64_at(&q.median, 1), 2 * m);
    cr_assert_eq(f64_at(&q.quantile, 0), q25);
    cr_assert_eq(f64_at(&q.quantile, 1), 2 * q25);
    cr_assert_geq(q.passes, 1);
    eg_sresult_free(&r);
    eg_squant_result_free(&q);
    eg_engine_close(&e);
    free(x);
}

Test(struct_quant, order_statistics_of_permutations_short_and_long)
{
    check_permutations(1001);   /* sorted on the short-segment path */
    check_permutations(100003); /* eg_quant's selection passes */
}

Test(struct_quant, hist_per_group_shared_and_own_edges)
{
    /* groups by key: 7 -> {0, 1, 2, 3}, -2 -> {NaN, 10, 20} */
    const float x[7] = {0, 10, 1, NAN, 2, 20, 3};
    const int16_t keys[7] = {7, -2, 7, -2, 7, -2, 7};
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.keys = keys;
    so.key_dtype = EG_I16;
    so.nkeys = 7;
    eg_quant_opts qo = qopts(EG_QOP_HIST, 0.5, EG_QM_LINEAR);
    qo.bins = 2;
    qo.nan = EG_NAN_OMIT;
    eg_sresult r;
    eg_squant_result q;
    eg_error err;
    cr_assert_eq(eg_reduce_structured_quant(e, x, 7, EG_F32, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(r.ngroups, 2);
    cr_assert_eq(r.groups[0], -2);
    cr_assert_eq(r.groups[1], 7);
    cr_assert_eq(q.shared_edges, 0);
    /* group -2: range [10, 20], bins [10, 15) [15, 20]: 1 and 1, one NaN */
    cr_assert_eq(q.counts[0], 1);
    cr_assert_eq(q.counts[1], 1);
    cr_assert_eq(q.nan[0], 1);
    cr_assert_eq(q.edges[0], 10.0);
    cr_assert_eq(q.edges[2], 20.0);
    /* group 7: [0, 3], bins [0, 1.5) [1.5, 3]: 2 and 2 */
    cr_assert_eq(q.counts[2], 2);
    cr_assert_eq(q.counts[3], 2);
    cr_assert_eq(q.edges[3], 0.0);
    cr_assert_eq(q.edges[4], 1.5);
    eg_sresult_free(&r);
    eg_squant_result_free(&q);

    qo.have_range = 1;
    qo.lo = 0.0;
    qo.hi = 4.0;
    cr_assert_eq(eg_reduce_structured_quant(e, x, 7, EG_F32, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(q.shared_edges, 1);
    cr_assert_eq(q.edges[1], 2.0);
    cr_assert_eq(q.above[0], 2); /* 10 and 20 */
    cr_assert_eq(q.counts[2] + q.counts[3], 4);
    char dir[256], path[300];
    cr_assert_eq(tu_tempdir(dir, sizeof dir, "squant"), 0);
    snprintf(path, sizeof path, "%s/r.npz", dir);
    cr_assert_eq(eg_sresult_write_npz_quant(&r, &q, path, &err), EG_OK, "%s",
                 err.msg);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const char *names[] = {"hist_counts.npy", "hist_edges.npy",
                           "hist_below.npy", "hist_nan.npy", "groups.npy"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_not_null(memmem(buf, n, names[i], strlen(names[i])), "%s",
                           names[i]);
    remove(path);
    tu_tempdir_remove(dir);
    eg_sresult_free(&r);
    eg_squant_result_free(&q);
    eg_engine_close(&e);
}

Test(struct_quant, refusals)
{
    const double x[6] = {1, 2, NAN, 4, 5, 6};
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so = axes2(3, 2, 0);
    eg_quant_opts qo = qopts(EG_QOP_HIST, 0.5, EG_QM_LINEAR);
    eg_sresult r;
    eg_squant_result q;
    eg_error err;
    /* an automatic range over a column with NaN under propagate */
    cr_assert_eq(eg_reduce_structured_quant(e, x, 6, EG_F64, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_EINPUT);
    cr_assert_not_null(strstr(err.msg, "column [0]"), "%s", err.msg);
    /* dot beside a quantile op */
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = EG_OPS_BIT(EG_OP_DOT);
    cr_assert_eq(eg_reduce_structured_quant(e, x, 6, EG_F64, &so, &o, &qo,
                                            &r, &q, &err),
                 EG_EUSAGE);
    /* q outside [0, 1] */
    qo = qopts(EG_QOP_QUANTILE, 1.5, EG_QM_LINEAR);
    cr_assert_eq(eg_reduce_structured_quant(e, x, 6, EG_F64, &so, NULL, &qo,
                                            &r, &q, &err),
                 EG_EUSAGE);
    /* a repeated axis */
    qo = qopts(EG_QOP_MEDIAN, 0.5, EG_QM_LINEAR);
    so.naxes = 2;
    so.axes[1] = 0;
    cr_assert_neq(eg_reduce_structured_quant(e, x, 6, EG_F64, &so, NULL, &qo,
                                             &r, &q, &err),
                  EG_OK);
    cr_assert_eq(eg_reduce_structured_quant(NULL, x, 6, EG_F64, &so, NULL,
                                            &qo, &r, &q, &err),
                 EG_EUSAGE);
    eg_squant_result_free(&q); /* harmless on a zeroed result */
    eg_engine_close(&e);
}
