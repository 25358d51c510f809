/* sketch.h - the log-bucket quantile sketch: integer counts per bucket of
 * relative width, so sketches merge by addition, in any order, to the same
 * bytes.
 *
 * A bucket is the top 11 + k bits of |x| as a normalised double: its
 * exponent and the first k bits of its mantissa (subnormals are normalised
 * first, so they get buckets of the same relative width).  No libm log:
 * every device maps every value to the same bucket.  A bucket [L, U) is
 * answered by r = 2LU / (L + U), within (U - L) / (U + L) <= 1 / (2^(k+1)
 * + 1) of any value in it; k is the least that makes that <= rel_err.
 * Zeros, +-inf and NaN are counted apart; negatives have their own buckets.
 *
 * Size: buckets span only the occupied range, so a state holds at most
 * (log2(max|x| / min|x|) + 1) * 2^k counts per sign, 2^k < 1 / rel_err:
 * for rel_err = 0.01 (k = 6) and data over 10^-3..10^6, about 2,000
 * counts (16 KiB); it never grows with the element count. */
#ifndef EG_SKETCH_H
#define EG_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

#define EG_SKETCH_MAX_K 20u

typedef struct eg_sketch_side {
    uint64_t lo; /* bucket index of c[0] */
    uint64_t len, cap;
    uint64_t *c;
} eg_sketch_side;

typedef struct eg_sketch {
    unsigned k; /* mantissa bits per bucket */
    uint64_t nan, zero, pinf, ninf;
    eg_sketch_side pos, neg; /* buckets of x > 0 and of -x for x < 0 */
    int oom;                 /* a bucket could not be stored */
} eg_sketch;

/* k for a relative error in (0, 0.5); EG_EUSAGE outside or below
 * EG_SKETCH_MIN_REL_ERR. */
eg_status eg_sketch_k_for(double rel_err, unsigned *k, eg_error *err);

void eg_sketch_init(eg_sketch *s, unsigned k);
void eg_sketch_free(eg_sketch *s);

/* Counts n elements of dtype t at data; EG_ENOMEM if a bucket array could
 * not grow. */
eg_status eg_sketch_add(eg_sketch *s, const void *data, uint64_t n, eg_dtype t,
                        eg_error *err);

/* One value (as a double), by the scalar code; sets s->oom when a bucket
 * array could not grow. */
void eg_sketch_add_one(eg_sketch *s, double x);

/* The AVX-512 spelling for float data (sketch_avx512.c): counts the
 * largest multiple of 8 of the n elements, the same way, and returns it (0
 * without AVX-512 or for integer dtypes). */
uint64_t eg_sketch_add_avx512(eg_sketch *s, const void *data, uint64_t n,
                              eg_dtype t);
/* The same in portable vectors (sketch_portable.c), for CPUs without
 * AVX-512: a multiple of 4, 0 for integer dtypes. */
uint64_t eg_sketch_add_portable(eg_sketch *s, const void *data, uint64_t n,
                                eg_dtype t);

/* What a device counted over one chunk (cl_count.c): the buckets
 * pos_lo .. pos_lo + pos_len - 1 and neg_lo .. neg_lo + neg_len - 1 (each
 * with its first and last bucket occupied, as the host's windows are) and
 * the values counted apart. */
typedef struct eg_sketch_window {
    uint64_t pos_lo, pos_len, neg_lo, neg_len;
    uint64_t nan, zero, pinf, ninf;
} eg_sketch_window;

/* s += the window's counts (pos[0, pos_len), neg[0, neg_len)); all or
 * nothing: EG_ENOMEM leaves s's counts untouched. */
eg_status eg_sketch_add_window(eg_sketch *s, const eg_sketch_window *w,
                               const uint32_t *pos, const uint32_t *neg,
                               eg_error *err);

/* a += b (same k). */
eg_status eg_sketch_merge(eg_sketch *a, const eg_sketch *b, eg_error *err);

/* Values counted, NaN apart. */
uint64_t eg_sketch_count(const eg_sketch *s);

/* The value answering 0-based rank r among the non-NaN values (r <
 * eg_sketch_count). */
double eg_sketch_at(const eg_sketch *s, uint64_t r);

/* The wire form (sketch_wire.c), canonical: equal sketches give equal
 * bytes.  "EGSK" u16 version u16 k, u64 nan zero pinf ninf, per side (pos
 * then neg) u64 lo u64 len, then the pos counts and the neg counts, all
 * little-endian. */
size_t eg_sketch_encoded_size(const eg_sketch *s);
void eg_sketch_encode(const eg_sketch *s, uint8_t *out);
eg_status eg_sketch_decode(eg_sketch *s, const uint8_t *in, size_t len,
                           eg_error *err);

#endif
