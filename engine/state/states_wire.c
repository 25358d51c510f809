/* states_wire.c - the container of partial states (states_wire.h). */
#include "states_wire.h"

#include <string.h>

#include "error.h"
#include "wire_le.h"

/* A fast-mode job's states have all-zero exact blocks: leaving them out is
 * what makes a structured RESULT small (252 of 1868 bytes per state). */
static int all_fast(const eg_state *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i].groups & EG_G_EXACT)
            return 0;
    return 1;
}

static size_t one_size(int compact)
{
    return compact ? eg_state_compact_size() : eg_state_encoded_size();
}

size_t eg_states_encoded_size(uint32_t n)
{
    return EG_STATES_HEADER + (size_t)n * eg_state_encoded_size();
}

size_t eg_states_size_of(const eg_state *s, uint32_t n)
{
    return EG_STATES_HEADER + (size_t)n * one_size(all_fast(s, n));
}

size_t eg_states_encode(const eg_state *s, uint32_t n, uint8_t *buf, size_t cap)
{
    int compact = all_fast(s, n);
    size_t len = eg_states_size_of(s, n), one = one_size(compact);
    if (cap < len)
        return 0;
    memcpy(buf, "EGSC", 4);
    eg_put_le(buf + 4, EG_STATES_WIRE_VERSION, 2);
    eg_put_le(buf + 6, compact ? EG_STATES_COMPACT : 0, 2);
    eg_put_le(buf + 8, n, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = buf + EG_STATES_HEADER + i * one;
        size_t w = compact ? eg_state_encode_compact(&s[i], p, one)
                           : eg_state_encode(&s[i], p, one);
        if (w != one)
            return 0;
    }
    return len;
}

int eg_states_is_compact(const uint8_t *buf, size_t len)
{
    return len >= EG_STATES_HEADER &&
           (eg_get_le(buf + 6, 2) & EG_STATES_COMPACT) != 0;
}

static eg_status get_one(const uint8_t *buf, size_t len, uint64_t i,
                         eg_state *s, eg_error *err)
{
    int compact = eg_states_is_compact(buf, len);
    size_t one = one_size(compact);
    const uint8_t *p = buf + EG_STATES_HEADER + i * one;
    return compact ? eg_state_decode_compact(s, p, one, err)
                   : eg_state_decode(s, p, one, err);
}

eg_status eg_states_check(const uint8_t *buf, size_t len, uint32_t max,
                          uint32_t *n, eg_error *err)
{
    *n = 0;
    if (len < EG_STATES_HEADER)
        return eg_error_set(err, EG_EINPUT,
                            "states: %zu bytes, shorter than a header", len);
    if (memcmp(buf, "EGSC", 4) != 0)
        return eg_error_set(err, EG_EINPUT, "states: bad magic");
    unsigned version = (unsigned)eg_get_le(buf + 4, 2);
    if (version != EG_STATES_WIRE_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "states: container version %u, this build "
                            "speaks %u",
                            version, EG_STATES_WIRE_VERSION);
    uint64_t flags = eg_get_le(buf + 6, 2);
    if (flags & ~(uint64_t)EG_STATES_COMPACT)
        return eg_error_set(err, EG_EINPUT, "states: unknown flags 0x%x",
                            (unsigned)flags);
    uint64_t count = eg_get_le(buf + 8, 4);
    if (count == 0 || count > max)
        return eg_error_set(err, EG_EINPUT,
                            "states: %llu states, outside 1..%u",
                            (unsigned long long)count, max);
    /* Checked against the length before any state is read: the count is
     * the sender's word, and so is the form. */
    size_t one = one_size(flags & EG_STATES_COMPACT);
    if ((len - EG_STATES_HEADER) / one != count ||
        (len - EG_STATES_HEADER) % one != 0)
        return eg_error_set(err, EG_EINPUT,
                            "states: %zu bytes do not hold %llu %s states",
                            len, (unsigned long long)count,
                            (flags & EG_STATES_COMPACT) ? "compact" : "full");
    int any_exact = 0;
    for (uint64_t i = 0; i < count; i++) {
        eg_state s;
        eg_error why;
        if (get_one(buf, len, i, &s, &why) != EG_OK)
            return eg_error_set(err, EG_EINPUT, "states: #%llu: %s",
                                (unsigned long long)i, why.msg);
        any_exact |= (s.groups & EG_G_EXACT) != 0;
    }
    /* One form per content, as eg_states_encode picks it: a container of
     * fast states only is compact, so decode and encode agree byte for
     * byte. */
    if (!(flags & EG_STATES_COMPACT) && !any_exact)
        return eg_error_set(err, EG_EINPUT,
                            "states: fast-mode states in the full form, "
                            "which this build sends compact");
    *n = (uint32_t)count;
    return EG_OK;
}

eg_status eg_states_get(const uint8_t *buf, size_t len, uint32_t i, eg_state *s,
                        eg_error *err)
{
    size_t one = one_size(eg_states_is_compact(buf, len));
    if (len < EG_STATES_HEADER || (uint64_t)i >= (len - EG_STATES_HEADER) / one)
        return eg_error_set(err, EG_EINPUT, "states: no state #%u", i);
    return get_one(buf, len, i, s, err);
}
