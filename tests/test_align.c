/* test_align.c - eg_reduce on caller memory that is not aligned to its
 * element size (a numpy view at a byte offset, a network frame): every
 * dtype, fast and exact, with dot's second array misaligned too, gives
 * the bits the same elements give at an aligned address, and the values
 * meet the reference.  The lanes load typed elements, so without the
 * source's aligned copy the sanitizer build (UBSan) stops on a
 * misaligned load here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "testutil.h"

__extension__ typedef __int128 i128;

#define ALL_OPS ((1u << EG_OP_COUNT_ALL) - 1)

/* Three chunks and a ragged tail: the host's pieces, the chunk merge and
 * the tail lane all see misaligned elements. */
#define N (3 * 8192 + 1237)
#define CHUNK 8192

static eg_result run(eg_engine *e, const void *x, const void *y, eg_dtype t,
                     eg_mode mode)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ALL_OPS;
    o.mode = mode;
    o.chunk_elems = CHUNK;
    eg_result r;
    eg_error err;
    cr_assert_eq(eg_reduce(e, x, y, N, t, &o, &r, &err), EG_OK, "%s", err.msg);
    return r;
}

static void same_bits(const eg_result *a, const eg_result *b, eg_dtype t,
                      eg_mode mode, unsigned off)
{
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        cr_assert_eq(a->value[op].kind, b->value[op].kind, "%s %s op %d",
                     eg_dtype_name(t), mode ? "exact" : "fast", op);
        cr_assert_eq(
            memcmp(&a->value[op].v, &b->value[op].v, sizeof a->value[op].v), 0,
            "%s %s op %d: offset %u gives other bits", eg_dtype_name(t),
            mode ? "exact" : "fast", op, off);
    }
}

static void near_reference(const eg_result *r, const void *x, const void *y,
                           eg_dtype t)
{
    tu_ref ref;
    tu_reference(x, y, t, N, &ref);
    const eg_number *v = r->value;
    cr_assert_eq(v[EG_OP_COUNT].v.u, N);
    cr_assert_eq(v[EG_OP_ARGMIN].v.i, (int64_t)ref.argmin, "%s argmin",
                 eg_dtype_name(t));
    cr_assert_eq(v[EG_OP_ARGMAX].v.i, (int64_t)ref.argmax, "%s argmax",
                 eg_dtype_name(t));
    if (eg_dtype_is_float(t)) {
        long double bound = ldexpl(ref.abs_sum, -50);
        cr_assert_leq(fabsl(v[EG_OP_SUM].v.f - ref.sum), bound, "%s sum",
                      eg_dtype_name(t));
        cr_assert_eq(v[EG_OP_MIN].v.f, (double)ref.min, "%s min",
                     eg_dtype_name(t));
        cr_assert_eq(v[EG_OP_MAX].v.f, (double)ref.max, "%s max",
                     eg_dtype_name(t));
    } else {
        i128 want = 0;
        for (size_t i = 0; i < N; i++)
            want += (i128)tu_get(x, t, i);
        i128 got = v[EG_OP_SUM].kind == EG_NUM_I64 ? (i128)v[EG_OP_SUM].v.i
                                                   : (i128)v[EG_OP_SUM].v.u;
        cr_assert(got == want, "%s integer sum", eg_dtype_name(t));
    }
}

static void one_dtype(eg_engine *e, eg_dtype t)
{
    size_t sz = eg_dtype_size(t), bytes = (size_t)N * sz;
    /* aligned copies; the misaligned ones live at byte offsets of a
     * larger buffer (malloc aligns to 16: +off is off mod the size) */
    unsigned char *ax = malloc(bytes), *ay = malloc(bytes);
    unsigned char *bx = malloc(bytes + 16), *by = malloc(bytes + 16);
    cr_assert(ax && ay && bx && by);
    tu_fill(ax, t, N, 11u + (unsigned)t, -3.0, 5.0);
    tu_fill(ay, t, N, 97u + (unsigned)t, -2.0, 2.0);
    if (t == EG_I64 || t == EG_U64) {
        /* small enough that sums of products fit 64 bits */
        for (size_t i = 0; i < N; i++) {
            ((uint64_t *)(void *)ax)[i] >>= 44;
            ((uint64_t *)(void *)ay)[i] >>= 44;
        }
    }
    for (int mode = EG_MODE_FAST; mode <= EG_MODE_EXACT; mode++) {
        eg_result want = run(e, ax, ay, t, (eg_mode)mode);
        near_reference(&want, ax, ay, t);
        for (unsigned off = 1; off < sz || off == 1; off++) {
            memcpy(bx + off, ax, bytes);
            memcpy(by + 16 - off, ay, bytes);
            eg_result got = run(e, bx + off, by + 16 - off, t, (eg_mode)mode);
            same_bits(&got, &want, t, (eg_mode)mode, off);
        }
    }
    free(ax);
    free(ay);
    free(bx);
    free(by);
}

