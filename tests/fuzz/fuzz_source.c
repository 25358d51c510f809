// fuzz-sources: engine/io/source.c engine/io/ingest_probe.c engine/io/npy.c engine/core/error.c engine/core/dtype.c
/* fuzz_source.c - libFuzzer harness for the input layer (engine/io/source.c):
 * .npy files and raw binary as the reducer opens them, through the same
 * path a user's file or pipe takes.
 *
 * Input layout: 1 control byte, then the file's bytes.  Bit 0 of the
 * control byte picks raw input (dtype: bits 4-7 modulo the dtype count) or
 * .npy; bit 1 feeds the bytes through a pipe (read into memory, as stdin
 * is) instead of a memfd (a regular file, mapped).  On success every
 * element is handed out in native order (checked against a byte-swapped
 * copy made here), every memory index maps to a C index inside the array,
 * and the C-order search for the first element finds an element that
 * exists.  On failure the message is one printable line naming the file.
 * Build and run: tests/fuzz/run.sh (README.md next to this file).
 */
#define _GNU_SOURCE 1 /* memfd_create */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "npy.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pipe holds at least this much without a reader (Linux: 64 KiB). */
#define PIPE_MAX 4096

static void check(int ok)
{
    if (!ok)
        abort();
}

/* An fd whose bytes are data[0..size): a memfd, or a pipe already written
 * and closed at its far end.  -1 when the system says no. */
static int make_fd(const uint8_t *data, size_t size, int use_pipe)
{
    if (use_pipe) {
        int p[2];
        if (size > PIPE_MAX || pipe(p) != 0)
            return -1;
        int ok = size == 0 || write(p[1], data, size) == (ssize_t)size;
        close(p[1]);
        if (!ok) {
            close(p[0]);
            return -1;
        }
        return p[0];
    }
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    return fd;
}

static void check_error(eg_status st, const eg_error *err, const char *name)
{
    check(st == EG_EINPUT || st == EG_EDTYPE);
    check(err->code == st);
    check(strncmp(err->msg, name, strlen(name)) == 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

/* Elements [start, +n) through eg_source_get, or NULL when it fails. */
static const unsigned char *native(const eg_source *src, uint64_t start,
                                   uint64_t n, void *buf)
{
    const void *p = NULL;
    eg_error err;
    return eg_source_get(src, start, n, buf, &p, &err) == EG_OK ? p : NULL;
}

/* Every element, in chunks, in native order; and the index mapping. */
static void check_elements(const eg_source *src)
{
    const eg_array_info *info = eg_source_info(src);
    size_t size = eg_dtype_size(info->dtype);
    check(size > 0);
    enum { CHUNK = 64 };
    unsigned char scratch[CHUNK * 8];
    for (uint64_t start = 0; start < info->count; start += CHUNK) {
        uint64_t n = info->count - start < CHUNK ? info->count - start : CHUNK;
        const unsigned char *p = native(src, start, n, scratch);
        check(p != NULL);
        /* every byte is readable (ASan checks the range) */
        volatile unsigned char sink = 0;
        for (uint64_t k = 0; k < n * size; k++)
            sink ^= p[k];
        (void)sink;
    }
    check(native(src, info->count, 1, scratch) == NULL);
    for (uint64_t i = 0; i < info->count && i < 4096; i++)
        check(eg_source_c_index(src, i) < info->count);
    if (info->count > 0) {
        /* element 0 in memory order exists, so a search for its value
         * (or NaN-ness) must find something */
        const unsigned char *p = native(src, 0, 1, scratch);
        double f = 0;
        int64_t i = 0;
        uint64_t u = 0;
        int is_nan = 0;
        switch (info->dtype) {
        case EG_F32: {
            float v;
            memcpy(&v, p, 4);
            f = v;
            is_nan = v != v;
            break;
        }
        case EG_F64:
            memcpy(&f, p, 8);
            is_nan = f != f;
            break;
        default: {
            uint64_t bits = 0;
            memcpy(&bits, p, size); /* little-endian host: low bytes */
            if (eg_dtype_is_signed(info->dtype) && size < 8 &&
                (bits >> (8 * size - 1)) & 1)
                bits |= ~(uint64_t)0 << (8 * size);
            u = bits;
            i = (int64_t)bits;
            break;
        }
        }
        uint64_t c = UINT64_MAX;
        eg_error err;
        check(eg_source_first_c_index_of(src, f, i, u, is_nan, &c, &err) ==
              EG_OK);
        check(c < info->count);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the probe below reads integers as little-endian bytes */
    if (size < 1 || !eg_npy_host_little())
        return 0;
    uint8_t control = data[0];
    int fd = make_fd(data + 1, size - 1, control & 2);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    eg_input_opts in = {0};
    in.raw = control & 1;
    in.raw_dtype = (eg_dtype)((control >> 4) % EG_DTYPE_COUNT);
    eg_source *src = NULL;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_source_open(&src, path, &in, &err);
    if (st == EG_OK) {
        check(src != NULL);
        check_elements(src);
        eg_source_close(&src);
        check(src == NULL);
    } else {
        check(src == NULL);
        check_error(st, &err, path);
    }
    close(fd);
    return 0;
}
