/* test_overlap.c - an engine opened with the spec "all" reduces on the
 * host while discovery runs on a thread of its own (engine/core/
 * discovery.c), and the devices "all" selects join the job when they are
 * ready.  The test hooks make discovery slow (EDGEGRID_TEST_DISCOVERY_
 * DELAY_MS), make it fail (EDGEGRID_TEST_DISCOVERY=fail) and let "all" keep
 * the OpenCL CPU devices it leaves out otherwise (EDGEGRID_TEST_ALL_KEEPS_
 * CPU=1), so that POCL stands for a GPU, and slow the host backend down
 * (EDGEGRID_TEST_HOST_DELAY_MS per call), so that a device that joins
 * surely finds chunks left.  Whatever joins when, the bits are
 * those of the host alone (the chunk size is fixed), every element is
 * counted once, and every reader of the device list sees the whole list.
 * A box without POCL skips the tests that need a device to join. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "testutil.h"

#define N (1u << 22)
#define CHUNK (16u * EG_LANE_ELEMS) /* 64 chunks */
#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)

static void hooks_clear(void)
{
    setenv("POCL_DEVICES", "pthread pthread", 1);
    unsetenv("EDGEGRID_DEVICES");
    unsetenv("EDGEGRID_TEST_DISCOVERY");
    unsetenv("EDGEGRID_TEST_DISCOVERY_DELAY_MS");
    unsetenv("EDGEGRID_TEST_HOST_DELAY_MS");
    setenv("EDGEGRID_TEST_ALL_KEEPS_CPU", "1", 1);
}

TestSuite(overlap, .init = hooks_clear);

/* The whole box as eg_devices_list sees it (POCL's devices and the host). */
static size_t box_devices(eg_device_info **infos)
{
    char notes[256];
    size_t n = 0;
    eg_error err;
    cr_assert_eq(eg_devices_list(infos, &n, notes, sizeof notes, &err), EG_OK,
                 "%s", err.msg);
    return n;
}

static eg_engine *open_spec(const char *spec)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, spec, &err), EG_OK, "%s", err.msg);
    return e;
}

static void reduce_ok(eg_engine *e, const double *x, eg_mode mode,
                      eg_result *r)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ALL_OPS;
    o.mode = mode;
    o.chunk_elems = CHUNK;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, x, N, EG_F64, &o, r, &err), EG_OK, "%s",
                 err.msg);
}

/* Every op of got and want equal bit for bit. */
static void same_values(const eg_result *got, const eg_result *want)
{
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        cr_assert_eq(got->value[op].kind, want->value[op].kind, "op %d", op);
        cr_assert_eq(got->value[op].v.u, want->value[op].v.u,
                     "op %d differs from the host's", op);
    }
}

static uint64_t elements(const eg_result *r)
{
    uint64_t n = 0;
    for (size_t d = 0; d < r->ndevices; d++)
        n += r->devices[d].elements;
    return n;
}

static double *data(void)
{
    double *x = malloc((size_t)N * sizeof *x);
    cr_assert_not_null(x);
    tu_fill(x, EG_F64, N, 7, 1e6 - 3.0, 1e6 + 5.0);
    return x;
}

static eg_result host_result(const double *x, eg_mode mode)
{
    eg_engine *h = open_spec("host");
    eg_result want;
    reduce_ok(h, x, mode, &want);
    eg_engine_close(&h);
    return want;
}

Test(overlap, the_device_list_after_open_is_the_whole_list)
{
    eg_device_info *box = NULL;
    size_t n = box_devices(&box);
    setenv("EDGEGRID_TEST_DISCOVERY_DELAY_MS", "200", 1);
    eg_engine *e = open_spec(NULL);
    /* It waits for discovery: the whole list, in the registry's order. */
    cr_assert_eq(eg_engine_device_count(e), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(eg_engine_device(e, i)->index, box[i].index);
        cr_assert_eq(eg_engine_device(e, i)->kind, box[i].kind);
        cr_assert_str_eq(eg_engine_device(e, i)->name, box[i].name);
    }
    cr_assert_eq(eg_engine_device(e, n - 1)->kind, EG_DEV_HOST);
    eg_engine_close(&e);
    free(box);
}

Test(overlap, a_job_done_before_discovery_ran_on_the_host_alone)
{
    eg_device_info *box = NULL;
    size_t n = box_devices(&box);
    if (n < 2)
        cr_skip_test("needs a POCL device, this box lists %zu devices", n);
    double *x = data();
    eg_result want = host_result(x, EG_MODE_FAST);
    setenv("EDGEGRID_TEST_DISCOVERY_DELAY_MS", "3000", 1);
    eg_engine *e = open_spec(NULL);
    eg_result got;
    reduce_ok(e, x, EG_MODE_FAST, &got);
    same_values(&got, &want);
    /* Every device of the list is reported; the host did every element. */
    cr_assert_eq(got.ndevices, n);
    for (size_t d = 0; d < n; d++) {
        cr_assert_eq(got.devices[d].index, box[d].index);
        uint64_t want_n = box[d].kind == EG_DEV_HOST ? N : 0;
        cr_assert_eq(got.devices[d].elements, want_n,
                     "device %u reduced %llu elements", box[d].index,
                     (unsigned long long)got.devices[d].elements);
    }
    cr_assert_str_empty(got.notes, "notes: %s", got.notes);
    /* The next job has every device from its start. */
    reduce_ok(e, x, EG_MODE_FAST, &got);
    same_values(&got, &want);
    cr_assert_eq(elements(&got), N);
    eg_engine_close(&e);
    free(box);
    free(x);
}

