/* cl_device.h - internals of the OpenCL backend shared by its modules
 * (cl_backend.c: enumeration and device objects; cl_reduce.c: prepare and
 * reduce_chunk; cl_program.c: program build and binary cache) and by the
 * tests.  Nothing here is public API. */
#ifndef EG_CL_DEVICE_H
#define EG_CL_DEVICE_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_program.h"
#include "device.h"
#include "state.h"

/* Groups index the kernel table directly: every subset of EG_G_ALL, fast
 * (reduce.cl) and exact (reduce_exact.cl, EG_G_EXACT set). */
#define EG_CL_GROUP_MASK (EG_G_ALL | EG_G_EXACT)
#define EG_CL_GROUP_SETS (EG_CL_GROUP_MASK + 1)

/* One built program and its kernel, for one (dtype, groups). */
typedef struct eg_cl_kernel {
    cl_program program;
    cl_kernel kernel;
    size_t local_size;       /* work-group size used to launch it */
    unsigned lanes_per_item; /* EG_LPI the kernel was built with */
    int portable;            /* reduce_gpu.cl: 8 work-items a lane */
    unsigned slot_bytes;     /* its local memory per work-item */
    unsigned group_lane;     /* reduce_exact_gpu.cl: a work-group of this
                                many work-items a lane; 0 otherwise */
} eg_cl_kernel;

/* A reusable device buffer that grows on demand. */
typedef struct eg_cl_buffer {
    cl_mem mem;
    size_t bytes;
} eg_cl_buffer;

/* A pinned staging buffer (CL_MEM_ALLOC_HOST_PTR), mapped for as long as
 * it lives: the host fills `host`, the copy queue sends it to the device
 * at the bus's speed (cl_feed.c). */
typedef struct eg_cl_stage {
    cl_mem mem;
    void *host;
    size_t bytes;
} eg_cl_stage;

/* A zero-copy view (CL_MEM_USE_HOST_PTR) of host memory on a device that
 * shares it, kept between calls (cl_hostbuf.c). */
typedef struct eg_cl_hostbuf {
    cl_mem mem;
    const void *host;
    size_t bytes;
    unsigned long long used; /* clock of its last use: LRU replacement */
} eg_cl_hostbuf;

/* Views kept per device: enough for the chunks of a few hundred MiB of
 * input at the default chunk size; a miss replaces the oldest. */
#define EG_CL_HOSTBUF_VIEWS 64

/* Buffers in flight on the copy path: while the kernel reads one set, the
 * next is filled and copied. */
#define EG_CL_FEED_SETS 2

/* Fault injection, a testing aid (cl_fault.c): EDGEGRID_CL_FAULT makes
 * one device fail the way a real one can, so tests can check that the work
 * moves elsewhere and the notes say why. */
typedef enum eg_cl_fault_kind {
    EG_CL_FAULT_NONE,
    EG_CL_FAULT_BUILD, /* program builds fail: CL_BUILD_PROGRAM_FAILURE */
    EG_CL_FAULT_ALLOC, /* clCreateBuffer: CL_MEM_OBJECT_ALLOCATION_FAILURE */
    EG_CL_FAULT_RUN    /* reduce_chunk: CL_OUT_OF_RESOURCES after the kernel
                          ran, its lane records scribbled over */
} eg_cl_fault_kind;

typedef struct eg_cl_fault {
    int loaded;            /* the environment was read (first prepare) */
    eg_cl_fault_kind kind; /* NONE unless it targets this device */
    unsigned from;         /* fires on the from-th occasion and after */
    unsigned seen;         /* occasions of `kind` so far */
} eg_cl_fault;

/* The counting kernels of the quantile ops and their buffers (cl_count.c),
 * made on the first count. */
typedef struct eg_cl_count eg_cl_count;