Test(align, every_dtype_fast_and_exact_at_odd_addresses)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    for (int t = 0; t < EG_DTYPE_COUNT; t++)
        one_dtype(e, (eg_dtype)t);
    eg_engine_close(&e);
}

/* The partial-state entry point wraps caller memory the same way. */
Test(align, partial_at_an_odd_address)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    size_t bytes = (size_t)N * sizeof(double);
    double *a = malloc(bytes);
    unsigned char *b = malloc(bytes + 8);
    uint8_t *pa = malloc(eg_partial_size()), *pb = malloc(eg_partial_size());
    cr_assert(a && b && pa && pb);
    tu_fill(a, EG_F64, N, 5, -1.0, 1.0);
    memcpy(b + 3, a, bytes);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.mode = EG_MODE_EXACT;
    cr_assert_eq(eg_reduce_partial(e, a, NULL, N, EG_F64, &o, pa,
                                   eg_partial_size(), NULL, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(eg_reduce_partial(e, b + 3, NULL, N, EG_F64, &o, pb,
                                   eg_partial_size(), NULL, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(memcmp(pa, pb, eg_partial_size()), 0);
    free(a);
    free(b);
    free(pa);
    free(pb);
    eg_engine_close(&e);
}

/* Per-axis reductions hand contiguous rows to the lanes in place: rows of
 * misaligned memory are gathered into aligned buffers instead. */
Test(align, axis_rows_at_an_odd_address)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    enum { ROWS = 7, COLS = 3 * 4096 + 5 };
    size_t bytes = (size_t)ROWS * COLS * sizeof(double);
    double *a = malloc(bytes);
    unsigned char *b = malloc(bytes + 8);
    cr_assert(a && b);
    tu_fill(a, EG_F64, (size_t)ROWS * COLS, 9, -4.0, 4.0);
    memcpy(b + 5, a, bytes);
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.naxes = 1;
    so.axes[0] = 1;
    so.shape_ndim = 2;
    so.shape[0] = ROWS;
    so.shape[1] = COLS;
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MIN) |
            EG_OPS_BIT(EG_OP_ARGMAX);
    for (int mode = EG_MODE_FAST; mode <= EG_MODE_EXACT; mode++) {
        o.mode = (eg_mode)mode;
        eg_sresult ra, rb;
        cr_assert_eq(eg_reduce_structured(e, a, NULL, (uint64_t)ROWS * COLS,
                                          EG_F64, &so, &o, &ra, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(eg_reduce_structured(e, b + 5, NULL, (uint64_t)ROWS * COLS,
                                          EG_F64, &so, &o, &rb, &err),
                     EG_OK, "%s", err.msg);
        cr_assert_eq(ra.nout, ROWS);
        for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
            if (!(o.ops & EG_OPS_BIT(op)))
                continue;
            cr_assert_eq(memcmp(ra.op[op].data, rb.op[op].data, ROWS * 8), 0,
                         "op %d, mode %d", op, mode);
        }
        /* and the values are the rows' own: min and argmax by hand */
        const double *mn = ra.op[EG_OP_MIN].data;
        const int64_t *am = ra.op[EG_OP_ARGMAX].data;
        for (int r = 0; r < ROWS; r++) {
            const double *row = a + (size_t)r * COLS;
            double m = row[0];
            int64_t best = 0;
            for (int c = 1; c < COLS; c++) {
                m = row[c] < m ? row[c] : m;
                if (row[c] > row[best])
                    best = c;
            }
            cr_assert_eq(mn[r], m, "row %d min", r);
            cr_assert_eq(am[r], best, "row %d argmax", r);
        }
        eg_sresult_free(&ra);
        eg_sresult_free(&rb);
    }
    free(a);
    free(b);
    eg_engine_close(&e);
}
