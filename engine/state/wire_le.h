/* wire_le.h - the little-endian words of every wire form (states,
 * partials, sketches, histograms, selection counts, grid frames): written
 * byte by byte, so the bytes are the same on any host and a decoder never
 * makes an unaligned load. */
#ifndef EG_WIRE_LE_H
#define EG_WIRE_LE_H

#include <stdint.h>

static inline void eg_put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t eg_get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void eg_put_le64(uint8_t *p, uint64_t v)
{
    eg_put_le(p, v, 8);
}

static inline uint64_t eg_get_le64(const uint8_t *p)
{
    return eg_get_le(p, 8);
}

#endif
