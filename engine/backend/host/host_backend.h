/* host_backend.h - the host CPU backend: the canonical lane code on the
 * host's cores, used for --devices host, when there is no OpenCL device, and
 * beside the OpenCL devices when asked. */
#ifndef EG_HOST_BACKEND_H
#define EG_HOST_BACKEND_H

#include "device.h"

eg_status eg_host_device_create(eg_device **out, eg_error *err);

#endif
