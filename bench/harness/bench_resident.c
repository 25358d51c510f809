/* bench_resident.c - see bench_resident.h.  The device is the one the
 * engine numbers with the same index (OpenCL devices in platform order);
 * the buffer lives in a context of this file's own, as a user's would. */
#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_eg.h"
#include "bench_resident.h"
#include "bench_timing.h"
#include "cli.h"

/* The yardstick: every work-item sums float4s a grid-stride apart, so
 * neighbours read neighbours, a few waves per compute unit. */
static const char *read_src =
    "__kernel void rd(__global const float4 *p, ulong n4,\n"
    "                 __global float *out)\n"
    "{\n"
    "    float4 s = (float4)(0.0f);\n"
    "    for (ulong i = get_global_id(0); i < n4; i += get_global_size(0))\n"
    "        s += p[i];\n"
    "    out[get_global_id(0)] = s.x + s.y + s.z + s.w;\n"
    "}\n";

typedef struct res_dev {
    cl_device_id dev;
    cl_context ctx;
    cl_command_queue q;
    cl_mem buf, out;
    cl_kernel k;
    cl_program prog;
    size_t global, local;
    uint64_t bytes;
} res_dev;

/* The index-th OpenCL device in platform order, as the engine counts. */
static int find_device(unsigned index, cl_device_id *out)
{
    cl_platform_id plats[16];
    cl_uint np = 0, seen = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS)
        return -1;
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_device_id ids[64];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, ids, &nd) !=
            CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < 64; d++, seen++)
            if (seen == index) {
                *out = ids[d];
                return 0;
            }
    }
    return -1;
}

static void res_release(res_dev *r)
{
    if (r->k)
        clReleaseKernel(r->k);
    if (r->prog)
        clReleaseProgram(r->prog);
    if (r->out)
        clReleaseMemObject(r->out);
    if (r->buf)
        clReleaseMemObject(r->buf);
    if (r->q)
        clReleaseCommandQueue(r->q);
    if (r->ctx)
        clReleaseContext(r->ctx);
}

