/* cl_resident.h - reducing data that already lives on an OpenCL device
 * (eg_reduce_cl_buffer of edgegrid.h): the engine's half, without CL/cl.h. */
#ifndef EG_CL_RESIDENT_H
#define EG_CL_RESIDENT_H

#include "device.h"
#include "state.h"

struct _cl_mem;

/* Reduces x[0, count) (and y) of a caller's buffers on the one device of
 * devs[0..ndev) that their context holds, chunk by chunk in chunk order:
 * *total the merged state, stats[0] that device's work. */
eg_status eg_cl_reduce_resident(eg_device *const *devs, size_t ndev,
                                struct _cl_mem *x, struct _cl_mem *y,
                                uint64_t count, eg_dtype dtype, unsigned groups,
                                uint64_t chunk, eg_state *total,
                                eg_device_stats *stats, eg_error *err);

#endif
