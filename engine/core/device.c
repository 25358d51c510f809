/* device.c - device lifetime shared by every backend. */
#include "device.h"

#include <stdlib.h>

void eg_device_destroy(eg_device **dev)
{
    if (!dev || !*dev)
        return;
    if ((*dev)->ops && (*dev)->ops->destroy)
        (*dev)->ops->destroy(*dev);
    free(*dev);
    *dev = NULL;
}

const char *eg_device_kind_name(eg_device_kind k)
{
    switch (k) {
    case EG_DEV_CPU:
        return "cpu";
    case EG_DEV_GPU:
        return "gpu";
    case EG_DEV_ACCEL:
        return "accelerator";
    case EG_DEV_HOST:
        return "host";
    }
    return "?";
}
