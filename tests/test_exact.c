/* test_exact.c - exact mode: the superaccumulators, rounding (ties to even,
 * subnormals, overflow), constructed cases with known answers, ill-
 * conditioned data against an independent fixed-point reference (testutil's
 * tu_exact, not the engine's code), the exact kernel's records against the
 * host's word for word, order-free merges, the wire form, and the same bits
 * on every device set and chunk size.  tests/cli/test_exact.py checks the
 * command line against Python's math.fsum and exact rationals. */
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_backend.h"
#include "cl_device.h"
#include "exact.h"
#include "exact_big.h"
#include "exact_levels.h"
#include "exact_state.h"
#include "lanes.h"
#include "state.h"
#include "engine_fixture.h"
#include "testutil.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)
#define NO_DOT (ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT))
#define F(r, op) ((r).value[EG_OP_##op].v.f)

static eg_result exact_run(eg_engine *e, const void *x, const void *y,
                           size_t n, eg_dtype t, unsigned ops, uint64_t chunk,
                           eg_nan_policy nan)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.mode = EG_MODE_EXACT;
    o.ops = ops;
    o.chunk_elems = chunk;
    o.nan = nan;
    eg_result r;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, y, n, t, &o, &r, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(r.mode, EG_MODE_EXACT);
    tu_assert_devices_did_all(&r, n);
    return r;
}

/* The indices of the POCL CPU devices and of the host backend as this box
 * lists them; skips the test (a real skip) with fewer than `need` POCL
 * devices. */
