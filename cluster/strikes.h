/* strikes.h - ROUTER peers that keep sending frames that fail validation.
 *
 * An honest worker never sends a malformed frame, so one that sends
 * EG_STRIKES_BAN of them is not one: its routing id is banned, the
 * coordinator drops it from the peer table (its leases go back) and from
 * then on throws its messages away before decoding them and without
 * answering.  (A ROUTER cannot close one connection itself; the ban makes
 * the connection worthless instead.  A peer that reconnects gets a new
 * routing id and starts from zero, but with CURVE it must hold an allowed
 * key to get that far.)
 *
 * The table is bounded: past EG_STRIKES_SLOTS peers the oldest entry is
 * forgotten, so a flood of fresh routing ids costs a fixed amount of
 * memory. */
#ifndef EG_STRIKES_H
#define EG_STRIKES_H

#include <stddef.h>
#include <stdint.h>

#define EG_STRIKES_BAN 16
#define EG_STRIKES_SLOTS 256

typedef struct eg_strike {
    uint8_t id[256];
    uint16_t id_len;
    uint16_t count;
} eg_strike;

typedef struct eg_strikes {
    eg_strike *v;   /* EG_STRIKES_SLOTS entries once the first strike
                       comes; NULL before (the common case) */
    size_t n, next; /* entries used; the one to reuse when full */
    size_t banned;  /* entries at the ban count */
} eg_strikes;

void eg_strikes_free(eg_strikes *s);
/* Whether this routing id is banned; cheap while nobody is. */
int eg_strikes_banned(const eg_strikes *s, const void *id, size_t len);
/* Counts one bad frame from this routing id; 1 when it is the one that
 * bans it (act on it once), else 0 (also when out of memory). */
int eg_strikes_add(eg_strikes *s, const void *id, size_t len);

#endif
