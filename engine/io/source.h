/* source.h - input arrays: .npy files, raw binary, stdin, caller memory.
 *
 * Files are memory-mapped, never copied.  A source hands out ranges of
 * elements in native byte order: a pointer straight into the mapping, or,
 * for big-endian data, a swapped copy in the caller's scratch buffer.
 */
#ifndef EG_SOURCE_H
#define EG_SOURCE_H

#include <stdint.h>

#include "edgegrid.h"

typedef struct eg_array_info {
    eg_dtype dtype;
    uint64_t count;           /* elements (product of shape) */
    unsigned ndim;
    uint64_t shape[EG_MAX_DIMS];
    int fortran_order;        /* memory holds the Fortran-order flattening */
    int swap;                 /* stored bytes are not native order */
} eg_array_info;

typedef struct eg_source eg_source;

/* Opens a .npy file, or raw binary when in->raw, or stdin for "-" (read into
 * memory, as a pipe cannot be mapped).  Errors name the file and the field.
 * Stdin and named pipes are read up to $EDGEGRID_MAX_STDIN bytes (a count
 * such as 1073741824 or 1Gi; default the physical memory); devices given
 * as paths (/dev/zero, a disk) are refused. */
eg_status eg_source_open(eg_source **out, const char *path,
                         const eg_input_opts *in, eg_error *err);
/* Wraps caller memory (native order, 1-D); the memory is not copied. */
eg_status eg_source_wrap(eg_source **out, const void *data, uint64_t count,
                         eg_dtype dtype, eg_error *err);
void eg_source_close(eg_source **src);

const eg_array_info *eg_source_info(const eg_source *src);
const char *eg_source_name(const eg_source *src);  /* path, "-" or "memory" */

/* Elements [start, start + n) in native order: a pointer into the mapping, or
 * `scratch` (n * itemsize bytes, caller-owned) filled with swapped copies. */
const void *eg_source_native(const eg_source *src, uint64_t start, uint64_t n,
                             void *scratch);

/* The stored bytes: element 0 in memory order, in the stored byte order
 * (info->swap says whether that is not native).  For gathers by stride. */
const void *eg_source_stored(const eg_source *src);
/* Global index of an element in memory order -> its index in the C-order
 * flattening (identity for C-order arrays). */
uint64_t eg_source_c_index(const eg_source *src, uint64_t mem_index);

/* For Fortran-order arrays, where memory order is not C order: the smallest
 * C-order index whose element equals `value` (for NaN: is NaN), by a scan in
 * C order that stops at the first hit.  Returns EG_NONE_INDEX if none. */
uint64_t eg_source_first_c_index_of(const eg_source *src, double fvalue,
                                     int64_t ivalue, uint64_t uvalue,
                                     int want_nan);

#endif
