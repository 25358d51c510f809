/* cl_device.h - internals of the OpenCL backend shared by its modules
 * (cl_backend.c: enumeration and device objects; cl_reduce.c: prepare and
 * reduce_chunk; cl_program.c: program build and binary cache) and by the
 * tests.  Nothing here is public API. */
#ifndef EG_CL_DEVICE_H
#define EG_CL_DEVICE_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "state.h"

/* Groups index the kernel table directly: every subset of EG_G_ALL. */
#define EG_CL_GROUP_SETS (EG_G_ALL + 1)

/* One built program and its kernel, for one (dtype, groups). */
typedef struct eg_cl_kernel {
    cl_program program;
    cl_kernel kernel;
    size_t local_size; /* work-group size used to launch it */
    unsigned lanes_per_item; /* EG_LPI the kernel was built with */
} eg_cl_kernel;

/* A reusable device buffer that grows on demand. */
typedef struct eg_cl_buffer {
    cl_mem mem;
    size_t bytes;
} eg_cl_buffer;

typedef struct eg_cl_impl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context; /* created by the first prepare */
    cl_command_queue queue;
    char device_version[128]; /* part of the binary cache key */
    eg_cl_kernel kernels[EG_DTYPE_COUNT][EG_CL_GROUP_SETS];
    eg_cl_buffer xbuf, ybuf;  /* inputs, for devices without unified memory */
    eg_cl_buffer outbuf;      /* lane records */
    unsigned programs_built;  /* compiled from source */
    unsigned programs_loaded; /* loaded from the binary cache */
} eg_cl_impl;

extern const eg_backend_ops eg_cl_ops;

/* Fills err with "<call> on "<device>": CL_NAME" (the numeric code added
 * when the name is unknown) and returns EG_EOPENCL. */
eg_status eg_cl_fail(eg_error *err, const char *call, const char *device,
                     cl_int code);

/* Creates the context and queue if the device has none yet. */
eg_status eg_cl_ensure_context(eg_device *dev, eg_error *err);

/* device.h operations of the OpenCL backend (cl_reduce.c). */
eg_status eg_cl_prepare(eg_device *dev, eg_dtype dtype, unsigned groups,
                        eg_error *err);
eg_status eg_cl_reduce_chunk(eg_device *dev, const void *x, const void *y,
                             uint64_t n, eg_dtype dtype, unsigned groups,
                             uint64_t *lanes_out, eg_error *err);
/* Releases every CL object of impl (kernels, buffers, queue, context). */
void eg_cl_impl_release(eg_cl_impl *impl);

/* For tests and diagnostics: 1 if dev belongs to the OpenCL backend, and
 * how many of its programs were compiled or came from the binary cache. */
int eg_cl_device_is_opencl(const eg_device *dev);
void eg_cl_device_counters(const eg_device *dev, unsigned *built,
                           unsigned *loaded);

/* Compiles `src` (len bytes) with `options` for dev and throws the program
 * away: lets tests check how build failures are reported. */
eg_status eg_cl_device_try_build(eg_device *dev, const char *src, size_t len,
                                 const char *options, eg_error *err);

#endif
