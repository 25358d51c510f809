/* states_wire.h - a container of partial states on the wire: the states of
 * one grid task, one per output element (a column, a group) and chunk, or
 * the single state of a flat task.
 *
 *     "EGSC"  u16 version  u16 flags  u32 count
 *     count x state
 *
 * Flags: EG_STATES_COMPACT (bit 0) says every state is in the compact form
 * (eg_state_encode_compact: no exact block); without it every state is the
 * full form (eg_state_encode).  The encoder picks compact when no state is
 * an exact-mode one, so a fast-mode job sends 252 bytes per state, not
 * 1868; a container of fast states only in the full form is refused, so
 * each content has one encoding.  Version 2 added the flags word (version
 * 1 had it reserved, 0).
 *
 * Every state in it is checked by eg_state_decode(_compact); a container
 * of another version, an unknown flag, a count beyond the caller's bound or
 * a size that does not add up is refused with a line starting "states: ". */
#ifndef EG_STATES_WIRE_H
#define EG_STATES_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define EG_STATES_WIRE_VERSION 2
#define EG_STATES_HEADER 12
#define EG_STATES_COMPACT 1u

/* Bytes of a container of n full-form states: the most n states take, for
 * sizing buffers and frame bounds. */
size_t eg_states_encoded_size(uint32_t n);
/* Bytes eg_states_encode writes for these n states (compact when none is
 * an exact-mode state). */
size_t eg_states_size_of(const eg_state *s, uint32_t n);
/* Encodes n states; returns the size written, 0 when cap is too small. */
size_t eg_states_encode(const eg_state *s, uint32_t n, uint8_t *buf,
                        size_t cap);
/* Validates a whole container of at most `max` states (every state decoded
 * and checked); *n receives its count.  EG_EINPUT with the reason. */
eg_status eg_states_check(const uint8_t *buf, size_t len, uint32_t max,
                          uint32_t *n, eg_error *err);
/* 1 when a container eg_states_check accepted is in the compact form. */
int eg_states_is_compact(const uint8_t *buf, size_t len);
/* State i of a container eg_states_check accepted. */
eg_status eg_states_get(const uint8_t *buf, size_t len, uint32_t i, eg_state *s,
                        eg_error *err);

#endif
