/* json.c - JSON strings and numbers.  Numbers are written in the "C" locale
 * (the program never calls setlocale), so the decimal point is always '.'. */
#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Whether v's correctly rounded form with `prec` significant digits reads
 * back as v (that form left in sci). */
static int reads_back(double v, int prec, char *sci, size_t len)
{
    snprintf(sci, len, "%.*e", prec - 1, v);
    return strtod(sci, NULL) == v;
}

/* sci, as "%.*e" writes it ("-d.ddde+XX"), one unit up in its last
 * digit, away from zero: 9.99e+01 becomes 1.00e+02. */
static void bump_last_digit(char *sci, size_t len)
{
    char *e = strchr(sci, 'e');
    int exp10 = atoi(e + 1);
    char *p = e - 1;
    for (; p >= sci && (*p == '9' || *p == '.'); p--)
        if (*p == '9')
            *p = '0';
    if (p >= sci && *p >= '0' && *p <= '8') {
        (*p)++;
        return;
    }
    /* carried out of the first digit: 1.00...e(exp10 + 1) */
    char *first = sci + (sci[0] == '-');
    first[0] = '1';
    snprintf(e, len - (size_t)(e - sci), "e%+03d", exp10 + 1);
}

/* The fewest significant digits, 1 to 17, of a decimal that reads back
 * as v, as Python's repr finds them (0.1 stays 0.1 instead of
 * 0.10000000000000001), that decimal left in sci.  Away from a power of
 * two the doubles that read as v lie symmetrically around it, so the
 * decimal of p digits nearest v reads back if any of p digits does, and
 * the nearest of p + 1 digits is at least as near (the p-digit one has
 * p + 1 digits too): once p digits read back so do all longer forms, and
 * a bisection finds the least in 4 or 5 tries, where counting up took up
 * to 16 (most results need 16 or 17).  At a power of two the doubles
 * below are twice as dense as those above, so a decimal a little farther
 * above may read back where the nearest, below, does not: there it
 * counts up and tries both. */
static int fewest_digits(double v, char *sci, size_t len)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int lo = 1, hi = 17;
    if ((bits & 0x000fffffffffffffull) == 0) {
        for (; lo < hi; lo++) {
            if (reads_back(v, lo, sci, len))
                return lo;
            if (fabs(strtod(sci, NULL)) < fabs(v)) {
                bump_last_digit(sci, len);
                if (strtod(sci, NULL) == v)
                    return lo;
            }
        }
    } else {
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (reads_back(v, mid, sci, len))
                hi = mid;
            else
                lo = mid + 1;
        }
    }
    reads_back(v, lo, sci, len);
    return lo;
}

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
    prec = fewest_digits(v, sci, sizeof sci);
    /* Then repr's layout: plain digits for exponents -4 .. 15 (4950, not
     * 4.95e+03), scientific beyond.  The plain form is kept only if it
     * reads back as v too. */
    int exp10 = atoi(strchr(sci, 'e') + 1);
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = prec - 1 - exp10;
        snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
        /* (the nearest plain form: not sci's digits where those are the
         * farther decimal of a power of two; then sci stays) */
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
