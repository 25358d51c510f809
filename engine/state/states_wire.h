/* states_wire.h - a container of partial states on the wire: the states of
 * one grid task, one per output element (a column, a group) and chunk, or
 * the single state of a flat task.
 *
 *     "EGSC"  u16 version  u16 reserved (0)  u32 count
 *     count x state (eg_state_encode, each eg_state_encoded_size() bytes)
 *
 * Every state in it is checked by eg_state_decode; a container of another
 * version, a count beyond the caller's bound or a size that does not add up
 * is refused with a line starting "states: ". */
#ifndef EG_STATES_WIRE_H
#define EG_STATES_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define EG_STATES_WIRE_VERSION 1
#define EG_STATES_HEADER 12

/* Bytes of a container of n states. */
size_t eg_states_encoded_size(uint32_t n);
/* Encodes n states; returns the size written, 0 when cap is too small. */
size_t eg_states_encode(const eg_state *s, uint32_t n, uint8_t *buf,
                        size_t cap);
/* Validates a whole container of at most `max` states (every state decoded
 * and checked); *n receives its count.  EG_EINPUT with the reason. */
eg_status eg_states_check(const uint8_t *buf, size_t len, uint32_t max,
                          uint32_t *n, eg_error *err);
/* State i of a container eg_states_check accepted. */
eg_status eg_states_get(const uint8_t *buf, size_t len, uint32_t i, eg_state *s,
                        eg_error *err);

#endif
