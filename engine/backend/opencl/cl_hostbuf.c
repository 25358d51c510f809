/* cl_hostbuf.c - zero-copy views of host memory on unified-memory devices
 * (POCL, Jetson-class), kept between calls.
 *
 * A CL_MEM_USE_HOST_PTR buffer created and released per call costs a
 * driver round trip (POCL registers and later unregisters the region) on
 * every chunk.  Callers reduce the same memory again and again (a mapped
 * file queried repeatedly, the bench's repetitions), so the views are kept
 * in a small per-device cache keyed by (address, bytes) and reused.
 *
 * Contents: a cached view may outlive the caller's writes to its memory.
 * Before each use the view is mapped for writing (invalidate) and unmapped,
 * which is how OpenCL says "the host changed this region"; on a unified
 * device both are pointer hand-backs, no copy.  A view never outlives the
 * device: eg_cl_hostbuf_release drops them all. */
#include <string.h>

#include "cl_device.h"

/* The least recently used view is replaced on a miss when all are taken. */
static eg_cl_hostbuf *victim(eg_cl_impl *impl)
{
    eg_cl_hostbuf *v = &impl->hostbuf[0];
    for (int i = 0; i < EG_CL_HOSTBUF_VIEWS; i++) {
        eg_cl_hostbuf *h = &impl->hostbuf[i];
        if (!h->mem)
            return h;
        if (h->used < v->used)
            v = h;
    }
    return v;
}

/* Tells the runtime the host may have written the region since the view
 * was last read. */
static eg_status refresh(eg_device *dev, cl_mem mem, size_t bytes,
                         eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    cl_int rc;
    void *p = clEnqueueMapBuffer(impl->queue, mem, CL_TRUE,
                                 CL_MAP_WRITE_INVALIDATE_REGION, 0, bytes, 0,
                                 NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueMapBuffer", dev->info.name, rc);
    rc = clEnqueueUnmapMemObject(impl->queue, mem, p, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueUnmapMemObject", dev->info.name, rc);
    return EG_OK;
}

eg_status eg_cl_hostbuf_get(eg_device *dev, const void *data, size_t bytes,
                            cl_mem *out, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    impl->hostbuf_clock++;
    for (int i = 0; i < EG_CL_HOSTBUF_VIEWS; i++) {
        eg_cl_hostbuf *h = &impl->hostbuf[i];
        if (h->mem && h->host == data && h->bytes == bytes) {
            h->used = impl->hostbuf_clock;
            impl->hostbuf_hits++;
            *out = h->mem;
            return refresh(dev, h->mem, bytes, err);
        }
    }
    if (eg_cl_fault_fires(dev, EG_CL_FAULT_ALLOC))
        return eg_cl_fail(err, "clCreateBuffer", dev->info.name,
                          CL_MEM_OBJECT_ALLOCATION_FAILURE);
    cl_int rc;
    /* OpenCL takes a non-const pointer; READ_ONLY means it never writes
     * through it. */
    cl_mem mem =
        clCreateBuffer(impl->context, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR,
                       bytes, (void *)data, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateBuffer", dev->info.name, rc);
    eg_cl_hostbuf *h = victim(impl);
    if (h->mem)
        clReleaseMemObject(h->mem);
    h->mem = mem;
    h->host = data;
    h->bytes = bytes;
    h->used = impl->hostbuf_clock;
    impl->hostbuf_created++;
    *out = mem;
    return EG_OK;
}

void eg_cl_hostbuf_release(eg_cl_impl *impl)
{
    for (int i = 0; i < EG_CL_HOSTBUF_VIEWS; i++) {
        if (impl->hostbuf[i].mem)
            clReleaseMemObject(impl->hostbuf[i].mem);
        memset(&impl->hostbuf[i], 0, sizeof impl->hostbuf[i]);
    }
}

void eg_cl_device_hostbuf_counters(const eg_device *dev, unsigned *created,
                                   unsigned *hits)
{
    const eg_cl_impl *impl = dev->impl;
    *created = impl->hostbuf_created;
    *hits = impl->hostbuf_hits;
}
