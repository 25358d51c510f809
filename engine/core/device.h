/* device.h - the device interface every backend implements.
 *
 * A backend turns one chunk of native-order elements into lane records (see
 * lanes.h): one record of EG_LANE_WORDS words per EG_LANE_ELEMS elements, each
 * computed in the canonical lane order, so every backend gives the same bits.
 * The scheduler owns device objects and calls a device from one thread at a
 * time, except the host backend, which is reentrant and asks for `threads`
 * scheduler threads.
 */
#ifndef EG_DEVICE_H
#define EG_DEVICE_H

#include "edgegrid.h"

typedef struct eg_device eg_device;
struct eg_hist_plan;
struct eg_hist_state;
struct eg_sketch;

/* One bucket of a radix-selection pass (quant/qselect.c) as a device
 * counts it: the keys whose top `fixed` bits equal `prefix` (fixed 0:
 * every key), their next digit counted into hist (2^16 counts, 2^8 for
 * 8-bit dtypes), or, with hist NULL, the keys themselves appended to
 * keys[*len ..] while *len < cap. */
typedef struct eg_count_group {
    uint64_t prefix;
    unsigned fixed;
    uint64_t *hist;
    uint64_t *keys;
    uint64_t *len;
    uint64_t cap;
} eg_count_group;

typedef struct eg_backend_ops {
    /* Builds whatever reduce_chunk needs for (dtype, groups) so that the first
     * chunk is not slowed by compilation.  May be called again; cheap then. */
    eg_status (*prepare)(eg_device *dev, eg_dtype dtype, unsigned groups,
                         eg_error *err);
    /* Reduces x[0..n) (and y[0..n) when groups has EG_G_DOT; else y is NULL)
     * into ceil(n / EG_LANE_ELEMS) lane records written to lanes_out.
     * n <= chunks_per_call times the chunk size the scheduler uses; x and y
     * are the caller's memory and stay valid for the call. */
    eg_status (*reduce_chunk)(eg_device *dev, const void *x, const void *y,
                              uint64_t n, eg_dtype dtype, unsigned groups,
                              uint64_t *lanes_out, eg_error *err);
    /* The counting passes of the quantile ops, optional (NULL: the device
     * does not count; the host's cores do).  Both add to what the caller
     * holds only when they succeed, so a failed call can be redone
     * elsewhere.  count_hist: x[0..n) into s, numpy's bins of plan p.
     * count_select: x[0..n) into the ng groups, and its NaNs to *nan. */
    eg_status (*count_hist)(eg_device *dev, const struct eg_hist_plan *p,
                            const void *x, uint64_t n,
                            struct eg_hist_state *s, eg_error *err);
    eg_status (*count_select)(eg_device *dev, eg_dtype t,
                              const eg_count_group *g, size_t ng,
                              const void *x, uint64_t n, uint64_t *nan,
                              eg_error *err);
    /* approx_quantile's sketch: x[0..n) of dtype t counted into s, added
     * only when the call succeeds; optional like the two above. */
    eg_status (*count_sketch)(eg_device *dev, struct eg_sketch *s,
                              eg_dtype t, const void *x, uint64_t n,
                              eg_error *err);
    /* Frees impl. */
    void (*destroy)(eg_device *dev);
} eg_backend_ops;

struct eg_device {
    eg_device_info info;
    const eg_backend_ops *ops;
    void *impl;
    unsigned threads;  /* scheduler threads to drive this device (>= 1) */
    /* Consecutive chunks one reduce_chunk call takes (0 or 1: one): where
     * a call has a fixed cost (a kernel launch, the wait for it), fewer
     * calls per byte. */
    unsigned chunks_per_call;
    /* The last call's launch geometry (OpenCL: global and local work
     * sizes); 0 for backends without one. */
    uint64_t launch_global, launch_local;
};

/* Frees a device made by a backend and nulls *dev. */
void eg_device_destroy(eg_device **dev);

#endif
