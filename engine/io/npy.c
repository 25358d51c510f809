/* npy.c - the .npy header: a strict parser over untrusted bytes, and a writer
 * that matches numpy's own output.
 *
 * Layout (numpy/lib/format.py): "\x93NUMPY", major, minor, a little-endian
 * header length (u16 for 1.0, u32 for 2.0 and 3.0), then that many bytes of a
 * Python dict literal such as
 *     {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ending in '\n', then the data.  Version 3.0 only
 * changes the header's text encoding to UTF-8, which matters for structured
 * field names; we refuse structured dtypes, so 2.0 and 3.0 parse alike.
 */
#include "npy.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Header text lengths we still print inside messages. */
#define SHOW_MAX 40

int eg_npy_host_little(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* ------------------------------------------------------------ the cursor */

/* A position in the header text; errors name the file and header offset. */
typedef struct cursor {
    const char *start, *p, *end;
    const char *name;
    eg_error *err;
} cursor;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end && is_ws(*c->p))
        c->p++;
}

static int at(const cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static size_t offset(const cursor *c)
{
    return (size_t)(c->p - c->start);
}

/* Copies up to SHOW_MAX bytes of text for a message, with anything that is
 * not printable ASCII shown as '?', so a hostile header cannot break the
 * one-line error. */
static void show(char *out, const char *text, size_t len)
{
    size_t n = len < SHOW_MAX ? len : SHOW_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (len > SHOW_MAX) {
        memcpy(out + n, "...", 4);
    } else {
        out[n] = '\0';
    }
}

static eg_status syntax_error(cursor *c, const char *field,
                              const char *expected)
{
    char got[SHOW_MAX + 4];
    if (c->p >= c->end) {
        return eg_error_set(c->err, EG_EINPUT,
                            "%s: header field '%s': expected %s, found the "
                            "end of the header",
                            c->name, field, expected);
    }
    show(got, c->p, 1);
    return eg_error_set(c->err, EG_EINPUT,
                        "%s: header field '%s': expected %s at header byte "
                        "%zu, found '%s'",
                        c->name, field, expected, offset(c), got);
}

/* A Python string literal without escapes ('...' or "..."); numpy writes
 * keys and simple descrs this way.  Returns the span between the quotes. */
static eg_status parse_string(cursor *c, const char *field, const char **text,
                              size_t *len)
{
    if (!at(c, '\'') && !at(c, '"'))
        return syntax_error(c, field, "a quoted string");
    char quote = *c->p++;
    const char *s = c->p;
    while (c->p < c->end && *c->p != quote && *c->p != '\n') {
        if (*c->p == '\\')
            return syntax_error(c, field, "a plain string (no escapes)");
        c->p++;
    }
    if (c->p >= c->end || *c->p == '\n')
        return syntax_error(c, field, "a closing quote");
    *text = s;
    *len = (size_t)(c->p - s);
    c->p++;
    return EG_OK;
}

/* ----------------------------------------------------------------- descr */

/* Maps a descr such as '<f8' or '|u1' to a dtype and its byte order.
 * Returns 0 for anything edgegrid does not reduce (complex, object,
 * strings, bool, half, datetimes, ...). */
static int map_descr(const char *s, size_t len, eg_dtype *dtype, char *order)
{
    static const struct {
        char kind;
        unsigned size;
        eg_dtype dtype;
    } kinds[] = {
        {'f', 4, EG_F32}, {'f', 8, EG_F64}, {'i', 1, EG_I8},  {'u', 1, EG_U8},
        {'i', 2, EG_I16}, {'u', 2, EG_U16}, {'i', 4, EG_I32}, {'u', 4, EG_U32},
        {'i', 8, EG_I64}, {'u', 8, EG_U64},
    };
    size_t i = 0;
    *order = '=';
    if (len > 0 && strchr("<>|=", s[0]) != NULL && s[0] != '\0')
        *order = s[i++];
    /* kind letter plus one digit: "f8"; longer sizes are all unsupported */
    if (len - i != 2 || s[i + 1] < '1' || s[i + 1] > '9')
        return 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (kinds[k].kind == s[i] &&
            kinds[k].size == (unsigned)(s[i + 1] - '0')) {
            *dtype = kinds[k].dtype;
            return 1;
        }
    }
    return 0;
}

