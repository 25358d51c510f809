/* test_source.c - opening .npy and raw files, stdin and memory, checked
 * against numpy.
 *
 * Fixtures are written at test time by /usr/bin/python3 with numpy (Debian's
 * python3-numpy) into a mkdtemp directory.  For every array numpy also writes
 * the reference: its C-order flattening as 64-bit values (NAME.expect), the
 * C-order index of every memory position computed with numpy's own
 * unravel/ravel (NAME.cidx), and its dtype, layout and shape (NAME.meta).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "tempdir_suite.h"
#include "testutil.h"
#include "source.h"
#include "state.h"

/* Elements [start, +n) through eg_source_get, or NULL when it fails. */
static const void *native(const eg_source *src, uint64_t start, uint64_t n,
                          void *buf)
{
    const void *p = NULL;
    eg_error err;
    return eg_source_get(src, start, n, buf, &p, &err) == EG_OK ? p : NULL;
}

/* eg_source_first_c_index_of's index; a failure fails the test. */
static uint64_t first_c(const eg_source *src, double f, int64_t i,
                        uint64_t u, int want_nan)
{
    uint64_t idx = 0;
    eg_error err;
    cr_assert_eq(eg_source_first_c_index_of(src, f, i, u, want_nan, &idx,
                                            &err),
                 EG_OK, "%s", err.msg);
    return idx;
}

TU_TEMPDIR_SUITE(source, "test_source");

/* ------------------------------------------------------------ python */

static const char py_prelude[] =
    "import numpy as np, sys, os\n"
    "D = sys.argv[1]\n"
    "rng = np.random.default_rng(7)\n"
    "def put(name, a, version=None):\n"
    "    with open(os.path.join(D, name + '.npy'), 'wb') as f:\n"
    "        np.lib.format.write_array(f, a, version=version)\n"
    "    k = a.dtype.kind\n"
    "    ref = '<f8' if k == 'f' else '<i8' if k == 'i' else '<u8'\n"
    "    a.ravel(order='C').astype(ref).tofile(os.path.join(D, name + "
    "'.expect'))\n"
    "    fortran = a.flags.f_contiguous and not a.flags.c_contiguous\n"
    "    order = 'F' if fortran else 'C'\n"
    "    mem = np.arange(a.size)\n"
    "    cidx = mem if a.ndim == 0 else np.ravel_multi_index(\n"
    "        np.unravel_index(mem, a.shape, order=order), a.shape, "
    "order='C')\n"
    "    np.asarray(cidx, dtype='<u8').tofile(os.path.join(D, name + "
    "'.cidx'))\n"
    "    matters = fortran and sum(s > 1 for s in a.shape) >= 2\n"
    "    with open(os.path.join(D, name + '.meta'), 'w') as f:\n"
    "        f.write('%s %d %d %s\\n' % (a.dtype.name, a.ndim, int(matters),\n"
    "                ' '.join(str(s) for s in a.shape)))\n"
    "def sample(dt, n):\n"
    "    dt = np.dtype(dt)\n"
    "    if dt.kind == 'f':\n"
    "        a = (rng.standard_normal(n) * 1e3).astype(dt)\n"
    "        sp = [0.0, -0.0, np.inf, -np.inf, np.nan, np.finfo(dt).max,\n"
    "              np.finfo(dt).tiny, -np.finfo(dt).max]\n"
    "        a[:len(sp)] = sp\n"
    "        return a\n"
    "    info = np.iinfo(dt)\n"
    "    a = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder('='),"
    " endpoint=True).astype(dt)\n"
    "    a[:2] = [info.min, info.max]\n"
    "    return a\n";

/* Runs the prelude plus `code` with /usr/bin/python3 (which has numpy). */
static void python(const char *code)
{
    char script[TU_PATH_CAP], cmd[2 * TU_PATH_CAP];
    path_of(script, "fixture.py");
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs(py_prelude, f);
    fputs(code, f);
    cr_assert_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", script, dir);
    int rc = system(cmd);
    cr_assert_eq(rc, 0,
                 "python fixture failed (%d): needs /usr/bin/python3 "
                 "with numpy (Debian python3-numpy)",
                 rc);
}

