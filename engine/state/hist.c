/* hist.c - numpy.histogram's bins, value by value (hist.h).  Each step
 * follows numpy 1.24's histogram/_get_outer_edges/linspace with the dtype
 * numpy computes it in; float32 steps are done in double and rounded once,
 * which is the float32 result for +, - and * (double holds twice float32's
 * precision plus two bits). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hist.h"
#include "quant_key.h"

static double to_f32(double v)
{
    return (double)(float)v;
}

/* numpy's value-based casting keeps a float scalar in float32 when it is in
 * float32's range. */
static int fits_f32(double v)
{
    return fabs(v) <= FLT_MAX;
}

/* linspace(first, last, nbins + 1) in float64, cast to the bin dtype. */
static void make_edges(eg_hist_plan *p)
{
    unsigned n = p->nbins;
    double delta = p->last - p->first;
    double step = delta / (double)n;
    for (unsigned i = 0; i <= n; i++) {
        double y = step == 0 ? (double)i / (double)n * delta : (double)i * step;
        y += p->first;
        p->edges[i] = p->f32 ? to_f32(y) : y;
    }
    p->edges[n] = p->f32 ? to_f32(p->last) : p->last;
}

eg_status eg_hist_plan_make(eg_hist_plan *p, eg_dtype t, unsigned nbins,
                            int have_range, double lo, double hi, uint64_t kmin,
                            uint64_t kmax, int empty, eg_error *err)
{
    int isf = eg_dtype_is_float(t);

    memset(p, 0, sizeof *p);
    p->dtype = t;
    p->nbins = nbins;
    if (nbins == 0 || nbins > EG_HIST_MAX_BINS)
        return eg_error_set(err, EG_EUSAGE, "--bins: %u is not in 1..%u", nbins,
                            EG_HIST_MAX_BINS);
    /* differences numpy computes in the data's own dtype */
    double span_own = 0;
    if (have_range) {
        p->first = lo;
        p->last = hi;
        p->f32 = t == EG_F32 && fits_f32(lo) && fits_f32(hi);
        span_own = hi - lo;
    } else if (empty) {
        /* numpy: "can't determine range, so use 0-1" */
        p->first = 0;
        p->last = 1;
        p->f32 = t == EG_F32;
        span_own = 1;
    } else {
        eg_number a = eg_key_value(kmin, t), b = eg_key_value(kmax, t);
        p->f32 = t == EG_F32;
        if (isf) {
            p->first = a.v.f;
            p->last = b.v.f;
            span_own = p->f32 ? to_f32(p->last - p->first) : p->last - p->first;
        } else {
            p->first = a.kind == EG_NUM_I64 ? (double)a.v.i : (double)a.v.u;
            p->last = b.kind == EG_NUM_I64 ? (double)b.v.i : (double)b.v.u;
            /* _unsigned_subtract: exact in the unsigned type, then a
             * float64 */
            span_own = (double)(kmax - kmin);
            p->int_bounds = 1;
            p->klo = kmin;
            p->khi = kmax;
        }
        if (kmin == kmax || p->first == p->last) {
            /* numpy widens an empty range by 0.5 each way, in float64 */
            /* (-0.0 and +0.0 have two keys but one value) */
            p->first -= 0.5;
            p->last += 0.5;
            span_own = p->last - p->first;
            p->int_bounds = 0;
        }
        if (isf && !(isfinite(p->first) && isfinite(p->last)))
            return eg_error_set(err, EG_EINPUT,
                                "hist: the automatic range [%g, %g] is not "
                                "finite (numpy refuses it too); give --range",
                                p->first, p->last);
    }
    p->norm = (double)nbins / span_own;
    if (!have_range && !(span_own > 0 && isfinite(p->norm)))
        return eg_error_set(err, EG_EINPUT,
                            "hist: the automatic range [%.17g, %.17g] is "
                            "empty in float64 (numpy divides by zero on "
                            "it); give --range",
                            p->first, p->last);
    p->norm_f32 = p->f32 && fits_f32(p->norm);
    p->sfirst = p->f32 ? to_f32(p->first) : p->first;
    p->cfirst = p->sfirst;
    p->clast = p->f32 ? to_f32(p->last) : p->last;
    /* float32 data against a float64-only bound compares in float64 */
    if (t == EG_F32 && !p->f32) {
        p->cfirst = fits_f32(p->first) ? to_f32(p->first) : p->first;
        p->clast = fits_f32(p->last) ? to_f32(p->last) : p->last;
    }
    p->edges = malloc(((size_t)nbins + 1) * sizeof *p->edges);
    if (!p->edges)
        return eg_error_set(err, EG_ENOMEM, "hist: out of memory for %u bins",
                            nbins);
    make_edges(p);
    if (p->f32) {
        p->edgesf = malloc(((size_t)nbins + 2) * sizeof *p->edgesf);
        if (!p->edgesf)
            return eg_error_set(err, EG_ENOMEM,
                                "hist: out of memory for %u bins", nbins);
        for (unsigned i = 0; i <= nbins; i++)
            p->edgesf[i] = (float)p->edges[i];
        p->edgesf[nbins + 1] = p->edgesf[nbins];
    }
    return EG_OK;
}

