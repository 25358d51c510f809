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
 *                 [--resident]
 *
 * --resident also measures what reductions of data already on the device
 * are held to: the device-memory read rate (a read kernel, every
 * work-item summing float4s, a few waves per compute unit), and edgegrid's
 * eg_reduce_cl_buffer on the same buffer as f32 and f64 for sum, min,max,
 * l1, the fused default set and exact sum, each as GB/s and as a ratio to
 * that read rate (the goals: >= 0.85 for single ops, 0.8 fused, 0.7 exact).
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
    int resident;         /* --resident: device-memory reads, edgegrid */
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

/* ------------------------------------------------------ --resident */

/* Not const itself: clCreateProgramWithSource takes a const char **. */
static const char *read_src =
    "__kernel void rd(__global const float4 *p, ulong n4,\n"
    "                 __global float *out)\n"
    "{\n"
    "    float4 s = (float4)(0.0f);\n"
    "    for (ulong i = get_global_id(0); i < n4; i += get_global_size(0))\n"
    "        s += p[i];\n"
    "    out[get_global_id(0)] = s.x + s.y + s.z + s.w;\n"
    "}\n";

/* Median seconds of the read kernel over the whole of p->dst. */
static int time_reads(const probe_args *a, probe *p, double *median)
{
    cl_int rc;
    cl_uint cus = 1;
    clGetDeviceInfo(p->dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus,
                    NULL);
    size_t local = 256, global = (size_t)cus * 2048 * 4;
    cl_program prog = clCreateProgramWithSource(p->ctx, 1, &read_src, NULL,
                                                &rc);
    if (rc == CL_SUCCESS)
        rc = clBuildProgram(prog, 1, &p->dev, "", NULL, NULL);
    if (rc != CL_SUCCESS)
        return cl_fail("clBuildProgram(read kernel)", p, rc);
    cl_kernel k = clCreateKernel(prog, "rd", &rc);
    cl_mem out = clCreateBuffer(p->ctx, CL_MEM_WRITE_ONLY,
                                global * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS)
        return cl_fail("clCreateBuffer", p, rc);
    size_t wg = 0;
    clGetKernelWorkGroupInfo(k, p->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
                             &wg, NULL);
    if (wg && wg < local)
        local = wg;
    global -= global % local;
    cl_ulong n4 = a->size / 16;
    clSetKernelArg(k, 0, sizeof p->dst, &p->dst);
    clSetKernelArg(k, 1, sizeof n4, &n4);
    clSetKernelArg(k, 2, sizeof out, &out);
    double *t = calloc(a->reps + 1, sizeof *t);
    for (unsigned i = 0; t && rc == CL_SUCCESS && i <= a->reps; i++) {
        double t0 = eg_now();
        rc = clEnqueueNDRangeKernel(p->q, k, 1, NULL, &global, &local, 0,
                                    NULL, NULL);
        if (rc == CL_SUCCESS)
            rc = clFinish(p->q);
        t[i] = eg_now() - t0; /* t[0]: the warm-up */
    }
    clReleaseMemObject(out);
    clReleaseKernel(k);
    clReleaseProgram(prog);
    if (!t || rc != CL_SUCCESS) {
        free(t);
        return cl_fail("the read kernel", p, rc);
    }
    qsort(t + 1, a->reps, sizeof *t, cmp_double);
    *median = t[1 + a->reps / 2];
    free(t);
    return 0;
}

/* Median seconds of eg_reduce_cl_buffer over p->dst as `count` elements
 * of dtype; the first call (kernel builds) is the warm-up. */
static int time_edgegrid(const probe_args *a, probe *p, eg_engine *e,
                         eg_dtype dt, unsigned ops, eg_mode mode,
                         double *median)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ops;
    o.mode = mode;
    uint64_t count = a->size / eg_dtype_size(dt);
    double *t = calloc(a->reps + 1, sizeof *t);
    eg_result r;
    eg_error err;
    for (unsigned i = 0; t && i <= a->reps; i++) {
        double t0 = eg_now();
        if (eg_reduce_cl_buffer(e, p->dst, NULL, count, dt, &o, &r, &err) !=
            EG_OK) {
            fprintf(stderr, "cl_copy_probe: eg_reduce_cl_buffer: %s\n",
                    err.msg);
            free(t);
            return 1;
        }
        t[i] = eg_now() - t0;
    }
    if (!t)
        return 1;
    qsort(t + 1, a->reps, sizeof *t, cmp_double);
    *median = t[1 + a->reps / 2];
    free(t);
    return 0;
}

/* Fills p->dst with small finite floats (every float32 and float64 bit
 * pattern of it finite) and prints the read rate and edgegrid's rows. */
static int run_resident(const probe_args *a, probe *p)
{
    float *host = malloc(a->size);
    if (!host)
        return 1;
    for (size_t i = 0; i < a->size / 4; i++)
        host[i] = 0.25f + (float)(i % 1000) * 1e-3f;
    cl_int rc = clEnqueueWriteBuffer(p->q, p->dst, CL_TRUE, 0, a->size, host,
                                     0, NULL, NULL);
    free(host);
    if (rc != CL_SUCCESS)
        return cl_fail("clEnqueueWriteBuffer", p, rc);
    double rd = 0;
    int status = time_reads(a, p, &rd);
    if (status != 0)
        return status;
    double read_gbps = (double)a->size / rd / 1e9;
    printf("device %u (%s): device-memory read of %zu bytes: %.2f GB/s "
           "(a GPU-shaped kernel; on a CPU device it says little)\n",
           p->index, p->name, a->size, read_gbps);
    char spec[16];
    snprintf(spec, sizeof spec, "%u", p->index);
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, spec, &err) != EG_OK) {
        fprintf(stderr, "cl_copy_probe: %s\n", err.msg);
        return 1;
    }
    static const struct {
        const char *name;
        unsigned ops;
        eg_mode mode;
    } rows[] = {
        {"sum", EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST},
        {"min,max", EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX),
         EG_MODE_FAST},
        {"l1", EG_OPS_BIT(EG_OP_L1), EG_MODE_FAST},
        {"fused", EG_OPS_DEFAULT, EG_MODE_FAST},
        {"exact sum", EG_OPS_BIT(EG_OP_SUM), EG_MODE_EXACT},
    };
    const eg_dtype dts[] = {EG_F32, EG_F64};
    for (size_t d = 0; d < 2 && status == 0; d++) {
        for (size_t i = 0; i < sizeof rows / sizeof rows[0] && status == 0;
             i++) {
            double t = 0;
            status = time_edgegrid(a, p, e, dts[d], rows[i].ops,
                                   rows[i].mode, &t);
            if (status == 0) {
                double g = (double)a->size / t / 1e9;
                printf("  resident %-4s %-10s %8.2f GB/s  %.2f of the read "
                       "rate\n",
                       eg_dtype_name(dts[d]), rows[i].name, g,
                       g / read_gbps);
            }
        }
    }
    eg_engine_close(&e);
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
        } else if (strcmp(o, "--resident") == 0) {
            a->resident = 1;
        } else if (strcmp(o, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            puts("usage: cl_copy_probe [--device INDEX|gpu] [--size BYTES] "
                 "[--reps N] [--json|-q] [--resident]\n"
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
    probe_args a = {"gpu", (size_t)256 << 20, 10, 0, 0, 0};
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
    if (rc == 0 && a.resident)
        rc = run_resident(&a, &p);
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