static void *read_whole(const char *name, size_t *len)
{
    char path[TU_PATH_CAP];
    path_of(path, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    void *p = malloc((size_t)n + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_whole(const char *name, const void *p, size_t len)
{
    char path[TU_PATH_CAP];
    path_of(path, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static eg_source *open_ok(const char *name, const eg_input_opts *in)
{
    char path[TU_PATH_CAP];
    path_of(path, name);
    eg_source *src = NULL;
    eg_error err = {0};
    eg_status st = eg_source_open(&src, path, in, &err);
    cr_assert_eq(st, EG_OK, "%s: %s", name, err.msg);
    cr_assert_not_null(src);
    return src;
}

/* --------------------------------------------------- value comparison */

/* An element as a 64-bit value of its kind. */
typedef union wide {
    double f;
    int64_t i;
    uint64_t u;
} wide;

static wide element(const void *base, eg_dtype t, uint64_t k)
{
    const unsigned char *p = (const unsigned char *)base + k * eg_dtype_size(t);
    wide w;
    switch (t) {
    case EG_F32: {
        float v;
        memcpy(&v, p, 4);
        w.f = v;
        break;
    }
    case EG_F64:
        memcpy(&w.f, p, 8);
        break;
    case EG_I8: {
        int8_t v;
        memcpy(&v, p, 1);
        w.i = v;
        break;
    }
    case EG_U8: {
        uint8_t v;
        memcpy(&v, p, 1);
        w.u = v;
        break;
    }
    case EG_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        w.i = v;
        break;
    }
    case EG_U16: {
        uint16_t v;
        memcpy(&v, p, 2);
        w.u = v;
        break;
    }
    case EG_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        w.i = v;
        break;
    }
    case EG_U32: {
        uint32_t v;
        memcpy(&v, p, 4);
        w.u = v;
        break;
    }
    case EG_I64:
        memcpy(&w.i, p, 8);
        break;
    default:
        memcpy(&w.u, p, 8);
        break;
    }
    return w;
}

static void assert_same(eg_dtype t, wide got, wide want, uint64_t c)
{
    if (eg_dtype_is_float(t)) {
        int same = (isnan(got.f) && isnan(want.f)) ||
                   (got.f == want.f && !signbit(got.f) == !signbit(want.f));
        cr_assert(same, "C index %llu: got %.17g, numpy has %.17g",
                  (unsigned long long)c, got.f, want.f);
    } else if (eg_dtype_is_signed(t)) {
        cr_assert_eq(got.i, want.i, "C index %llu: got %lld, numpy has %lld",
                     (unsigned long long)c, (long long)got.i,
                     (long long)want.i);
    } else {
        cr_assert_eq(got.u, want.u, "C index %llu", (unsigned long long)c);
    }
}

/* Opens NAME.npy and checks dtype, shape, layout, every value and every
 * C-order index against numpy's reference files. */
static void check_fixture(const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "%s.npy", name);
    eg_source *src = open_ok(file, NULL);
    const eg_array_info *info = eg_source_info(src);

    size_t len;
    snprintf(file, sizeof file, "%s.meta", name);
    char *meta = read_whole(file, &len);
    meta[len] = '\0';
    char dtname[32];
    unsigned ndim;
    int fortran, used;
    cr_assert_eq(sscanf(meta, "%31s %u %d%n", dtname, &ndim, &fortran, &used),
                 3);
    cr_assert_str_eq(eg_dtype_numpy_name(info->dtype), dtname, "%s", name);
    cr_assert_eq(info->ndim, ndim, "%s", name);
    cr_assert_eq(info->fortran_order, fortran, "%s", name);
    uint64_t count = 1;
    const char *p = meta + used;
    for (unsigned k = 0; k < ndim; k++) {
        char *end;
        unsigned long long s = strtoull(p, &end, 10);
        cr_assert_eq(info->shape[k], s, "%s: axis %u", name, k);
        count *= s;
        p = end;
    }
    free(meta);
    cr_assert_eq(info->count, count, "%s", name);

    snprintf(file, sizeof file, "%s.expect", name);
    wide *expect = read_whole(file, &len);
    cr_assert_eq(len, count * 8);
    snprintf(file, sizeof file, "%s.cidx", name);
    uint64_t *cidx = read_whole(file, &len);
    cr_assert_eq(len, count * 8);

    size_t size = eg_dtype_size(info->dtype);
    unsigned char *scratch = malloc(count * size + 8);
    const void *all = native(src, 0, count, scratch);
    cr_assert_not_null(all);
    cr_assert_eq((uintptr_t)all % size, 0, "%s: misaligned elements", name);
    cr_assert(count == 0 ||
                  (all == scratch) == (eg_source_needs_buffer(src) != 0),
              "%s: data read from the file or swapped comes in the buffer",
              name);
    for (uint64_t m = 0; m < count; m++) {
        uint64_t c = eg_source_c_index(src, m);
        cr_assert_eq(c, cidx[m], "%s: memory index %llu", name,
                     (unsigned long long)m);
        assert_same(info->dtype, element(all, info->dtype, m), expect[c], c);
    }
    /* the same elements through small ranges */
    for (uint64_t start = 0; start < count; start += 7) {
        uint64_t n = count - start < 7 ? count - start : 7;
        const void *part = native(src, start, n, scratch);
        cr_assert_not_null(part);
        for (uint64_t k = 0; k < n; k++) {
            uint64_t c = cidx[start + k];
            assert_same(info->dtype, element(part, info->dtype, k), expect[c],
                        c);
        }
    }
    cr_assert_null(native(src, count, 1, scratch), "past the end");
    free(scratch);
    free(expect);
    free(cidx);
    eg_source_close(&src);
    cr_assert_null(src, "close nulls the pointer");
    eg_source_close(&src);
}

/* --------------------------------------------------------- valid files */

static const char *const numpy_types[] = {
    "float32", "float64", "int8",   "uint8", "int16",
    "uint16",  "int32",   "uint32", "int64", "uint64",
};

Test(source, every_dtype_little_endian)
{
    python("for t in ['f4','f8','i1','u1','i2','u2','i4','u4','i8','u8']:\n"
           "    put('le_' + t, sample('<' + t, 1000))\n");
    const char *codes[] = {"f4", "f8", "i1", "u1", "i2",
                           "u2", "i4", "u4", "i8", "u8"};
    for (int k = 0; k < 10; k++) {
        char name[32];
        snprintf(name, sizeof name, "le_%s", codes[k]);
        check_fixture(name);
        eg_dtype t;
        cr_assert_eq(eg_dtype_parse(numpy_types[k], &t, NULL), EG_OK);
    }
}

Test(source, big_endian)
{
    python("for t in ['>f8', '>i4', '>u2', '>f4', '>i8', '>u8', '>i2']:\n"
           "    put('be_' + t[1:], sample(t, 777))\n");
    const char *names[] = {"be_f8", "be_i4", "be_u2", "be_f4",
                           "be_i8", "be_u8", "be_i2"};
    for (int k = 0; k < 7; k++) {
        check_fixture(names[k]);
        eg_source *src = NULL;
        char file[64];
        snprintf(file, sizeof file, "%s.npy", names[k]);
        src = open_ok(file, NULL);
        cr_assert_eq(eg_source_info(src)->swap, eg_npy_host_little());
        eg_source_close(&src);
    }
}

Test(source, header_versions)
{
    python("put('v1', sample('<f8', 50), (1, 0))\n"
           "put('v2', sample('>i4', 50).reshape(5, 10), (2, 0))\n"
           "put('v3', np.asfortranarray(sample('<u2', 60).reshape(3, 4, 5)),"
           " (3, 0))\n");
    check_fixture("v1");
    check_fixture("v2");
    check_fixture("v3");
}

/* C and Fortran order in 3-D: eg_source_c_index must agree with numpy's
 * ravel order for every memory position. */
Test(source, fortran_order_3d)
{
    python("a = sample('<f8', 60).reshape(3, 4, 5)\n"
           "put('c3', a)\n"
           "put('f3', np.asfortranarray(a))\n"
           "put('f3be', np.asfortranarray(sample('>i4', 210).reshape(5, 6,"
           " 7)))\n"
           "put('f4d', np.asfortranarray(sample('<u1', 120).reshape(2, 3, 4,"
           " 5)))\n"
           "put('f1', np.asfortranarray(sample('<f4', 10).reshape(1, 10, 1))"
           ")\n");
    check_fixture("c3");
    check_fixture("f3");
    check_fixture("f3be");
    check_fixture("f4d");
    check_fixture("f1");
    eg_source *src = open_ok("f3.npy", NULL);
    cr_assert_eq(eg_source_info(src)->fortran_order, 1);
    eg_source_close(&src);
}

Test(source, zero_dim_and_empty)
{
    python("put('scalar', np.array(3.5))\n"
           "put('scalar_be', np.array(-7, dtype='>i8'))\n"
           "put('empty', np.zeros(0, dtype='<f4'))\n"
           "put('empty3', np.zeros((2, 0, 3), dtype='>u2', order='F'))\n");
    check_fixture("scalar");
    check_fixture("scalar_be");
    check_fixture("empty");
    check_fixture("empty3");
    eg_source *src = open_ok("empty3.npy", NULL);
    cr_assert_eq(eg_source_info(src)->count, 0);
    cr_assert_not_null(native(src, 0, 0, NULL),
                       "an empty range is still a valid pointer");
    cr_assert_eq(first_c(src, 0, 0, 0, 0), EG_NONE_INDEX);
    eg_source_close(&src);
    src = open_ok("scalar.npy", NULL);
    cr_assert_eq(first_c(src, 3.5, 0, 0, 0), 0);
    eg_source_close(&src);
}

/* ----------------------------------------------- first C-order index */

/* NAME.args holds numpy's argmin, argmax, min and max of the array. */
static void check_args(const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "%s.npy", name);
    eg_source *src = open_ok(file, NULL);
    eg_dtype t = eg_source_info(src)->dtype;
    size_t len;
    snprintf(file, sizeof file, "%s.args", name);
    char *text = read_whole(file, &len);
    text[len] = '\0';
    char *p = text;
    uint64_t argmin = strtoull(p, &p, 10), argmax = strtoull(p, &p, 10);
    uint64_t got[2];
    for (int k = 0; k < 2; k++) {
        if (eg_dtype_is_float(t)) {
            double v = strtod(p, &p);
            got[k] = first_c(src, v, 0, 0, 0);
        } else if (eg_dtype_is_signed(t)) {
            long long v = strtoll(p, &p, 10);
            got[k] = first_c(src, 0, v, 0, 0);
        } else {
            unsigned long long v = strtoull(p, &p, 10);
            got[k] = first_c(src, 0, 0, v, 0);
        }
    }
    free(text);
    cr_assert_eq(got[0], argmin, "%s: min found at %llu, numpy argmin %llu",
                 name, (unsigned long long)got[0], (unsigned long long)argmin);
    cr_assert_eq(got[1], argmax, "%s: max found at %llu, numpy argmax %llu",
                 name, (unsigned long long)got[1], (unsigned long long)argmax);
    eg_source_close(&src);
}

static const char py_args[] =
    "def put_args(name, a):\n"
    "    put(name, a)\n"
    "    with open(os.path.join(D, name + '.args'), 'w') as f:\n"
    "        f.write('%d %d %r %r\\n' % (np.argmin(a), np.argmax(a),\n"
    "                a.min().item(), a.max().item()))\n";

/* Many ties: the first match in C order is numpy's argmin/argmax, whatever
 * the memory order. */
Test(source, first_c_index_ties)
{
    char code[2048];
    snprintf(code, sizeof code,
             "%s"
             "for t in ['<f8', '>f4', '<i2', '>u4', '|i1', '>i8', '<u8']:\n"
             "    a = rng.integers(0, 3, (4, 5, 6)).astype(t)\n"
             "    put_args('ties_f_' + t[1:], np.asfortranarray(a))\n"
             "    put_args('ties_c_' + t[1:], a)\n"
             "b = np.asfortranarray(rng.integers(-5, 5, (7, 3, 2)).astype("
             "'>i4'))\n"
             "put_args('ties_neg', b)\n",
             py_args);
    python(code);
    const char *codes[] = {"f8", "f4", "i2", "u4", "i1", "i8", "u8"};
    for (int k = 0; k < 7; k++) {
        char name[32];
        snprintf(name, sizeof name, "ties_f_%s", codes[k]);
        check_args(name);
        snprintf(name, sizeof name, "ties_c_%s", codes[k]);
        check_args(name);
    }
    check_args("ties_neg");
}

Test(source, first_c_index_nan_and_signed_zero)
{
    char code[2048];
    snprintf(code, sizeof code,
             "%s"
             "a = np.ones((3, 4, 5), dtype='>f4', order='F')\n"
             "a[2, 0, 1] = np.nan; a[0, 3, 4] = np.nan; a[1, 1, 1] = np.nan\n"
             "put('nan3', a)\n"
             "with open(os.path.join(D, 'nan3.args'), 'w') as f:\n"
             "    f.write('%%d\\n' %% np.argmax(a))\n"
             "z = np.ones((3, 4), order='F')\n"
             "z[2, 0] = -0.0; z[1, 3] = 0.0\n"
             "put_args('zeros', z)\n",
             py_args);
    python(code);
    size_t len;
    char *text = read_whole("nan3.args", &len);
    text[len] = '\0';
    uint64_t first_nan = strtoull(text, NULL, 10);
    free(text);
    eg_source *src = open_ok("nan3.npy", NULL);
    cr_assert_eq(first_c(src, NAN, 0, 0, 1), first_nan,
                 "numpy's argmax is the first NaN in C order");
    cr_assert_eq(first_c(src, 2.0, 0, 0, 0), EG_NONE_INDEX);
    eg_source_close(&src);

    /* -0.0 at memory index 2 comes before 0.0 in memory but after it in
     * C order; both compare equal to either zero */
    check_args("zeros");
    src = open_ok("zeros.npy", NULL);
    cr_assert_eq(first_c(src, -0.0, 0, 0, 0), 7);
    cr_assert_eq(first_c(src, 0.0, 0, 0, 0), 7);
    cr_assert_eq(first_c(src, NAN, 0, 0, 1), EG_NONE_INDEX);
    eg_source_close(&src);
}

/* ------------------------------------------------------------ raw */

Test(source, raw_files)
{
    python("np.arange(10, dtype='<f4').tofile(os.path.join(D, 'r.bin'))\n"
           "np.arange(-3, 3, dtype='<i2').tofile(os.path.join(D, 'r16.bin'))"
           "\n");
    eg_input_opts in = {1, EG_F32};
    eg_source *src = open_ok("r.bin", &in);
    const eg_array_info *info = eg_source_info(src);
    cr_assert_eq(info->count, 10);
    cr_assert_eq(info->ndim, 1);
    cr_assert_eq(info->shape[0], 10);
    float fbuf[10];
    const float *v = native(src, 0, 10, fbuf);
    for (int k = 0; k < 10; k++)
        cr_assert_eq(v[k], (float)k);
    eg_source_close(&src);

    in.raw_dtype = EG_I16;
    src = open_ok("r16.bin", &in);
    int16_t ibuf[6];
    const int16_t *w = native(src, 0, 6, ibuf);
    cr_assert_eq(w[0], -3);
    cr_assert_eq(w[5], 2);
    eg_source_close(&src);

    /* 40 bytes are not a whole number of f64 (8) or of a .npy header */
    in.raw_dtype = EG_F64;
    src = open_ok("r.bin", &in);
    cr_assert_eq(eg_source_info(src)->count, 5);
    eg_source_close(&src);
    write_whole("odd.bin", "0123456789", 10);
    char path[TU_PATH_CAP];
    path_of(path, "odd.bin");
    eg_error err = {0};
    in.raw_dtype = EG_F32;
    cr_assert_eq(eg_source_open(&src, path, &in, &err), EG_EINPUT);
    cr_assert_null(src);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "10 bytes") &&
                  strstr(err.msg, "f32"),
              "%s", err.msg);
    cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_EINPUT,
                 "not a .npy file either");
    cr_assert(strstr(err.msg, "magic") != NULL, "%s", err.msg);

    write_whole("empty.bin", "", 0);
    src = open_ok("empty.bin", &in);
    cr_assert_eq(eg_source_info(src)->count, 0);
    eg_source_close(&src);
    path_of(path, "empty.bin");
    cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_EINPUT,
                 "an empty file is not a .npy file");
}

