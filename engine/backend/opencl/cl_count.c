/* cl_count.c - the counting passes of the quantile ops on an OpenCL
 * device (device.h's count_hist, count_select and count_sketch;
 * kernels/count.cl and kernels/sketch.cl).
 *
 * One call is one launch over at most EG_CL_COUNT_MAX elements: the data
 * are copied into a device buffer, the kernel counts into 32-bit global
 * counters (each work-group through its own local bins when they fit),
 * and the host adds them into the caller's 64-bit counts only once the
 * whole call succeeded, so a failed call can be redone on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_device.h"
#include "cl_program.h"
#include "error.h"
#include "hist.h"
#include "sketch.h"

/* Work-groups per compute unit: enough to keep each busy to the end of a
 * launch; few enough that zeroing and flushing local bins stays cheap. */
#define EG_CL_COUNT_GROUPS_PER_CU 4
#define EG_CL_COUNT_LOCAL_MAX 256
#define EG_CL_COUNT_DIGIT_BINS_MAX (1u << 16)

/* hist kernel variants: bit 0 float32 bins, 1 float32 norm, 2 integer
 * bounds; and local bins or not. */
#define EG_CL_HIST_KINDS 8

/* The most counters a chunk's sketch table may take in global memory
 * (64 MiB of 32-bit words): more than data over the whole double range
 * needs at --rel-err 0.01 (2 * 2099 * 64), or over the normal doubles and
 * a subnormal at 10^-4 (2 * 1100 * 8192); a wider table (a --rel-err
 * near its least, over many octaves) is the host's to count. */
#define EG_CL_SKETCH_WORDS_MAX (1u << 24)

struct eg_cl_count {
    eg_cl_kernel hist[EG_DTYPE_COUNT][EG_CL_HIST_KINDS][2];
    eg_cl_kernel sel[EG_DTYPE_COUNT][2];
    eg_cl_kernel sk_span[EG_DTYPE_COUNT], sk_count[EG_DTYPE_COUNT][2];
    eg_cl_buffer in, out, len, keys, par, edges;
    eg_cl_buffer span; /* the sketch's bucket span: written by the kernel */
    uint64_t local_mem; /* CL_DEVICE_LOCAL_MEM_SIZE */
    uint32_t *host_out; /* the counters read back */
    size_t host_out_cap;
};

static void kernel_release(eg_cl_kernel *k)
{
    if (k->kernel)
        clReleaseKernel(k->kernel);
    if (k->program)
        clReleaseProgram(k->program);
    k->kernel = NULL;
    k->program = NULL;
}

static void buf_release(eg_cl_buffer *b)
{
    if (b->mem)
        clReleaseMemObject(b->mem);
    b->mem = NULL;
    b->bytes = 0;
}

void eg_cl_count_release(eg_cl_impl *impl)
{
    eg_cl_count *c = impl->count;
    if (!c)
        return;
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        for (int k = 0; k < EG_CL_HIST_KINDS; k++)
            for (int l = 0; l < 2; l++)
                kernel_release(&c->hist[t][k][l]);
        for (int l = 0; l < 2; l++) {
            kernel_release(&c->sel[t][l]);
            kernel_release(&c->sk_count[t][l]);
        }
        kernel_release(&c->sk_span[t]);
    }
    buf_release(&c->in);
    buf_release(&c->out);
    buf_release(&c->len);
    buf_release(&c->keys);
    buf_release(&c->par);
    buf_release(&c->edges);
    buf_release(&c->span);
    free(c->host_out);
    free(c);
    impl->count = NULL;
}

/* The device's counting state, made on first use; the engine prepared the
 * device (context, queue, the contraction probe) before any pass. */
static eg_status count_state(eg_device *dev, eg_cl_count **out, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    if (!impl->probed || !impl->context)
        return eg_error_set(err, EG_EINTERNAL,
                            "\"%s\" counts before it was prepared",
                            dev->info.name);
    if (!impl->count) {
        eg_cl_count *c = calloc(1, sizeof *c);
        if (!c)
            return eg_error_set(err, EG_ENOMEM, "out of memory on \"%s\"",
                                dev->info.name);
        cl_ulong lm = 0;
        if (clGetDeviceInfo(impl->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm,
                            &lm, NULL) != CL_SUCCESS)
            lm = 0;
        c->local_mem = lm;
        impl->count = c;
    }
    *out = impl->count;
    return EG_OK;
}

