/* registry.h - discovering the box's devices and selecting some of them. */
#ifndef EG_REGISTRY_H
#define EG_REGISTRY_H

#include <stddef.h>

#include "device.h"

/* Every OpenCL device, then the host backend, indexed in that order.
 * *devs is malloc'ed; free with eg_registry_free. */
eg_status eg_registry_discover(eg_device ***devs, size_t *count, char *notes,
                               size_t notes_len, eg_error *err);

/* The host backend alone, OpenCL not asked (spec "host"): its index is
 * EG_INDEX_UNLISTED. */
eg_status eg_registry_host_only(eg_device ***devs, size_t *count,
                                eg_error *err);

/* Keeps the devices `spec` selects (see eg_engine_open), destroys the others
 * and compacts *devs.  Notes say when the host stands in for a missing kind. */
eg_status eg_registry_select(eg_device **devs, size_t *count, const char *spec,
                             char *notes, size_t notes_len, eg_error *err);

void eg_registry_free(eg_device ***devs, size_t count);

#endif