static eg_status parse_descr(cursor *c, eg_npy_header *h)
{
    if (at(c, '[') || at(c, '(')) {
        return eg_error_set(c->err, EG_EDTYPE,
                            "%s: header field 'descr': structured and "
                            "sub-array dtypes are not supported",
                            c->name);
    }
    const char *s;
    size_t len;
    eg_status st = parse_string(c, "descr", &s, &len);
    if (st != EG_OK)
        return st;
    eg_dtype dtype;
    char order;
    if (!map_descr(s, len, &dtype, &order)) {
        char shown[SHOW_MAX + 4];
        show(shown, s, len);
        return eg_error_set(c->err, EG_EDTYPE,
                            "%s: header field 'descr': unsupported dtype "
                            "'%s' (edgegrid reads float32, float64 and "
                            "8- to 64-bit integers)",
                            c->name, shown);
    }
    h->info.dtype = dtype;
    /* '|' (not applicable) and '=' (native) never need a swap; numpy only
     * writes '|' for one-byte types anyway. */
    h->info.swap =
        eg_dtype_size(dtype) > 1 && ((order == '<' && !eg_npy_host_little()) ||
                                     (order == '>' && eg_npy_host_little()));
    return EG_OK;
}

/* ---------------------------------------------------------------- values */

static int is_ident_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_';
}

static int match_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    if (c->p + n < c->end && is_ident_char(c->p[n]))
        return 0;
    c->p += n;
    return 1;
}

static eg_status parse_bool(cursor *c, int *out)
{
    if (match_word(c, "True")) {
        *out = 1;
    } else if (match_word(c, "False")) {
        *out = 0;
    } else {
        return syntax_error(c, "fortran_order", "True or False");
    }
    return EG_OK;
}

/* One shape entry: a non-negative decimal that fits numpy's intp (int64);
 * Python 2 wrote longs with an 'L' suffix, which numpy still reads. */
static eg_status parse_dim(cursor *c, uint64_t *out)
{
    if (at(c, '-') || at(c, '+')) {
        return eg_error_set(c->err, EG_EINPUT,
                            "%s: header field 'shape': entries must be "
                            "non-negative integers (found a signed value at "
                            "header byte %zu)",
                            c->name, offset(c));
    }
    if (!(c->p < c->end && *c->p >= '0' && *c->p <= '9'))
        return syntax_error(c, "shape", "a non-negative integer");
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned digit = (unsigned)(*c->p - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10) {
            return eg_error_set(c->err, EG_EINPUT,
                                "%s: header field 'shape': entry at header "
                                "byte %zu exceeds 2^63-1",
                                c->name, offset(c));
        }
        v = v * 10 + digit;
        c->p++;
    }
    if (at(c, 'L') || at(c, 'l'))
        c->p++;
    if (c->p < c->end && (is_ident_char(*c->p) || *c->p == '.'))
        return syntax_error(c, "shape", "an integer");
    *out = v;
    return EG_OK;
}

/* A tuple of dims: "()", "(5,)", "(2, 3)", "(2, 3,)"; "(5)" is taken as a
 * one-element tuple too, since its meaning is plain. */
