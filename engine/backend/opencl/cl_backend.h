/* cl_backend.h - the OpenCL backend: enumeration, program build with an
 * on-disk binary cache, and the chunk kernel. */
#ifndef EG_CL_BACKEND_H
#define EG_CL_BACKEND_H

#include <stddef.h>

#include "device.h"

/* Appends one eg_device per OpenCL device of every platform to *devs (an
 * array grown with realloc; *count updated).  info.index is left for the
 * caller.  No ICD, no platform or no device is not an error: nothing is
 * appended and a sentence goes into notes. */
eg_status eg_cl_enumerate(eg_device ***devs, size_t *count, char *notes,
                          size_t notes_len, eg_error *err);

/* "CL_BUILD_PROGRAM_FAILURE" for -11, "CL_UNKNOWN_ERROR(-9999)" otherwise
 * (written into a static table, never into caller memory). */
const char *eg_cl_error_name(int code);

#endif
