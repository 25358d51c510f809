/* test_quant_grid.c - the quantile ops as grid rounds (engine_grid.h,
 * "Quantile jobs on the grid"): the collector fed the workers' payloads of
 * a split input, in any order, gives eg_quant's one-box answer bit for
 * bit; and a payload that does not fit its round (another kind, plan,
 * bucket or element count, tampered counts, cut short) is refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"

#define N 50000
#define TASK 4096

static void opts(eg_quant_opts *o)
{
    eg_quant_opts_init(o);
    o->qops = EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX | EG_QOP_HIST;
    o->nq = 4;
    o->q[0] = 0.0;
    o->q[1] = 0.5;
    o->q[2] = 0.99;
    o->q[3] = 1.0 / 3;
    o->method = EG_QM_MIDPOINT;
    o->bins = 33;
    o->have_range = 1;
    o->lo = -2.5;
    o->hi = 3.0;
}

static double *data(void)
{
    double *x = malloc(N * sizeof *x);
    cr_assert(x);
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = (double)(int64_t)(s >> 11) / 9007199254740992.0 * 4.0;
        if (i % 101 == 0)
            x[i] = -x[i] * 1e-300;
        if (i % 7 == 0)
            x[i] = x[i - (i > 0)];
    }
    return x;
}

/* Runs every round over tasks of TASK elements, in reverse order when
 * `reverse`: counts add, so the order must not matter. */
static void run_grid(const double *x, const eg_quant_opts *o, int reverse,
                     eg_quant_result *r)
{
    eg_qgrid *g = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_qgrid_open(&g, EG_F64, N, o, "x", &err), EG_OK, "%s",
                 err.msg);
    int ntasks = (N + TASK - 1) / TASK;
    for (;;) {
        eg_qround kind;
        const uint8_t *params;
        size_t plen;
        cr_assert_eq(eg_qgrid_next(g, &kind, &params, &plen, &err), EG_OK);
        if (kind == EG_QROUND_DONE)
            break;
        cr_assert_eq(kind, EG_QROUND_PASS, "a range was given: no min/max");
        for (int k = 0; k < ntasks; k++) {
            int t = reverse ? ntasks - 1 - k : k;
            uint64_t n = N - t * TASK < TASK ? N - t * TASK : TASK;
            uint8_t *p;
            size_t len;
            cr_assert_eq(eg_qgrid_task_run(params, plen, x + t * TASK, n,
                                           EG_F64, &p, &len, &err),
                         EG_OK, "%s", err.msg);
            cr_assert_null(eg_qgrid_check(g, p, len, n));
            cr_assert_eq(eg_qgrid_put(g, p, len, &err), EG_OK);
            free(p);
        }
        cr_assert_eq(eg_qgrid_round_end(g, &err), EG_OK);
    }
    cr_assert_eq(eg_qgrid_result(g, r, &err), EG_OK, "%s", err.msg);
    eg_qgrid_close(&g);
}

static void same_number(eg_number a, eg_number b, const char *what)
{
    cr_assert_eq(a.kind, b.kind, "%s kind", what);
    cr_assert_eq(memcmp(&a.v, &b.v, sizeof a.v), 0, "%s: %.17g vs %.17g",
                 what, a.v.f, b.v.f);
}

Test(quant_grid, same_bits_as_one_box_in_any_order)
{
    double *x = data();
    eg_quant_opts o;
    opts(&o);
    eg_engine *e = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    eg_quant_result want, got[2];
    cr_assert_eq(eg_quant(e, x, N, EG_F64, &o, &want, &err), EG_OK, "%s",
                 err.msg);
    for (int rev = 0; rev < 2; rev++) {
        eg_quant_result *r = &got[rev];
        run_grid(x, &o, rev, r);
        for (size_t i = 0; i < o.nq; i++) {
            same_number(r->quantile[i], want.quantile[i], "quantile");
            same_number(r->approx[i], want.approx[i], "approx_quantile");
        }
        same_number(r->median, want.median, "median");
        cr_assert_eq(r->nbins, want.nbins);
        cr_assert_eq(memcmp(r->counts, want.counts,
                            o.bins * sizeof *r->counts), 0);
        cr_assert_eq(memcmp(r->edges, want.edges,
                            (o.bins + 1) * sizeof *r->edges), 0);
        cr_assert(r->below == want.below && r->above == want.above &&
                  r->nan == want.nan);
        cr_assert_eq(r->sketch_bytes, want.sketch_bytes);
        /* float64: four passes of 16 bits */
        cr_assert_eq(r->passes, 4);
        eg_quant_result_free(r);
    }
    eg_quant_result_free(&want);
    eg_engine_close(&e);
    free(x);
}