static eg_status parse_shape(cursor *c, eg_npy_header *h)
{
    if (!at(c, '('))
        return syntax_error(c, "shape", "a tuple such as (3, 4)");
    c->p++;
    unsigned ndim = 0;
    for (;;) {
        skip_ws(c);
        if (at(c, ')'))
            break;
        if (ndim == EG_MAX_DIMS) {
            return eg_error_set(c->err, EG_EINPUT,
                                "%s: header field 'shape': more than %d "
                                "dimensions",
                                c->name, EG_MAX_DIMS);
        }
        eg_status st = parse_dim(c, &h->info.shape[ndim]);
        if (st != EG_OK)
            return st;
        ndim++;
        skip_ws(c);
        if (at(c, ','))
            c->p++;
        else if (!at(c, ')'))
            return syntax_error(c, "shape", "',' or ')'");
    }
    c->p++;
    h->info.ndim = ndim;
    return EG_OK;
}

/* ------------------------------------------------------------------ dict */

enum { SEEN_DESCR = 1, SEEN_FORTRAN = 2, SEEN_SHAPE = 4 };

static eg_status parse_entry(cursor *c, eg_npy_header *h, int *fortran,
                             unsigned *seen)
{
    const char *key;
    size_t len;
    eg_status st = parse_string(c, "key", &key, &len);
    if (st != EG_OK)
        return st;
    skip_ws(c);
    if (!at(c, ':'))
        return syntax_error(c, "key", "':'");
    c->p++;
    skip_ws(c);

    unsigned bit;
    const char *field;
    if (len == 5 && memcmp(key, "descr", 5) == 0) {
        bit = SEEN_DESCR;
        field = "descr";
    } else if (len == 13 && memcmp(key, "fortran_order", 13) == 0) {
        bit = SEEN_FORTRAN;
        field = "fortran_order";
    } else if (len == 5 && memcmp(key, "shape", 5) == 0) {
        bit = SEEN_SHAPE;
        field = "shape";
    } else {
        /* numpy refuses unknown keys too: the file is not one it wrote */
        char shown[SHOW_MAX + 4];
        show(shown, key, len);
        return eg_error_set(c->err, EG_EINPUT,
                            "%s: header field '%s': unknown key (expected "
                            "descr, fortran_order and shape)",
                            c->name, shown);
    }
    if (*seen & bit) {
        return eg_error_set(c->err, EG_EINPUT,
                            "%s: header field '%s': given twice", c->name,
                            field);
    }
    *seen |= bit;
    if (bit == SEEN_DESCR)
        return parse_descr(c, h);
    if (bit == SEEN_FORTRAN)
        return parse_bool(c, fortran);
    return parse_shape(c, h);
}

static eg_status parse_dict(cursor *c, eg_npy_header *h, int *fortran)
{
    unsigned seen = 0;
    skip_ws(c);
    if (!at(c, '{'))
        return syntax_error(c, "header", "'{'");
    c->p++;
    for (;;) {
        skip_ws(c);
        if (at(c, '}'))
            break;
        eg_status st = parse_entry(c, h, fortran, &seen);
        if (st != EG_OK)
            return st;
        skip_ws(c);
        if (at(c, ','))
            c->p++;
        else if (!at(c, '}'))
            return syntax_error(c, "header", "',' or '}'");
    }
    c->p++;
    /* The spec pads with spaces and ends with '\n'; we accept any trailing
     * whitespace, or none, but nothing else. */
    skip_ws(c);
    if (c->p != c->end)
        return syntax_error(c, "header", "only padding after '}'");

    static const char *const names[] = {"descr", "fortran_order", "shape"};
    for (unsigned k = 0; k < 3; k++) {
        if (!(seen & (1u << k))) {
            return eg_error_set(c->err, EG_EINPUT,
                                "%s: header field '%s': missing", c->name,
                                names[k]);
        }
    }
    return EG_OK;
}

/* ------------------------------------------------------------ the whole */

