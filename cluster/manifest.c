/* manifest.c - parsing the shard manifest: line by line, refusing names
 * that could leave a worker's shard root, repeated shards, bad counts and
 * an empty list, each with the file and line at fault. */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"
#include "frame.h"

/* A manifest is a list of names, not a data file: this bounds a mistaken
 * argument (a 1 GiB .npy given as the manifest) to a quick error. */
#define MANIFEST_MAX_BYTES (64u * 1024u * 1024u)

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int parse_count(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - 1 - d) / 10)  /* UINT64_MAX means unknown */
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static eg_status add_shard(eg_manifest *m, const char *name, size_t nl,
                           uint64_t count, const char *path, size_t line,
                           eg_error *err)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->names[i]) == nl && memcmp(m->names[i], name, nl) == 0)
            return eg_error_set(err, EG_EINPUT, "%s:%zu: shard '%s' is "
                                "listed twice", path, line, m->names[i]);
    if (m->n >= EG_SHARDS_MAX)
        return eg_error_set(err, EG_EINPUT, "%s:%zu: more than %u shards",
                            path, line, EG_SHARDS_MAX);
    char **names = realloc(m->names, (m->n + 1) * sizeof *names);
    if (names)
        m->names = names;
    uint64_t *counts = realloc(m->counts, (m->n + 1) * sizeof *counts);
    if (counts)
        m->counts = counts;
    char *copy = malloc(nl + 1);
    if (!names || !counts || !copy) {
        free(copy);
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", path);
    }
    memcpy(copy, name, nl);
    copy[nl] = '\0';
    m->names[m->n] = copy;
    m->counts[m->n] = count;
    m->n++;
    return EG_OK;
}

/* One line without its newline. */
static eg_status parse_line(eg_manifest *m, const char *s, size_t len,
                            const char *path, size_t line, eg_error *err)
{
    const char *hash = memchr(s, '#', len);
    if (hash)
        len = (size_t)(hash - s);
    size_t a = 0;
    while (a < len && is_space(s[a]))
        a++;
    if (a == len)
        return EG_OK;
    size_t b = a;
    while (b < len && !is_space(s[b]))
        b++;
    size_t c = b;
    while (c < len && is_space(s[c]))
        c++;
    size_t d = c;
    while (d < len && !is_space(s[d]))
        d++;
    size_t e = d;
    while (e < len && is_space(s[e]))
        e++;
    if (e != len)
        return eg_error_set(err, EG_EINPUT, "%s:%zu: expected 'NAME [COUNT]'",
                            path, line);
    if (!eg_frame_shard_name_ok(s + a, b - a))
        return eg_error_set(err, EG_EINPUT, "%s:%zu: shard name '%.*s' is not "
                            "a relative path of at most %u printable "
                            "characters without '..'",
                            path, line, (int)(b - a < 80 ? b - a : 80), s + a,
                            EG_SHARD_NAME_MAX);
    uint64_t count = EG_SHARD_COUNT_UNKNOWN;
    if (d > c && parse_count(s + c, d - c, &count) != 0)
        return eg_error_set(err, EG_EINPUT, "%s:%zu: count '%.*s' is not a "
                            "non-negative integer", path, line,
                            (int)(d - c < 40 ? d - c : 40), s + c);
    return add_shard(m, s + a, b - a, count, path, line, err);
}

eg_status eg_manifest_parse(eg_manifest *m, const char *text, size_t len,
                            const char *path, eg_error *err)
{
    memset(m, 0, sizeof *m);
    if (memchr(text, '\0', len))
        return eg_error_set(err, EG_EINPUT, "%s: not a text file", path);
    size_t line = 1, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        eg_status st = parse_line(m, text + start, i - start, path, line, err);
        if (st != EG_OK) {
            eg_manifest_free(m);
            return st;
        }
        start = i + 1;
        line++;
    }
    if (m->n == 0)
        return eg_error_set(err, EG_EINPUT, "%s: lists no shards", path);
    return EG_OK;
}

eg_status eg_manifest_load(eg_manifest *m, const char *path, eg_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return eg_error_set(err, e == ENOENT ? EG_ENOENT : EG_EIO,
                            "%s: cannot open the manifest: %s", path,
                            strerror(e));
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    eg_status st = EG_OK;
    while (buf) {
        if (n == cap) {
            char *bigger = cap < MANIFEST_MAX_BYTES ? realloc(buf, cap * 2)
                                                    : NULL;
            if (!bigger) {
                st = cap < MANIFEST_MAX_BYTES
                         ? eg_error_set(err, EG_ENOMEM, "%s: out of memory",
                                        path)
                         : eg_error_set(err, EG_EINPUT, "%s: larger than a "
                                        "manifest can be (%u bytes)", path,
                                        MANIFEST_MAX_BYTES);
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = eg_error_set(err, EG_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (!buf)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", path);
    if (st == EG_OK)
        st = eg_manifest_parse(m, buf, n, path, err);
    free(buf);
    return st;
}

void eg_manifest_free(eg_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    free(m->counts);
    memset(m, 0, sizeof *m);
}
