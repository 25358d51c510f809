/* test_lanes.c - the canonical lane: the careful path gives the fast path's
 * bits on finite data, special values force the careful path, a chunk's
 * values match an independent reference, the AVX2 pass gives the careful
 * path's bits on any x86 CPU that has it, and the AVX-512 exact lanes give
 * the generic exact records bit for bit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hostreduce.h"
#include "lane_slots.h"
#include "lanes.h"
#include "lanes_exact.h"
#include "testutil.h"

static void *alloc_fill(eg_dtype t, size_t n, uint64_t seed, double lo,
                        double hi)
{
    void *p = malloc(n * eg_dtype_size(t) + 8);
    tu_fill(p, t, n, seed, lo, hi);
    return p;
}

Test(lanes, careful_path_matches_fast_bits_on_finite_data)
{
    const size_t n = 3 * EG_LANE_ELEMS + 5;
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        void *x = alloc_fill((eg_dtype)t, n, 11 + t, -1e3, 1e3);
        void *y = alloc_fill((eg_dtype)t, n, 99 + t, -2.0, 2.0);
        uint64_t *w = malloc(eg_lane_count(n) * EG_LANE_WORDS * 8);
        eg_lanes_fast(x, y, n, (eg_dtype)t, EG_G_ALL, w);
        size_t sz = eg_dtype_size((eg_dtype)t);
        for (uint64_t l = 0; l < eg_lane_count(n); l++) {
            uint64_t base = l * EG_LANE_ELEMS;
            uint64_t m = n - base < EG_LANE_ELEMS ? n - base : EG_LANE_ELEMS;
            eg_lane fast, careful;
            cr_assert(eg_lane_decode(w + l * EG_LANE_WORDS, (eg_dtype)t,
                                     EG_G_ALL, &fast),
                      "dtype %s lane %llu rejected", eg_dtype_name(t),
                      (unsigned long long)l);
            eg_lane_careful((char *)x + base * sz, (char *)y + base * sz, m,
                            base, (eg_dtype)t, EG_G_ALL, &careful);
            cr_assert(!memcmp(&fast, &careful, sizeof fast),
                      "dtype %s lane %llu: careful differs from fast",
                      eg_dtype_name(t), (unsigned long long)l);
        }
        free(w);
        free(x);
        free(y);
    }
}

/* Every group set the fast path specialises (and some it does not), on
 * data full of ties and of zeros of both signs: the first extreme, its index
 * and the sign of a zero sum must all come out as the scalar careful path
 * gives them. */
static void put_float(char *x, eg_dtype t, size_t i, double v)
{
    if (t == EG_F32)
        ((float *)x)[i] = (float)v;
    else
        ((double *)x)[i] = v;
}

/* Every group set the fast path specialises, and some it does not. */
static const unsigned tie_sets[] = {0,
                                    EG_G_MINMAX,
                                    EG_G_VAR,
                                    EG_G_L1,
                                    EG_G_L2,
                                    EG_G_DOT,
                                    EG_G_VAR | EG_G_MINMAX,
                                    EG_G_MINMAX | EG_G_L1,
                                    EG_G_ALL,
                                    EG_G_L1 | EG_G_NO_SUM,
                                    EG_G_L2 | EG_G_NO_SUM,
                                    EG_G_DOT | EG_G_NO_SUM,
                                    EG_G_VAR | EG_G_NO_SUM,
                                    EG_G_MINMAX | EG_G_NO_SUM,
                                    EG_G_MINMAX | EG_G_L1 | EG_G_NO_SUM,
                                    EG_G_ALL | EG_G_NO_SUM};
#define TIE_SETS (sizeof tie_sets / sizeof *tie_sets)
#define TIE_N (9 * EG_LANE_ELEMS + 37)

