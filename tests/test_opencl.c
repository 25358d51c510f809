/* test_opencl.c - the OpenCL backend: enumeration, error names, the kernel's
 * lane records against the host reference (memcmp, bit for bit), the binary
 * cache and build failure reports.
 *
 * Runs on POCL in CI.  POCL compiles a program in about a second, so each
 * test opens one device and builds only the programs it needs. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_backend.h"
#include "cl_device.h"
#include "cl_program.h"
#include "error.h"
#include "lanes.h"
#include "edgegrid.h"
#include "state.h"

/* ------------------------------------------------------------ helpers */

typedef struct devlist {
    eg_device **devs;
    size_t count;
    char notes[512];
} devlist;

static void devlist_open(devlist *l)
{
    eg_error err;
    memset(l, 0, sizeof *l);
    eg_status st =
        eg_cl_enumerate(&l->devs, &l->count, l->notes, sizeof l->notes, &err);
    cr_assert_eq(st, EG_OK, "eg_cl_enumerate: %s", err.msg);
    cr_assert_geq(l->count, 1, "no OpenCL device (notes: %s)", l->notes);
}

static void devlist_close(devlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        eg_device_destroy(&l->devs[i]);
    free(l->devs);
    l->devs = NULL;
    l->count = 0;
}

/* Uniform in [-1, 1). */
static double next_sym(uint64_t *s)
{
    return (double)(eg_splitmix64(s) >> 11) * 0x1p-52 - 1.0;
}

/* Floats: a large offset plus noise (the case compensated sums and the shift
 * exist for), or a spread of magnitudes and signs.  Integers: every bit
 * random, so signed types get negative values and 64-bit types their full
 * range. */
static void fill(void *p, eg_dtype t, size_t n, uint64_t seed, int offset)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = eg_splitmix64(&s);
        double f = offset ? 1e9 + 1e3 * next_sym(&s)
                          : ldexp(next_sym(&s), (int)(r % 81) - 40);
        switch (t) {
        case EG_F32:
            ((float *)p)[i] = (float)f;
            break;
        case EG_F64:
            ((double *)p)[i] = f;
            break;
        case EG_I8:
            ((int8_t *)p)[i] = (int8_t)r;
            break;
        case EG_U8:
            ((uint8_t *)p)[i] = (uint8_t)r;
            break;
        case EG_I16:
            ((int16_t *)p)[i] = (int16_t)r;
            break;
        case EG_U16:
            ((uint16_t *)p)[i] = (uint16_t)r;
            break;
        case EG_I32:
            ((int32_t *)p)[i] = (int32_t)r;
            break;
        case EG_U32:
            ((uint32_t *)p)[i] = (uint32_t)r;
            break;
        case EG_I64:
            ((int64_t *)p)[i] = (int64_t)r;
            break;
        case EG_U64:
            ((uint64_t *)p)[i] = r;
            break;
        default:
            break;
        }
    }
}

/* Runs the kernel and the host reference on the same data and requires the
 * same words; the message names the first differing word. */
static void expect_host_words(eg_device *dev, const void *x, const void *y,
                              uint64_t n, eg_dtype t, unsigned g)
{
    uint64_t lanes = eg_lane_count(n);
    size_t bytes = lanes * EG_LANE_WORDS * sizeof(uint64_t);
    uint64_t *got = malloc(bytes), *want = malloc(bytes);
    cr_assert(got && want);
    memset(got, 0xa5, bytes); /* words the kernel forgets show up */
    eg_error err;
    eg_status st = dev->ops->reduce_chunk(dev, x, y, n, t, g, got, &err);
    cr_assert_eq(st, EG_OK, "reduce_chunk %s groups %u n %llu: %s",
                 eg_dtype_name(t), g, (unsigned long long)n, err.msg);
    eg_lanes_fast(x, y, n, t, g, want);
    for (size_t i = 0; i < lanes * EG_LANE_WORDS; i++)
        cr_assert_eq(got[i], want[i],
                     "%s groups %u n %llu: lane %zu word %zu: kernel %016llx, "
                     "host %016llx",
                     eg_dtype_name(t), g, (unsigned long long)n,
                     i / EG_LANE_WORDS, i % EG_LANE_WORDS,
                     (unsigned long long)got[i], (unsigned long long)want[i]);
    free(got);
    free(want);
}

/* The (device, kernel variant) pairs a words test runs on: every OpenCL
 * device present with its own kernels, and CPU devices with the portable
 * (GPU) kernels too, so that every POCL run checks those words as well. */
typedef struct variant {
    eg_device *dev;
    int portable;
} variant;

static size_t variants(const devlist *l, variant *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count && n + 2 <= cap; i++) {
        eg_device *d = l->devs[i];
        int own = d->info.kind != EG_DEV_CPU;
        out[n++] = (variant){d, own};
        if (!own)
            out[n++] = (variant){d, 1};
    }
    return n;
}

/* Selects the variant's kernels on its device and returns the device. */
static eg_device *use(const variant *v)
{
    eg_cl_device_set_portable(v->dev, v->portable);
    return v->dev;
}

#define MAX_VARIANTS 16

static const uint64_t test_sizes[] = {
    1, 7, EG_LANE_ELEMS, EG_LANE_ELEMS + 1, 3 * EG_LANE_ELEMS + 5, 1000003,
};
#define NSIZES (sizeof test_sizes / sizeof test_sizes[0])
#define MAX_N 1000003

/* Every size, both data shapes, for the given group sets of one dtype. */
static void check_dtype(eg_dtype t, const unsigned *groups, size_t ngroups)
{
    devlist l;
    devlist_open(&l);
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    size_t sz = eg_dtype_size(t);
    void *x = malloc(MAX_N * sz), *y = malloc(MAX_N * sz);
    cr_assert(x && y);
    for (int offset = 0; offset < 2; offset++) {
        if (offset && !eg_dtype_is_float(t))
            break; /* integers have one shape: all bits random */
        fill(x, t, MAX_N, 1000 + t + 17 * offset, offset);
        fill(y, t, MAX_N, 2000 + t, 0);
        for (size_t v = 0; v < nv; v++) {
            eg_device *dev = use(&vs[v]);
            for (size_t gi = 0; gi < ngroups; gi++)
                for (size_t si = 0; si < NSIZES; si++)
                    expect_host_words(dev, x, y, test_sizes[si], t, groups[gi]);
        }
    }
    free(x);
    free(y);
    devlist_close(&l);
}

static const unsigned all_and_none[] = {EG_G_ALL, 0};

#define DTYPE_TEST(name, dt)                                                   \
    Test(opencl_words, name)                                                   \
    {                                                                          \
        check_dtype(dt, all_and_none, 2);                                      \
    }

