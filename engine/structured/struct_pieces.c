/* struct_pieces.c - --axis on a file too large to copy (eg_source_open_rows
 * left it to pread): the outputs in pieces, each piece's elements read with
 * pread into a buffer of its own and reduced as a small array of its own.
 *
 * Every output's bits are those of its segment alone (structured.h), so a
 * piece that holds whole segments gives the bits of the whole job.  Two
 * layouts cut into such pieces (C order, which eg_source_open_rows
 * guarantees by mapping Fortran-order arrays):
 *   - the reduced axes last (--axis -1): output e's segment is elements
 *     [e * L, (e + 1) * L), so a run of outputs is a run of bytes;
 *   - the reduced axes first (--axis 0): output e's segment is elements
 *     e + q * rest, so a block of outputs is a block of columns, gathered
 *     from row ranges read in order.
 * Anything else, or a segment larger than a piece, is not cut
 * (eg_struct_pieces_fit) and the caller maps the file as before.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "structured.h"

/* Bytes of rows read at once when a block of columns is gathered. */
#define ROWS_READ_BYTES (1u << 20)

/* 1: reduced axes last; 2: first; 0: neither. */
static int layout(const eg_struct_plan *p)
{
    int last = 1, first = 1;
    for (unsigned k = 0; k < p->nred; k++) {
        last = last && p->red[k] == p->ndim - p->nred + k;
        first = first && p->red[k] == k;
    }
    return last ? 1 : first ? 2 : 0;
}

/* Outputs a piece holds: at least one, and 0 when one segment alone is
 * over the budget. */
static uint64_t piece_outputs(const eg_struct_plan *p)
{
    uint64_t seg = p->seg_len * p->size;
    uint64_t budget = eg_source_piece_bytes();
    if (seg == 0 || seg > budget)
        return 0;
    uint64_t n = budget / seg;
    return n > p->rest ? p->rest : n;
}

int eg_struct_pieces_fit(const eg_struct_plan *p)
{
    return !p->by && p->nred > 0 && p->nkeep > 0 && layout(p) != 0 &&
           piece_outputs(p) > 0;
}

/* Outputs [e0, e0 + nb) of src's elements, native order, into buf
 * (nb segments in the piece's own C order: [nb][L] or [L][nb]). */
static eg_status read_piece(const eg_struct_plan *p, const eg_source *src,
                            uint64_t e0, uint64_t nb, unsigned char *buf,
                            unsigned char *rows, uint64_t rows_cap,
                            eg_error *err)
{
    uint64_t L = p->seg_len, rest = p->rest;
    const void *in = NULL;
    if (layout(p) == 1) {
        eg_status st = eg_source_get_part(src, e0 * L, nb * L, buf, &in, err);
        if (st == EG_OK && in != buf)
            memcpy(buf, in, nb * L * p->size);
        return st;
    }
    for (uint64_t q0 = 0; q0 < L; q0 += rows_cap) {
        uint64_t nq = L - q0 < rows_cap ? L - q0 : rows_cap;
        eg_status st =
            eg_source_get_part(src, q0 * rest, nq * rest, rows, &in, err);
        if (st != EG_OK)
            return st;
        const unsigned char *r = in;
        for (uint64_t q = 0; q < nq; q++)
            memcpy(buf + (q0 + q) * nb * p->size,
                   r + (q * rest + e0) * p->size, nb * p->size);
    }
    return EG_OK;
}

/* Adds a piece's device figures to the job's, device by device. */
static void add_stats(eg_result *acc, const eg_result *r)
{
    for (size_t d = 0; d < r->ndevices; d++) {
        const eg_device_stats *s = &r->devices[d];
        size_t k = 0;
        while (k < acc->ndevices &&
               (acc->devices[k].index != s->index ||
                strcmp(acc->devices[k].name, s->name) != 0))
            k++;
        if (k == acc->ndevices) {
            if (k == EG_MAX_DEVICES)
                continue;
            memset(&acc->devices[k], 0, sizeof acc->devices[k]);
            acc->devices[k].index = s->index;
            memcpy(acc->devices[k].name, s->name, EG_NAME_MAX);
            acc->ndevices++;
        }
        acc->devices[k].elements += s->elements;
        acc->devices[k].chunks += s->chunks;
        acc->devices[k].calls += s->calls;
        acc->devices[k].seconds += s->seconds;
    }
}

