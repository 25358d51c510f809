/* registry.c - device discovery and selection by spec. */
#include "registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_backend.h"
#include "error.h"
#include "host_backend.h"

void eg_registry_free(eg_device ***devs, size_t count)
{
    if (!devs || !*devs)
        return;
    for (size_t i = 0; i < count; i++)
        eg_device_destroy(&(*devs)[i]);
    free(*devs);
    *devs = NULL;
}

eg_status eg_registry_discover(eg_device ***devs, size_t *count, char *notes,
                               size_t notes_len, eg_error *err)
{
    eg_device **list = NULL;
    size_t n = 0;
    eg_status st = eg_cl_enumerate(&list, &n, notes, notes_len, err);
    if (st != EG_OK) {
        eg_registry_free(&list, n);
        return st;
    }
    eg_device *host = NULL;
    eg_device **grown = realloc(list, (n + 1) * sizeof *grown);
    if (!grown) {
        eg_registry_free(&list, n);
        return eg_error_set(err, EG_ENOMEM, "device list: out of memory");
    }
    list = grown;
    if ((st = eg_host_device_create(&host, err)) != EG_OK) {
        eg_registry_free(&list, n);
        return st;
    }
    list[n++] = host;
    if (n > EG_MAX_DEVICES) {
        /* Keep the host: it is the fallback for everything else. */
        eg_notes_append(notes, notes_len,
                        "%zu devices found, using the first %d", n,
                        EG_MAX_DEVICES - 1);
        for (size_t i = EG_MAX_DEVICES - 1; i + 1 < n; i++)
            eg_device_destroy(&list[i]);
        list[EG_MAX_DEVICES - 1] = host;
        n = EG_MAX_DEVICES;
    }
    for (size_t i = 0; i < n; i++)
        list[i]->info.index = (unsigned)i;
    *devs = list;
    *count = n;
    return EG_OK;
}

eg_status eg_registry_host_only(eg_device ***devs, size_t *count,
                                eg_error *err)
{
    eg_device **list = malloc(sizeof *list);
    if (!list)
        return eg_error_set(err, EG_ENOMEM, "device list: out of memory");
    eg_status st = eg_host_device_create(&list[0], err);
    if (st != EG_OK) {
        free(list);
        return st;
    }
    list[0]->info.index = EG_INDEX_UNLISTED;
    *devs = list;
    *count = 1;
    return EG_OK;
}

/* Parses "0,2,3" into a mask over `count` devices. */
static eg_status parse_index_list(const char *spec, size_t count, int *keep,
                                  eg_error *err)
{
    const char *p = spec;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return eg_error_set(err, EG_EUSAGE,
                                "--devices '%s': expected all, opencl, cpu, "
                                "gpu, host or a list of device indices",
                                spec);
        unsigned long idx = strtoul(p, &end, 10);
        if (idx >= count)
            return eg_error_set(err, EG_ENODEV,
                                "--devices: no device %lu (this box has 0..%zu;"
                                " see `edgegrid devices`)",
                                idx, count - 1);
        keep[idx] = 1;
        p = end;
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return eg_error_set(err, EG_EUSAGE,
                                "--devices '%s': bad index list", spec);
    }
    return EG_OK;
}

static int kind_is(const eg_device *d, eg_device_kind k)
{
    return d->info.kind == k;
}

/* Marks what a named spec selects among the OpenCL devices (all but the
 * last, the host).  "all" takes every device of the box, but its cores only
 * once: an OpenCL CPU device runs on the cores the host backend runs on,
 * and both at once only share them, so the host backend (the vectorised
 * lane code) stands for the CPU and the OpenCL CPU devices sit out.
 * Test builds keep them when EDGEGRID_TEST_ALL_KEEPS_CPU=1, so that "all"
 * has a device besides the host on a box whose only OpenCL is POCL. */
static void select_named(eg_device **devs, size_t n, const char *spec,
                         int *keep)
{
    int all = !strcmp(spec, "all");
    int all_cpu = 0;
#ifdef EDGEGRID_TEST_HOOKS
    const char *hook = getenv("EDGEGRID_TEST_ALL_KEEPS_CPU");
    all_cpu = hook && !strcmp(hook, "1");
#endif
    for (size_t i = 0; i + 1 < n; i++)
        keep[i] = !strcmp(spec, "opencl") ||
                  (all && (all_cpu || !kind_is(devs[i], EG_DEV_CPU))) ||
                  (!strcmp(spec, "cpu") && kind_is(devs[i], EG_DEV_CPU)) ||
                  (!strcmp(spec, "gpu") && kind_is(devs[i], EG_DEV_GPU));
    keep[n - 1] = all;
}

static int is_named(const char *spec)
{
    static const char *const names[] = {"all", "opencl", "cpu", "gpu"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(spec, names[i]))
            return 1;
    return 0;
}

/* The host backend beside other devices leaves a core to each of them:
 * their feeding threads wait on the device (an OpenCL CPU device also
 * computes on the cores), and a host thread on every core would slow them. */
static void share_cores(eg_device **devs, size_t kept)
{
    for (size_t i = 0; i < kept; i++) {
        if (!kind_is(devs[i], EG_DEV_HOST) || kept == 1)
            continue;
        unsigned cores = devs[i]->info.compute_units;
        unsigned others = (unsigned)(kept - 1);
        devs[i]->threads = cores > others ? cores - others : 1;
    }
}

eg_status eg_registry_select(eg_device **devs, size_t *count, const char *spec,
                             char *notes, size_t notes_len, eg_error *err)
{
    size_t n = *count, kept = 0;
    int keep[EG_MAX_DEVICES] = {0};
    size_t host = n - 1; /* discover puts the host last */
    if (!spec || !*spec)
        return eg_error_set(err, EG_EUSAGE, "--devices: empty selection");
    if (is_named(spec)) {
        select_named(devs, n, spec, keep);
    } else if (!strcmp(spec, "host")) {
        keep[host] = 1;
    } else {
        eg_status st = parse_index_list(spec, n, keep, err);
        if (st != EG_OK)
            return st;
    }
    for (size_t i = 0; i < n; i++)
        kept += keep[i];
    if (kept == 0) {
        if (!strcmp(spec, "gpu"))
            return eg_error_set(err, EG_ENODEV,
                                "--devices gpu: this box has no OpenCL GPU "
                                "(see `edgegrid devices`)");
        keep[host] = 1;
        /* With no OpenCL at all, discovery has already said so. */
        if (n > 1)
            eg_notes_append(notes, notes_len,
                            "no OpenCL %sdevice; using the host backend",
                            strcmp(spec, "cpu") ? "" : "CPU ");
    }
    kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i])
            devs[kept++] = devs[i];
        else
            eg_device_destroy(&devs[i]);
    }
    share_cores(devs, kept);
    *count = kept;
    return EG_OK;
}

eg_status eg_devices_list(eg_device_info **out, size_t *count, char *notes,
                          size_t notes_len, eg_error *err)
{
    eg_device **devs = NULL;
    size_t n = 0;
    if (notes && notes_len)
        notes[0] = '\0';
    eg_status st = eg_registry_discover(&devs, &n, notes, notes_len, err);
    if (st != EG_OK)
        return st;
    eg_device_info *infos = malloc(n * sizeof *infos);
    if (!infos) {
        eg_registry_free(&devs, n);
        return eg_error_set(err, EG_ENOMEM, "device list: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        infos[i] = devs[i]->info;
    eg_registry_free(&devs, n);
    *out = infos;
    *count = n;
    return EG_OK;
}
