/* test_quant.c - the counting states of the quantile ops: the key image,
 * the sketch (bucket bound, merge order, wire form and its validation),
 * histogram merges, and exact selection against a sorted copy. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "qselect.h"
#include "qselect_vec.h"
#include "quant_key.h"
#include "sketch.h"
#include "testutil.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

Test(quant_key, orders_like_the_values_and_inverts)
{
    const double f[] = {-INFINITY, -1e300, -2.0, -1e-310, -0.0,    0.0,
                        1e-310,    1.0,    3.5,  1e300,   INFINITY};
    size_t n = sizeof f / sizeof *f;
    for (size_t i = 0; i < n; i++) {
        int nan;
        uint64_t k = eg_key_of(f, i, EG_F64, &nan);
        cr_assert(!nan);
        eg_number v = eg_key_value(k, EG_F64);
        cr_assert(memcmp(&v.v.f, &f[i], 8) == 0, "round trip of %g", f[i]);
        if (i > 0) {
            uint64_t prev = eg_key_of(f, i - 1, EG_F64, &nan);
            cr_assert(prev < k, "key order at %g", f[i]);
        }
    }
    const int8_t s[] = {-128, -1, 0, 1, 127};
    for (size_t i = 0; i < 5; i++) {
        int nan;
        uint64_t k = eg_key_of(s, i, EG_I8, &nan);
        cr_assert_eq(eg_key_value(k, EG_I8).v.i, s[i]);
        if (i > 0)
            cr_assert(eg_key_of(s, i - 1, EG_I8, &nan) < k);
    }
    const int64_t l[] = {INT64_MIN, -1, 0, INT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        int nan;
        cr_assert_eq(eg_key_value(eg_key_of(l, i, EG_I64, &nan), EG_I64).v.i,
                     l[i]);
    }
    const float nanf_[] = {NAN};
    int nan;
    (void)eg_key_of(nanf_, 0, EG_F32, &nan);
    cr_assert(nan, "NaN is flagged, never keyed");
}

/* Data with a heavy tail on both signs, zeros and infinities. */
static void heavy(double *x, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        double u = tu_unit(&st);
        double v = exp(40 * (u - 0.5));
        x[i] = (tu_next(&st) & 1) ? -v : v;
        if (i % 97 == 0)
            x[i] = 0.0;
    }
    if (n > 3) {
        x[1] = INFINITY;
        x[2] = -INFINITY;
    }
}

Test(sketch, every_rank_within_the_bound)
{
    const double rels[] = {0.01, 0.001, 0.3};
    size_t n = 200000;
    double *x = malloc(n * sizeof *x), *sorted = malloc(n * sizeof *x);
    heavy(x, n, 42);
    memcpy(sorted, x, n * sizeof *x);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    for (size_t r = 0; r < 3; r++) {
        unsigned k;
        eg_sketch s;
        cr_assert_eq(eg_sketch_k_for(rels[r], &k, NULL), EG_OK);
        eg_sketch_init(&s, k);
        cr_assert_eq(eg_sketch_add(&s, x, n, EG_F64, NULL), EG_OK);
        cr_assert_eq(eg_sketch_count(&s), n);
        for (uint64_t i = 0; i < n; i += 37) {
            double got = eg_sketch_at(&s, i), want = sorted[i];
            if (want == 0 || isinf(want))
                cr_assert_eq(got, want, "rank %llu", (unsigned long long)i);
            else
                cr_assert(fabs(got - want) <= rels[r] * fabs(want),
                          "rank %llu: %g vs %g (rel %g)", (unsigned long long)i,
                          got, want, rels[r]);
        }
        eg_sketch_free(&s);
    }
    free(x);
    free(sorted);
}

static uint8_t *encode(const eg_sketch *s, size_t *len)
{
    *len = eg_sketch_encoded_size(s);
    uint8_t *b = malloc(*len);
    eg_sketch_encode(s, b);
    return b;
}

