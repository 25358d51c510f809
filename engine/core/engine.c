/* engine.c - the public engine: device selection, one reduction from end to
 * end (sources -> scheduler -> merged state -> finalize). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cl_resident.h"
#include "discovery.h"
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
    /* Spec "all": discovery still under way (NULL once settled, see
     * settle); devs is the host backend alone until then. */
    eg_discovery *disc;
};

/* Waits for discovery and installs its list: every entry point that reads
 * the device list calls this first, so that it sees the list that opening
 * used to wait for.  Only a flat reduction starts before (reduce_overlap).
 * The host backend made at opening replaces the one discovery made, so a
 * job under way keeps its device; it takes that one's index and thread
 * count (share_cores).  A failed discovery is a note, and the host alone
 * stays, as on a box without OpenCL. */
static void settle(eg_engine *e)
{
    if (!e->disc)
        return;
    eg_device **list = NULL;
    size_t n = 0;
    unsigned host_index = 0;
    eg_error why;
    eg_error_clear(&why);
    eg_status st = eg_discovery_finish(&e->disc, &list, &n, &host_index,
                                       e->notes, sizeof e->notes, &why);
    eg_device *host = e->devs[0];
    if (st != EG_OK) {
        eg_notes_append(e->notes, sizeof e->notes,
                        "device discovery failed (%s); using the host backend",
                        why.msg);
        e->host_index = host->info.index = 0;
        return;
    }
    /* "all" keeps the host, and discovery puts it last. */
    eg_device *found = list[n - 1];
    host->info.index = found->info.index;
    host->threads = found->threads;
    eg_device_destroy(&list[n - 1]);
    list[n - 1] = host;
    free(e->devs);
    e->devs = list;
    e->ndev = n;
    e->host_index = host_index;
}

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
    eg_status st;
    /* "all": the host backend now, the rest when discovery (on a thread of
     * its own) has found it; a flat reduction starts on the host at once
     * and the others join it (reduce_overlap). */
    if (strcmp(spec, "all") == 0) {
        st = eg_registry_host_only(&e->devs, &e->ndev, err);
        if (st == EG_OK)
            st = eg_discovery_start(&e->disc, spec, err);
        if (st != EG_OK) {
            eg_engine_close(&e);
            return st;
        }
        *out = e;
        return EG_OK;
    }
    st = eg_registry_discover(&e->devs, &e->ndev, e->notes, sizeof e->notes,
                              err);
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
    settle(*engine);
    eg_registry_free(&(*engine)->devs, (*engine)->ndev);
    free(*engine);
    *engine = NULL;
}

/* The getters take a const engine but settle it: the engine was made by
 * calloc, not const, so writing it through the cast is defined. */
size_t eg_engine_device_count(const eg_engine *e)
{
    settle((eg_engine *)e);
    return e->ndev;
}

const eg_device_info *eg_engine_device(const eg_engine *e, size_t i)
{
    settle((eg_engine *)e);
    return i < e->ndev ? &e->devs[i]->info : NULL;
}