typedef struct eg_cl_impl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context; /* created by the first prepare */
    cl_command_queue queue;
    char device_version[128]; /* part of the binary cache key */
    eg_cl_kernel kernels[EG_DTYPE_COUNT][EG_CL_GROUP_SETS];
    eg_cl_buffer outbuf;      /* lane records */
    /* The copy path of devices without unified memory (cl_feed.c): a copy
     * queue beside the compute queue, and per set in flight the pinned
     * staging and the device buffers of x and y, and the records. */
    cl_command_queue copy_queue;
    eg_cl_stage stage[EG_CL_FEED_SETS][2];
    eg_cl_buffer feed_in[EG_CL_FEED_SETS][2];
    eg_cl_buffer feed_out[EG_CL_FEED_SETS];
    /* Unified memory: the views of host memory kept between calls. */
    eg_cl_hostbuf hostbuf[EG_CL_HOSTBUF_VIEWS];
    unsigned long long hostbuf_clock;
    unsigned hostbuf_created; /* views created (misses) */
    unsigned hostbuf_hits;    /* calls served by a kept view */
    /* The same device in the context of the last eg_reduce_cl_buffer
     * caller (cl_resident.c), kept so that the next call with that
     * context reuses its queue and kernels. */
    struct eg_cl_impl *resident;
    unsigned programs_built;  /* compiled from source */
    unsigned programs_loaded; /* loaded from the binary cache */
    eg_cl_fault fault;        /* per device: its counter, no global state */
    /* Which kernels: 0 the CPU-tuned ones (reduce.cl, several lanes a
     * work-item), 1 the portable ones (reduce_gpu.cl, a lane over 8
     * work-items), chosen from the device type when it is listed. */
    int portable;
    int probed; /* the contraction probe ran and passed */
    /* Extra build options of the contraction probe, a testing aid
     * (eg_cl_device_set_probe_options); NULL normally. */
    const char *probe_options;
    eg_cl_count *count; /* NULL until the device first counts */
} eg_cl_impl;

extern const eg_backend_ops eg_cl_ops;

/* What the program cache and builder need of an OpenCL device (its
 * context must exist: eg_cl_ensure_context). */
static inline eg_cl_target eg_cl_target_of(const eg_device *dev)
{
    const eg_cl_impl *impl = dev->impl;
    eg_cl_target t = {impl->context,    impl->device,
                      dev->info.name,   dev->info.platform,
                      dev->info.driver, impl->device_version};
    return t;
}

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
/* Makes buf hold at least `bytes`; the old contents are not kept. */
eg_status eg_cl_buffer_reserve(eg_device *dev, eg_cl_buffer *buf,
                               cl_mem_flags flags, size_t bytes,
                               eg_error *err);
/* Enqueues kernel k over x[0, n) (y for dot, else any buffer) into the
 * records at out, on the compute queue after the nwait events of wait;
 * *done (when not NULL) gets the kernel's event.  Records the geometry in
 * dev->launch_global/local. */
eg_status eg_cl_launch(eg_device *dev, const eg_cl_kernel *k, cl_mem xm,
                       cl_mem ym, cl_mem out, uint64_t n, cl_uint nwait,
                       const cl_event *wait, cl_event *done, eg_error *err);
/* The copy path (cl_feed.c): x[0, n) (and y) of host memory through
 * pinned staging buffers, copies overlapped with kernels, into the records
 * at lanes_out, with indices relative to x. */
eg_status eg_cl_reduce_staged(eg_device *dev, const void *x, const void *y,
                              uint64_t n, eg_dtype dtype, unsigned g,
                              uint64_t *lanes_out, eg_error *err);
/* Records of a launch that started `offset` elements into the call: their
 * indices made relative to the call, as one launch would give them. */
void eg_cl_shift_indices(uint64_t *w, uint64_t lanes, unsigned g,
                         uint64_t offset);
/* Releases the copy path's queue and buffers. */
void eg_cl_feed_release(eg_cl_impl *impl);

/* Unified memory (cl_hostbuf.c): *out becomes a zero-copy view of
 * data[0, bytes), a kept one when the same region was seen before, owned
 * by the device (the caller does not release it). */
eg_status eg_cl_hostbuf_get(eg_device *dev, const void *data, size_t bytes,
                            cl_mem *out, eg_error *err);
/* Releases every kept view. */
void eg_cl_hostbuf_release(eg_cl_impl *impl);
/* For tests and the bench: views created and calls that reused one. */
void eg_cl_device_hostbuf_counters(const eg_device *dev, unsigned *created,
                                   unsigned *hits);

/* The records of n elements already on the device (xm, and ym for dot),
 * buffers of the device's context: one launch, no copy of the inputs. */
eg_status eg_cl_reduce_mem(eg_device *dev, cl_mem xm, cl_mem ym, uint64_t n,
                           eg_dtype dtype, unsigned groups,
                           uint64_t *lanes_out, eg_error *err);
/* The counting passes (cl_count.c, kernels/count.cl), device.h's
 * count_hist and count_select: one launch each, of at most
 * EG_CL_COUNT_MAX elements (32-bit counters per launch) and, for a
 * selection pass, at most EG_CL_COUNT_GROUPS_MAX buckets. */
