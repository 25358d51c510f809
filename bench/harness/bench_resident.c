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
#include "json.h"

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

/* What one device measured: the probe, then per row the reduction of
 * host memory and of the same data in device memory. */
typedef struct res_row {
    const char *name;
    bench_figure host, resident;
} res_row;

typedef struct res_block {
    const eg_device_info *info;
    bench_figure probe;
    size_t nrows;
    res_row rows[BENCH_MAX_ROWS];
} res_block;

/* One device's figures into *b.  Returns an exit status (after printing
 * the one error line). */
static int one_device(const bench_args *a, const eg_device_info *info,
                      const bench_data *d, res_block *b)
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
    b->info = info;
    b->nrows = 0;
    read_run rr = {&r, CL_SUCCESS};
    if (rc == CL_SUCCESS &&
        bench_repeat(&plan, read_rep, &rr, bytes, &b->probe) != 0)
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
            res_row *out = &b->rows[b->nrows++];
            out->name = row->name;
            out->host = host.fig;
            out->resident = res;
        }
    }
    eg_engine_close(&e);
    res_release(&r);
    return status;
}

static void print_table(FILE *f, const res_block *b)
{
    fprintf(f, "device %u (%s, %s): read probe %.2f GB/s (device memory)\n",
            b->info->index, eg_device_kind_name(b->info->kind), b->info->name,
            b->probe.gbps);
    fprintf(f, "GB/s            host   xprobe | resident   xprobe\n");
    for (size_t i = 0; i < b->nrows; i++) {
        const res_row *r = &b->rows[i];
        fprintf(f, "%-10s %9.2f %8.2f | %8.2f %8.2f\n", r->name, r->host.gbps,
                r->host.gbps / b->probe.gbps, r->resident.gbps,
                r->resident.gbps / b->probe.gbps);
    }
}

/* {"gbps", "seconds", "reps", "xprobe"}: the table's figure and ratio. */
static void json_figure(FILE *f, const bench_figure *fig, double probe)
{
    fputs("{\"gbps\": ", f);
    json_double(f, fig->gbps);
    fputs(", \"seconds\": ", f);
    json_double(f, fig->seconds);
    fprintf(f, ", \"reps\": %u, \"xprobe\": ", fig->reps);
    json_double(f, probe > 0 ? fig->gbps / probe : 0.0);
    fputc('}', f);
}

static void print_json(FILE *f, const bench_args *a, uint64_t bytes,
                       const res_block *blocks, size_t nblocks,
                       const char *notes)
{
    fputs("{\"bench\": \"resident\", \"dtype\": ", f);
    json_string(f, eg_dtype_numpy_name(a->dtype));
    fprintf(f, ", \"bytes\": %llu, \"mode\": \"%s\", \"min_reps\": %u, "
               "\"devices\": [",
            (unsigned long long)bytes,
            a->mode == EG_MODE_EXACT ? "exact" : "fast", a->reps);
    for (size_t i = 0; i < nblocks; i++) {
        const res_block *b = &blocks[i];
        fprintf(f, "%s{\"index\": %u, \"type\": ", i ? ", " : "",
                b->info->index);
        json_string(f, eg_device_kind_name(b->info->kind));
        fputs(", \"name\": ", f);
        json_string(f, b->info->name);
        fputs(", \"read_probe\": {\"gbps\": ", f);
        json_double(f, b->probe.gbps);
        fputs(", \"seconds\": ", f);
        json_double(f, b->probe.seconds);
        fprintf(f, ", \"reps\": %u}, \"rows\": [", b->probe.reps);
        for (size_t k = 0; k < b->nrows; k++) {
            const res_row *r = &b->rows[k];
            fputs(k ? ", {\"name\": " : "{\"name\": ", f);
            json_string(f, r->name);
            fputs(", \"host\": ", f);
            json_figure(f, &r->host, b->probe.gbps);
            fputs(", \"resident\": ", f);
            json_figure(f, &r->resident, b->probe.gbps);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("], \"notes\": ", f);
    if (nblocks == 0 && notes[0])
        json_string(f, notes);
    else
        fputs(nblocks ? "null" : "\"no OpenCL device\"", f);
    fputs("}\n", f);
}

int bench_resident_run(const bench_args *a, int json, FILE *f)
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
    uint64_t bytes = count * eg_dtype_size(a->dtype);
    res_block *blocks = calloc(ndev ? ndev : 1, sizeof *blocks);
    if (!blocks) {
        bench_data_free(&d);
        free(devs);
        cli_errorf("bench: --resident: out of memory");
        return CLI_EXIT_FAIL;
    }
    if (!json)
        fprintf(f,
                "edgegrid bench --resident: %s, %llu bytes, %s mode, median "
                "of at least %u runs after warm-up\n",
                eg_dtype_name(a->dtype), (unsigned long long)bytes,
                a->mode == EG_MODE_EXACT ? "exact" : "fast", a->reps);
    int status = CLI_EXIT_OK;
    size_t nblocks = 0;
    for (size_t i = 0; i < ndev && status == CLI_EXIT_OK; i++) {
        if (devs[i].kind == EG_DEV_HOST)
            continue;
        status = one_device(a, &devs[i], &d, &blocks[nblocks]);
        if (status != CLI_EXIT_OK)
            break;
        /* The table goes out device by device, as it is measured. */
        if (!json)
            print_table(f, &blocks[nblocks]);
        nblocks++;
    }
    if (json && status == CLI_EXIT_OK)
        print_json(f, a, bytes, blocks, nblocks, notes);
    else if (!json && nblocks == 0 && status == CLI_EXIT_OK)
        fprintf(f, "no OpenCL device%s%s\n", notes[0] ? ": " : "", notes);
    else if (!json && status == CLI_EXIT_OK)
        fprintf(f, "host: eg_reduce of host memory on that device; resident: "
                   "eg_reduce_cl_buffer of the same data in device memory; "
                   "xprobe: over the read probe\n");
    free(blocks);
    bench_data_free(&d);
    free(devs);
    return status;
}
