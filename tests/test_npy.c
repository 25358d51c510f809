/* test_npy.c - the .npy header parser and writer, on byte buffers.
 *
 * Valid headers are the exact bytes numpy 1.24 writes (captured from
 * np.save / np.lib.format.write_array) plus hand-written variants that
 * numpy's reader also accepts; the error cases are corrupt or hostile
 * headers.  Whole files written by numpy are covered in test_source.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

/* Bytes numpy 1.24 writes for np.save(np.zeros(10)), header only. */
static const char numpy_f8_10[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, "
    "'shape': (10,), }                                                    "
    "       \n";
/* np.save(np.zeros((2, 3), dtype='u1', order='F')) */
static const char numpy_u1_f23[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': True, "
    "'shape': (2, 3), }                                                   "
    "        \n";
/* np.save(np.zeros((), dtype='<i2')) */
static const char numpy_i2_0d[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<i2', 'fortran_order': False, "
    "'shape': (), }                                                       "
    "       \n";
/* np.lib.format.write_array(f, np.zeros(3, '<f4'), version=(3, 0)) */
static const char numpy_f4_v3[] =
    "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<f4', 'fortran_order': "
    "False, 'shape': (3,), }                                              "
    "            \n";

/* A buffer holding a header and `data` zero bytes of payload. */
typedef struct buf {
    unsigned char *p;
    size_t len;
} buf;

static buf with_data(const char *header, size_t hlen, size_t data)
{
    buf b = {calloc(1, hlen + data + 1), hlen + data};
    cr_assert_not_null(b.p);
    memcpy(b.p, header, hlen);
    return b;
}

/* Wraps a dict in a version `major` header (no padding, '\n' at the end
 * unless `newline` is 0) followed by `data` bytes. */
static buf make(unsigned major, const char *dict, int newline, size_t data)
{
    size_t dlen = strlen(dict) + (newline ? 1 : 0);
    size_t pre = major == 1 ? 10 : 12;
    buf b = {calloc(1, pre + dlen + data + 1), pre + dlen + data};
    cr_assert_not_null(b.p);
    memcpy(b.p, "\x93NUMPY", 6);
    b.p[6] = (unsigned char)major;
    b.p[7] = 0;
    for (size_t k = 0; k < pre - 8; k++)
        b.p[8 + k] = (unsigned char)((dlen >> (8 * k)) & 0xff);
    memcpy(b.p + pre, dict, strlen(dict));
    if (newline)
        b.p[pre + dlen - 1] = '\n';
    return b;
}

static eg_status parse(buf b, eg_npy_header *h, eg_error *err)
{
    memset(err, 0, sizeof *err);
    eg_status st = eg_npy_parse(b.p, b.len, "x.npy", h, err);
    free(b.p);
    return st;
}

/* Parses a dict that must fail with `code`, and checks the message names
 * the file and contains `needle`. */
static void expect_error(unsigned major, const char *dict, size_t data,
                         eg_status code, const char *needle)
{
    eg_npy_header h;
    eg_error err;
    eg_status st = parse(make(major, dict, 1, data), &h, &err);
    cr_assert_eq(st, code, "dict %s: status %d, want %d (%s)", dict, st, code,
                 err.msg);
    cr_assert_eq(err.code, code);
    cr_assert(strncmp(err.msg, "x.npy: ", 7) == 0, "message: %s", err.msg);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'",
              err.msg, needle);
}

static int host_little(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ------------------------------------------------------- numpy's bytes */

Test(npy, numpy_v1_f8)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_f8_10, 128, 80), &h, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(h.version, 1);
    cr_assert_eq(h.data_offset, 128);
    cr_assert_eq(h.data_bytes, 80);
    cr_assert_eq(h.info.dtype, EG_F64);
    cr_assert_eq(h.info.count, 10);
    cr_assert_eq(h.info.ndim, 1);
    cr_assert_eq(h.info.shape[0], 10);
    cr_assert_eq(h.info.fortran_order, 0);
    cr_assert_eq(h.info.swap, !host_little());
}

Test(npy, numpy_fortran_u1)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_u1_f23, 128, 6), &h, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(h.info.dtype, EG_U8);
    cr_assert_eq(h.info.ndim, 2);
    cr_assert_eq(h.info.shape[0], 2);
    cr_assert_eq(h.info.shape[1], 3);
    cr_assert_eq(h.info.count, 6);
    cr_assert_eq(h.info.fortran_order, 1);
    cr_assert_eq(h.info.swap, 0, "one-byte types never swap");
}

Test(npy, numpy_zero_dim)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_i2_0d, 128, 2), &h, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(h.info.dtype, EG_I16);
    cr_assert_eq(h.info.ndim, 0);
    cr_assert_eq(h.info.count, 1, "a 0-d array holds one element");
    cr_assert_eq(h.data_bytes, 2);
}