/* The payload of task 0 in the current round of g. */
static uint8_t *payload0(eg_qgrid *g, const double *x, size_t *len)
{
    eg_qround kind;
    const uint8_t *params;
    size_t plen;
    uint8_t *p;
    eg_error err;
    cr_assert_eq(eg_qgrid_next(g, &kind, &params, &plen, &err), EG_OK);
    cr_assert_eq(kind, EG_QROUND_PASS);
    cr_assert_eq(eg_qgrid_task_run(params, plen, x, TASK, EG_F64, &p, len,
                                   &err),
                 EG_OK);
    return p;
}

Test(quant_grid, payloads_that_do_not_fit_are_refused)
{
    double *x = data();
    eg_quant_opts o;
    opts(&o);
    eg_qgrid *g = NULL;
    eg_error err;
    uint64_t count;
    cr_assert_eq(eg_qgrid_open(&g, EG_F64, N, &o, "x", &err), EG_OK);
    size_t hlen, slen;
    uint8_t *h = payload0(g, x, &hlen); /* the hist round */
    cr_assert_null(eg_qgrid_check(g, h, hlen, TASK));
    cr_assert_not_null(eg_qgrid_check(g, h, hlen, TASK - 1), "count");
    cr_assert_not_null(eg_qgrid_check(g, h, hlen - 8, TASK), "cut short");
    cr_assert_neq(eg_qgrid_payload_check(h, hlen - 8, &count, &err), EG_OK);
    cr_assert_neq(eg_qgrid_payload_check(h, hlen + 1, &count, &err), EG_OK);
    uint8_t *bad = malloc(hlen);
    memcpy(bad, h, hlen);
    bad[hlen - 8]++; /* the last bin counts one more */
    cr_assert_not_null(eg_qgrid_check(g, bad, hlen, TASK), "tampered");
    memcpy(bad, h, hlen);
    bad[16 + 16]++; /* the plan's first edge */
    cr_assert_not_null(eg_qgrid_check(g, bad, hlen, TASK), "another plan");
    free(bad);
    cr_assert_eq(eg_qgrid_put(g, h, hlen, &err), EG_OK);
    cr_assert_eq(eg_qgrid_round_end(g, &err), EG_OK);
    uint8_t *s = payload0(g, x, &slen); /* the sketch round */
    cr_assert_not_null(eg_qgrid_check(g, h, hlen, TASK), "hist in sketch");
    cr_assert_null(eg_qgrid_check(g, s, slen, TASK));
    cr_assert_eq(eg_qgrid_put(g, s, slen, &err), EG_OK);
    cr_assert_eq(eg_qgrid_round_end(g, &err), EG_OK);
    size_t plen;
    uint8_t *p = payload0(g, x, &plen); /* the first selection pass */
    cr_assert_not_null(eg_qgrid_check(g, s, slen, TASK), "sketch in pass");
    cr_assert_null(eg_qgrid_check(g, p, plen, TASK));
    bad = malloc(plen);
    memcpy(bad, p, plen);
    bad[16 + 8 + 16] = 1; /* the bucket's prefix */
    cr_assert_not_null(eg_qgrid_check(g, bad, plen, TASK), "bucket");
    memcpy(bad, p, plen);
    bad[plen - 1] = 0x80; /* a count beyond the task */
    cr_assert_not_null(eg_qgrid_check(g, bad, plen, TASK), "overflow");
    free(bad);
    free(h);
    free(s);
    free(p);
    eg_qgrid_close(&g);
    free(x);
}

