/* quant_range.h - hist's automatic range (numpy's: the data's min and max)
 * from a min/max state, whoever reduced it: the one-box run (quant.c) or
 * the grid's first round of min/max tasks (quant_grid.c). */
#ifndef EG_QUANT_RANGE_H
#define EG_QUANT_RANGE_H

#include <stdint.h>

#include "state.h"

/* The keys (quant_key.h) of s's min and max, s reduced with NaN omitted;
 * *empty when it holds no value but NaN.  EG_EINPUT naming `name` when
 * it held NaN and `nan` is propagate (numpy refuses that range too). */
eg_status eg_quant_range_keys(const eg_state *s, eg_dtype t, eg_nan_policy nan,
                              const char *name, uint64_t *kmin,
                              uint64_t *kmax, int *empty, eg_error *err);

#endif