/* Builds one counting kernel of the program `source` gives
 * (kernels/count.cl or kernels/sketch.cl) with extra -D options. */
static eg_status build_from(eg_device *dev, char *(*source)(size_t *),
                            eg_dtype t, const char *name, const char *extra,
                            eg_cl_kernel *slot, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    size_t len = 0;
    char *src = source(&len);
    if (!src)
        return eg_error_set(err, EG_ENOMEM,
                            "out of memory building kernels for \"%s\"",
                            dev->info.name);
    char options[384];
    eg_cl_build_options(t, 0, options, sizeof options);
    size_t used = strlen(options);
    snprintf(options + used, sizeof options - used, " %s", extra);
    eg_cl_target tg = eg_cl_target_of(dev);
    cl_program prog = NULL;
    int from_cache = 0;
    eg_status st =
        eg_cl_program_get(&tg, src, len, options, &prog, &from_cache, err);
    free(src);
    if (st != EG_OK)
        return st;
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, name, &rc);
    if (rc != CL_SUCCESS) {
        clReleaseProgram(prog);
        return eg_cl_fail(err, "clCreateKernel", dev->info.name, rc);
    }
    size_t wg = 0;
    rc = clGetKernelWorkGroupInfo(k, impl->device, CL_KERNEL_WORK_GROUP_SIZE,
                                  sizeof wg, &wg, NULL);
    if (rc != CL_SUCCESS) {
        clReleaseKernel(k);
        clReleaseProgram(prog);
        return eg_cl_fail(err, "clGetKernelWorkGroupInfo", dev->info.name,
                          rc);
    }
    slot->program = prog;
    slot->kernel = k;
    slot->local_size = wg == 0                        ? 1
                       : wg < EG_CL_COUNT_LOCAL_MAX ? wg
                                                      : EG_CL_COUNT_LOCAL_MAX;
    if (from_cache)
        impl->programs_loaded++;
    else
        impl->programs_built++;
    return EG_OK;
}

static eg_status build(eg_device *dev, eg_dtype t, const char *name,
                       const char *extra, eg_cl_kernel *slot, eg_error *err)
{
    return build_from(dev, eg_cl_count_kernel_source, t, name, extra, slot,
                      err);
}

/* Copies x[0, bytes) to the device and zeroes the counters. */
static eg_status upload(eg_device *dev, eg_cl_buffer *b, const void *x,
                        size_t bytes, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    eg_status st = eg_cl_buffer_reserve(dev, b, CL_MEM_READ_ONLY,
                                        bytes ? bytes : 1, err);
    if (st != EG_OK || bytes == 0)
        return st;
    cl_int rc = clEnqueueWriteBuffer(impl->queue, b->mem, CL_TRUE, 0, bytes,
                                     x, 0, NULL, NULL);
    return rc == CL_SUCCESS ? EG_OK
                            : eg_cl_fail(err, "clEnqueueWriteBuffer",
                                         dev->info.name, rc);
}

