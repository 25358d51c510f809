/* parse.c - numbers on the command line: element counts, small integers and
 * doubles, each rejecting trailing junk, signs where they make no sense, and
 * values that do not fit; and the words several subcommands share (--mode). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Binary suffixes, so a newcomer can write "1Gi" for a 1 GiB f8 array of
 * 2^30 elements.  Decimal suffixes are left out on purpose: "1G" would read
 * as 1e9 to some and 2^30 to others. */
static const struct {
    const char *suffix;
    unsigned shift;
} count_suffixes[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}};

/* An all-digit integer, no sign, no junk.  0 or -1. */
static int parse_digits(const char *text, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cli_parse_count(const char *text, uint64_t *out)
{
    size_t len = strlen(text);

    for (size_t i = 0; i < sizeof count_suffixes / sizeof count_suffixes[0];
         i++) {
        size_t sl = strlen(count_suffixes[i].suffix);
        if (len > sl && strcmp(text + len - sl, count_suffixes[i].suffix) == 0) {
            uint64_t v;
            unsigned shift = count_suffixes[i].shift;
            if (parse_digits(text, len - sl, &v) != 0 ||
                v > (UINT64_MAX >> shift))
                return -1;
            *out = v << shift;
            return 0;
        }
    }
    if (parse_digits(text, len, out) == 0)
        return 0;

    /* Scientific notation: accepted only when it names an integer that a
     * double holds exactly, so "1e6" works and "1.5" or "1e30" do not. */
    if (len == 0 || !isdigit((unsigned char)text[0]) ||
        strspn(text, "0123456789.eE+-") != len)  /* no hex, inf or nan */
        return -1;
    char *end = NULL;
    errno = 0;
    double d = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(d) || d < 0 ||
        d != floor(d) || d > 9007199254740992.0 /* 2^53 */)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

int cli_parse_uint(const char *text, unsigned *out)
{
    uint64_t v;

    if (parse_digits(text, strlen(text), &v) != 0 || v > UINT_MAX)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int cli_parse_double(const char *text, double *out)
{
    char *end = NULL;

    errno = 0;
    double d = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

int cli_parse_mode(const char *text, eg_mode *out)
{
    if (strcmp(text, "fast") == 0)
        *out = EG_MODE_FAST;
    else if (strcmp(text, "exact") == 0)
        *out = EG_MODE_EXACT;
    else
        return -1;
    return 0;
}

const char *cli_mode_name(eg_mode m)
{
    return m == EG_MODE_EXACT ? "exact" : "fast";
}
