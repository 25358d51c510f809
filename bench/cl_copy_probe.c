/* cl_copy_probe.c - how fast can the host feed an OpenCL device?  Times
 * blocking clEnqueueWriteBuffer copies of one large buffer from ordinary
 * (pageable) host memory and from pinned memory (a CL_MEM_ALLOC_HOST_PTR
 * buffer, mapped), median of several after a warm-up.  On a discrete GPU
 * fed over PCIe this is the bus, the yardstick of any reduction of data
 * that starts in host memory; bench/gpu-check.sh passes the better of the
 * two to `edgegrid bench --copy-gbps`.
 *
 * Devices are numbered as `edgegrid devices` numbers its OpenCL devices:
 * every device of every platform, in platform order.
 *
 *   cl_copy_probe [--device INDEX|gpu] [--size BYTES] [--reps N] [--json|-q]
 *
 * Exit status: 0 success, 1 OpenCL failure, 2 bad usage or no such device. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#include "edgegrid.h" /* eg_now */

#define MAX_DEVICES 64

typedef struct probe_args {
    const char *device;   /* index, or "gpu": the first GPU */
    size_t size;
    unsigned reps;
    int json, quiet;
} probe_args;

typedef struct probe {
    cl_device_id dev;
    unsigned index;
    char name[256];
    cl_context ctx;
    cl_command_queue q;
    cl_mem dst;
} probe;

static const char *cl_name(cl_int rc)
{
    switch (rc) {
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL driver)";
    default: return "an OpenCL error";
    }
}

static int cl_fail(const char *call, const probe *p, cl_int rc)
{
    fprintf(stderr, "cl_copy_probe: %s on \"%s\": %s (%d)\n", call,
            p && p->name[0] ? p->name : "-", cl_name(rc), (int)rc);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Finds the device the arguments name, numbered as edgegrid numbers them. */
static int pick_device(const probe_args *a, probe *p)
{
    cl_platform_id plats[16];
    cl_uint nplat = 0;
    cl_int rc = clGetPlatformIDs(16, plats, &nplat);
    unsigned index = 0;
    char *end;
    unsigned long want = strtoul(a->device, &end, 10);
    int by_gpu = strcmp(a->device, "gpu") == 0;

    if (rc != CL_SUCCESS || nplat == 0) {
        fprintf(stderr, "cl_copy_probe: no OpenCL platform (%s)\n",
                rc != CL_SUCCESS ? cl_name(rc) : "none found");
        return 2;
    }
    if (!by_gpu && (*end != '\0' || end == a->device)) {
        fprintf(stderr, "cl_copy_probe: --device: '%s' is not an index or "
                "'gpu'\n", a->device);
        return 2;
    }
    for (cl_uint i = 0; i < nplat && i < 16; i++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint n = 0;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs,
                           &n) != CL_SUCCESS)
            continue;
        for (cl_uint k = 0; k < n && k < MAX_DEVICES; k++, index++) {
            cl_device_type type = 0;
            clGetDeviceInfo(devs[k], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            if (by_gpu ? (type & CL_DEVICE_TYPE_GPU) != 0 : index == want) {
                p->dev = devs[k];
                p->index = index;
                clGetDeviceInfo(devs[k], CL_DEVICE_NAME, sizeof p->name - 1,
                                p->name, NULL);
                /* Keep the name printable inside a JSON string. */
                for (char *c = p->name; *c != '\0'; c++) {
                    if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
                        *c = '?';
                }
                return 0;
            }
        }
    }
    fprintf(stderr, "cl_copy_probe: no OpenCL device %s (%u found)\n",
            by_gpu ? "of type GPU" : a->device, index);
    return 2;
}

/* Median seconds of one blocking copy of `size` bytes from `src`. */
static int time_copies(const probe_args *a, probe *p, const void *src,
                       double *median)
{
    double *t = calloc(a->reps, sizeof *t);
    cl_int rc;

    if (t == NULL) {
        fprintf(stderr, "cl_copy_probe: out of memory\n");
        return 1;
    }
    /* The first copy pays for page pinning and device allocation. */
    rc = clEnqueueWriteBuffer(p->q, p->dst, CL_TRUE, 0, a->size, src, 0, NULL,
                              NULL);
    for (unsigned i = 0; rc == CL_SUCCESS && i < a->reps; i++) {
        double t0 = eg_now();
        rc = clEnqueueWriteBuffer(p->q, p->dst, CL_TRUE, 0, a->size, src, 0,
                                  NULL, NULL);
        t[i] = eg_now() - t0;
    }
    if (rc != CL_SUCCESS) {
        free(t);
        return cl_fail("clEnqueueWriteBuffer", p, rc);
    }
    qsort(t, a->reps, sizeof *t, cmp_double);
    *median = t[a->reps / 2];
    free(t);
    return 0;
}