/* A counter buffer of `words` 32-bit zeros. */
static eg_status zeros(eg_device *dev, eg_cl_buffer *b, size_t words,
                       eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    size_t bytes = words * sizeof(cl_uint);
    eg_status st = eg_cl_buffer_reserve(dev, b, CL_MEM_READ_WRITE, bytes, err);
    if (st != EG_OK)
        return st;
    cl_uint zero = 0;
    cl_int rc = clEnqueueFillBuffer(impl->queue, b->mem, &zero, sizeof zero, 0,
                                    bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? EG_OK
                            : eg_cl_fail(err, "clEnqueueFillBuffer",
                                         dev->info.name, rc);
}

static eg_status read_back(eg_device *dev, eg_cl_buffer *b, void *out,
                           size_t bytes, eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    cl_int rc = clEnqueueReadBuffer(impl->queue, b->mem, CL_TRUE, 0, bytes,
                                    out, 0, NULL, NULL);
    return rc == CL_SUCCESS ? EG_OK
                            : eg_cl_fail(err, "clEnqueueReadBuffer",
                                         dev->info.name, rc);
}

/* Launches k over n elements: a few work-groups per compute unit, each
 * work-item striding over the data. */
static eg_status launch(eg_device *dev, const eg_cl_kernel *k, uint64_t n,
                        eg_error *err)
{
    eg_cl_impl *impl = dev->impl;
    size_t local = k->local_size;
    uint64_t cu = dev->info.compute_units ? dev->info.compute_units : 1;
    uint64_t groups = cu * EG_CL_COUNT_GROUPS_PER_CU;
    uint64_t need = (n + local * 16 - 1) / (local * 16);
    if (need < groups)
        groups = need ? need : 1;
    size_t global = (size_t)groups * local;
    cl_int rc = clEnqueueNDRangeKernel(impl->queue, k->kernel, 1, NULL,
                                       &global, &local, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueNDRangeKernel", dev->info.name, rc);
    dev->launch_global = global;
    dev->launch_local = local;
    if (eg_cl_fault_fires(dev, EG_CL_FAULT_RUN))
        return eg_cl_fail(err, "clEnqueueNDRangeKernel", dev->info.name,
                          CL_OUT_OF_RESOURCES);
    return EG_OK;
}

static eg_status host_words(eg_cl_count *c, size_t words, eg_device *dev,
                            eg_error *err)
{
    if (c->host_out_cap >= words)
        return EG_OK;
    uint32_t *p = realloc(c->host_out, words * sizeof *p);
    if (!p)
        return eg_error_set(err, EG_ENOMEM, "out of memory on \"%s\"",
                            dev->info.name);
    c->host_out = p;
    c->host_out_cap = words;
    return EG_OK;
}

static eg_status check_size(eg_device *dev, uint64_t n, eg_error *err)
{
    if (n > EG_CL_COUNT_MAX)
        return eg_error_set(err, EG_EINTERNAL,
                            "%llu elements in one count on \"%s\"",
                            (unsigned long long)n, dev->info.name);
    return EG_OK;
}

#define ARG(k, i, v)                                                           \
    (rc == CL_SUCCESS ? (rc = clSetKernelArg((k), (i), sizeof(v), &(v)))       \
                      : rc)

/* The end of a one-launch count (hist, the sketch) whose arguments 0 to 7
 * are set, rc saying how that went: its table as argument 8 (lbytes of
 * local memory, or one word when it counts in global memory), the launch
 * over n elements and its `words` counters read into c->host_out.  On
 * failure the queue is drained, so that nothing still writes the buffers
 * the next unit reuses. */
static eg_status launch_and_read(eg_device *dev, const eg_cl_kernel *k,
                                 eg_cl_count *c, cl_int rc, size_t lbytes,
                                 uint64_t n, size_t words, eg_error *err)
{
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(k->kernel, 8, lbytes, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clSetKernelArg", dev->info.name, rc);
    eg_status st = launch(dev, k, n, err);
    if (st == EG_OK)
        st = read_back(dev, &c->out, c->host_out, words * sizeof(cl_uint),
                       err);
    if (st != EG_OK)
        clFinish(((eg_cl_impl *)dev->impl)->queue);
    return st;
}

/* ----------------------------------------------------------------- hist */

eg_status eg_cl_count_hist(eg_device *dev, const eg_hist_plan *p,
                           const void *x, uint64_t n, eg_hist_state *s,
                           eg_error *err)
{
    eg_cl_count *c = NULL;
    eg_status st = check_size(dev, n, err);
    if (st == EG_OK)
        st = count_state(dev, &c, err);
    if (st != EG_OK)
        return st;
    if (n == 0)
        return EG_OK;
    eg_dtype t = p->dtype;
    unsigned nb = p->nbins;
    size_t lbytes = (size_t)nb * sizeof(cl_uint);
    int local = lbytes <= c->local_mem / 2;
    unsigned kind = (p->f32 ? 1u : 0u) | (p->f32 && p->norm_f32 ? 2u : 0u) |
                    (p->int_bounds ? 4u : 0u);
    eg_cl_kernel *k = &c->hist[t][kind][local];
    if (!k->kernel) {
        char extra[160];
        snprintf(extra, sizeof extra, "-DEG_LOCAL=%d%s%s%s", local,
                 (kind & 1u) ? " -DEG_HIST_F32" : "",
                 (kind & 2u) ? " -DEG_NORM_F32" : "",
                 (kind & 4u) ? " -DEG_INT_BOUNDS" : "");
        if ((st = build(dev, t, "eg_hist", extra, k, err)) != EG_OK)
            return st;
    }
    /* sfirst, norm, float(norm), cfirst, clast as numpy's plan has them */
    double par[5] = {p->sfirst, p->norm, (double)(float)p->norm, p->cfirst,
                     p->clast};
    size_t words = (size_t)nb + 3;
    st = upload(dev, &c->in, x, (size_t)n * eg_dtype_size(t), err);
    if (st == EG_OK)
        st = upload(dev, &c->edges, p->edges, ((size_t)nb + 1) * sizeof(double),
                    err);
    if (st == EG_OK)
        st = upload(dev, &c->par, par, sizeof par, err);
    if (st == EG_OK)
        st = zeros(dev, &c->out, words, err);
    if (st == EG_OK)
        st = host_words(c, words, dev, err);
    if (st != EG_OK)
        return st;
    cl_ulong cn = n, klo = p->klo, khi = p->khi;
    cl_uint cnb = nb;
    cl_int rc = CL_SUCCESS;
    ARG(k->kernel, 0, c->in.mem);
    ARG(k->kernel, 1, cn);
    ARG(k->kernel, 2, cnb);
    ARG(k->kernel, 3, c->edges.mem);
    ARG(k->kernel, 4, c->par.mem);
    ARG(k->kernel, 5, klo);
    ARG(k->kernel, 6, khi);
    ARG(k->kernel, 7, c->out.mem);
    st = launch_and_read(dev, k, c, rc, local ? lbytes : sizeof(cl_uint), n,
                         words, err);
    if (st != EG_OK)
        return st;
    for (unsigned b = 0; b < nb; b++)
        s->counts[b] += c->host_out[b];
    s->below += c->host_out[nb];
    s->above += c->host_out[nb + 1];
    s->nan += c->host_out[nb + 2];
    return EG_OK;
}

/* ------------------------------------------------------------ selection */

eg_status eg_cl_count_select(eg_device *dev, eg_dtype t,
                             const eg_count_group *g, size_t ng,
                             const void *x, uint64_t n, uint64_t *nan,
                             eg_error *err)
{
    eg_cl_count *c = NULL;
    eg_status st = check_size(dev, n, err);
    if (st == EG_OK)
        st = count_state(dev, &c, err);
    if (st != EG_OK)
        return st;
    if (n == 0 || ng == 0)
        return EG_OK;
    if (ng > EG_CL_COUNT_GROUPS_MAX)
        return eg_error_set(err, EG_EINTERNAL, "%zu buckets in one pass on "
                            "\"%s\"", ng, dev->info.name);
    size_t bins = eg_dtype_size(t) == 1 ? 256u : EG_CL_COUNT_DIGIT_BINS_MAX;
    size_t lbytes = ng * bins * sizeof(cl_uint);
    int local = lbytes <= c->local_mem / 2;
    eg_cl_kernel *k = &c->sel[t][local];
    if (!k->kernel) {
        char extra[64];
        snprintf(extra, sizeof extra, "-DEG_LOCAL=%d", local);
        if ((st = build(dev, t, "eg_select", extra, k, err)) != EG_OK)
            return st;
    }
    uint64_t meta64[EG_CL_COUNT_GROUPS_MAX];
    cl_uint meta32[4 * EG_CL_COUNT_GROUPS_MAX];
    size_t nkeys = 0;
    for (size_t j = 0; j < ng; j++) {
        uint64_t room = 0;
        if (!g[j].hist)
            room = *g[j].len < g[j].cap ? g[j].cap - *g[j].len : 0;
        if (room > UINT32_MAX)
            room = UINT32_MAX;
        meta64[j] = g[j].prefix;
        meta32[j] = g[j].fixed;
        meta32[ng + j] = g[j].hist ? 0u : 1u;
        meta32[2 * ng + j] = (cl_uint)room;
        meta32[3 * ng + j] = (cl_uint)nkeys;
        nkeys += room;
    }
    size_t hwords = ng * bins;
    st = upload(dev, &c->in, x, (size_t)n * eg_dtype_size(t), err);
    if (st == EG_OK)
        st = zeros(dev, &c->out, hwords, err);
    if (st == EG_OK)
        st = zeros(dev, &c->len, ng + 1, err);
    if (st == EG_OK)
        st = eg_cl_buffer_reserve(dev, &c->keys, CL_MEM_WRITE_ONLY,
                                  (nkeys ? nkeys : 1) * sizeof(cl_ulong), err);
    if (st == EG_OK)
        st = host_words(c, hwords + ng + 1 + 2 * nkeys, dev, err);
    if (st != EG_OK)
        return st;
    cl_int rc = CL_SUCCESS;
    eg_cl_impl *impl = dev->impl;
    /* the groups, one small buffer per array: prefix (u64), fixed,
     * collect, cap, koff (u32) */
    cl_mem m[5] = {NULL, NULL, NULL, NULL, NULL};
    const void *src[5] = {meta64, meta32, meta32 + ng, meta32 + 2 * ng,
                          meta32 + 3 * ng};
    size_t sz[5] = {ng * 8, ng * 4, ng * 4, ng * 4, ng * 4};
    for (int i = 0; i < 5 && rc == CL_SUCCESS; i++)
        m[i] = clCreateBuffer(impl->context,
                              CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sz[i],
                              (void *)src[i], &rc);
    cl_ulong cn = n;
    cl_uint cng = (cl_uint)ng;
    ARG(k->kernel, 0, c->in.mem);
    ARG(k->kernel, 1, cn);
    ARG(k->kernel, 2, cng);
    ARG(k->kernel, 3, m[0]);
    ARG(k->kernel, 4, m[1]);
    ARG(k->kernel, 5, m[2]);
    ARG(k->kernel, 6, m[3]);
    ARG(k->kernel, 7, m[4]);
    ARG(k->kernel, 8, c->out.mem);
    ARG(k->kernel, 9, c->len.mem);
    ARG(k->kernel, 10, c->keys.mem);
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(k->kernel, 11, local ? lbytes : sizeof(cl_uint),
                            NULL);
    if (rc != CL_SUCCESS)
        st = eg_cl_fail(err, "clSetKernelArg", dev->info.name, rc);
    if (st == EG_OK)
        st = launch(dev, k, n, err);
    uint32_t *hist = c->host_out, *lenv = hist + hwords;
    uint64_t *keys = (uint64_t *)(void *)(lenv + ng + 1);
    if (st == EG_OK)
        st = read_back(dev, &c->out, hist, hwords * sizeof(cl_uint), err);
    if (st == EG_OK)
        st = read_back(dev, &c->len, lenv, (ng + 1) * sizeof(cl_uint), err);
    if (st == EG_OK && nkeys)
        st = read_back(dev, &c->keys, keys, nkeys * sizeof(cl_ulong), err);
    if (st != EG_OK)
        clFinish(impl->queue);
    for (int i = 0; i < 5; i++)
        if (m[i])
            clReleaseMemObject(m[i]);
    if (st != EG_OK)
        return st;
    for (size_t j = 0; j < ng; j++) {
        if (g[j].hist) {
            const uint32_t *h = hist + j * bins;
            for (size_t b = 0; b < bins; b++)
                g[j].hist[b] += h[b];
            continue;
        }
        uint64_t room = meta32[2 * ng + j], got = lenv[j];
        if (got > room)
            got = room;
        memcpy(g[j].keys + *g[j].len, keys + meta32[3 * ng + j],
               got * sizeof *keys);
        *g[j].len += got;
    }
    *nan += lenv[ng];
    return EG_OK;
}

/* --------------------------------------------------------------- sketch */

/* The chunk's buckets per side (eg_sketch_span) into w's windows. */
static eg_status sketch_span(eg_device *dev, eg_cl_count *c, eg_dtype t,
                             unsigned k, uint64_t n, eg_sketch_window *w,
                             eg_error *err)
{
    eg_cl_kernel *ks = &c->sk_span[t];
    eg_status st = EG_OK;
    if (!ks->kernel &&
        (st = build_from(dev, eg_cl_sketch_kernel_source, t, "eg_sketch_span",
                         "-DEG_LOCAL=0", ks, err)) != EG_OK)
        return st;
    /* its own read-write buffer: the kernel's atomics write it (upload's
     * buffers are read-only to kernels) */
    cl_uint span[4] = {UINT32_MAX, 0, UINT32_MAX, 0};
    st = eg_cl_buffer_reserve(dev, &c->span, CL_MEM_READ_WRITE, sizeof span,
                              err);
    if (st != EG_OK)
        return st;
    cl_int rc = clEnqueueWriteBuffer(((eg_cl_impl *)dev->impl)->queue,
                                     c->span.mem, CL_TRUE, 0, sizeof span,
                                     span, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clEnqueueWriteBuffer", dev->info.name, rc);
    cl_ulong cn = n;
    cl_uint ck = k;
    ARG(ks->kernel, 0, c->in.mem);
    ARG(ks->kernel, 1, cn);
    ARG(ks->kernel, 2, ck);
    ARG(ks->kernel, 3, c->span.mem);
    if (rc != CL_SUCCESS)
        return eg_cl_fail(err, "clSetKernelArg", dev->info.name, rc);
    st = launch(dev, ks, n, err);
    if (st == EG_OK)
        st = read_back(dev, &c->span, span, sizeof span, err);
    if (st != EG_OK)
        return st;
    /* a greatest bucket of 0: that side holds none */
    w->pos_lo = span[1] ? span[0] : 0;
    w->pos_len = span[1] ? (uint64_t)span[1] - span[0] + 1 : 0;
    w->neg_lo = span[3] ? span[2] : 0;
    w->neg_len = span[3] ? (uint64_t)span[3] - span[2] + 1 : 0;
    return EG_OK;
}

eg_status eg_cl_count_sketch(eg_device *dev, eg_sketch *s, eg_dtype t,
                             const void *x, uint64_t n, eg_error *err)
{
    eg_cl_count *c = NULL;
    eg_status st = check_size(dev, n, err);
    if (st == EG_OK)
        st = count_state(dev, &c, err);
    if (st != EG_OK)
        return st;
    if (n == 0)
        return EG_OK;
    eg_sketch_window w;
    memset(&w, 0, sizeof w);
    st = upload(dev, &c->in, x, (size_t)n * eg_dtype_size(t), err);
    if (st == EG_OK)
        st = sketch_span(dev, c, t, s->k, n, &w, err);
    if (st != EG_OK) {
        clFinish(((eg_cl_impl *)dev->impl)->queue);
        return st;
    }
    uint64_t nb = w.pos_len + w.neg_len;
    if (nb > EG_CL_SKETCH_WORDS_MAX)
        return eg_error_set(err, EG_EOPENCL,
                            "the chunk's sketch spans %llu buckets, more "
                            "than the %u a launch on \"%s\" counts",
                            (unsigned long long)nb, EG_CL_SKETCH_WORDS_MAX,
                            dev->info.name);
    size_t words = (size_t)nb + 4, lbytes = (size_t)nb * sizeof(cl_uint);
    int local = nb > 0 && lbytes <= c->local_mem / 2;
    eg_cl_kernel *k = &c->sk_count[t][local];
    if (!k->kernel) {
        char extra[32];
        snprintf(extra, sizeof extra, "-DEG_LOCAL=%d", local);
        if ((st = build_from(dev, eg_cl_sketch_kernel_source, t,
                             "eg_sketch_count", extra, k, err)) != EG_OK)
            return st;
    }
    st = zeros(dev, &c->out, words, err);
    if (st == EG_OK)
        st = host_words(c, words, dev, err);
    if (st != EG_OK)
        return st;
    cl_ulong cn = n;
    cl_uint ck = s->k, plo = (cl_uint)w.pos_lo, plen = (cl_uint)w.pos_len;
    cl_uint nlo = (cl_uint)w.neg_lo, nlen = (cl_uint)w.neg_len;
    cl_int rc = CL_SUCCESS;
    ARG(k->kernel, 0, c->in.mem);
    ARG(k->kernel, 1, cn);
    ARG(k->kernel, 2, ck);
    ARG(k->kernel, 3, plo);
    ARG(k->kernel, 4, plen);
    ARG(k->kernel, 5, nlo);
    ARG(k->kernel, 6, nlen);
    ARG(k->kernel, 7, c->out.mem);
    st = launch_and_read(dev, k, c, rc, local ? lbytes : sizeof(cl_uint), n,
                         words, err);
    if (st != EG_OK)
        return st;
    const uint32_t *o = c->host_out;
    w.nan = o[nb];
    w.zero = o[nb + 1];
    w.pinf = o[nb + 2];
    w.ninf = o[nb + 3];
    return eg_sketch_add_window(s, &w, o, o + w.pos_len, err);
}
