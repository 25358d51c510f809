/* cl_backend.c - the OpenCL backend: error names, enumeration of platforms
 * and devices, and the life of a device object.  Program builds live in
 * cl_program.c, the chunk reduction in cl_reduce.c. */
#include "cl_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_device.h"
#include "cl_program.h"
#include "error.h"

/* Chunks per reduce_chunk call (eg_device.chunks_per_call). */
#define EG_CL_CHUNKS_PER_CALL 8

/* ------------------------------------------------------------ error names */

/* Every code of OpenCL 1.2, the later core codes and the ICD's
 * CL_PLATFORM_NOT_FOUND_KHR, by value: the 1.2 headers hide some names. */
/* clang-format off */
#define EG_CL_ERRORS(XX)                                                     \
    XX(0, CL_SUCCESS)                                                        \
    XX(-1, CL_DEVICE_NOT_FOUND)                                              \
    XX(-2, CL_DEVICE_NOT_AVAILABLE)                                          \
    XX(-3, CL_COMPILER_NOT_AVAILABLE)                                        \
    XX(-4, CL_MEM_OBJECT_ALLOCATION_FAILURE)                                 \
    XX(-5, CL_OUT_OF_RESOURCES)                                              \
    XX(-6, CL_OUT_OF_HOST_MEMORY)                                            \
    XX(-7, CL_PROFILING_INFO_NOT_AVAILABLE)                                  \
    XX(-8, CL_MEM_COPY_OVERLAP)                                              \
    XX(-9, CL_IMAGE_FORMAT_MISMATCH)                                         \
    XX(-10, CL_IMAGE_FORMAT_NOT_SUPPORTED)                                   \
    XX(-11, CL_BUILD_PROGRAM_FAILURE)                                        \
    XX(-12, CL_MAP_FAILURE)                                                  \
    XX(-13, CL_MISALIGNED_SUB_BUFFER_OFFSET)                                 \
    XX(-14, CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)                    \
    XX(-15, CL_COMPILE_PROGRAM_FAILURE)                                      \
    XX(-16, CL_LINKER_NOT_AVAILABLE)                                         \
    XX(-17, CL_LINK_PROGRAM_FAILURE)                                         \
    XX(-18, CL_DEVICE_PARTITION_FAILED)                                      \
    XX(-19, CL_KERNEL_ARG_INFO_NOT_AVAILABLE)                                \
    XX(-30, CL_INVALID_VALUE)                                                \
    XX(-31, CL_INVALID_DEVICE_TYPE)                                          \
    XX(-32, CL_INVALID_PLATFORM)                                             \
    XX(-33, CL_INVALID_DEVICE)                                               \
    XX(-34, CL_INVALID_CONTEXT)                                              \
    XX(-35, CL_INVALID_QUEUE_PROPERTIES)                                     \
    XX(-36, CL_INVALID_COMMAND_QUEUE)                                        \
    XX(-37, CL_INVALID_HOST_PTR)                                             \
    XX(-38, CL_INVALID_MEM_OBJECT)                                           \
    XX(-39, CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)                              \
    XX(-40, CL_INVALID_IMAGE_SIZE)                                           \
    XX(-41, CL_INVALID_SAMPLER)                                              \
    XX(-42, CL_INVALID_BINARY)                                               \
    XX(-43, CL_INVALID_BUILD_OPTIONS)                                        \
    XX(-44, CL_INVALID_PROGRAM)                                              \
    XX(-45, CL_INVALID_PROGRAM_EXECUTABLE)                                   \
    XX(-46, CL_INVALID_KERNEL_NAME)                                          \
    XX(-47, CL_INVALID_KERNEL_DEFINITION)                                    \
    XX(-48, CL_INVALID_KERNEL)                                               \
    XX(-49, CL_INVALID_ARG_INDEX)                                            \
    XX(-50, CL_INVALID_ARG_VALUE)                                            \
    XX(-51, CL_INVALID_ARG_SIZE)                                             \
    XX(-52, CL_INVALID_KERNEL_ARGS)                                          \
    XX(-53, CL_INVALID_WORK_DIMENSION)                                       \
    XX(-54, CL_INVALID_WORK_GROUP_SIZE)                                      \
    XX(-55, CL_INVALID_WORK_ITEM_SIZE)                                       \
    XX(-56, CL_INVALID_GLOBAL_OFFSET)                                        \
    XX(-57, CL_INVALID_EVENT_WAIT_LIST)                                      \
    XX(-58, CL_INVALID_EVENT)                                                \
    XX(-59, CL_INVALID_OPERATION)                                            \
    XX(-60, CL_INVALID_GL_OBJECT)                                            \
    XX(-61, CL_INVALID_BUFFER_SIZE)                                          \
    XX(-62, CL_INVALID_MIP_LEVEL)                                            \
    XX(-63, CL_INVALID_GLOBAL_WORK_SIZE)                                     \
    XX(-64, CL_INVALID_PROPERTY)                                             \
    XX(-65, CL_INVALID_IMAGE_DESCRIPTOR)                                     \
    XX(-66, CL_INVALID_COMPILER_OPTIONS)                                     \
    XX(-67, CL_INVALID_LINKER_OPTIONS)                                       \
    XX(-68, CL_INVALID_DEVICE_PARTITION_COUNT)                               \
    XX(-69, CL_INVALID_PIPE_SIZE)                                            \
    XX(-70, CL_INVALID_DEVICE_QUEUE)                                         \
    XX(-71, CL_INVALID_SPEC_ID)                                              \
    XX(-72, CL_MAX_SIZE_RESTRICTION_EXCEEDED)                                \
    XX(-1000, CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR)                        \
    XX(-1001, CL_PLATFORM_NOT_FOUND_KHR)
