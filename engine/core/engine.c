/* engine.c - the public engine: device selection, one reduction from end to
 * end (sources -> scheduler -> merged state -> finalize). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cl_resident.h"
#include "engine_devs.h"
#include "engine_grid.h"
#include "error.h"
#include "host_backend.h"
#include "lanes.h"
#include "registry.h"
#include "scheduler.h"
#include "source.h"
#include "state.h"

struct eg_engine {
    eg_device **devs;
    size_t ndev;
    unsigned host_index; /* the host backend's index in the registry */
    char notes[512];
};

eg_status eg_engine_open(eg_engine **out, const char *spec, eg_error *err)
{
    eg_engine *e = calloc(1, sizeof *e);
    if (!e)
        return eg_error_set(err, EG_ENOMEM, "engine: out of memory");
    if (!spec) {
        spec = getenv("EDGEGRID_DEVICES");
        if (!spec || !*spec)
            spec = "all";
    }
    /* "host" asks for no OpenCL: discovery (the ICD loader, POCL and LLVM
     * starting up) cost 20-60 ms of every such run, more than reducing a
     * few hundred MiB.  The host's place in eg_devices_list is then not
     * known, so its index says so. */
    if (strcmp(spec, "host") == 0) {
        eg_status st = eg_registry_host_only(&e->devs, &e->ndev, err);
        if (st != EG_OK) {
            eg_engine_close(&e);
            return st;
        }
        e->host_index = EG_INDEX_UNLISTED;
        *out = e;
        return EG_OK;
    }
    eg_status st =
        eg_registry_discover(&e->devs, &e->ndev, e->notes, sizeof e->notes, err);
    if (st == EG_OK) {
        e->host_index = (unsigned)(e->ndev - 1);
        st = eg_registry_select(e->devs, &e->ndev, spec, e->notes,
                                sizeof e->notes, err);
    }
    if (st != EG_OK) {
        eg_engine_close(&e);
        return st;
    }
    *out = e;
    return EG_OK;
}

void eg_engine_close(eg_engine **engine)
{
    if (!engine || !*engine)
        return;
    eg_registry_free(&(*engine)->devs, (*engine)->ndev);
    free(*engine);
    *engine = NULL;
}

size_t eg_engine_device_count(const eg_engine *e)
{
    return e->ndev;
}

const eg_device_info *eg_engine_device(const eg_engine *e, size_t i)
{
    return i < e->ndev ? &e->devs[i]->info : NULL;
}

const char *eg_engine_notes(const eg_engine *e)
{
    return e->notes;
}

/* Builds kernels before the clock starts; a device that cannot build is
 * dropped for this engine and named in its notes. */
static eg_status prepare_devices(eg_engine *e, eg_dtype dtype, unsigned groups,
                                 eg_error *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < e->ndev; i++) {
        eg_error why;
        eg_error_clear(&why);
        if (e->devs[i]->ops->prepare(e->devs[i], dtype, groups, &why) ==
            EG_OK) {
            e->devs[kept++] = e->devs[i];
            continue;
        }
        eg_notes_append(e->notes, sizeof e->notes, "device %u dropped: %s",
                        e->devs[i]->info.index, why.msg);
        eg_device_destroy(&e->devs[i]);
    }
    e->ndev = kept;
    if (kept > 0)
        return EG_OK;
    eg_device *host = NULL;
    eg_status st = eg_host_device_create(&host, err);
    if (st != EG_OK)
        return st;
    host->info.index = e->host_index;
    e->devs[0] = host;
    e->ndev = 1;
    eg_notes_append(e->notes, sizeof e->notes,
                    "no device left; using the host backend");
    return EG_OK;
}

eg_status eg_engine_devices(eg_engine *e, eg_dtype dtype, unsigned groups,
                            eg_engine_devs *out, eg_error *err)
{
    eg_status st = prepare_devices(e, dtype, groups, err);
    if (st != EG_OK)
        return st;
    out->devs = e->devs;
    out->ndev = e->ndev;
    out->host_index = e->host_index;
    out->notes = e->notes;
    return EG_OK;
}