Test(npy, numpy_v3)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_f4_v3, 128, 12), &h, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(h.version, 3);
    cr_assert_eq(h.data_offset, 128);
    cr_assert_eq(h.info.dtype, EG_F32);
    cr_assert_eq(h.info.count, 3);
}

Test(npy, version_2)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(2,
                            "{'descr': '<u2', 'fortran_order': False, "
                            "'shape': (4, 5), }",
                            1, 40),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.version, 2);
    cr_assert_eq(h.info.dtype, EG_U16);
    cr_assert_eq(h.info.count, 20);
}

/* --------------------------------------------------- liberal syntax */

Test(npy, any_key_order_and_spacing)
{
    eg_npy_header h;
    eg_error err;
    const char *dict = "  {\n \"shape\" :( 2 ,3 , 4 ) ,'fortran_order':True"
                       ",\t'descr'  :  '>i4'}";
    cr_assert_eq(parse(make(1, dict, 0, 96), &h, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.dtype, EG_I32);
    cr_assert_eq(h.info.ndim, 3);
    cr_assert_eq(h.info.shape[2], 4);
    cr_assert_eq(h.info.count, 24);
    cr_assert_eq(h.info.fortran_order, 1);
    cr_assert_eq(h.info.swap, host_little());
}

Test(npy, python2_long_suffix)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(1,
                            "{'descr': '<i8', 'fortran_order': False, "
                            "'shape': (3L, 2L), }",
                            1, 48),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.count, 6);
}

Test(npy, trailing_data_accepted)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_f8_10, 128, 81), &h, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(h.data_bytes, 80);
}

/* Every descr edgegrid reads, with each byte-order mark. */
Test(npy, descr_table)
{
    static const struct {
        const char *descr;
        eg_dtype dtype;
        int big; /* -1: native or not applicable */
    } cases[] = {
        {"<f4", EG_F32, 0}, {">f4", EG_F32, 1},  {"<f8", EG_F64, 0},
        {">f8", EG_F64, 1}, {"=f8", EG_F64, -1}, {"f8", EG_F64, -1},
        {"|i1", EG_I8, -1}, {"|u1", EG_U8, -1},  {"<i1", EG_I8, -1},
        {"<i2", EG_I16, 0}, {">u2", EG_U16, 1},  {"<i4", EG_I32, 0},
        {">i4", EG_I32, 1}, {"=u4", EG_U32, -1}, {"<i8", EG_I64, 0},
        {">u8", EG_U64, 1}, {"<u8", EG_U64, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char dict[128];
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 cases[k].descr);
        eg_npy_header h;
        eg_error err;
        cr_assert_eq(parse(make(1, dict, 1, 16), &h, &err), EG_OK, "%s: %s",
                     cases[k].descr, err.msg);
        cr_assert_eq(h.info.dtype, cases[k].dtype, "%s", cases[k].descr);
        int want_swap = cases[k].big >= 0 && eg_dtype_size(h.info.dtype) > 1 &&
                        cases[k].big == host_little();
        cr_assert_eq(h.info.swap, want_swap, "%s", cases[k].descr);
    }
}

Test(npy, empty_arrays)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(1,
                            "{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (0,), }",
                            1, 0),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.count, 0);
    cr_assert_eq(h.data_bytes, 0);
    /* an empty axis wins over a product that would overflow */
    cr_assert_eq(parse(make(1,
                            "{'descr': '<f8', 'fortran_order': True, "
                            "'shape': (4294967296, 4294967296, 0), }",
                            1, 0),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.count, 0);
    cr_assert_eq(h.info.ndim, 3);
}

/* Fortran order matters only with two or more axes longer than one. */
Test(npy, fortran_flag_normalised)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(1,
                            "{'descr': '<f8', 'fortran_order': True, "
                            "'shape': (1, 5, 1), }",
                            1, 40),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.fortran_order, 0);
    cr_assert_eq(parse(make(1,
                            "{'descr': '<f8', 'fortran_order': True, "
                            "'shape': (7,), }",
                            1, 56),
                       &h, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.fortran_order, 0);
}

Test(npy, max_dims)
{
    char dict[512] = "{'descr': '|u1', 'fortran_order': False, 'shape': (";
    for (int k = 0; k < EG_MAX_DIMS; k++)
        strcat(dict, "1, ");
    strcat(dict, "), }");
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(1, dict, 1, 1), &h, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(h.info.ndim, EG_MAX_DIMS);
    cr_assert_eq(h.info.count, 1);
    char more[512];
    snprintf(more, sizeof more, "%.*s1, ), }", (int)(strlen(dict) - 4), dict);
    expect_error(1, more, 1, EG_EINPUT, "header field 'shape': more than 32");
}

