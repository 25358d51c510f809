/* cl_resident.c - eg_reduce_cl_buffer's OpenCL half: data in a caller's
 * cl_mem, reduced on the device it lives on.
 *
 * The buffers belong to the caller's context, not to the device object's
 * own, and OpenCL objects do not cross contexts: the kernels are built (in
 * practice loaded from the binary cache) in the caller's context, on a
 * queue of this call's own, by a device object that shares everything else
 * with the engine's.  A launch covers a sub-buffer of several chunks on a
 * GPU (enough lanes to fill it), its records come back,
 * and its state is made exactly as the scheduler makes it from a host
 * chunk's records; only a chunk with a lane for the careful host path is
 * read back, for those lanes' sake.  Chunks merge in chunk order, so the
 * bits are eg_reduce's for the same chunk size. */
#include "cl_resident.h"

#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>

#include "cl_device.h"
#include "error.h"
#include "lanes.h"

/* The OpenCL device of a buffer's context that is one of devs. */
static eg_status find_device(eg_device *const *devs, size_t ndev, cl_mem x,
                             cl_context *ctx, eg_device **out, eg_error *err)
{
    cl_int rc = clGetMemObjectInfo(x, CL_MEM_CONTEXT, sizeof *ctx, ctx, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clGetMemObjectInfo(CL_MEM_CONTEXT)",
                          "the caller's buffer", rc);
    cl_uint n = 0;
    rc = clGetContextInfo(*ctx, CL_CONTEXT_NUM_DEVICES, sizeof n, &n, NULL);
    cl_device_id ids[16];
    if (rc == CL_SUCCESS && n > 16)
        n = 16;
    if (rc == CL_SUCCESS)
        rc = clGetContextInfo(*ctx, CL_CONTEXT_DEVICES, n * sizeof ids[0], ids,
                              NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clGetContextInfo(CL_CONTEXT_DEVICES)",
                          "the caller's context", rc);
    for (size_t d = 0; d < ndev; d++) {
        if (!eg_cl_device_is_opencl(devs[d]))
            continue;
        const eg_cl_impl *impl = devs[d]->impl;
        for (cl_uint i = 0; i < n; i++)
            if (ids[i] == impl->device) {
                *out = devs[d];
                return EG_OK;
            }
    }
    return eg_error_set(err, EG_ENODEV,
                        "eg_reduce_cl_buffer: the buffer's context holds "
                        "none of the engine's OpenCL devices");
}

static eg_status check_size(cl_mem m, uint64_t bytes, const char *what,
                            eg_error *err)
{
    size_t size = 0;
    cl_int rc = clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clGetMemObjectInfo(CL_MEM_SIZE)", what, rc);
    if (size < bytes)
        return eg_error_set(err, EG_EUSAGE,
                            "eg_reduce_cl_buffer: %s holds %zu bytes, "
                            "the count asks for %llu",
                            what, size, (unsigned long long)bytes);
    return EG_OK;
}