Test(sketch, thousand_states_merge_to_the_same_bytes_in_any_order)
{
    enum { STATES = 1000, ORDERS = 100, PER = 300 };
    uint8_t **wire = malloc(STATES * sizeof *wire);
    size_t *len = malloc(STATES * sizeof *len);
    double x[PER];
    unsigned k;
    cr_assert_eq(eg_sketch_k_for(0.01, &k, NULL), EG_OK);
    for (size_t i = 0; i < STATES; i++) {
        eg_sketch s;
        eg_sketch_init(&s, k);
        heavy(x, PER, 1000 + i);
        for (size_t j = 0; j < PER; j++)
            x[j] *= (double)(i + 1); /* windows that differ per state */
        cr_assert_eq(eg_sketch_add(&s, x, PER, EG_F64, NULL), EG_OK);
        wire[i] = encode(&s, &len[i]);
        eg_sketch_free(&s);
    }
    uint8_t *first = NULL;
    size_t first_len = 0;
    size_t order[STATES];
    uint64_t rng = 7;
    for (size_t o = 0; o < ORDERS; o++) {
        for (size_t i = 0; i < STATES; i++)
            order[i] = i;
        for (size_t i = STATES - 1; i > 0; i--) {
            size_t j = tu_next(&rng) % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        eg_sketch acc;
        eg_sketch_init(&acc, k);
        for (size_t i = 0; i < STATES; i++) {
            eg_sketch part;
            cr_assert_eq(
                eg_sketch_decode(&part, wire[order[i]], len[order[i]], NULL),
                EG_OK);
            cr_assert_eq(eg_sketch_merge(&acc, &part, NULL), EG_OK);
            eg_sketch_free(&part);
        }
        size_t l;
        uint8_t *b = encode(&acc, &l);
        cr_assert_eq(eg_sketch_count(&acc), (uint64_t)STATES * PER);
        if (!first) {
            first = b;
            first_len = l;
        } else {
            cr_assert_eq(l, first_len);
            cr_assert(memcmp(b, first, l) == 0, "order %zu differs", o);
            free(b);
        }
        eg_sketch_free(&acc);
    }
    free(first);
    for (size_t i = 0; i < STATES; i++)
        free(wire[i]);
    free(wire);
    free(len);
}

Test(sketch, wire_form_is_validated)
{
    double x[] = {1.0, 2.0, -3.0, 0.0, NAN};
    eg_sketch s, d;
    unsigned k;
    size_t len;
    eg_error err;
    cr_assert_eq(eg_sketch_k_for(0.01, &k, NULL), EG_OK);
    eg_sketch_init(&s, k);
    cr_assert_eq(eg_sketch_add(&s, x, 5, EG_F64, NULL), EG_OK);
    uint8_t *b = encode(&s, &len);
    cr_assert_eq(eg_sketch_decode(&d, b, len, NULL), EG_OK);
    cr_assert_eq(d.nan, 1);
    cr_assert_eq(eg_sketch_count(&d), 4);
    size_t l2;
    uint8_t *b2 = encode(&d, &l2);
    cr_assert(l2 == len && memcmp(b, b2, len) == 0, "decode-encode round trip");
    free(b2);
    eg_sketch_free(&d);

    uint8_t *bad = malloc(len);
    /* each damage must be refused with EINPUT and a message */
    struct {
        size_t at;
        uint8_t v;
    } hits[] = {{0, 'X'}, {4, 9}, {6, 99}, {7, 1}, {48, 0xff}, {len - 8, 0}};
    for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
        memcpy(bad, b, len);
        bad[hits[i].at] = hits[i].v;
        cr_assert_eq(eg_sketch_decode(&d, bad, len, &err), EG_EINPUT,
                     "damage %zu accepted", i);
        cr_assert(strstr(err.msg, "sketch state") != NULL, "%s", err.msg);
    }
    cr_assert_eq(eg_sketch_decode(&d, b, len - 1, &err), EG_EINPUT);
    cr_assert_eq(eg_sketch_decode(&d, b, 10, &err), EG_EINPUT);
    memcpy(bad, b, len);
    memset(bad + 8, 0xff, 8); /* nan count near 2^64 */
    memset(bad + 16, 0xff, 8);
    cr_assert_eq(eg_sketch_decode(&d, bad, len, &err), EG_EINPUT);
    free(bad);
    free(b);
    eg_sketch_free(&s);
}

Test(sketch, relative_error_limits)
{
    unsigned k;
    cr_assert_eq(eg_sketch_k_for(0.0, &k, NULL), EG_EUSAGE);
    cr_assert_eq(eg_sketch_k_for(0.5, &k, NULL), EG_EUSAGE);
    cr_assert_eq(eg_sketch_k_for(1e-9, &k, NULL), EG_EUSAGE);
    cr_assert_eq(eg_sketch_k_for(0.01, &k, NULL), EG_OK);
    cr_assert_eq(k, 6, "1 / (2^7 + 1) <= 0.01 < 1 / (2^6 + 1)");
    cr_assert_eq(eg_sketch_k_for(0.4, &k, NULL), EG_OK);
    cr_assert_eq(k, 0, "octaves: 1 / 3 <= 0.4");
    cr_assert_eq(eg_sketch_k_for(0.3, &k, NULL), EG_OK);
    cr_assert_eq(k, 1);
}

Test(hist, split_states_add_up_to_the_whole)
{
    size_t n = 10000;
    float *x = malloc(n * sizeof *x);
    tu_fill(x, EG_F32, n, 3, -2.0, 2.0);
    x[5] = NAN;
    eg_hist_plan p;
    cr_assert_eq(eg_hist_plan_make(&p, EG_F32, 16, 1, -1.0, 1.0, 0, 0, 0, NULL),
                 EG_OK);
    cr_assert_eq(p.f32, 1, "float32 data in a float32 range: float32 bins");
    eg_hist_state whole, a, b;
    eg_hist_state_init(&whole, 16, NULL);
    eg_hist_state_init(&a, 16, NULL);
    eg_hist_state_init(&b, 16, NULL);
    eg_hist_add(&p, &whole, x, n);
    eg_hist_add(&p, &b, x + 3333, n - 3333);
    eg_hist_add(&p, &a, x, 3333);
    eg_hist_merge(&b, &a);
    cr_assert(memcmp(whole.counts, b.counts, 16 * 8) == 0);
    cr_assert_eq(whole.below, b.below);
    cr_assert_eq(whole.above, b.above);
    cr_assert_eq(whole.nan, 1);
    uint64_t total = whole.below + whole.above + whole.nan;
    for (int i = 0; i < 16; i++)
        total += whole.counts[i];
    cr_assert_eq(total, n, "nothing is lost");
    cr_assert_eq(p.edges[0], -1.0);
    cr_assert_eq(p.edges[8], 0.0);
    cr_assert_eq(p.edges[16], 1.0);
    eg_hist_state_free(&whole);
    eg_hist_state_free(&a);
    eg_hist_state_free(&b);
    eg_hist_plan_free(&p);
    free(x);
}