const char *eg_engine_notes(const eg_engine *e)
{
    settle((eg_engine *)e);
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
    settle(e);
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

/* A flat reduction while discovery is under way: the host backend starts
 * on the chunk queue at once, and the devices discovery selects join it
 * (on the scheduler's joiner thread, overlap_wait) and take what is left.
 * The caller's thread is inside eg_schedule meanwhile and reads no field
 * of the engine, so the joiner may settle it and prepare its devices. */
typedef struct overlap {
    eg_engine *e;
    eg_device *host; /* the job's own device */
    eg_dtype dtype;
    unsigned groups;
    eg_device *late[EG_MAX_DEVICES]; /* what overlap_wait handed out */
    size_t nlate;
} overlap;

static size_t overlap_wait(void *ctx, int (*wanted)(void *arg), void *arg,
                           eg_device **devs, size_t cap)
{
    overlap *ov = ctx;
    eg_engine *e = ov->e;
    settle(e);
    size_t kept = 0;
    for (size_t i = 0; i < e->ndev; i++) {
        eg_device *d = e->devs[i];
        if (d == ov->host) {
            e->devs[kept++] = d;
            continue;
        }
        /* Kernels are built only for a job that can still use them; a
         * later job builds the others (prepare_devices). */
        eg_error why;
        eg_error_clear(&why);
        if (wanted(arg) &&
            d->ops->prepare(d, ov->dtype, ov->groups, &why) != EG_OK) {
            eg_notes_append(e->notes, sizeof e->notes,
                            "device %u dropped: %s", d->info.index, why.msg);
            eg_device_destroy(&e->devs[i]);
            continue;
        }
        e->devs[kept++] = d;
        if (ov->nlate < cap)
            devs[ov->nlate++] = d;
    }
    e->ndev = kept;
    memcpy(ov->late, devs, ov->nlate * sizeof *devs);
    return ov->nlate;
}

/* stats->devices in the engine's order (that of eg_engine_device), from
 * the scheduler's: the host first, then the devices that joined.  A
 * device that joined too late to take a chunk reports zeros. */
static void overlap_stats(const eg_engine *e, const overlap *ov,
                          eg_result *stats)
{
    eg_device_stats got[EG_MAX_DEVICES];
    memcpy(got, stats->devices, (1 + ov->nlate) * sizeof *got);
    for (size_t i = 0; i < e->ndev; i++) {
        eg_device *d = e->devs[i];
        eg_device_stats *s = &stats->devices[i];
        memset(s, 0, sizeof *s);
        if (d == ov->host)
            *s = got[0];
        for (size_t j = 0; j < ov->nlate; j++)
            if (ov->late[j] == d)
                *s = got[1 + j];
        s->index = d->info.index;
        memcpy(s->name, d->info.name, EG_NAME_MAX);
    }
    stats->ndevices = e->ndev;
}

static eg_status reduce_overlap(eg_engine *e, eg_job *job, eg_result *stats,
                                eg_state *out, eg_error *err)
{
    eg_status st = prepare_devices(e, eg_source_info(job->x)->dtype,
                                   job->groups, err);
    if (st != EG_OK)
        return st;
    /* The job's own array: settle replaces e->devs under it. */
    eg_device *mine[1] = {e->devs[0]};
    overlap ov = {.e = e, .host = mine[0],
                  .dtype = eg_source_info(job->x)->dtype,
                  .groups = job->groups};
    eg_late_devs late = {.wait = overlap_wait, .ctx = &ov};
    char notes[sizeof stats->notes] = "";
    job->devs = mine;
    job->ndev = 1;
    job->late = &late;
    double t0 = eg_now();
    st = eg_schedule(job, out, stats->devices, notes, sizeof notes, err);
    /* The joiner settled the engine unless it could not start. */
    settle(e);
    snprintf(stats->notes, sizeof stats->notes, "%s", e->notes);
    if (notes[0])
        eg_notes_append(stats->notes, sizeof stats->notes, "%s", notes);
    if (st != EG_OK)
        return st;
    /* The job's time, not the wait for discovery after its last chunk. */
    stats->seconds = late.done_at - t0;
    overlap_stats(e, &ov, stats);
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
    unsigned groups = eg_groups_for(o->ops, o->mode, info->dtype);
    stats->bytes = count * eg_dtype_size(info->dtype) * (y ? 2 : 1);
    uint64_t chunk = o->chunk_elems ? o->chunk_elems : EG_DEFAULT_CHUNK_ELEMS;
    int small = count <= EG_SMALL_INPUT_ELEMS && count <= chunk &&
                chunk % EG_LANE_ELEMS == 0;
    /* Only a job of chunks gains from starting before discovery ends. */
    if (e->disc && (small || eg_discovery_ready(e->disc)))
        settle(e);
    if (small) {
        snprintf(stats->notes, sizeof stats->notes, "%s", e->notes);
        return reduce_small(e, x, y, first, count, groups, out, stats, err);
    }
    /* A chunk longer than the input is the input: one chunk either way, so
     * the same bits, without buffers sized for the chunk asked for (a huge
     * one would overflow their sizes). */
    uint64_t whole = eg_lane_count(count) * EG_LANE_ELEMS;
    if (chunk % EG_LANE_ELEMS == 0 && chunk > whole)
        chunk = whole;
    eg_job job = {.devs = e->devs, .ndev = e->ndev, .x = x, .y = y,
                  .first = first, .count = count, .groups = groups,
                  .chunk_elems = chunk, .opts = o};
    if (e->disc)
        return reduce_overlap(e, &job, stats, out, err);
    if ((st = prepare_devices(e, info->dtype, groups, err)) != EG_OK)
        return st;
    job.devs = e->devs;
    job.ndev = e->ndev;
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
    unsigned groups = eg_groups_for(o->ops, o->mode, dtype);
    memset(out, 0, sizeof *out);
    settle(e);
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
    const eg_source *srcs[2] = {sx, sy};
    for (int i = 0; st == EG_OK && i < 2; i++)
        if (srcs[i] && eg_source_note(srcs[i])[0])
            eg_notes_append(out->notes, sizeof out->notes, "%s: %s",
                            eg_source_name(srcs[i]), eg_source_note(srcs[i]));
    st = eg_source_close_checked(&sx, st, err);
    return eg_source_close_checked(&sy, st, err);
}
