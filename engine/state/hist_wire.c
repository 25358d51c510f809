/* hist_wire.c - the versioned wire form of a histogram state (hist.h),
 * which names its plan so that only states of one plan ever merge:
 *
 *   "EGHS"  u16 version  u8 dtype  u8 flags (bit 0: float32 bins)
 *   u32 nbins  u64 first  u64 last (IEEE bits)  u64 below above nan
 *   then nbins u64 counts; all little-endian.
 *
 * The decoder checks the magic, the version, the dtype, the size, the plan
 * and that the counts' sum fits 64 bits, before a state reaches a merge. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hist.h"
#include "wire_le.h"

#define HS_MAGIC "EGHS"
#define HS_VERSION 1u
#define HS_HEADER 56

static uint64_t bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

size_t eg_hist_encoded_size(const eg_hist_plan *p)
{
    return HS_HEADER + 8 * (size_t)p->nbins;
}

void eg_hist_encode(const eg_hist_plan *p, const eg_hist_state *s, uint8_t *out)
{
    memcpy(out, HS_MAGIC, 4);
    out[4] = HS_VERSION & 0xff;
    out[5] = HS_VERSION >> 8;
    out[6] = (uint8_t)p->dtype;
    out[7] = p->f32 ? 1 : 0;
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t)(p->nbins >> (8 * i));
    /* (4 bytes of padding keep the words aligned) */
    memset(out + 12, 0, 4);
    eg_put_le64(out + 16, bits(p->first));
    eg_put_le64(out + 24, bits(p->last));
    eg_put_le64(out + 32, s->below);
    eg_put_le64(out + 40, s->above);
    eg_put_le64(out + 48, s->nan);
    for (unsigned i = 0; i < p->nbins; i++)
        eg_put_le64(out + HS_HEADER + 8 * (size_t)i, s->counts[i]);
}

static eg_status bad(eg_error *err, const char *what)
{
    return eg_error_set(err, EG_EINPUT, "histogram state: %s", what);
}

eg_status eg_hist_decode(const eg_hist_plan *p, eg_hist_state *s,
                         const uint8_t *in, size_t len, eg_error *err)
{
    if (len < HS_HEADER || memcmp(in, HS_MAGIC, 4) != 0)
        return bad(err, "not a histogram state (magic)");
    if ((unsigned)(in[4] | in[5] << 8) != HS_VERSION)
        return bad(err, "unknown version");
    uint32_t nbins = (uint32_t)in[8] | (uint32_t)in[9] << 8 |
                     (uint32_t)in[10] << 16 | (uint32_t)in[11] << 24;
    if (in[6] != (uint8_t)p->dtype || in[7] != (p->f32 ? 1 : 0) ||
        nbins != p->nbins || eg_get_le64(in + 16) != bits(p->first) ||
        eg_get_le64(in + 24) != bits(p->last) || in[12] | in[13] | in[14] | in[15])
        return bad(err, "of another plan (dtype, bins or range)");
    if (len != HS_HEADER + 8 * (size_t)nbins)
        return bad(err, "length does not match its bins");
    eg_status st = eg_hist_state_init(s, nbins, err);
    if (st != EG_OK)
        return st;
    s->below = eg_get_le64(in + 32);
    s->above = eg_get_le64(in + 40);
    s->nan = eg_get_le64(in + 48);
    uint64_t total = 0;
    uint64_t parts[3] = {s->below, s->above, s->nan};
    for (int i = 0; i < 3; i++) {
        if (total + parts[i] < total) {
            eg_hist_state_free(s);
            return bad(err, "counts overflow");
        }
        total += parts[i];
    }
    for (unsigned i = 0; i < nbins; i++) {
        s->counts[i] = eg_get_le64(in + HS_HEADER + 8 * (size_t)i);
        if (total + s->counts[i] < total) {
            eg_hist_state_free(s);
            return bad(err, "counts overflow");
        }
        total += s->counts[i];
    }
    return EG_OK;
}