Test(hist, edges_and_the_closed_last_bin)
{
    const double x[] = {0.0, 0.25, 0.5, 0.75, 1.0, 1.0000000000000002, -0.0};
    eg_hist_plan p;
    eg_hist_state s;
    cr_assert_eq(eg_hist_plan_make(&p, EG_F64, 4, 1, 0.0, 1.0, 0, 0, 0, NULL),
                 EG_OK);
    eg_hist_state_init(&s, 4, NULL);
    eg_hist_add(&p, &s, x, 7);
    cr_assert_eq(s.counts[0], 2);
    cr_assert_eq(s.counts[1], 1);
    cr_assert_eq(s.counts[2], 1);
    cr_assert_eq(s.counts[3], 2, "1.0 falls in the closed last bin");
    cr_assert_eq(s.above, 1);
    eg_hist_state_free(&s);
    eg_hist_plan_free(&p);
}

Test(quant, exact_selection_matches_a_sorted_copy)
{
    const eg_dtype types[] = {EG_F32, EG_F64, EG_I8, EG_U16, EG_I32, EG_U64};
    size_t n = 300001;
    eg_engine *e = NULL;
    cr_assert_eq(eg_engine_open(&e, "host", NULL), EG_OK);
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        size_t sz = eg_dtype_size(types[t]);
        uint8_t *x = malloc(n * sz);
        double *s = malloc(n * sizeof *s);
        tu_fill(x, types[t], n, 9 + t, -1e6, 1e6);
        for (size_t i = 0; i < n; i++)
            s[i] = (double)tu_get(x, types[t], i);
        qsort(s, n, sizeof *s, cmp_double);
        eg_quant_opts o;
        eg_quant_result r;
        eg_quant_opts_init(&o);
        o.qops = EG_QOP_QUANTILE | EG_QOP_MEDIAN;
        o.method = EG_QM_LOWER;
        o.nq = 5;
        const double q[] = {0, 0.001, 0.5, 0.77, 1};
        memcpy(o.q, q, sizeof q);
        cr_assert_eq(eg_quant(e, x, n, types[t], &o, &r, NULL), EG_OK);
        for (size_t i = 0; i < 5; i++) {
            size_t idx = (size_t)floor((double)(n - 1) * q[i]);
            eg_number v = r.quantile[i];
            double got = v.kind == EG_NUM_F64   ? v.v.f
                         : v.kind == EG_NUM_I64 ? (double)v.v.i
                                                : (double)v.v.u;
            cr_assert_eq(got, s[idx], "%s q=%g", eg_dtype_name(types[t]), q[i]);
        }
        cr_assert_eq(r.median.v.f, s[n / 2], "odd count: the middle one");
        unsigned most = eg_dtype_size(types[t]) == 1
                            ? 1u
                            : (unsigned)eg_dtype_size(types[t]) * 8u / 16u;
        cr_assert(r.passes >= 1 && r.passes <= most, "%u passes for %s",
                  r.passes, eg_dtype_name(types[t]));
        eg_quant_result_free(&r);
        free(x);
        free(s);
    }
    eg_engine_close(&e);
}

Test(hist, vector_path_counts_as_the_scalar_one)
{
    /* every edge, its float neighbours, NaN, infinities and values outside,
     * counted 16 at a time (AVX-512 where the CPU has it, edges recomputed
     * in vectors) and one by one (the scalar code, edges from the table) */
    const struct {
        unsigned bins;
        double lo, hi;
    } plans[] = {{37, -0.3, 0.7}, {4099, 1e-3, 3.3e4}, {1, -1e30, 1e30}};
    for (size_t k = 0; k < sizeof plans / sizeof *plans; k++) {
        unsigned bins = plans[k].bins;
        eg_hist_plan p;
        cr_assert_eq(eg_hist_plan_make(&p, EG_F32, bins, 1, plans[k].lo,
                                       plans[k].hi, 0, 0, 0, NULL),
                     EG_OK);
        size_t n = 0, cap = ((size_t)bins + 1) * 3 + 64 + 4096;
        float *x = malloc(cap * sizeof *x);
        for (unsigned i = 0; i <= bins; i++) {
            float e = (float)p.edges[i];
            x[n++] = e;
            x[n++] = nextafterf(e, -INFINITY);
            x[n++] = nextafterf(e, INFINITY);
        }
        const float odd[] = {NAN,   INFINITY, -INFINITY, -1e31f,
                             2e31f, -0.0f,    0.0f};
        for (size_t i = 0; i < 64; i++)
            x[n++] = odd[i % 7];
        uint64_t st = 5;
        for (size_t i = 0; i < 4096; i++)
            x[n++] = (float)(plans[k].lo + (plans[k].hi - plans[k].lo) *
                                               (tu_unit(&st) * 1.2 - 0.1));
        eg_hist_state a, b;
        eg_hist_state_init(&a, bins, NULL);
        eg_hist_state_init(&b, bins, NULL);
        eg_hist_add(&p, &a, x, n);
        for (size_t i = 0; i < n; i++)
            eg_hist_add(&p, &b, x + i, 1);
        cr_assert(memcmp(a.counts, b.counts, bins * 8) == 0, "plan %zu", k);
        cr_assert_eq(a.below, b.below);
        cr_assert_eq(a.above, b.above);
        cr_assert_eq(a.nan, b.nan);
        cr_assert_eq(a.nan, 10);
        eg_hist_state_free(&a);
        eg_hist_state_free(&b);
        eg_hist_plan_free(&p);
        free(x);
    }
}

/* Values 1 to 4096 float steps from every edge of plan p (inside and
 * outside the edge margin), random ones over [lo, hi], NaN, infinities and
 * values outside the range, shuffled so that edge values share blocks
 * with inner ones; float32 steps unless f64.  *n gets the count. */
