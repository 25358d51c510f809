/* cl_reduce.c - prepare and reduce_chunk of the OpenCL backend: one kernel
 * per (dtype, groups), built once and kept; buffers reused across chunks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_device.h"
#include "cl_program.h"
#include "error.h"
#include "lanes.h"

/* Work-group size: a multiple of every common SIMD width, small enough that
 * a chunk of a few hundred lanes still spreads over many compute units.  The
 * portable kernel spreads a lane over EG_LANE_SLOTS work-items, so its
 * groups are 8 lanes. */
#define EG_CL_LOCAL_SIZE 64
#define EG_CL_CPU_LOCAL_SIZE 8

/* Local memory per work-item of the portable kernel: its eg_slot, 112
 * bytes for floats (13 doubles and indices, a flag), 176 for integers (their
 * extremes and 128-bit sums too); reduce_gpu.cl refuses to build if the
 * struct outgrows it.  Kept tight: local memory per group limits how many
 * groups a compute unit holds at once. */
#define EG_CL_GPU_SLOT_BYTES_FLOAT 112
#define EG_CL_GPU_SLOT_BYTES_INT 176

#define EG_CL_KERNEL_NAME "eg_reduce"

/* Work-items a lane of the portable exact kernel (reduce_exact_gpu.cl), a
 * work-group each: 64 elements a work-item, and a power of two every GPU's
 * work-groups hold; 8192 lanes of a 32 Mi-element call fill an H200
 * (132 compute units of 2048 work-items) about twice. */
#define EG_CL_EXACT_GPU_ITEMS 64

/* Lanes per work-item on CPU devices: enough independent chains to keep
 * the adders busy; the exact kernel reads up to four of them side by side,
 * one memory stream each. */
#define EG_CL_CPU_LPI 4

/* How far ahead the exact kernel asks for data on CPU devices, in bytes
 * (into L2; see EG_PREFETCH in reduce_exact.cl). */
#define EG_CL_CPU_PREFETCH 8192

/* ----------------------------------------------------------------- prepare */

static eg_status create_kernel(eg_device *dev, cl_program prog,
                               eg_cl_kernel *slot, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, EG_CL_KERNEL_NAME, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateKernel", dev->info.name, rc);
    size_t wg = 0;
    rc = clGetKernelWorkGroupInfo(k, impl->device, CL_KERNEL_WORK_GROUP_SIZE,
                                  sizeof wg, &wg, NULL);
    if (rc != CL_SUCCESS) {
        clReleaseKernel(k);
        return eg_cl_fail(err, "clGetKernelWorkGroupInfo", dev->info.name, rc);
    }
    slot->program = prog;
    slot->kernel = k;
    if (slot->group_lane) {
        /* Its work-group size is compiled in (reqd_work_group_size). */
        if (wg < slot->group_lane) {
            clReleaseKernel(k);
            return eg_error_set(err, EG_EOPENCL,
                                "\"%s\" runs work-groups of at most %zu "
                                "work-items; the portable exact kernel "
                                "needs %u",
                                dev->info.name, wg, slot->group_lane);
        }
        slot->local_size = slot->group_lane;
        return EG_OK;
    }
    /* CPU work-items are whole loops over several lanes: small groups keep
     * every core busy to the end of a chunk.  The portable kernel needs
     * whole lanes (8 work-items) in a group. */
    size_t want = impl->portable ? EG_CL_LOCAL_SIZE : EG_CL_CPU_LOCAL_SIZE;
    slot->local_size = wg == 0 ? 1 : wg < want ? wg : want;
    if (slot->portable) {
        slot->local_size -= slot->local_size % EG_LANE_SLOTS;
        if (slot->local_size == 0) {
            clReleaseKernel(k);
            return eg_error_set(err, EG_EOPENCL,
                                "\"%s\" runs work-groups of at most %zu "
                                "work-items; the portable kernel needs %d",
                                dev->info.name, wg, EG_LANE_SLOTS);
        }
    }
    return EG_OK;
}