/* Data full of ties and of zeros of both signs, in x and y. */
static void fill_ties(char *x, char *y, eg_dtype t, size_t n)
{
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        int v = (int)((r >> 33) % 7) - 3;
        double d = v == 0 && (r >> 20) % 2 ? -0.0 : (double)v;
        /* Lane 5 holds only zeros, half of them negative. */
        if (i / EG_LANE_ELEMS == 5)
            d = (r >> 21) % 2 ? -0.0 : 0.0;
        /* Lanes 6 and 7 keep their extremes for late in the lane:
         * first at 3000 (tied again at 3500) and at 4095 for the min,
         * at 1000 and 4000 (tied) for the max. */
        uint64_t at = i % EG_LANE_ELEMS, lane = i / EG_LANE_ELEMS;
        if (lane == 6 || lane == 7)
            d = d / 4;
        if ((lane == 6 && (at == 3000 || at == 3500)) ||
            (lane == 7 && at == 4095))
            d = -5.0;
        if ((lane == 6 || lane == 7) && (at == 1000 || at == 4000))
            d = 5.0;
        double e = (double)((int)((r >> 40) % 5) - 2);
        if (t == EG_F32) {
            ((float *)x)[i] = (float)d;
            ((float *)y)[i] = (float)e;
        } else {
            ((double *)x)[i] = d;
            ((double *)y)[i] = e;
        }
    }
}

/* Records 0..lanes-1 of w against the scalar careful path: the same lane
 * (extremes only where asked for), or refused where `refused` says. */
static void check_against_careful(const uint64_t *w, const char *x,
                                  const char *y, size_t n, uint64_t lanes,
                                  eg_dtype t, unsigned g,
                                  int (*refused)(uint64_t lane))
{
    size_t sz = eg_dtype_size(t);
    for (uint64_t l = 0; l < lanes; l++) {
        uint64_t base = l * EG_LANE_ELEMS;
        uint64_t m = n - base < EG_LANE_ELEMS ? n - base : EG_LANE_ELEMS;
        eg_lane fast, careful;
        int ok = eg_lane_decode(w + l * EG_LANE_WORDS, t, g, &fast);
        if (refused && refused(l)) {
            cr_assert_not(ok,
                          "%s groups %#x lane %llu: a special value "
                          "kept",
                          eg_dtype_name(t), g, (unsigned long long)l);
            continue;
        }
        cr_assert(ok, "%s groups %#x lane %llu refused", eg_dtype_name(t), g,
                  (unsigned long long)l);
        eg_lane_careful(x + base * sz, y + base * sz, m, base, t, g, &careful);
        if (!(g & EG_G_MINMAX)) { /* undefined without the group */
            fast.min = careful.min;
            fast.max = careful.max;
        }
        cr_assert(!memcmp(&fast, &careful, sizeof fast),
                  "%s groups %#x lane %llu: fast differs from careful",
                  eg_dtype_name(t), g, (unsigned long long)l);
    }
}

/* On ties and zeros of both signs, the first extreme, its index and the
 * sign of a zero sum must all come out as the scalar careful path gives
 * them, through whichever pass this CPU takes. */
Test(lanes, every_group_set_matches_careful_path_on_ties)
{
    const size_t n = TIE_N;
    const eg_dtype types[] = {EG_F32, EG_F64};
    uint64_t *w = malloc(eg_lane_count(n) * EG_LANE_WORDS * 8);
    for (int ti = 0; ti < 2; ti++) {
        eg_dtype t = types[ti];
        char *x = malloc(n * 8), *y = malloc(n * 8);
        fill_ties(x, y, t, n);
        for (size_t si = 0; si < TIE_SETS; si++) {
            eg_lanes_fast(x, y, n, t, tie_sets[si], w);
            check_against_careful(w, x, y, n, eg_lane_count(n), t, tie_sets[si],
                                  NULL);
        }
        free(x);
        free(y);
    }
    free(w);
}

/* Lanes 2 and 6 of the AVX2 test hold NaN, +inf or -inf. */
static int special_lane(uint64_t lane)
{
    return lane == 2 || lane == 6;
}

/* The AVX2 pass, called itself so that a CPU with AVX-512 (which
 * eg_lanes_fast prefers) checks it too: the careful path's bits on ties
 * for every group set, and each lane with a special value refused. */