static size_t pocl_indices(unsigned *pocl, size_t cap, unsigned *host,
                           size_t need)
{
    eg_device_info *all = NULL;
    size_t count = 0, n = 0;
    eg_error err;
    cr_assert_eq(eg_devices_list(&all, &count, NULL, 0, &err), EG_OK, "%s",
                 err.msg);
    for (size_t i = 0; i < count; i++) {
        if (all[i].kind == EG_DEV_HOST)
            *host = all[i].index;
        else if (all[i].kind == EG_DEV_CPU && n < cap &&
                 strstr(all[i].platform, "Portable Computing Language"))
            pocl[n++] = all[i].index;
    }
    free(all);
    if (n < need)
        cr_skip_test("needs %zu POCL CPU devices, this box lists %zu", need,
                     n);
    return n;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* got is the double nearest to the exact value, given as a long double ref
 * (64 bits of it: decisive unless the value is within 2^-64 of a tie). */
static int is_nearest(double got, long double ref)
{
    if (isinf(got))
        return fabsl(ref) >= (long double)DBL_MAX &&
               (got > 0) == (ref > 0);
    long double d0 = fabsl(ref - (long double)got);
    long double up = nextafter(got, INFINITY), dn = nextafter(got, -INFINITY);
    return d0 <= fabsl(ref - up) && d0 <= fabsl(ref - dn);
}

/* |got - want| <= one ulp of got. */
static int within_ulp(double got, long double want)
{
    double ulp = nextafter(fabs(got), INFINITY) - fabs(got);
    return fabsl((long double)got - want) <= (long double)ulp;
}

/* Inputs of up to 64 lanes take the host path in the calling thread
 * (engine.c); constructed cases are spread over this many zeros, which add
 * nothing, so that the kernels see them too. */
#define PADDED (80 * EG_LANE_ELEMS + 3)

/* x (and y) spread over PADDED zeros, every 4099th place. */
static double *spread(const double *v, size_t n)
{
    double *p = calloc(PADDED, sizeof *p);
    cr_assert(n * 4099 < PADDED);
    for (size_t i = 0; i < n; i++)
        p[i * 4099] = v[i];
    return p;
}

/* The specs every bitwise test runs on: the host and the OpenCL device. */
static const char *const specs[] = {"host", "opencl"};
#define NSPECS (sizeof specs / sizeof specs[0])

/* --------------------------------------------------- superaccumulators */

Test(exact, fixed_point_carries_borrows_and_products)
{
    uint64_t w[EG_EXACT_SUM_WORDS] = {0}, p[EG_EXACT_PROD_WORDS] = {0};
    eg_big b;
    /* -2^-1074 borrows through every word; +2^-1074 carries back. */
    eg_fixed_add_double(w, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, -0x1p-1074);
    for (size_t i = 0; i < EG_EXACT_SUM_WORDS; i++)
        cr_assert_eq(w[i], UINT64_MAX);
    cr_assert_eq(eg_fixed_sign(w, EG_EXACT_SUM_WORDS), -1);
    eg_fixed_add_double(w, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, 0x1p-1074);
    cr_assert(eg_fixed_is_zero(w, EG_EXACT_SUM_WORDS));
    /* DBL_MAX lands in the top words with room to spare for 2^64 of them. */
    eg_fixed_add_double(w, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, DBL_MAX);
    cr_assert_eq(eg_big_from_fixed(&b, w, EG_EXACT_SUM_WORDS), 0);
    cr_assert_eq(eg_big_bits(&b), 1024 + 1074);
    cr_assert_eq(eg_big_to_double(&b, EG_EXACT_SUM_LSB, 0, 0), DBL_MAX);
    /* Products: the smallest and the largest, exactly. */
    eg_fixed_add_product(p, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                         0x1p-1074, -0x1p-1074);
    cr_assert_eq(eg_big_from_fixed(&b, p, EG_EXACT_PROD_WORDS), 1);
    cr_assert_eq(eg_big_bits(&b), 1);
    eg_fixed_add_product(p, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                         0x1p-1074, 0x1p-1074);
    eg_fixed_add_product(p, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB, DBL_MAX,
                         DBL_MAX);
    cr_assert_eq(eg_big_from_fixed(&b, p, EG_EXACT_PROD_WORDS), 0);
    cr_assert_eq(eg_big_bits(&b), 2048 + 2148);
    /* (2^53 - 1)^2 needs 106 bits: none may be lost across words. */
    memset(p, 0, sizeof p);
    double m = 0x1.fffffffffffffp+0;
    eg_fixed_add_product(p, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB, m, m);
    eg_big_from_fixed(&b, p, EG_EXACT_PROD_WORDS);
    eg_big want;
    u128 sq = (u128)((UINT64_C(1) << 53) - 1) * ((UINT64_C(1) << 53) - 1);
    eg_big_from_u128(&want, (uint64_t)sq, (uint64_t)(sq >> 64));
    eg_big_shl(&want, 2148 - 104);
    cr_assert_eq(eg_big_cmp(&b, &want), 0);
}

Test(exact, rounding_of_big_values_ties_to_even_and_subnormals)
{
    eg_big a;
    /* 2^53 + 1 is a tie between 2^53 and 2^53 + 2: even wins. */
    eg_big_from_u128(&a, (UINT64_C(1) << 53) + 1, 0);
    cr_assert_eq(eg_big_to_double(&a, 0, 0, 0), 0x1p53);
    /* ... unless something lies below the tie. */
    cr_assert_eq(eg_big_to_double(&a, 0, 1, 0), 0x1p53 + 2);
    eg_big_from_u128(&a, (UINT64_C(1) << 53) + 3, 0);
    cr_assert_eq(eg_big_to_double(&a, 0, 0, 1), -(0x1p53 + 4));
    /* Subnormal results round once, on the 2^-1074 grid. */
    eg_big_from_u128(&a, 3, 0);
    cr_assert_eq(eg_big_to_double(&a, -1075, 0, 0), 0x1p-1073);
    eg_big_from_u128(&a, 1, 0);
    cr_assert_eq(eg_big_to_double(&a, -1075, 0, 0), 0.0);
    cr_assert_eq(eg_big_to_double(&a, -1075, 1, 0), 0x1p-1074);
    /* Past the largest double: infinity. */
    eg_big_from_u128(&a, 1, 0);
    cr_assert(isinf(eg_big_to_double(&a, 1024, 0, 0)));
    eg_big_from_u128(&a, (UINT64_C(1) << 54) - 1, 0); /* rounds up to 2^54 */
    cr_assert(isinf(eg_big_to_double(&a, 1024 - 54, 0, 0)));
}

/* ------------------------------------------------- constructed answers */

/* Sums at and around rounding ties, f64 and f32 input, every backend. */
Test(exact, results_at_ties_round_to_even)
{
    struct {
        double x[4];
        size_t n;
        double want;
    } cases[] = {
        {{1.0, 0x1p-53}, 2, 1.0},
        {{1.0 + 0x1p-52, 0x1p-53}, 2, 1.0 + 0x1p-51},
        {{1.0, 0x1p-53, 0x1p-1074}, 3, 1.0 + 0x1p-52},
        {{1.0, 0x1p-53, -0x1p-1074}, 3, 1.0},
        {{-1.0, -0x1p-53}, 2, -1.0},
        {{0x1p1023, 0x1p970}, 2, 0x1p1023},          /* tie at the top */
        {{0x1p1023, 0x1p970, 0x1p-1074}, 3, 0x1p1023 + 0x1p971},
        {{DBL_MAX, 0x1p970}, 2, INFINITY},           /* tie past the top */
        {{DBL_MAX, DBL_MAX, -DBL_MAX}, 3, DBL_MAX},  /* fast mode: inf */
    };
    for (size_t s = 0; s < NSPECS; s++) {
        eg_engine *e = tu_open_engine(specs[s]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            double *p = spread(cases[i].x, cases[i].n);
            eg_result r = exact_run(e, cases[i].x, NULL, cases[i].n, EG_F64,
                                    EG_OPS_BIT(EG_OP_SUM), 0,
                                    EG_NAN_PROPAGATE);
            eg_result rp = exact_run(e, p, NULL, PADDED, EG_F64,
                                     EG_OPS_BIT(EG_OP_SUM), 0,
                                     EG_NAN_PROPAGATE);
            cr_assert_eq(dbits(F(r, SUM)), dbits(cases[i].want),
                         "%s case %zu: got %a want %a", specs[s], i,
                         F(r, SUM), cases[i].want);
            cr_assert_eq(dbits(F(rp, SUM)), dbits(cases[i].want),
                         "%s case %zu spread: got %a want %a", specs[s], i,
                         F(rp, SUM), cases[i].want);
            free(p);
        }
        /* f32 input, a double tie: 2^53 + 1 -> 2^53, 2^53 + 3 -> 2^53 + 4 */
        float f[] = {0x1p53f, 1.0f, 0x1p53f, 1.0f, 2.0f};
        eg_result r = exact_run(e, f, NULL, 2, EG_F32, EG_OPS_BIT(EG_OP_SUM),
                                0, EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, SUM), 0x1p53);
        r = exact_run(e, f + 2, NULL, 3, EG_F32, EG_OPS_BIT(EG_OP_SUM), 0,
                      EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, SUM), 0x1p53 + 4);
        /* dot at a tie: (1 + 2^-52) * 1 + 2^-27 * 2^-26 -> 1 + 2^-51 */
        double dx[] = {1.0 + 0x1p-52, 0x1p-27}, dy[] = {1.0, 0x1p-26};
        double *px = spread(dx, 2), *py = spread(dy, 2);
        r = exact_run(e, px, py, PADDED, EG_F64, EG_OPS_BIT(EG_OP_DOT), 0,
                      EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, DOT), 1.0 + 0x1p-51, "%s dot %a", specs[s],
                     F(r, DOT));
        free(px);
        free(py);
        eg_engine_close(&e);
    }
}