/* clang-format on */

#define EG_CL_UNKNOWN "CL_UNKNOWN_ERROR"

const char *eg_cl_error_name(int code)
{
    switch (code) {
#define EG_XX_CL_NAME(value, name)                                             \
    case value:                                                                \
        return #name;
        EG_CL_ERRORS(EG_XX_CL_NAME)
#undef EG_XX_CL_NAME
    }
    return EG_CL_UNKNOWN;
}

eg_status eg_cl_fail(eg_error *err, const char *call, const char *device,
                     cl_int code)
{
    const char *name = eg_cl_error_name(code);
    if (strcmp(name, EG_CL_UNKNOWN) == 0)
        return eg_error_set(err, EG_EOPENCL, "%s on \"%s\": %s(%d)", call,
                            device, name, (int)code);
    return eg_error_set(err, EG_EOPENCL, "%s on \"%s\": %s", call, device,
                        name);
}

/* ---------------------------------------------------------- device info */

static cl_int info_string(cl_device_id dev, cl_device_info what, char *buf,
                          size_t cap)
{
    size_t size = 0;
    buf[0] = '\0';
    cl_int rc = clGetDeviceInfo(dev, what, 0, NULL, &size);
    if (rc != CL_SUCCESS)
        return rc;
    char *tmp = malloc(size + 1);
    if (!tmp)
        return CL_OUT_OF_HOST_MEMORY;
    rc = clGetDeviceInfo(dev, what, size, tmp, NULL);
    if (rc == CL_SUCCESS) {
        tmp[size] = '\0';
        snprintf(buf, cap, "%s", tmp);
    }
    free(tmp);
    return rc;
}

/* The platform's name, truncated to fit; "" if it does not answer. */
static void platform_name(cl_platform_id p, char *buf, size_t cap)
{
    size_t size = 0;
    buf[0] = '\0';
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, 0, NULL, &size) != CL_SUCCESS)
        return;
    char *tmp = malloc(size + 1);
    if (!tmp)
        return;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, size, tmp, NULL) == CL_SUCCESS) {
        tmp[size] = '\0';
        snprintf(buf, cap, "%s", tmp);
    }
    free(tmp);
}

static int has_extension(cl_device_id dev, const char *name)
{
    size_t size = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &size) !=
        CL_SUCCESS)
        return 0;
    char *ext = malloc(size + 1);
    if (!ext)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, size, ext, NULL) ==
        CL_SUCCESS) {
        ext[size] = '\0';
        /* Whole words only: "cl_khr_fp64" must not match "cl_khr_fp64x". */
        size_t n = strlen(name);
        for (char *p = strstr(ext, name); p && !found; p = strstr(p + 1, name))
            found = (p == ext || p[-1] == ' ') && (p[n] == ' ' || !p[n]);
    }
    free(ext);
    return found;
}

static int device_fp64(cl_device_id dev)
{
    cl_device_fp_config cfg = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof cfg, &cfg,
                        NULL) == CL_SUCCESS &&
        cfg != 0)
        return 1;
    return has_extension(dev, "cl_khr_fp64");
}

static eg_device_kind device_kind(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return EG_DEV_GPU;
    if (type & CL_DEVICE_TYPE_CPU)
        return EG_DEV_CPU;
    return EG_DEV_ACCEL;
}