Test(lanes, avx2_pass_matches_careful_path_for_every_group_set)
{
    const size_t n = TIE_N, full = n / EG_LANE_ELEMS;
    const eg_dtype types[] = {EG_F32, EG_F64};
    const double specials[] = {NAN, INFINITY, -INFINITY};
    uint64_t *w = malloc(eg_lane_count(n) * EG_LANE_WORDS * 8);
    for (int ti = 0; ti < 2; ti++) {
        eg_dtype t = types[ti];
        char *x = malloc(n * 8), *y = malloc(n * 8);
        for (int special = 0; special < 4; special++) {
            fill_ties(x, y, t, n);
            if (special) {
                put_float(x, t, 2 * EG_LANE_ELEMS + 100, specials[special - 1]);
                put_float(x, t, 7 * EG_LANE_ELEMS - 1, specials[special - 1]);
            }
            for (size_t si = 0; si < TIE_SETS; si++) {
                uint64_t got = eg_lanes_avx2(x, y, full, t, tie_sets[si], w);
                if (got == 0)
                    cr_skip_test("no AVX2 and FMA on this CPU");
                cr_assert_geq(got, full - 1,
                              "AVX2 pass did %llu of %zu "
                              "lanes",
                              (unsigned long long)got, full);
                check_against_careful(w, x, y, n, got, t, tie_sets[si],
                                      special ? special_lane : NULL);
            }
        }
        free(x);
        free(y);
    }
    free(w);
}

Test(lanes, special_values_force_the_careful_path)
{
    double x[16];
    uint64_t w[EG_LANE_WORDS];
    eg_lane lane;
    const double specials[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 16; i++)
            x[i] = i;
        x[5] = specials[k];
        eg_lanes_fast(x, NULL, 16, EG_F64, EG_G_MINMAX, w);
        cr_assert_not(eg_lane_decode(w, EG_F64, EG_G_MINMAX, &lane));
    }
    /* f64 l2 outside Blue's middle range. */
    for (int i = 0; i < 16; i++)
        x[i] = i ? 1e300 : 1e-300;
    eg_lanes_fast(x, NULL, 16, EG_F64, EG_G_L2, w);
    cr_assert_not(eg_lane_decode(w, EG_F64, EG_G_L2, &lane));
    eg_lanes_fast(x, NULL, 16, EG_F64, EG_G_MINMAX, w);
    cr_assert(eg_lane_decode(w, EG_F64, EG_G_MINMAX, &lane));
}

/* Without the sum (EG_G_NO_SUM) a record is the full one with its sum
 * words zero, for every dtype, full and partial lanes, the AVX-512 sets
 * made for it and the general ones; and the chunk's state is the full
 * one with a zero sum, special values (which force the careful path
 * through the other groups' words) included. */
