/* test_faults.c - OpenCL faults by injection (EDGEGRID_CL_FAULT, see
 * engine/backend/opencl/cl_fault.c): a kernel that fails to build, a buffer that cannot be
 * allocated and a device lost in the middle of a job must move the work to
 * the other devices or the host path, name the device and the CL error in
 * the notes, and give the bits of a fault-free run (the chunk size is
 * fixed, so the bits do not depend on which device ran what).
 *
 * Two POCL devices (POCL_DEVICES="pthread pthread"), so a healthy OpenCL
 * device is there to take over; their indices are read from
 * eg_devices_list (A and B in the specs below), never assumed, and a box
 * without them skips these tests.  The input is past the small-input path,
 * cut into many chunks so both devices take several. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "testutil.h"

#define N (1u << 20)
#define CHUNK (16u * EG_LANE_ELEMS) /* 64 chunks */
#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)

static void two_pocl_devices(void)
{
    setenv("POCL_DEVICES", "pthread pthread", 1);
    unsetenv("EDGEGRID_CL_FAULT");
}

TestSuite(faults, .init = two_pocl_devices);

/* Data of dtype t (and a second operand for dot), values small enough that
 * integer sums fit, with a large offset for the floats. */
static void *make(eg_dtype t, uint64_t seed)
{
    void *x = malloc((size_t)N * eg_dtype_size(t));
    cr_assert_not_null(x);
    tu_fill(x, t, N, seed, 1e6 - 3.0, 1e6 + 5.0);
    if (t == EG_I64 || t == EG_U64)
        for (size_t i = 0; i < N; i++)
            ((uint64_t *)x)[i] >>= 24;
    return x;
}

typedef struct run_out {
    eg_result r;
    char names[2][EG_NAME_MAX]; /* the POCL devices A and B */
    unsigned idx[2];            /* their indices */
} run_out;

/* The indices of the two POCL devices; skips the test without them. */
static void pocl_pair(unsigned idx[2])
{
    eg_device_info *all = NULL;
    size_t count = 0, n = 0;
    eg_error err;
    cr_assert_eq(eg_devices_list(&all, &count, NULL, 0, &err), EG_OK, "%s",
                 err.msg);
    for (size_t i = 0; i < count && n < 2; i++)
        if (all[i].kind == EG_DEV_CPU &&
            strstr(all[i].platform, "Portable Computing Language"))
            idx[n++] = all[i].index;
    free(all);
    if (n < 2)
        cr_skip_test("needs two POCL CPU devices, this box lists %zu", n);
}

/* s with A and B replaced by the POCL devices' indices. */
static void with_indices(const char *s, const unsigned idx[2], char *out,
                         size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (; *s && used + 12 < cap; s++) {
        if (*s == 'A' || *s == 'B')
            used +=
                (size_t)snprintf(out + used, cap - used, "%u", idx[*s == 'B']);
        else
            out[used++] = *s;
        out[used] = '\0';
    }
}

/* Reduces x (and y) on `spec` with the fixed chunk and the given fault
 * (NULL: none). */
static void run(const char *spec, const char *fault, const void *x,
                const void *y, eg_dtype t, eg_mode mode, run_out *out)
{
    memset(out, 0, sizeof *out);
    char sp[64], fl[64];
    if (strcmp(spec, "host") != 0)
        pocl_pair(out->idx);
    with_indices(spec, out->idx, sp, sizeof sp);
    if (fault) {
        with_indices(fault, out->idx, fl, sizeof fl);
        setenv("EDGEGRID_CL_FAULT", fl, 1);
    } else {
        unsetenv("EDGEGRID_CL_FAULT");
    }
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, sp, &err), EG_OK, "%s", err.msg);
    for (size_t i = 0; i < eg_engine_device_count(e) && i < 2; i++)
        snprintf(out->names[i], EG_NAME_MAX, "%s",
                 eg_engine_device(e, i)->name);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = y ? ALL_OPS : ALL_OPS & ~EG_OPS_BIT(EG_OP_DOT);
    o.mode = mode;
    o.chunk_elems = CHUNK;
    cr_assert_eq(eg_reduce(e, x, y, N, t, &o, &out->r, &err), EG_OK,
                 "fault %s: %s", fault ? fault : "none", err.msg);
    eg_engine_close(&e);
    unsetenv("EDGEGRID_CL_FAULT");
}

/* Every value bit for bit, NaN payloads included. */
static void same_bits(const eg_result *got, const eg_result *want,
                      const char *fault)
{
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        cr_assert_eq(got->value[op].kind, want->value[op].kind, "%s: %s kind",
                     fault, eg_op_name((eg_op)op));
        cr_assert(!memcmp(&got->value[op].v, &want->value[op].v,
                          sizeof got->value[op].v),
                  "%s: %s differs: %.17g vs %.17g", fault,
                  eg_op_name((eg_op)op), got->value[op].v.f,
                  want->value[op].v.f);
    }
    cr_assert_eq(got->elements, want->elements);
}