static void shuffle(double *x, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(tu_next(&s) % i);
        double t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* Pairs x, -x over the whole exponent range plus one tiny value: the sum
 * is the tiny value, on every backend and chunk size. */
Test(exact, opposite_pairs_leave_the_tiny_value)
{
    size_t pairs = 150000, n = 2 * pairs + 1;
    double *x = malloc(n * sizeof *x);
    uint64_t s = 7;
    for (size_t i = 0; i < pairs; i++) {
        double v = ldexp(1.0 + tu_unit(&s), (int)(tu_next(&s) % 2000) - 1000);
        x[2 * i] = v;
        x[2 * i + 1] = -v;
    }
    x[n - 1] = 0x1p-1074 * 3;
    shuffle(x, n, 11);
    const uint64_t chunks[] = {0, EG_LANE_ELEMS, 16 * EG_LANE_ELEMS};
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        for (size_t c = 0; c < 3; c++) {
            eg_result r = exact_run(e, x, NULL, n, EG_F64,
                                    EG_OPS_BIT(EG_OP_SUM) |
                                        EG_OPS_BIT(EG_OP_MEAN),
                                    chunks[c], EG_NAN_PROPAGATE);
            cr_assert_eq(F(r, SUM), 0x1p-1074 * 3, "%s chunk %llu: %a",
                         specs[sp], (unsigned long long)chunks[c],
                         F(r, SUM));
            cr_assert_eq(dbits(F(r, MEAN)), dbits(0.0));
        }
        eg_engine_close(&e);
    }
    free(x);
}

/* Every power of two from 2^-1074 to 2^1022: the exact sum is
 * 2^1023 - 2^-1074, which rounds to 2^1023; with 2^1023 too it rounds past
 * the largest double to inf.  Alternating signs too, checked against the
 * reference. */
Test(exact, values_spanning_the_whole_exponent_range)
{
    /* 2098 values among zeros, so that the kernels see them too */
    size_t n = PADDED;
    double *x = calloc(n, sizeof *x), *alt = calloc(n, sizeof *alt);
    tu_exact ref;
    tu_exact_init(&ref);
    for (size_t i = 0; i < 1074 + 1024; i++) {
        x[n - 1 - i] = ldexp(1.0, 1023 - (int)i);
        alt[i] = i % 2 ? -x[n - 1 - i] : x[n - 1 - i];
        tu_exact_add(&ref, alt[i]);
    }
    shuffle(x, n - 1, 3); /* 2^1023 stays last */
    shuffle(alt, n, 4);
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        eg_result r = exact_run(e, x, NULL, n - 1, EG_F64, NO_DOT, 0,
                                EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, SUM), 0x1p1023, "%s", specs[sp]);
        cr_assert_eq(F(r, L1), 0x1p1023);
        cr_assert(within_ulp(F(r, L2), 0x1p1022L * sqrtl(4.0L / 3.0L)),
                  "%s l2 %a", specs[sp], F(r, L2));
        r = exact_run(e, x, NULL, n, EG_F64, NO_DOT, 0, EG_NAN_PROPAGATE);
        cr_assert(isinf(F(r, SUM)) && F(r, SUM) > 0, "%s", specs[sp]);
        /* sum(x^2) passes 2^2046, its root stays finite */
        cr_assert(within_ulp(F(r, L2), 0x1p1023L * sqrtl(4.0L / 3.0L)),
                  "%s l2 %a", specs[sp], F(r, L2));
        r = exact_run(e, alt, NULL, n, EG_F64, EG_OPS_BIT(EG_OP_SUM), 0,
                      EG_NAN_PROPAGATE);
        cr_assert(is_nearest(F(r, SUM), tu_exact_value(&ref)), "%s %a",
                  specs[sp], F(r, SUM));
        eg_engine_close(&e);
    }
    free(x);
    free(alt);
}

/* A million random subnormals: the exact sum is an integer multiple of
 * 2^-1074 that an __int128 holds. */
