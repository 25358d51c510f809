/* cl_program.h - building OpenCL programs, with an on-disk binary cache.
 *
 * A program is an embedded kernel (kernels/reduce.cl for CPU devices,
 * kernels/reduce_gpu.cl for GPUs and accelerators; in exact mode
 * kernels/reduce_exact.cl and kernels/reduce_exact_gpu.cl, behind
 * kernels/exact_rules.h and kernels/exact_plan.h) behind a generated prelude
 * (the lane layout and constants of lanes.h/state.h as #defines, so the
 * kernel never restates them), built with -D options for one (dtype, groups).
 *
 * Built binaries are cached under $XDG_CACHE_HOME/edgegrid/kernels (else
 * $HOME/.cache/edgegrid/kernels), one file per key: a 64-bit FNV-1a hash of
 * everything the binary depends on (platform, device, driver, device version,
 * source bytes, options), so a binary is never loaded on another device or
 * driver.  The cache is an optimisation only: a missing, unreadable, corrupt
 * or rejected file means "build from source", and a cache that cannot be
 * written is silently skipped.
 */
#ifndef EG_CL_PROGRAM_H
#define EG_CL_PROGRAM_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* Where a program is built and what its binary depends on. */
typedef struct eg_cl_target {
    cl_context context;
    cl_device_id device;
    const char *device_name; /* also names the device in error messages */
    const char *platform_name;
    const char *driver;
    const char *device_version;
} eg_cl_target;

/* The full program text (prelude + reduce.cl), malloc'ed, NUL-terminated;
 * *len excludes the NUL.  NULL when out of memory. */
char *eg_cl_kernel_source(size_t *len);
/* The same for the portable kernel of GPUs and accelerators (prelude +
 * kernels/twosum.h + reduce_gpu.cl): the same records, a lane spread over
 * 8 work-items. */
char *eg_cl_gpu_kernel_source(size_t *len);
/* The same for the exact-mode kernel of CPU devices (prelude +
 * kernels/exact_rules.h + kernels/exact_plan.h + reduce_exact.cl). */
char *eg_cl_exact_kernel_source(size_t *len);
/* The same for the exact-mode kernel of GPUs and accelerators (the same
 * headers + reduce_exact_gpu.cl): the same records, a lane spread over a
 * work-group. */
char *eg_cl_exact_gpu_kernel_source(size_t *len);

/* The same for the counting kernels of the quantile ops (prelude +
 * kernels/count.cl): histograms and selection passes (cl_count.c). */
char *eg_cl_count_kernel_source(size_t *len);
/* approx_quantile's sketch (prelude + kernels/sketch_bucket.h +
 * kernels/sketch.cl): its span and counting kernels (cl_count.c). */
char *eg_cl_sketch_kernel_source(size_t *len);

/* "-DEG_T=float -DEG_DT=0 -DEG_GROUPS=31 -DEG_LANE_ELEMS=4096".  Never any
 * relaxed-math option: the kernels must give the host's bits. */
void eg_cl_build_options(eg_dtype dtype, unsigned groups, char *buf,
                         size_t cap);

uint64_t eg_cl_cache_key(const eg_cl_target *t, const char *src, size_t len,
                         const char *options);

/* The cache directory from the environment at call time; 0 when neither
 * XDG_CACHE_HOME (absolute) nor HOME is set or the path does not fit. */
int eg_cl_cache_dir(char *buf, size_t cap);

/* Compiles src for t's device.  On failure err names clBuildProgram, the
 * device and the code, then the options and the build log. */
eg_status eg_cl_build_source(const eg_cl_target *t, const char *src, size_t len,
                             const char *options, cl_program *out,
                             eg_error *err);

/* The program for (src, options): from the binary cache when a valid entry
 * exists, else compiled from source and stored.  *from_cache tells which. */
eg_status eg_cl_program_get(const eg_cl_target *t, const char *src, size_t len,
                            const char *options, cl_program *out,
                            int *from_cache, eg_error *err);

#endif
