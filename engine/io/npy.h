/* npy.h - the .npy file format: parsing a header held in memory, and writing
 * one the way numpy does.  Internal to the engine.
 *
 * The parser works on a byte buffer (the mapped file, stdin read into memory,
 * or a fuzzer's input) and trusts nothing in it: every length is checked
 * against the buffer before use.  Format reference:
 * numpy/lib/format.py ("NEP 1", versions 1.0, 2.0 and 3.0).
 */
#ifndef EG_NPY_H
#define EG_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "source.h"

/* Headers longer than this are refused: numpy writes a few hundred bytes,
 * and a huge length is a corrupt or hostile file. */
#define EG_NPY_MAX_HEADER (1u << 20)

typedef struct eg_npy_header {
    /* dtype, count, shape, fortran_order and swap.  fortran_order is set
     * only where it matters: when at least two dimensions are longer than
     * one (otherwise Fortran and C order are the same flattening). */
    eg_array_info info;
    unsigned version;     /* major version: 1, 2 or 3 */
    uint64_t data_offset; /* bytes before the first element */
    uint64_t data_bytes;  /* count * itemsize */
} eg_npy_header;

/* Parses the .npy header at the start of buf (len bytes, the whole file) and
 * checks that the data it announces is present; trailing bytes are accepted.
 * `name` prefixes every error message ("x.npy: header field 'shape': ...").
 * Errors: EG_EINPUT (malformed or truncated), EG_EDTYPE (a dtype edgegrid
 * does not reduce). */
eg_status eg_npy_parse(const void *buf, uint64_t len, const char *name,
                       eg_npy_header *out, eg_error *err);

/* The bytes before the first element as far as the first `len` bytes of a
 * file tell (magic, version and header length), capped at the largest
 * header accepted; 0 when they do not tell.  A source that reads its file
 * rather than mapping it reads this much before eg_npy_parse_head. */
uint64_t eg_npy_header_span(const void *buf, size_t len);

/* eg_npy_parse for a file whose first `head_len` bytes are in buf and whose
 * whole length is `file_len` (>= head_len): the header must lie within
 * buf, the data it announces within the file. */
eg_status eg_npy_parse_head(const void *buf, size_t head_len,
                            uint64_t file_len, const char *name,
                            eg_npy_header *out, eg_error *err);

/* Writes a version 1.0 header for a C-order or Fortran-order array of
 * little-endian `dtype`, byte for byte as numpy 1.24's np.save: the dict, room
 * for the growing axis, space padding and a final '\n' so that the data
 * starts on a 64-byte boundary.
 * Returns the header's length (magic included), or 0 when it does not fit in
 * cap bytes or the dict would exceed the 65535 bytes of a 1.0 header. */
size_t eg_npy_format_header(char *buf, size_t cap, eg_dtype dtype,
                            unsigned ndim, const uint64_t *shape,
                            int fortran_order);

/* 1 on a little-endian host. */
int eg_npy_host_little(void);

#endif
