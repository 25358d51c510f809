/* test_engine.c - the engine from the public API: every op x dtype against an
 * independent reference on the host and the OpenCL devices, multi-device
 * splitting on two POCL devices, and bitwise identity for a fixed chunk. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "engine_fixture.h"
#include "testutil.h"

__extension__ typedef __int128 i128;

#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)

/* Device indices as this box lists them (never POCL's layout assumed):
 * the POCL CPU devices in order, the host backend, every device. */
typedef struct box {
    unsigned pocl[EG_MAX_DEVICES];
    size_t npocl;
    unsigned host;
    eg_device_info *all;
    size_t count;
} box;

static box box_open(void)
{
    box b;
    memset(&b, 0, sizeof b);
    eg_error err;
    cr_assert_eq(eg_devices_list(&b.all, &b.count, NULL, 0, &err), EG_OK, "%s",
                 err.msg);
    for (size_t i = 0; i < b.count; i++) {
        if (b.all[i].kind == EG_DEV_HOST)
            b.host = b.all[i].index;
        else if (b.all[i].kind == EG_DEV_CPU &&
                 strstr(b.all[i].platform, "Portable Computing Language") &&
                 b.npocl < EG_MAX_DEVICES)
            b.pocl[b.npocl++] = b.all[i].index;
    }
    return b;
}

static void box_close(box *b)
{
    free(b->all);
    b->all = NULL;
}

/* Skips the test (a real skip, reported as such) without two POCL CPU
 * devices. */
static void need_pocl(const box *b, size_t n)
{
    if (b->npocl < n)
        cr_skip_test("needs %zu POCL CPU devices, this box lists %zu", n,
                     b->npocl);
}

static eg_result run(eg_engine *e, const void *x, const void *y, size_t n,
                     eg_dtype t, unsigned ops, uint64_t chunk)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ops;
    o.chunk_elems = chunk;
    eg_result r;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, y, n, t, &o, &r, &err), EG_OK, "%s", err.msg);
    tu_assert_devices_did_all(&r, n);
    return r;
}

/* Runs on one engine of exactly one device and asserts it did it all. */
static eg_result run_on(eg_engine *e, const void *x, const void *y, size_t n,
                        eg_dtype t, unsigned ops, uint64_t chunk)
{
    eg_result r = run(e, x, y, n, t, ops, chunk);
    cr_assert_eq(r.ndevices, 1);
    cr_assert_eq(r.devices[0].index, eg_engine_device(e, 0)->index);
    return r;
}

/* Data with small enough 64-bit values that their sum fits int64. */
static void *make(eg_dtype t, size_t n, uint64_t seed)
{
    void *x = malloc(n * eg_dtype_size(t) + 8);
    tu_fill(x, t, n, seed, -3.0, 5.0);
    if (t == EG_I64 || t == EG_U64)
        for (size_t i = 0; i < n; i++)
            ((uint64_t *)x)[i] >>= 24;
    return x;
}

