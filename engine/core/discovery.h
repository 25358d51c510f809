/* discovery.h - device discovery and selection on a thread of its own, so
 * that an engine opened with the spec "all" reduces on the host while the
 * ICD loader, POCL and LLVM start up (30-40 ms on a 2-core box).
 *
 * The thread owns everything it builds until eg_discovery_finish joins it
 * and hands the list over: nothing is shared while it runs, and the join
 * orders its writes before the caller's reads. */
#ifndef EG_DISCOVERY_H
#define EG_DISCOVERY_H

#include <stddef.h>

#include "device.h"

typedef struct eg_discovery eg_discovery;

/* Starts eg_registry_discover + eg_registry_select(spec) on a new thread
 * (which blocks the process's asynchronous signals, so that they still
 * reach the threads that wait for them).  Test builds read
 * EDGEGRID_TEST_DISCOVERY_DELAY_MS (the thread sleeps that long first) and
 * EDGEGRID_TEST_DISCOVERY=fail (discovery fails as a broken driver would). */
eg_status eg_discovery_start(eg_discovery **out, const char *spec,
                             eg_error *err);

/* Whether the thread has finished (its result waits for _finish); never
 * blocks. */
int eg_discovery_ready(const eg_discovery *d);

/* Joins the thread and frees *d (NULL after).  On EG_OK *devs (malloc'ed,
 * free with eg_registry_free) holds the selected devices, the host backend
 * last, *host_index the host's index in the full list, and notes has
 * discovery's and selection's notes appended; otherwise err says why. */
eg_status eg_discovery_finish(eg_discovery **d, eg_device ***devs,
                              size_t *count, unsigned *host_index,
                              char *notes, size_t notes_len, eg_error *err);

#endif