static void notes_say(const eg_result *r, const char *what, const char *fault)
{
    cr_assert(strstr(r->notes, what) != NULL, "%s: notes lack \"%s\": %s",
              fault, what, r->notes);
}

static uint64_t elements_on(const eg_result *r, unsigned index)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->ndevices; i++)
        if (r->devices[i].index == index)
            n += r->devices[i].elements;
    return n;
}

static uint64_t calls_on(const eg_result *r, unsigned index)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->ndevices; i++)
        if (r->devices[i].index == index)
            n += r->devices[i].calls;
    return n;
}

/* A fault that fires on POCL device `d` (0: A, 1: B) at its k-th call: the
 * scheduler decides who takes what, so the device failed (and the notes name
 * it, its device name and the CL call and error) exactly when it made k calls
 * (each of one or several chunks).  Returns 1 when it did. */
static int check_device_fault(const run_out *o, unsigned d, uint64_t k,
                              const char *call, const char *code,
                              const char *what)
{
    unsigned index = o->idx[d];
    char head[64], detail[EG_NAME_MAX + 128];
    snprintf(head, sizeof head, "device %u failed (", index);
    snprintf(detail, sizeof detail, "%s on \"%s\": %s", call, o->names[d],
             code);
    if (calls_on(&o->r, index) < k) {
        cr_assert_null(strstr(o->r.notes, head), "%s: %s", what, o->r.notes);
        return 0;
    }
    notes_say(&o->r, head, what);
    notes_say(&o->r, detail, what);
    notes_say(&o->r, "its chunks moved to the host path", what);
    return 1;
}

/* The fault-free reference, on the host backend alone. */
static void reference(const void *x, const void *y, eg_dtype t, eg_mode mode,
                      run_out *out)
{
    run("host", NULL, x, y, t, mode, out);
    cr_assert_str_empty(out->r.notes, "%s", out->r.notes);
}

Test(faults, fault_free_runs_agree_across_device_sets)
{
    double *x = make(EG_F64, 1);
    run_out host, both;
    reference(x, NULL, EG_F64, EG_MODE_FAST, &host);
    run("A,B", NULL, x, NULL, EG_F64, EG_MODE_FAST, &both);
    same_bits(&both.r, &host.r, "none");
    cr_assert_str_empty(both.r.notes, "%s", both.r.notes);
    cr_assert_eq(elements_on(&both.r, both.idx[0]) +
                     elements_on(&both.r, both.idx[1]),
                 N);
    free(x);
}

/* Device A's compiler rejects the kernel: it is dropped before the job,
 * device B does everything. */
Test(faults, build_failure_drops_the_device)
{
    double *x = make(EG_F64, 2);
    run_out want, got;
    reference(x, NULL, EG_F64, EG_MODE_FAST, &want);
    run("A,B", "build@A", x, NULL, EG_F64, EG_MODE_FAST, &got);
    same_bits(&got.r, &want.r, "build@0");
    char dropped[32];
    snprintf(dropped, sizeof dropped, "device %u dropped", got.idx[0]);
    notes_say(&got.r, dropped, "build@0");
    notes_say(&got.r, "clBuildProgram", "build@0");
    notes_say(&got.r, got.names[0], "build@0");
    notes_say(&got.r, "CL_BUILD_PROGRAM_FAILURE", "build@0");
    cr_assert_eq(got.r.ndevices, 1);
    cr_assert_eq(elements_on(&got.r, got.idx[1]), N);
    free(x);
}

/* Every OpenCL device fails to build: the host backend takes over. */
Test(faults, build_failure_everywhere_falls_back_to_the_host)
{
    float *x = make(EG_F32, 3);
    run_out want, got;
    reference(x, NULL, EG_F32, EG_MODE_FAST, &want);
    run("A,B", "build", x, NULL, EG_F32, EG_MODE_FAST, &got);
    same_bits(&got.r, &want.r, "build");
    char dropped[32];
    snprintf(dropped, sizeof dropped, "device %u dropped", got.idx[0]);
    notes_say(&got.r, dropped, "build");
    notes_say(&got.r, "CL_BUILD_PROGRAM_FAILURE", "build");
    cr_assert_eq(got.r.ndevices, 1);
    cr_assert_eq(
        elements_on(&got.r, got.idx[0]) + elements_on(&got.r, got.idx[1]), 0);
    free(x);
}

/* No device can allocate its buffers: whichever takes a chunk fails on
 * it, and its chunks go to the host path. */
