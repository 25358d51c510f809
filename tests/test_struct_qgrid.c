/* test_struct_qgrid.c - the quantile ops per axis and per group as grid
 * tasks of whole outputs: the plan, a worker's payload for every task, and
 * the collector give eg_reduce_structured_quant's bits, in any order of
 * arrival; parameters and payloads that do not fit are refused; a segment
 * longer than a task carries is a usage error naming the limit. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine_fixture.h"
#include "engine_grid.h"
#include "testutil.h"

#define ROWS 3000
#define COLS 7

static float data[ROWS * COLS];

static void fill(void)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < ROWS * COLS; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        data[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    data[5] = 0.0f;
    data[6] = -0.0f;
}

static void quant_opts(eg_quant_opts *qo, int range)
{
    eg_quant_opts_init(qo);
    qo->qops = EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX | EG_QOP_HIST;
    qo->nq = 3;
    qo->q[0] = 0.1;
    qo->q[1] = 0.5;
    qo->q[2] = 1.0 / 3.0;
    qo->bins = 6;
    if (range) {
        qo->have_range = 1;
        qo->lo = -0.25;
        qo->hi = 0.25;
    }
}

static void same_array(const eg_array_result *a, const eg_array_result *b,
                       uint64_t n)
{
    cr_assert_eq(a->kind, b->kind);
    cr_assert_eq(memcmp(a->data, b->data, n * 8), 0);
}

/* Every task through a worker's run and the collector, last task first. */
static void run_grid(int axis, int range, uint64_t task_elems)
{
    fill();
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.naxes = 1;
    so.axes[0] = axis;
    so.shape_ndim = 2;
    so.shape[0] = ROWS;
    so.shape[1] = COLS;
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = 0;
    eg_quant_opts qo;
    quant_opts(&qo, range);
    eg_engine *e = tu_open_engine("host");
    eg_error err = {0};
    eg_sresult ref;
    eg_squant_result want;
    cr_assert_eq(eg_reduce_structured_quant(e, data, ROWS * COLS, EG_F32, &so,
                                            &o, &qo, &ref, &want, &err),
                 EG_OK, "%s", err.msg);
    eg_source *x = NULL;
    cr_assert_eq(eg_source_wrap(&x, data, ROWS * COLS, EG_F32, &err), EG_OK);
    eg_sqgrid *g = NULL;
    cr_assert_eq(eg_sqgrid_open(&g, x, &so, &o, &qo, task_elems, &err), EG_OK,
                 "%s", err.msg);
    uint64_t nt = eg_sqgrid_ntasks(g);
    cr_assert_gt(nt, 1);
    for (uint64_t t = nt; t-- > 0;) {
        const eg_sqgrid_task *k = eg_sqgrid_task_at(g, t);
        float *buf = malloc(k->count * 4 + 4);
        eg_sqgrid_task_data(g, t, buf);
        size_t plen, len;
        uint8_t *params = eg_sqgrid_task_params(g, t, &plen);
        cr_assert_not_null(params);
        cr_assert_eq(eg_sqgrid_params_check(params, plen, EG_F32, k->e0,
                                            (uint32_t)k->nseg, k->count, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(eg_sqgrid_params_check(params, plen, EG_F64, k->e0,
                                            (uint32_t)k->nseg, k->count, &err),
                     EG_EINPUT);
        cr_assert_eq(eg_sqgrid_params_check(params, plen, EG_F32, k->e0,
                                            (uint32_t)k->nseg, k->count + 1,
                                            &err),
                     EG_EINPUT);
        uint8_t *payload;
        cr_assert_eq(eg_sqgrid_task_run(NULL, params, plen, buf, k->count,
                                        EG_F32, &payload, &len, &err),
                     EG_OK, "%s", err.msg);
        uint64_t count;
        cr_assert_eq(eg_sqgrid_payload_check(payload, len, &count, &err), EG_OK,
                     "%s", err.msg);
        cr_assert_eq(count, k->count);
        cr_assert_null(eg_sqgrid_check(g, t, payload, len));
        /* another task's payload is not this one's */
        if (t + 1 < nt)
            cr_assert_not_null(eg_sqgrid_check(g, t + 1, payload, len));
        eg_sqgrid_put(g, t, payload, len);
        free(payload);
        free(params);
        free(buf);
    }
    eg_sresult meta;
    eg_squant_result got;
    cr_assert_eq(eg_sqgrid_finish(g, x, &o, &meta, &got, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(got.nout, want.nout);
    cr_assert_eq(meta.nout, ref.nout);
    cr_assert_eq(meta.ndim, ref.ndim);
    same_array(&got.quantile, &want.quantile, want.nq * want.nout);
    same_array(&got.approx, &want.approx, want.nq * want.nout);
    same_array(&got.median, &want.median, want.nout);
    cr_assert_eq(memcmp(got.counts, want.counts, want.nout * want.nbins * 8),
                 0);
    uint64_t ne = want.shared_edges ? 1 : want.nout;
    cr_assert_eq(got.shared_edges, want.shared_edges);
    cr_assert_eq(memcmp(got.edges, want.edges, ne * (want.nbins + 1) * 8), 0);
    cr_assert_eq(memcmp(got.below, want.below, want.nout * 8), 0);
    cr_assert_eq(memcmp(got.above, want.above, want.nout * 8), 0);
    cr_assert_eq(memcmp(got.nan, want.nan, want.nout * 8), 0);
    cr_assert_eq(got.passes, want.passes);
    eg_squant_result_free(&got);
    eg_squant_result_free(&want);
    eg_sresult_free(&meta);
    eg_sresult_free(&ref);
    eg_sqgrid_close(&g);
    cr_assert_null(g);
    eg_source_close(&x);
    eg_engine_close(&e);
}

Test(struct_qgrid, rows_many_to_a_task_same_bits_as_one_box)
{
    run_grid(-1, 0, 4096);
}

Test(struct_qgrid, columns_a_few_to_a_task_with_a_range)
{
    run_grid(0, 1, 4096);
}

Test(struct_qgrid, bad_parameters_are_refused)
{
    uint8_t p[56 + 8] = {0};
    eg_error err = {0};
    memcpy(p, "EGSQ", 4);
    p[4] = 1;
    p[6] = EG_F32;
    p[7] = EG_QOP_MEDIAN;
    p[12] = 10; /* bins, checked even when hist is not asked */
    p[20] = 1;  /* one segment */
    p[56] = 4;  /* of 4 elements */
    double rel = 0.01;
    memcpy(p + 24, &rel, 8);
    cr_assert_eq(eg_sqgrid_params_check(p, sizeof p, EG_F32, 0, 1, 4, &err),
                 EG_OK, "%s", err.msg);
    uint8_t q[sizeof p];
    memcpy(q, p, sizeof p);
    q[4] = 2; /* version */
    cr_assert_eq(eg_sqgrid_params_check(q, sizeof q, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    cr_assert(strstr(err.msg, "version") != NULL, "%s", err.msg);
    memcpy(q, p, sizeof p);
    q[7] = 0x30; /* unknown ops */
    cr_assert_eq(eg_sqgrid_params_check(q, sizeof q, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    memcpy(q, p, sizeof p);
    q[8] = EG_QM_COUNT; /* method */
    cr_assert_eq(eg_sqgrid_params_check(q, sizeof q, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    cr_assert_eq(eg_sqgrid_params_check(p, sizeof p - 1, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    cr_assert_eq(eg_sqgrid_params_check(p, sizeof p, EG_F32, 1, 1, 4, &err),
                 EG_EINPUT); /* another first output */
    memcpy(q, p, sizeof p);
    q[56] = 9; /* lengths beyond the data */
    cr_assert_eq(eg_sqgrid_params_check(q, sizeof q, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    memcpy(q, p, sizeof p);
    q[7] = EG_QOP_HIST; /* hist with 0 bins */
    q[12] = 0;
    cr_assert_eq(eg_sqgrid_params_check(q, sizeof q, EG_F32, 0, 1, 4, &err),
                 EG_EINPUT);
    uint8_t *out;
    size_t len;
    cr_assert_eq(eg_sqgrid_task_run(NULL, q, sizeof q, data, 4, EG_F32, &out,
                                    &len, &err),
                 EG_EINPUT);
}

Test(struct_qgrid, a_segment_longer_than_a_task_is_refused)
{
    /* --axis 0 over [N, 2] of uint8 with N above the task limit: mapped,
     * never touched (planning reads no data). */
    uint64_t n = (uint64_t)EG_SQGRID_TASK_BYTES_MAX + 1;
    size_t bytes = (size_t)(2 * n);
    void *big = mmap(NULL, bytes, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(big, MAP_FAILED);
    eg_error err = {0};
    eg_source *x = NULL;
    cr_assert_eq(eg_source_wrap(&x, big, 2 * n, EG_U8, &err), EG_OK);
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.naxes = 1;
    so.axes[0] = 0;
    so.shape_ndim = 2;
    so.shape[0] = n;
    so.shape[1] = 2;
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = 0;
    eg_quant_opts qo;
    quant_opts(&qo, 0);
    eg_sqgrid *g = NULL;
    cr_assert_eq(eg_sqgrid_open(&g, x, &so, &o, &qo, 0, &err), EG_EUSAGE);
    cr_assert(strstr(err.msg, "268435456 bytes per task") != NULL, "%s",
              err.msg);
    cr_assert(strstr(err.msg, "one box") != NULL, "%s", err.msg);
    cr_assert_null(g);
    eg_source_close(&x);
    munmap(big, bytes);
}