static eg_status build_kernel(eg_device *dev, eg_dtype dtype, unsigned g,
                              eg_cl_kernel *slot, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    size_t len = 0;
    /* The portable kernels on GPUs and accelerators, the CPU-tuned ones
     * on CPUs, in both modes. */
    int exact = (g & EG_G_EXACT) != 0;
    slot->portable = impl->portable && !exact;
    slot->group_lane = impl->portable && exact ? EG_CL_EXACT_GPU_ITEMS : 0;
    char *src = slot->group_lane ? eg_cl_exact_gpu_kernel_source(&len)
                : exact          ? eg_cl_exact_kernel_source(&len)
                : slot->portable ? eg_cl_gpu_kernel_source(&len)
                                 : eg_cl_kernel_source(&len);
    if (src && eg_cl_fault_fires(dev, EG_CL_FAULT_BUILD))
        src = eg_cl_fault_break_source(src, &len);
    if (!src)
        return eg_error_set(err, EG_ENOMEM,
                            "out of memory building kernels "
                            "for \"%s\"",
                            dev->info.name);
    char options[256];
    eg_cl_build_options(dtype, g, options, sizeof options);
    /* CPU devices run several lanes per work-item (see EG_LPI in the
     * kernel); the count is part of the options, so of the cache key. */
    slot->lanes_per_item = impl->portable ? 1 : EG_CL_CPU_LPI;
    size_t used = strlen(options);
    slot->slot_bytes = eg_dtype_is_float(dtype) ? EG_CL_GPU_SLOT_BYTES_FLOAT
                                                : EG_CL_GPU_SLOT_BYTES_INT;
    if (slot->portable)
        snprintf(options + used, sizeof options - used,
                 " -DEG_GPU_SLOT_BYTES=%u", slot->slot_bytes);
    else if (slot->group_lane)
        snprintf(options + used, sizeof options - used, " -DEG_XW=%u",
                 slot->group_lane);
    else
        snprintf(options + used, sizeof options - used, " -DEG_LPI=%u",
                 slot->lanes_per_item);
    /* The exact kernel reads each lane in one pass that does more
     * arithmetic per byte; on a CPU it asks for its data ahead. */
    used = strlen(options);
    if ((g & EG_G_EXACT) && !impl->portable)
        snprintf(options + used, sizeof options - used, " -DEG_PREFETCH=%u",
                 EG_CL_CPU_PREFETCH);
    eg_cl_target t = eg_cl_target_of(dev);
    cl_program prog = NULL;
    int from_cache = 0;
    eg_status st =
        eg_cl_program_get(&t, src, len, options, &prog, &from_cache, err);
    free(src);
    if (st != EG_OK)
        return st;
    st = create_kernel(dev, prog, slot, err);
    if (st != EG_OK) {
        clReleaseProgram(prog);
        return st;
    }
    if (from_cache)
        impl->programs_loaded++;
    else
        impl->programs_built++;
    return EG_OK;
}

eg_status eg_cl_prepare(eg_device *dev, eg_dtype dtype, unsigned groups,
                        eg_error *err)
{
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE,
                            "no kernel for dtype %d on "
                            "\"%s\"",
                            (int)dtype, dev->info.name);
    /* The kernels accumulate in double whatever the input type. */
    if (!dev->info.fp64)
        return eg_error_set(err, EG_EOPENCL,
                            "device \"%s\" has no fp64 "
                            "(cl_khr_fp64), which the kernels need",
                            dev->info.name);
    if ((groups & EG_G_EXACT) && !eg_dtype_is_float(dtype))
        return eg_error_set(err, EG_EINTERNAL,
                            "no exact kernel for %s on \"%s\"",
                            eg_dtype_name(dtype), dev->info.name);
    eg_status st = eg_cl_fault_load(dev, err);
    if (st == EG_OK)
        st = eg_cl_ensure_context(dev, err);
    if (st != EG_OK)
        return st;
    eg_cl_impl *impl = dev->impl;
    if (!impl->probed) {
        int contracts = 0;
        st = eg_cl_probe_contraction(dev, impl->probe_options, &contracts, err);
        if (st != EG_OK)
            return st;
        if (contracts)
            return eg_error_set(err, EG_EOPENCL,
                                "device \"%s\" fuses a * b + c although its "
                                "kernels forbid contraction (FP_CONTRACT "
                                "OFF); its results would not have the "
                                "host's bits, so it is not used",
                                dev->info.name);
        impl->probed = 1;
    }
    eg_cl_kernel *slot = &impl->kernels[dtype][groups & EG_CL_GROUP_MASK];
    if (slot->kernel)
        return EG_OK;
    return build_kernel(dev, dtype, groups & EG_CL_GROUP_MASK, slot, err);
}

