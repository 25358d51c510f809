/* partial.h - the public partial (edgegrid.h, "partials") at the level of
 * states: its header fields and its encoding, for the engine's producer of
 * partials (core/partial.c) and the fuzz harness. */
#ifndef EG_PARTIAL_H
#define EG_PARTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "state.h"

/* What finalize needs beside the state (ops, NaN policy, ddof) and what a
 * merge must agree on (mode: integer states carry no exact group). */
typedef struct eg_partial_head {
    eg_mode mode;
    eg_nan_policy nan;
    unsigned ops;
    unsigned ddof;
} eg_partial_head;

/* Writes head and s as a partial to buf (cap >= eg_partial_size()). */
eg_status eg_partial_encode(const eg_partial_head *h, const eg_state *s,
                            uint8_t *buf, size_t cap, eg_error *err);

#endif