Test(lanes, without_the_sum_records_and_states_are_the_full_ones_less_it)
{
    const unsigned sets[] = {EG_G_L1,           EG_G_L2,
                             EG_G_DOT,          EG_G_VAR,
                             EG_G_MINMAX,       EG_G_L1 | EG_G_L2,
                             EG_G_MINMAX | EG_G_DOT, EG_G_ALL};
    const size_t n = 6 * EG_LANE_ELEMS + 77;
    uint64_t *full = malloc(eg_lane_count(n) * EG_LANE_WORDS * 8);
    uint64_t *part = malloc(eg_lane_count(n) * EG_LANE_WORDS * 8);
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        char *x = alloc_fill((eg_dtype)t, n, 5 + t, -1e3, 1e3);
        char *y = alloc_fill((eg_dtype)t, n, 55 + t, -2.0, 2.0);
        for (int special = 0; special < 2; special++) {
            if (special && !eg_dtype_is_float((eg_dtype)t))
                continue;
            if (special) { /* NaN, +inf, -inf in lanes 1, 3 and the last */
                put_float(x, (eg_dtype)t, EG_LANE_ELEMS + 9, NAN);
                put_float(x, (eg_dtype)t, 3 * EG_LANE_ELEMS, INFINITY);
                put_float(x, (eg_dtype)t, n - 2, -INFINITY);
            }
            for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
                unsigned g = sets[si], gn = g | EG_G_NO_SUM;
                eg_lanes_fast(x, y, n, (eg_dtype)t, g, full);
                eg_lanes_fast(x, y, n, (eg_dtype)t, gn, part);
                for (uint64_t l = 0; l < eg_lane_count(n); l++) {
                    uint64_t *a = full + l * EG_LANE_WORDS;
                    const uint64_t *b = part + l * EG_LANE_WORDS;
                    cr_assert(b[EG_W_SUM_S] == 0 && b[EG_W_SUM_C] == 0,
                              "%s groups %#x lane %llu: sum words set",
                              eg_dtype_name(t), g, (unsigned long long)l);
                    a[EG_W_SUM_S] = a[EG_W_SUM_C] = 0;
                    /* Min and max alone: the host flags what the sum's
                     * words revealed, exactly the lanes with specials. */
                    int lone = !(g & EG_G_REVEALS) &&
                               eg_dtype_is_float((eg_dtype)t);
                    int has = special && (l == 1 || l == 3 ||
                                          l == eg_lane_count(n) - 1);
                    if (lone) {
                        cr_assert_eq(b[EG_W_FLAGS],
                                     has ? EG_LANE_NEEDS_CAREFUL : 0u,
                                     "%s groups %#x lane %llu: flags",
                                     eg_dtype_name(t), g,
                                     (unsigned long long)l);
                        a[EG_W_FLAGS] = b[EG_W_FLAGS];
                    }
                    cr_assert(!memcmp(a, b, EG_LANE_WORDS * 8),
                              "%s groups %#x lane %llu: records differ",
                              eg_dtype_name(t), g, (unsigned long long)l);
                }
                eg_state sf, sn;
                hr_state(x, y, n, (eg_dtype)t, g, 1000, &sf);
                hr_state(x, y, n, (eg_dtype)t, gn, 1000, &sn);
                cr_assert_eq(sn.groups, gn);
                cr_assert_eq(sn.nan_n, special ? 1u : 0u);
                cr_assert_eq(sn.pinf_n + sn.ninf_n, special ? 2u : 0u);
                sf.groups = gn;
                sf.sum_s = sf.sum_c = 0;
                sf.isum_lo = 0;
                sf.isum_hi = 0;
                cr_assert(!memcmp(&sf, &sn, sizeof sf),
                          "%s groups %#x special %d: states differ",
                          eg_dtype_name(t), g, special);
            }
        }
        free(x);
        free(y);
    }
    free(full);
    free(part);
}

/* Every op on a chunk of many lanes against the exact/long double reference. */
static void check_against_reference(eg_dtype t, size_t n, double lo, double hi)
{
    void *x = alloc_fill(t, n, 5 + n, lo, hi);
    void *y = alloc_fill(t, n, 7 + n, lo, hi);
    if (t == EG_I64 || t == EG_U64) /* keep the int64 sum in range */
        for (size_t i = 0; i < n; i++) {
            ((uint64_t *)x)[i] >>= 24;
            ((uint64_t *)y)[i] >>= 24;
        }
    tu_ref ref;
    tu_reference(x, y, t, n, &ref);
    eg_result r;
    cr_assert_eq(hr_reduce(x, y, n, t, EG_NAN_PROPAGATE, 0, &r), EG_OK);
    cr_assert_eq(r.value[EG_OP_COUNT].v.u, n);
    cr_assert_eq(r.value[EG_OP_ARGMIN].v.i, (int64_t)ref.argmin,
                 "%s n=%zu argmin", eg_dtype_name(t), n);
    cr_assert_eq(r.value[EG_OP_ARGMAX].v.i, (int64_t)ref.argmax);
    long double bound = ldexpl(ref.abs_sum, -50);
    if (eg_dtype_is_float(t)) {
        cr_assert_leq(fabsl(r.value[EG_OP_SUM].v.f - ref.sum), bound,
                      "%s n=%zu sum %.17g vs %.17Lg", eg_dtype_name(t), n,
                      r.value[EG_OP_SUM].v.f, ref.sum);
        cr_assert_leq(fabsl(r.value[EG_OP_L1].v.f - ref.abs_sum), bound);
        cr_assert_eq(r.value[EG_OP_MIN].v.f, (double)ref.min);
    }
    long double var = ref.var_m2 / n;
    cr_assert_leq(fabsl(r.value[EG_OP_VAR].v.f - var), 1e-12L * var + 1e-300L,
                  "%s n=%zu var %.17g vs %.17Lg", eg_dtype_name(t), n,
                  r.value[EG_OP_VAR].v.f, var);
    long double l2 = sqrtl(ref.l2sq);
    cr_assert_leq(fabsl(r.value[EG_OP_L2].v.f - l2), 1e-13L * l2);
    long double dot_bound = 1e-15L * fabsl(ref.dot) + ldexpl(ref.l2sq, -50);
    cr_assert_leq(fabsl(r.value[EG_OP_DOT].v.f - ref.dot), dot_bound + 1e-300L,
                  "%s dot %.17g vs %.17Lg", eg_dtype_name(t),
                  r.value[EG_OP_DOT].v.f, ref.dot);
    free(x);
    free(y);
}

