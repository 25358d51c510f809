/* test_sketch_devices.c - approx_quantile's sketch counted by OpenCL
 * devices (kernels/sketch.cl through cl_count.c's count_sketch) gives the
 * host's sketch bit for bit: the wire bytes of a sketch the devices and
 * the host filled chunk by chunk, in turns, equal those of the host's
 * eg_sketch_add over the whole array, for every dtype, several k and
 * chunk sizes (1 element, odd sizes, a whole launch), with NaN, +-0.0,
 * +-inf, subnormals and negatives.  A chunk whose buckets outgrow a
 * launch's table fails and leaves the sketch as it was (its unit is then
 * the host's).  Without an OpenCL device the cases are skipped. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "engine_devs.h"
#include "engine_fixture.h"
#include "sketch.h"
#include "testutil.h"

typedef struct cl_devs {
    eg_engine *e;
    eg_device *dev[EG_MAX_DEVICES];
    size_t n;
} cl_devs;

/* The engine's OpenCL devices that count sketches, prepared for t. */
static void open_devs(cl_devs *d, eg_dtype t)
{
    eg_engine_devs ed;
    eg_error err;
    memset(d, 0, sizeof *d);
    if (eg_engine_open(&d->e, "opencl", &err) != EG_OK)
        cr_skip_test("no OpenCL device: %s", err.msg);
    cr_assert_eq(eg_engine_devices(d->e, t, 0, &ed, &err), EG_OK, "%s",
                 err.msg);
    for (size_t i = 0; i < ed.ndev; i++)
        if (ed.devs[i]->info.kind != EG_DEV_HOST &&
            ed.devs[i]->ops->count_sketch)
            d->dev[d->n++] = ed.devs[i];
    if (d->n == 0) {
        eg_engine_close(&d->e);
        cr_skip_test("no OpenCL device counts sketches");
    }
}

/* Magnitudes over many octaves (2^-40 .. 2^40), both signs, and the
 * values the sketch counts apart. */
static void fill(void *x, eg_dtype t, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double u = tu_unit(&s),
               v = ldexp(1.0 + u, (int)(tu_next(&s) % 81) - 40);
        if (tu_next(&s) % 3 == 0)
            v = -v;
        switch (t) {
        case EG_F64:
            ((double *)x)[i] = v;
            break;
        case EG_F32:
            ((float *)x)[i] = (float)v;
            break;
        case EG_I64:
            ((int64_t *)x)[i] = (int64_t)(v * 1e6);
            break;
        case EG_U64:
            ((uint64_t *)x)[i] = (uint64_t)fabs(v * 1e6);
            break;
        case EG_I16:
            ((int16_t *)x)[i] = (int16_t)(tu_next(&s) & 0xffff);
            break;
        default:
            ((uint8_t *)x)[i] = (uint8_t)tu_next(&s);
            break;
        }
    }
    if (t == EG_F64) {
        double sp[] = {0.0,    -0.0,    INFINITY, -INFINITY, NAN,
                       5e-324, -4e-310, 1e300,    -1e-300};
        for (size_t j = 0; j < sizeof sp / sizeof *sp; j++)
            ((double *)x)[j * 997] = sp[j];
    } else if (t == EG_F32) {
        float sp[] = {0.0f, -0.0f,  INFINITY, -INFINITY,
                      NAN,  1e-45f, -3e-39f,  3e38f};
        for (size_t j = 0; j < sizeof sp / sizeof *sp; j++)
            ((float *)x)[j * 997] = sp[j];
    } else if (t == EG_I64) {
        ((int64_t *)x)[5] = INT64_MIN;
        ((int64_t *)x)[6] = INT64_MAX;
        ((int64_t *)x)[7] = 0;
    } else if (t == EG_U64) {
        ((uint64_t *)x)[5] = UINT64_MAX;
        ((uint64_t *)x)[6] = 0;
    }
}

