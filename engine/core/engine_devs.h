/* engine_devs.h - the engine's devices and its small-input rule, for the
 * producers of states inside core/ that drive devices themselves
 * (structured reductions) beside the scheduler. */
#ifndef EG_ENGINE_DEVS_H
#define EG_ENGINE_DEVS_H

#include <stddef.h>

#include "edgegrid.h"
#include "lanes.h"

typedef struct eg_device eg_device;

/* Inputs this small take the host path in the calling thread: a kernel
 * launch or a thread start costs more than reducing them.  One chunk either
 * way, so the bits are the scheduler's. */
#define EG_SMALL_INPUT_ELEMS (64u * EG_LANE_ELEMS)

/* The engine's devices, built for (dtype, groups): for producers of states
 * that drive devices themselves (structured reductions). */
typedef struct eg_engine_devs {
    eg_device **devs; /* borrowed from the engine */
    size_t ndev;
    unsigned host_index; /* the host backend's index in the registry */
    const char *notes;   /* the engine's notes so far */
} eg_engine_devs;

eg_status eg_engine_devices(eg_engine *e, eg_dtype dtype, unsigned groups,
                            eg_engine_devs *out, eg_error *err);

#endif