/* ----------------------------------------------------------- reduce_chunk */

/* Makes buf hold at least `bytes`; the old contents are not kept. */
eg_status eg_cl_buffer_reserve(eg_device *dev, eg_cl_buffer *buf,
                               cl_mem_flags flags, size_t bytes,
                               eg_error *err)
{
    if (buf->mem && buf->bytes >= bytes)
        return EG_OK;
    eg_cl_impl *impl = dev->impl;
    if (buf->mem)
        clReleaseMemObject(buf->mem);
    buf->mem = NULL;
    buf->bytes = 0;
    if (eg_cl_fault_fires(dev, EG_CL_FAULT_ALLOC))
        return eg_cl_fail(err, "clCreateBuffer", dev->info.name,
                          CL_MEM_OBJECT_ALLOCATION_FAILURE);
    cl_int rc;
    cl_mem mem = clCreateBuffer(impl->context, flags, bytes, NULL, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateBuffer", dev->info.name, rc);
    buf->mem = mem;
    buf->bytes = bytes;
    return EG_OK;
}

eg_status eg_cl_launch(eg_device *dev, const eg_cl_kernel *k, cl_mem xm,
                       cl_mem ym, cl_mem out, uint64_t n, cl_uint nwait,
                       const cl_event *wait, cl_event *done, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    cl_ulong cn = n;
    uint64_t lanes = eg_lane_count(n);
    cl_int rc;
    if ((rc = clSetKernelArg(k->kernel, 0, sizeof xm, &xm)) != CL_SUCCESS ||
        (rc = clSetKernelArg(k->kernel, 1, sizeof ym, &ym)) != CL_SUCCESS ||
        (rc = clSetKernelArg(k->kernel, 2, sizeof cn, &cn)) != CL_SUCCESS ||
        (rc = clSetKernelArg(k->kernel, 3, sizeof out, &out)) != CL_SUCCESS)
        return eg_cl_fail(err, "clSetKernelArg", dev->info.name, rc);
    /* Rounded up to whole work-groups; the kernel skips lanes >= lanes.
     * The portable kernel takes a lane per EG_LANE_SLOTS work-items and
     * local memory for their slots, the portable exact one a work-group
     * a lane. */
    size_t local = k->local_size;
    uint64_t items = k->portable     ? lanes * EG_LANE_SLOTS
                     : k->group_lane ? lanes * k->group_lane
                                     : (lanes + k->lanes_per_item - 1) /
                                           k->lanes_per_item;
    if (k->portable &&
        (rc = clSetKernelArg(k->kernel, 4, local * k->slot_bytes,
                             NULL)) != CL_SUCCESS)
        return eg_cl_fail(err, "clSetKernelArg", dev->info.name, rc);
    size_t global = (size_t)((items + local - 1) / local) * local;
    rc = clEnqueueNDRangeKernel(impl->queue, k->kernel, 1, NULL, &global,
                                &local, nwait, nwait ? wait : NULL, done);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueNDRangeKernel", dev->info.name, rc);
    dev->launch_global = global;
    dev->launch_local = local;
    return EG_OK;
}

/* One launch over x[0..n): at most piece_elems() elements. */
static eg_status reduce_piece(eg_device *dev, const void *x, const void *y,
                              uint64_t n, eg_dtype dtype, unsigned g,
                              uint64_t *lanes_out, eg_error *err)
{
    eg_status st;
    eg_cl_impl *impl = dev->impl;
    size_t isz = eg_dtype_size(dtype);
    uint64_t lanes = eg_lane_count(n);
    uint64_t words = eg_lane_words(g);
    if (n > SIZE_MAX / isz || lanes > SIZE_MAX / (words * 8))
        return eg_error_set(err, EG_EINTERNAL,
                            "chunk of %llu elements too "
                            "large for \"%s\"",
                            (unsigned long long)n, dev->info.name);
    size_t in_bytes = (size_t)n * isz;
    size_t out_bytes = (size_t)(lanes * words) * sizeof(uint64_t);

    /* Devices with memory of their own: the staged copy path. */
    if (!dev->info.unified_memory)
        return eg_cl_reduce_staged(dev, x, y, n, dtype, g, lanes_out, err);
    /* Views of the caller's memory, kept by the device between calls. */
    cl_mem xm = NULL, ym = NULL;
    cl_int rc;
    st = eg_cl_buffer_reserve(dev, &impl->outbuf, CL_MEM_WRITE_ONLY, out_bytes,
                              err);
    if (st != EG_OK)
        goto done;
    st = eg_cl_hostbuf_get(dev, x, in_bytes, &xm, err);
    if (st != EG_OK)
        goto done;
    if (g & EG_G_DOT) {
        st = eg_cl_hostbuf_get(dev, y, in_bytes, &ym, err);
        if (st != EG_OK)
            goto done;
    }
    /* Without dot the kernel never reads y; any valid buffer will do. */
    st = eg_cl_launch(dev, &impl->kernels[dtype][g], xm, ym ? ym : xm,
                      impl->outbuf.mem, n, 0, NULL, NULL, err);
    if (st != EG_OK)
        goto done;
    rc = clEnqueueReadBuffer(impl->queue, impl->outbuf.mem, CL_TRUE, 0,
                             out_bytes, lanes_out, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        st = eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name, rc);
    if (st == EG_OK && eg_cl_fault_fires(dev, EG_CL_FAULT_RUN)) {
        /* A device lost mid-transfer leaves some records written and some
         * not: garbage in half of them must never reach a result. */
        memset(lanes_out, 0xa5, out_bytes / 2);
        st = eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name,
                        CL_OUT_OF_RESOURCES);
    }
done:
    /* After a failure, queued writes or the kernel may still read the
     * caller's memory: wait for them before handing it back. */
    if (st != EG_OK && impl->queue)
        clFinish(impl->queue);
    return st;
}