/* A hand-made header that leaves the data at an odd offset: the source must
 * still hand out aligned, correct elements. */
Test(source, misaligned_data)
{
    const char *dict =
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\n";
    size_t hlen = strlen(dict);
    unsigned char file[256];
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (unsigned char)hlen;
    file[9] = 0;
    memcpy(file + 10, dict, hlen);
    cr_assert((10 + hlen) % 8 != 0);
    const double vals[3] = {1.5, -2.25, 1e300};
    unsigned char le[24];
    for (int k = 0; k < 3; k++) {
        uint64_t bits;
        memcpy(&bits, &vals[k], 8);
        for (int b = 0; b < 8; b++)
            le[8 * k + b] = (unsigned char)(bits >> (8 * b));
    }
    memcpy(file + 10 + hlen, le, 24);
    write_whole("odd.npy", file, 10 + hlen + 24);
    eg_source *src = open_ok("odd.npy", NULL);
    double scratch[3];
    const double *v = native(src, 0, 3, scratch);
    cr_assert_eq((uintptr_t)v % 8, 0);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(v[k], vals[k]);
    eg_source_close(&src);
}

/* ------------------------------------------------------- bad inputs */

Test(source, truncated_numpy_file)
{
    python("put('t', sample('<f8', 100))\n"
           "p = os.path.join(D, 't.npy')\n"
           "os.truncate(p, os.path.getsize(p) - 8)\n");
    char path[TU_PATH_CAP];
    path_of(path, "t.npy");
    eg_source *src = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_EINPUT);
    cr_assert_null(src);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "truncated: expected 800 bytes of data, found "
                              "792") != NULL,
              "%s", err.msg);
}

