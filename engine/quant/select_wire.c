/* select_wire.c - the wire form of one selection pass's counts (qselect.h):
 * what a grid worker would send for its range and the collector add up.
 * Every field is checked before the counts reach a merge. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qselect.h"
#include "quant_key.h"
#include "wire_le.h"

#define SP_MAGIC "EGSP"
#define SP_VERSION 1u
#define SP_HEADER 32

static unsigned digit_of(eg_dtype t)
{
    return eg_key_bits(t) == 8 ? 8 : 16;
}

size_t eg_select_counts_size(eg_dtype t)
{
    return SP_HEADER + 8 * ((size_t)1 << digit_of(t));
}

void eg_select_counts_encode(const eg_select_counts *c, uint8_t *out)
{
    size_t bins = (size_t)1 << c->digit;
    memcpy(out, SP_MAGIC, 4);
    out[4] = SP_VERSION & 0xff;
    out[5] = SP_VERSION >> 8;
    out[6] = (uint8_t)c->dtype;
    out[7] = (uint8_t)c->digit;
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t)(c->fixed >> (8 * i));
    memset(out + 12, 0, 4);
    eg_put_le64(out + 16, c->prefix);
    eg_put_le64(out + 24, c->nan);
    for (size_t i = 0; i < bins; i++)
        eg_put_le64(out + SP_HEADER + 8 * i, c->hist[i]);
}

static eg_status bad(eg_error *err, const char *what)
{
    return eg_error_set(err, EG_EINPUT, "selection pass state: %s", what);
}

eg_status eg_select_counts_decode(eg_select_counts *c, const uint8_t *in,
                                  size_t len, eg_error *err)
{
    memset(c, 0, sizeof *c);
    if (len < SP_HEADER || memcmp(in, SP_MAGIC, 4) != 0)
        return bad(err, "not a selection pass (magic)");
    if ((unsigned)(in[4] | in[5] << 8) != SP_VERSION)
        return bad(err, "unknown version");
    if (in[6] >= EG_DTYPE_COUNT)
        return bad(err, "unknown dtype");
    eg_dtype t = (eg_dtype)in[6];
    unsigned w = eg_key_bits(t);
    uint32_t fixed = (uint32_t)in[8] | (uint32_t)in[9] << 8 |
                     (uint32_t)in[10] << 16 | (uint32_t)in[11] << 24;
    uint64_t prefix = eg_get_le64(in + 16);
    if (in[7] != digit_of(t) || fixed + in[7] > w ||
        (in[12] | in[13] | in[14] | in[15]) != 0)
        return bad(err, "bucket does not fit its dtype");
    if (fixed < 64 && (fixed == 0 ? prefix != 0 : prefix >> fixed != 0))
        return bad(err, "prefix longer than its bits");
    if (len != eg_select_counts_size(t))
        return bad(err, "length does not match its digit");
    size_t bins = (size_t)1 << in[7];
    c->hist = malloc(bins * sizeof *c->hist);
    if (!c->hist)
        return eg_error_set(err, EG_ENOMEM,
                            "selection pass state: out of memory");
    c->dtype = t;
    c->digit = in[7];
    c->fixed = fixed;
    c->prefix = prefix;
    c->nan = eg_get_le64(in + 24);
    uint64_t total = c->nan;
    for (size_t i = 0; i < bins; i++) {
        c->hist[i] = eg_get_le64(in + SP_HEADER + 8 * i);
        if (total + c->hist[i] < total) {
            eg_select_counts_free(c);
            return bad(err, "counts overflow");
        }
        total += c->hist[i];
    }
    return EG_OK;
}

eg_status eg_select_counts_merge(eg_select_counts *a, const eg_select_counts *b,
                                 eg_error *err)
{
    if (a->dtype != b->dtype || a->digit != b->digit || a->fixed != b->fixed ||
        a->prefix != b->prefix)
        return bad(err, "merging counts of another bucket");
    a->nan += b->nan;
    for (size_t i = 0; i < (size_t)1 << a->digit; i++)
        a->hist[i] += b->hist[i];
    return EG_OK;
}

void eg_select_counts_free(eg_select_counts *c)
{
    free(c->hist);
    c->hist = NULL;
}