static void check(const eg_result *r, const void *x, const void *y, size_t n,
                  eg_dtype t, const char *where)
{
    tu_ref ref;
    tu_reference(x, y, t, n, &ref);
    const eg_number *v = r->value;
    cr_assert_eq(v[EG_OP_COUNT].v.u, n, "%s", where);
    if (n == 0) {
        cr_assert(isnan(v[EG_OP_MEAN].v.f));
        cr_assert_eq(v[EG_OP_ARGMIN].kind, EG_NUM_NONE);
        return;
    }
    cr_assert_eq(v[EG_OP_ARGMIN].v.i, (int64_t)ref.argmin, "%s %s argmin",
                 where, eg_dtype_name(t));
    cr_assert_eq(v[EG_OP_ARGMAX].v.i, (int64_t)ref.argmax, "%s", where);
    if (eg_dtype_is_float(t)) {
        long double bound = ldexpl(ref.abs_sum, -50);
        cr_assert_leq(fabsl(v[EG_OP_SUM].v.f - ref.sum), bound,
                      "%s %s n=%zu: |sum - exact| > 2^-50 sum|x|", where,
                      eg_dtype_name(t), n);
        cr_assert_eq(v[EG_OP_MIN].v.f, (double)ref.min);
        cr_assert_eq(v[EG_OP_MAX].v.f, (double)ref.max);
    } else {
        i128 want = 0;
        for (size_t i = 0; i < n; i++)
            want += (i128)tu_get(x, t, i);
        i128 got = v[EG_OP_SUM].kind == EG_NUM_I64 ? (i128)v[EG_OP_SUM].v.i
                                                   : (i128)v[EG_OP_SUM].v.u;
        cr_assert(got == want, "%s %s n=%zu integer sum", where,
                  eg_dtype_name(t), n);
        cr_assert_eq((long double)(v[EG_OP_MIN].kind == EG_NUM_I64
                                       ? (long double)v[EG_OP_MIN].v.i
                                       : (long double)v[EG_OP_MIN].v.u),
                     ref.min);
    }
    long double var = ref.var_m2 / n;
    cr_assert_leq(fabsl(v[EG_OP_VAR].v.f - var), 1e-12L * var + 1e-300L,
                  "%s %s var", where, eg_dtype_name(t));
    cr_assert_leq(fabsl(v[EG_OP_STD].v.f - sqrtl(var)),
                  1e-12L * sqrtl(var) + 1e-300L);
    cr_assert_leq(fabsl(v[EG_OP_L1].v.f - ref.abs_sum),
                  ldexpl(ref.abs_sum, -50) + 1);
    cr_assert_leq(fabsl(v[EG_OP_L2].v.f - sqrtl(ref.l2sq)),
                  1e-13L * sqrtl(ref.l2sq));
    cr_assert_leq(fabsl(v[EG_OP_DOT].v.f - ref.dot),
                  1e-14L * sqrtl(ref.l2sq) * sqrtl(ref.l2sq) + 1e-300L,
                  "%s %s dot", where, eg_dtype_name(t));
}

static void every_op_and_dtype(const char *spec)
{
    eg_engine *e = tu_open_engine(spec);
    const size_t sizes[] = {0, 1, 7, 4097, 65537, 1000003};
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            void *x = make((eg_dtype)t, n, 100 + t),
                 *y = make((eg_dtype)t, n, 200 + t);
            eg_result r = run(e, x, y, n, (eg_dtype)t, ALL_OPS, 0);
            check(&r, x, y, n, (eg_dtype)t, spec);
            free(x);
            free(y);
        }
    }
    eg_engine_close(&e);
    cr_assert_null(e);
    eg_engine_close(&e); /* harmless twice */
}

Test(engine, host_every_op_and_dtype)
{
    every_op_and_dtype("host");
}

Test(engine, opencl_every_op_and_dtype)
{
    every_op_and_dtype("opencl");
}

/* "all" takes the CPU cores once: the host backend, not the OpenCL CPU
 * devices that would share them; "opencl" and index lists still run them. */
Test(engine, all_takes_the_cpu_cores_once, .init = tu_two_pocl_devices)
{
    box b = box_open();
    need_pocl(&b, 2);
    size_t accel = 0, opencl = 0;
    for (size_t i = 0; i < b.count; i++) {
        accel += b.all[i].kind == EG_DEV_GPU || b.all[i].kind == EG_DEV_ACCEL;
        opencl += b.all[i].kind != EG_DEV_HOST;
    }
    /* "all": every GPU and accelerator, then the host, no OpenCL CPU. */
    eg_engine *e = tu_open_engine("all");
    cr_assert_eq(eg_engine_device_count(e), accel + 1);
    for (size_t i = 0; i < eg_engine_device_count(e); i++)
        cr_assert_neq(eg_engine_device(e, i)->kind, EG_DEV_CPU);
    cr_assert_eq(eg_engine_device(e, accel)->kind, EG_DEV_HOST);
    eg_engine_close(&e);
    e = tu_open_engine("opencl");
    cr_assert_eq(eg_engine_device_count(e), opencl);
    size_t cpus = 0;
    for (size_t i = 0; i < opencl; i++)
        cpus += eg_engine_device(e, i)->kind == EG_DEV_CPU;
    cr_assert_geq(cpus, 2);
    eg_engine_close(&e);
    char spec[64];
    snprintf(spec, sizeof spec, "%u,%u", b.pocl[0], b.host);
    e = tu_open_engine(spec);
    cr_assert_eq(eg_engine_device_count(e), 2);
    cr_assert_eq(eg_engine_device(e, 0)->kind, EG_DEV_CPU);
    cr_assert_eq(eg_engine_device(e, 1)->kind, EG_DEV_HOST);
    eg_engine_close(&e);
    box_close(&b);
}

