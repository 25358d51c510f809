/* bench_data.h - the in-memory arrays `edgegrid bench` measures: allocated
 * page-aligned and filled with the same pseudo-random values on every run. */
#ifndef EG_HOST_BENCH_DATA_H
#define EG_HOST_BENCH_DATA_H

#include "bench.h"

/* Allocates and fills `count` elements of `t` in d->x, and in d->y too when
 * `with_y` (dot's second operand, other values).  Returns 0, or -1 when the
 * memory is not there (d is then empty). */
int bench_data_alloc(bench_data *d, eg_dtype t, uint64_t count, int with_y);

/* Frees both arrays; harmless on an empty or freed bench_data. */
void bench_data_free(bench_data *d);

#endif