/* Context, queue, the data copied into device memory, the read probe. */
static cl_int res_open(res_dev *r, const bench_data *d, uint64_t bytes)
{
    cl_int rc;
    cl_uint cus = 1;
    r->bytes = bytes;
    r->ctx = clCreateContext(NULL, 1, &r->dev, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return rc;
    r->q = clCreateCommandQueue(r->ctx, r->dev, 0, &rc);
    if (rc != CL_SUCCESS)
        return rc;
    r->buf = clCreateBuffer(r->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                            bytes, d->x, &rc);
    if (rc != CL_SUCCESS)
        return rc;
    clGetDeviceInfo(r->dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus,
                    NULL);
    r->local = 256;
    r->global = (size_t)cus * 2048 * 4;
    r->out = clCreateBuffer(r->ctx, CL_MEM_WRITE_ONLY,
                            r->global * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS)
        return rc;
    r->prog = clCreateProgramWithSource(r->ctx, 1, &read_src, NULL, &rc);
    if (rc == CL_SUCCESS)
        rc = clBuildProgram(r->prog, 1, &r->dev, "", NULL, NULL);
    if (rc == CL_SUCCESS)
        r->k = clCreateKernel(r->prog, "rd", &rc);
    cl_ulong n4 = bytes / 16;
    if (rc == CL_SUCCESS &&
        ((rc = clSetKernelArg(r->k, 0, sizeof r->buf, &r->buf)) != CL_SUCCESS ||
         (rc = clSetKernelArg(r->k, 1, sizeof n4, &n4)) != CL_SUCCESS ||
         (rc = clSetKernelArg(r->k, 2, sizeof r->out, &r->out)) != CL_SUCCESS))
        return rc;
    return rc;
}

typedef struct read_run {
    res_dev *r;
    cl_int rc;
} read_run;

static int read_rep(void *ctx)
{
    read_run *p = ctx;
    res_dev *r = p->r;
    p->rc = clEnqueueNDRangeKernel(r->q, r->k, 1, NULL, &r->global, &r->local,
                                   0, NULL, NULL);
    if (p->rc == CL_SUCCESS)
        p->rc = clFinish(r->q);
    return p->rc != CL_SUCCESS;
}

typedef struct cl_run {
    eg_engine *e;
    cl_mem buf;
    uint64_t count;
    eg_dtype dtype;
    eg_reduce_opts opts;
    eg_result res;
    eg_error err;
    eg_status st;
} cl_run;

static int cl_rep(void *ctx)
{
    cl_run *c = ctx;
    c->st = eg_reduce_cl_buffer(c->e, c->buf, NULL, c->count, c->dtype,
                                &c->opts, &c->res, &c->err);
    return c->st != EG_OK;
}

/* One device's block: the probe, then host-resident and device-resident
 * figures per row. */
static int one_device(const bench_args *a, const eg_device_info *info,
                      const bench_data *d, FILE *f)
{
    res_dev r;
    memset(&r, 0, sizeof r);
    uint64_t bytes = d->count * eg_dtype_size(d->dtype);
    if (find_device(info->index, &r.dev) != 0) {
        cli_errorf("bench: --resident: OpenCL device %u not found",
                   info->index);
        return CLI_EXIT_FAIL;
    }
    cl_int rc = res_open(&r, d, bytes);
    bench_plan plan = {2, a->reps, a->reps > 1000 ? a->reps : 1000, 0.05};
    bench_figure probe = {0};
    read_run rr = {&r, CL_SUCCESS};
    if (rc == CL_SUCCESS &&
        bench_repeat(&plan, read_rep, &rr, bytes, &probe) != 0)
        rc = rr.rc != CL_SUCCESS ? rr.rc : CL_OUT_OF_HOST_MEMORY;
    if (rc != CL_SUCCESS) {
        cli_errorf("bench: --resident: device %u (%s): OpenCL error %d",
                   info->index, info->name, (int)rc);
        res_release(&r);
        return CLI_EXIT_FAIL;
    }
    char spec[16];
    snprintf(spec, sizeof spec, "%u", info->index);
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, spec, &err) != EG_OK) {
        res_release(&r);
        cli_errorf("bench: --resident: %s", err.msg);
        return CLI_EXIT_FAIL;
    }
    fprintf(f, "device %u (%s, %s): read probe %.2f GB/s (device memory)\n",
            info->index, eg_device_kind_name(info->kind), info->name,
            probe.gbps);
    fprintf(f, "GB/s            host   xprobe | resident   xprobe\n");
    int status = CLI_EXIT_OK;
    for (size_t i = 0; i < a->nrows && status == CLI_EXIT_OK; i++) {
        const bench_row_spec *row = &a->rows[i];
        if (row->ops & EG_OPS_BIT(EG_OP_DOT))
            continue; /* one buffer: no second operand */
        bench_eg_cell host;
        cl_run c;
        memset(&c, 0, sizeof c);
        c.e = e;
        c.buf = r.buf;
        c.count = d->count;
        c.dtype = d->dtype;
        eg_reduce_opts_init(&c.opts);
        c.opts.ops = row->ops;
        c.opts.mode = a->mode;
        bench_figure res = {0};
        if (bench_eg_measure(e, d, d->count, row->ops, a->mode, &plan, &host) !=
            EG_OK) {
            cli_errorf("bench: --resident: %s: %s", row->name, host.error);
            status = CLI_EXIT_FAIL;
        } else if (bench_repeat(&plan, cl_rep, &c, bytes, &res) != 0) {
            cli_errorf("bench: --resident: %s: %s", row->name,
                       c.err.msg[0] ? c.err.msg : eg_strerror(c.st));
            status = CLI_EXIT_FAIL;
        } else {
            fprintf(f, "%-10s %9.2f %8.2f | %8.2f %8.2f\n", row->name,
                    host.fig.gbps, host.fig.gbps / probe.gbps, res.gbps,
                    res.gbps / probe.gbps);
        }
    }
    eg_engine_close(&e);
    res_release(&r);
    return status;
}

int bench_resident_run(const bench_args *a, FILE *f)
{
    eg_device_info *devs = NULL;
    size_t ndev = 0;
    char notes[1024];
    eg_error err;
    if (eg_devices_list(&devs, &ndev, notes, sizeof notes, &err) != EG_OK) {
        cli_errorf("bench: --resident: %s", err.msg);
        return CLI_EXIT_FAIL;
    }
    bench_data d;
    uint64_t count = a->size / eg_dtype_size(a->dtype);
    if (bench_data_alloc(&d, a->dtype, count, 0) != 0) {
        free(devs);
        cli_errorf("bench: --resident: out of memory");
        return CLI_EXIT_FAIL;
    }
    fprintf(f,
            "edgegrid bench --resident: %s, %llu bytes, %s mode, median "
            "of at least %u runs after warm-up\n",
            eg_dtype_name(a->dtype),
            (unsigned long long)(count * eg_dtype_size(a->dtype)),
            a->mode == EG_MODE_EXACT ? "exact" : "fast", a->reps);
    int status = CLI_EXIT_OK, any = 0;
    for (size_t i = 0; i < ndev && status == CLI_EXIT_OK; i++) {
        if (devs[i].kind == EG_DEV_HOST)
            continue;
        any = 1;
        status = one_device(a, &devs[i], &d, f);
    }
    if (!any)
        fprintf(f, "no OpenCL device%s%s\n", notes[0] ? ": " : "", notes);
    else
        fprintf(f, "host: eg_reduce of host memory on that device; resident: "
                   "eg_reduce_cl_buffer of the same data in device memory; "
                   "xprobe: over the read probe\n");
    bench_data_free(&d);
    free(devs);
    return status;
}