Test(lanes, every_dtype_against_reference)
{
    const size_t sizes[] = {1, 7, 4097, 65537, 1000003};
    for (int t = 0; t < EG_DTYPE_COUNT; t++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            check_against_reference((eg_dtype)t, sizes[k], -100.0, 100.0);
}

Test(lanes, large_offset_variance_has_no_cancellation)
{
    check_against_reference(EG_F64, 1000003, 1e9, 1e9 + 1.0);
    check_against_reference(EG_F32, 100003, 1e6, 1e6 + 1.0);
}

/* ------------------------------------------------ exact lanes, AVX-512
 *
 * Lanes built to take every branch of the one-pass exact lane: the guess
 * holding, failing on top (later elements far larger than the first 8) and
 * on the low grid (far smaller), holding with terms too fine for the short
 * pass, no guess at all (a zero head), careful
 * lanes (non-finite, subnormal products, huge values), zeros of both signs
 * and ties for min and max; and a ramp whose rows hold elements of every
 * binade down to 2^-23 of the top, so that many rows of a short pass hold
 * elements on both sides of its threshold and are cut long. */
enum {
    XL_PLAIN,
    XL_GROWS,
    XL_SHRINKS,
    XL_SPREAD,
    XL_SUBNORMAL,
    XL_ZEROS,
    XL_ZERO_HEAD,
    XL_TIES,
    XL_ZERO_MIN,
    XL_NAN,
    XL_HUGE,
    XL_RAMP,
    XL_KINDS
};

/* Lane `kind` as doubles with full 53-bit fractions, so that f64 products
 * have non-zero errors (f32 lanes take them rounded; f64 subnormals and
 * huge values become zeros or infinities there: other branches, tested as
 * well). */
static void exact_lane(double *v, int kind, uint64_t seed)
{
    uint64_t st = seed;
    for (unsigned i = 0; i < EG_LANE_ELEMS; i++) {
        double u = 200.0 * tu_unit(&st) - 100.0;
        int r = (int)(tu_next(&st) % 5);
        switch (kind) {
        case XL_GROWS:
            v[i] = i < 8 ? u / 100.0 : u * 1e4;
            break;
        case XL_SHRINKS:
            v[i] = i == 3001 ? 0x1p-90 : u;
            break;
        case XL_SPREAD: /* the guess holds, one row is cut long */
            v[i] = i == 2000 ? u * 0x1p-30 : u;
            break;
        case XL_SUBNORMAL:
            v[i] = u * 0x1p-1070;
            break;
        case XL_ZEROS:
            v[i] = r < 2 ? -0.0 : 0.0;
            break;
        case XL_ZERO_HEAD:
            v[i] = i < 8 ? (i % 2 ? -0.0 : 0.0) : u;
            break;
        case XL_TIES: {
            static const double set[5] = {-2.0, -0.0, 0.0, 1.0, 2.0};
            v[i] = set[r];
            break;
        }
        case XL_ZERO_MIN:
            v[i] = r == 0 ? 0.0 : r == 1 ? -0.0 : 1.0 + r;
            break;
        case XL_NAN:
            v[i] = i == 3000 ? NAN : u;
            break;
        case XL_HUGE:
            v[i] = u * 1e298;
            break;
        case XL_RAMP: /* full scale head, so the guess holds */
            v[i] = i < 8 ? u : ldexp(u, -(int)(i % 24));
            break;
        default: /* plain, with zeros of both signs and tied extremes */
            v[i] = i % 37 == 5 ? 0.0 : i % 41 == 7 ? -0.0 : u;
            break;
        }
    }
    if (kind == XL_PLAIN) {
        v[100] = v[3000] = -150.0;
        v[200] = v[2500] = 150.0;
    }
}

/* d (doubles, malloc'ed) as dtype t: itself for f64, else a float copy
 * (d is freed). */
static void *as_dtype(double *d, size_t n, eg_dtype t)
{
    if (t == EG_F64)
        return d;
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)d[i];
    free(d);
    return f;
}

