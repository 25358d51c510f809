/* state_wire.c - the versioned little-endian encoding of a partial state.
 *
 *   "EGST"  u16 version  u8 dtype  u8 reserved(0)  u32 groups
 *   then EG_WIRE_FIELDS u64 words in the order of wire_fields() below
 *   (doubles as their IEEE bit patterns), then the exact block of
 *   exact_wire.c (zeros unless groups has EG_G_EXACT).  One size for every
 *   state, so carriers can size frames with eg_state_encoded_size().
 *
 * The compact form is the same bytes without the exact block: a fast-mode
 * state's block is all zeros, so a container of fast states
 * (states_wire.c) leaves it out rather than send 1.5 KiB of zeros per
 * state.  An exact-mode state has no compact form.
 *
 * The grid carries states in this form; decode checks everything a forged
 * or damaged frame could get wrong before the state reaches a merge. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "exact_state.h"
#include "state.h"
#include "wire_le.h"

#define EG_WIRE_HEADER 12
#define EG_WIRE_FIELDS 30

/* The one list of fields, shared by encode and decode. */
static void wire_fields(eg_state *s, uint64_t *f[EG_WIRE_FIELDS])
{
    uint64_t *list[EG_WIRE_FIELDS] = {
        &s->n,          &s->nan_n,       &s->first_nan,
        &s->pinf_n,     &s->ninf_n,      (uint64_t *)&s->sum_s,
        (uint64_t *)&s->sum_c,           &s->isum_lo,
        (uint64_t *)&s->isum_hi,         &s->vn,
        (uint64_t *)&s->mean_k,          (uint64_t *)&s->mean_q,
        (uint64_t *)&s->m2,
        &s->min.u,      &s->max.u,       &s->argmin,
        &s->argmax,     (uint64_t *)&s->l1_s,
        (uint64_t *)&s->l1_c,            &s->il1_lo,
        &s->il1_hi,     (uint64_t *)&s->l2_sml,
        (uint64_t *)&s->l2_med,          (uint64_t *)&s->l2_big,
        (uint64_t *)&s->dot_s,           (uint64_t *)&s->dot_c,
        &s->dot_nan_in, &s->dot_nan_gen, &s->dot_pinf,
        &s->dot_ninf};
    memcpy(f, list, sizeof list);
}

size_t eg_state_encoded_size(void)
{
    return EG_WIRE_HEADER + 8 * EG_WIRE_FIELDS + EG_EXACT_WIRE_BYTES;
}

size_t eg_state_compact_size(void)
{
    return EG_WIRE_HEADER + 8 * EG_WIRE_FIELDS;
}

/* Header and fields, the part both forms share. */
static void encode_head(const eg_state *s, uint8_t *buf)
{
    eg_state copy = *s;
    uint64_t *f[EG_WIRE_FIELDS];
    wire_fields(&copy, f);
    memcpy(buf, "EGST", 4);
    eg_put_le(buf + 4, EG_STATE_WIRE_VERSION, 2);
    buf[6] = (uint8_t)s->dtype;
    buf[7] = 0;
    eg_put_le(buf + 8, s->groups, 4);
    for (int i = 0; i < EG_WIRE_FIELDS; i++) {
        uint64_t w;
        memcpy(&w, f[i], sizeof w);
        eg_put_le(buf + EG_WIRE_HEADER + 8 * i, w, 8);
    }
}

size_t eg_state_encode(const eg_state *s, uint8_t *buf, size_t cap)
{
    if (cap < eg_state_encoded_size())
        return 0;
    encode_head(s, buf);
    eg_exact_encode(s, buf + EG_WIRE_HEADER + 8 * EG_WIRE_FIELDS);
    return eg_state_encoded_size();
}

size_t eg_state_encode_compact(const eg_state *s, uint8_t *buf, size_t cap)
{
    if (cap < eg_state_compact_size() || (s->groups & EG_G_EXACT))
        return 0;
    encode_head(s, buf);
    return eg_state_compact_size();
}

