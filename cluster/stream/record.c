/* record.c - CSV and JSON record parsers (record.h).  Strict where the
 * formats are strict, bounded everywhere: lengths, nesting, line sizes. */
#include "record.h"

#include <math.h>

#include "decimal.h"
#include <stdlib.h>
#include <string.h>

double eg_rec_time_seconds(double t)
{
    return fabs(t) >= 1e11 ? t / 1000.0 : t;
}

/* A C number (strtod's) in a bounded, non-terminated field, spaces and
 * tabs around it allowed. */
static int parse_number(const char *p, size_t len, double *out)
{
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return eg_decimal_parse(p, len, out);
}

const char *eg_rec_parse_csv(const eg_rec_cfg *cfg, const char *line,
                             size_t len, unsigned *channels, eg_rec *out)
{
    memset(out, 0, offsetof(eg_rec, v));
    out->has_key = 0;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > EG_REC_LINE_MAX)
        return "csv: line too long";
    size_t at = 0;
    unsigned k = 0;
    int first = 1;
    for (;;) {
        size_t end = at;
        while (end < len && line[end] != ',')
            end++;
        double v;
        if (parse_number(line + at, end - at, &v) != 0)
            return "csv: not a number";
        if (first && cfg->csv_time) {
            if (!isfinite(v))
                return "csv: time is not finite";
            out->t = eg_rec_time_seconds(v);
            out->has_time = 1;
        } else {
            if (k >= EG_REC_MAX_CHANNELS)
                return "csv: too many values";
            out->v[k++] = v;
        }
        first = 0;
        if (end >= len)
            break;
        at = end + 1;
    }
    if (k == 0)
        return "csv: no values";
    if (*channels == 0)
        *channels = k;
    else if (k != *channels)
        return "csv: wrong number of values";
    out->n = k;
    return NULL;
}

/* ------------------------------------------------------------------ json */

typedef struct jp {
    const char *s;
    size_t len, at;
} jp;

static void ws(jp *p)
{
    while (p->at < p->len && (p->s[p->at] == ' ' || p->s[p->at] == '\t' ||
                              p->s[p->at] == '\n' || p->s[p->at] == '\r'))
        p->at++;
}

/* A string: sets [*b, *e) to its raw contents (escapes left in). */
static int jstring(jp *p, size_t *b, size_t *e)
{
    if (p->at >= p->len || p->s[p->at] != '"')
        return -1;
    p->at++;
    *b = p->at;
    while (p->at < p->len) {
        unsigned char c = (unsigned char)p->s[p->at];
        if (c == '"') {
            *e = p->at++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (p->at + 1 >= p->len)
                return -1;
            char x = p->s[p->at + 1];
            if (x == 'u') {
                if (p->at + 5 >= p->len)
                    return -1;
                for (int i = 2; i < 6; i++) {
                    char h = p->s[p->at + i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return -1;
                }
                p->at += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", x) || x == '\0')
                return -1;
            p->at += 2;
            continue;
        }
        p->at++;
    }
    return -1;
}

/* A number by RFC 8259's grammar: sets [*b, *e). */
static int jnumber(jp *p, size_t *b, size_t *e)
{
    size_t i = p->at;
    *b = i;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len)
        return -1;
    if (p->s[i] == '0') {
        i++;
    } else if (p->s[i] >= '1' && p->s[i] <= '9') {
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    } else {
        return -1;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d)
            return -1;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d)
            return -1;
    }
    *e = i;
    p->at = i;
    return 0;
}

static int jword(jp *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->at < n || memcmp(p->s + p->at, w, n) != 0)
        return -1;
    p->at += n;
    return 0;
}

/* Skips any value, nesting at most `depth` more levels. */
static int jskip(jp *p, int depth)
{
    size_t b, e;
    ws(p);
    if (p->at >= p->len)
        return -1;
    char c = p->s[p->at];
    if (c == '"')
        return jstring(p, &b, &e);
    if (c == 't')
        return jword(p, "true");
    if (c == 'f')
        return jword(p, "false");
    if (c == 'n')
        return jword(p, "null");
    if (c != '{' && c != '[')
        return jnumber(p, &b, &e);
    if (depth <= 0)
        return -1;
    char close = c == '{' ? '}' : ']';
    p->at++;
    ws(p);
    if (p->at < p->len && p->s[p->at] == close) {
        p->at++;
        return 0;
    }
    for (;;) {
        ws(p);
        if (c == '{') {
            if (jstring(p, &b, &e) != 0)
                return -1;
            ws(p);
            if (p->at >= p->len || p->s[p->at] != ':')
                return -1;
            p->at++;
        }
        if (jskip(p, depth - 1) != 0)
            return -1;
        ws(p);
        if (p->at >= p->len)
            return -1;
        if (p->s[p->at] == ',') {
            p->at++;
            continue;
        }
        if (p->s[p->at] == close) {
            p->at++;
            return 0;
        }
        return -1;
    }
}

