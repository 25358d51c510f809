/* quant_numpy.h - numpy 1.24's arithmetic around order statistics: which
 * ranks quantile(x, q, method) and median(x) read, and how they combine
 * them (function_base.py: _quantile, _lerp, _get_indexes, _median), in the
 * dtypes numpy computes them in. */
#ifndef EG_QUANT_NUMPY_H
#define EG_QUANT_NUMPY_H

#include <stdint.h>

#include "edgegrid.h"

/* The two ranks (0-based, of n >= 1 sorted values) that quantile q reads;
 * equal when one is enough. */
void eg_np_quantile_ranks(uint64_t n, double q, eg_qmethod m, uint64_t *lo,
                          uint64_t *hi);

/* The quantile from the values at those ranks (a, b as eg_key_value gives
 * them for dtype t). */
eg_number eg_np_quantile_value(uint64_t n, double q, eg_qmethod m, eg_dtype t,
                               eg_number a, eg_number b);

/* median: the ranks, and the mean numpy takes of their values. */
void eg_np_median_ranks(uint64_t n, uint64_t *lo, uint64_t *hi);
eg_number eg_np_median_value(uint64_t n, eg_dtype t, eg_number a, eg_number b);

/* numpy's method=lower rank, the one approx_quantile answers for. */
uint64_t eg_np_lower_rank(uint64_t n, double q);

#endif