static uint32_t load_le(const unsigned char *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Reads magic, version and header length; sets h->version and
 * h->data_offset. */
static eg_status parse_prelude(const unsigned char *b, uint64_t len,
                               const char *name, eg_npy_header *h,
                               eg_error *err)
{
    if (len < NPY_MAGIC_LEN || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'magic': not a .npy file (it "
                            "does not start with \\x93NUMPY; text such as "
                            "CSV is not read: convert it with numpy.save)",
                            name);
    }
    if (len < 8) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'version': file ends after "
                            "the magic",
                            name);
    }
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'version': unsupported .npy "
                            "version %u.%u (expected 1.0, 2.0 or 3.0)",
                            name, major, minor);
    }
    unsigned lenbytes = major == 1 ? 2 : 4;
    uint64_t prelude = 8 + lenbytes;
    if (len < prelude) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'header_len': file ends "
                            "inside it",
                            name);
    }
    uint32_t hlen = load_le(b + 8, lenbytes);
    if (hlen > EG_NPY_MAX_HEADER) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'header_len': %lu bytes is "
                            "over the limit of %u",
                            name, (unsigned long)hlen, EG_NPY_MAX_HEADER);
    }
    if (len - prelude < hlen) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: header field 'header_len': truncated: "
                            "expected %lu header bytes, found %llu",
                            name, (unsigned long)hlen,
                            (unsigned long long)(len - prelude));
    }
    h->version = major;
    h->data_offset = prelude + hlen;
    return EG_OK;
}

/* count = product of shape, with overflow checks on elements and bytes.  An
 * empty dimension makes the array empty however large the others are. */
static eg_status size_array(eg_npy_header *h, uint64_t len, const char *name,
                            eg_error *err)
{
    eg_array_info *info = &h->info;
    uint64_t count = 1;
    unsigned long_dims = 0;
    int empty = 0;
    for (unsigned k = 0; k < info->ndim; k++) {
        empty |= info->shape[k] == 0;
        long_dims += info->shape[k] > 1;
    }
    uint64_t itemsize = eg_dtype_size(info->dtype);
    uint64_t limit = (UINT64_MAX - h->data_offset) / itemsize;
    for (unsigned k = 0; k < info->ndim && !empty; k++) {
        if (count > limit / info->shape[k]) {
            return eg_error_set(err, EG_EINPUT,
                                "%s: header field 'shape': the element "
                                "count overflows 64-bit sizes",
                                name);
        }
        count *= info->shape[k];
    }
    info->count = empty ? 0 : count;
    info->fortran_order = info->fortran_order && long_dims >= 2;
    h->data_bytes = info->count * itemsize;
    uint64_t found = len - h->data_offset;
    if (found < h->data_bytes) {
        return eg_error_set(err, EG_EINPUT,
                            "%s: truncated: expected %llu bytes of data, "
                            "found %llu",
                            name, (unsigned long long)h->data_bytes,
                            (unsigned long long)found);
    }
    return EG_OK;
}

eg_status eg_npy_parse_head(const void *buf, size_t head_len,
                            uint64_t file_len, const char *name,
                            eg_npy_header *out, eg_error *err)
{
    if (name == NULL)
        name = "input";
    if (out == NULL || (buf == NULL && head_len > 0) || file_len < head_len)
        return eg_error_set(err, EG_EUSAGE, "%s: no buffer to parse", name);
    eg_npy_header h;
    memset(&h, 0, sizeof h);
    const unsigned char *b = buf;
    eg_status st = parse_prelude(b, buf == NULL ? 0 : head_len, name, &h, err);
    if (st != EG_OK)
        return st;

    uint64_t prelude = h.version == 1 ? 10 : 12;
    cursor c = {(const char *)b + prelude, (const char *)b + prelude,
                (const char *)b + h.data_offset, name, err};
    int fortran = 0;
    st = parse_dict(&c, &h, &fortran);
    if (st != EG_OK)
        return st;
    h.info.fortran_order = fortran;
    st = size_array(&h, file_len, name, err);
    if (st != EG_OK)
        return st;
    *out = h;
    return EG_OK;
}

