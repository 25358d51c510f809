/* cl_probe.c - the floating-point contraction guard: one tiny kernel per
 * device (kernels/probe_fma.cl), run when the device is first prepared.
 * A device whose compiler fuses a * b + c would give other bits than every
 * other device, so it is refused rather than trusted. */
#include <stdio.h>
#include <string.h>

#include "cl_device.h"
#include "cl_program.h"
#include "eg_kernels.h"
#include "error.h"

int eg_cl_probe_verdict(const double out[2])
{
    return out[0] != 0.0 || out[1] != 0.0;
}

void eg_cl_device_set_probe_options(eg_device *dev, const char *extra)
{
    if (eg_cl_device_is_opencl(dev)) {
        eg_cl_impl *impl = dev->impl;
        impl->probe_options = extra;
        impl->probed = 0;
    }
}

/* Runs the built probe; fills out[2]. */
static eg_status run_probe(eg_device *dev, cl_program prog, double out[2],
                           eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    const double in[6] = {1.0 + 0x1p-30, 1.0 - 0x1p-30, -1.0,
                          1.0 + 0x1p-13, 1.0 - 0x1p-13, -1.0};
    cl_int rc;
    cl_mem inm = NULL, outm = NULL;
    cl_kernel k = clCreateKernel(prog, "eg_probe", &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateKernel(eg_probe)", dev->info.name, rc);
    eg_status st = EG_OK;
    inm = clCreateBuffer(impl->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                         sizeof in, (void *)in, &rc);
    if (rc == CL_SUCCESS)
        outm = clCreateBuffer(impl->context, CL_MEM_WRITE_ONLY,
                              2 * sizeof(double), NULL, &rc);
    if (rc != CL_SUCCESS) {
        st = eg_cl_fail(err, "clCreateBuffer", dev->info.name, rc);
        goto done;
    }
    size_t one = 1;
    if ((rc = clSetKernelArg(k, 0, sizeof inm, &inm)) != CL_SUCCESS ||
        (rc = clSetKernelArg(k, 1, sizeof outm, &outm)) != CL_SUCCESS ||
        (rc = clEnqueueNDRangeKernel(impl->queue, k, 1, NULL, &one, &one, 0,
                                     NULL, NULL)) != CL_SUCCESS ||
        (rc = clEnqueueReadBuffer(impl->queue, outm, CL_TRUE, 0,
                                  2 * sizeof(double), out, 0, NULL, NULL)) !=
            CL_SUCCESS)
        st = eg_cl_fail(err, "the contraction probe", dev->info.name, rc);
done:
    if (outm)
        clReleaseMemObject(outm);
    if (inm)
        clReleaseMemObject(inm);
    clReleaseKernel(k);
    return st;
}

/* The reduction kernels' options for one of them (the same compiler flags
 * the real kernels get), then `extra`. */
static void probe_options(const char *extra, char *options, size_t cap)
{
    eg_cl_build_options(EG_F64, 0, options, cap);
    if (extra) {
        size_t used = strlen(options);
        snprintf(options + used, cap - used, " %s", extra);
    }
}

uint64_t eg_cl_probe_cache_key(const eg_device *dev)
{
    char options[512];
    probe_options(NULL, options, sizeof options);
    eg_cl_target t = eg_cl_target_of(dev);
    return eg_cl_cache_key(&t, (const char *)eg_kernel_probe_fma,
                           eg_kernel_probe_fma_len, options);
}

eg_status eg_cl_probe_contraction(eg_device *dev, const char *extra,
                                  int *contracts, eg_error *err)
{
    if (!eg_cl_device_is_opencl(dev))
        return eg_error_set(err, EG_EINTERNAL, "not an OpenCL device");
    eg_status st = eg_cl_ensure_context(dev, err);
    if (st != EG_OK)
        return st;
    char options[512];
    probe_options(extra, options, sizeof options);
    eg_cl_target t = eg_cl_target_of(dev);
    /* Through the binary cache: a compile per run would cost about as
     * much as a small reduction. */
    cl_program prog = NULL;
    int from_cache = 0;
    st = eg_cl_program_get(&t, (const char *)eg_kernel_probe_fma,
                           eg_kernel_probe_fma_len, options, &prog, &from_cache,
                           err);
    if (st != EG_OK)
        return st;
    double out[2] = {0.0, 0.0};
    st = run_probe(dev, prog, out, err);
    clReleaseProgram(prog);
    if (st == EG_OK)
        *contracts = eg_cl_probe_verdict(out);
    return st;
}