static int name_is(const jp *p, size_t b, size_t e, const char *name)
{
    return name && strlen(name) == e - b && memcmp(p->s + b, name, e - b) == 0;
}

const char *eg_rec_parse_json(const eg_rec_cfg *cfg, const char *msg,
                              size_t len, eg_rec *out)
{
    memset(out, 0, offsetof(eg_rec, v));
    out->has_key = 0;
    if (len > EG_REC_LINE_MAX)
        return "json: message too long";
    jp p = {msg, len, 0};
    uint64_t seen = 0; /* channel bits */
    int seen_time = 0, seen_key = 0;
    ws(&p);
    if (p.at >= p.len || p.s[p.at] != '{')
        return "json: not an object";
    p.at++;
    ws(&p);
    int empty = p.at < p.len && p.s[p.at] == '}';
    if (empty)
        p.at++;
    while (!empty) {
        size_t nb, ne;
        ws(&p);
        if (jstring(&p, &nb, &ne) != 0)
            return "json: bad field name";
        ws(&p);
        if (p.at >= p.len || p.s[p.at] != ':')
            return "json: ':' expected";
        p.at++;
        ws(&p);
        int ch = -1;
        for (unsigned i = 0; i < cfg->nfields; i++)
            if (name_is(&p, nb, ne, cfg->fields[i])) {
                ch = (int)i;
                break;
            }
        int is_time = name_is(&p, nb, ne, cfg->time_field);
        int is_key = name_is(&p, nb, ne, cfg->key_field);
        if (ch >= 0 || is_time) {
            size_t vb, ve;
            double v;
            if (jnumber(&p, &vb, &ve) != 0 ||
                parse_number(p.s + vb, ve - vb, &v) != 0)
                return ch >= 0 ? "json: a channel is not a number"
                               : "json: the time is not a number";
            if (ch >= 0) {
                if (seen & (1ull << ch))
                    return "json: a field given twice";
                seen |= 1ull << ch;
                out->v[ch] = v;
            }
            if (is_time) {
                if (seen_time++)
                    return "json: the time given twice";
                if (!isfinite(v))
                    return "json: the time is not finite";
                out->t = eg_rec_time_seconds(v);
                out->has_time = 1;
            }
            if (is_key) {
                if (seen_key++)
                    return "json: the key given twice";
                if (ve - vb > EG_REC_KEY_MAX)
                    return "json: key too long";
                memcpy(out->key, p.s + vb, ve - vb);
                out->key[ve - vb] = '\0';
                out->has_key = 1;
            }
        } else if (is_key) {
            size_t vb, ve;
            if (seen_key++)
                return "json: the key given twice";
            if (p.at < p.len && p.s[p.at] == '"') {
                if (jstring(&p, &vb, &ve) != 0)
                    return "json: bad key string";
            } else if (jnumber(&p, &vb, &ve) != 0) {
                return "json: the key is not a string or number";
            }
            if (ve - vb > EG_REC_KEY_MAX)
                return "json: key too long";
            memcpy(out->key, p.s + vb, ve - vb);
            out->key[ve - vb] = '\0';
            out->has_key = 1;
        } else if (jskip(&p, 32) != 0) {
            return "json: bad value";
        }
        ws(&p);
        if (p.at >= p.len)
            return "json: unterminated object";
        if (p.s[p.at] == ',') {
            p.at++;
            continue;
        }
        if (p.s[p.at] == '}') {
            p.at++;
            break;
        }
        return "json: ',' or '}' expected";
    }
    ws(&p);
    if (p.at != p.len)
        return "json: bytes after the object";
    uint64_t want =
        cfg->nfields >= 64 ? UINT64_MAX : (1ull << cfg->nfields) - 1;
    if ((seen & want) != want)
        return "json: a channel field is missing";
    if (cfg->time_field && !out->has_time)
        return "json: the time field is missing";
    if (cfg->key_field && !out->has_key)
        return "json: the key field is missing";
    out->n = cfg->nfields;
    return NULL;
}

int eg_rec_topic_level(const char *topic, size_t len, unsigned level,
                       char key[EG_REC_KEY_MAX + 1])
{
    size_t at = 0;
    for (unsigned l = 1; l < level; l++) {
        while (at < len && topic[at] != '/')
            at++;
        if (at >= len)
            return 0;
        at++;
    }
    size_t end = at;
    while (end < len && topic[end] != '/')
        end++;
    if (end - at > EG_REC_KEY_MAX || level == 0)
        return 0;
    memcpy(key, topic + at, end - at);
    key[end - at] = '\0';
    return 1;
}