void eg_hist_plan_free(eg_hist_plan *p)
{
    free(p->edges);
    free(p->edgesf);
    p->edges = NULL;
    p->edgesf = NULL;
}

eg_status eg_hist_state_init(eg_hist_state *s, unsigned nbins, eg_error *err)
{
    memset(s, 0, sizeof *s);
    s->counts = calloc(nbins ? nbins : 1, sizeof *s->counts);
    if (!s->counts)
        return eg_error_set(err, EG_ENOMEM, "hist: out of memory for %u bins",
                            nbins);
    s->nbins = nbins;
    return EG_OK;
}

void eg_hist_state_free(eg_hist_state *s)
{
    free(s->counts);
    s->counts = NULL;
    s->nbins = 0;
}

/* The bin of a kept value xb (already in the bin dtype): numpy's
 * f_indices, the cast to intp, and its two corrections. */
static inline long bin_index(const eg_hist_plan *p, double xb)
{
    long n = (long)p->nbins;
    double sub = xb - p->sfirst;
    double f;
    if (p->f32) {
        sub = to_f32(sub);
        f = p->norm_f32 ? to_f32(sub * to_f32(p->norm)) : sub * p->norm;
    } else {
        f = sub * p->norm;
    }
    long i = f >= (double)n ? n : (f > 0 ? (long)f : 0);
    if (i == n)
        i = n - 1;
    if (xb < p->edges[i] && i > 0)
        i--;
    if (i != n - 1 && xb >= p->edges[i + 1])
        i++;
    return i;
}

/* One float value (float32 widened exactly, or float64). */
static inline void add_float(const eg_hist_plan *p, eg_hist_state *s, double x)
{
    if (x != x) {
        s->nan++;
        return;
    }
    if (!(x >= p->cfirst)) {
        s->below++;
        return;
    }
    if (!(x <= p->clast)) {
        s->above++;
        return;
    }
    /* float32 data in a float64 bin dtype is widened exactly */
    s->counts[bin_index(p, x)]++;
}

/* One integer value: its key for numpy's integer range test, its float64
 * for the bins (numpy casts int64 to float64, rounding as C does). */
static inline void add_int(const eg_hist_plan *p, eg_hist_state *s,
                           uint64_t key, double xd)
{
    if (p->int_bounds) {
        if (key < p->klo) {
            s->below++;
            return;
        }
        if (key > p->khi) {
            s->above++;
            return;
        }
    } else {
        if (!(xd >= p->cfirst)) {
            s->below++;
            return;
        }
        if (!(xd <= p->clast)) {
            s->above++;
            return;
        }
    }
    s->counts[bin_index(p, xd)]++;
}

#define HIST_INT_LOOP(ctype)                                                   \
    do {                                                                       \
        const ctype *v = data;                                                 \
        for (uint64_t i = 0; i < n; i++) {                                     \
            int nan;                                                           \
            add_int(p, s, eg_key_of(data, i, p->dtype, &nan), (double)v[i]);   \
        }                                                                      \
    } while (0)

/* float32 data in float32 bins, the common case, in float arithmetic
 * (each operation rounds once, as numpy's float32 ufuncs do). */
