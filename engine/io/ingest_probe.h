/* ingest_probe.h - times the two ways into a regular file (ingest_probe.c). */
#ifndef EG_INGEST_PROBE_H
#define EG_INGEST_PROBE_H

#include <stdint.h>

/* Whether mapping the open regular file fd (of `size` bytes) and reading
 * it in place is clearly faster than pread into a cached buffer, timed on
 * its first bytes; the two rates (GB/s) come back either way (0: that way
 * failed, and the answer is no). */
int eg_ingest_map_is_faster(int fd, uint64_t size, double *map_gbps,
                            double *read_gbps);

#endif
