/* lanes_host.c - the canonical lane on the host: the reference every kernel
 * matches bit for bit (fast path), the careful path for special values, and
 * the fold of a chunk's lanes into one state.  See lanes.h for the order. */
#include "lanes.h"

#include <math.h>
#include <string.h>

#include "lane_slots.h"
#include "twosum.h"


/* -------------------------------------------------------------- decoding */

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

int eg_lane_decode(const uint64_t *w, eg_dtype dtype, unsigned g,
                   eg_lane *out)
{
    memset(out, 0, sizeof *out);
    out->n = w[EG_W_COUNT];
    out->vn = out->n;
    out->first_nan = EG_NONE_INDEX;
    out->k = bitsd(w[EG_W_K]);
    out->d1 = bitsd(w[EG_W_D1]);
    out->d2 = bitsd(w[EG_W_D2]);
    out->l2_med = bitsd(w[EG_W_SSQ]);
    out->dot_s = bitsd(w[EG_W_DOT_S]);
    out->dot_c = bitsd(w[EG_W_DOT_C]);
    out->argmin = w[EG_W_ARGMIN];
    out->argmax = w[EG_W_ARGMAX];
    out->min.u = w[EG_W_MIN];
    out->max.u = w[EG_W_MAX];
    out->flags = w[EG_W_FLAGS];
    if (!(g & EG_G_MINMAX))
        out->argmin = out->argmax = EG_NONE_INDEX;
    /* Without the sum its words are not kept: the host leaves them zero, a
     * kernel may fill them, and then they are still checked below (a
     * non-finite one says what the host's flag would). */
    int sum = !(g & EG_G_NO_SUM);
    double raw_s = 0.0, raw_c = 0.0;
    if (eg_dtype_is_float(dtype)) {
        raw_s = bitsd(w[EG_W_SUM_S]);
        raw_c = bitsd(w[EG_W_SUM_C]);
        out->sum_s = sum ? raw_s : 0.0;
        out->sum_c = sum ? raw_c : 0.0;
        out->l1_s = bitsd(w[EG_W_L1_S]);
        out->l1_c = bitsd(w[EG_W_L1_C]);
    } else {
        out->isum_lo = sum ? w[EG_W_SUM_S] : 0;
        out->isum_hi = sum ? (int64_t)w[EG_W_SUM_C] : 0;
        out->il1_lo = w[EG_W_L1_S];
        out->il1_hi = w[EG_W_L1_C];
    }
    if (out->n == 0)
        return 1;
    const double acc[] = {raw_s, raw_c, out->k, out->d1, out->d2,
                          out->l1_s, out->l1_c, out->l2_med, out->dot_s,
                          out->dot_c};
    if (!all_finite(acc, sizeof acc / sizeof acc[0]))
        return 0;
    return !(out->flags & EG_LANE_NEEDS_CAREFUL);
}

/* ---------------------------------------------------------- careful path */

/* The lane rule (lanes.h): a slot that holds no element yet also takes a
 * value equal to its start, so that +inf (min) or -inf (max) is found; NaN
 * compares false both ways and is never taken. */
static void careful_minmax(slots *sl, int j, double v, uint64_t idx)
{
    if (v < sl->mn[j] ||
        (v == sl->mn[j] && sl->amn[j] == EG_NONE_INDEX)) {
        sl->mn[j] = v;
        sl->amn[j] = idx;
    }
    if (v > sl->mx[j] ||
        (v == sl->mx[j] && sl->amx[j] == EG_NONE_INDEX)) {
        sl->mx[j] = v;
        sl->amx[j] = idx;
    }
}

/* Blue's three-range sum of squares: the middle range is the fast path's. */
static void careful_l2(slots *sl, int j, double v)
{
    double a = fabs(v);
    if (a > EG_BLUE_TBIG) {
        double t = v * EG_BLUE_SBIG;
        sl->big[j] = sl->big[j] + t * t;
    } else if (a < EG_BLUE_TSML) {
        double t = v * EG_BLUE_SSML;
        sl->sml[j] = sl->sml[j] + t * t;
    } else {
        sl->med[j] = sl->med[j] + v * v;
    }
}

static void careful_dot(double *block, eg_lane *out, int j, double v,
                        double yv)
{
    if (isnan(v) || isnan(yv)) {
        out->dot_nan_in++;
        return;
    }
    double p = v * yv;
    if (isnan(p))
        out->dot_nan_gen++;
    else if (p == INFINITY)
        out->dot_pinf++;
    else if (p == -INFINITY)
        out->dot_ninf++;
    else
        block[j] = block[j] + p;
}

/* The open blocks of the compensated sums (lanes.h): plain sums from +0.0,
 * added into the slots' pairs every EG_LANE_BLOCK_ROWS rows. */
typedef struct blocks {
    double s[EG_LANE_SLOTS], l1[EG_LANE_SLOTS], dot[EG_LANE_SLOTS];
} blocks;

