/* cl_feed.c - the copy path of OpenCL devices with memory of their own
 * (discrete GPUs, Oclgrind): host data goes to the device through pinned
 * staging buffers, with copies on a queue of their own overlapped with the
 * kernels on the compute queue.
 *
 * A call's elements go in segments, alternately through EG_CL_FEED_SETS
 * sets of buffers.  For segment i in set b: the host copies it into b's
 * pinned staging once b's previous copy to the device is done; the copy
 * queue sends it to b's device buffers once the kernel that last read them
 * is done; the compute queue runs the kernel once that copy is done and
 * reads the records back behind it (in order, so before the kernel of
 * segment i + 2 overwrites b's records).  So while the kernel of segment i
 * runs, segment i + 1 crosses the bus and segment i + 2 is being staged:
 * neither the bus nor the device waits for the other.  Pinned memory is
 * what lets the copy run at the bus's speed without a driver's own bounce
 * copy; the segments keep each transfer large. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cl_device.h"
#include "error.h"
#include "lanes.h"

/* Segments: a quarter of the call, so that copies and kernels overlap
 * for most of it, but at least EG_CL_FEED_MIN_ELEMS (1 to 2 MiB), which a
 * bus moves near its full rate.  (The kernels of a host-resident call need
 * not fill the device: a GPU reduces far faster than the bus delivers.) */
#define EG_CL_FEED_PARTS 4
#define EG_CL_FEED_MIN_ELEMS (256u * 1024u)

static void stage_release(eg_cl_impl *impl, eg_cl_stage *s)
{
    if (s->mem && s->host && impl->copy_queue) {
        clEnqueueUnmapMemObject(impl->copy_queue, s->mem, s->host, 0, NULL,
                                NULL);
        clFinish(impl->copy_queue);
    }
    if (s->mem)
        clReleaseMemObject(s->mem);
    memset(s, 0, sizeof *s);
}

/* Makes s a mapped pinned buffer of at least `bytes`. */
static eg_status stage_reserve(eg_device *dev, eg_cl_stage *s, size_t bytes,
                               eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    if (s->mem && s->bytes >= bytes)
        return EG_OK;
    stage_release(impl, s);
    if (eg_cl_fault_fires(dev, EG_CL_FAULT_ALLOC))
        return eg_cl_fail(err, "clCreateBuffer", dev->info.name,
                          CL_MEM_OBJECT_ALLOCATION_FAILURE);
    cl_int rc;
    s->mem =
        clCreateBuffer(impl->context, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR,
                       bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        s->mem = NULL;
        return eg_cl_fail(err, "clCreateBuffer(CL_MEM_ALLOC_HOST_PTR)",
                          dev->info.name, rc);
    }
    s->host = clEnqueueMapBuffer(impl->copy_queue, s->mem, CL_TRUE,
                                 CL_MAP_WRITE, 0, bytes, 0, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        s->host = NULL;
        stage_release(impl, s);
        return eg_cl_fail(err, "clEnqueueMapBuffer", dev->info.name, rc);
    }
    s->bytes = bytes;
    return EG_OK;
}

void eg_cl_feed_release(eg_cl_impl *impl)
{
    for (int b = 0; b < EG_CL_FEED_SETS; b++) {
        for (int v = 0; v < 2; v++) {
            stage_release(impl, &impl->stage[b][v]);
            if (impl->feed_in[b][v].mem)
                clReleaseMemObject(impl->feed_in[b][v].mem);
            memset(&impl->feed_in[b][v], 0, sizeof impl->feed_in[b][v]);
        }
        if (impl->feed_out[b].mem)
            clReleaseMemObject(impl->feed_out[b].mem);
        memset(&impl->feed_out[b], 0, sizeof impl->feed_out[b]);
    }
    if (impl->copy_queue)
        clReleaseCommandQueue(impl->copy_queue);
    impl->copy_queue = NULL;
}

/* The buffers of every set for segments of `seg` elements. */
static eg_status reserve_sets(eg_device *dev, uint64_t seg, size_t isz, int dot,
                              unsigned g, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    if (!impl->copy_queue) {
        cl_int rc;
        impl->copy_queue =
            clCreateCommandQueue(impl->context, impl->device, 0, &rc);
        if (rc != CL_SUCCESS) {
            impl->copy_queue = NULL;
            return eg_cl_fail(err, "clCreateCommandQueue", dev->info.name, rc);
        }
    }
    size_t in = (size_t)seg * isz;
    size_t out = (size_t)(eg_lane_count(seg) * eg_lane_words(g)) * 8;
    eg_status st = EG_OK;
    for (int b = 0; b < EG_CL_FEED_SETS && st == EG_OK; b++) {
        for (int v = 0; v < 1 + dot && st == EG_OK; v++) {
            st = stage_reserve(dev, &impl->stage[b][v], in, err);
            if (st == EG_OK)
                st = eg_cl_buffer_reserve(dev, &impl->feed_in[b][v],
                                          CL_MEM_READ_ONLY, in, err);
        }
        if (st == EG_OK)
            st = eg_cl_buffer_reserve(dev, &impl->feed_out[b],
                                      CL_MEM_WRITE_ONLY, out, err);
    }
    return st;
}

static void release_event(cl_event *e)
{
    if (*e)
        clReleaseEvent(*e);
    *e = NULL;
}

