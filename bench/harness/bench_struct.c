/* bench_struct.c - the structured section of `edgegrid bench`.  Issue 14's
 * cases on one float32 array in memory (normal values, fixed seed): --axis
 * 0 on [N, C] for C = 2, 3, 8, 64, 1024; --axis -1 on [R, C] for C = 8,
 * 64, 4096, 1e6; --by with K = 10, 1000, 100000 groups of int32 keys
 * (uniform, fixed seed; their bytes counted as read).  Each beside
 * eg_reduce's flat sum of the same elements, timed the same way
 * (bench_repeat: warm-up, then the median), so the ratio is of one run.
 * Speed only: nothing here checks a value (the tests do). */
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_eg.h"
#include "bench_machine.h"
#include "bench_struct.h"
#include "bench_timing.h"
#include "cli.h"

typedef struct scase {
    const char *name;
    int by;           /* groups of rows; else axis */
    int axis;         /* 0 or -1 */
    uint64_t c;       /* columns, or groups with by */
} scase;

static const scase cases[] = {
    {"--axis 0, C=2", 0, 0, 2},          {"--axis 0, C=3", 0, 0, 3},
    {"--axis 0, C=8", 0, 0, 8},          {"--axis 0, C=64", 0, 0, 64},
    {"--axis 0, C=1024", 0, 0, 1024},    {"--axis -1, C=8", 0, -1, 8},
    {"--axis -1, C=64", 0, -1, 64},      {"--axis -1, C=4096", 0, -1, 4096},
    {"--axis -1, C=1000000", 0, -1, 1000000}, {"--by, K=10", 1, 0, 10},
    {"--by, K=1000", 1, 0, 1000},        {"--by, K=100000", 1, 0, 100000},
};
#define NCASES (sizeof cases / sizeof cases[0])

typedef struct srun {
    eg_engine *e;
    const float *x;
    uint64_t count;
    eg_struct_opts so;
    eg_reduce_opts o;
    eg_sresult res;
    eg_error err;
    eg_status st;
} srun;

static int struct_rep(void *ctx)
{
    srun *r = ctx;
    eg_sresult_free(&r->res);
    r->st = eg_reduce_structured(r->e, r->x, NULL, r->count, EG_F32, &r->so,
                                 &r->o, &r->res, &r->err);
    return r->st != EG_OK;
}

typedef struct sfig {
    bench_figure s, flat;
    uint64_t count;
    char error[sizeof(((eg_error *)0)->msg)];
} sfig;

/* One case on the first `count` elements (whole rows of C). */
static int measure(eg_engine *e, const bench_data *d, const int32_t *keys,
                   const scase *c, const bench_plan *plan, sfig *out)
{
    srun r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    uint64_t count = c->by ? d->count : d->count / c->c * c->c;
    if (count == 0) {
        snprintf(out->error, sizeof out->error, "--size under one row");
        return 0;
    }
    out->count = count;
    r.e = e;
    r.x = d->x;
    r.count = count;
    eg_struct_opts_init(&r.so);
    eg_reduce_opts_init(&r.o);
    r.o.ops = EG_OPS_BIT(EG_OP_SUM);
    uint64_t bytes = count * sizeof(float);
    if (c->by) {
        r.so.keys = keys;
        r.so.key_dtype = EG_I32;
        r.so.nkeys = count;
        bytes += count * sizeof(int32_t);
    } else {
        r.so.naxes = 1;
        r.so.axes[0] = c->axis;
        r.so.shape_ndim = 2;
        r.so.shape[0] = count / c->c;
        r.so.shape[1] = c->c;
    }
    int rc = bench_repeat(plan, struct_rep, &r, bytes, &out->s);
    eg_sresult_free(&r.res);
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "%s",
                 r.st != EG_OK && r.err.msg[0] ? r.err.msg : "failed");
        memset(&out->s, 0, sizeof out->s);
        return 0;
    }
    bench_eg_cell flat;
    if (bench_eg_measure(e, d, count, EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST,
                         plan, &flat) == EG_OK)
        out->flat = flat.fig;
    return 0;
}

static double ratio(const sfig *f)
{
    return f->s.have && f->flat.have && f->flat.gbps > 0
               ? f->s.gbps / f->flat.gbps
               : 0;
}