/* Queries everything eg_device_info and the cache key need. */
static cl_int query_device(cl_device_id dev, const char *platform,
                           eg_device_info *info, eg_cl_impl *impl)
{
    cl_device_type type = 0;
    cl_uint units = 0;
    cl_ulong gmem = 0, alloc = 0;
    cl_bool unified = CL_FALSE;
    cl_int rc;
    memset(info, 0, sizeof *info);
    snprintf(info->platform, sizeof info->platform, "%s", platform);
    if ((rc = clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL)) !=
            CL_SUCCESS ||
        (rc = info_string(dev, CL_DEVICE_NAME, info->name,
                          sizeof info->name)) != CL_SUCCESS ||
        (rc = info_string(dev, CL_DRIVER_VERSION, info->driver,
                          sizeof info->driver)) != CL_SUCCESS ||
        (rc = info_string(dev, CL_DEVICE_VERSION, impl->device_version,
                          sizeof impl->device_version)) != CL_SUCCESS ||
        (rc = clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units,
                              &units, NULL)) != CL_SUCCESS ||
        (rc = clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem,
                              &gmem, NULL)) != CL_SUCCESS ||
        (rc = clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc,
                              &alloc, NULL)) != CL_SUCCESS)
        return rc;
    /* Deprecated after 1.2; a device that does not answer shares nothing. */
    if (clGetDeviceInfo(dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified,
                        &unified, NULL) != CL_SUCCESS)
        unified = CL_FALSE;
    info->kind = device_kind(type);
    info->compute_units = units;
    info->global_mem = gmem;
    info->max_alloc = alloc;
    info->unified_memory = unified == CL_TRUE;
    info->fp64 = device_fp64(dev);
    return CL_SUCCESS;
}

/* ------------------------------------------------------- device objects */

static void cl_destroy(eg_device *dev)
{
    if (!dev || !dev->impl)
        return;
    eg_cl_impl_release(dev->impl);
    free(dev->impl);
    dev->impl = NULL;
}

const eg_backend_ops eg_cl_ops = {
    .prepare = eg_cl_prepare,
    .reduce_chunk = eg_cl_reduce_chunk,
    .count_hist = eg_cl_count_hist,
    .count_select = eg_cl_count_select,
    .count_sketch = eg_cl_count_sketch,
    .destroy = cl_destroy,
};

int eg_cl_device_is_opencl(const eg_device *dev)
{
    return dev && dev->ops == &eg_cl_ops && dev->impl;
}

void eg_cl_device_counters(const eg_device *dev, unsigned *built,
                           unsigned *loaded)
{
    const eg_cl_impl *impl = eg_cl_device_is_opencl(dev) ? dev->impl : NULL;
    *built = impl ? impl->programs_built : 0;
    *loaded = impl ? impl->programs_loaded : 0;
}

void eg_cl_device_set_portable(eg_device *dev, int portable)
{
    if (!eg_cl_device_is_opencl(dev))
        return;
    eg_cl_impl *impl = dev->impl;
    if (impl->portable == (portable != 0))
        return;
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        for (int g = 0; g < EG_CL_GROUP_SETS; g++) {
            eg_cl_kernel *k = &impl->kernels[t][g];
            if (k->kernel)
                clReleaseKernel(k->kernel);
            if (k->program)
                clReleaseProgram(k->program);
            memset(k, 0, sizeof *k);
        }
    }
    impl->portable = portable != 0;
    if (impl->resident) { /* built for the old choice */
        eg_cl_impl_release(impl->resident);
        free(impl->resident);
        impl->resident = NULL;
    }
}

eg_status eg_cl_ensure_context(eg_device *dev, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    if (impl->context)
        return EG_OK;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                     (cl_context_properties)impl->platform, 0};
    cl_int rc;
    cl_context ctx = clCreateContext(props, 1, &impl->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clCreateContext", dev->info.name, rc);
    cl_command_queue q = clCreateCommandQueue(ctx, impl->device, 0, &rc);
    if (rc != CL_SUCCESS) {
        clReleaseContext(ctx);
        return eg_cl_fail(err, "clCreateCommandQueue", dev->info.name, rc);
    }
    impl->context = ctx;
    impl->queue = q;
    return EG_OK;
}

eg_status eg_cl_device_try_build(eg_device *dev, const char *src, size_t len,
                                 const char *options, eg_error *err)
{
    if (!eg_cl_device_is_opencl(dev))
        return eg_error_set(err, EG_EINTERNAL, "not an OpenCL device");
    eg_status st = eg_cl_ensure_context(dev, err);
    if (st != EG_OK)
        return st;
    eg_cl_target t = eg_cl_target_of(dev);
    cl_program prog = NULL;
    st = eg_cl_build_source(&t, src, len, options, &prog, err);
    if (prog)
        clReleaseProgram(prog);
    return st;
}