Test(exact, many_subnormals)
{
    size_t n = 1000003;
    double *x = malloc(n * sizeof *x);
    uint64_t s = 5;
    i128 total = 0;
    u128 squares = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t m = tu_next(&s) & ((UINT64_C(1) << 52) - 1);
        int neg = (int)(tu_next(&s) & 1);
        x[i] = (neg ? -1.0 : 1.0) * ldexp((double)m, -1074);
        total += neg ? -(i128)m : (i128)m;
        squares += (u128)m * m;
    }
    /* (double) of an __int128 rounds once; the scaling is exact in the
     * normal range. */
    double want = ldexp((double)total, -1074);
    long double l2 = ldexpl(sqrtl((long double)squares), -1074);
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        eg_result r = exact_run(e, x, NULL, n, EG_F64,
                                EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_L2),
                                0, EG_NAN_PROPAGATE);
        cr_assert_eq(dbits(F(r, SUM)), dbits(want), "%s %a want %a",
                     specs[sp], F(r, SUM), want);
        cr_assert(within_ulp(F(r, L2), l2), "%s l2 %a", specs[sp], F(r, L2));
        r = exact_run(e, x, NULL, 3, EG_F64, EG_OPS_BIT(EG_OP_SUM), 0,
                      EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, SUM), x[0] + x[1] + x[2]); /* subnormal sums are
                                                        exact in IEEE too */
        eg_engine_close(&e);
    }
    free(x);
}

/* 1e9 + k: var is (n^2 - 1) / 12 exactly, however large the offset. */
Test(exact, variance_keeps_its_digits_at_an_offset)
{
    size_t n = 300007; /* n^2 - 1 is a multiple of 12 */
    double *x = malloc(n * sizeof *x);
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++) {
        x[i] = 1e9 + (double)i;
        f[i] = (float)(0x1p23 + (double)i); /* exact in f32 */
    }
    shuffle(x, n, 1);
    double var = (double)(((u128)n * n - 1) / 12);
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        eg_result r = exact_run(e, x, NULL, n, EG_F64, NO_DOT, 0,
                                EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, VAR), var, "%s var %.17g", specs[sp], F(r, VAR));
        cr_assert(within_ulp(F(r, STD), sqrtl((long double)var)));
        cr_assert_eq(F(r, MEAN), 1e9 + (double)(n - 1) / 2);
        r = exact_run(e, f, NULL, n, EG_F32, NO_DOT, 0, EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, VAR), var, "%s f32 var %.17g", specs[sp],
                     F(r, VAR));
        eg_engine_close(&e);
    }
    free(x);
    free(f);
}

/* ---------------------------------------------- ill-conditioned data */

static void *load_npy_data(const char *path, size_t elem, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
    unsigned char head[10];
    cr_assert_eq(fread(head, 1, 10, fp), 10);
    size_t hlen = (size_t)head[8] | (size_t)head[9] << 8; /* version 1 */
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    size_t bytes = (size_t)size - 10 - hlen;
    void *p = malloc(bytes + 8);
    fseek(fp, (long)(10 + hlen), SEEK_SET);
    cr_assert_eq(fread(p, 1, bytes, fp), bytes);
    fclose(fp);
    *n = bytes / elem;
    return p;
}

static void *gen_ill(eg_dtype t, size_t n, double cond, uint64_t seed,
                     size_t *count)
{
    char dir[] = "/tmp/eg-exact-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/x.npy", dir);
    eg_gen_opts o = {.count = n, .dtype = t, .dist = EG_DIST_ILL,
                     .cond = cond, .seed = seed};
    eg_error err;
    cr_assert_eq(eg_gen_npy(path, &o, &err), EG_OK, "%s", err.msg);
    void *p = load_npy_data(path, eg_dtype_size(t), count);
    unlink(path);
    rmdir(dir);
    return p;
}

/* The reference of sum, l1 and dot: tu_exact (a 2240-bit fixed point of
 * the test support), products as TwoProduct pairs. */
static void ill_check(eg_engine *e, const char *spec, eg_dtype t,
                      double cond)
{
    size_t n;
    void *x = gen_ill(t, 300007, cond, 42, &n);
    void *y = gen_ill(t, n, 1e3, 43, &n);
    tu_exact s, a, d;
    tu_exact_init(&s);
    tu_exact_init(&a);
    tu_exact_init(&d);
    for (size_t i = 0; i < n; i++) {
        double v = (double)tu_get(x, t, i), w = (double)tu_get(y, t, i);
        double p = v * w;
        tu_exact_add(&s, v);
        tu_exact_add(&a, fabs(v));
        tu_exact_add(&d, p);
        tu_exact_add(&d, fma(v, w, -p));
    }
    eg_result r = exact_run(e, x, y, n, t, ALL_OPS, 0, EG_NAN_PROPAGATE);
    cr_assert(is_nearest(F(r, SUM), tu_exact_value(&s)),
              "%s %s cond %g: sum %.17g, exact %.20Lg", spec,
              eg_dtype_name(t), cond, F(r, SUM), tu_exact_value(&s));
    cr_assert(is_nearest(F(r, L1), tu_exact_value(&a)), "%s l1", spec);
    cr_assert(is_nearest(F(r, DOT), tu_exact_value(&d)),
              "%s %s cond %g: dot %.17g, exact %.20Lg", spec,
              eg_dtype_name(t), cond, F(r, DOT), tu_exact_value(&d));
    cr_assert(is_nearest(F(r, MEAN), tu_exact_value(&s) / n), "%s mean",
              spec);
    free(x);
    free(y);
}

Test(exact, ill_conditioned_data_is_correctly_rounded)
{
    const double conds[] = {1e3, 1e10, 1e20, 1e30, 1e40};
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        for (size_t c = 0; c < 5; c++) {
            ill_check(e, specs[sp], EG_F64, conds[c]);
            if (conds[c] < 1e28) /* f32 reaches cond 2^96 */
                ill_check(e, specs[sp], EG_F32, conds[c]);
        }
        eg_engine_close(&e);
    }
}