/* [at, at + bytes) of m as a buffer of its own. */
static eg_status sub_buffer(eg_device *dev, cl_mem m, size_t at, size_t bytes,
                            cl_mem *out, eg_error *err)
{
    cl_buffer_region r = {at, bytes};
    cl_int rc;
    *out = clCreateSubBuffer(m, CL_MEM_READ_ONLY, CL_BUFFER_CREATE_TYPE_REGION,
                             &r, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateSubBuffer", dev->info.name, rc);
    return EG_OK;
}

/* 1 when a record of the chunk needs the careful host path, which reads
 * the lane's elements. */
static int needs_host(const uint64_t *w, uint64_t n, eg_dtype dt, unsigned g)
{
    uint64_t nw = eg_lane_words(g);
    for (uint64_t l = 0; l < eg_lane_count(n); l++) {
        if (g & EG_G_EXACT) {
            if (w[l * nw + EG_X_FLAGS] & EG_LANE_NEEDS_CAREFUL)
                return 1;
        } else {
            eg_lane lane;
            if (!eg_lane_decode(w + l * nw, dt, g, &lane))
                return 1;
        }
    }
    return 0;
}

/* Reads [at, at + bytes) of m into host memory, malloc'ed. */
static eg_status read_back(eg_device *dev, cl_mem m, size_t at, size_t bytes,
                           void **out, eg_error *err)
{
    const eg_cl_impl *impl = dev->impl;
    *out = malloc(bytes ? bytes : 1);
    if (!*out)
        return eg_error_set(err, EG_ENOMEM,
                            "eg_reduce_cl_buffer: out of "
                            "memory");
    cl_int rc = clEnqueueReadBuffer(impl->queue, m, CL_TRUE, at, bytes, *out, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name, rc);
    return EG_OK;
}

/* Chunks [at, at + n) of `chunk` elements (the last one may be short) in
 * one launch, their states into states[]: each chunk's records rebased to
 * the chunk, as the scheduler does for a call over several chunks. */
static eg_status some_chunks(eg_device *dev, cl_mem x, cl_mem y, uint64_t at,
                             uint64_t n, uint64_t chunk, eg_dtype dt,
                             unsigned g, uint64_t *words, eg_state *states,
                             eg_error *err)
{
    size_t sz = eg_dtype_size(dt);
    cl_mem xs = NULL, ys = NULL;
    void *hx = NULL, *hy = NULL;
    eg_status st = sub_buffer(dev, x, at * sz, n * sz, &xs, err);
    if (st == EG_OK && y)
        st = sub_buffer(dev, y, at * sz, n * sz, &ys, err);
    if (st == EG_OK)
        st = eg_cl_reduce_mem(dev, xs, ys, n, dt, g, words, err);
    if (st == EG_OK && needs_host(words, n, dt, g)) {
        st = read_back(dev, x, at * sz, n * sz, &hx, err);
        if (st == EG_OK && y)
            st = read_back(dev, y, at * sz, n * sz, &hy, err);
    }
    uint64_t cw = eg_lane_count(chunk) * eg_lane_words(g);
    for (uint64_t j = 0; st == EG_OK && j * chunk < n; j++) {
        uint64_t off = j * chunk, nj = n - off < chunk ? n - off : chunk;
        eg_lanes_rebase(words + j * cw, eg_lane_count(nj), g, off);
        eg_chunk_state_any(words + j * cw, hx ? (char *)hx + off * sz : NULL,
                           hy ? (char *)hy + off * sz : NULL, nj, at + off, dt,
                           g, &states[j]);
    }
    free(hx);
    free(hy);
    if (ys)
        clReleaseMemObject(ys);
    if (xs)
        clReleaseMemObject(xs);
    return st;
}

/* Chunks a launch takes: enough lanes for a few waves of every compute
 * unit of a GPU (8 work-items a lane with the portable kernel), one chunk
 * on a CPU device; within the device's largest allocation. */
static uint64_t chunks_per_launch(const eg_device *dev, uint64_t chunk,
                                  eg_dtype dt)
{
    if (dev->info.kind == EG_DEV_CPU)
        return 1;
    uint64_t want = (uint64_t)dev->info.compute_units * 2048 * 4 / 8;
    uint64_t k = (want + eg_lane_count(chunk) - 1) / eg_lane_count(chunk);
    uint64_t fit = dev->info.max_alloc / (chunk * eg_dtype_size(dt));
    if (k > fit)
        k = fit;
    return k ? k : 1;
}

/* The engine's device in the caller's context: the one kept from the last
 * call when the context is the same, else a new one (its kernels built or
 * loaded from the binary cache at the first launch). */
static eg_status resident_impl(eg_device *dev, cl_context ctx, eg_cl_impl **out,
                               eg_error *err)
{
    eg_cl_impl *own = dev->impl;
    if (own->resident && own->resident->context == ctx) {
        *out = own->resident;
        return EG_OK;
    }
    if (own->resident) {
        eg_cl_impl_release(own->resident);
        free(own->resident);
        own->resident = NULL;
    }
    eg_cl_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return eg_error_set(err, EG_ENOMEM,
                            "eg_reduce_cl_buffer: out of "
                            "memory");
    impl->platform = own->platform;
    impl->device = own->device;
    memcpy(impl->device_version, own->device_version,
           sizeof impl->device_version);
    impl->portable = own->portable;
    impl->probed = own->probed;
    impl->fault.loaded = 1; /* no fault injection on this path */
    cl_int rc;
    impl->queue = clCreateCommandQueue(ctx, impl->device, 0, &rc);
    if (rc != CL_SUCCESS) {
        free(impl);
        return eg_cl_fail(err, "clCreateCommandQueue", dev->info.name, rc);
    }
    clRetainContext(ctx);
    impl->context = ctx;
    own->resident = impl;
    *out = impl;
    return EG_OK;
}

eg_status eg_cl_reduce_resident(eg_device *const *devs, size_t ndev,
                                struct _cl_mem *x, struct _cl_mem *y,
                                uint64_t count, eg_dtype dtype, unsigned groups,
                                uint64_t chunk, eg_state *total,
                                eg_device_stats *stats, eg_error *err)
{
    cl_context ctx = NULL;
    eg_device *dev = NULL;
    size_t sz = eg_dtype_size(dtype);
    eg_state_init(total, dtype, groups);
    eg_status st = find_device(devs, ndev, x, &ctx, &dev, err);
    if (st == EG_OK)
        st = check_size(x, count * sz, "x", err);
    if (st == EG_OK && y)
        st = check_size(y, count * sz, "y", err);
    if (st != EG_OK)
        return st;
    eg_cl_impl *impl = NULL;
    st = resident_impl(dev, ctx, &impl, err);
    if (st != EG_OK)
        return st;
    eg_device call = *dev;
    call.impl = impl;
    call.launch_global = call.launch_local = 0;
    uint64_t k = chunks_per_launch(dev, chunk, dtype);
    uint64_t *words = malloc(k * eg_lane_count(chunk) * eg_lane_words(groups) *
                             sizeof *words);
    eg_state *states = malloc(k * sizeof *states);
    if (!words || !states)
        st = eg_error_set(err, EG_ENOMEM,
                          "eg_reduce_cl_buffer: out of "
                          "memory");
    double t0 = eg_now();
    uint64_t calls = 0, chunks = 0;
    for (uint64_t at = 0; st == EG_OK && at < count; at += k * chunk) {
        uint64_t n = count - at < k * chunk ? count - at : k * chunk;
        st = some_chunks(&call, x, y, at, n, chunk, dtype, groups, words,
                         states, err);
        for (uint64_t j = 0; st == EG_OK && j * chunk < n; j++, chunks++)
            eg_state_merge(total, &states[j]);
        calls++;
    }
    memset(stats, 0, sizeof *stats);
    stats->index = dev->info.index;
    memcpy(stats->name, dev->info.name, EG_NAME_MAX);
    stats->elements = st == EG_OK ? count : 0;
    stats->chunks = chunks;
    stats->calls = calls;
    stats->seconds = eg_now() - t0;
    stats->launch_global = call.launch_global;
    stats->launch_local = call.launch_local;
    free(words);
    free(states);
    return st;
}