/* Makes the device object for one CL device; NULL when out of memory. */
static eg_device *device_new(cl_platform_id platform, cl_device_id id)
{
    eg_device *dev = calloc(1, sizeof *dev);
    eg_cl_impl *impl = calloc(1, sizeof *impl);
    if (!dev || !impl) {
        free(dev);
        free(impl);
        return NULL;
    }
    impl->platform = platform;
    impl->device = id;
    dev->ops = &eg_cl_ops;
    dev->impl = impl;
    /* One in-order queue: the scheduler drives a CL device from one
     * thread.  Each call launches a kernel and waits for it: on a CPU
     * device the launch and the two wake-ups cost about a tenth of a
     * chunk's time, so calls take several chunks. */
    dev->threads = 1;
    dev->chunks_per_call = EG_CL_CHUNKS_PER_CALL;
    return dev;
}

static eg_status append_device(eg_device ***devs, size_t *count, eg_device *dev,
                               eg_error *err)
{
    eg_device **grown = realloc(*devs, (*count + 1) * sizeof *grown);
    if (!grown)
        return eg_error_set(err, EG_ENOMEM,
                            "out of memory listing OpenCL devices");
    grown[*count] = dev;
    *devs = grown;
    (*count)++;
    return EG_OK;
}

/* -------------------------------------------------------- enumeration */

/* Adds the devices of one platform.  A platform or device that cannot be
 * queried is skipped with a note: one broken driver must not hide the
 * others. */
static eg_status enumerate_platform(cl_platform_id p, eg_device ***devs,
                                    size_t *count, char *notes,
                                    size_t notes_len, eg_error *err)
{
    char pname[EG_NAME_MAX];
    platform_name(p, pname, sizeof pname);
    cl_uint n = 0;
    cl_int rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (rc == CL_DEVICE_NOT_FOUND || (rc == CL_SUCCESS && n == 0))
        return EG_OK;
    if (rc != CL_SUCCESS) {
        eg_notes_append(notes, notes_len,
             "clGetDeviceIDs on platform \"%s\": %s; "
             "skipped",
             pname, eg_cl_error_name(rc));
        return EG_OK;
    }
    cl_device_id *ids = calloc(n, sizeof *ids);
    if (!ids)
        return eg_error_set(err, EG_ENOMEM,
                            "out of memory listing OpenCL devices");
    eg_status st = EG_OK;
    rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids, NULL);
    for (cl_uint i = 0; rc == CL_SUCCESS && i < n && st == EG_OK; i++) {
        eg_device *dev = device_new(p, ids[i]);
        if (!dev) {
            st = eg_error_set(err, EG_ENOMEM,
                              "out of memory listing OpenCL devices");
            break;
        }
        cl_int qrc = query_device(ids[i], pname, &dev->info, dev->impl);
        if (qrc != CL_SUCCESS) {
            eg_notes_append(notes, notes_len,
                 "clGetDeviceInfo on device %u of \"%s\": "
                 "%s; skipped",
                 (unsigned)i, pname, eg_cl_error_name(qrc));
            eg_device_destroy(&dev);
            continue;
        }
        /* GPUs and accelerators get the portable kernels: a CPU-tuned
         * work-item (a whole lane in vectors) would leave most of one
         * idle and read nothing side by side. */
        ((eg_cl_impl *)dev->impl)->portable = dev->info.kind != EG_DEV_CPU;
        st = append_device(devs, count, dev, err);
        if (st != EG_OK)
            eg_device_destroy(&dev);
    }
    if (rc != CL_SUCCESS)
        eg_notes_append(notes, notes_len,
             "clGetDeviceIDs on platform \"%s\": %s; "
             "skipped",
             pname, eg_cl_error_name(rc));
    free(ids);
    return st;
}

eg_status eg_cl_enumerate(eg_device ***devs, size_t *count, char *notes,
                          size_t notes_len, eg_error *err)
{
    cl_uint n = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &n);
    if (rc != CL_SUCCESS || n == 0) {
        /* No ICD, no platform: an answer, not a failure. */
        eg_notes_append(notes, notes_len,
             "no OpenCL platform found (%s); using the "
             "host backend",
             rc == CL_SUCCESS ? "zero platforms" : eg_cl_error_name(rc));
        return EG_OK;
    }
    cl_platform_id *ids = calloc(n, sizeof *ids);
    if (!ids)
        return eg_error_set(err, EG_ENOMEM,
                            "out of memory listing OpenCL platforms");
    eg_status st = EG_OK;
    size_t before = *count;
    rc = clGetPlatformIDs(n, ids, NULL);
    if (rc != CL_SUCCESS)
        eg_notes_append(notes, notes_len,
             "clGetPlatformIDs: %s; using the host "
             "backend",
             eg_cl_error_name(rc));
    for (cl_uint i = 0; rc == CL_SUCCESS && i < n && st == EG_OK; i++)
        st = enumerate_platform(ids[i], devs, count, notes, notes_len, err);
    free(ids);
    if (st == EG_OK && rc == CL_SUCCESS && *count == before)
        eg_notes_append(notes, notes_len,
             "no OpenCL device found; using the host "
             "backend");
    return st;
}