Test(overlap, devices_that_join_a_job_keep_its_bits)
{
    eg_device_info *box = NULL;
    size_t n = box_devices(&box);
    if (n < 2)
        cr_skip_test("needs a POCL device, this box lists %zu devices", n);
    double *x = data();
    for (int m = 0; m < 2; m++) {
        eg_mode mode = m ? EG_MODE_EXACT : EG_MODE_FAST;
        eg_result want = host_result(x, mode);
        /* Which device takes how many chunks depends on when discovery
         * ends; what holds is the list, the count and the bits. */
        eg_engine *e = open_spec("all");
        eg_result got;
        reduce_ok(e, x, mode, &got);
        same_values(&got, &want);
        cr_assert_eq(got.ndevices, n);
        cr_assert_eq(elements(&got), N);
        for (size_t d = 0; d < n; d++)
            cr_assert_eq(got.devices[d].index, box[d].index);
        cr_assert_str_empty(got.notes, "notes: %s", got.notes);
        eg_engine_close(&e);
    }
    free(box);
    free(x);
}

Test(overlap, a_device_that_joins_takes_what_is_left)
{
    eg_device_info *box = NULL;
    size_t n = box_devices(&box);
    if (n < 2)
        cr_skip_test("needs a POCL device, this box lists %zu devices", n);
    double *x = data();
    eg_result want = host_result(x, EG_MODE_FAST);
    /* 64 chunks at 100 ms a call: 3.2 s on two host threads, where POCL
     * is found and built in well under a second. */
    setenv("EDGEGRID_TEST_HOST_DELAY_MS", "100", 1);
    eg_engine *e = open_spec(NULL);
    eg_result got;
    reduce_ok(e, x, EG_MODE_FAST, &got);
    same_values(&got, &want);
    cr_assert_eq(got.ndevices, n);
    cr_assert_eq(elements(&got), N);
    uint64_t host = 0, others = 0;
    for (size_t d = 0; d < n; d++) {
        cr_assert_eq(got.devices[d].index, box[d].index);
        if (box[d].kind == EG_DEV_HOST)
            host = got.devices[d].elements;
        else
            others += got.devices[d].elements;
    }
    /* The host started at once; the others joined and took chunks. */
    cr_assert_gt(host, 0);
    cr_assert_gt(others, 0, "no device joined the job");
    cr_assert_str_empty(got.notes, "notes: %s", got.notes);
    eg_engine_close(&e);
    free(box);
    free(x);
}

Test(overlap, a_failed_discovery_is_a_note_and_the_host_does_the_job)
{
    double *x = data();
    eg_result want = host_result(x, EG_MODE_FAST);
    setenv("EDGEGRID_TEST_DISCOVERY", "fail", 1);
    eg_engine *e = open_spec(NULL);
    eg_result got;
    reduce_ok(e, x, EG_MODE_FAST, &got);
    same_values(&got, &want);
    cr_assert_eq(got.ndevices, 1);
    cr_assert_eq(got.devices[0].elements, N);
    cr_assert(strstr(got.notes, "device discovery failed"), "notes: %s",
              got.notes);
    cr_assert_eq(eg_engine_device_count(e), 1);
    cr_assert_eq(eg_engine_device(e, 0)->kind, EG_DEV_HOST);
    cr_assert(strstr(eg_engine_notes(e), "using the host backend"), "%s",
              eg_engine_notes(e));
    eg_engine_close(&e);
    free(x);
}

Test(overlap, closing_during_discovery_waits_for_it)
{
    setenv("EDGEGRID_TEST_DISCOVERY_DELAY_MS", "100", 1);
    eg_engine *e = open_spec(NULL);
    eg_engine_close(&e);
    cr_assert_null(e);
}

Test(overlap, other_specs_do_not_overlap)
{
    /* A spec other than "all" discovers before opening returns, as
     * always: the hooks of the discovery thread do not reach it. */
    eg_device_info *box = NULL;
    size_t n = box_devices(&box);
    free(box);
    if (n < 2)
        cr_skip_test("needs a POCL device, this box lists %zu devices", n);
    setenv("EDGEGRID_TEST_DISCOVERY", "fail", 1);
    eg_engine *e = open_spec("opencl");
    cr_assert_geq(eg_engine_device_count(e), 1);
    cr_assert_neq(eg_engine_device(e, 0)->kind, EG_DEV_HOST);
    cr_assert_null(strstr(eg_engine_notes(e), "discovery failed"));
    eg_engine_close(&e);
}