/* --------------------------------------------------------- bad files */

Test(npy, corrupt_magic)
{
    eg_npy_header h;
    eg_error err;
    buf b = with_data(numpy_f8_10, 128, 80);
    b.p[1] = 'n';
    cr_assert_eq(parse(b, &h, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "x.npy: header field 'magic'") != NULL, "%s",
              err.msg);
    cr_assert_eq(parse(with_data(numpy_f8_10, 4, 0), &h, &err), EG_EINPUT,
                 "4 bytes are not a .npy file");
    cr_assert_eq(parse(with_data(numpy_f8_10, 0, 0), &h, &err), EG_EINPUT);
    cr_assert_eq(eg_npy_parse(NULL, 0, "x.npy", &h, &err), EG_EINPUT);
}

Test(npy, bad_version)
{
    eg_npy_header h;
    eg_error err;
    buf b = with_data(numpy_f8_10, 128, 80);
    b.p[6] = 4;
    cr_assert_eq(parse(b, &h, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "'version'") && strstr(err.msg, "4.0"), "%s",
              err.msg);
    b = with_data(numpy_f8_10, 128, 80);
    b.p[7] = 1;
    cr_assert_eq(parse(b, &h, &err), EG_EINPUT, "1.1 is not a version");
    cr_assert_eq(parse(with_data(numpy_f8_10, 9, 0), &h, &err), EG_EINPUT,
                 "file ends inside the length");
}

Test(npy, oversized_header_length)
{
    eg_npy_header h;
    eg_error err;
    buf b = make(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                 1, 8);
    b.p[8] = 0xff, b.p[9] = 0xff, b.p[10] = 0xff, b.p[11] = 0x7f;
    cr_assert_eq(parse(b, &h, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "header field 'header_len'") &&
                  strstr(err.msg, "limit"),
              "%s", err.msg);
    /* within the limit but past the end of the file */
    b = make(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 1,
             0);
    b.p[8] = 0x00, b.p[9] = 0x10;
    cr_assert_eq(parse(b, &h, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
}

Test(npy, truncated_data)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(with_data(numpy_f8_10, 128, 40), &h, &err), EG_EINPUT);
    cr_assert_str_eq(err.msg,
                     "x.npy: truncated: expected 80 bytes of data, found 40");
    cr_assert_eq(parse(with_data(numpy_f8_10, 128, 79), &h, &err), EG_EINPUT);
}

Test(npy, absurd_shapes)
{
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (4294967296, 4294967296), }",
                 0, EG_EINPUT,
                 "header field 'shape': the element count "
                 "overflows");
    /* the count fits but count * 8 bytes does not */
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (2305843009213693952, 2), }",
                 0, EG_EINPUT, "overflows");
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (99999999999999999999,), }",
                 0, EG_EINPUT, "header field 'shape'");
    /* plausible but far larger than the file */
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (1000000, 1000000), }",
                 8, EG_EINPUT, "truncated: expected 8000000000000 bytes");
}

Test(npy, negative_shape)
{
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
                 8, EG_EINPUT,
                 "header field 'shape': entries must be "
                 "non-negative");
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (3, -2), }",
                 8, EG_EINPUT, "non-negative");
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,), }",
                 8, EG_EINPUT, "header field 'shape'");
    expect_error(1, "{'descr': '<f8', 'fortran_order': False, 'shape': [3], }",
                 24, EG_EINPUT, "header field 'shape'");
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (3,,), }",
                 24, EG_EINPUT, "header field 'shape'");
}

Test(npy, unsupported_dtypes)
{
    static const char *const descrs[] = {
        "<c8", "<c16", "|O",      "<U3",    "|S5",  "|V8", "|b1",
        "<f2", "<f16", "<M8[ns]", "<m8[s]", "<i16", "",    "<x4",
    };
    for (size_t k = 0; k < sizeof descrs / sizeof descrs[0]; k++) {
        char dict[128], needle[64];
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 descrs[k]);
        snprintf(needle, sizeof needle,
                 "header field 'descr': unsupported dtype '%s'", descrs[k]);
        expect_error(1, dict, 64, EG_EDTYPE, needle);
    }
    expect_error(1,
                 "{'descr': [('a', '<f4'), ('b', '<i4')], "
                 "'fortran_order': False, 'shape': (2,), }",
                 16, EG_EDTYPE, "header field 'descr': structured");
}