/* ------------------------------------------------ special values */

Test(exact, nan_and_infinities_follow_ieee)
{
    double a[] = {1.0, NAN, 3.0, -2.0};
    double b[] = {1.0, INFINITY, 2.0, -INFINITY};
    double c[] = {DBL_MAX, INFINITY, 2.0};
    double z[] = {1.0, 0.0, 2.0};
    double big[] = {1e200, 1e200}, bigy[] = {1e200, -1e200};
    for (size_t sp = 0; sp < NSPECS; sp++) {
        eg_engine *e = tu_open_engine(specs[sp]);
        eg_result r = exact_run(e, a, NULL, 4, EG_F64, NO_DOT, 0,
                                EG_NAN_PROPAGATE);
        cr_assert(isnan(F(r, SUM)) && isnan(F(r, MEAN)) && isnan(F(r, VAR)));
        cr_assert(isnan(F(r, L1)) && isnan(F(r, L2)) && isnan(F(r, MIN)));
        cr_assert_eq(r.value[EG_OP_ARGMIN].v.i, 1);
        r = exact_run(e, a, NULL, 4, EG_F64, NO_DOT, 0, EG_NAN_OMIT);
        cr_assert_eq(F(r, SUM), 2.0);
        cr_assert_eq(F(r, MEAN), 2.0 / 3.0);
        cr_assert_eq(F(r, VAR), 38.0 / 9.0); /* correctly rounded */
        cr_assert_eq(F(r, MIN), -2.0);
        cr_assert_eq(r.value[EG_OP_ARGMAX].v.i, 2);
        r = exact_run(e, b, NULL, 4, EG_F64, NO_DOT, 0, EG_NAN_PROPAGATE);
        cr_assert(isnan(F(r, SUM)), "+inf and -inf make nan");
        cr_assert(isinf(F(r, L1)) && isnan(F(r, VAR)));
        r = exact_run(e, c, NULL, 3, EG_F64, NO_DOT, 0, EG_NAN_PROPAGATE);
        cr_assert(isinf(F(r, SUM)) && F(r, SUM) > 0);
        cr_assert_eq(F(r, MAX), INFINITY);
        /* inf * 0 is nan; inf * 1 is inf */
        r = exact_run(e, c, z, 3, EG_F64, EG_OPS_BIT(EG_OP_DOT), 0,
                      EG_NAN_PROPAGATE);
        cr_assert(isnan(F(r, DOT)));
        r = exact_run(e, c + 1, z + 2, 1, EG_F64, EG_OPS_BIT(EG_OP_DOT), 0,
                      EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, DOT), INFINITY);
        r = exact_run(e, c, a, 2, EG_F64, EG_OPS_BIT(EG_OP_DOT), 0,
                      EG_NAN_OMIT);
        cr_assert_eq(F(r, DOT), DBL_MAX, "omit skips the pair with a nan");
        /* products past DBL_MAX cancel exactly: the exact dot is 0 */
        r = exact_run(e, big, bigy, 2, EG_F64, EG_OPS_BIT(EG_OP_DOT), 0,
                      EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, DOT), 0.0, "%s: %g", specs[sp], F(r, DOT));
        /* an empty array */
        r = exact_run(e, a, NULL, 0, EG_F64, NO_DOT, 0, EG_NAN_PROPAGATE);
        cr_assert_eq(F(r, SUM), 0.0);
        cr_assert(isnan(F(r, MEAN)) && isnan(F(r, VAR)));
        eg_engine_close(&e);
    }
}

/* Integers are exact already: exact mode takes their usual path. */
Test(exact, integers_keep_their_exact_path)
{
    size_t n = 300001;
    int32_t *x = malloc(n * sizeof *x);
    tu_fill(x, EG_I32, n, 9, 0, 0);
    eg_engine *e = tu_open_engine("all");
    eg_result r = exact_run(e, x, NULL, n, EG_I32, NO_DOT, 0,
                            EG_NAN_PROPAGATE);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = NO_DOT;
    eg_result f;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, NULL, n, EG_I32, &o, &f, &err), EG_OK);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++)
        cr_assert(!memcmp(&r.value[op], &f.value[op], sizeof r.value[op]),
                  "%s differs", eg_op_name(op));
    free(x);
    eg_engine_close(&e);
}

/* ----------------------------------------------- bitwise identity */

static void *mixed_data(eg_dtype t, size_t n, uint64_t seed)
{
    size_t sz = eg_dtype_size(t);
    void *p = malloc(n * sz);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        /* mostly ordinary values, now and then a huge or tiny one, so some
         * lanes need more levels or the careful path */
        int e = (int)(tu_next(&s) % 40) - 20;
        if (tu_next(&s) % 997 == 0)
            e = t == EG_F32 ? (int)(tu_next(&s) % 200) - 100
                            : (int)(tu_next(&s) % 1200) - 600;
        double v = ldexp(tu_unit(&s) - 0.5, e) + (i % 3 == 0 ? 1e6 : 0.0);
        if (t == EG_F32)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
    return p;
}