Test(source, unsupported_numpy_dtypes)
{
    python("put_raw = lambda n, a: np.save(os.path.join(D, n), a)\n"
           "put_raw('c64.npy', np.zeros(3, dtype=np.complex64))\n"
           "put_raw('obj.npy', np.array([1, 'a', None], dtype=object))\n"
           "put_raw('u3.npy', np.array(['abc', 'de']))\n"
           "put_raw('bool.npy', np.array([True, False]))\n"
           "put_raw('half.npy', np.zeros(4, dtype=np.float16))\n"
           "put_raw('rec.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', "
           "'<i8')]))\n");
    const char *names[] = {"c64.npy",  "obj.npy",  "u3.npy",
                           "bool.npy", "half.npy", "rec.npy"};
    const char *descr[] = {"'<c8'", "'|O'",  "'<U3'",
                           "'|b1'", "'<f2'", "structured"};
    for (int k = 0; k < 6; k++) {
        char path[TU_PATH_CAP];
        path_of(path, names[k]);
        eg_source *src = NULL;
        eg_error err = {0};
        cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_EDTYPE,
                     "%s: %s", names[k], err.msg);
        cr_assert(strstr(err.msg, path) && strstr(err.msg, descr[k]) &&
                      strstr(err.msg, "header field 'descr'"),
                  "%s", err.msg);
        cr_assert_null(src);
    }
}