#define EG_CL_COUNT_MAX (1ull << 24)
#define EG_CL_COUNT_GROUPS_MAX 160
struct eg_hist_plan;
struct eg_hist_state;
eg_status eg_cl_count_hist(eg_device *dev, const struct eg_hist_plan *p,
                           const void *x, uint64_t n, struct eg_hist_state *s,
                           eg_error *err);
eg_status eg_cl_count_select(eg_device *dev, eg_dtype t,
                             const eg_count_group *g, size_t ng,
                             const void *x, uint64_t n, uint64_t *nan,
                             eg_error *err);
/* approx_quantile's sketch over x[0, n) of dtype t into s
 * (kernels/sketch.cl): the chunk's bucket span, then its counts; added to
 * s only when the whole call succeeded. */
struct eg_sketch;
eg_status eg_cl_count_sketch(eg_device *dev, struct eg_sketch *s, eg_dtype t,
                             const void *x, uint64_t n, eg_error *err);
/* Releases the counting kernels and buffers. */
void eg_cl_count_release(eg_cl_impl *impl);

/* Releases every CL object of impl (kernels, buffers, queue, context). */
void eg_cl_impl_release(eg_cl_impl *impl);

/* Reads EDGEGRID_CL_FAULT once per device (a testing aid):
 *     build | alloc | run   [:K]   [@DEV]
 * fails the K-th (default 1st) program build, buffer allocation or
 * reduce_chunk call (of one or several chunks) of the device whose index
 * is DEV (default every OpenCL device), and every one after it.  Unset or
 * empty: no fault.  A malformed value is EG_EUSAGE, so the device is dropped
 * with the reason in the notes. */
#ifdef EDGEGRID_TEST_HOOKS
eg_status eg_cl_fault_load(eg_device *dev, eg_error *err);
/* Counts one occasion of `kind` on dev; 1 when the fault fires now. */
int eg_cl_fault_fires(eg_device *dev, eg_cl_fault_kind kind);
/* The injected build fault: the program text src (malloc'ed, *len bytes)
 * plus a line the compiler rejects, so the failure takes the real
 * clBuildProgram path, log included.  Takes src; NULL when out of memory. */
char *eg_cl_fault_break_source(char *src, size_t *len);
#else
/* A product build (EDGEGRID_TEST_HOOKS off) has no fault injection: the
 * variable is not read and nothing can scribble over the read path. */
static inline eg_status eg_cl_fault_load(eg_device *dev, eg_error *err)
{
    (void)dev;
    (void)err;
    return EG_OK;
}
static inline int eg_cl_fault_fires(eg_device *dev, eg_cl_fault_kind kind)
{
    (void)dev;
    (void)kind;
    return 0;
}
/* Never called (no fault fires): the product holds no broken source. */
static inline char *eg_cl_fault_break_source(char *src, size_t *len)
{
    (void)len;
    return src;
}
#endif

/* For tests and diagnostics: 1 if dev belongs to the OpenCL backend, and
 * how many of its programs were compiled or came from the binary cache. */
int eg_cl_device_is_opencl(const eg_device *dev);
void eg_cl_device_counters(const eg_device *dev, unsigned *built,
                           unsigned *loaded);

/* For tests: makes dev use the portable kernels (1) or the CPU-tuned ones
 * (0) whatever its type; kernels built before are released. */
void eg_cl_device_set_portable(eg_device *dev, int portable);

/* The contraction probe (cl_probe.c): builds kernels/probe_fma.cl with the
 * kernels' own options plus `extra` (NULL: none), runs a * b + c on values
 * where a fused multiply-add gives another result, and sets *contracts. */
eg_status eg_cl_probe_contraction(eg_device *dev, const char *extra,
                                  int *contracts, eg_error *err);
/* The probe's verdict from its two results (double, float): 1 when either
 * is not the separately rounded 0.0, i.e. the device fused a * b + c. */
int eg_cl_probe_verdict(const double out[2]);
/* The binary cache key of the probe as eg_cl_prepare builds it, so that
 * tests of the cache can tell its file from the kernels'. */
uint64_t eg_cl_probe_cache_key(const eg_device *dev);
/* For tests: extra options for the probe eg_cl_prepare runs, so that a
 * test can build it with contraction on and see the device refused. */
void eg_cl_device_set_probe_options(eg_device *dev, const char *extra);

/* Compiles `src` (len bytes) with `options` for dev and throws the program
 * away: lets tests check how build failures are reported. */
eg_status eg_cl_device_try_build(eg_device *dev, const char *src, size_t len,
                                 const char *options, eg_error *err);

#endif