Test(npy, malformed_dicts)
{
    expect_error(1, "{'descr': '<f8', 'shape': (1,), }", 8, EG_EINPUT,
                 "header field 'fortran_order': missing");
    expect_error(1, "{'fortran_order': False, 'shape': (1,), }", 8, EG_EINPUT,
                 "header field 'descr': missing");
    expect_error(1, "{'descr': '<f8', 'fortran_order': False}", 8, EG_EINPUT,
                 "header field 'shape': missing");
    expect_error(1,
                 "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                 "'shape': (1,)}",
                 8, EG_EINPUT, "header field 'descr': given twice");
    expect_error(1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), "
                 "'extra': 1}",
                 8, EG_EINPUT, "header field 'extra': unknown key");
    expect_error(1, "{'descr': '<f8', 'fortran_order': false, 'shape': (1,)}",
                 8, EG_EINPUT, "header field 'fortran_order'");
    expect_error(1, "{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,)}",
                 8, EG_EINPUT, "header field 'fortran_order'");
    expect_error(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x",
                 8, EG_EINPUT, "only padding");
    expect_error(1, "{'descr': '<f8", 8, EG_EINPUT,
                 "header field 'descr': expected a closing quote");
    expect_error(1, "{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", 8,
                 EG_EINPUT, "header field");
    expect_error(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", 8,
                 EG_EINPUT, "header field");
    expect_error(1, "", 8, EG_EINPUT, "header field 'header'");
    expect_error(1, "'descr': '<f8'", 8, EG_EINPUT, "header field 'header'");
    expect_error(1, "{descr: '<f8'}", 8, EG_EINPUT, "header field 'key'");
}

Test(npy, message_is_one_printable_line)
{
    eg_npy_header h;
    eg_error err;
    cr_assert_eq(parse(make(1,
                            "{'descr': '<\x01\x7f\xff', 'fortran_order': "
                            "False, 'shape': (1,)}",
                            1, 8),
                       &h, &err),
                 EG_EDTYPE);
    for (const char *p = err.msg; *p; p++)
        cr_assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
                  "unprintable byte in '%s'", err.msg);
}

/* ------------------------------------------------------------ writer */

Test(npy, format_matches_numpy)
{
    char out[256];
    uint64_t shape10[1] = {10};
    size_t n = eg_npy_format_header(out, sizeof out, EG_F64, 1, shape10, 0);
    cr_assert_eq(n, 128);
    cr_assert(memcmp(out, numpy_f8_10, 128) == 0, "got %.*s", (int)n, out);
    uint64_t shape23[2] = {2, 3};
    n = eg_npy_format_header(out, sizeof out, EG_U8, 2, shape23, 1);
    cr_assert_eq(n, 128);
    cr_assert(memcmp(out, numpy_u1_f23, 128) == 0, "got %.*s", (int)n, out);
    n = eg_npy_format_header(out, sizeof out, EG_I16, 0, NULL, 0);
    cr_assert_eq(n, 128);
    cr_assert(memcmp(out, numpy_i2_0d, 128) == 0, "got %.*s", (int)n, out);
    cr_assert_eq(eg_npy_format_header(out, 100, EG_F64, 1, shape10, 0), 0,
                 "too small a buffer");
}

/* Every dtype, Fortran order, a long axis: the parser reads back what the
 * writer wrote, and checks the announced data size against the buffer. */
Test(npy, format_round_trips)
{
    static const eg_dtype types[] = {EG_F32, EG_F64, EG_I8,  EG_U8,  EG_I16,
                                     EG_U16, EG_I32, EG_U32, EG_I64, EG_U64};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        size_t size = eg_dtype_size(types[k]);
        char out[256];
        eg_npy_header h;
        eg_error err;
        uint64_t big[3] = {3, 1, 12345678901234ull};
        size_t n = eg_npy_format_header(out, sizeof out, types[k], 3, big, 1);
        cr_assert(n > 0 && n % 64 == 0);
        cr_assert_eq(parse(with_data(out, n, 0), &h, &err), EG_EINPUT);
        char want[96];
        snprintf(want, sizeof want, "expected %llu bytes",
                 (unsigned long long)(3 * 12345678901234ull * size));
        cr_assert(strstr(err.msg, want) != NULL, "%s", err.msg);

        uint64_t small[3] = {3, 1, 2};
        n = eg_npy_format_header(out, sizeof out, types[k], 3, small, 1);
        cr_assert_eq(parse(with_data(out, n, 6 * size), &h, &err), EG_OK, "%s",
                     err.msg);
        cr_assert_eq(h.info.dtype, types[k]);
        cr_assert_eq(h.info.count, 6);
        cr_assert_eq(h.info.ndim, 3);
        cr_assert_eq(h.info.shape[2], 2);
        cr_assert_eq(h.info.fortran_order, 1);
        cr_assert_eq(h.data_offset, n);
    }
}
