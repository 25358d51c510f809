/* exact_chunk.c - a chunk's exact lane records folded into one state, and
 * the careful path for the lanes a record gives up on (NaN, infinities,
 * spans too wide for the level grids): those go element by element straight
 * into the superaccumulators, products exactly (integer mantissa products,
 * so nothing overflows or underflows). */
#include <math.h>
#include <string.h>

#include "exact.h"
#include "lanes.h"

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static double load(const void *x, eg_dtype dtype, uint64_t i)
{
    return dtype == EG_F64 ? ((const double *)x)[i]
                           : (double)((const float *)x)[i];
}

/* Lanes come in index order, so a strict comparison keeps the first
 * occurrence, as numpy does. */
static void take_min(eg_state *s, double v, uint64_t idx)
{
    if (s->argmin == EG_NONE_INDEX || v < s->min.f) {
        s->min.f = v;
        s->argmin = idx;
    }
}

static void take_max(eg_state *s, double v, uint64_t idx)
{
    if (s->argmax == EG_NONE_INDEX || v > s->max.f) {
        s->max.f = v;
        s->argmax = idx;
    }
}

static void add_levels(uint64_t *acc, size_t nw, int lsb, const uint64_t *w)
{
    for (int j = 0; j < EG_EXACT_LEVELS; j++)
        if (w[j] << 1) /* +-0 adds nothing */
            eg_fixed_add_double(acc, nw, lsb, bitsd(w[j]));
}

static void fold_record(const uint64_t *w, uint64_t offset, unsigned g,
                        eg_state *s)
{
    s->n += w[EG_X_COUNT];
    s->vn += w[EG_X_COUNT];
    if (g & EG_G_MINMAX) {
        take_min(s, bitsd(w[EG_X_MIN]), offset + w[EG_X_ARGMIN]);
        take_max(s, bitsd(w[EG_X_MAX]), offset + w[EG_X_ARGMAX]);
    }
    eg_exact *x = &s->ex;
    add_levels(x->sum, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, w + EG_X_SUM);
    if (g & EG_G_L1)
        add_levels(x->l1, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, w + EG_X_L1);
    if (g & (EG_G_VAR | EG_G_L2)) {
        add_levels(x->sq, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                   w + EG_X_SQ);
        add_levels(x->sq, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                   w + EG_X_SQ_E);
    }
    if (g & EG_G_DOT) {
        add_levels(x->dot, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                   w + EG_X_DOT);
        add_levels(x->dot, EG_EXACT_PROD_WORDS, EG_EXACT_PROD_LSB,
                   w + EG_X_DOT_E);
    }
}

/* A pair of dot: NaN in, NaN made (inf * 0), an infinity, or an exact
 * product.  Finite products never overflow here: the exact sum decides. */
static void careful_dot(eg_state *s, double v, double yv)
{
    if (isnan(v) || isnan(yv)) {
        s->dot_nan_in++;
    } else if (isinf(v) || isinf(yv)) {
        if (v == 0 || yv == 0)
            s->dot_nan_gen++;
        else if ((v < 0) != (yv < 0))
            s->dot_ninf++;
        else
            s->dot_pinf++;
    } else {
        eg_fixed_add_product(s->ex.dot, EG_EXACT_PROD_WORDS,
                             EG_EXACT_PROD_LSB, v, yv);
    }
}

static void careful_lane(const void *x, const void *y, uint64_t m,
                         uint64_t base, eg_dtype dtype, unsigned g,
                         eg_state *s)
{
    eg_exact *ex = &s->ex;
    s->n += m;
    for (uint64_t i = 0; i < m; i++) {
        double v = load(x, dtype, i);
        if (g & EG_G_DOT)
            careful_dot(s, v, load(y, dtype, i));
        if (isnan(v)) {
            if (s->nan_n++ == 0)
                s->first_nan = base + i;
            continue;
        }
        if (g & EG_G_MINMAX) {
            take_min(s, v, base + i);
            take_max(s, v, base + i);
        }
        if (isinf(v)) {
            if (v > 0)
                s->pinf_n++;
            else
                s->ninf_n++;
            continue;
        }
        s->vn++;
        eg_fixed_add_double(ex->sum, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB, v);
        if (g & EG_G_L1)
            eg_fixed_add_double(ex->l1, EG_EXACT_SUM_WORDS, EG_EXACT_SUM_LSB,
                                fabs(v));
        if (g & (EG_G_VAR | EG_G_L2))
            eg_fixed_add_product(ex->sq, EG_EXACT_PROD_WORDS,
                                 EG_EXACT_PROD_LSB, v, v);
    }
}

void eg_exact_chunk_state(const uint64_t *words, const void *x, const void *y,
                          uint64_t n, uint64_t offset, eg_dtype dtype,
                          unsigned g, eg_state *out)
{
    eg_state_init(out, dtype, g);
    eg_exact_chunk_fold(words, x, y, n, offset, dtype, g, out);
}

void eg_exact_chunk_fold(const uint64_t *words, const void *x, const void *y,
                         uint64_t n, uint64_t offset, eg_dtype dtype,
                         unsigned g, eg_state *out)
{
    size_t sz = eg_dtype_size(dtype);
    for (uint64_t l = 0; l < eg_lane_count(n); l++) {
        const uint64_t *w = words + l * EG_EXACT_LANE_WORDS;
        uint64_t base = l * EG_LANE_ELEMS;
        uint64_t m = n - base < EG_LANE_ELEMS ? n - base : EG_LANE_ELEMS;
        if (w[EG_X_FLAGS] & EG_LANE_NEEDS_CAREFUL)
            careful_lane((const char *)x + base * sz,
                         y ? (const char *)y + base * sz : NULL, m,
                         offset + base, dtype, g, out);
        else
            fold_record(w, offset, g, out);
    }
}
