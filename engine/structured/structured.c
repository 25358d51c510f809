/* structured.c - the public structured reductions: opens the sources and
 * the keys, checks them against each other, plans, and runs the plan
 * (struct_plan.c, struct_keys.c, struct_run.c). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "source.h"
#include "structured.h"

void eg_struct_opts_init(eg_struct_opts *so)
{
    memset(so, 0, sizeof *so);
}

void eg_sresult_free(eg_sresult *r)
{
    if (!r)
        return;
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
        free(r->op[op].data);
    free(r->groups);
    memset(r, 0, sizeof *r);
}

static eg_status check_with(const eg_source *x, const eg_source *y,
                            const eg_struct_plan *p, unsigned ops,
                            eg_error *err)
{
    if ((ops & EG_OPS_BIT(EG_OP_DOT)) && !y)
        return eg_error_set(err, EG_EUSAGE,
                            "dot needs a second operand "
                            "(--with Y.npy)");
    if (!y)
        return EG_OK;
    const eg_array_info *a = eg_source_info(x), *b = eg_source_info(y);
    if (a->dtype != b->dtype)
        return eg_error_set(err, EG_EINPUT,
                            "%s is %s but %s is %s; dot needs one dtype",
                            eg_source_name(y), eg_dtype_numpy_name(b->dtype),
                            eg_source_name(x), eg_dtype_numpy_name(a->dtype));
    /* y laid out as x: its own shape, or x's shape over a 1-D y of x's
     * count (raw input with --shape). */
    int same = b->count == a->count;
    if (same && b->ndim > 1) {
        same = b->ndim == p->ndim;
        for (unsigned d = 0; same && d < p->ndim; d++)
            same = b->shape[d] == p->dim[d];
    } else if (same && b->ndim <= 1 && a->ndim > 1) {
        same = p->ndim == 1;
    }
    if (!same)
        return eg_error_set(err, EG_EINPUT,
                            "%s does not have the shape of %s; dot along "
                            "axes needs the same shape",
                            eg_source_name(y), eg_source_name(x));
    return EG_OK;
}

/* The keys as a source: the caller's memory, or a .npy file read with
 * pread block by block as the grouping's passes take them. */
static eg_status open_keys(const eg_struct_opts *so, eg_source **ks,
                           const char **name, eg_error *err)
{
    if (!so->keys_path) {
        *name = "keys";
        if ((unsigned)so->key_dtype >= EG_DTYPE_COUNT)
            return eg_error_set(err, EG_EDTYPE, "--by: unknown key dtype");
        return eg_source_wrap(ks, so->keys, so->nkeys, so->key_dtype, err);
    }
    eg_input_opts plain = {0};
    eg_status st = eg_source_open(ks, so->keys_path, &plain, err);
    if (st != EG_OK)
        return st;
    const eg_array_info *info = eg_source_info(*ks);
    *name = so->keys_path;
    if (info->ndim != 1)
        return eg_error_set(err, EG_EINPUT,
                            "--by %s: keys must be a 1-D array, not %u-D",
                            so->keys_path, info->ndim);
    return EG_OK;
}

/* Shapes, views and (group mode) the groups, the keys left open in *ks
 * for what reads them again (the permutations, or the streamed run). */
static eg_status plan_groups(eg_struct_plan *p, const eg_source *x,
                             const eg_source *y, const eg_struct_opts *so,
                             const eg_reduce_opts *o, eg_source **ks,
                             eg_error *err)
{
    *ks = NULL;
    const eg_array_info *info = eg_source_info(x);
    eg_status st = eg_struct_plan_shape(p, info, so, o->ops, err);
    if (st == EG_OK)
        st = check_with(x, y, p, o->ops, err);
    if (st == EG_OK) {
        eg_struct_plan_view(p, x, &p->x);
        if (y) {
            eg_struct_plan_view(p, y, &p->y);
            p->has_y = 1;
        }
    }
    if (st != EG_OK || !p->by)
        return st;
    const char *name = NULL;
    st = open_keys(so, ks, &name, err);
    if (st == EG_OK)
        st = eg_struct_group(p, *ks,
                             (o->ops & (EG_OPS_BIT(EG_OP_ARGMIN) |
                                        EG_OPS_BIT(EG_OP_ARGMAX))) != 0,
                             name, err);
    return st;
}