Test(engine, two_pocl_devices_split_the_work, .init = tu_two_pocl_devices)
{
    box b = box_open();
    need_pocl(&b, 2);
    char spec[64];
    snprintf(spec, sizeof spec, "%u,%u", b.pocl[0], b.pocl[1]);
    box_close(&b);
    eg_engine *e = tu_open_engine(spec);
    cr_assert_eq(eg_engine_device_count(e), 2);
    size_t n = 8 * 1024 * 1024 + 11;
    float *x = make(EG_F32, n, 9);
    eg_result r = run(e, x, NULL, n, EG_F32, ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT),
                      64 * EG_LANE_ELEMS);
    check(&r, x, NULL, n, EG_F32, "two devices");
    cr_assert_eq(r.ndevices, 2);
    cr_assert_eq(r.devices[0].elements + r.devices[1].elements, n);
    cr_assert_gt(r.devices[0].elements, 0, "device 0 took no chunk");
    cr_assert_gt(r.devices[1].elements, 0, "device 1 took no chunk");
    free(x);
    eg_engine_close(&e);
}

/* A fixed chunk size gives the same bits on any device set. */
Test(engine, fixed_chunk_is_bitwise_identical_across_devices,
     .init = tu_two_pocl_devices)
{
    size_t n = 3 * 1000 * 1000 + 7;
    double *x = make(EG_F64, n, 31);
    double *y = make(EG_F64, n, 32);
    for (size_t i = 0; i < n; i++)
        x[i] += 1e9;
    box b = box_open();
    need_pocl(&b, 2);
    char specs[5][64];
    snprintf(specs[0], 64, "%u", b.pocl[0]);
    snprintf(specs[1], 64, "%u", b.pocl[1]);
    snprintf(specs[2], 64, "%u,%u", b.pocl[0], b.pocl[1]);
    snprintf(specs[3], 64, "host");
    snprintf(specs[4], 64, "%u,%u,%u", b.pocl[0], b.pocl[1], b.host);
    box_close(&b);
    eg_result first = {0};
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        eg_engine *e = tu_open_engine(specs[s]);
        eg_result r = run(e, x, y, n, EG_F64, ALL_OPS, 16 * EG_LANE_ELEMS);
        if (s == 0)
            first = r;
        for (int op = 0; op < EG_OP_COUNT_ALL; op++)
            cr_assert(
                !memcmp(&r.value[op], &first.value[op], sizeof r.value[op]),
                "--devices %s: %s differs", specs[s], eg_op_name(op));
        eg_engine_close(&e);
    }
    free(x);
    free(y);
}

/* An OpenCL device takes several chunks per call, the last chunk short
 * among them; each chunk keeps its own state, so the bits are the host's
 * (which takes one chunk a call) for the same chunk size. */
Test(engine, opencl_calls_take_several_chunks)
{
    uint64_t chunk = 16 * EG_LANE_ELEMS;
    size_t n = 64 * chunk + 5;
    float *x = make(EG_F32, n, 41);
    unsigned ops = ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT);
    box b = box_open();
    cr_assert_gt(b.count, 1, "no OpenCL device on this box");
    char spec[16];
    snprintf(spec, sizeof spec, "%u", b.all[0].index); /* the first one */
    box_close(&b);
    eg_engine *host = tu_open_engine("host"), *cl = tu_open_engine(spec);
    eg_result want = run_on(host, x, NULL, n, EG_F32, ops, chunk);
    eg_result got = run_on(cl, x, NULL, n, EG_F32, ops, chunk);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++)
        cr_assert(
            !memcmp(&got.value[op], &want.value[op], sizeof got.value[op]),
            "%s differs", eg_op_name(op));
    cr_assert_eq(got.ndevices, 1);
    cr_assert_eq(got.devices[0].chunks, 65);
    cr_assert_lt(got.devices[0].calls, got.devices[0].chunks,
                 "one chunk a call: %llu calls",
                 (unsigned long long)got.devices[0].calls);
    cr_assert_eq(want.devices[0].calls, want.devices[0].chunks);
    eg_engine_close(&host);
    eg_engine_close(&cl);
    free(x);
}