/* argmin/argmax of a Fortran-order array: memory order is not C order, so
 * ties and the first NaN are found again by a C-order scan. */
static eg_status fix_fortran_args(const eg_source *x, const eg_state *s,
                                  eg_nan_policy nan, eg_result *r,
                                  eg_error *err)
{
    const eg_array_info *info = eg_source_info(x);
    if (!info->fortran_order || info->ndim < 2)
        return EG_OK;
    int nan_out = nan == EG_NAN_PROPAGATE && s->nan_n > 0;
    const eg_op ops[2] = {EG_OP_ARGMIN, EG_OP_ARGMAX};
    const eg_value vals[2] = {s->min, s->max};
    for (int k = 0; k < 2; k++) {
        eg_number *v = &r->value[ops[k]];
        if (v->kind != EG_NUM_I64)
            continue;
        uint64_t idx = EG_NONE_INDEX;
        eg_status st = eg_source_first_c_index_of(
            x, vals[k].f, vals[k].i, vals[k].u, nan_out, &idx, err);
        if (st != EG_OK)
            return st;
        if (idx != EG_NONE_INDEX)
            v->v.i = (int64_t)idx;
    }
    return EG_OK;
}

static eg_status check_inputs(const eg_source *x, const eg_source *y,
                              const eg_reduce_opts *o, eg_error *err)
{
    if ((o->ops & EG_OPS_BIT(EG_OP_DOT)) && !y)
        return eg_error_set(err, EG_EUSAGE, "dot needs a second operand "
                                            "(--with Y.npy)");
    if (o->ops == 0)
        return eg_error_set(err, EG_EUSAGE, "no ops requested");
    if (!y)
        return EG_OK;
    const eg_array_info *a = eg_source_info(x), *b = eg_source_info(y);
    if (a->count != b->count)
        return eg_error_set(err, EG_EINPUT,
                            "%s has %llu elements but %s has %llu; dot needs "
                            "the same count",
                            eg_source_name(y), (unsigned long long)b->count,
                            eg_source_name(x), (unsigned long long)a->count);
    if (a->dtype != b->dtype)
        return eg_error_set(err, EG_EINPUT,
                            "%s is %s but %s is %s; dot needs one dtype",
                            eg_source_name(y), eg_dtype_numpy_name(b->dtype),
                            eg_source_name(x), eg_dtype_numpy_name(a->dtype));
    return EG_OK;
}

static eg_status reduce_small(eg_engine *e, const eg_source *x,
                              const eg_source *y, uint64_t first,
                              uint64_t count, unsigned groups, eg_state *out,
                              eg_result *stats, eg_error *err)
{
    size_t sz = eg_dtype_size(eg_source_info(x)->dtype);
    int bx = eg_source_needs_buffer(x), by = y && eg_source_needs_buffer(y);
    uint64_t *words =
        malloc(eg_lane_count(count) * eg_lane_words(groups) * 8 + 8);
    void *xs = bx ? malloc(count * sz + 1) : NULL;
    void *ys = by ? malloc(count * sz + 1) : NULL;
    if (!words || (bx && !xs) || (by && !ys)) {
        free(words);
        free(xs);
        free(ys);
        return eg_error_set(err, EG_ENOMEM, "small input: out of memory");
    }
    double t0 = eg_now();
    const void *xp = NULL, *yp = NULL;
    eg_status st = eg_source_get(x, first, count, xs, &xp, err);
    if (st == EG_OK && y)
        st = eg_source_get(y, first, count, ys, &yp, err);
    if (st == EG_OK) {
        eg_lanes_any(xp, yp, count, eg_source_info(x)->dtype, groups, words);
        eg_chunk_state_any(words, xp, yp, count, first,
                           eg_source_info(x)->dtype, groups, out);
    }
    free(words);
    free(xs);
    free(ys);
    if (st != EG_OK)
        return st;
    eg_device_stats *d = &stats->devices[0];
    memset(d, 0, sizeof *d);
    d->index = e->host_index;
    snprintf(d->name, sizeof d->name, "host (small-input path)");
    d->elements = count;
    d->chunks = 1;
    d->seconds = eg_now() - t0;
    stats->ndevices = 1;
    stats->seconds = d->seconds;
    return EG_OK;
}

