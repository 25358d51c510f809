/* sketch_wire.c - the canonical wire form of a sketch (sketch.h).
 * Each side is written trimmed to its first and last non-zero count, so
 * the bytes depend only on the counts, never on how the windows grew; a
 * decoder insists on that form, on the sizes and on sums that fit 64
 * bits, before a sketch reaches a merge. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sketch.h"
#include "wire_le.h"

#define SK_MAGIC "EGSK"
#define SK_VERSION 1u
#define SK_HEADER (4 + 2 + 2 + 4 * 8 + 4 * 8)
/* (normalised exponent + 52) < 2099 */
#define SK_MAX_INDEX(k) ((uint64_t)2099 << (k))

/* The non-zero span of a side: [*first, *first + *n) of its counts. */
static void side_span(const eg_sketch_side *d, uint64_t *first, uint64_t *n)
{
    uint64_t a = 0, b = d->len;
    while (a < b && d->c[a] == 0)
        a++;
    while (b > a && d->c[b - 1] == 0)
        b--;
    *first = a;
    *n = b - a;
}

size_t eg_sketch_encoded_size(const eg_sketch *s)
{
    uint64_t f, np, nn;
    side_span(&s->pos, &f, &np);
    side_span(&s->neg, &f, &nn);
    return SK_HEADER + 8 * (size_t)(np + nn);
}

void eg_sketch_encode(const eg_sketch *s, uint8_t *out)
{
    const eg_sketch_side *sides[2] = {&s->pos, &s->neg};
    uint64_t first[2], n[2];
    memcpy(out, SK_MAGIC, 4);
    out[4] = SK_VERSION & 0xff;
    out[5] = SK_VERSION >> 8;
    out[6] = (uint8_t)s->k;
    out[7] = 0;
    eg_put_le64(out + 8, s->nan);
    eg_put_le64(out + 16, s->zero);
    eg_put_le64(out + 24, s->pinf);
    eg_put_le64(out + 32, s->ninf);
    for (int j = 0; j < 2; j++) {
        side_span(sides[j], &first[j], &n[j]);
        eg_put_le64(out + 40 + 16 * j, n[j] ? sides[j]->lo + first[j] : 0);
        eg_put_le64(out + 48 + 16 * j, n[j]);
    }
    uint8_t *p = out + SK_HEADER;
    for (int j = 0; j < 2; j++)
        for (uint64_t i = 0; i < n[j]; i++, p += 8)
            eg_put_le64(p, sides[j]->c[first[j] + i]);
}

static eg_status bad(eg_error *err, const char *what)
{
    return eg_error_set(err, EG_EINPUT, "sketch state: %s", what);
}

eg_status eg_sketch_decode(eg_sketch *s, const uint8_t *in, size_t len,
                           eg_error *err)
{
    eg_sketch_side *sides[2];
    uint64_t lo[2], n[2];

    memset(s, 0, sizeof *s);
    if (len < SK_HEADER || memcmp(in, SK_MAGIC, 4) != 0)
        return bad(err, "not a sketch (magic)");
    if ((unsigned)(in[4] | in[5] << 8) != SK_VERSION)
        return bad(err, "unknown version");
    if (in[6] > EG_SKETCH_MAX_K || in[7] != 0)
        return bad(err, "bucket bits out of range");
    s->k = in[6];
    s->nan = eg_get_le64(in + 8);
    s->zero = eg_get_le64(in + 16);
    s->pinf = eg_get_le64(in + 24);
    s->ninf = eg_get_le64(in + 32);
    sides[0] = &s->pos;
    sides[1] = &s->neg;
    for (int j = 0; j < 2; j++) {
        lo[j] = eg_get_le64(in + 40 + 16 * j);
        n[j] = eg_get_le64(in + 48 + 16 * j);
        if (n[j] > SK_MAX_INDEX(s->k) || lo[j] > SK_MAX_INDEX(s->k) - n[j] ||
            (n[j] == 0 && lo[j] != 0))
            return bad(err, "bucket range out of bounds");
    }
    if ((len - SK_HEADER) / 8 != n[0] + n[1] || (len - SK_HEADER) % 8 != 0)
        return bad(err, "length does not match its bucket counts");
    uint64_t total = s->nan, parts[3] = {s->zero, s->pinf, s->ninf};
    for (int j = 0; j < 3; j++) {
        if (total + parts[j] < total)
            return bad(err, "counts overflow");
        total += parts[j];
    }
    const uint8_t *p = in + SK_HEADER;
    for (int j = 0; j < 2; j++) {
        eg_sketch_side *d = sides[j];
        if (n[j] == 0)
            continue;
        d->c = malloc(n[j] * sizeof *d->c);
        if (!d->c) {
            eg_sketch_free(s);
            return eg_error_set(err, EG_ENOMEM, "sketch state: out of memory");
        }
        d->lo = lo[j];
        d->len = d->cap = n[j];
        for (uint64_t i = 0; i < n[j]; i++, p += 8) {
            d->c[i] = eg_get_le64(p);
            if (total + d->c[i] < total) {
                eg_sketch_free(s);
                return bad(err, "counts overflow");
            }
            total += d->c[i];
        }
        if (d->c[0] == 0 || d->c[n[j] - 1] == 0) {
            eg_sketch_free(s);
            return bad(err, "not in canonical form (zero end buckets)");
        }
    }
    return EG_OK;
}