Test(quant_grid, parameters_are_checked)
{
    eg_quant_opts o;
    opts(&o);
    eg_qgrid *g = NULL;
    eg_error err;
    cr_assert_eq(eg_qgrid_open(&g, EG_F32, N, &o, "x", &err), EG_OK);
    eg_qround kind;
    const uint8_t *params;
    size_t plen;
    cr_assert_eq(eg_qgrid_next(g, &kind, &params, &plen, &err), EG_OK);
    cr_assert_eq(eg_qgrid_params_check(params, plen, EG_F32, &err), EG_OK);
    cr_assert_eq(eg_qgrid_params_check(params, plen, EG_F64, &err),
                 EG_EINPUT, "another dtype");
    cr_assert_eq(eg_qgrid_params_check(params, plen - 1, EG_F32, &err),
                 EG_EINPUT, "cut short");
    uint8_t bad[64];
    memcpy(bad, params, plen);
    bad[8] = 0; /* 0 bins */
    bad[9] = bad[10] = bad[11] = 0;
    cr_assert_eq(eg_qgrid_params_check(bad, plen, EG_F32, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "bins") != NULL, "%s", err.msg);
    eg_qgrid_close(&g);
    o.rel_err = 0.7;
    cr_assert_eq(eg_qgrid_open(&g, EG_F32, N, &o, "x", &err), EG_EUSAGE);
    cr_assert_null(g);
}

/* A shard's task counts a source whole, in parts of at most 64 MiB: the
 * payload of every round must be byte for byte the one of the same
 * elements counted at once in memory, whether the source hands out its
 * memory or copies into a buffer (misaligned, here) and however many
 * parts it takes (9 Mi doubles: two). */
Test(quant_grid, a_source_counted_in_parts_gives_the_bytes_of_memory)
{
    const uint64_t n = (uint64_t)9 << 20;
    double *x = malloc(n * sizeof *x + 8);
    cr_assert(x);
    uint64_t s = 99;
    for (uint64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = (double)(int64_t)(s >> 11) / 9007199254740992.0 * 4.0;
    }
    unsigned char *odd = (unsigned char *)malloc(n * sizeof *x + 1) + 1;
    memcpy(odd, x, n * sizeof *x);
    eg_quant_opts o;
    opts(&o);
    o.qops = EG_QOP_HIST | EG_QOP_APPROX | EG_QOP_MEDIAN;
    eg_qgrid *g = NULL;
    eg_error err;
    cr_assert_eq(eg_qgrid_open(&g, EG_F64, n, &o, "x", &err), EG_OK);
    eg_source *src[2] = {NULL, NULL};
    cr_assert_eq(eg_source_wrap(&src[0], x, n, EG_F64, &err), EG_OK);
    cr_assert_eq(eg_source_wrap(&src[1], odd, n, EG_F64, &err), EG_OK);
    cr_assert(eg_source_needs_buffer(src[1]));
    unsigned rounds = 0;
    for (;;) {
        eg_qround kind;
        const uint8_t *params;
        size_t plen, wlen;
        uint8_t *want;
        cr_assert_eq(eg_qgrid_next(g, &kind, &params, &plen, &err), EG_OK);
        if (kind == EG_QROUND_DONE)
            break;
        cr_assert_eq(kind, EG_QROUND_PASS);
        cr_assert_eq(eg_qgrid_task_run(params, plen, x, n, EG_F64, &want,
                                       &wlen, &err),
                     EG_OK);
        for (int k = 0; k < 2; k++) {
            uint8_t *got;
            size_t glen;
            cr_assert_eq(eg_qgrid_task_run_source(params, plen, src[k], &got,
                                                  &glen, &err),
                         EG_OK, "%s", err.msg);
            cr_assert_eq(glen, wlen);
            cr_assert_eq(memcmp(got, want, wlen), 0, "round %u, source %d",
                         rounds, k);
            free(got);
        }
        cr_assert_null(eg_qgrid_check(g, want, wlen, n));
        cr_assert_eq(eg_qgrid_put(g, want, wlen, &err), EG_OK);
        cr_assert_eq(eg_qgrid_round_end(g, &err), EG_OK);
        free(want);
        rounds++;
    }
    /* hist, sketch and the four passes of float64 */
    cr_assert_eq(rounds, 6);
    eg_source_close(&src[0]);
    eg_source_close(&src[1]);
    eg_qgrid_close(&g);
    free(odd - 1);
    free(x);
}