DTYPE_TEST(f32, EG_F32)
DTYPE_TEST(f64, EG_F64)
DTYPE_TEST(i8, EG_I8)
DTYPE_TEST(u8, EG_U8)
DTYPE_TEST(i16, EG_I16)
DTYPE_TEST(u16, EG_U16)
DTYPE_TEST(i32, EG_I32)
DTYPE_TEST(u32, EG_U32)
DTYPE_TEST(i64, EG_I64)
DTYPE_TEST(u64, EG_U64)

/* Groups one at a time leave the other words zero, as the host does. */
Test(opencl_words, partial_group_sets)
{
    static const unsigned sets[] = {EG_G_MINMAX | EG_G_L2, EG_G_VAR | EG_G_DOT};
    check_dtype(EG_F64, sets, 2);
}

/* Without the sum (EG_G_NO_SUM: min and max, l1, l2 or dot asked for
 * alone) the kernels still fill the sum words, which are checked but not
 * kept: the records agree with the host's everywhere else on finite
 * data, and the chunk states, NaN and infinities included (the host flags
 * such lanes where the kernels' sums reveal them), are the host's bit for
 * bit. */
Test(opencl_words, without_the_sum_the_states_are_the_hosts)
{
    /* two kernel builds a dtype and variant: extremes alone (the host's
     * own check) and sets whose words reveal specials, y read too */
    static const unsigned sets[] = {EG_G_MINMAX | EG_G_NO_SUM,
                                    EG_G_L1 | EG_G_L2 | EG_G_DOT | EG_G_NO_SUM};
    const eg_dtype types[] = {EG_F32, EG_F64};
    const uint64_t n = 5 * EG_LANE_ELEMS + 123;
    devlist l;
    devlist_open(&l);
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    cr_assert_gt(nv, 0, "no OpenCL device");
    size_t bytes = eg_lane_count(n) * EG_LANE_WORDS * sizeof(uint64_t);
    uint64_t *got = malloc(bytes), *want = malloc(bytes);
    double *x = malloc(n * 8), *y = malloc(n * 8);
    for (int ti = 0; ti < 2; ti++) {
        eg_dtype t = types[ti];
        for (int special = 0; special < 2; special++) {
            fill(x, t, n, 300 + ti, 0);
            fill(y, t, n, 400 + ti, 0);
            if (special) { /* NaN in lane 1, +inf in lane 3 */
                double v[2] = {NAN, INFINITY};
                for (int k = 0; k < 2; k++) {
                    uint64_t at = (uint64_t)(1 + 2 * k) * EG_LANE_ELEMS + 7;
                    if (t == EG_F32)
                        ((float *)x)[at] = (float)v[k];
                    else
                        x[at] = v[k];
                }
            }
            for (size_t v = 0; v < nv; v++)
                for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
                    eg_device *dev = use(&vs[v]);
                    unsigned g = sets[si];
                    eg_error err;
                    cr_assert_eq(dev->ops->prepare(dev, t, g, &err), EG_OK,
                                 "%s", err.msg);
                    cr_assert_eq(dev->ops->reduce_chunk(dev, x, y, n, t, g,
                                                        got, &err),
                                 EG_OK, "%s", err.msg);
                    eg_lanes_fast(x, y, n, t, g, want);
                    for (uint64_t i = 0; i < eg_lane_count(n) * EG_LANE_WORDS;
                         i++) {
                        int w = (int)(i % EG_LANE_WORDS);
                        if (w != EG_W_SUM_S && w != EG_W_SUM_C && !special)
                            cr_assert_eq(got[i], want[i],
                                         "%s groups %#x word %llu",
                                         eg_dtype_name(t), g,
                                         (unsigned long long)i);
                    }
                    eg_state a, b;
                    eg_chunk_state(got, x, y, n, 0, t, g, &a);
                    eg_chunk_state(want, x, y, n, 0, t, g, &b);
                    cr_assert_eq(a.nan_n, special ? 1u : 0u);
                    cr_assert_eq(a.pinf_n, special ? 1u : 0u);
                    cr_assert(!memcmp(&a, &b, sizeof a),
                              "%s groups %#x special %d: device state differs",
                              eg_dtype_name(t), g, special);
                }
        }
    }
    free(got);
    free(want);
    free(x);
    free(y);
    devlist_close(&l);
}

/* ------------------------------------------------------------ ties */

static uint64_t word(const uint64_t *w, uint64_t lane, int i)
{
    return w[lane * EG_LANE_WORDS + (uint64_t)i];
}