Test(source, directory_missing_unreadable)
{
    eg_source *src = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_source_open(&src, dir, NULL, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, dir) && strstr(err.msg, "directory"), "%s",
              err.msg);
    cr_assert_null(src);

    char path[TU_PATH_CAP];
    path_of(path, "nope.npy");
    cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_ENOENT);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    path_of(path, "nope/x.npy");
    cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_ENOENT);
    cr_assert_eq(err.code, EG_ENOENT);

    write_whole("locked.npy", "\x93NUMPY", 6);
    path_of(path, "locked.npy");
    cr_assert_eq(chmod(path, 0), 0);
    if (geteuid() != 0) { /* root reads it anyway */
        cr_assert_eq(eg_source_open(&src, path, NULL, &err), EG_EINPUT);
        cr_assert(strstr(err.msg, path) && strstr(err.msg, "ermission"), "%s",
                  err.msg);
    }
    cr_assert_eq(eg_source_open(&src, NULL, NULL, &err), EG_EUSAGE);
}

/* ---------------------------------------------------------- stdin */

/* Puts `len` bytes into a pipe and makes it stdin (they fit the pipe's
 * buffer, so no writer process is needed). */
static void stdin_from(const void *p, size_t len)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], p, len), (ssize_t)len);
    close(fds[1]);
    cr_assert(dup2(fds[0], STDIN_FILENO) >= 0);
    close(fds[0]);
}