Test(exact, same_bits_on_every_device_set_and_chunk_size,
     .init = tu_two_pocl_devices)
{
    unsigned pocl[2], host = 0;
    pocl_indices(pocl, 2, &host, 2);
    char sets[5][64];
    snprintf(sets[0], 64, "host");
    snprintf(sets[1], 64, "%u", pocl[0]);
    snprintf(sets[2], 64, "%u", pocl[1]);
    snprintf(sets[3], 64, "%u,%u", pocl[0], pocl[1]);
    snprintf(sets[4], 64, "%u,%u,%u", pocl[0], pocl[1], host);
    const uint64_t chunks[] = {EG_LANE_ELEMS, 3 * EG_LANE_ELEMS,
                               64 * EG_LANE_ELEMS, 0};
    size_t n = 2000003;
    for (int t = EG_F32; t <= EG_F64; t++) {
        void *x = mixed_data((eg_dtype)t, n, 100 + t);
        void *y = mixed_data((eg_dtype)t, n, 200 + t);
        eg_result first = {0};
        int have = 0;
        for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
            eg_engine *e = tu_open_engine(sets[s]);
            for (size_t c = 0; c < 4; c++) {
                eg_result r = exact_run(e, x, y, n, (eg_dtype)t, ALL_OPS,
                                        chunks[c], EG_NAN_PROPAGATE);
                if (!have) {
                    first = r;
                    have = 1;
                }
                for (int op = 0; op < EG_OP_COUNT_ALL; op++)
                    cr_assert(!memcmp(&r.value[op], &first.value[op],
                                      sizeof r.value[op]),
                              "%s: --devices %s --chunk %llu: %s differs",
                              eg_dtype_name((eg_dtype)t), sets[s],
                              (unsigned long long)chunks[c],
                              eg_op_name(op));
            }
            if (s == 3) {
                eg_result r = exact_run(e, x, y, n, (eg_dtype)t, ALL_OPS,
                                        16 * EG_LANE_ELEMS, EG_NAN_PROPAGATE);
                cr_assert_eq(r.ndevices, 2);
                cr_assert(r.devices[0].elements && r.devices[1].elements,
                          "both POCL devices take chunks");
            }
            eg_engine_close(&e);
        }
        free(x);
        free(y);
    }
}

/* ------------------------------------------ kernel records = host's */

static void fill_kind(void *p, eg_dtype t, size_t n, int kind, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double v;
        switch (kind) {
        case 0: v = tu_unit(&s) * 8.0 - 3.0; break;             /* plain */
        case 1: v = 1e9 + tu_unit(&s) * 1e3; break;             /* offset */
        case 2: v = ldexp(tu_unit(&s) - 0.5,                     /* wide */
                          (int)(tu_next(&s) % 120) - 60);
            break;
        case 3: v = ldexp(tu_unit(&s) - 0.5, -1040); break;     /* tiny */
        case 5: /* lanes that start with zeros: no guessed plan */
            v = i % EG_LANE_ELEMS < 12 ? 0.0 : tu_unit(&s) - 0.5;
            break;
        case 6: /* of lanes read side by side, some without a guessed
                 * plan and some whose plan fails late */
            v = tu_unit(&s) - 0.5;
            if (i / EG_LANE_ELEMS % 3 == 1 && i % EG_LANE_ELEMS < 12)
                v = 0.0;
            if (i / EG_LANE_ELEMS % 5 == 2 && i % EG_LANE_ELEMS == 4000)
                v = ldexp(v, 70);
            if (i / EG_LANE_ELEMS % 7 == 3 && i % EG_LANE_ELEMS == 4095)
                v = ldexp(v, -60);
            break;
        default: /* specials now and then, so some lanes go careful */
            v = tu_unit(&s);
            if (tu_next(&s) % 9000 == 0)
                v = (tu_next(&s) & 1) ? NAN : -INFINITY;
            if (tu_next(&s) % 7000 == 0)
                v = ldexp(v, 900);
            break;
        }
        if (kind == 0 && i % 5 == 0)
            v = 0.0;
        if (t == EG_F32)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
}