Test(engine, device_selection_errors)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "99", &err), EG_ENODEV);
    cr_assert(strstr(err.msg, "no device 99"), "%s", err.msg);
    cr_assert_null(e);
    cr_assert_eq(eg_engine_open(&e, "", &err), EG_EUSAGE);
    cr_assert_eq(eg_engine_open(&e, "fast", &err), EG_EUSAGE);
    cr_assert_eq(eg_status_exit_code(EG_ENODEV), 2);
    setenv("EDGEGRID_DEVICES", "host", 1);
    e = tu_open_engine(NULL);
    cr_assert_eq(eg_engine_device_count(e), 1);
    cr_assert_eq(eg_engine_device(e, 0)->kind, EG_DEV_HOST);
    eg_engine_close(&e);
}

Test(engine, no_opencl_platform_falls_back_to_the_host)
{
    setenv("OCL_ICD_VENDORS", "/nonexistent", 1);
    setenv("OPENCL_VENDOR_PATH", "/nonexistent", 1);
    eg_engine *e = tu_open_engine("all");
    cr_assert_eq(eg_engine_device_count(e), 1);
    cr_assert_eq(eg_engine_device(e, 0)->kind, EG_DEV_HOST);
    cr_assert(strstr(eg_engine_notes(e), "host backend"), "%s",
              eg_engine_notes(e));
    double x[] = {1, 2, 3};
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    eg_result r;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, NULL, 3, EG_F64, &o, &r, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(r.value[EG_OP_SUM].v.f, 6.0);
    /* The fallback is named in the result too. */
    cr_assert(strstr(r.notes, "no OpenCL platform"), "notes: %s", r.notes);
    eg_engine_close(&e);
}

Test(engine, bad_calls_get_clear_errors)
{
    eg_engine *e = tu_open_engine("host");
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    eg_result r;
    eg_error err;
    double x[4] = {0};
    o.ops = EG_OPS_BIT(EG_OP_DOT);
    cr_assert_eq(eg_reduce(e, x, NULL, 4, EG_F64, &o, &r, &err), EG_EUSAGE);
    cr_assert(strstr(err.msg, "--with"), "%s", err.msg);
    o.ops = EG_OPS_DEFAULT;
    o.chunk_elems = 1000;
    cr_assert_eq(eg_reduce(e, x, NULL, 4, EG_F64, &o, &r, &err), EG_EUSAGE);
    o.chunk_elems = 0;
    cr_assert_eq(eg_reduce(e, x, NULL, 4, (eg_dtype)77, &o, &r, &err),
                 EG_EDTYPE);
    unsigned ops;
    cr_assert_eq(eg_ops_parse("sum,median", &ops, &err), EG_EUSAGE);
    cr_assert(strstr(err.msg, "median"), "%s", err.msg);
    cr_assert_eq(eg_ops_parse("sum,argmax", &ops, &err), EG_OK);
    cr_assert_eq(ops, EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_ARGMAX));
    eg_engine_close(&e);
}

/* Small inputs skip the devices and their kernel builds. */
Test(engine, small_inputs_take_the_host_path)
{
    size_t n = 64 * EG_LANE_ELEMS;
    double *x = make(EG_F64, n + 1, 41), *y = make(EG_F64, n + 1, 42);
    eg_engine *e = tu_open_engine("all");
    eg_result small = run(e, x, y, n, EG_F64, ALL_OPS, 0);
    cr_assert(strstr(small.devices[0].name, "small-input"), "%s",
              small.devices[0].name);
    cr_assert_eq(small.ndevices, 1);
    check(&small, x, y, n, EG_F64, "small input");
    eg_result big = run(e, x, y, n + 1, EG_F64, ALL_OPS, 0);
    cr_assert_null(strstr(big.devices[0].name, "small-input"));
    check(&big, x, y, n + 1, EG_F64, "one element over");
    eg_engine_close(&e);
    free(x);
    free(y);
}