/* The events of one set: its copies to the device, its kernel. */
typedef struct feed_events {
    cl_event copied[2];
    cl_event ran;
} feed_events;

/* Waits for a set's copies (so its staging may be refilled). */
static eg_status wait_copied(eg_device *dev, feed_events *ev, eg_error *err)
{
    for (int v = 0; v < 2; v++) {
        if (!ev->copied[v])
            continue;
        cl_int rc = clWaitForEvents(1, &ev->copied[v]);
        release_event(&ev->copied[v]);
        if (rc != CL_SUCCESS)
            return eg_cl_fail(err, "clWaitForEvents", dev->info.name, rc);
    }
    return EG_OK;
}

/* Segment [at, at + m) through set b. */
static eg_status feed_one(eg_device *dev, const void *const in[2], int dot,
                          uint64_t at, uint64_t m, size_t isz, eg_dtype dtype,
                          unsigned g, int b, feed_events *ev,
                          uint64_t *lanes_out, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    eg_status st = wait_copied(dev, ev, err);
    if (st != EG_OK)
        return st;
    size_t bytes = (size_t)m * isz;
    cl_int rc;
    for (int v = 0; v < 1 + dot; v++) {
        memcpy(impl->stage[b][v].host, (const char *)in[v] + at * isz, bytes);
        /* The device buffer is free once the kernel that last read it has
         * run. */
        rc = clEnqueueWriteBuffer(impl->copy_queue, impl->feed_in[b][v].mem,
                                  CL_FALSE, 0, bytes, impl->stage[b][v].host,
                                  ev->ran ? 1 : 0, ev->ran ? &ev->ran : NULL,
                                  &ev->copied[v]);
        if (rc != CL_SUCCESS)
            return eg_cl_fail(err, "clEnqueueWriteBuffer", dev->info.name, rc);
    }
    clFlush(impl->copy_queue);
    release_event(&ev->ran);
    cl_mem xm = impl->feed_in[b][0].mem;
    cl_mem ym = dot ? impl->feed_in[b][1].mem : xm;
    st = eg_cl_launch(dev, &impl->kernels[dtype][g], xm, ym,
                      impl->feed_out[b].mem, m, (cl_uint)(1 + dot), ev->copied,
                      &ev->ran, err);
    if (st != EG_OK)
        return st;
    uint64_t lanes = eg_lane_count(m), words = eg_lane_words(g);
    rc = clEnqueueReadBuffer(impl->queue, impl->feed_out[b].mem, CL_FALSE, 0,
                             (size_t)(lanes * words) * 8,
                             lanes_out + (at / EG_LANE_ELEMS) * words, 0, NULL,
                             NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name, rc);
    clFlush(impl->queue);
    return EG_OK;
}

eg_status eg_cl_reduce_staged(eg_device *dev, const void *x, const void *y,
                              uint64_t n, eg_dtype dtype, unsigned g,
                              uint64_t *lanes_out, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    size_t isz = eg_dtype_size(dtype);
    int dot = (g & EG_G_DOT) != 0;
    uint64_t seg = (n + EG_CL_FEED_PARTS - 1) / EG_CL_FEED_PARTS;
    if (seg < EG_CL_FEED_MIN_ELEMS)
        seg = EG_CL_FEED_MIN_ELEMS;
    if (seg > n)
        seg = n;
    seg = eg_lane_count(seg) * EG_LANE_ELEMS;
    eg_status st = reserve_sets(dev, seg, isz, dot, g, err);
    feed_events ev[EG_CL_FEED_SETS];
    memset(ev, 0, sizeof ev);
    const void *const in[2] = {x, y};
    int b = 0;
    for (uint64_t at = 0; st == EG_OK && at < n; at += seg) {
        uint64_t m = n - at < seg ? n - at : seg;
        st = feed_one(dev, in, dot, at, m, isz, dtype, g, b, &ev[b], lanes_out,
                      err);
        b = (b + 1) % EG_CL_FEED_SETS;
    }
    /* Every read is behind every kernel on the in-order compute queue. */
    cl_int rc = clFinish(impl->queue);
    if (st == EG_OK && rc != CL_SUCCESS)
        st = eg_cl_fail(err, "clFinish", dev->info.name, rc);
    if (impl->copy_queue)
        clFinish(impl->copy_queue);
    for (int s = 0; s < EG_CL_FEED_SETS; s++) {
        release_event(&ev[s].copied[0]);
        release_event(&ev[s].copied[1]);
        release_event(&ev[s].ran);
    }
    if (st != EG_OK)
        return st;
    for (uint64_t at = seg; at < n; at += seg)
        eg_cl_shift_indices(lanes_out + (at / EG_LANE_ELEMS) * eg_lane_words(g),
                            eg_lane_count(n - at < seg ? n - at : seg), g, at);
    if (eg_cl_fault_fires(dev, EG_CL_FAULT_RUN)) {
        /* A device lost mid-transfer leaves some records written and some
         * not: garbage in half of them must never reach a result. */
        memset(lanes_out, 0xa5,
               (size_t)(eg_lane_count(n) * eg_lane_words(g)) * 8 / 2);
        return eg_cl_fail(err, "clEnqueueReadBuffer", dev->info.name,
                          CL_OUT_OF_RESOURCES);
    }
    return EG_OK;
}