Test(faults, allocation_failure_moves_chunks_to_the_host_path)
{
    int32_t *x = make(EG_I32, 4);
    run_out want, got;
    reference(x, NULL, EG_I32, EG_MODE_FAST, &want);
    run("A,B", "alloc", x, NULL, EG_I32, EG_MODE_FAST, &got);
    same_bits(&got.r, &want.r, "alloc");
    int fired = 0;
    for (unsigned d = 0; d < 2; d++)
        fired +=
            check_device_fault(&got, d, 1, "clCreateBuffer",
                               "CL_MEM_OBJECT_ALLOCATION_FAILURE", "alloc");
    cr_assert_geq(fired, 1, "alloc: no device failed: %s", got.r.notes);
    cr_assert_eq(
        elements_on(&got.r, got.idx[0]) + elements_on(&got.r, got.idx[1]), N);

    /* only device A: device B is untouched */
    run("A,B", "alloc@A", x, NULL, EG_I32, EG_MODE_FAST, &got);
    same_bits(&got.r, &want.r, "alloc@0");
    check_device_fault(&got, 0, 1, "clCreateBuffer",
                       "CL_MEM_OBJECT_ALLOCATION_FAILURE", "alloc@0");
    char other[32];
    snprintf(other, sizeof other, "device %u failed", got.idx[1]);
    cr_assert_null(strstr(got.r.notes, other), "%s", got.r.notes);
    free(x);
}

/* Devices die at their second chunk after the kernel ran, with garbage in
 * half of the lane records they returned: that chunk and the rest of the
 * device's share are redone on the host path, and no garbage reaches the
 * result (fast and exact mode, floats and integers).  64 chunks between
 * two devices: at least one takes a second chunk. */
Test(faults, device_lost_mid_job_never_leaks_partial_records)
{
    const struct {
        eg_dtype t;
        eg_mode mode;
    } cases[] = {{EG_F64, EG_MODE_FAST},
                 {EG_F32, EG_MODE_FAST},
                 {EG_I64, EG_MODE_FAST},
                 {EG_F64, EG_MODE_EXACT}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        void *x = make(cases[k].t, 10 + k);
        void *y = make(cases[k].t, 20 + k);
        run_out want, got;
        reference(x, y, cases[k].t, cases[k].mode, &want);
        char what[64];
        snprintf(what, sizeof what, "run:2 %s %s", eg_dtype_name(cases[k].t),
                 cases[k].mode == EG_MODE_EXACT ? "exact" : "fast");
        run("A,B", "run:2", x, y, cases[k].t, cases[k].mode, &got);
        same_bits(&got.r, &want.r, what);
        int fired = 0;
        for (unsigned d = 0; d < 2; d++)
            fired += check_device_fault(&got, d, 2, "clEnqueueReadBuffer",
                                        "CL_OUT_OF_RESOURCES", what);
        cr_assert_geq(fired, 1, "%s: no device failed: %s", what, got.r.notes);

        /* one device only, the other carries on on OpenCL */
        run("A,B", "run:2@B", x, y, cases[k].t, cases[k].mode, &got);
        same_bits(&got.r, &want.r, what);
        check_device_fault(&got, 1, 2, "clEnqueueReadBuffer",
                           "CL_OUT_OF_RESOURCES", what);
        char other[32];
        snprintf(other, sizeof other, "device %u failed", got.idx[0]);
        cr_assert_null(strstr(got.r.notes, other), "%s", got.r.notes);
        free(x);
        free(y);
    }
}

/* Both devices die on their first chunk: everything runs on the host
 * path, the same bits. */
Test(faults, every_device_lost)
{
    double *x = make(EG_F64, 5);
    run_out want, got;
    reference(x, NULL, EG_F64, EG_MODE_FAST, &want);
    run("A,B", "run", x, NULL, EG_F64, EG_MODE_FAST, &got);
    same_bits(&got.r, &want.r, "run");
    int fired = 0;
    for (unsigned d = 0; d < 2; d++)
        fired += check_device_fault(&got, d, 1, "clEnqueueReadBuffer",
                                    "CL_OUT_OF_RESOURCES", "run");
    cr_assert_geq(fired, 1);
    free(x);
}

/* A malformed setting is a testing mistake: the device is dropped and the
 * note says why, the result stays right. */
Test(faults, malformed_setting_is_named)
{
    const char *bad[] = {"crash",  "run:0",      "run:x",
                         "build@", "alloc:2@1x", "run:9999999999"};
    double *x = make(EG_F64, 6);
    run_out want, got;
    reference(x, NULL, EG_F64, EG_MODE_FAST, &want);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        run("A", bad[k], x, NULL, EG_F64, EG_MODE_FAST, &got);
        same_bits(&got.r, &want.r, bad[k]);
        notes_say(&got.r, "EDGEGRID_CL_FAULT", bad[k]);
    }
    free(x);
}
