/* manifest.h - the shard manifest of an edge-mode job: which shards make up
 * the data set, in which order, and optionally how many elements each holds.
 *
 *     # comments and blank lines are ignored
 *     sensor-a/2024-06-01.npy   1048576
 *     sensor-b/2024-06-01.npy
 *
 * One shard per line: a name (a relative path below each worker's
 * --shard-root, no "..") and an optional element count that the shard's
 * result must match.  The order of the lines is the order of the elements:
 * argmin/argmax index the concatenation of the shards in this order. */
#ifndef EG_MANIFEST_H
#define EG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

#define EG_SHARD_COUNT_UNKNOWN UINT64_MAX

typedef struct eg_manifest {
    size_t n;
    char **names;
    uint64_t *counts;  /* EG_SHARD_COUNT_UNKNOWN where the line has none */
} eg_manifest;

/* Reads and checks a manifest file; errors (EINPUT, ENOENT) name the file
 * and line. */
eg_status eg_manifest_load(eg_manifest *m, const char *path, eg_error *err);
/* The same for text in memory; `path` only names it in messages. */
eg_status eg_manifest_parse(eg_manifest *m, const char *text, size_t len,
                            const char *path, eg_error *err);
void eg_manifest_free(eg_manifest *m);

#endif