eg_status eg_cl_reduce_mem(eg_device *dev, cl_mem xm, cl_mem ym, uint64_t n,
                           eg_dtype dtype, unsigned groups,
                           uint64_t *lanes_out, eg_error *err)
{
    unsigned g = groups & EG_CL_GROUP_MASK;
    if (n == 0)
        return EG_OK;
    eg_status st = eg_cl_prepare(dev, dtype, g, err);
    if (st != EG_OK)
        return st;
    eg_cl_impl *impl = dev->impl;
    uint64_t lanes = eg_lane_count(n);
    size_t out_bytes = (size_t)(lanes * eg_lane_words(g)) * sizeof(uint64_t);
    st = eg_cl_buffer_reserve(dev, &impl->outbuf, CL_MEM_WRITE_ONLY, out_bytes,
                              err);
    if (st == EG_OK)
        st = eg_cl_launch(dev, &impl->kernels[dtype][g], xm, ym ? ym : xm,
                          impl->outbuf.mem, n, 0, NULL, NULL, err);
    if (st != EG_OK)
        return st;
    cl_int rc = clEnqueueReadBuffer(impl->queue, impl->outbuf.mem, CL_TRUE, 0,
                                    out_bytes, lanes_out, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name, rc);
    return EG_OK;
}

/* The most elements one launch takes: every buffer within the device's
 * largest allocation, and inputs and records together within half its
 * global memory (the rest is the driver's and other users'), in whole
 * lanes.  A call above it is cut into launches, never refused, so a large
 * chunk does not fall back to the host. */