Test(opencl_words, float_ties_go_to_the_smaller_index)
{
    devlist l;
    devlist_open(&l);
    enum { N = 2 * EG_LANE_ELEMS + 100 };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = (double)(i % 50);
    /* Lane 0: the minimum -5 twice in slot 2 (indices 10, 18) and in slots
     * 5 and 3 (13, 3003); the maximum 99 twice in slot 1 (9, 17) and at
     * 4000: the first occurrence must win inside a slot and across the slot
     * combine.  Lane 1: -0.0 and +0.0 tie as minimum (equal values). */
    x[13] = x[10] = x[18] = x[3003] = -5.0;
    x[4000] = x[9] = x[17] = 99.0;
    for (size_t i = EG_LANE_ELEMS; i < 2 * EG_LANE_ELEMS; i++)
        x[i] = 1.0;
    x[EG_LANE_ELEMS + 7] = 0.0;
    x[EG_LANE_ELEMS + 2] = -0.0;
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    for (size_t v = 0; v < nv; v++) {
        eg_device *dev = use(&vs[v]);
        expect_host_words(dev, x, NULL, N, EG_F64, EG_G_MINMAX);
        uint64_t w[3 * EG_LANE_WORDS];
        eg_error err;
        cr_assert_eq(dev->ops->reduce_chunk(dev, x, NULL, N, EG_F64,
                                            EG_G_MINMAX, w, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(word(w, 0, EG_W_ARGMIN), 10);
        cr_assert_eq(word(w, 0, EG_W_ARGMAX), 9);
        cr_assert_eq(word(w, 1, EG_W_ARGMIN), EG_LANE_ELEMS + 2);
        cr_assert_eq(word(w, 1, EG_W_ARGMAX), EG_LANE_ELEMS);
        /* Indices are relative to the chunk: the first multiple of 50 in
         * lane 2 (which starts at 8192). */
        cr_assert_eq(word(w, 2, EG_W_ARGMIN), 8200);
    }
    devlist_close(&l);
}

Test(opencl_words, integer_extremes_at_the_first_element)
{
    devlist l;
    devlist_open(&l);
    enum { N = EG_LANE_ELEMS + 9 };
    static int64_t x[N];
    /* All equal to INT64_MAX: no later element is "smaller", so the first
     * element of each lane must be both argmin and argmax. */
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    const unsigned g = EG_G_ALL & ~EG_G_DOT;
    for (size_t v = 0; v < nv; v++) {
        eg_device *dev = use(&vs[v]);
        for (size_t i = 0; i < N; i++)
            x[i] = INT64_MAX;
        expect_host_words(dev, x, NULL, N, EG_I64, g);
        uint64_t w[2 * EG_LANE_WORDS];
        eg_error err;
        cr_assert_eq(
            dev->ops->reduce_chunk(dev, x, NULL, N, EG_I64, g, w, &err), EG_OK,
            "%s", err.msg);
        cr_assert_eq(word(w, 0, EG_W_ARGMIN), 0);
        cr_assert_eq(word(w, 0, EG_W_ARGMAX), 0);
        cr_assert_eq(word(w, 1, EG_W_ARGMIN), EG_LANE_ELEMS);
        cr_assert_eq(word(w, 1, EG_W_MIN), (uint64_t)INT64_MAX);
        /* 4096 * (2^63 - 1) = 2^75 - 2^12 needs the high word. */
        cr_assert_eq(word(w, 0, EG_W_SUM_C), 2047);
        cr_assert_eq(word(w, 0, EG_W_SUM_S), (uint64_t)0 - 4096);
        /* The minimum repeated later: the first occurrence wins. */
        x[5] = x[17] = x[4000] = INT64_MIN;
        expect_host_words(dev, x, NULL, N, EG_I64, EG_G_MINMAX);
        cr_assert_eq(dev->ops->reduce_chunk(dev, x, NULL, N, EG_I64,
                                            EG_G_MINMAX, w, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(word(w, 0, EG_W_ARGMIN), 5);
        cr_assert_eq(word(w, 0, EG_W_MIN), (uint64_t)INT64_MIN);
    }
    devlist_close(&l);
}

/* ------------------------------------------------------------ paths */

Test(opencl_words, unaligned_input_and_copy_path)
{
    devlist l;
    devlist_open(&l);
    eg_device *dev = l.devs[0];
    enum { N = 5 * EG_LANE_ELEMS + 3 };
    float *buf = malloc((N + 1) * sizeof *buf);
    fill(buf, EG_F32, N + 1, 77, 1);
    /* One float past an aligned allocation: zero copy must cope. */
    expect_host_words(dev, buf + 1, NULL, N, EG_F32, EG_G_ALL & ~EG_G_DOT);
    /* The copy path of devices without unified memory, with the reusable
     * buffers shrinking and growing between chunks. */
    dev->info.unified_memory = 0;
    expect_host_words(dev, buf + 1, buf, N, EG_F32, EG_G_ALL);
    expect_host_words(dev, buf, buf + 1, 100, EG_F32, EG_G_ALL);
    expect_host_words(dev, buf, buf + 1, N, EG_F32, EG_G_ALL);
    free(buf);
    /* Several segments through the pinned staging sets, two sets in flight
     * each way, the last segment short; the indices of every segment's
     * records relative to the call. */
    enum { M = 3 * 1024 * 1024 + 4096 * 5 + 7 };
    double *big = malloc((size_t)M * sizeof *big);
    double *other = malloc((size_t)M * sizeof *other);
    cr_assert(big && other);
    fill(big, EG_F64, M, 78, 0);
    fill(other, EG_F64, M, 79, 0);
    big[M - 3] = -1e30;
    big[2 * 1024 * 1024 + 17] = 1e30;
    expect_host_words(dev, big, other, M, EG_F64, EG_G_ALL);
    uint64_t *w = malloc(eg_lane_count(M) * EG_LANE_WORDS * sizeof *w);
    cr_assert_not_null(w);
    eg_error err;
    cr_assert_eq(dev->ops->reduce_chunk(dev, big, NULL, M, EG_F64,
                                        EG_G_MINMAX, w, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(word(w, (M - 3) / EG_LANE_ELEMS, EG_W_ARGMIN), M - 3);
    cr_assert_eq(word(w, (2 * 1024 * 1024 + 17) / EG_LANE_ELEMS, EG_W_ARGMAX),
                 2 * 1024 * 1024 + 17);
    free(w);
    free(big);
    free(other);
    devlist_close(&l);
}

/* Unified memory: the zero-copy view of a region is created once and kept,
 * and a kept view still sees what the host wrote since (no stale bits). */
Test(opencl_words, unified_views_are_kept_and_see_new_contents)
{
    devlist l;
    devlist_open(&l);
    eg_device *dev = NULL;
    for (size_t i = 0; i < l.count && !dev; i++)
        if (l.devs[i]->info.unified_memory)
            dev = l.devs[i];
    if (!dev) {
        devlist_close(&l);
        cr_skip_test("no OpenCL device with unified memory");
    }
    enum { N = 3 * EG_LANE_ELEMS + 5 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    cr_assert(x && y);
    fill(x, EG_F64, N, 91, 0);
    fill(y, EG_F64, N, 92, 0);
    unsigned made0, hits0, made, hits;
    eg_cl_device_hostbuf_counters(dev, &made0, &hits0);
    expect_host_words(dev, x, y, N, EG_F64, EG_G_ALL);
    eg_cl_device_hostbuf_counters(dev, &made, &hits);
    cr_assert_eq(made - made0, 2, "views of x and y: %u", made - made0);
    /* The same regions again, after the host changed them. */
    x[N - 1] = 1e300;
    y[7] = -2.5;
    expect_host_words(dev, x, y, N, EG_F64, EG_G_ALL);
    fill(x, EG_F64, N, 93, 0);
    expect_host_words(dev, x, y, N, EG_F64, EG_G_ALL);
    eg_cl_device_hostbuf_counters(dev, &made, &hits);
    cr_assert_eq(made - made0, 2, "no view created again: %u", made - made0);
    cr_assert_eq(hits - hits0, 4, "kept views used: %u", hits - hits0);
    /* Another length over the same address is another view. */
    expect_host_words(dev, x, NULL, N - 5, EG_F64, EG_G_MINMAX);
    eg_cl_device_hostbuf_counters(dev, &made, &hits);
    cr_assert_eq(made - made0, 3);
    free(x);
    free(y);
    devlist_close(&l);
}

Test(opencl_words, infinities_reach_the_sum_word)
{
    devlist l;
    devlist_open(&l);
    enum { N = 2 * EG_LANE_ELEMS };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = (double)i;
    x[EG_LANE_ELEMS + 3] = INFINITY;
    uint64_t w[2 * EG_LANE_WORDS];
    eg_error err;
    cr_assert_eq(l.devs[0]->ops->reduce_chunk(l.devs[0], x, NULL, N, EG_F64,
                                              EG_G_MINMAX, w, &err),
                 EG_OK, "%s", err.msg);
    eg_lane lane;
    cr_assert(eg_lane_decode(w, EG_F64, EG_G_MINMAX, &lane));
    cr_assert_not(eg_lane_decode(w + EG_LANE_WORDS, EG_F64, EG_G_MINMAX, &lane),
                  "a lane holding +inf must go to the careful path");
    devlist_close(&l);
}

/* The lane rule (lanes.h) when the extreme is the start value: an all-+inf
 * lane's min (an all--inf lane's max) is found at its first element, in the
 * kernels as in the host lanes, f32 and f64, a full lane and a short one.
 * Only the extreme words are compared: the sum words of such lanes are
 * non-finite (the careful path redoes them), their NaN bits unspecified. */
Test(opencl_words, all_infinite_lanes_find_their_first_element)
{
    devlist l;
    devlist_open(&l);
    enum { N = 3 * EG_LANE_ELEMS + 100 };
    static double x[N];
    static float xf[N];
    for (size_t i = 0; i < N; i++) {
        size_t lane = i / EG_LANE_ELEMS;
        x[i] = lane == 1 ? -INFINITY : lane == 2 ? 3.0 : INFINITY;
        xf[i] = (float)x[i];
    }
    /* lane 2: finite, one +inf and a smaller value after it */
    x[2 * EG_LANE_ELEMS + 5] = xf[2 * EG_LANE_ELEMS + 5] = INFINITY;
    x[2 * EG_LANE_ELEMS + 9] = xf[2 * EG_LANE_ELEMS + 9] = -1.0f;
    const uint64_t amn[4] = {0, EG_LANE_ELEMS, 2 * EG_LANE_ELEMS + 9,
                             3 * EG_LANE_ELEMS};
    const uint64_t amx[4] = {0, EG_LANE_ELEMS, 2 * EG_LANE_ELEMS + 5,
                             3 * EG_LANE_ELEMS};
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    for (size_t v = 0; v < nv; v++) {
        eg_device *dev = use(&vs[v]);
        for (int f = 0; f < 2; f++) {
            eg_dtype t = f ? EG_F32 : EG_F64;
            const void *p = f ? (const void *)xf : (const void *)x;
            uint64_t got[4 * EG_LANE_WORDS], want[4 * EG_LANE_WORDS];
            eg_error err;
            cr_assert_eq(dev->ops->reduce_chunk(dev, p, NULL, N, t,
                                                EG_G_MINMAX, got, &err),
                         EG_OK, "%s", err.msg);
            eg_lanes_fast(p, NULL, N, t, EG_G_MINMAX, want);
            for (uint64_t ln = 0; ln < 4; ln++) {
                cr_assert_eq(word(got, ln, EG_W_ARGMIN), amn[ln],
                             "%s portable %d %s lane %llu argmin %llx",
                             dev->info.name, vs[v].portable, eg_dtype_name(t),
                             (unsigned long long)ln,
                             (unsigned long long)word(got, ln, EG_W_ARGMIN));
                cr_assert_eq(word(got, ln, EG_W_ARGMAX), amx[ln],
                             "%s portable %d %s lane %llu argmax %llx",
                             dev->info.name, vs[v].portable, eg_dtype_name(t),
                             (unsigned long long)ln,
                             (unsigned long long)word(got, ln, EG_W_ARGMAX));
                for (int i = EG_W_MIN; i <= EG_W_ARGMAX; i++)
                    cr_assert_eq(word(got, ln, i), word(want, ln, i),
                                 "%s portable %d %s lane %llu word %d: "
                                 "kernel %016llx, host %016llx",
                                 dev->info.name, vs[v].portable,
                                 eg_dtype_name(t), (unsigned long long)ln, i,
                                 (unsigned long long)word(got, ln, i),
                                 (unsigned long long)word(want, ln, i));
            }
        }
    }
    devlist_close(&l);
}

Test(opencl_words, f64_l2_outside_blue_range_sets_the_flag)
{
    devlist l;
    devlist_open(&l);
    enum { N = 38 }; /* 4 full groups of 8, then a partial one */
    double x[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0 + i;
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    for (size_t v = 0; v < nv; v++) {
        uint64_t w[EG_LANE_WORDS];
        eg_error err;
        eg_device *dev = use(&vs[v]);
        x[33] = 34.0;
        cr_assert_eq(
            dev->ops->reduce_chunk(dev, x, NULL, N, EG_F64, EG_G_L2, w, &err),
            EG_OK, "%s", err.msg);
        cr_assert_eq(w[EG_W_FLAGS], 0);
        x[33] = 1e-200; /* below Blue's small threshold, in the partial tail */
        cr_assert_eq(
            dev->ops->reduce_chunk(dev, x, NULL, N, EG_F64, EG_G_L2, w, &err),
            EG_OK, "%s", err.msg);
        cr_assert_eq(w[EG_W_FLAGS], EG_LANE_NEEDS_CAREFUL);
        expect_host_words(dev, x, NULL, N, EG_F64, EG_G_L2);
    }
    devlist_close(&l);
}

Test(opencl_words, dot_without_second_operand_is_refused)
{
    devlist l;
    devlist_open(&l);
    double x[4] = {1, 2, 3, 4};
    uint64_t w[EG_LANE_WORDS];
    eg_error err;
    cr_assert_eq(l.devs[0]->ops->reduce_chunk(l.devs[0], x, NULL, 4, EG_F64,
                                              EG_G_DOT, w, &err),
                 EG_EINTERNAL);
    devlist_close(&l);
}

/* ------------------------------------------------------------ launches */

Test(opencl_words, portable_kernel_spreads_a_lane_over_eight_work_items)
{
    devlist l;
    devlist_open(&l);
    enum { N = 37 * EG_LANE_ELEMS + 11 }; /* 38 lanes */
    float *x = malloc(N * sizeof *x);
    cr_assert_not_null(x);
    fill(x, EG_F32, N, 91, 0);
    for (size_t i = 0; i < l.count; i++) {
        eg_device *dev = l.devs[i];
        eg_cl_device_set_portable(dev, 1);
        expect_host_words(dev, x, NULL, N, EG_F32, EG_G_ALL & ~EG_G_DOT);
        cr_assert_gt(dev->launch_local, 0);
        cr_assert_eq(dev->launch_local % EG_LANE_SLOTS, 0);
        cr_assert_geq(dev->launch_global, 38 * EG_LANE_SLOTS);
        cr_assert_lt(dev->launch_global,
                     38 * EG_LANE_SLOTS + dev->launch_local);
        cr_assert_eq(dev->launch_global % dev->launch_local, 0);
    }
    free(x);
    devlist_close(&l);
}

/* A call larger than the device's largest allocation is cut into
 * launches that each fit, with the indices of one launch: no error, so no
 * fallback to the host. */
Test(opencl_words, call_above_the_max_allocation_is_cut)
{
    devlist l;
    devlist_open(&l);
    enum { N = 10 * EG_LANE_ELEMS + 5 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    cr_assert(x && y);
    fill(x, EG_F64, N, 61, 0);
    fill(y, EG_F64, N, 62, 0);
    x[N - 2] = -1e30; /* the minimum, in the last launch's last lane */
    x[3 * EG_LANE_ELEMS + 1] = 1e30;
    variant vs[MAX_VARIANTS];
    size_t nv = variants(&l, vs, MAX_VARIANTS);
    for (size_t v = 0; v < nv; v++) {
        eg_device *dev = use(&vs[v]);
        uint64_t saved = dev->info.max_alloc;
        /* Three lanes of f64 per allocation: four launches. */
        dev->info.max_alloc = 3 * EG_LANE_ELEMS * sizeof(double) + 100;
        expect_host_words(dev, x, y, N, EG_F64, EG_G_ALL);
        uint64_t w[11 * EG_LANE_WORDS];
        eg_error err;
        cr_assert_eq(dev->ops->reduce_chunk(dev, x, NULL, N, EG_F64,
                                            EG_G_MINMAX, w, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(word(w, 10, EG_W_ARGMIN), N - 2);
        cr_assert_eq(word(w, 3, EG_W_ARGMAX), 3 * EG_LANE_ELEMS + 1);
        dev->info.max_alloc = saved;
    }
    free(x);
    free(y);
    devlist_close(&l);
}

/* ------------------------------------------------------------ contraction */

Test(opencl_probe, verdict_tells_fused_from_rounded_twice)
{
    /* The probe's inputs, computed here both ways. */
    volatile double a = 1.0 + 0x1p-30, b = 1.0 - 0x1p-30, c = -1.0;
    volatile float fa = 1.0f + 0x1p-13f, fb = 1.0f - 0x1p-13f, fc = -1.0f;
    double p = a * b;
    float fp = fa * fb;
    const double twice[2] = {p + c, (double)(fp + fc)};
    const double fused[2] = {fma(a, b, c), (double)fmaf(fa, fb, fc)};
    cr_assert_eq(twice[0], 0.0);
    cr_assert_eq(twice[1], 0.0);
    cr_assert_eq(fused[0], -0x1p-60);
    cr_assert_eq(fused[1], -0x1p-26);
    cr_assert_not(eg_cl_probe_verdict(twice));
    cr_assert(eg_cl_probe_verdict(fused));
    const double only_float[2] = {0.0, fused[1]};
    cr_assert(eg_cl_probe_verdict(only_float));
}

Test(opencl_probe, every_device_rounds_products_before_adding)
{
    devlist l;
    devlist_open(&l);
    for (size_t i = 0; i < l.count; i++) {
        int contracts = -1;
        eg_error err;
        cr_assert_eq(eg_cl_probe_contraction(l.devs[i], NULL, &contracts, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(contracts, 0, "\"%s\" contracts a * b + c",
                     l.devs[i]->info.name);
    }
    devlist_close(&l);
}

/* With contraction allowed on purpose (FP_CONTRACT ON, -cl-mad-enable), a
 * compiler for a machine with FMA fuses; prepare must then refuse the
 * device with a message naming it.  A device whose compiler still rounds
 * twice has nothing to refuse: that is checked too. */
Test(opencl_probe, device_that_contracts_is_refused)
{
    devlist l;
    devlist_open(&l);
    static const char on[] = "-DEG_PROBE_CONTRACT -cl-mad-enable";
    size_t refused = 0;
    for (size_t i = 0; i < l.count; i++) {
        eg_device *dev = l.devs[i];
        int contracts = -1;
        eg_error err;
        cr_assert_eq(eg_cl_probe_contraction(dev, on, &contracts, &err), EG_OK,
                     "%s", err.msg);
        eg_cl_device_set_probe_options(dev, on);
        eg_status st = dev->ops->prepare(dev, EG_F64, EG_G_ALL, &err);
        if (!contracts) {
            cr_assert_eq(st, EG_OK, "%s", err.msg);
            continue;
        }
        refused++;
        cr_assert_eq(st, EG_EOPENCL);
        cr_assert(strstr(err.msg, dev->info.name), "%s", err.msg);
        cr_assert(strstr(err.msg, "fuses a * b + c"), "%s", err.msg);
        /* Without the hook the same device object is trusted again. */
        eg_cl_device_set_probe_options(dev, NULL);
        cr_assert_eq(dev->ops->prepare(dev, EG_F64, EG_G_ALL, &err), EG_OK,
                     "%s", err.msg);
    }
    /* POCL on an x86-64 CPU with FMA (AVX-512 here) does fuse when told
     * it may: there the refusal path must have run. */
    for (size_t i = 0; i < l.count; i++)
        if (strstr(l.devs[i]->info.platform, "Portable Computing Language") &&
            __builtin_cpu_supports("fma"))
            cr_assert_gt(refused, 0, "POCL did not fuse with %s", on);
    devlist_close(&l);
}

/* ------------------------------------------------------------ devices */

Test(opencl_devices, enumerate_describes_each_device)
{
    devlist l;
    devlist_open(&l);
    for (size_t i = 0; i < l.count; i++) {
        const eg_device *d = l.devs[i];
        cr_assert(eg_cl_device_is_opencl(d));
        cr_assert_eq(d->threads, 1);
        cr_assert_neq(d->info.name[0], '\0');
        cr_assert_neq(d->info.platform[0], '\0');
        cr_assert_neq(d->info.driver[0], '\0');
        cr_assert_geq(d->info.compute_units, 1);
        cr_assert_gt(d->info.global_mem, 0);
        cr_assert_gt(d->info.max_alloc, 0);
        cr_assert_leq(d->info.max_alloc, d->info.global_mem);
        if (strstr(d->info.platform, "Portable Computing Language")) {
            /* POCL's CPU device: host memory, fp64. */
            cr_assert_eq(d->info.kind, EG_DEV_CPU);
            cr_assert(d->info.unified_memory);
            cr_assert(d->info.fp64);
        }
    }
    cr_assert_str_empty(l.notes);
    devlist_close(&l);
}

Test(opencl_devices, two_pocl_devices_work_independently)
{
    setenv("POCL_DEVICES", "pthread pthread", 1);
    devlist l;
    devlist_open(&l);
    size_t pocl = 0;
    eg_device *second = NULL;
    for (size_t i = 0; i < l.count; i++) {
        if (strstr(l.devs[i]->info.platform, "Portable Computing Language")) {
            if (++pocl == 2)
                second = l.devs[i];
        }
    }
    cr_assert_eq(pocl, 2, "POCL_DEVICES=\"pthread pthread\" gave %zu", pocl);
    uint32_t x[9000];
    fill(x, EG_U32, 9000, 5, 0);
    expect_host_words(second, x, NULL, 9000, EG_U32, EG_G_MINMAX | EG_G_L1);
    devlist_close(&l);
}

Test(opencl_devices, no_platform_is_not_an_error)
{
    /* ocl-icd reads its vendor list from here: an empty directory means no
     * ICD at all, CL_PLATFORM_NOT_FOUND_KHR. */
    char dir[] = "/tmp/eg_noicd.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    setenv("OCL_ICD_VENDORS", dir, 1);
    eg_device **devs = NULL;
    size_t count = 0;
    char notes[256] = "";
    eg_error err;
    cr_assert_eq(eg_cl_enumerate(&devs, &count, notes, sizeof notes, &err),
                 EG_OK);
    cr_assert_eq(count, 0);
    cr_assert_null(devs);
    cr_assert(strstr(notes, "no OpenCL platform found"), "notes: %s", notes);
    cr_assert(strstr(notes, "host backend"), "notes: %s", notes);
    rmdir(dir);
}

Test(opencl_devices, device_without_fp64_cannot_prepare)
{
    devlist l;
    devlist_open(&l);
    eg_device *dev = l.devs[0];
    dev->info.fp64 = 0; /* as a device without cl_khr_fp64 reports */
    eg_error err;
    cr_assert_eq(dev->ops->prepare(dev, EG_I32, 0, &err), EG_EOPENCL);
    cr_assert(strstr(err.msg, "has no fp64"), "%s", err.msg);
    cr_assert(strstr(err.msg, dev->info.name), "%s", err.msg);
    devlist_close(&l);
}

/* ------------------------------------------------------------ errors */

Test(opencl_errors, names)
{
    cr_assert_str_eq(eg_cl_error_name(-11), "CL_BUILD_PROGRAM_FAILURE");
    cr_assert_str_eq(eg_cl_error_name(0), "CL_SUCCESS");
    cr_assert_str_eq(eg_cl_error_name(-1), "CL_DEVICE_NOT_FOUND");
    cr_assert_str_eq(eg_cl_error_name(-30), "CL_INVALID_VALUE");
    cr_assert_str_eq(eg_cl_error_name(-68),
                     "CL_INVALID_DEVICE_PARTITION_COUNT");
    cr_assert_str_eq(eg_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    cr_assert_str_eq(eg_cl_error_name(-25), "CL_UNKNOWN_ERROR");
    cr_assert_str_eq(eg_cl_error_name(-9999), "CL_UNKNOWN_ERROR");
}

Test(opencl_errors, failure_message_names_call_device_and_code)
{
    eg_error err;
    cr_assert_eq(eg_cl_fail(&err, "clCreateBuffer", "gpu0", -4), EG_EOPENCL);
    cr_assert_eq(err.code, EG_EOPENCL);
    cr_assert_str_eq(
        err.msg,
        "clCreateBuffer on \"gpu0\": CL_MEM_OBJECT_ALLOCATION_FAILURE");
    eg_cl_fail(&err, "clFinish", "gpu0", -9999);
    cr_assert_str_eq(err.msg, "clFinish on \"gpu0\": CL_UNKNOWN_ERROR(-9999)");
}

Test(opencl_errors, broken_kernel_reports_the_build_log)
{
    devlist l;
    devlist_open(&l);
    eg_device *dev = l.devs[0];
    const char *src = "__kernel void broken(__global int *p)\n"
                      "{ p[0] = no_such_identifier; }\n";
    eg_error err;
    eg_status st =
        eg_cl_device_try_build(dev, src, strlen(src), "-DEG_MARK=1", &err);
    cr_assert_eq(st, EG_EOPENCL);
    cr_assert_eq(err.code, EG_EOPENCL);
    cr_assert(strstr(err.msg, "clBuildProgram on \""), "%s", err.msg);
    cr_assert(strstr(err.msg, dev->info.name), "%s", err.msg);
    cr_assert(strstr(err.msg, "CL_BUILD_PROGRAM_FAILURE"), "%s", err.msg);
    cr_assert(strstr(err.msg, "-DEG_MARK=1"), "%s", err.msg);
    cr_assert(strstr(err.msg, "no_such_identifier"), "log missing: %s",
              err.msg);
    cr_assert_null(strchr(err.msg, '\n'), "one line: %s", err.msg);
    /* The same source, fixed, builds. */
    const char *good = "__kernel void fine(__global int *p) { p[0] = 1; }";
    cr_assert_eq(eg_cl_device_try_build(dev, good, strlen(good), "", &err),
                 EG_OK, "%s", err.msg);
    devlist_close(&l);
}

/* ------------------------------------------------------------ cache */

/* rm -r: the temporary caches also hold POCL's own kernel cache. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A fresh, empty cache directory for this test. */
static void temp_cache(char *dir)
{
    strcpy(dir, "/tmp/eg_clcache.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
}

/* The name of the contraction probe's cache file on the first device: the
 * probe runs at every device's first prepare and is cached too. */
static void probe_file_name(char *name, size_t cap)
{
    devlist l;
    devlist_open(&l);
    snprintf(name, cap, "%016llx.bin",
             (unsigned long long)eg_cl_probe_cache_key(l.devs[0]));
    devlist_close(&l);
}

/* The one kernel cache file (there must be exactly one beside the
 * probe's) into path. */
static void only_cache_file(const char *root, char *path, size_t cap)
{
    char kdir[512], probe[32];
    snprintf(kdir, sizeof kdir, "%s/edgegrid/kernels", root);
    probe_file_name(probe, sizeof probe);
    DIR *d = opendir(kdir);
    cr_assert_not_null(d, "no cache directory %s", kdir);
    int found = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, probe))
            continue;
        found++;
        cr_assert(strlen(e->d_name) == 20 && !strcmp(e->d_name + 16, ".bin"),
                  "unexpected cache entry %s", e->d_name);
        snprintf(path, cap, "%s/%s", kdir, e->d_name);
    }
    closedir(d);
    cr_assert_eq(found, 1, "%d cache entries", found);
}

/* Opens a fresh device object, prepares (f32, all groups) and returns the
 * counters; the reduction is checked against the host each time. */
static void prepare_fresh(unsigned *built, unsigned *loaded)
{
    devlist l;
    devlist_open(&l);
    eg_device *dev = l.devs[0];
    eg_error err;
    cr_assert_eq(dev->ops->prepare(dev, EG_F32, EG_G_ALL, &err), EG_OK, "%s",
                 err.msg);
    eg_cl_device_counters(dev, built, loaded);
    float x[5000], y[5000];
    fill(x, EG_F32, 5000, 3, 1);
    fill(y, EG_F32, 5000, 4, 0);
    expect_host_words(dev, x, y, 5000, EG_F32, EG_G_ALL);
    /* prepare again: nothing new is built or loaded. */
    unsigned b2, l2;
    cr_assert_eq(dev->ops->prepare(dev, EG_F32, EG_G_ALL, &err), EG_OK);
    eg_cl_device_counters(dev, &b2, &l2);
    cr_assert_eq(b2 + l2, *built + *loaded);
    devlist_close(&l);
}

Test(opencl_cache, binary_is_stored_then_loaded)
{
    char root[64], path[600];
    temp_cache(root);
    unsigned built, loaded;
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1);
    cr_assert_eq(loaded, 0);
    only_cache_file(root, path, sizeof path);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 0, "a second device object must load from cache");
    cr_assert_eq(loaded, 1);
    remove_tree(root);
}

Test(opencl_cache, corrupt_file_is_ignored_and_rewritten)
{
    char root[64], path[600];
    temp_cache(root);
    unsigned built, loaded;
    prepare_fresh(&built, &loaded);
    only_cache_file(root, path, sizeof path);
    /* Flip bytes in the middle of the binary. */
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    cr_assert_gt(size, 64);
    fseek(f, size / 2, SEEK_SET);
    fwrite("garbage!", 1, 8, f);
    fclose(f);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1, "a corrupt entry must be rebuilt");
    cr_assert_eq(loaded, 0);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(loaded, 1, "the rebuilt entry must be stored again");
    /* A truncated file: also a rebuild, never a crash. */
    cr_assert_eq(truncate(path, 20), 0);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1);
    remove_tree(root);
}

/* FNV-1a, as the cache's payload check. */
static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

Test(opencl_cache, binary_rejected_by_the_driver_is_rebuilt)
{
    char root[64], path[600];
    temp_cache(root);
    unsigned built, loaded;
    prepare_fresh(&built, &loaded);
    only_cache_file(root, path, sizeof path);
    /* A well-formed entry (magic, key, size, hash all right) whose binary
     * is nonsense: only the driver can reject it. */
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    unsigned char head[32];
    cr_assert_eq(fread(head, 1, 32, f), 32);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 7 + 1);
    uint64_t size = sizeof junk, hash = fnv(junk, sizeof junk);
    memcpy(head + 16, &size, 8);
    memcpy(head + 24, &hash, 8);
    fclose(f);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(head, 1, 32, f);
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1);
    cr_assert_eq(loaded, 0);
    remove_tree(root);
}

Test(opencl_cache, unwritable_cache_is_not_an_error)
{
    /* A regular file where our directory should be: mkdir fails even for
     * root.  (The rest of XDG_CACHE_HOME stays usable: POCL keeps its own
     * cache there and drops its devices when it cannot.) */
    char root[64], file[128];
    temp_cache(root);
    snprintf(file, sizeof file, "%s/edgegrid", root);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    unsigned built, loaded;
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1);
    prepare_fresh(&built, &loaded);
    cr_assert_eq(built, 1, "nothing could have been cached");
    remove_tree(root);
}

Test(opencl_cache, key_covers_device_driver_source_and_options)
{
    eg_cl_target a = {NULL, NULL, "dev", "plat", "drv", "OpenCL 1.2"};
    const char *src = "kernel source";
    uint64_t k = eg_cl_cache_key(&a, src, strlen(src), "-DX=1");
    cr_assert_eq(k, eg_cl_cache_key(&a, src, strlen(src), "-DX=1"));
    eg_cl_target b = a;
    b.device_name = "dev2";
    cr_assert_neq(k, eg_cl_cache_key(&b, src, strlen(src), "-DX=1"));
    b = a;
    b.platform_name = "plat2";
    cr_assert_neq(k, eg_cl_cache_key(&b, src, strlen(src), "-DX=1"));
    b = a;
    b.driver = "drv2";
    cr_assert_neq(k, eg_cl_cache_key(&b, src, strlen(src), "-DX=1"));
    b = a;
    b.device_version = "OpenCL 3.0";
    cr_assert_neq(k, eg_cl_cache_key(&b, src, strlen(src), "-DX=1"));
    cr_assert_neq(k, eg_cl_cache_key(&a, src, strlen(src) - 1, "-DX=1"));
    cr_assert_neq(k, eg_cl_cache_key(&a, src, strlen(src), "-DX=2"));
    /* Field boundaries count: "dev"+"plat" is not "devp"+"lat". */
    b = a;
    b.device_name = "devp";
    b.platform_name = "lat";
    cr_assert_neq(k, eg_cl_cache_key(&b, src, strlen(src), "-DX=1"));
}

Test(opencl_cache, dir_follows_the_environment)
{
    char buf[256];
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    cr_assert(eg_cl_cache_dir(buf, sizeof buf));
    cr_assert_str_eq(buf, "/x/cache/edgegrid/kernels");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    cr_assert(eg_cl_cache_dir(buf, sizeof buf));
    cr_assert_str_eq(buf, "/home/u/.cache/edgegrid/kernels");
    setenv("XDG_CACHE_HOME", "relative", 1); /* invalid per the XDG spec */
    cr_assert(eg_cl_cache_dir(buf, sizeof buf));
    cr_assert_str_eq(buf, "/home/u/.cache/edgegrid/kernels");
}

Test(opencl_cache, options_never_relax_math)
{
    char opts[256];
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        eg_cl_build_options((eg_dtype)t, EG_G_ALL, opts, sizeof opts);
        cr_assert_null(strstr(opts, "fast-relaxed"), "%s", opts);
        cr_assert_null(strstr(opts, "mad-enable"), "%s", opts);
        cr_assert_null(strstr(opts, "unsafe"), "%s", opts);
        cr_assert(strstr(opts, "-DEG_LANE_ELEMS=4096"), "%s", opts);
    }
    eg_cl_build_options(EG_U16, 5, opts, sizeof opts);
    cr_assert(strstr(opts, "-DEG_T=ushort"), "%s", opts);
    cr_assert(strstr(opts, "-DEG_GROUPS=5"), "%s", opts);
}

/* ------------------------------------------------------------ resident */

/* The registry's index of OpenCL device (platform p, device d): OpenCL
 * devices in platform order, as eg_devices_list lists them. */
typedef struct cl_pick {
    cl_platform_id platform;
    cl_device_id device;
    unsigned index;
} cl_pick;

static size_t cl_picks(cl_pick *out, size_t cap)
{
    cl_platform_id ps[8];
    cl_uint np = 0;
    size_t n = 0;
    if (clGetPlatformIDs(8, ps, &np) != CL_SUCCESS)
        return 0;
    for (cl_uint p = 0; p < np && p < 8; p++) {
        cl_device_id ds[8];
        cl_uint nd = 0;
        if (clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, 8, ds, &nd) !=
            CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < 8 && n < cap; d++, n++)
            out[n] = (cl_pick){ps[p], ds[d], (unsigned)n};
    }
    return n;
}

/* eg_reduce_cl_buffer against eg_reduce of the same values: the same bits
 * for every op, fast and exact, several chunk sizes, on every OpenCL
 * device, with lanes that take the careful host path (nan, inf) among
 * them; and the device did it all without a note. */
static void resident_case(const cl_pick *pk, eg_dtype t, size_t n,
                          eg_mode mode, uint64_t chunk, int specials)
{
    size_t sz = eg_dtype_size(t);
    void *x = malloc(n * sz), *y = malloc(n * sz);
    cr_assert(x && y);
    fill(x, t, n, 300 + t, 0);
    fill(y, t, n, 400 + t, 0);
    if (specials && t == EG_F64) {
        ((double *)x)[n / 2] = INFINITY;
        ((double *)x)[n / 3] = NAN;
        ((double *)y)[7] = 1e300;
    } else if (specials && t == EG_F32) {
        ((float *)x)[n / 2] = -INFINITY;
        ((float *)y)[n - 1] = NAN;
    }
    cl_context_properties props[] = {
        CL_CONTEXT_PLATFORM, (cl_context_properties)pk->platform, 0};
    cl_int rc;
    cl_context ctx = clCreateContext(props, 1, &pk->device, NULL, NULL, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem xm = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                               n * sz, x, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem ym = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                               n * sz, y, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    char spec[16];
    snprintf(spec, sizeof spec, "%u", pk->index);
    eg_engine *e = NULL, *h = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, spec, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_engine_open(&h, "host", &err), EG_OK, "%s", err.msg);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = (1u << EG_OP_COUNT_ALL) - 1;
    o.mode = mode;
    o.chunk_elems = chunk;
    eg_result got, want;
    cr_assert_eq(eg_reduce_cl_buffer(e, xm, ym, n, t, &o, &got, &err), EG_OK,
                 "%s", err.msg);
    cr_assert_eq(eg_reduce(h, x, y, n, t, &o, &want, &err), EG_OK, "%s",
                 err.msg);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++)
        cr_assert(!memcmp(&got.value[op], &want.value[op],
                          sizeof got.value[op]),
                  "device %u %s %s chunk %llu: %s differs", pk->index,
                  eg_dtype_name(t), mode == EG_MODE_EXACT ? "exact" : "fast",
                  (unsigned long long)chunk, eg_op_name((eg_op)op));
    cr_assert_str_empty(got.notes, "%s", got.notes);
    /* Again on the same engine and context: its queue and kernels kept
     * from the first call, the same bits. */
    eg_result again;
    cr_assert_eq(eg_reduce_cl_buffer(e, xm, ym, n, t, &o, &again, &err),
                 EG_OK, "%s", err.msg);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++)
        cr_assert(!memcmp(&again.value[op], &want.value[op],
                          sizeof again.value[op]),
                  "second call: %s differs", eg_op_name((eg_op)op));
    cr_assert_eq(got.ndevices, 1);
    cr_assert_eq(got.devices[0].index, pk->index);
    cr_assert_eq(got.devices[0].elements, n);
    cr_assert_gt(got.devices[0].launch_local, 0);
    eg_engine_close(&e);
    eg_engine_close(&h);
    clReleaseMemObject(xm);
    clReleaseMemObject(ym);
    clReleaseContext(ctx);
    free(x);
    free(y);
}

Test(opencl_resident, same_bits_as_host_memory)
{
    cl_pick picks[8];
    size_t np = cl_picks(picks, 8);
    cr_assert_gt(np, 0, "no OpenCL device");
    /* A few lanes over the small-input threshold, a short last chunk. */
    size_t n = 70 * EG_LANE_ELEMS + 123;
    for (size_t i = 0; i < np; i++) {
        resident_case(&picks[i], EG_F64, n, EG_MODE_FAST, 16 * EG_LANE_ELEMS,
                      1);
        resident_case(&picks[i], EG_F32, n, EG_MODE_FAST, 0, 0);
        resident_case(&picks[i], EG_I32, n, EG_MODE_FAST, 32 * EG_LANE_ELEMS,
                      0);
        resident_case(&picks[i], EG_F64, n, EG_MODE_EXACT,
                      16 * EG_LANE_ELEMS, 1);
        resident_case(&picks[i], EG_F32, n, EG_MODE_EXACT, 0, 1);
    }
}

Test(opencl_resident, buffer_of_no_engine_device_or_too_small)
{
    cl_pick picks[8];
    size_t np = cl_picks(picks, 8);
    cr_assert_gt(np, 0, "no OpenCL device");
    cl_context_properties props[] = {
        CL_CONTEXT_PLATFORM, (cl_context_properties)picks[0].platform, 0};
    cl_int rc;
    cl_context ctx =
        clCreateContext(props, 1, &picks[0].device, NULL, NULL, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem xm = clCreateBuffer(ctx, CL_MEM_READ_ONLY, 4096 * 8, NULL, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    eg_engine *e = NULL;
    eg_error err;
    eg_result r;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_reduce_cl_buffer(e, xm, NULL, 4096, EG_F64, NULL, &r, &err),
                 EG_ENODEV);
    cr_assert(strstr(err.msg, "none of the engine's"), "%s", err.msg);
    eg_engine_close(&e);
    char spec[16];
    snprintf(spec, sizeof spec, "%u", picks[0].index);
    cr_assert_eq(eg_engine_open(&e, spec, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_reduce_cl_buffer(e, xm, NULL, 4097, EG_F64, NULL, &r, &err),
                 EG_EUSAGE);
    cr_assert(strstr(err.msg, "bytes"), "%s", err.msg);
    eg_engine_close(&e);
    clReleaseMemObject(xm);
    clReleaseContext(ctx);
}