Test(source, stdin_npy_and_raw)
{
    python("put('s', np.asfortranarray(sample('>i2', 24).reshape(2, 3, "
           "4)))\n");
    size_t len;
    void *bytes = read_whole("s.npy", &len);
    cr_assert(len < 4096);
    stdin_from(bytes, len);
    eg_source *src = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_source_open(&src, "-", NULL, &err), EG_OK, "%s", err.msg);
    cr_assert_str_eq(eg_source_name(src), "-");
    const eg_array_info *info = eg_source_info(src);
    cr_assert_eq(info->count, 24);
    cr_assert_eq(info->fortran_order, 1);
    size_t elen;
    wide *expect = read_whole("s.expect", &elen);
    uint64_t *cidx = read_whole("s.cidx", &elen);
    int16_t scratch[24];
    const int16_t *v = native(src, 0, 24, scratch);
    for (int m = 0; m < 24; m++) {
        cr_assert_eq(eg_source_c_index(src, (uint64_t)m), cidx[m]);
        cr_assert_eq(v[m], expect[cidx[m]].i);
    }
    eg_source_close(&src);

    stdin_from("\x01\x02\x03", 3);
    eg_input_opts in = {1, EG_U8};
    cr_assert_eq(eg_source_open(&src, "-", &in, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_source_info(src)->count, 3);
    const uint8_t *u = native(src, 0, 3, NULL);
    cr_assert_eq(u[2], 3);
    eg_source_close(&src);

    stdin_from("\x01\x02\x03", 3);
    in.raw_dtype = EG_U16;
    cr_assert_eq(eg_source_open(&src, "-", &in, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "-: raw size 3 bytes") != NULL, "%s", err.msg);
    free(bytes);
    free(expect);
    free(cidx);
}

