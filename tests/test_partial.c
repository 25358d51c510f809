/* test_partial.c - the public partials (edgegrid.h): partials of unequal
 * parts merged in two different trees give eg_reduce's exact-mode bits and
 * numpy-style global indices; merges of mismatched partials, forged headers
 * and short buffers are refused with EG_EINPUT / EG_EUSAGE and a message. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "testutil.h"

#define ALL_BUT_DOT ((1u << EG_OP_COUNT_ALL) - 1 - EG_OPS_BIT(EG_OP_DOT))

static eg_engine *open_host(void)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    return e;
}

static eg_reduce_opts opts(unsigned ops, eg_mode mode)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ops;
    o.mode = mode;
    o.ddof = 1;
    return o;
}

static uint8_t *partial_of(eg_engine *e, const double *x, uint64_t n,
                           const eg_reduce_opts *o)
{
    uint8_t *p = malloc(eg_partial_size());
    eg_error err;
    cr_assert_eq(eg_reduce_partial(e, x, NULL, n, EG_F64, o, p,
                                   eg_partial_size(), NULL, &err),
                 EG_OK, "%s", err.msg);
    return p;
}

static void merge_into(uint8_t *acc, const uint8_t *right)
{
    eg_error err;
    cr_assert_eq(eg_partial_merge(acc, right, eg_partial_size(), acc, &err),
                 EG_OK, "%s", err.msg);
}

static eg_result finalize(const uint8_t *p)
{
    eg_result r;
    eg_error err;
    cr_assert_eq(eg_partial_finalize(p, eg_partial_size(), &r, &err), EG_OK,
                 "%s", err.msg);
    return r;
}

static void same_values(const eg_result *a, const eg_result *b, unsigned ops)
{
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(ops & EG_OPS_BIT(op)))
            continue;
        cr_assert_eq(a->value[op].kind, b->value[op].kind, "%s",
                     eg_op_name((eg_op)op));
        cr_assert_eq(
            memcmp(&a->value[op].v, &b->value[op].v, sizeof a->value[op].v), 0,
            "%s differs", eg_op_name((eg_op)op));
    }
}

Test(partial, unequal_parts_in_two_trees_give_the_one_box_bits)
{
    enum { N = 300000 };
    const uint64_t cut[] = {0, 1, 4096, 4096, 77777, 250001, N};
    enum { PARTS = sizeof cut / sizeof cut[0] - 1 };
    double *x = malloc(N * sizeof *x);
    tu_fill(x, EG_F64, N, 11, -1e6, 1e6);
    x[123456] = -2e6; /* a unique minimum in a middle part */
    eg_engine *e = open_host();
    eg_reduce_opts o = opts(ALL_BUT_DOT, EG_MODE_EXACT);
    eg_result one;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, NULL, N, EG_F64, &o, &one, &err), EG_OK, "%s",
                 err.msg);
    uint8_t *p[PARTS];
    for (int i = 0; i < PARTS; i++)
        p[i] = partial_of(e, x + cut[i], cut[i + 1] - cut[i], &o);
    /* left to right */
    uint8_t *acc = malloc(eg_partial_size());
    memcpy(acc, p[0], eg_partial_size());
    for (int i = 1; i < PARTS; i++)
        merge_into(acc, p[i]);
    eg_result r = finalize(acc);
    same_values(&r, &one, ALL_BUT_DOT);
    cr_assert_eq(r.value[EG_OP_ARGMIN].v.i, 123456);
    cr_assert_eq(r.elements, N);
    cr_assert_eq(r.ndim, 1);
    cr_assert_eq(r.shape[0], N);
    /* right to left: ((p4 p5) then p3 ...), the same bits */
    memcpy(acc, p[PARTS - 1], eg_partial_size());
    for (int i = PARTS - 2; i >= 0; i--) {
        eg_error e2;
        cr_assert_eq(eg_partial_merge(p[i], acc, eg_partial_size(), acc, &e2),
                     EG_OK, "%s", e2.msg);
    }
    r = finalize(acc);
    same_values(&r, &one, ALL_BUT_DOT);
    for (int i = 0; i < PARTS; i++)
        free(p[i]);
    free(acc);
    eg_engine_close(&e);
    free(x);
}