/* The keys' and inputs' last checks once their reads are done, and the
 * keys closed. */
static eg_status close_groups(eg_struct_plan *p, const eg_source *x,
                              const eg_source *y, eg_source **ks, eg_status st,
                              eg_error *err)
{
    /* a file of keys changed under the passes' reads */
    if (st == EG_OK && *ks)
        st = eg_source_check(*ks, p->dim[0], err);
    p->keys = NULL;
    eg_source_close(ks);
    /* Inputs read with pread, checked once more with the keys closed: a
     * cut any time the keys were open is then the clear error too. */
    if (st == EG_OK)
        st = eg_source_check(x, eg_source_info(x)->count, err);
    if (st == EG_OK && y)
        st = eg_source_check(y, eg_source_info(y)->count, err);
    return st;
}

/* The rows in group order (eg_struct_permute), the views on the copies. */
static eg_status permute_views(eg_struct_plan *p, const eg_source *x,
                               const eg_source *y, void **xs, void **ys,
                               eg_error *err)
{
    eg_status st = eg_struct_permute(p, &p->x, x, xs, err);
    if (st == EG_OK && y)
        st = eg_struct_permute(p, &p->y, y, ys, err);
    if (st == EG_OK) {
        p->x.base = *xs;
        p->x.swap = 0;
        p->y.base = *ys;
        p->y.swap = 0;
        p->permuted = 1;
    }
    return st;
}

eg_status eg_struct_prepare(eg_struct_plan *p, const eg_source *x,
                            const eg_source *y, const eg_struct_opts *so,
                            const eg_reduce_opts *o, void **xs, void **ys,
                            eg_error *err)
{
    *xs = *ys = NULL;
    /* The keys stay open until the permutations, which read them again
     * (each row's slot) instead of an array of every row's group. */
    eg_source *ks = NULL;
    eg_status st = plan_groups(p, x, y, so, o, &ks, err);
    if (st != EG_OK || !p->by) {
        eg_source_close(&ks);
        return st;
    }
    st = permute_views(p, x, y, xs, ys, err);
    return close_groups(p, x, y, &ks, st, err);
}

void eg_struct_result_meta(eg_struct_plan *p, const eg_source *x, int has_y,
                           const eg_reduce_opts *o, eg_sresult *out)
{
    const eg_array_info *info = eg_source_info(x);
    eg_result *r = &out->r;
    r->ops = o->ops;
    r->dtype = info->dtype;
    r->mode = o->mode;
    r->elements = info->count;
    r->ndim = p->ndim;
    memcpy(r->shape, p->dim, sizeof r->shape);
    r->bytes = info->count * eg_dtype_size(info->dtype) * (has_y ? 2 : 1);
    out->ndim = p->out_ndim;
    memcpy(out->shape, p->out_shape, sizeof out->shape);
    out->nout = p->nout;
    if (p->by) {
        out->ngroups = p->ngroups;
        out->groups_unsigned = p->keys_unsigned;
        out->groups = p->gkeys;
        p->gkeys = NULL;
    }
}