static double *edge_values(const eg_hist_plan *p, double lo, double hi, int f64,
                           uint64_t *st, size_t *n)
{
    static const int steps[] = {1, 2, 3, 5, 8, 16, 64, 256, 1024, 4096};
    static const double odd[] = {NAN, INFINITY, -INFINITY, -1e31, 2e31};
    size_t cap = ((size_t)p->nbins + 1) * 20 + 65536, m = 0;
    double *v = malloc(cap * sizeof *v);
    cr_assert_not_null(v);
    for (unsigned i = 0; i <= p->nbins; i++)
        for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
            double e = p->edges[i], a = e, b = e;
            for (int j = 0; j < steps[s]; j++) {
                a = f64 ? nextafter(a, -INFINITY)
                        : nextafterf((float)a, -INFINITY);
                b = f64 ? nextafter(b, INFINITY)
                        : nextafterf((float)b, INFINITY);
            }
            v[m++] = a;
            v[m++] = b;
        }
    for (size_t i = 0; i < 5 * 8; i++)
        v[m++] = odd[i % 5];
    while (m < cap)
        v[m++] = lo + (hi - lo) * tu_unit(st);
    for (size_t i = m - 1; i > 0; i--) {
        size_t j = tu_next(st) % (i + 1);
        double x = v[i];
        v[i] = v[j];
        v[j] = x;
    }
    *n = m;
    return v;
}

Test(hist, vector_edge_skip_counts_as_the_scalar_one)
{
    /* The vector code skips the edges for blocks whose values all lie
     * more than a margin inside their bins: values 1 to 4096 float steps
     * from every edge (inside and outside the margin), random ones, and
     * plans with few and many bins, offsets large against the bin width
     * (where the margin covers whole bins and nothing is skipped); float32
     * and float64, against the scalar code one value at a time. */
    const struct {
        unsigned bins;
        double lo, hi;
    } plans[] = {
        {10, -6, 6},       {4096, -6, 6},       {4096, -5.3, 5.1},
        {1000, 0.1, 0.7},  {257, 1e4, 1e4 + 1}, {4096, 1e3, 1e3 + 7},
        {64, -1e-3, 3e-3}, {4096, -1e20, 1e20}, {4096, 1e12, 1e12 + 1e-2},
        {513, -2, 2},      {4097, -5.3, 5.1}};
    uint64_t st = 11;
    for (int f64 = 0; f64 < 2; f64++)
        for (size_t k = 0; k < sizeof plans / sizeof *plans; k++) {
            unsigned bins = plans[k].bins;
            eg_dtype t = f64 ? EG_F64 : EG_F32;
            eg_hist_plan p;
            cr_assert_eq(eg_hist_plan_make(&p, t, bins, 1, plans[k].lo,
                                           plans[k].hi, 0, 0, 0, NULL),
                         EG_OK);
            size_t n = 0;
            double *v = edge_values(&p, plans[k].lo, plans[k].hi, f64, &st, &n);
            float *vf = malloc(n * sizeof *vf);
            for (size_t i = 0; i < n; i++)
                vf[i] = (float)v[i];
            const void *x = f64 ? (const void *)v : (const void *)vf;
            size_t sz = f64 ? 8 : 4;
            eg_hist_state a, b;
            eg_hist_state_init(&a, bins, NULL);
            eg_hist_state_init(&b, bins, NULL);
            eg_hist_add(&p, &a, x, n);
            for (size_t i = 0; i < n; i++)
                eg_hist_add(&p, &b, (const char *)x + i * sz, 1);
            cr_assert(memcmp(a.counts, b.counts, bins * 8) == 0,
                      "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.below, b.below, "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.above, b.above, "f64 %d plan %zu", f64, k);
            eg_hist_state_free(&a);
            eg_hist_state_free(&b);
            eg_hist_plan_free(&p);
            free(v);
            free(vf);
        }
}