Test(exact, kernel_records_match_the_host_word_for_word)
{
    eg_device **devs = NULL;
    size_t count = 0;
    char notes[256] = "";
    eg_error err;
    cr_assert_eq(eg_cl_enumerate(&devs, &count, notes, sizeof notes, &err),
                 EG_OK);
    cr_assert_geq(count, 1, "no OpenCL device: %s", notes);
    /* Every OpenCL device with its own layout, and CPU devices with the
     * portable one too (a lane a work-item, nothing side by side, no
     * prefetch: what GPUs run). */
    for (size_t v = 0; v < 2 * count; v++) {
        eg_device *dev = devs[v / 2];
        int portable = (int)(v % 2);
        if (!portable && dev->info.kind != EG_DEV_CPU)
            continue; /* a GPU's own layout is the portable one */
        eg_cl_device_set_portable(dev, portable);
        /* Sets of every width of the kernel's side-by-side pass. */
        const unsigned sets[] = {EG_G_EXACT, EG_G_EXACT | EG_G_ALL,
                                 EG_G_EXACT | EG_G_DOT,
                                 EG_G_EXACT | EG_G_VAR | EG_G_MINMAX | EG_G_L1,
                                 EG_G_EXACT | EG_G_MINMAX, EG_G_EXACT | EG_G_L1};
        const size_t nsets = sizeof sets / sizeof sets[0];
        const uint64_t sizes[] = {1, 7, EG_LANE_ELEMS, EG_LANE_ELEMS + 1,
                                  3 * EG_LANE_ELEMS + 5, 200003};
        size_t maxn = 200003;
        for (int t = EG_F32; t <= EG_F64; t++) {
            size_t sz = eg_dtype_size((eg_dtype)t);
            void *x = malloc(maxn * sz), *y = malloc(maxn * sz);
            size_t words = eg_lane_count(maxn) * EG_EXACT_LANE_WORDS;
            uint64_t *got = malloc(words * 8), *want = malloc(words * 8);
            for (int kind = 0; kind < 7; kind++) {
                fill_kind(x, (eg_dtype)t, maxn, kind, 10 + kind);
                fill_kind(y, (eg_dtype)t, maxn, kind == 1 ? 0 : kind, 20 + kind);
                for (size_t g = 0; g < nsets; g++) {
                    for (size_t k = 0; k < 6; k++) {
                        uint64_t n = sizes[k], nw = eg_lane_count(n) *
                                                    EG_EXACT_LANE_WORDS;
                        memset(got, 0xa5, nw * 8);
                        eg_status st = dev->ops->reduce_chunk(
                            dev, x, (sets[g] & EG_G_DOT) ? y : NULL, n,
                            (eg_dtype)t, sets[g], got, &err);
                        cr_assert_eq(st, EG_OK, "%s", err.msg);
                        eg_lanes_exact(x, (sets[g] & EG_G_DOT) ? y : NULL, n,
                                       (eg_dtype)t, sets[g], want);
                        for (size_t i = 0; i < nw; i++)
                            cr_assert_eq(got[i], want[i],
                                         "%s %s: %s kind %d groups 0x%x n "
                                         "%llu: lane %zu word %zu: kernel "
                                         "%016llx host %016llx",
                                         dev->info.name,
                                         portable ? "portable" : "cpu-tuned",
                                         eg_dtype_name((eg_dtype)t), kind,
                                         sets[g], (unsigned long long)n,
                                         i / EG_EXACT_LANE_WORDS,
                                         i % EG_EXACT_LANE_WORDS,
                                         (unsigned long long)got[i],
                                         (unsigned long long)want[i]);
                    }
                }
            }
            free(x);
            free(y);
            free(got);
            free(want);
        }
    }
    for (size_t i = 0; i < count; i++)
        eg_device_destroy(&devs[i]);
    free(devs);
}

/* The portable exact kernel (GPUs and accelerators) gives a lane a
 * work-group: one group per lane, the host's words, on every OpenCL device
 * present (CPU devices forced onto the portable kernels). */
Test(exact, portable_kernel_takes_a_lane_per_work_group)
{
    eg_device **devs = NULL;
    size_t count = 0;
    char notes[256] = "";
    eg_error err;
    cr_assert_eq(eg_cl_enumerate(&devs, &count, notes, sizeof notes, &err),
                 EG_OK);
    cr_assert_geq(count, 1, "no OpenCL device: %s", notes);
    enum { N = 37 * EG_LANE_ELEMS + 11 }; /* 38 lanes */
    const unsigned g = EG_G_EXACT | EG_G_ALL;
    /* Lanes without a guessed plan, lanes whose plan fails late (cut
     * again on more levels), two careful lanes (a NaN, an infinity), the
     * rest on their guessed plan. */
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    cr_assert(x && y);
    fill_kind(x, EG_F64, N, 6, 41);
    fill_kind(y, EG_F64, N, 6, 42);
    x[9 * EG_LANE_ELEMS + 100] = NAN;
    y[20 * EG_LANE_ELEMS + 5] = -INFINITY;
    size_t words = eg_lane_count(N) * EG_EXACT_LANE_WORDS;
    uint64_t *got = malloc(words * 8), *want = malloc(words * 8);
    cr_assert(got && want);
    eg_lanes_exact(x, y, N, EG_F64, g, want);
    /* The data takes every path of the kernel. */
    size_t careful = 0, wide = 0;
    for (size_t l = 0; l < eg_lane_count(N); l++) {
        const uint64_t *r = want + l * EG_EXACT_LANE_WORDS;
        careful += (r[EG_X_FLAGS] & EG_LANE_NEEDS_CAREFUL) != 0;
        wide += r[EG_X_SUM + EG_EXACT_FIX_X] != 0;
    }
    cr_assert(careful > 0 && wide > 0 && careful + wide < eg_lane_count(N),
              "careful %zu, more levels %zu of %llu lanes", careful, wide,
              (unsigned long long)eg_lane_count(N));
    for (size_t d = 0; d < count; d++) {
        eg_device *dev = devs[d];
        eg_cl_device_set_portable(dev, 1);
        memset(got, 0xa5, words * 8);
        cr_assert_eq(dev->ops->reduce_chunk(dev, x, y, N, EG_F64, g, got, &err),
                     EG_OK, "%s", err.msg);
        for (size_t i = 0; i < words; i++)
            cr_assert_eq(got[i], want[i], "%s: lane %zu word %zu: %016llx, "
                         "host %016llx", dev->info.name,
                         i / EG_EXACT_LANE_WORDS, i % EG_EXACT_LANE_WORDS,
                         (unsigned long long)got[i],
                         (unsigned long long)want[i]);
        cr_assert_geq(dev->launch_local, 32, "%s: local size %llu",
                      dev->info.name,
                      (unsigned long long)dev->launch_local);
        cr_assert_eq(dev->launch_global, 38 * dev->launch_local,
                     "%s: global %llu local %llu, want a group a lane",
                     dev->info.name,
                     (unsigned long long)dev->launch_global,
                     (unsigned long long)dev->launch_local);
    }
    free(x);
    free(y);
    free(got);
    free(want);
    for (size_t i = 0; i < count; i++)
        eg_device_destroy(&devs[i]);
    free(devs);
}

