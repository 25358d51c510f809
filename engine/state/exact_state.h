/* exact_state.h - the exact part of the state algebra (exact mode, floats):
 * finishing results from the superaccumulators, and the exact block of the
 * wire form.  state.c and state_wire.c call these; nothing else needs to. */
#ifndef EG_EXACT_STATE_H
#define EG_EXACT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Overwrites out->value[] of sum, mean, var, std, l1, l2 and dot (those in
 * `ops`) with the exact-mode results of s: sum, mean, l1 and dot correctly
 * rounded to nearest even, var correctly rounded, std and l2 within one ulp;
 * NaN and infinities as in fast mode. */
void eg_exact_finish(const eg_state *s, unsigned ops, eg_nan_policy nan,
                     unsigned ddof, eg_result *out);

/* Bytes of the exact block that ends every encoded state. */
#define EG_EXACT_WIRE_BYTES                                                  \
    (8 * (2 * EG_EXACT_SUM_WORDS + 2 * EG_EXACT_PROD_WORDS))

/* Writes the block (all zero unless s is an exact state). */
void eg_exact_encode(const eg_state *s, uint8_t *buf);
/* Reads the block into s->ex; s's other fields are already decoded. */
void eg_exact_decode(eg_state *s, const uint8_t *buf);
/* NULL if the exact block is one an honest state can have, else why not. */
const char *eg_exact_insane(const eg_state *s);

#endif