Test(hist, portable_vector_path_counts_as_the_scalar_one)
{
    /* hist_portable.c, for CPUs without AVX-512, called itself (so that an
     * AVX-512 machine checks it too) and the rest counted by the scalar
     * loop, against the scalar loop one value at a time: float32 and
     * float64, few bins (the spread copies), many (the state's counts),
     * and offsets large against the bin width, where the margin covers
     * whole bins and the plan is left to the scalar loop; no value may be
     * lost or counted twice. */
    const struct {
        unsigned bins;
        double lo, hi;
    } plans[] = {{10, -6, 6},       {4096, -5.3, 5.1},   {512, 0.1, 0.7},
                 {513, 0.1, 0.7},   {1, -1e30, 1e30},    {257, 1e4, 1e4 + 1},
                 {64, -1e-3, 3e-3}, {4096, -1e20, 1e20}, {33, 1e3, 1e3 + 7},
                 {16, -2, 2},       {7, -3, 1},          {4097, -5.3, 5.1}};
    uint64_t st = 23;
    for (int f64 = 0; f64 < 2; f64++)
        for (size_t k = 0; k < sizeof plans / sizeof *plans; k++) {
            unsigned bins = plans[k].bins;
            eg_hist_plan p;
            cr_assert_eq(eg_hist_plan_make(&p, f64 ? EG_F64 : EG_F32, bins, 1,
                                           plans[k].lo, plans[k].hi, 0, 0, 0,
                                           NULL),
                         EG_OK);
            size_t n = 0;
            double *v = edge_values(&p, plans[k].lo, plans[k].hi, f64, &st, &n);
            float *x = malloc(n * sizeof *x);
            for (size_t i = 0; i < n; i++)
                x[i] = (float)v[i];
            eg_hist_state a, b;
            eg_hist_state_init(&a, bins, NULL);
            eg_hist_state_init(&b, bins, NULL);
            uint64_t done = f64 ? eg_hist_add_f64_portable(&p, &a, v, n)
                                : eg_hist_add_f32_portable(&p, &a, x, n);
            size_t w = f64 ? 4 : 8;
            size_t want = eg_hist_edge_margin(&p) < 0.25 ? n / w * w : 0;
            cr_assert_eq(done, want, "f64 %d plan %zu: %llu of %zu", f64, k,
                         (unsigned long long)done, n);
            for (size_t i = 0; i < n; i++) {
                if (f64) {
                    if (i >= done)
                        eg_hist_add_f64_scalar(&p, &a, v + i, 1);
                    eg_hist_add_f64_scalar(&p, &b, v + i, 1);
                } else {
                    if (i >= done)
                        eg_hist_add_f32_scalar(&p, &a, x + i, 1);
                    eg_hist_add_f32_scalar(&p, &b, x + i, 1);
                }
            }
            cr_assert(memcmp(a.counts, b.counts, bins * 8) == 0,
                      "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.below, b.below, "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.above, b.above, "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.nan, b.nan, "f64 %d plan %zu", f64, k);
            cr_assert_eq(a.nan, 8, "f64 %d plan %zu", f64, k);
            eg_hist_state_free(&a);
            eg_hist_state_free(&b);
            eg_hist_plan_free(&p);
            free(v);
            free(x);
        }
}

Test(hist, byte_counters_fold_before_they_wrap)
{
    /* Up to 32 bins the vector code counts 64 values a round in byte
     * counters, folded every 255 rounds: a run of rounds that all land in
     * one bin (a counter that would wrap at 256 if the fold came late),
     * then values on and beside every edge, NaN and values outside, for
     * each counter width (8, 16, 32) and the bin counts beside it;
     * float32 and float64, against the scalar code one value at a time. */
    static const unsigned bins[] = {1, 2, 7, 8, 9, 16, 17, 31, 32, 33};
    const size_t run = 64 * 700, cap = run + 4096;
    uint64_t st = 29;
    for (int f64 = 0; f64 < 2; f64++)
        for (size_t k = 0; k < sizeof bins / sizeof *bins; k++) {
            eg_dtype t = f64 ? EG_F64 : EG_F32;
            eg_hist_plan p;
            cr_assert_eq(eg_hist_plan_make(&p, t, bins[k], 1, -2.0, 3.0, 0, 0,
                                           0, NULL),
                         EG_OK);
            double *v = malloc(cap * sizeof *v);
            size_t n = 0;
            while (n < run)
                v[n++] = 2.99; /* the last bin, every lane of every round */
            for (unsigned i = 0; i <= bins[k]; i++) {
                v[n++] = p.edges[i];
                v[n++] = nextafterf((float)p.edges[i], -INFINITY);
                v[n++] = nextafterf((float)p.edges[i], INFINITY);
            }
            v[n++] = NAN;
            v[n++] = -7.0;
            v[n++] = 1e9;
            while (n < cap)
                v[n++] = -2.5 + 6.0 * tu_unit(&st);
            float *vf = malloc(cap * sizeof *vf);
            for (size_t i = 0; i < cap; i++)
                vf[i] = (float)v[i];
            const void *x = f64 ? (const void *)v : (const void *)vf;
            size_t sz = f64 ? 8 : 4;
            eg_hist_state a, b;
            eg_hist_state_init(&a, bins[k], NULL);
            eg_hist_state_init(&b, bins[k], NULL);
            eg_hist_add(&p, &a, x, cap);
            for (size_t i = 0; i < cap; i++)
                eg_hist_add(&p, &b, (const char *)x + i * sz, 1);
            cr_assert(a.counts[bins[k] - 1] >= run, "f64 %d bins %u", f64,
                      bins[k]);
            cr_assert(memcmp(a.counts, b.counts, bins[k] * 8) == 0,
                      "f64 %d bins %u", f64, bins[k]);
            cr_assert_eq(a.below, b.below);
            cr_assert_eq(a.above, b.above);
            cr_assert_eq(a.nan, 1);
            eg_hist_state_free(&a);
            eg_hist_state_free(&b);
            eg_hist_plan_free(&p);
            free(v);
            free(vf);
        }
}

Test(hist, wire_states_merge_in_any_order_and_are_validated)
{
    enum { PARTS = 50, PER = 1000, BINS = 64 };
    double x[PER];
    eg_hist_plan p, other;
    cr_assert_eq(
        eg_hist_plan_make(&p, EG_F64, BINS, 1, -1.0, 1.0, 0, 0, 0, NULL),
        EG_OK);
    cr_assert_eq(
        eg_hist_plan_make(&other, EG_F64, BINS, 1, -1.0, 2.0, 0, 0, 0, NULL),
        EG_OK);
    size_t len = eg_hist_encoded_size(&p);
    uint8_t *wire[PARTS];
    eg_hist_state whole;
    eg_hist_state_init(&whole, BINS, NULL);
    uint64_t rng = 3;
    for (size_t i = 0; i < PARTS; i++) {
        for (size_t j = 0; j < PER; j++)
            x[j] = tu_unit(&rng) * 2.4 - 1.2;
        x[i % PER] = NAN;
        eg_hist_state s;
        eg_hist_state_init(&s, BINS, NULL);
        eg_hist_add(&p, &s, x, PER);
        eg_hist_add(&p, &whole, x, PER);
        wire[i] = malloc(len);
        eg_hist_encode(&p, &s, wire[i]);
        eg_hist_state_free(&s);
    }
    for (int order = 0; order < 10; order++) {
        size_t idx[PARTS];
        for (size_t i = 0; i < PARTS; i++)
            idx[i] = i;
        for (size_t i = PARTS - 1; i > 0; i--) {
            size_t j = tu_next(&rng) % (i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        eg_hist_state acc;
        eg_hist_state_init(&acc, BINS, NULL);
        for (size_t i = 0; i < PARTS; i++) {
            eg_hist_state part;
            cr_assert_eq(eg_hist_decode(&p, &part, wire[idx[i]], len, NULL),
                         EG_OK);
            eg_hist_merge(&acc, &part);
            eg_hist_state_free(&part);
        }
        cr_assert(memcmp(acc.counts, whole.counts, BINS * 8) == 0);
        cr_assert_eq(acc.nan, PARTS);
        cr_assert_eq(acc.below, whole.below);
        cr_assert_eq(acc.above, whole.above);
        eg_hist_state_free(&acc);
    }
    eg_error err;
    eg_hist_state d;
    cr_assert_eq(eg_hist_decode(&other, &d, wire[0], len, &err), EG_EINPUT,
                 "a state of another range must not merge");
    cr_assert_eq(eg_hist_decode(&p, &d, wire[0], len - 8, &err), EG_EINPUT);
    uint8_t *bad = malloc(len);
    memcpy(bad, wire[0], len);
    bad[4] = 7;
    cr_assert_eq(eg_hist_decode(&p, &d, bad, len, &err), EG_EINPUT);
    memcpy(bad, wire[0], len);
    memset(bad + 32, 0xff, 16); /* below and above near 2^64 */
    cr_assert_eq(eg_hist_decode(&p, &d, bad, len, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "histogram state") != NULL, "%s", err.msg);
    free(bad);
    for (size_t i = 0; i < PARTS; i++)
        free(wire[i]);
    eg_hist_state_free(&whole);
    eg_hist_plan_free(&p);
    eg_hist_plan_free(&other);
}

Test(qselect, first_pass_counts_every_key_once)
{
    /* The first pass (no prefix) counts every key's top 16 bits; the vector
     * code queues the digits of blocks without NaN and counts blocks with
     * NaN lane by lane.  float32 and float64, NaN in some blocks, a length
     * past several queue fills and not a multiple of the vector, against
     * the keys counted one by one. */
    enum { N = 100003 };
    for (int f64 = 0; f64 < 2; f64++) {
        eg_dtype t = f64 ? EG_F64 : EG_F32;
        size_t sz = f64 ? 8 : 4;
        unsigned w = f64 ? 64 : 32;
        unsigned char *x = malloc(N * sz);
        tu_fill(x, t, N, 31 + (uint64_t)f64, -1e3, 1e3);
        for (size_t i = 0; i < N; i += 997) {
            if (f64)
                ((double *)(void *)x)[i] = NAN;
            else
                ((float *)(void *)x)[i] = NAN;
        }
        uint64_t *h = calloc(1u << 16, sizeof *h), *ref = calloc(1u << 16,
                                                                  sizeof *ref);
        uint64_t nan = 0, ref_nan = 0;
        for (size_t i = 0; i < N; i++) {
            int isnan_;
            uint64_t k = eg_key_of(x, i, t, &isnan_);
            if (isnan_)
                ref_nan++;
            else
                ref[k >> (w - 16)]++;
        }
        cr_assert_eq(eg_select_pass_counts(x, N, t, 0, 0, h, &nan, NULL),
                     EG_OK);
        cr_assert(memcmp(h, ref, (1u << 16) * sizeof *h) == 0, "f64 %d", f64);
        cr_assert_eq(nan, ref_nan);
        free(h);
        free(ref);
        free(x);
    }
}

/* One key into the buckets g as the scalar pass counts it (qselect.c). */
static void ref_take(eg_select_vgroup *g, size_t ng, uint64_t k, unsigned w)
{
    for (size_t j = 0; j < ng; j++) {
        if (g[j].fixed && (k >> (w - g[j].fixed)) != g[j].prefix)
            continue;
        if (!g[j].hist) {
            if (g[j].len < g[j].cap)
                g[j].keys[g[j].len++] = k;
        } else {
            g[j].hist[(k >> (w - g[j].fixed - 16)) & 0xffff]++;
        }
    }
}

Test(qselect, portable_passes_count_as_the_keys_one_by_one)
{
    /* qselect_portable.c, for CPUs without AVX-512, called itself (so an
     * AVX-512 machine checks it too), the rest of the values taken by the
     * reference: the first pass, then a pass with two counted buckets and
     * one whose keys are kept; float32 and float64 with NaN, zeros of
     * both signs, infinities and subnormals among the values. */
    enum { N = 50021 };
    for (int f64 = 0; f64 < 2; f64++) {
        eg_dtype t = f64 ? EG_F64 : EG_F32;
        size_t sz = f64 ? 8 : 4;
        unsigned w = f64 ? 64 : 32;
        unsigned char *x = malloc(N * sz);
        tu_fill(x, t, N, 41 + (uint64_t)f64, -1e3, 1e3);
        const double odd[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY,
                              f64 ? 5e-324 : 1e-45, f64 ? -5e-324 : -1e-45};
        for (size_t i = 0; i < N; i += 331) {
            double o = odd[(i / 331) % 7];
            if (f64)
                ((double *)(void *)x)[i] = o;
            else
                ((float *)(void *)x)[i] = (float)o;
        }
        /* the first pass */
        uint64_t *h = calloc(1u << 16, sizeof *h), *ref = calloc(1u << 16,
                                                                  sizeof *ref);
        uint64_t nan = 0, ref_nan = 0;
        eg_select_vgroup g1 = {0, 0, h, NULL, 0, 0};
        eg_select_vgroup r1 = {0, 0, ref, NULL, 0, 0};
        uint64_t done = eg_select_pass_portable(t, x, N, &g1, 1, &nan);
        cr_assert_eq(done, N / (32 / sz) * (32 / sz), "f64 %d", f64);
        for (size_t i = 0; i < N; i++) {
            int isnan_;
            uint64_t k = eg_key_of(x, i, t, &isnan_);
            if (i >= done)
                nan += (uint64_t)isnan_;
            ref_nan += (uint64_t)isnan_;
            if (isnan_)
                continue;
            if (i >= done)
                ref_take(&g1, 1, k, w);
            ref_take(&r1, 1, k, w);
        }
        cr_assert(memcmp(h, ref, (1u << 16) * sizeof *h) == 0, "f64 %d", f64);
        cr_assert_eq(nan, ref_nan, "f64 %d", f64);
        cr_assert_gt(nan, 0);
        /* a later pass: the two fullest digits counted on, keys kept
         * under a shorter prefix */
        uint64_t d0 = 0, d1 = 1;
        for (uint64_t d = 0; d < (1u << 16); d++) {
            if (ref[d] > ref[d0]) {
                d1 = d0;
                d0 = d;
            } else if (d != d0 && ref[d] > ref[d1]) {
                d1 = d;
            }
        }
        uint64_t *ha = calloc(1u << 16, sizeof *ha);
        uint64_t *hb = calloc(1u << 16, sizeof *hb);
        uint64_t *ra = calloc(1u << 16, sizeof *ra);
        uint64_t *rb = calloc(1u << 16, sizeof *rb);
        uint64_t *ka = calloc(N, sizeof *ka), *kr = calloc(N, sizeof *kr);
        eg_select_vgroup g3[3] = {{d0, 16, ha, NULL, 0, 0},
                                  {d1, 16, hb, NULL, 0, 0},
                                  {d1 >> 8, 8, NULL, ka, 0, N}};
        eg_select_vgroup r3[3] = {{d0, 16, ra, NULL, 0, 0},
                                  {d1, 16, rb, NULL, 0, 0},
                                  {d1 >> 8, 8, NULL, kr, 0, N}};
        nan = 0;
        done = eg_select_pass_portable(t, x, N, g3, 3, &nan);
        cr_assert_eq(done, N / (32 / sz) * (32 / sz), "f64 %d", f64);
        for (size_t i = 0; i < N; i++) {
            int isnan_;
            uint64_t k = eg_key_of(x, i, t, &isnan_);
            if (i >= done)
                nan += (uint64_t)isnan_;
            if (isnan_)
                continue;
            if (i >= done)
                ref_take(g3, 3, k, w);
            ref_take(r3, 3, k, w);
        }
        cr_assert_eq(nan, ref_nan, "f64 %d", f64);
        cr_assert(memcmp(ha, ra, (1u << 16) * sizeof *ha) == 0, "f64 %d", f64);
        cr_assert(memcmp(hb, rb, (1u << 16) * sizeof *hb) == 0, "f64 %d", f64);
        cr_assert_eq(g3[2].len, r3[2].len, "f64 %d", f64);
        cr_assert_gt(g3[2].len, 0);
        cr_assert(memcmp(ka, kr, g3[2].len * sizeof *ka) == 0, "f64 %d", f64);
        free(ha);
        free(hb);
        free(ra);
        free(rb);
        free(ka);
        free(kr);
        free(h);
        free(ref);
        free(x);
    }
}

Test(qselect, pass_counts_of_parts_merge_on_the_wire_to_the_whole)
{
    /* a pass cut the way a grid would cut it: parts counted apart, sent in
     * the wire form, decoded and added in a shuffled order */
    enum { N = 100000, PARTS = 17 };
    double *x = malloc(N * sizeof *x);
    tu_fill(x, EG_F64, N, 21, -3.0, 3.0);
    x[7] = NAN;
    uint64_t *whole = calloc(1u << 16, sizeof *whole), nan = 0;
    int isnan_;
    uint64_t key = eg_key_of(x, 123, EG_F64, &isnan_);
    uint64_t prefix = key >> 48; /* the bucket of x[123] after one pass */
    cr_assert_eq(
        eg_select_pass_counts(x, N, EG_F64, prefix, 16, whole, &nan, NULL),
        EG_OK);
    uint64_t inside = 0;
    for (size_t i = 0; i < N; i++) {
        int nn;
        uint64_t k = eg_key_of(x, i, EG_F64, &nn);
        inside += !nn && (k >> 48) == prefix;
    }
    uint64_t counted = 0;
    for (size_t b = 0; b < (1u << 16); b++)
        counted += whole[b];
    cr_assert_eq(counted, inside, "every key of the bucket, once");
    cr_assert_eq(nan, 1);

    size_t len = eg_select_counts_size(EG_F64);
    uint8_t *wire[PARTS];
    for (size_t p = 0; p < PARTS; p++) {
        size_t a = p * N / PARTS, b = (p + 1) * N / PARTS;
        eg_select_counts c = {EG_F64, 16, 16,
                              prefix, 0,  calloc(1u << 16, sizeof(uint64_t))};
        cr_assert_eq(eg_select_pass_counts(x + a, b - a, EG_F64, prefix, 16,
                                           c.hist, &c.nan, NULL),
                     EG_OK);
        wire[p] = malloc(len);
        eg_select_counts_encode(&c, wire[p]);
        eg_select_counts_free(&c);
    }
    eg_select_counts acc;
    cr_assert_eq(eg_select_counts_decode(&acc, wire[PARTS - 1], len, NULL),
                 EG_OK);
    for (size_t p = PARTS - 1; p-- > 0;) {
        eg_select_counts part;
        cr_assert_eq(eg_select_counts_decode(&part, wire[p], len, NULL), EG_OK);
        cr_assert_eq(eg_select_counts_merge(&acc, &part, NULL), EG_OK);
        eg_select_counts_free(&part);
    }
    cr_assert(memcmp(acc.hist, whole, (1u << 16) * 8) == 0);
    cr_assert_eq(acc.nan, 1);
    eg_select_counts_free(&acc);

    eg_error err;
    eg_select_counts d;
    uint8_t *bad = malloc(len);
    memcpy(bad, wire[0], len);
    bad[8] = 60; /* fixed 60 + 16 bits > 64 */
    cr_assert_eq(eg_select_counts_decode(&d, bad, len, &err), EG_EINPUT);
    memcpy(bad, wire[0], len);
    bad[6] = 99;
    cr_assert_eq(eg_select_counts_decode(&d, bad, len, &err), EG_EINPUT);
    cr_assert_eq(eg_select_counts_decode(&d, wire[0], len - 1, &err),
                 EG_EINPUT);
    memcpy(bad, wire[0], len);
    memset(bad + 24, 0xff, 8);
    memset(bad + 32, 0xff, 8);
    cr_assert_eq(eg_select_counts_decode(&d, bad, len, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "selection pass state") != NULL, "%s", err.msg);
    free(bad);
    for (size_t p = 0; p < PARTS; p++)
        free(wire[p]);
    free(whole);
    free(x);
}

/* n elements of t at data added to a k-sketch all at once (the vector
 * path) and one by one (the scalar path) give the same wire bytes. */
static void vector_and_scalar_agree(const void *data, size_t n, eg_dtype t,
                                    unsigned k)
{
    /* the dispatch (AVX-512 where the CPU has it), the portable vectors
     * called themselves (sketch_portable.c, so that an AVX-512 machine
     * checks them too) and the scalar code one value at a time */
    const size_t es = t == EG_F32 ? sizeof(float) : sizeof(double);
    eg_sketch a, b, c;
    eg_sketch_init(&a, k);
    eg_sketch_init(&b, k);
    eg_sketch_init(&c, k);
    cr_assert_eq(eg_sketch_add(&a, data, n, t, NULL), EG_OK);
    uint64_t done = eg_sketch_add_portable(&c, data, n, t);
    cr_assert_eq(done, n / 4 * 4);
    cr_assert_eq(eg_sketch_add(&c, (const char *)data + done * es, n - done,
                               t, NULL),
                 EG_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(eg_sketch_add(&b, (const char *)data + i * es, 1, t,
                                   NULL),
                     EG_OK);
    size_t la, lb, lc;
    uint8_t *wa = encode(&a, &la), *wb = encode(&b, &lb), *wc = encode(&c, &lc);
    cr_assert(la == lb && memcmp(wa, wb, la) == 0, "%s k %u",
              t == EG_F32 ? "f32" : "f64", k);
    cr_assert(lc == lb && memcmp(wc, wb, lc) == 0, "portable %s k %u",
              t == EG_F32 ? "f32" : "f64", k);
    free(wa);
    free(wb);
    free(wc);
    eg_sketch_free(&a);
    eg_sketch_free(&b);
    eg_sketch_free(&c);
}

Test(sketch, vector_path_counts_as_the_scalar_one)
{
    /* normal values on both signs, zeros, subnormals, infinities, NaN and
     * buckets that make the windows grow, 8 (float32: 16) at a time and one
     * by one, at four bucket widths */
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x);
    float *f = malloc(N * sizeof *f);
    heavy(x, N, 77);
    for (size_t i = 0; i < N; i += 101)
        x[i] = (i & 1) ? 4e-320 : NAN;
    for (size_t i = 0; i < N; i++)
        f[i] = (float)x[i];
    /* float32 subnormals (normal doubles, so the float32 lanes leave them
     * to the scalar code) */
    for (size_t i = 50; i < N; i += 103)
        f[i] = (i & 1) ? 1e-40f : -3e-39f;
    /* (the data span about 1090 octaves: a window of 2^k buckets each;
     * k = 20 on a narrow band follows) */
    static const unsigned ks[] = {1, 6, 10};
    for (size_t j = 0; j < sizeof ks / sizeof *ks; j++) {
        vector_and_scalar_agree(x, N, EG_F64, ks[j]);
        vector_and_scalar_agree(f, N, EG_F32, ks[j]);
    }
    /* the finest buckets (k = 20, 2^20 an octave) on float32 values of
     * both signs within two octaves, where the bucket indexes are largest
     * against the 32-bit lanes */
    uint64_t st = 91;
    for (size_t i = 0; i < N; i++)
        f[i] = (float)((tu_next(&st) & 1 ? -1.0 : 1.0) *
                       (1.0 + 3.0 * tu_unit(&st)));
    vector_and_scalar_agree(f, N, EG_F32, 20);
    free(x);
    free(f);
}
