/* partial_wire.c - the public partial's bytes (edgegrid.h, "partials"):
 * a 16-byte header ("EGPT", u16 version, u8 mode, u8 nan, u32 ops, u32 ddof,
 * little-endian) before the state's own wire form (state_wire.c), and the
 * merge and finalize of partials.  Decode checks the header against the
 * state (its groups must be the ones its ops and mode compute), then the
 * state with the grid's checks, so nothing forged reaches a merge. */
#include <string.h>

#include "error.h"
#include "partial.h"
#include "state.h"
#include "wire_le.h"

#define EG_PARTIAL_HEADER 16

size_t eg_partial_size(void)
{
    return EG_PARTIAL_HEADER + eg_state_encoded_size();
}

static void put_head(uint8_t *buf, const eg_partial_head *h)
{
    memcpy(buf, "EGPT", 4);
    eg_put_le(buf + 4, EG_PARTIAL_VERSION, 2);
    buf[6] = (uint8_t)h->mode;
    buf[7] = (uint8_t)h->nan;
    eg_put_le(buf + 8, h->ops, 4);
    eg_put_le(buf + 12, h->ddof, 4);
}

/* The groups a state of these ops and mode must hold: what the engine
 * computes for them (eg_engine_reduce_range), so a forged header cannot ask
 * finalize for sums the state never had. */
static unsigned groups_expected(const eg_partial_head *h, eg_dtype dtype)
{
    return eg_groups_for(h->ops, h->mode, dtype);
}

/* Decodes and checks one partial; `which` names it in messages. */
static eg_status decode(const uint8_t *p, size_t len, const char *which,
                        eg_partial_head *h, eg_state *s, eg_error *err)
{
    if (!p)
        return eg_error_set(err, EG_EUSAGE, "%s partial: NULL", which);
    if (len != eg_partial_size())
        return eg_error_set(err, EG_EINPUT,
                            "%s partial: %zu bytes, expected %zu", which, len,
                            eg_partial_size());
    if (memcmp(p, "EGPT", 4) != 0)
        return eg_error_set(err, EG_EINPUT, "%s partial: bad magic", which);
    unsigned version = (unsigned)eg_get_le(p + 4, 2);
    if (version != EG_PARTIAL_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "%s partial: version %u, this build reads %u",
                            which, version, EG_PARTIAL_VERSION);
    if (p[6] > EG_MODE_EXACT || p[7] > EG_NAN_OMIT)
        return eg_error_set(err, EG_EINPUT,
                            "%s partial: bad mode or nan byte (%u, %u)", which,
                            p[6], p[7]);
    h->mode = (eg_mode)p[6];
    h->nan = (eg_nan_policy)p[7];
    h->ops = (unsigned)eg_get_le(p + 8, 4);
    h->ddof = (unsigned)eg_get_le(p + 12, 4);
    if (h->ops == 0 || (h->ops >> EG_OP_COUNT_ALL) != 0)
        return eg_error_set(err, EG_EINPUT, "%s partial: bad ops 0x%x", which,
                            h->ops);
    eg_status st =
        eg_state_decode(s, p + EG_PARTIAL_HEADER, len - EG_PARTIAL_HEADER, err);
    if (st != EG_OK) {
        eg_error_prefix(err, "%s partial", which);
        return st;
    }
    if (s->groups != groups_expected(h, s->dtype))
        return eg_error_set(err, EG_EINPUT,
                            "%s partial: its state's groups 0x%x do not match "
                            "its ops 0x%x",
                            which, s->groups, h->ops);
    return EG_OK;
}

static eg_status check_cap(const uint8_t *buf, size_t cap, eg_error *err)
{
    if (!buf || cap < eg_partial_size())
        return eg_error_set(err, EG_EUSAGE,
                            "partial: a buffer of %zu bytes, needs %zu", cap,
                            eg_partial_size());
    return EG_OK;
}

eg_status eg_partial_encode(const eg_partial_head *h, const eg_state *s,
                            uint8_t *buf, size_t cap, eg_error *err)
{
    eg_status st = check_cap(buf, cap, err);
    if (st != EG_OK)
        return st;
    put_head(buf, h);
    eg_state_encode(s, buf + EG_PARTIAL_HEADER, cap - EG_PARTIAL_HEADER);
    return EG_OK;
}

eg_status eg_partial_merge(const uint8_t *left, const uint8_t *right,
                           size_t len, uint8_t *out, eg_error *err)
{
    eg_partial_head hl, hr;
    eg_state sl, sr;
    eg_status st = decode(left, len, "left", &hl, &sl, err);
    if (st == EG_OK)
        st = decode(right, len, "right", &hr, &sr, err);
    if (st != EG_OK)
        return st;
    if (sl.dtype != sr.dtype)
        return eg_error_set(
            err, EG_EINPUT, "merge: left partial is %s but right is %s",
            eg_dtype_numpy_name(sl.dtype), eg_dtype_numpy_name(sr.dtype));
    if (hl.ops != hr.ops)
        return eg_error_set(err, EG_EINPUT,
                            "merge: the partials hold different ops "
                            "(0x%x, 0x%x)",
                            hl.ops, hr.ops);
    if (hl.mode != hr.mode)
        return eg_error_set(err, EG_EINPUT,
                            "merge: left partial is %s mode but right is %s",
                            hl.mode == EG_MODE_EXACT ? "exact" : "fast",
                            hr.mode == EG_MODE_EXACT ? "exact" : "fast");
    if (hl.nan != hr.nan || hl.ddof != hr.ddof)
        return eg_error_set(err, EG_EINPUT,
                            "merge: the partials differ in nan policy or "
                            "ddof");
    /* Right's indices count from its own start: move them past left's. */
    eg_state_shift(&sr, sl.n);
    eg_state_merge(&sl, &sr);
    return eg_partial_encode(&hl, &sl, out, len, err);
}

eg_status eg_partial_finalize(const uint8_t *p, size_t len, eg_result *out,
                              eg_error *err)
{
    eg_partial_head h;
    eg_state s;
    eg_status st = decode(p, len, "the", &h, &s, err);
    if (st != EG_OK)
        return st;
    memset(out, 0, sizeof *out);
    st = eg_state_finalize(&s, h.ops, h.nan, h.ddof, out, err);
    if (st != EG_OK)
        return st;
    /* as eg_reduce gives them for a 1-D array of the partial's elements */
    out->mode = h.mode;
    out->ndim = 1;
    out->shape[0] = s.n;
    return EG_OK;
}