static void flush_blocks(slots *sl, blocks *b)
{
    for (int j = 0; j < EG_LANE_SLOTS; j++) {
        eg_twosum_acc(&sl->s[j], &sl->c[j], b->s[j]);
        eg_twosum_acc(&sl->l1s[j], &sl->l1c[j], b->l1[j]);
        eg_twosum_acc(&sl->ds[j], &sl->dc[j], b->dot[j]);
    }
    memset(b, 0, sizeof *b);
}

static double load_float(const void *x, eg_dtype dtype, uint64_t i)
{
    return dtype == EG_F32 ? (double)((const float *)x)[i]
                           : ((const double *)x)[i];
}

static void lane_careful_float(const void *x, const void *y, uint64_t m,
                               uint64_t base, eg_dtype dtype, unsigned g,
                               eg_lane *out)
{
    slots sl;
    slots_init(&sl);
    memset(out, 0, sizeof *out);
    out->n = m;
    out->first_nan = EG_NONE_INDEX;
    double k = 0.0;
    int have_k = 0;
    blocks blk;
    memset(&blk, 0, sizeof blk);
    const uint64_t block_elems = (uint64_t)EG_LANE_BLOCK_ROWS * EG_LANE_SLOTS;
    for (uint64_t i = 0; i < m; i++) {
        int j = (int)(i & 7);
        double v = load_float(x, dtype, i);
        if (g & EG_G_DOT)
            careful_dot(blk.dot, out, j, v, load_float(y, dtype, i));
        if (isnan(v)) {
            if (out->nan_n++ == 0)
                out->first_nan = base + i;
        } else {
            if (g & EG_G_MINMAX)
                careful_minmax(&sl, j, v, base + i);
            if (isinf(v)) {
                if (v > 0)
                    out->pinf_n++;
                else
                    out->ninf_n++;
            } else {
                if (!have_k) {
                    k = v;
                    have_k = 1;
                }
                out->vn++;
                blk.s[j] = blk.s[j] + v;
                if (g & EG_G_VAR) {
                    double d = v - k;
                    sl.d1[j] = sl.d1[j] + d;
                    sl.d2[j] = sl.d2[j] + d * d;
                }
                if (g & EG_G_L1)
                    blk.l1[j] = blk.l1[j] + fabs(v);
                if (g & EG_G_L2)
                    careful_l2(&sl, j, v);
            }
        }
        if (i % block_elems == block_elems - 1)
            flush_blocks(&sl, &blk);
    }
    if (m % block_elems)
        flush_blocks(&sl, &blk);
    combine_tree(&sl, g);
    if (!(g & EG_G_NO_SUM)) { /* else zero, as eg_lane_decode leaves it */
        out->sum_s = sl.s[0];
        out->sum_c = sl.c[0];
    }
    out->k = k;
    out->d1 = sl.d1[0];
    out->d2 = sl.d2[0];
    out->min.f = sl.mn[0];
    out->max.f = sl.mx[0];
    out->argmin = (g & EG_G_MINMAX) ? sl.amn[0] : EG_NONE_INDEX;
    out->argmax = (g & EG_G_MINMAX) ? sl.amx[0] : EG_NONE_INDEX;
    out->l1_s = sl.l1s[0];
    out->l1_c = sl.l1c[0];
    out->l2_sml = sl.sml[0];
    out->l2_med = sl.med[0];
    out->l2_big = sl.big[0];
    out->dot_s = sl.ds[0];
    out->dot_c = sl.dc[0];
}

void eg_lane_careful(const void *x, const void *y, uint64_t m, uint64_t base,
                     eg_dtype dtype, unsigned g, eg_lane *out)
{
    if (eg_dtype_is_float(dtype)) {
        lane_careful_float(x, y, m, base, dtype, g, out);
        return;
    }
    /* Integers are always finite: the fast path is already careful. */
    uint64_t w[EG_LANE_WORDS];
    eg_lanes_fast(x, y, m, dtype, g, w);
    eg_lane_decode(w, dtype, g, out);
    if (g & EG_G_MINMAX) {
        out->argmin += base;
        out->argmax += base;
    }
}

void eg_chunk_state(const uint64_t *words, const void *x, const void *y,
                    uint64_t n, uint64_t offset, eg_dtype dtype, unsigned g,
                    eg_state *out)
{
    eg_state_init(out, dtype, g);
    eg_chunk_fold(words, x, y, n, offset, dtype, g, out);
}

void eg_chunk_fold(const uint64_t *words, const void *x, const void *y,
                   uint64_t n, uint64_t offset, eg_dtype dtype, unsigned g,
                   eg_state *out)
{
    size_t sz = eg_dtype_size(dtype);
    for (uint64_t l = 0; l < eg_lane_count(n); l++) {
        uint64_t base = l * EG_LANE_ELEMS;
        uint64_t m = n - base < EG_LANE_ELEMS ? n - base : EG_LANE_ELEMS;
        eg_lane lane;
        eg_state st;
        if (!eg_lane_decode(words + l * EG_LANE_WORDS, dtype, g, &lane))
            eg_lane_careful((const char *)x + base * sz,
                            y ? (const char *)y + base * sz : NULL, m, base,
                            dtype, g, &lane);
        eg_state_from_lane(&st, &lane, dtype, g, offset);
        eg_state_merge(out, &st);
    }
}
