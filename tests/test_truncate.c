/* test_truncate.c - a file that changes after it was opened and before or
 * while it is read: truncated at several points, grown, or rewritten in
 * place.  Every case must end in EG_EIO naming the file and how far the
 * read got, on the host backend and on an OpenCL (POCL) device; a memory
 * map of the file would have ended these tests with SIGBUS instead.  The
 * bytes that are still there reduce as before once the file is whole
 * again, so the error is the only change. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgegrid.h"
#include "engine_grid.h"
#include "npy.h"
#include "source.h"
#include "tempdir_suite.h"
#include "testutil.h"

TU_TEMPDIR_SUITE(truncate, "truncate");

/* Elements in the test file: several default-size chunks and a tail, so
 * a truncation can land before, inside and after the first chunks. */
#define CHUNK ((uint64_t)64 * EG_LANE_ELEMS)
#define COUNT (5 * CHUNK + 1234)

/* Writes COUNT float32 as a .npy file at path; returns the header bytes. */
static size_t write_file(const char *path)
{
    char header[128];
    uint64_t shape[1] = {COUNT};
    size_t h = eg_npy_format_header(header, sizeof header, EG_F32, 1, shape,
                                    0);
    cr_assert_gt(h, 0);
    float *x = malloc(COUNT * sizeof *x);
    tu_fill(x, EG_F32, COUNT, 7, -2.0, 3.0);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(header, 1, h, f), h);
    cr_assert_eq(fwrite(x, sizeof *x, COUNT, f), COUNT);
    cr_assert_eq(fclose(f), 0);
    free(x);
    return h;
}

static eg_status reduce_open(eg_engine *e, const eg_source *src,
                             eg_error *err)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.chunk_elems = CHUNK;
    eg_state s;
    eg_result r;
    memset(&r, 0, sizeof r);
    return eg_engine_reduce_range(e, src, NULL, 0, eg_source_info(src)->count,
                                  &o, &s, &r, err);
}

/* Opens the file, changes it with `change` (bytes: the new size), reduces:
 * EG_EIO whose message names the file, what happened and the byte the
 * read reached. */
static void expect_changed(eg_engine *e, const char *path, off_t size,
                           const char *how)
{
    eg_source *src = NULL;
    eg_error err;
    eg_input_opts in = {0, EG_F32};
    cr_assert_eq(eg_source_open(&src, path, &in, &err), EG_OK, "%s",
                 err.msg);
    struct stat before;
    cr_assert_eq(stat(path, &before), 0);
    if (size >= 0) {
        cr_assert_eq(truncate(path, size), 0);
    } else {
        /* the same size and new bytes: a rewrite in place, whose times
         * move (set apart from the open's, whatever the clock's grain) */
        int fd = open(path, O_WRONLY);
        cr_assert_geq(fd, 0);
        float v = 1e30f;
        cr_assert_eq(pwrite(fd, &v, sizeof v, 4096), (ssize_t)sizeof v);
        struct timespec t[2] = {before.st_atim, before.st_mtim};
        t[1].tv_sec += 5;
        cr_assert_eq(futimens(fd, t), 0);
        close(fd);
    }
    eg_status st = reduce_open(e, src, &err);
    cr_assert_eq(st, EG_EIO, "%s, size %lld: status %s (%s)", how,
                 (long long)size, eg_strerror(st), err.msg);
    cr_assert_eq(eg_status_exit_code(st), 1);
    cr_assert_not_null(strstr(err.msg, path), "names the file: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "changed while it was read"), "%s",
                       err.msg);
    cr_assert_not_null(strstr(err.msg, how), "says how: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "read up to byte"), "%s", err.msg);
    eg_source_close(&src);
}

static void truncations(const char *spec)
{
    char path[128];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, spec, &err), EG_OK, "%s", err.msg);
    size_t h = write_file(path);
    uint64_t data = COUNT * 4;
    /* cut at the header's end, inside the first chunk, at a chunk's end,
     * in the middle, one byte short, to nothing */
    const off_t cuts[] = {(off_t)h,
                          (off_t)(h + 1000),
                          (off_t)(h + CHUNK * 4),
                          (off_t)(h + data / 2 + 3),
                          (off_t)(h + data - 1),
                          0};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_file(path);
        expect_changed(e, path, cuts[k], "truncated");
    }
    write_file(path);
    expect_changed(e, path, -1, "rewritten in place");
    /* grown after opening: also a change (appended data is not read, and
     * a producer that appends is rewriting what it hands over) */
    write_file(path);
    expect_changed(e, path, (off_t)(h + data + 4096), "grown");

    /* the whole file again: it reduces, every element counted */
    write_file(path);
    eg_source *src = NULL;
    eg_input_opts in = {0, EG_F32};
    cr_assert_eq(eg_source_open(&src, path, &in, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(reduce_open(e, src, &err), EG_OK, "%s", err.msg);
    eg_source_close(&src);
    eg_engine_close(&e);
}

Test(truncate, host_backend)
{
    truncations("host");
}

/* Device 0 is POCL's CPU device in CI: its threads read what the host
 * hands them, so they must never be handed a mapping that can vanish. */
Test(truncate, opencl_device)
{
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, "opencl", &err) != EG_OK)
        cr_skip_test("no OpenCL device: %s", err.msg);
    eg_engine_close(&e);
    truncations("opencl");
}

/* A range read after the file shrank, through the source alone: the error
 * names the file, and stdin still reads as before (it is read whole). */
Test(truncate, source_range_after_shrink)
{
    char path[128];
    snprintf(path, sizeof path, "%s/r.bin", dir);
    float x[4096];
    for (int k = 0; k < 4096; k++)
        x[k] = (float)k;
    FILE *f = fopen(path, "wb");
    cr_assert_eq(fwrite(x, sizeof x[0], 4096, f), 4096);
    cr_assert_eq(fclose(f), 0);
    eg_input_opts in = {1, EG_F32};
    eg_source *src = NULL;
    eg_error err;
    cr_assert_eq(eg_source_open(&src, path, &in, &err), EG_OK, "%s",
                 err.msg);
    float buf[4096];
    const void *p = NULL;
    cr_assert_eq(eg_source_get(src, 100, 10, buf, &p, &err), EG_OK);
    cr_assert_eq(((const float *)p)[0], 100.0f);
    cr_assert_eq(truncate(path, 2048 * 4), 0);
    cr_assert_eq(eg_source_get(src, 2000, 100, buf, &p, &err), EG_EIO);
    cr_assert_not_null(strstr(err.msg, "r.bin: the file changed while it "
                                       "was read: truncated to 8192 bytes "
                                       "(16384 when opened), read up to "
                                       "byte 8192"),
                       "%s", err.msg);
    eg_source_close(&src);
}