static int run(const probe_args *a, probe *p, double *pageable, double *pinned)
{
    cl_int rc;
    void *host = NULL;
    cl_mem staging = NULL;
    void *mapped = NULL;
    int status;

    p->ctx = clCreateContext(NULL, 1, &p->dev, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return cl_fail("clCreateContext", p, rc);
    p->q = clCreateCommandQueue(p->ctx, p->dev, 0, &rc);
    if (rc != CL_SUCCESS)
        return cl_fail("clCreateCommandQueue", p, rc);
    p->dst = clCreateBuffer(p->ctx, CL_MEM_READ_ONLY, a->size, NULL, &rc);
    if (rc != CL_SUCCESS)
        return cl_fail("clCreateBuffer", p, rc);

    if (posix_memalign(&host, 4096, a->size) != 0) {
        fprintf(stderr, "cl_copy_probe: out of memory for %zu bytes\n",
                a->size);
        return 1;
    }
    memset(host, 1, a->size);  /* fault every page in before timing */
    status = time_copies(a, p, host, pageable);
    free(host);
    if (status != 0)
        return status;

    staging = clCreateBuffer(p->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                             a->size, NULL, &rc);
    if (rc != CL_SUCCESS)
        return cl_fail("clCreateBuffer(CL_MEM_ALLOC_HOST_PTR)", p, rc);
    mapped = clEnqueueMapBuffer(p->q, staging, CL_TRUE, CL_MAP_WRITE, 0,
                                a->size, 0, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        clReleaseMemObject(staging);
        return cl_fail("clEnqueueMapBuffer", p, rc);
    }
    memset(mapped, 1, a->size);
    status = time_copies(a, p, mapped, pinned);
    clEnqueueUnmapMemObject(p->q, staging, mapped, 0, NULL, NULL);
    clFinish(p->q);
    clReleaseMemObject(staging);
    return status;
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "cl_copy_probe: %s%s\nusage: cl_copy_probe [--device "
            "INDEX|gpu] [--size BYTES] [--reps N] [--json|-q]\n",
            msg, arg ? arg : "");
    return 2;
}

static int parse(int argc, char **argv, probe_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        char *end;
        if (strcmp(o, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(o, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            puts("usage: cl_copy_probe [--device INDEX|gpu] [--size BYTES] "
                 "[--reps N] [--json|-q]\n"
                 "Host-to-device copy bandwidth (GB/s) of an OpenCL device, "
                 "from pageable and\npinned host memory; -q prints only the "
                 "better figure.  Defaults: the first\nGPU, 256 MiB, 10 "
                 "repetitions.");
            return -1;
        } else if (i + 1 < argc && strcmp(o, "--device") == 0) {
            a->device = argv[++i];
        } else if (i + 1 < argc && strcmp(o, "--size") == 0) {
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || v < 4096)
                return usage("--size: at least 4096 bytes, not ", argv[i]);
            a->size = (size_t)v;
        } else if (i + 1 < argc && strcmp(o, "--reps") == 0) {
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v == 0 || v > 10000)
                return usage("--reps: 1 to 10000, not ", argv[i]);
            a->reps = (unsigned)v;
        } else {
            return usage("unknown or incomplete option ", o);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    probe_args a = {"gpu", (size_t)256 << 20, 10, 0, 0};
    probe p;
    double pageable = 0, pinned = 0;
    cl_ulong max_alloc = 0;
    int rc = parse(argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    memset(&p, 0, sizeof p);
    if ((rc = pick_device(&a, &p)) != 0)
        return rc;
    clGetDeviceInfo(p.dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                    &max_alloc, NULL);
    if (max_alloc > 0 && a.size > max_alloc)
        a.size = (size_t)max_alloc;
    rc = run(&a, &p, &pageable, &pinned);
    if (p.dst)
        clReleaseMemObject(p.dst);
    if (p.q)
        clReleaseCommandQueue(p.q);
    if (p.ctx)
        clReleaseContext(p.ctx);
    if (rc != 0)
        return rc;

    double gp = (double)a.size / pageable / 1e9;
    double gn = (double)a.size / pinned / 1e9;
    double best = gp > gn ? gp : gn;
    if (a.quiet)
        printf("%.3f\n", best);
    else if (a.json)
        printf("{\"device\": %u, \"name\": \"%s\", \"bytes\": %zu, "
               "\"reps\": %u, \"pageable_gbps\": %.3f, \"pinned_gbps\": %.3f, "
               "\"gbps\": %.3f}\n",
               p.index, p.name, a.size, a.reps, gp, gn, best);
    else
        printf("device %u (%s): host-to-device copy of %zu bytes, median of "
               "%u: pageable %.2f GB/s, pinned %.2f GB/s\n",
               p.index, p.name, a.size, a.reps, gp, gn);
    return 0;
}