/* Invariants every honest state keeps. */
static const char *state_insane(const eg_state *s)
{
    if (s->nan_n > s->n || s->pinf_n > s->n || s->ninf_n > s->n ||
        s->nan_n + s->pinf_n + s->ninf_n > s->n)
        return "special-value counts exceed the element count";
    if (s->vn > s->n)
        return "finite count exceeds the element count";
    if ((s->groups & EG_G_NO_SUM) &&
        (s->sum_s != 0 || s->sum_c != 0 || signbit(s->sum_s) ||
         signbit(s->sum_c) || s->isum_lo || s->isum_hi))
        return "a sum in a state whose ops read none";
    if ((s->nan_n == 0) != (s->first_nan == EG_NONE_INDEX))
        return "NaN count and first NaN index disagree";
    if (s->m2 < 0 || isnan(s->m2))
        return "negative or NaN M2";
    if (s->n == 0 && (s->argmin != EG_NONE_INDEX || s->argmax != EG_NONE_INDEX))
        return "extreme index in an empty state";
    if (s->l2_sml < 0 || s->l2_med < 0 || s->l2_big < 0)
        return "negative sum of squares";
    return NULL;
}

/* Decodes either form; `compact` says which one the carrier announced. */
static eg_status decode_form(eg_state *s, const uint8_t *buf, size_t len,
                             int compact, eg_error *err)
{
    size_t want = compact ? eg_state_compact_size() : eg_state_encoded_size();
    if (len != want)
        return eg_error_set(err, EG_EINPUT, "state: %zu bytes, expected %zu",
                            len, want);
    if (memcmp(buf, "EGST", 4) != 0)
        return eg_error_set(err, EG_EINPUT, "state: bad magic");
    uint64_t version = eg_get_le(buf + 4, 2);
    if (version != EG_STATE_WIRE_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "state: version %u, this build reads %u",
                            (unsigned)version, EG_STATE_WIRE_VERSION);
    if (buf[6] >= EG_DTYPE_COUNT || buf[7] != 0)
        return eg_error_set(err, EG_EINPUT, "state: bad dtype byte %u",
                            buf[6]);
    uint64_t groups = eg_get_le(buf + 8, 4);
    if (groups & ~(uint64_t)(EG_G_ALL | EG_G_EXACT | EG_G_NO_SUM))
        return eg_error_set(err, EG_EINPUT, "state: unknown groups 0x%x",
                            (unsigned)groups);
    /* Without its block an exact state would merge as zero sums. */
    if (compact && (groups & EG_G_EXACT))
        return eg_error_set(err, EG_EINPUT,
                            "state: exact-mode state in the compact form, "
                            "which has no exact block");
    eg_state_init(s, (eg_dtype)buf[6], (unsigned)groups);
    uint64_t *f[EG_WIRE_FIELDS];
    wire_fields(s, f);
    for (int i = 0; i < EG_WIRE_FIELDS; i++) {
        uint64_t w = eg_get_le(buf + EG_WIRE_HEADER + 8 * i, 8);
        memcpy(f[i], &w, sizeof w);
    }
    /* The compact form leaves the zeroed block of eg_state_init. */
    if (!compact)
        eg_exact_decode(s, buf + EG_WIRE_HEADER + 8 * EG_WIRE_FIELDS);
    const char *why = state_insane(s);
    if (!why)
        why = eg_exact_insane(s);
    if (why)
        return eg_error_set(err, EG_EINPUT, "state: %s", why);
    return EG_OK;
}

eg_status eg_state_decode(eg_state *s, const uint8_t *buf, size_t len,
                          eg_error *err)
{
    return decode_form(s, buf, len, 0, err);
}

eg_status eg_state_decode_compact(eg_state *s, const uint8_t *buf, size_t len,
                                  eg_error *err)
{
    return decode_form(s, buf, len, 1, err);
}
