/* json.c - JSON strings and numbers.  Numbers are written in the "C" locale
 * (the program never calls setlocale), so the decimal point is always '.'. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void fmt_double(char *buf, size_t len, double v)
{
    char sci[FMT_DOUBLE_MAX];
    int prec;

    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, "%s", v < 0 ? "-inf" : "inf");
        return;
    }
    /* The fewest significant digits that read back as v, as Python's repr
     * finds them: 0.1 stays 0.1 instead of 0.10000000000000001. */
    for (prec = 1; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
    /* Then repr's layout: plain digits for exponents -4 .. 15 (4950, not
     * 4.95e+03), scientific beyond.  The plain form is kept only if it
     * reads back as v too. */
    int exp10 = atoi(strchr(sci, 'e') + 1);
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = prec - 1 - exp10;
        snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    /* "%.0e" of 1e-06 is "1e-06"; drop nothing else, it already is the
     * shortest mantissa. */
    snprintf(buf, len, "%s", sci);
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)  /* also stops at the terminating NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', f);
    while (*p != '\0') {
        unsigned char c = *p;
        switch (c) {
        case '"': fputs("\\\"", f); p++; continue;
        case '\\': fputs("\\\\", f); p++; continue;
        case '\b': fputs("\\b", f); p++; continue;
        case '\f': fputs("\\f", f); p++; continue;
        case '\n': fputs("\\n", f); p++; continue;
        case '\r': fputs("\\r", f); p++; continue;
        case '\t': fputs("\\t", f); p++; continue;
        default: break;
        }
        if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (n == 0) {
            fprintf(f, "\\u%04x", c);
            p++;
            continue;
        }
        fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}

void json_double(FILE *f, double v)
{
    char buf[FMT_DOUBLE_MAX];

    fmt_double(buf, sizeof buf, v);
    if (!isfinite(v)) {
        fprintf(f, "\"%s\"", buf);
        return;
    }
    /* Keep floats recognisable as floats: integer-valued doubles get ".0",
     * so only exact integer results print as JSON integers. */
    fputs(buf, f);
    if (strpbrk(buf, ".e") == NULL)
        fputs(".0", f);
}

void json_number(FILE *f, const eg_number *n)
{
    switch (n->kind) {
    case EG_NUM_F64: json_double(f, n->v.f); break;
    case EG_NUM_I64: fprintf(f, "%" PRId64, n->v.i); break;
    case EG_NUM_U64: fprintf(f, "%" PRIu64, n->v.u); break;
    case EG_NUM_NONE:
    default: fputs("null", f); break;
    }
}

void text_number(char *buf, size_t len, const eg_number *n)
{
    switch (n->kind) {
    case EG_NUM_F64:
        fmt_double(buf, len, n->v.f);
        /* As in JSON: a float result always looks like one. */
        if (isfinite(n->v.f) && strpbrk(buf, ".e") == NULL &&
            strlen(buf) + 3 <= len)
            strcat(buf, ".0");
        break;
    case EG_NUM_I64: snprintf(buf, len, "%" PRId64, n->v.i); break;
    case EG_NUM_U64: snprintf(buf, len, "%" PRIu64, n->v.u); break;
    case EG_NUM_NONE:
    default: snprintf(buf, len, "-"); break;
    }
}