static void refused(const uint8_t *a, const uint8_t *b, const char *text)
{
    uint8_t *out = malloc(eg_partial_size());
    eg_error err;
    cr_assert_eq(eg_partial_merge(a, b, eg_partial_size(), out, &err),
                 EG_EINPUT);
    cr_assert_eq(err.code, EG_EINPUT);
    cr_assert(strstr(err.msg, text) != NULL, "message: %s", err.msg);
    free(out);
}

Test(partial, mismatched_partials_do_not_merge)
{
    double x[100];
    float f[100];
    for (int i = 0; i < 100; i++)
        f[i] = (float)(x[i] = i * 0.5);
    eg_engine *e = open_host();
    unsigned sm = EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MEAN);
    eg_reduce_opts fast = opts(sm, EG_MODE_FAST);
    uint8_t *a = partial_of(e, x, 100, &fast);
    uint8_t *pf = malloc(eg_partial_size());
    eg_error err;
    cr_assert_eq(eg_reduce_partial(e, f, NULL, 100, EG_F32, &fast, pf,
                                   eg_partial_size(), NULL, &err),
                 EG_OK);
    refused(a, pf, "float32");
    eg_reduce_opts other = opts(sm | EG_OPS_BIT(EG_OP_STD), EG_MODE_FAST);
    uint8_t *b = partial_of(e, x, 100, &other);
    refused(a, b, "different ops");
    eg_reduce_opts exact = opts(sm, EG_MODE_EXACT);
    uint8_t *c = partial_of(e, x, 100, &exact);
    refused(a, c, "exact");
    eg_reduce_opts omit = fast;
    omit.nan = EG_NAN_OMIT;
    uint8_t *d = partial_of(e, x, 100, &omit);
    refused(a, d, "nan policy");
    free(a);
    free(b);
    free(c);
    free(d);
    free(pf);
    eg_engine_close(&e);
}

Test(partial, forged_and_short_input_is_refused)
{
    double x[10] = {1, 2, 3};
    eg_engine *e = open_host();
    eg_reduce_opts o = opts(EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST);
    uint8_t *p = partial_of(e, x, 10, &o);
    uint8_t *q = malloc(eg_partial_size());
    eg_result r;
    eg_error err;
    /* asks for std, whose sums the state never computed */
    memcpy(q, p, eg_partial_size());
    unsigned std_bit = EG_OPS_BIT(EG_OP_STD);
    for (int i = 0; i < 4; i++) /* the header's ops, little-endian */
        q[8 + i] = (uint8_t)(std_bit >> (8 * i));
    cr_assert_eq(eg_partial_finalize(q, eg_partial_size(), &r, &err),
                 EG_EINPUT);
    cr_assert(strstr(err.msg, "groups") != NULL, "%s", err.msg);
    memcpy(q, p, eg_partial_size());
    q[0] = 'X';
    cr_assert_eq(eg_partial_finalize(q, eg_partial_size(), &r, &err),
                 EG_EINPUT);
    cr_assert(strstr(err.msg, "magic") != NULL, "%s", err.msg);
    memcpy(q, p, eg_partial_size());
    q[16] = 'X'; /* the state's own magic, behind the header */
    cr_assert_eq(eg_partial_finalize(q, eg_partial_size(), &r, &err),
                 EG_EINPUT);
    cr_assert(strstr(err.msg, "state: bad magic") != NULL, "%s", err.msg);
    cr_assert_eq(eg_partial_finalize(p, eg_partial_size() - 1, &r, &err),
                 EG_EINPUT);
    cr_assert_eq(
        eg_reduce_partial(e, x, NULL, 10, EG_F64, &o, q, 16, NULL, &err),
        EG_EUSAGE);
    cr_assert(strstr(err.msg, "needs") != NULL, "%s", err.msg);
    free(q);
    free(p);
    eg_engine_close(&e);
}
