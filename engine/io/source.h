/* source.h - input arrays: .npy files, raw binary, stdin, caller memory.
 *
 * Files are read with pread into the caller's buffers (or memory-mapped
 * with $EDGEGRID_INGEST=map), stdin and pipes into memory.  A source hands
 * out ranges of elements in native byte order: a pointer into memory it
 * holds, or the caller's buffer filled by a read and, for foreign byte
 * order, swapped.  A file that changes while it is read is an error
 * (EG_EIO naming the file and how far the read got), never a signal.
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
/* eg_source_open with a regular file read whole into memory, so that
 * eg_source_stored holds every element: for readers that gather by stride
 * across the whole array (--axis that cannot be cut into pieces, the
 * grid's coordinator).  A file truncated while it is read is
 * EG_EIO as for eg_source_open; after that the copy is safe from it.  A
 * file larger than half the physical memory is mapped instead, as is every
 * file with $EDGEGRID_INGEST=map (with "auto", every file it would copy),
 * and a truncation under pages of that map already mapped in raises SIGBUS
 * (the edgegrid program turns it into its one line: host/fault_guard.c;
 * eg_source_check sees the others). */
eg_status eg_source_open_stored(eg_source **out, const char *path,
                                const eg_input_opts *in, eg_error *err);
/* eg_source_open_stored for readers that take the array in pieces
 * (--by's permutation and its keys by row ranges, --axis in pieces of
 * whole segments, struct_pieces.c): a file larger than half the physical
 * memory is not mapped but left to pread, as eg_source_open leaves it
 * (eg_source_stored is NULL; eg_source_get_part by row ranges, then
 * eg_source_check), so a truncation is EG_EIO, never a signal.  Only a
 * Fortran-order array of 2 or more dimensions, whose rows are not in
 * consecutive bytes, is still mapped.  Test builds (EDGEGRID_TEST_HOOKS)
 * take the bound from $EDGEGRID_TEST_STORE_LIMIT (bytes) when it is set. */
eg_status eg_source_open_rows(eg_source **out, const char *path,
                              const eg_input_opts *in, eg_error *err);
/* The bytes a reader of a file too large to copy may hold of it at once:
 * a quarter of that bound (an eighth of the physical memory). */
uint64_t eg_source_piece_bytes(void);
/* Wraps caller memory (native order, 1-D); the memory is not copied.
 * Memory not aligned to its element size is handed out copied into the
 * caller's buffers (eg_source_needs_buffer), as typed loads from it would
 * be undefined. */
eg_status eg_source_wrap(eg_source **out, const void *data, uint64_t count,
                         eg_dtype dtype, eg_error *err);
void eg_source_close(eg_source **src);

/* eg_source_close for a source whose bytes a job has used: when st is
 * EG_OK, first eg_source_check over all of it.  Returns st, or the changed
 * file's EG_EIO. */
eg_status eg_source_close_checked(eg_source **src, eg_status st,
                                  eg_error *err);

const eg_array_info *eg_source_info(const eg_source *src);
const char *eg_source_name(const eg_source *src);  /* path, "-" or "memory" */
/* How $EDGEGRID_INGEST=auto brought the file in and why, for the result's
 * notes; "" when it did not choose. */
const char *eg_source_note(const eg_source *src);

/* Whether eg_source_get needs the caller's buffer: the file is read, its
 * bytes are swapped, or the wrapped memory is misaligned. */
int eg_source_needs_buffer(const eg_source *src);

/* Elements [start, start + n) in native order: *out points into memory the
 * source holds, or into `buf` (n * itemsize bytes, caller-owned; may be
 * NULL when !eg_source_needs_buffer).  Threads may call it at once with
 * buffers of their own.  EG_EIO when the file shrank, was rewritten or
 * failed to read. */
eg_status eg_source_get(const eg_source *src, uint64_t start, uint64_t n,
                        void *buf, const void **out, eg_error *err);

/* The stored bytes: element 0 in memory order, in the stored byte order
 * (info->swap says whether that is not native).  For gathers by stride;
 * only a source held in memory has them (eg_source_open_stored, stdin,
 * wrapped memory): a file read with pread (eg_source_open) has none and
 * this is NULL. */
const void *eg_source_stored(const eg_source *src);

/* eg_source_get in parts: the same, but a file read is not checked for a
 * rewrite in place (a short read still fails).  eg_source_check after the
 * parts of a range does that once, with `end` the element the parts
 * reached: a range read in many small parts pays one fstat, not one a
 * part.  A mapped file is checked the same way (once its bytes are used:
 * a map reads what a cut leaves of a page as zeros, without a fault). */
eg_status eg_source_get_part(const eg_source *src, uint64_t start, uint64_t n,
                             void *buf, const void **out, eg_error *err);
eg_status eg_source_check(const eg_source *src, uint64_t end, eg_error *err);

/* Global index of an element in memory order -> its index in the C-order
 * flattening (identity for C-order arrays). */
uint64_t eg_source_c_index(const eg_source *src, uint64_t mem_index);

/* The smallest C-order index whose element equals `value` (for NaN: is
 * NaN) into *index, EG_NONE_INDEX if none: one pass over the elements in
 * memory order.  argmin/argmax of Fortran-order arrays need it, where
 * memory order is not C order. */
eg_status eg_source_first_c_index_of(const eg_source *src, double fvalue,
                                     int64_t ivalue, uint64_t uvalue,
                                     int want_nan, uint64_t *index,
                                     eg_error *err);

#endif