/* n elements: lane l of kind (l + shift) % XL_KINDS, a partial lane last. */
static void *exact_data(eg_dtype t, size_t n, int shift)
{
    double *d = malloc((n + EG_LANE_ELEMS) * sizeof *d);
    for (size_t l = 0; l * EG_LANE_ELEMS < n; l++)
        exact_lane(d + l * EG_LANE_ELEMS, (int)((l + (size_t)shift) % XL_KINDS),
                   1000 + l + (uint64_t)shift);
    return as_dtype(d, n, t);
}

/* Lanes of the given kinds, one each (seeded by seed + their index). */
static void *exact_lanes_of(eg_dtype t, const int *kinds, size_t lanes,
                            uint64_t seed)
{
    size_t n = lanes * EG_LANE_ELEMS;
    double *d = malloc(n * sizeof *d);
    for (size_t l = 0; l < lanes; l++)
        exact_lane(d + l * EG_LANE_ELEMS, kinds[l], seed + l);
    return as_dtype(d, n, t);
}

static void assert_same_records(const uint64_t *a, const uint64_t *b,
                                uint64_t lanes, eg_dtype t, unsigned g,
                                const char *what)
{
    for (uint64_t l = 0; l < lanes; l++)
        for (int k = 0; k < EG_EXACT_LANE_WORDS; k++)
            cr_assert_eq(a[l * EG_EXACT_LANE_WORDS + k],
                         b[l * EG_EXACT_LANE_WORDS + k],
                         "%s %s groups %#x lane %llu (kind %d) word %d: "
                         "%#llx vs generic %#llx",
                         what, eg_dtype_name(t), g, (unsigned long long)l,
                         (int)(l % XL_KINDS), k,
                         (unsigned long long)a[l * EG_EXACT_LANE_WORDS + k],
                         (unsigned long long)b[l * EG_EXACT_LANE_WORDS + k]);
}

/* The AVX-512 path cuts up to four lanes side by side in one pass: a lane
 * whose guess fails (grows, shrinks), whose rows are cut short and long
 * (spread, ramp), that has no guess (zero head) or goes careful (NaN) must
 * get the record it gets alone, and so must its plain neighbours.  Each
 * block puts one such lane (or a mix) at another place among plain lanes;
 * the call's lane count leaves a partial group at the end. */