/* ---------------------------------------------------------- memory */

Test(source, wrap_memory)
{
    const int32_t data[5] = {5, -1, 7, -1, 0};
    eg_source *src = NULL;
    eg_error err = {0};
    cr_assert_eq(eg_source_wrap(&src, data, 5, EG_I32, &err), EG_OK);
    cr_assert_str_eq(eg_source_name(src), "memory");
    cr_assert_eq(eg_source_info(src)->count, 5);
    cr_assert_eq(eg_source_info(src)->swap, 0);
    cr_assert_eq(native(src, 1, 3, NULL), &data[1]);
    cr_assert_eq(eg_source_c_index(src, 4), 4);
    cr_assert_eq(first_c(src, 0, -1, 0, 0), 1);
    cr_assert_eq(first_c(src, 0, 9, 0, 0), EG_NONE_INDEX);
    eg_source_close(&src);
    cr_assert_null(src);
    cr_assert_eq(eg_source_wrap(&src, NULL, 0, EG_F64, &err), EG_OK,
                 "an empty wrap needs no memory");
    cr_assert_eq(eg_source_info(src)->count, 0);
    eg_source_close(&src);
    cr_assert_eq(eg_source_wrap(&src, NULL, 3, EG_F64, &err), EG_EUSAGE);
}

/* ------------------------------------------------------------ large */

/* A sparse 8 GiB file: sizes and offsets past 4 GiB stay 64-bit. */
Test(source, larger_than_4gib)
{
    char header[256];
    uint64_t shape[2] = {1u << 15, 1u << 15}; /* 2^30 f64 = 8 GiB */
    size_t n = eg_npy_format_header(header, sizeof header, EG_F64, 2, shape, 0);
    char path[TU_PATH_CAP];
    path_of(path, "big.npy");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, header, n), (ssize_t)n);
    /* the last element, 42.0 as little-endian bytes */
    unsigned char last[8] = {0, 0, 0, 0, 0, 0, 0x45, 0x40};
    off_t end = (off_t)n + ((off_t)1 << 33);
    if (pwrite(fd, last, 8, end - 8) != 8) {
        close(fd);
        cr_skip_test("no room for a sparse 8 GiB file here");
    }
    close(fd);
    eg_source *src = open_ok("big.npy", NULL);
    cr_assert_eq(eg_source_info(src)->count, (uint64_t)1 << 30);
    double scratch[2];
    const double *v =
        native(src, ((uint64_t)1 << 30) - 2, 2, scratch);
    cr_assert_not_null(v);
    cr_assert_eq(v[0], 0.0);
    cr_assert_eq(v[1], 42.0);
    eg_source_close(&src);
}
