/* hist.h - equal-width histograms with numpy.histogram's arithmetic.
 *
 * numpy (1.24) picks a bin dtype (float32 for float32 data whose range fits
 * float32, else float64), computes the edges with linspace in float64 and
 * casts them, then finds each value's bin by (x - first) * norm in the bin
 * dtype, truncates, and corrects by one against the edges (the last bin is
 * closed).  A plan holds those numbers; the state is integer counts, so
 * partial states merge by addition in any order. */
#ifndef EG_HIST_H
#define EG_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

typedef struct eg_hist_plan {
    eg_dtype dtype;
    unsigned nbins;
    int f32;              /* numpy's bin dtype is float32, else float64 */
    int int_bounds;       /* integer data, automatic range: the range
                             test compares integers, as numpy does */
    uint64_t klo, khi;    /* ... the keys of min and max (quant_key.h) */
    double first, last;   /* numpy's first_edge and last_edge */
    double sfirst;        /* first_edge in the bin dtype, subtracted */
    double cfirst, clast; /* the bounds as compared with the data */
    double norm;          /* nbins / (last - first), numpy's way */
    int norm_f32;         /* the product x * norm is float32 */
    double *edges;        /* nbins + 1 values of the bin dtype */
    float *edgesf;        /* the same as floats when f32, and one more
                             (a copy of the last) for vector reads */
} eg_hist_plan;

typedef struct eg_hist_state {
    unsigned nbins;
    uint64_t *counts; /* nbins */
    uint64_t below, above, nan;
} eg_hist_state;

/* A plan for `nbins` bins of data of dtype t over [lo, hi] given by the
 * user (have_range) or else over the data's min and max, passed as keys
 * (quant_key.h) with `empty` set when there is no value at all. */
eg_status eg_hist_plan_make(eg_hist_plan *p, eg_dtype t, unsigned nbins,
                            int have_range, double lo, double hi, uint64_t kmin,
                            uint64_t kmax, int empty, eg_error *err);
void eg_hist_plan_free(eg_hist_plan *p);

eg_status eg_hist_state_init(eg_hist_state *s, unsigned nbins, eg_error *err);
void eg_hist_state_free(eg_hist_state *s);

/* Counts n elements at data (native order) into s. */
void eg_hist_add(const eg_hist_plan *p, eg_hist_state *s, const void *data,
                 uint64_t n);

/* The AVX-512 spelling of float32 data in float32 bins (hist_avx512.c):
 * counts a multiple of 16 of the n elements, the same way, and returns how
 * many (0 without AVX-512 or when the plan is not of that kind). */
uint64_t eg_hist_add_f32_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const float *v, uint64_t n);
/* ... and of float64 data, 8 at a time. */
uint64_t eg_hist_add_f64_avx512(const eg_hist_plan *p, eg_hist_state *s,
                                const double *v, uint64_t n);

/* The portable vector spelling of the same (hist_portable.c), for CPUs
 * without AVX-512: a multiple of 8 of the n elements, 0 when the plan is
 * not of that kind. */
uint64_t eg_hist_add_f32_portable(const eg_hist_plan *p, eg_hist_state *s,
                             const float *v, uint64_t n);
/* ... and of float64 data, 4 at a time. */
uint64_t eg_hist_add_f64_portable(const eg_hist_plan *p, eg_hist_state *s,
                             const double *v, uint64_t n);
/* The scalar loops of float32 data in float32 bins and of float64 data
 * (hist.c): the reference the vector spellings are held to. */
void eg_hist_add_f32_scalar(const eg_hist_plan *p, eg_hist_state *s,
                            const float *v, uint64_t n);
void eg_hist_add_f64_scalar(const eg_hist_plan *p, eg_hist_state *s,
                            const double *v, uint64_t n);

/* How far (in bins) from a bin's end a value's computed position must lie
 * for the corrections against the edges to be sure not to fire: the
 * vector loops skip them for such values. */
double eg_hist_edge_margin(const eg_hist_plan *p);

/* The wire form (hist_wire.c): the plan's identity, then the counts.
 * Decoding checks it against the plan the receiver holds. */
size_t eg_hist_encoded_size(const eg_hist_plan *p);
void eg_hist_encode(const eg_hist_plan *p, const eg_hist_state *s,
                    uint8_t *out);
eg_status eg_hist_decode(const eg_hist_plan *p, eg_hist_state *s,
                         const uint8_t *in, size_t len, eg_error *err);

/* a += b; both of one plan. */
void eg_hist_merge(eg_hist_state *a, const eg_hist_state *b);

#endif