eg_status eg_npy_parse(const void *buf, uint64_t len, const char *name,
                       eg_npy_header *out, eg_error *err)
{
    if (len > SIZE_MAX) {
        return eg_error_set(err, EG_EINPUT, "%s: %llu bytes do not fit "
                            "this address space", name ? name : "input",
                            (unsigned long long)len);
    }
    return eg_npy_parse_head(buf, (size_t)len, len, name, out, err);
}

uint64_t eg_npy_header_span(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (b == NULL || len < 12 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return 0;
    unsigned lenbytes = b[6] == 1 ? 2 : 4;
    uint64_t hlen = load_le(b + 8, lenbytes);
    if (hlen > EG_NPY_MAX_HEADER)
        hlen = EG_NPY_MAX_HEADER;
    return 8 + lenbytes + hlen;
}

/* ---------------------------------------------------------------- writer */

static const char *descr_of(eg_dtype dtype)
{
    static const char *const descr[EG_DTYPE_COUNT] = {
        [EG_F32] = "<f4", [EG_F64] = "<f8", [EG_I8] = "|i1",  [EG_U8] = "|u1",
        [EG_I16] = "<i2", [EG_U16] = "<u2", [EG_I32] = "<i4", [EG_U32] = "<u4",
        [EG_I64] = "<i8", [EG_U64] = "<u8",
    };
    if ((int)dtype < 0 || dtype >= EG_DTYPE_COUNT)
        return NULL;
    return descr[dtype];
}

/* The shape as Python's repr of a tuple: "()", "(5,)", "(2, 3)".  `out`
 * holds EG_MAX_DIMS entries of ", " plus 20 digits, and the parens. */
#define SHAPE_TEXT_MAX (EG_MAX_DIMS * 22 + 8)

static void format_shape(char *out, unsigned ndim, const uint64_t *shape)
{
    size_t n = 0;
    out[n++] = '(';
    for (unsigned k = 0; k < ndim; k++) {
        n += (size_t)snprintf(out + n, SHAPE_TEXT_MAX - n,
                              k == 0 ? "%llu" : ", %llu",
                              (unsigned long long)shape[k]);
    }
    if (ndim == 1)
        out[n++] = ',';
    out[n++] = ')';
    out[n] = '\0';
}

size_t eg_npy_format_header(char *buf, size_t cap, eg_dtype dtype,
                            unsigned ndim, const uint64_t *shape,
                            int fortran_order)
{
    const char *descr = descr_of(dtype);
    char tuple[SHAPE_TEXT_MAX];
    if (descr == NULL || ndim > EG_MAX_DIMS || (ndim > 0 && shape == NULL))
        return 0;
    format_shape(tuple, ndim, shape);
    char dict[sizeof tuple + 128];
    int dlen = snprintf(dict, sizeof dict,
                        "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                        descr, fortran_order ? "True" : "False", tuple);
    if (dlen < 0 || (size_t)dlen >= sizeof dict)
        return 0;
    /* numpy leaves room for the growing axis (the first, or the last in
     * Fortran order) to reach 21 digits, so appends can rewrite the header in
     * place (GROWTH_AXIS_MAX_DIGITS in numpy/lib/format.py) */
    size_t growth = 0;
    if (ndim > 0) {
        char digits[24];
        uint64_t axis = shape[fortran_order ? ndim - 1 : 0];
        int nd =
            snprintf(digits, sizeof digits, "%llu", (unsigned long long)axis);
        growth = nd > 0 && nd < 21 ? 21 - (size_t)nd : 0;
    }
    /* then spaces and a '\n' to the next multiple of 64; numpy adds a whole
     * 64 when already aligned */
    size_t used = 10 + (size_t)dlen + growth + 1;
    size_t pad = 64 - used % 64;
    size_t total = used + pad;
    size_t hlen = total - 10;
    if (hlen > 65535 || total > cap)
        return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)dlen);
    memset(buf + 10 + dlen, ' ', hlen - (size_t)dlen - 1);
    buf[total - 1] = '\n';
    return total;
}