static uint64_t piece_elems(const eg_device *dev, eg_dtype dtype, unsigned g)
{
    uint64_t isz = eg_dtype_size(dtype);
    uint64_t alloc = dev->info.max_alloc, mem = dev->info.global_mem / 2;
    uint64_t per = isz * ((g & EG_G_DOT) ? 2 : 1) +
                   (eg_lane_words(g) * 8 + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    uint64_t cap = UINT64_MAX;
    if (alloc)
        cap = alloc / isz;
    if (mem && mem / per < cap)
        cap = mem / per;
    cap -= cap % EG_LANE_ELEMS;
    return cap < EG_LANE_ELEMS ? EG_LANE_ELEMS : cap;
}

void eg_cl_shift_indices(uint64_t *w, uint64_t lanes, unsigned g,
                         uint64_t offset)
{
    if (!(g & EG_G_MINMAX) || offset == 0)
        return;
    uint64_t words = eg_lane_words(g);
    int exact = (g & EG_G_EXACT) != 0;
    int amn = exact ? EG_X_ARGMIN : EG_W_ARGMIN;
    int amx = exact ? EG_X_ARGMAX : EG_W_ARGMAX;
    for (uint64_t l = 0; l < lanes; l++) {
        uint64_t *r = w + l * words;
        /* A careful exact lane is all zero but its count and flag. */
        if (exact && (r[EG_X_FLAGS] & EG_LANE_NEEDS_CAREFUL))
            continue;
        if (r[amn] != EG_NONE_INDEX)
            r[amn] += offset;
        if (r[amx] != EG_NONE_INDEX)
            r[amx] += offset;
    }
}

eg_status eg_cl_reduce_chunk(eg_device *dev, const void *x, const void *y,
                             uint64_t n, eg_dtype dtype, unsigned groups,
                             uint64_t *lanes_out, eg_error *err)
{
    unsigned g = groups & EG_CL_GROUP_MASK;
    if (n == 0)
        return EG_OK;
    if ((g & EG_G_DOT) && !y)
        return eg_error_set(err, EG_EINTERNAL,
                            "dot on \"%s\" without a "
                            "second operand",
                            dev->info.name);
    eg_status st = eg_cl_prepare(dev, dtype, g, err);
    if (st != EG_OK)
        return st;
    uint64_t cap = piece_elems(dev, dtype, g);
    size_t isz = eg_dtype_size(dtype);
    uint64_t words = eg_lane_words(g);
    for (uint64_t at = 0; at < n && st == EG_OK; at += cap) {
        uint64_t m = n - at < cap ? n - at : cap;
        uint64_t *w = lanes_out + (at / EG_LANE_ELEMS) * words;
        st = reduce_piece(dev, (const char *)x + at * isz,
                          y ? (const char *)y + at * isz : NULL, m, dtype, g, w,
                          err);
        if (st == EG_OK)
            eg_cl_shift_indices(w, eg_lane_count(m), g, at);
    }
    return st;
}

/* ---------------------------------------------------------------- release */

static void buffer_release(eg_cl_buffer *buf)
{
    if (buf->mem)
        clReleaseMemObject(buf->mem);
    buf->mem = NULL;
    buf->bytes = 0;
}

void eg_cl_impl_release(eg_cl_impl *impl)
{
    if (impl->resident) {
        eg_cl_impl_release(impl->resident);
        free(impl->resident);
        impl->resident = NULL;
    }
    if (impl->queue)
        clFinish(impl->queue);
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        for (int g = 0; g < EG_CL_GROUP_SETS; g++) {
            eg_cl_kernel *k = &impl->kernels[t][g];
            if (k->kernel)
                clReleaseKernel(k->kernel);
            if (k->program)
                clReleaseProgram(k->program);
            k->kernel = NULL;
            k->program = NULL;
        }
    }
    eg_cl_count_release(impl);
    eg_cl_feed_release(impl);
    eg_cl_hostbuf_release(impl);
    buffer_release(&impl->outbuf);
    if (impl->queue)
        clReleaseCommandQueue(impl->queue);
    if (impl->context)
        clReleaseContext(impl->context);
    impl->queue = NULL;
    impl->context = NULL;
}