eg_status eg_engine_reduce_range(eg_engine *e, const eg_source *x,
                                 const eg_source *y, uint64_t first,
                                 uint64_t count, const eg_reduce_opts *o,
                                 eg_state *out, eg_result *stats,
                                 eg_error *err)
{
    const eg_array_info *info = eg_source_info(x);
    eg_status st = check_inputs(x, y, o, err);
    if (st != EG_OK)
        return st;
    if (first > info->count || count > info->count - first)
        return eg_error_set(err, EG_EINPUT,
                            "%s: range [%llu, +%llu) is outside its %llu "
                            "elements",
                            eg_source_name(x), (unsigned long long)first,
                            (unsigned long long)count,
                            (unsigned long long)info->count);
    if (!(o->ops & EG_OPS_BIT(EG_OP_DOT)))
        y = NULL;
    unsigned groups = eg_groups_for_ops(o->ops);
    /* Exact mode changes only floats: integer sums are exact already. */
    if (o->mode == EG_MODE_EXACT && eg_dtype_is_float(info->dtype))
        groups |= EG_G_EXACT;
    stats->bytes = count * eg_dtype_size(info->dtype) * (y ? 2 : 1);
    uint64_t chunk = o->chunk_elems ? o->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    if (count <= EG_SMALL_INPUT_ELEMS && count <= chunk &&
        chunk % EG_LANE_ELEMS == 0) {
        snprintf(stats->notes, sizeof stats->notes, "%s", e->notes);
        return reduce_small(e, x, y, first, count, groups, out, stats, err);
    }
    if ((st = prepare_devices(e, info->dtype, groups, err)) != EG_OK)
        return st;
    /* A chunk longer than the input is the input: one chunk either way, so
     * the same bits, without buffers sized for the chunk asked for (a huge
     * one would overflow their sizes). */
    uint64_t whole = eg_lane_count(count) * EG_LANE_ELEMS;
    if (chunk % EG_LANE_ELEMS == 0 && chunk > whole)
        chunk = whole;
    eg_job job = {.devs = e->devs, .ndev = e->ndev, .x = x, .y = y,
                  .first = first, .count = count, .groups = groups,
                  .chunk_elems = chunk, .opts = o};
    snprintf(stats->notes, sizeof stats->notes, "%s", e->notes);
    double t0 = eg_now();
    st = eg_schedule(&job, out, stats->devices, stats->notes,
                     sizeof stats->notes, err);
    if (st != EG_OK)
        return st;
    stats->seconds = eg_now() - t0;
    stats->ndevices = e->ndev;
    return EG_OK;
}

eg_status eg_result_finish(const eg_state *s, const eg_source *x,
                           const eg_reduce_opts *o, eg_result *out,
                           eg_error *err)
{
    eg_status st = eg_state_finalize(s, o->ops, o->nan, o->ddof, out, err);
    if (st != EG_OK)
        return st;
    out->mode = o->mode;
    if (x) {
        const eg_array_info *info = eg_source_info(x);
        if ((st = fix_fortran_args(x, s, o->nan, out, err)) != EG_OK)
            return st;
        out->ndim = info->ndim;
        memcpy(out->shape, info->shape, sizeof out->shape);
    } else {
        out->ndim = 1;
        out->shape[0] = s->n;
    }
    return EG_OK;
}