static eg_status reduce_sources(eg_engine *e, const eg_source *x,
                                const eg_source *y, const eg_struct_opts *so,
                                const eg_reduce_opts *o, eg_sresult *out,
                                eg_error *err)
{
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        o = &defaults;
    }
    memset(out, 0, sizeof *out);
    /* The time counts the grouping and the permutation too. */
    double t0 = eg_now();
    if (o->ops == 0)
        return eg_error_set(err, EG_EUSAGE, "no ops requested");
    if (!(o->ops & EG_OPS_BIT(EG_OP_DOT)))
        y = NULL;
    eg_struct_plan p;
    void *xs = NULL, *ys = NULL;
    eg_source *ks = NULL;
    eg_status st = plan_groups(&p, x, y, so, o, &ks, err);
    /* few groups: the rows read once into their lanes, no copy */
    int streamed = st == EG_OK && p.by && eg_struct_stream_ok(&p);
    if (streamed) {
        st = eg_struct_run_stream(e, &p, o, out, err);
        st = close_groups(&p, x, y, &ks, st, err);
    } else if (st == EG_OK && p.by) {
        st = permute_views(&p, x, y, &xs, &ys, err);
        st = close_groups(&p, x, y, &ks, st, err);
    } else {
        eg_source_close(&ks);
    }
    /* a file too large to copy (eg_reduce_file_structured) */
    int pieces = st == EG_OK && !p.by &&
                 (eg_source_stored(x) == NULL ||
                  (y != NULL && eg_source_stored(y) == NULL));
    if (st == EG_OK && pieces)
        st = eg_struct_run_pieces(e, &p, x, y, o, out, err);
    else if (st == EG_OK && !streamed)
        st = eg_struct_run(e, &p, o, out, err);
    free(xs);
    free(ys);
    if (st == EG_OK) {
        out->r.seconds = eg_now() - t0;
        eg_struct_result_meta(&p, x, y != NULL, o, out);
    } else {
        eg_sresult_free(out);
    }
    eg_struct_plan_free(&p);
    return st;
}

eg_status eg_reduce_structured(eg_engine *e, const void *x, const void *y,
                               uint64_t count, eg_dtype dtype,
                               const eg_struct_opts *so,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err)
{
    eg_source *sx = NULL, *sy = NULL;
    memset(out, 0, sizeof *out);
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x && count > 0)
        return eg_error_set(err, EG_EUSAGE, "eg_reduce_structured: NULL data");
    eg_status st = eg_source_wrap(&sx, x, count, dtype, err);
    if (st == EG_OK && y)
        st = eg_source_wrap(&sy, y, count, dtype, err);
    if (st == EG_OK)
        st = reduce_sources(e, sx, sy, so, o, out, err);
    eg_source_close(&sx);
    eg_source_close(&sy);
    return st;
}

/* Whether sources opened by eg_source_open_rows can be reduced as they
 * are: held in memory, or --by, or an --axis plan that cuts into pieces.
 * A bad plan is left for reduce_sources to report. */
static int cut_into_pieces(const eg_source *x, const eg_source *y,
                           const eg_struct_opts *so, const eg_reduce_opts *o)
{
    if (eg_source_stored(x) != NULL &&
        (y == NULL || eg_source_stored(y) != NULL))
        return 1;
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        o = &defaults;
    }
    eg_struct_plan p;
    eg_error ignored;
    memset(&ignored, 0, sizeof ignored);
    if (eg_struct_plan_shape(&p, eg_source_info(x), so, o->ops, &ignored) !=
        EG_OK)
        return 1;
    int ok = p.by || eg_struct_pieces_fit(&p);
    eg_struct_plan_free(&p);
    return ok;
}

eg_status eg_reduce_file_structured(eg_engine *e, const char *path,
                                    const char *with_path,
                                    const eg_input_opts *in,
                                    const eg_struct_opts *so,
                                    const eg_reduce_opts *o, eg_sresult *out,
                                    eg_error *err)
{
    eg_source *sx = NULL, *sy = NULL;
    eg_input_opts plain = {0};
    memset(out, 0, sizeof *out);
    if (!in)
        in = &plain;
    /* Read whole into memory, not in chunks (source.h): --axis gathers by
     * stride across the whole array.  A file too large to copy is left to
     * pread: --by reads its rows once, in order, into its permuted copy;
     * --axis in pieces of whole segments where the plan cuts into them
     * (eg_struct_pieces_fit), else the file is mapped as before. */
    eg_status st = eg_source_open_rows(&sx, path, in, err);
    if (st == EG_OK && with_path)
        st = eg_source_open_rows(&sy, with_path, in, err);
    if (st == EG_OK && !cut_into_pieces(sx, sy, so, o)) {
        eg_source_close(&sx);
        eg_source_close(&sy);
        st = eg_source_open_stored(&sx, path, in, err);
        if (st == EG_OK && with_path)
            st = eg_source_open_stored(&sy, with_path, in, err);
    }
    if (st == EG_OK)
        st = reduce_sources(e, sx, sy, so, o, out, err);
    st = eg_source_close_checked(&sx, st, err);
    return eg_source_close_checked(&sy, st, err);
}