static void assert_same_bytes(const eg_sketch *a, const eg_sketch *b,
                              const char *what)
{
    size_t na = eg_sketch_encoded_size(a), nb = eg_sketch_encoded_size(b);
    cr_assert_eq(na, nb, "%s: %zu bytes, host %zu", what, na, nb);
    uint8_t *pa = malloc(na), *pb = malloc(nb);
    eg_sketch_encode(a, pa);
    eg_sketch_encode(b, pb);
    cr_assert(memcmp(pa, pb, na) == 0, "%s: bytes differ from the host's",
              what);
    free(pa);
    free(pb);
}

TestSuite(sketch_devices, .init = tu_two_pocl_devices);

Test(sketch_devices, devices_and_host_in_turns_give_the_host_bytes)
{
    const eg_dtype types[] = {EG_F64, EG_F32, EG_I64, EG_U64, EG_I16, EG_U8};
    const unsigned ks[] = {6, 0, 11};
    /* 1: a launch of one element; odd sizes; a whole unit */
    const uint64_t sizes[] = {1, 4097, 65539, 1u << 20, 300001};
    const size_t n = 1500007;
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        eg_dtype t = types[ti];
        cl_devs d;
        open_devs(&d, t);
        size_t sz = eg_dtype_size(t);
        uint8_t *x = malloc(n * sz);
        fill(x, t, n, 31 + ti);
        for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
            eg_sketch host, mixed;
            eg_error err;
            eg_sketch_init(&host, ks[ki]);
            eg_sketch_init(&mixed, ks[ki]);
            cr_assert_eq(eg_sketch_add(&host, x, n, t, &err), EG_OK);
            uint64_t on_dev = 0;
            size_t turn = 0;
            for (uint64_t at = 0; at < n; turn++) {
                uint64_t m = sizes[turn % 5];
                if (m > n - at)
                    m = n - at;
                /* every third chunk the host's, the others each device's
                 * in turn */
                if (turn % 3 == 2) {
                    cr_assert_eq(eg_sketch_add(&mixed, x + at * sz, m, t, &err),
                                 EG_OK);
                } else {
                    eg_device *dev = d.dev[turn % d.n];
                    eg_status st = dev->ops->count_sketch(dev, &mixed, t,
                                                          x + at * sz, m, &err);
                    cr_assert_eq(st, EG_OK, "dtype %s k %u: %s",
                                 eg_dtype_name(t), ks[ki], err.msg);
                    on_dev += m;
                }
                at += m;
            }
            cr_assert_gt(on_dev, n / 2);
            cr_assert_eq(eg_sketch_count(&mixed) + mixed.nan, n);
            char what[64];
            snprintf(what, sizeof what, "%s k=%u on %zu device(s)",
                     eg_dtype_name(t), ks[ki], d.n);
            assert_same_bytes(&mixed, &host, what);
            eg_sketch_free(&host);
            eg_sketch_free(&mixed);
        }
        free(x);
        eg_engine_close(&d.e);
    }
}

Test(sketch_devices, a_table_too_wide_for_a_launch_leaves_the_sketch_alone)
{
    /* k = 20 over 2^-1000 .. 2^1000: 2001 octaves of 2^20 buckets */
    cl_devs d;
    open_devs(&d, EG_F64);
    double x[3] = {ldexp(1, -1000), 3.0, ldexp(1, 1000)};
    eg_sketch s, before;
    eg_error err;
    eg_sketch_init(&s, 20);
    eg_sketch_init(&before, 20);
    cr_assert_eq(eg_sketch_add(&s, x + 1, 1, EG_F64, &err), EG_OK);
    cr_assert_eq(eg_sketch_add(&before, x + 1, 1, EG_F64, &err), EG_OK);
    eg_status st =
        d.dev[0]->ops->count_sketch(d.dev[0], &s, EG_F64, x, 3, &err);
    cr_assert_eq(st, EG_EOPENCL, "status %d", (int)st);
    cr_assert(strstr(err.msg, "buckets"), "%s", err.msg);
    assert_same_bytes(&s, &before, "after the failed call");
    eg_sketch_free(&s);
    eg_sketch_free(&before);
    eg_engine_close(&d.e);
}