/* ---------------------------------------------- merges and the wire */

/* The state of x[from, to) through the host's exact lanes. */
static void slice_state(const double *x, size_t from, size_t to,
                        unsigned g, eg_state *out)
{
    size_t n = to - from;
    uint64_t *w = malloc((eg_lane_count(n) + 1) * EG_EXACT_LANE_WORDS * 8);
    eg_lanes_exact(x + from, x + from, n, EG_F64, g, w);
    eg_exact_chunk_state(w, x + from, x + from, n, from, EG_F64, g, out);
    free(w);
}

Test(exact, states_merge_in_any_order_to_the_same_bits)
{
    size_t n = 500000, parts = 37;
    double *x = mixed_data(EG_F64, n, 77);
    x[12345] = NAN; /* a careful lane among the others */
    unsigned g = EG_G_EXACT | EG_G_ALL;
    size_t cut[38];
    eg_state *st = malloc(parts * sizeof *st);
    uint64_t s = 3;
    cut[0] = 0;
    cut[parts] = n;
    for (size_t i = 1; i < parts; i++)
        cut[i] = i * (n / parts) + tu_next(&s) % (n / parts / 2);
    for (size_t i = 0; i < parts; i++)
        slice_state(x, cut[i], cut[i + 1], g, &st[i]);
    size_t len = eg_state_encoded_size();
    uint8_t *first = malloc(len), *buf = malloc(len);
    for (int round = 0; round < 6; round++) {
        size_t order[37];
        for (size_t i = 0; i < parts; i++)
            order[i] = i;
        for (size_t i = parts; round && i > 1; i--) {
            size_t j = (size_t)(tu_next(&s) % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        eg_state total;
        eg_state_init(&total, EG_F64, g);
        for (size_t i = 0; i < parts; i++)
            eg_state_merge(&total, &st[order[i]]);
        cr_assert_eq(eg_state_encode(&total, round ? buf : first, len), len);
        if (round == 0)
            continue;
        /* first_nan, argmin, argmax and the exact sums are order-free. */
        cr_assert(!memcmp(buf, first, len), "merge order %d changed bits",
                  round);
    }
    eg_state d;
    eg_error err;
    cr_assert_eq(eg_state_decode(&d, first, len, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_state_encode(&d, buf, len), len);
    cr_assert(!memcmp(buf, first, len));
    free(first);
    free(buf);
    free(st);
    free(x);
}

Test(exact, decode_rejects_forged_exact_blocks)
{
    double x[] = {1.0, -2.0, 3.5, 0.25};
    eg_state s, d;
    slice_state(x, 0, 4, EG_G_EXACT | EG_G_ALL, &s);
    size_t len = eg_state_encoded_size();
    uint8_t *good = malloc(len), *bad = malloc(len);
    cr_assert_eq(eg_state_encode(&s, good, len), len);
    eg_error err;
    cr_assert_eq(eg_state_decode(&d, good, len, &err), EG_OK, "%s", err.msg);
    size_t ex = len - EG_EXACT_WIRE_BYTES; /* the exact block starts here */
    size_t l1 = ex + 8 * EG_EXACT_SUM_WORDS;
    size_t sq = l1 + 8 * EG_EXACT_SUM_WORDS;
    struct {
        size_t at;
        uint8_t val;
        const char *why;
    } cases[] = {
        {l1 - 1, 0x80, "negative sum beyond any count"},
        {l1 + 8 * EG_EXACT_SUM_WORDS - 1, 0x80, "negative l1"},
        {l1 + 8 * 33, 0x01, "l1 out of range"},
        {sq + 8 * 66, 0x01, "sum of squares out of range"},
        {ex + 8 * 17, 0x01, "|sum| above l1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, len);
        bad[cases[i].at] ^= cases[i].val;
        cr_assert_eq(eg_state_decode(&d, bad, len, &err), EG_EINPUT,
                     "%s accepted", cases[i].why);
        cr_assert(strstr(err.msg, "state:"), "%s", err.msg);
    }
    /* a negative variance: sum^2 > n * sum(x^2) */
    memcpy(bad, good, len);
    memset(bad + sq, 0, 8 * EG_EXACT_PROD_WORDS);
    cr_assert_eq(eg_state_decode(&d, bad, len, &err), EG_EINPUT);
    /* an exact block in a fast state, and exact mode on integers */
    eg_state f;
    eg_state_init(&f, EG_F64, EG_G_ALL);
    cr_assert_eq(eg_state_encode(&f, good, len), len);
    good[len - 1] = 1;
    cr_assert_eq(eg_state_decode(&d, good, len, &err), EG_EINPUT);
    eg_state_init(&f, EG_I32, EG_G_EXACT);
    cr_assert_eq(eg_state_encode(&f, good, len), len);
    cr_assert_eq(eg_state_decode(&d, good, len, &err), EG_EINPUT);
    free(good);
    free(bad);
}
