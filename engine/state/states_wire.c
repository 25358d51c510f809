/* states_wire.c - the container of partial states (states_wire.h). */
#include "states_wire.h"

#include <string.h>

#include "error.h"

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t eg_states_encoded_size(uint32_t n)
{
    return EG_STATES_HEADER + (size_t)n * eg_state_encoded_size();
}

size_t eg_states_encode(const eg_state *s, uint32_t n, uint8_t *buf, size_t cap)
{
    size_t len = eg_states_encoded_size(n), one = eg_state_encoded_size();
    if (cap < len)
        return 0;
    memcpy(buf, "EGSC", 4);
    put_le(buf + 4, EG_STATES_WIRE_VERSION, 2);
    put_le(buf + 6, 0, 2);
    put_le(buf + 8, n, 4);
    for (uint32_t i = 0; i < n; i++)
        if (eg_state_encode(&s[i], buf + EG_STATES_HEADER + i * one, one) !=
            one)
            return 0;
    return len;
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
    unsigned version = (unsigned)get_le(buf + 4, 2);
    if (version != EG_STATES_WIRE_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "states: container version %u, this build "
                            "reads %u",
                            version, EG_STATES_WIRE_VERSION);
    if (get_le(buf + 6, 2) != 0)
        return eg_error_set(err, EG_EINPUT, "states: reserved bytes set");
    uint64_t count = get_le(buf + 8, 4);
    if (count == 0 || count > max)
        return eg_error_set(err, EG_EINPUT,
                            "states: %llu states, outside 1..%u",
                            (unsigned long long)count, max);
    /* Checked against the length before any state is read: the count is
     * the sender's word. */
    size_t one = eg_state_encoded_size();
    if ((len - EG_STATES_HEADER) / one != count ||
        (len - EG_STATES_HEADER) % one != 0)
        return eg_error_set(err, EG_EINPUT,
                            "states: %zu bytes do not hold %llu states", len,
                            (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++) {
        eg_state s;
        eg_error why;
        if (eg_state_decode(&s, buf + EG_STATES_HEADER + i * one, one, &why) !=
            EG_OK)
            return eg_error_set(err, EG_EINPUT, "states: #%llu: %s",
                                (unsigned long long)i, why.msg);
    }
    *n = (uint32_t)count;
    return EG_OK;
}

eg_status eg_states_get(const uint8_t *buf, size_t len, uint32_t i, eg_state *s,
                        eg_error *err)
{
    size_t one = eg_state_encoded_size();
    if (len < EG_STATES_HEADER || (uint64_t)i >= (len - EG_STATES_HEADER) / one)
        return eg_error_set(err, EG_EINPUT, "states: no state #%u", i);
    return eg_state_decode(s, buf + EG_STATES_HEADER + (size_t)i * one, one,
                           err);
}