Test(lanes, exact_avx512_side_by_side_lanes_keep_their_own_outcomes)
{
    enum { BLOCK = 16, PLACES = 4 };
    static const int odd[] = {XL_GROWS,     XL_SHRINKS, XL_SPREAD,
                              XL_ZERO_HEAD, XL_NAN,     XL_RAMP};
    static const int mix[BLOCK] = {
        XL_PLAIN, XL_PLAIN,  XL_PLAIN,  XL_PLAIN,  XL_PLAIN, XL_PLAIN,
        XL_PLAIN, XL_PLAIN,  XL_PLAIN,  XL_PLAIN,  XL_PLAIN, XL_PLAIN,
        XL_GROWS, XL_SPREAD, XL_PLAIN,  XL_SPREAD};
    const size_t nodd = sizeof odd / sizeof odd[0];
    const size_t lanes = (nodd * PLACES + 1) * BLOCK + 3;
    int *kinds = malloc(lanes * sizeof *kinds);
    for (size_t l = 0; l < lanes; l++)
        kinds[l] = XL_PLAIN;
    for (size_t k = 0; k < nodd; k++)
        for (size_t p = 0; p < PLACES; p++)
            kinds[(k * PLACES + p) * BLOCK + BLOCK - PLACES + p] = odd[k];
    memcpy(&kinds[nodd * PLACES * BLOCK], mix, sizeof mix);
    kinds[lanes - 2] = XL_SPREAD; /* in the partial group */
    const eg_dtype types[2] = {EG_F32, EG_F64};
    for (int ti = 0; ti < 2; ti++) {
        eg_dtype t = types[ti];
        void *x = exact_lanes_of(t, kinds, lanes, 5000);
        void *y = exact_lanes_of(t, kinds, lanes, 9000);
        size_t words = lanes * EG_EXACT_LANE_WORDS;
        uint64_t *ref = calloc(words, 8), *got = calloc(words, 8);
        for (unsigned g = 0; g <= EG_G_ALL; g++) {
            unsigned gx = g | EG_G_EXACT;
            const void *yy = (g & EG_G_DOT) ? y : NULL;
            eg_lanes_exact_generic(x, yy, lanes * EG_LANE_ELEMS, t, gx, ref);
            if (!eg_lanes_exact_avx512(x, yy, lanes, t == EG_F64, gx, got))
                cr_skip_test("no AVX-512 on this CPU");
            for (size_t l = 0; l < lanes; l++)
                for (int w = 0; w < EG_EXACT_LANE_WORDS; w++)
                    cr_assert_eq(got[l * EG_EXACT_LANE_WORDS + w],
                                 ref[l * EG_EXACT_LANE_WORDS + w],
                                 "%s groups %#x lane %zu (kind %d) word %d",
                                 eg_dtype_name(t), gx, l, kinds[l], w);
        }
        free(ref);
        free(got);
        free(x);
        free(y);
    }
    free(kinds);
}

Test(lanes, exact_avx512_matches_generic_for_every_group_set)
{
    const size_t full = 2 * XL_KINDS, n = full * EG_LANE_ELEMS + 1000;
    const eg_dtype types[2] = {EG_F32, EG_F64};
    for (int ti = 0; ti < 2; ti++) {
        eg_dtype t = types[ti];
        void *x = exact_data(t, n, 0), *y = exact_data(t, n, 3);
        size_t words = eg_lane_count(n) * EG_EXACT_LANE_WORDS;
        uint64_t *ref = calloc(words, 8), *got = calloc(words, 8);
        for (unsigned g = 0; g <= EG_G_ALL; g++) {
            unsigned gx = g | EG_G_EXACT;
            const void *yy = (g & EG_G_DOT) ? y : NULL;
            eg_lanes_exact_generic(x, yy, n, t, gx, ref);
            if (!eg_lanes_exact_avx512(x, yy, full, t == EG_F64, gx, got))
                cr_skip_test("no AVX-512 on this CPU");
            assert_same_records(got, ref, full, t, gx, "avx512");
            eg_lanes_exact(x, yy, n, t, gx, got);
            assert_same_records(got, ref, eg_lane_count(n), t, gx, "lanes");
        }
        /* The lanes meant to stay exact did (no silent careful path). */
        eg_lanes_exact(x, NULL, n, t, EG_G_EXACT, got);
        const int exact_kinds[] = {XL_PLAIN,     XL_GROWS, XL_SHRINKS,
                                   XL_SPREAD,    XL_TIES,  XL_ZERO_HEAD,
                                   XL_ZERO_MIN,  XL_RAMP};
        for (size_t k = 0; k < sizeof exact_kinds / sizeof exact_kinds[0];
             k++)
            cr_assert_eq(got[exact_kinds[k] * EG_EXACT_LANE_WORDS + EG_X_FLAGS],
                         0, "%s kind %d went careful", eg_dtype_name(t),
                         exact_kinds[k]);
        free(ref);
        free(got);
        free(x);
        free(y);
    }
}
