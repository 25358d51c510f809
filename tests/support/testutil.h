/* testutil.h - shared test helpers: a seeded generator for data of every
 * dtype, and references computed independently of the engine (an exact
 * fixed-point accumulator and long double). */
#ifndef EG_TESTUTIL_H
#define EG_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* Makes a fresh directory "$TMPDIR/eg_<tag>_XXXXXX" (/tmp when TMPDIR is
 * unset or long) in dir; 0, or -1 with errno set. */
int tu_tempdir(char *dir, size_t cap, const char *tag);
/* Removes dir and its entries: files (made writable first, as a test may
 * have locked them) and empty subdirectories. */
void tu_tempdir_remove(const char *dir);

/* splitmix64 step. */
uint64_t tu_next(uint64_t *state);
/* Uniform double in [0, 1). */
double tu_unit(uint64_t *state);

/* Fills n elements of dtype: floats uniform in [lo, hi), integers over their
 * whole range. */
void tu_fill(void *buf, eg_dtype t, size_t n, uint64_t seed, double lo,
             double hi);
/* Element i of an array as long double (exact for every dtype but u64/i64
 * beyond 2^64 bits of precision, which long double holds). */
long double tu_get(const void *buf, eg_dtype t, size_t i);

/* Exact sum of n values (each a double) by a 2240-bit fixed-point
 * accumulator, returned rounded to long double. */
typedef struct tu_exact {
    uint64_t w[35];
} tu_exact;
void tu_exact_init(tu_exact *a);
void tu_exact_add(tu_exact *a, double v);  /* v finite */
long double tu_exact_value(const tu_exact *a);

/* References over finite data. */
typedef struct tu_ref {
    long double sum, abs_sum, mean, var_m2, l2sq, dot;
    long double min, max;
    size_t argmin, argmax;
} tu_ref;
void tu_reference(const void *x, const void *y, eg_dtype t, size_t n,
                  tu_ref *r);

#endif
