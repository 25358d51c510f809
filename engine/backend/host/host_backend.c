/* host_backend.c - the host CPU as a device: the canonical lane code, driven
 * by one scheduler thread per core.  Reentrant: it keeps no per-call state. */
#include "host_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "lanes.h"

static eg_status host_prepare(eg_device *dev, eg_dtype dtype, unsigned groups,
                              eg_error *err)
{
    (void)dev;
    (void)dtype;
    (void)groups;
    (void)err;
    return EG_OK;
}

static eg_status host_reduce_chunk(eg_device *dev, const void *x,
                                   const void *y, uint64_t n, eg_dtype dtype,
                                   unsigned groups, uint64_t *lanes_out,
                                   eg_error *err)
{
    (void)dev;
    (void)err;
    eg_lanes_any(x, y, n, dtype, groups, lanes_out);
    return EG_OK;
}

static void host_destroy(eg_device *dev)
{
    (void)dev;
}

static const eg_backend_ops host_ops = {
    .prepare = host_prepare,
    .reduce_chunk = host_reduce_chunk,
    .destroy = host_destroy,
};

/* The CPU's model name from /proc/cpuinfo, or a plain fallback. */
static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "host CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && !strncmp(line, "model name", 10)) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, len, "%s", colon);
            break;
        }
    }
    fclose(f);
}

eg_status eg_host_device_create(eg_device **out, eg_error *err)
{
    eg_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return eg_error_set(err, EG_ENOMEM, "host device: out of memory");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    dev->ops = &host_ops;
    dev->threads = cores > 0 ? (unsigned)cores : 1;
    dev->info.kind = EG_DEV_HOST;
    snprintf(dev->info.platform, sizeof dev->info.platform, "host");
    cpu_model(dev->info.name, sizeof dev->info.name);
    snprintf(dev->info.driver, sizeof dev->info.driver, "edgegrid %d.%d.%d",
             EG_VERSION_MAJOR, EG_VERSION_MINOR, EG_VERSION_PATCH);
    dev->info.compute_units = dev->threads;
    dev->info.global_mem =
        pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    dev->info.max_alloc = dev->info.global_mem;
    dev->info.unified_memory = 1;
    dev->info.fp64 = 1;
    *out = dev;
    return EG_OK;
}