/* The piece's op arrays into the job's at output e0 (one kind per op: a
 * piece of another kind would be a defect, not a result). */
static eg_status place(const eg_struct_plan *p, const eg_reduce_opts *o,
                       eg_sresult *out, const eg_sresult *part, uint64_t e0,
                       uint64_t nb, int first, eg_error *err)
{
    for (unsigned k = 0; k < EG_OP_COUNT_ALL; k++) {
        if (!(o->ops & EG_OPS_BIT(k)))
            continue;
        const eg_array_result *a = &part->op[k];
        eg_array_result *t = &out->op[k];
        if (first) {
            t->kind = a->kind;
            if (a->kind != EG_NUM_NONE) {
                t->data = malloc(p->nout * 8);
                if (!t->data)
                    return eg_error_set(err, EG_ENOMEM,
                                        "--axis: no memory for %llu results",
                                        (unsigned long long)p->nout);
            }
        } else if (t->kind != a->kind) {
            return eg_error_set(err, EG_EINTERNAL,
                                "--axis: pieces of the job disagree on a "
                                "result's kind");
        }
        if (a->kind != EG_NUM_NONE)
            memcpy((unsigned char *)t->data + e0 * 8, a->data, nb * 8);
    }
    return EG_OK;
}

eg_status eg_struct_run_pieces(eg_engine *e, const eg_struct_plan *p,
                               const eg_source *x, const eg_source *y,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err)
{
    uint64_t per = piece_outputs(p), L = p->seg_len;
    uint64_t rows_cap = ROWS_READ_BYTES / (p->rest * p->size);
    if (rows_cap == 0)
        rows_cap = 1;
    int by_cols = layout(p) == 2;
    size_t bytes = (size_t)(per * L * p->size) + 8;
    unsigned char *xb = malloc(bytes), *yb = y ? malloc(bytes) : NULL;
    unsigned char *rows =
        by_cols ? malloc((size_t)(rows_cap * p->rest * p->size) + 8) : NULL;
    eg_status st = EG_OK;
    if (!xb || (y && !yb) || (by_cols && !rows))
        st = eg_error_set(err, EG_ENOMEM,
                          "--axis: no memory for a piece of %llu bytes",
                          (unsigned long long)bytes);
    for (uint64_t e0 = 0; st == EG_OK && e0 < p->rest; e0 += per) {
        uint64_t nb = p->rest - e0 < per ? p->rest - e0 : per;
        st = read_piece(p, x, e0, nb, xb, rows, rows_cap, err);
        if (st == EG_OK && y)
            st = read_piece(p, y, e0, nb, yb, rows, rows_cap, err);
        /* the piece as an array of its own: [nb, L] or [L, nb] */
        eg_array_info info = {.dtype = p->dtype, .count = nb * L, .ndim = 2};
        eg_struct_opts so = {.naxes = 1};
        info.shape[0] = by_cols ? L : nb;
        info.shape[1] = by_cols ? nb : L;
        so.axes[0] = by_cols ? 0 : 1;
        eg_struct_plan sub;
        eg_sresult part;
        memset(&part, 0, sizeof part);
        if (st == EG_OK)
            st = eg_struct_plan_shape(&sub, &info, &so, o->ops, err);
        if (st == EG_OK) {
            sub.x.base = xb;
            sub.x.stride[0] = info.shape[1];
            sub.x.stride[1] = 1;
            if (y) {
                sub.y = sub.x;
                sub.y.base = yb;
                sub.has_y = 1;
            }
            st = eg_struct_run(e, &sub, o, &part, err);
            if (st == EG_OK)
                st = place(p, o, out, &part, e0, nb, e0 == 0, err);
            if (st == EG_OK && e0 == 0) {
                memcpy(out->r.notes, part.r.notes, sizeof out->r.notes);
                out->r.ndevices = 0;
            }
            if (st == EG_OK)
                add_stats(&out->r, &part.r);
            eg_sresult_free(&part);
            eg_struct_plan_free(&sub);
        }
    }
    if (st == EG_OK)
        st = eg_source_check(x, p->rest * L, err);
    if (st == EG_OK && y)
        st = eg_source_check(y, p->rest * L, err);
    free(xb);
    free(yb);
    free(rows);
    return st;
}