static eg_status reduce_sources(eg_engine *e, const eg_source *x,
                                const eg_source *y, const eg_reduce_opts *o,
                                eg_result *out, eg_error *err)
{
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        o = &defaults;
    }
    memset(out, 0, sizeof *out);
    eg_state total;
    eg_status st = eg_engine_reduce_range(
        e, x, y, 0, eg_source_info(x)->count, o, &total, out, err);
    if (st != EG_OK)
        return st;
    return eg_result_finish(&total, x, o, out, err);
}

eg_status eg_reduce(eg_engine *e, const void *x, const void *y,
                    uint64_t count, eg_dtype dtype, const eg_reduce_opts *o,
                    eg_result *out, eg_error *err)
{
    eg_source *sx = NULL, *sy = NULL;
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x && count > 0)
        return eg_error_set(err, EG_EUSAGE, "eg_reduce: NULL data");
    eg_status st = eg_source_wrap(&sx, x, count, dtype, err);
    if (st == EG_OK && y)
        st = eg_source_wrap(&sy, y, count, dtype, err);
    if (st == EG_OK)
        st = reduce_sources(e, sx, sy, o, out, err);
    eg_source_close(&sx);
    eg_source_close(&sy);
    return st;
}

eg_status eg_reduce_cl_buffer(eg_engine *e, struct _cl_mem *x,
                              struct _cl_mem *y, uint64_t count,
                              eg_dtype dtype, const eg_reduce_opts *o,
                              eg_result *out, eg_error *err)
{
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        o = &defaults;
    }
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x)
        return eg_error_set(err, EG_EUSAGE, "eg_reduce_cl_buffer: NULL x");
    int dot = (o->ops & EG_OPS_BIT(EG_OP_DOT)) != 0;
    if (dot && !y)
        return eg_error_set(err, EG_EUSAGE,
                            "dot needs a second operand (eg_reduce_cl_buffer "
                            "y, or --with)");
    uint64_t chunk = o->chunk_elems ? o->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    if (chunk % EG_LANE_ELEMS)
        return eg_error_set(err, EG_EUSAGE,
                            "chunk size %llu is not a multiple of %u elements",
                            (unsigned long long)chunk, EG_LANE_ELEMS);
    unsigned groups = eg_groups_for_ops(o->ops);
    if (o->mode == EG_MODE_EXACT && eg_dtype_is_float(dtype))
        groups |= EG_G_EXACT;
    memset(out, 0, sizeof *out);
    eg_state total;
    /* The whole input as one chunk when it is shorter, as eg_reduce does. */
    uint64_t whole = eg_lane_count(count) * EG_LANE_ELEMS;
    if (whole > 0 && chunk > whole)
        chunk = whole;
    eg_status st = eg_cl_reduce_resident(e->devs, e->ndev, x, dot ? y : NULL,
                                         count, dtype, groups, chunk, &total,
                                         &out->devices[0], err);
    if (st != EG_OK)
        return st;
    out->ndevices = 1;
    out->seconds = out->devices[0].seconds;
    out->bytes = count * eg_dtype_size(dtype) * (dot ? 2 : 1);
    snprintf(out->notes, sizeof out->notes, "%s", e->notes);
    return eg_result_finish(&total, NULL, o, out, err);
}

eg_status eg_reduce_file(eg_engine *e, const char *path, const char *with_path,
                         const eg_input_opts *in, const eg_reduce_opts *o,
                         eg_result *out, eg_error *err)
{
    eg_source *sx = NULL, *sy = NULL;
    eg_input_opts plain = {0};
    if (!in)
        in = &plain;
    eg_status st = eg_source_open(&sx, path, in, err);
    if (st == EG_OK && with_path)
        st = eg_source_open(&sy, with_path, in, err);
    if (st == EG_OK)
        st = reduce_sources(e, sx, sy, o, out, err);
    eg_source_close(&sx);
    eg_source_close(&sy);
    return st;
}