static void print_table(FILE *f, const char *cpu, const char *spec,
                        const sfig *figs)
{
    fprintf(f, "structured reductions (--ops sum, float32; --by: int32 keys, "
               "their bytes counted)\n");
    fprintf(f, "cpu: %s; devices: %s\n", cpu, spec);
    fprintf(f, "%-22s %12s %12s %8s\n", "case", "GB/s", "flat GB/s",
            "xflat");
    for (size_t i = 0; i < NCASES; i++) {
        const sfig *g = &figs[i];
        if (!g->s.have) {
            fprintf(f, "%-22s %12s %12s %8s  (%s)\n", cases[i].name, "-",
                    "-", "-", g->error);
            continue;
        }
        fprintf(f, "%-22s %12.2f %12.2f %8.2f\n", cases[i].name, g->s.gbps,
                g->flat.gbps, ratio(g));
    }
}

static void print_json(FILE *f, const char *cpu, const char *spec,
                       const sfig *figs)
{
    fprintf(f, "{\"structured\": {\"cpu\": \"%s\", \"devices\": \"%s\", "
               "\"dtype\": \"float32\", \"ops\": [\"sum\"], \"cases\": [",
            cpu, spec);
    for (size_t i = 0; i < NCASES; i++) {
        const sfig *g = &figs[i];
        fprintf(f, "%s\n  {\"case\": \"%s\", \"elements\": %llu, ",
                i ? "," : "", cases[i].name, (unsigned long long)g->count);
        if (g->s.have)
            fprintf(f, "\"seconds\": %.9g, \"gbps\": %.6g, ", g->s.seconds,
                    g->s.gbps);
        else
            fprintf(f, "\"seconds\": null, \"gbps\": null, \"error\": \"%s\", ",
                    g->error);
        if (g->flat.have)
            fprintf(f, "\"flat_gbps\": %.6g, ", g->flat.gbps);
        else
            fprintf(f, "\"flat_gbps\": null, ");
        if (ratio(g) > 0)
            fprintf(f, "\"vs_flat\": %.4g}", ratio(g));
        else
            fprintf(f, "\"vs_flat\": null}");
    }
    fprintf(f, "\n]}}\n");
}

int bench_struct_run(const bench_args *a, int json, FILE *f)
{
    const char *spec = a->nspecs ? a->specs[0] : NULL;
    bench_data d;
    uint64_t count = a->size / sizeof(float);
    if (bench_data_alloc(&d, EG_F32, count, 0) != 0) {
        cli_errorf("bench: --structured: no memory for %llu bytes",
                   (unsigned long long)a->size);
        return CLI_EXIT_FAIL;
    }
    sfig *figs = calloc(NCASES, sizeof *figs);
    int32_t *keys = malloc((count ? count : 1) * sizeof *keys);
    eg_engine *e = NULL;
    eg_error err;
    int status = CLI_EXIT_OK;
    if (!figs || !keys) {
        cli_errorf("bench: --structured: out of memory");
        status = CLI_EXIT_FAIL;
    } else if (eg_engine_open(&e, spec, &err) != EG_OK) {
        cli_errorf("bench: --structured: %s", err.msg);
        status = err.code == EG_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    bench_plan plan = {1, a->reps, a->reps > 100 ? a->reps : 100, 0.2};
    uint64_t lcg = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < NCASES && status == CLI_EXIT_OK; i++) {
        if (cases[i].by) /* uniform keys in [0, K), the same every run */
            for (uint64_t k = 0; k < count; k++) {
                lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
                keys[k] = (int32_t)((lcg >> 33) % cases[i].c);
            }
        if (a->verbose)
            fprintf(stderr, "bench: %s\n", cases[i].name);
        measure(e, &d, keys, &cases[i], &plan, &figs[i]);
    }
    if (status == CLI_EXIT_OK) {
        char cpu[256];
        uint64_t mem;
        bench_machine(cpu, sizeof cpu, &mem);
        const char *shown = spec ? spec : "all";
        if (json)
            print_json(f, cpu, shown, figs);
        else
            print_table(f, cpu, shown, figs);
    }
    eg_engine_close(&e);
    bench_data_free(&d);
    free(figs);
    free(keys);
    return status;
}