void eg_hist_add_f32_scalar(const eg_hist_plan *p, eg_hist_state *s,
                            const float *v, uint64_t n)
{
    const float cf = (float)p->cfirst, cl = (float)p->clast;
    const float sf = (float)p->sfirst, nf = (float)p->norm;
    const long nb = (long)p->nbins;
    const double *edges = p->edges;
    uint64_t *counts = s->counts, below = 0, above = 0, nan = 0;
    for (uint64_t i = 0; i < n; i++) {
        float x = v[i];
        if (!(x >= cf)) {
            if (x != x)
                nan++;
            else
                below++;
            continue;
        }
        if (!(x <= cl)) {
            above++;
            continue;
        }
        float sub = x - sf;
        float f = sub * nf;
        long j = f >= (float)nb ? nb : (f > 0 ? (long)f : 0);
        j -= j == nb;
        j -= (j > 0) & ((double)x < edges[j]);
        j += (j != nb - 1) && ((double)x >= edges[j + 1]);
        counts[j]++;
    }
    s->below += below;
    s->above += above;
    s->nan += nan;
}

void eg_hist_add_f64_scalar(const eg_hist_plan *p, eg_hist_state *s,
                            const double *v, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        add_float(p, s, v[i]);
}

void eg_hist_add(const eg_hist_plan *p, eg_hist_state *s, const void *data,
                 uint64_t n)
{
    switch (p->dtype) {
    case EG_F32: {
        const float *v = data;
        if (p->f32 && p->norm_f32) {
            uint64_t done = eg_hist_add_f32_avx512(p, s, v, n);
            if (done == 0)
                done = eg_hist_add_f32_portable(p, s, v, n);
            eg_hist_add_f32_scalar(p, s, v + done, n - done);
            break;
        }
        for (uint64_t i = 0; i < n; i++)
            add_float(p, s, (double)v[i]);
        break;
    }
    case EG_F64: {
        const double *v = data;
        uint64_t done = eg_hist_add_f64_avx512(p, s, v, n);
        if (done == 0)
            done = eg_hist_add_f64_portable(p, s, v, n);
        eg_hist_add_f64_scalar(p, s, v + done, n - done);
        break;
    }
    case EG_I8:
        HIST_INT_LOOP(int8_t);
        break;
    case EG_U8:
        HIST_INT_LOOP(uint8_t);
        break;
    case EG_I16:
        HIST_INT_LOOP(int16_t);
        break;
    case EG_U16:
        HIST_INT_LOOP(uint16_t);
        break;
    case EG_I32:
        HIST_INT_LOOP(int32_t);
        break;
    case EG_U32:
        HIST_INT_LOOP(uint32_t);
        break;
    case EG_I64:
        HIST_INT_LOOP(int64_t);
        break;
    case EG_U64:
        HIST_INT_LOOP(uint64_t);
        break;
    default:
        break;
    }
}

double eg_hist_edge_margin(const eg_hist_plan *p)
{
    /* The corrections against the edges can only fire for a value whose
     * computed position f lies within this many bins of a bin's end.  In
     * units u of the bin dtype's rounding (2^-24 for float32, 2^-53 for
     * float64) and in bins: f = fl(fl(x - sfirst) * norm) errs from the
     * exact (x - first) * n / (last - first) by at most |first| * norm
     * (sfirst rounded) + 3 |f| (the difference, norm and the product
     * rounded, |f| <= nbins); an edge lies within max(|first|, |last|) *
     * norm of its exact place as a float32, 2 (|first| + |last|) * norm as
     * a float64 (linspace's product and sum).  So u (3 nbins + 3 (|first|
     * + |last|) * norm) bounds both, and the margin takes 4 u (nbins +
     * (|first| + |last| + |sfirst|) * norm): a position further inside its
     * bin than that has x between the bin's edges.  (The earlier 16 u cost
     * 15 % more time at 4096 bins over [-5, 5] in quant_probe: a margin of
     * 0.01 bins a side sends about a quarter of the 16-value blocks to the
     * corrections.) */
    double a = (double)p->nbins + (fabs(p->first) + fabs(p->last) +
                                   fabs(p->sfirst)) *
                                      p->norm;
    return (p->f32 ? 0x1p-22 : 0x1p-51) * a;
}

void eg_hist_merge(eg_hist_state *a, const eg_hist_state *b)
{
    for (unsigned i = 0; i < a->nbins && i < b->nbins; i++)
        a->counts[i] += b->counts[i];
    a->below += b->below;
    a->above += b->above;
    a->nan += b->nan;
}
