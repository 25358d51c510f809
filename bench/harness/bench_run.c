/* bench_run.c - the order of a bench run.  The order matters on a shared
 * box: the roof is read before edgegrid and after each device selection so
 * drift shows; OpenBLAS comes after edgegrid because its idle threads spin
 * for a while after each call and would steal a core from whatever runs
 * next; numpy runs last, in its own process. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_blas.h"
#include "bench_data.h"
#include "bench_machine.h"
#include "bench_numpy.h"
#include "bench_run.h"
#include "bench_timing.h"
#include "cli.h"

#define SWEEP_MIN ((uint64_t)4096)
#define SWEEP_CAP ((uint64_t)2 << 30)

static const uint64_t lat_bytes[BENCH_LAT_SIZES] = {4096, 65536, 1048576};

static void say(const bench_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void say(const bench_args *a, const char *fmt, ...)
{
    va_list ap;

    if (!a->verbose)
        return;
    fputs("bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

size_t bench_sweep_sizes(uint64_t max_size, uint64_t *sizes, size_t cap)
{
    size_t n = 0;
    uint64_t top = max_size < SWEEP_CAP ? max_size : SWEEP_CAP;

    for (uint64_t s = SWEEP_MIN; s <= top && n < cap; s *= 4)
        sizes[n++] = s;
    return n;
}

/* ------------------------------------------------------------- plans */

static bench_plan plan_main(const bench_args *a)
{
    bench_plan p = {1, a->reps, a->reps > 10000 ? a->reps : 10000, 0.05};
    return p;
}

/* The sweep: at least 0.1 s per figure, so small sizes get hundreds of
 * repetitions. */
static bench_plan plan_sweep(const bench_args *a)
{
    bench_plan p = {1, a->reps, 1000000, 0.1};
    return p;
}

/* Small inputs: many repetitions, or the median is a coin toss. */
static bench_plan plan_latency(const bench_args *a)
{
    bench_plan p = {5, a->reps > 101 ? a->reps : 101, 100000, 0.05};
    return p;
}

/* ------------------------------------------------------------- setup */

static int add_config(bench_report *r, const char *spec)
{
    for (size_t c = 0; c < r->nconfigs; c++) {
        if (strcmp(r->configs[c].spec, spec) == 0)
            return 0;
    }
    if (r->nconfigs == BENCH_MAX_CONFIGS)
        return -1;
    snprintf(r->configs[r->nconfigs++].spec, BENCH_SPEC_MAX, "%s", spec);
    return 0;
}

/* The default selections: each device alone, "all", and every index
 * together (OpenCL CPU devices included, which "all" leaves to the host
 * backend). */
static void default_configs(bench_report *r)
{
    char list[BENCH_SPEC_MAX] = "";
    char idx[16];

    for (size_t i = 0; i < r->ndevices; i++) {
        snprintf(idx, sizeof idx, "%u", r->devices[i].index);
        add_config(r, idx);
        if (strlen(list) + strlen(idx) + 2 < sizeof list) {
            if (list[0] != '\0')
                strcat(list, ",");
            strcat(list, idx);
        }
    }
    add_config(r, "all");
    add_config(r, list);
}

static int setup(const bench_args *a, bench_report *r)
{
    eg_device_info *devs = NULL;
    size_t ndev = 0;
    eg_error err = {0};

    r->dtype = a->dtype;
    r->bytes = a->size;
    r->count = a->size / eg_dtype_size(a->dtype);
    r->reps = a->reps;
    r->mode = a->mode;
    r->copy_gbps = a->copy_gbps;
    r->cores = bench_cores();
    bench_machine(r->cpu, sizeof r->cpu, &r->mem_bytes);
    bench_blas *blas = bench_blas_open(r->blas_note, sizeof r->blas_note);
    if (blas)
        bench_blas_config(blas, r->blas_config, sizeof r->blas_config,
                          &r->blas_threads);
    bench_blas_close(&blas);

    if (eg_devices_list(&devs, &ndev, r->device_notes,
                        sizeof r->device_notes, &err) != EG_OK)
        return cli_engine_error(&err);
    r->ndevices = ndev < EG_MAX_DEVICES ? ndev : EG_MAX_DEVICES;
    memcpy(r->devices, devs, r->ndevices * sizeof *devs);
    free(devs);

    for (size_t i = 0; i < a->nspecs; i++) {
        /* A selection the user typed is checked before anything is
         * measured: a typo is a usage error, not a column of dashes. */
        eg_engine *e = NULL;
        if (eg_engine_open(&e, a->specs[i], &err) != EG_OK)
            return cli_engine_error(&err);
        eg_engine_close(&e);
        add_config(r, a->specs[i]);
    }
    if (a->nspecs == 0)
        default_configs(r);

    r->nrows = a->nrows;
    for (size_t i = 0; i < a->nrows; i++) {
        bench_row *row = &r->rows[i];
        snprintf(row->name, sizeof row->name, "%s", a->rows[i].name);
        row->ops = a->rows[i].ops;
        row->op = a->rows[i].op;
        row->blas_routine = a->rows[i].op == EG_OP_COUNT_ALL ||
                                    r->blas_config[0] == '\0'
                                ? NULL
                                : bench_blas_routine(a->dtype, a->rows[i].op);
    }
    for (int s = 0; s < BENCH_LAT_SIZES; s++)
        r->lat_bytes[s] = lat_bytes[s] <= a->size ? lat_bytes[s] : 0;
    snprintf(r->sweep_spec, sizeof r->sweep_spec, "%s",
             a->nspecs ? a->specs[0] : "all");
    r->plot_path = a->plot;
    return CLI_EXIT_OK;
}

static int wants_dot(const bench_args *a)
{
    for (size_t i = 0; i < a->nrows; i++) {
        if (a->rows[i].ops & EG_OPS_BIT(EG_OP_DOT))
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- roof */

/* The roof over the first `bytes` with every core and with one thread,
 * the faster standing: waking threads costs more than a small input takes
 * to read, and on a busy box a second thread may not get a core at all. */
static int roof_at(const bench_data *d, uint64_t bytes, unsigned isa_mask,
                   const bench_plan *plan, bench_roof *out)
{
    unsigned threads[2] = {bench_cores(), 1};
    int n = threads[0] > 1 ? 2 : 1;

    memset(out, 0, sizeof *out);
    for (int t = 0; t < n; t++) {
        bench_roof roof;
        if (bench_roof_measure(d->x, bytes, threads[t], isa_mask, plan,
                               &roof) == 0 &&
            (!out->best.have || roof.best.gbps > out->best.gbps))
            *out = roof;
    }
    return out->best.have ? 0 : -1;
}

static int measure_roof(const bench_args *a, bench_report *r,
                        const bench_data *d)
{
    bench_plan plan = plan_main(a);

    /* The ISAs are compared here, so the first of them must not pay for
     * the pages the fill has just written: one extra untimed pass each. */
    plan.warmup = 2;
    say(a, "roof");
    if (roof_at(d, r->bytes, BENCH_ISA_ALL, &plan, &r->roof) != 0) {
        cli_errorf("bench: the roof probe could not start its threads");
        return CLI_EXIT_FAIL;
    }
    r->roof_samples[r->nroof_samples++] = r->roof.best;
    return CLI_EXIT_OK;
}

/* Reads the roof again with the ISA that won; the highest median stands. */
static void sample_roof(const bench_args *a, bench_report *r,
                        const bench_data *d)
{
    bench_plan plan = plan_main(a);
    bench_roof again;

    if (r->nroof_samples == sizeof r->roof_samples / sizeof r->roof_samples[0])
        return;
    say(a, "roof, again");
    if (roof_at(d, r->bytes, 1u << r->roof.isa, &plan, &again) != 0)
        return;
    r->roof_samples[r->nroof_samples++] = again.best;
    if (again.best.gbps > r->roof.best.gbps) {
        r->roof.best = again.best;
        r->roof.threads = again.threads;
        r->roof.streams = again.streams;
        r->roof.by_isa[r->roof.isa] = again.best;
    }
}

/* ------------------------------------------------------------ edgegrid */

/* Opens the engine of config `c` (kernels built here, outside any clock)
 * and warms it with one untimed pass over the whole input. */
static eg_engine *open_config(bench_config *cf, const bench_data *d,
                              uint64_t count)
{
    eg_engine *e = NULL;
    eg_error err = {0};
    eg_reduce_opts o;
    eg_result *res;

    if (eg_engine_open(&e, cf->spec, &err) != EG_OK) {
        snprintf(cf->error, sizeof cf->error, "%s",
                 err.msg[0] ? err.msg : eg_strerror(err.code));
        return NULL;
    }
    cf->ndevices = eg_engine_device_count(e);
    for (size_t i = 0; i < cf->ndevices && i < EG_MAX_DEVICES; i++)
        cf->device[i] = eg_engine_device(e, i)->index;
    snprintf(cf->notes, sizeof cf->notes, "%s", eg_engine_notes(e));
    if ((res = malloc(sizeof *res)) != NULL) {
        eg_reduce_opts_init(&o);
        (void)eg_reduce(e, d->x, NULL, count, d->dtype, &o, res, &err);
        free(res);
    }
    return e;
}

static void measure_latency(const bench_args *a, bench_report *r,
                            eg_engine *e, const bench_data *d, size_t c)
{
    static const unsigned ops[BENCH_LAT_OPS] = {EG_OPS_BIT(EG_OP_SUM),
                                                EG_OPS_DEFAULT};
    bench_plan plan = plan_latency(a);
    bench_eg_cell *cell = malloc(sizeof *cell);

    if (cell == NULL)
        return;
    for (int o = 0; o < BENCH_LAT_OPS; o++) {
        for (int s = 0; s < BENCH_LAT_SIZES; s++) {
            if (r->lat_bytes[s] == 0)
                continue;
            uint64_t n = r->lat_bytes[s] / eg_dtype_size(d->dtype);
            if (bench_eg_measure(e, d, n, ops[o], EG_MODE_FAST, &plan, cell) ==
                EG_OK)
                r->latency[o][s][c] = cell->fig;
        }
    }
    free(cell);
}

/* One row on config `c`: fast mode, and with --mode exact exact mode right
 * after it on the same engine and bytes, so that the exact/fast ratio
 * compares two neighbours in time (a shared box drifts over a run). */
static void measure_row(bench_report *r, eg_engine *e, const bench_data *d,
                        size_t c, const bench_plan *plan, size_t i)
{
    bench_row *row = &r->rows[i];

    bench_eg_measure(e, d, r->count, row->ops, EG_MODE_FAST, plan, &row->eg[c]);
    if (r->mode == EG_MODE_EXACT)
        bench_eg_measure(e, d, r->count, row->ops, EG_MODE_EXACT, plan,
                         &row->exact[c]);
}

#define BENCH_MAX_PAIRS 64

static void pairs_set(bench_pairs *p, double *v, unsigned n)
{
    memset(p, 0, sizeof *p);
    if (n == 0)
        return;
    p->n = n;
    p->lo = p->hi = v[0];
    for (unsigned k = 1; k < n; k++) {
        p->lo = v[k] < p->lo ? v[k] : p->lo;
        p->hi = v[k] > p->hi ? v[k] : p->hi;
    }
    p->median = bench_median(v, n);
}

/* The row's ratios in pairs (bench_pairs): `reps` rounds of one roof
 * reading (the threads and ISA that won), one fast reading and, with
 * --mode exact, one exact reading, each round's readings divided by each
 * other. */
static void measure_pairs(bench_report *r, eg_engine *e, const bench_data *d,
                          size_t c, size_t i, unsigned reps)
{
    bench_row *row = &r->rows[i];
    /* one reading: runs for 20 ms at least, so that small inputs are not
     * read by a single call's clock */
    bench_plan one = {0, 1, 100000, 0.02};
    double xr[BENCH_MAX_PAIRS], xe[BENCH_MAX_PAIRS], xf[BENCH_MAX_PAIRS];
    unsigned n = 0, exact = r->mode == EG_MODE_EXACT;
    bench_eg_cell *tmp = malloc(sizeof *tmp);

    if (tmp == NULL || !row->eg[c].fig.have)
        reps = 0;
    if (reps > BENCH_MAX_PAIRS)
        reps = BENCH_MAX_PAIRS;
    for (unsigned k = 0; k < reps; k++) {
        bench_roof roof;
        if (bench_roof_measure(d->x, r->bytes, r->roof.threads,
                               1u << r->roof.isa, &one, &roof) != 0 ||
            !roof.best.have)
            break;
        if (bench_eg_measure(e, d, r->count, row->ops, EG_MODE_FAST, &one,
                             tmp) != EG_OK)
            break;
        double fast = tmp->fig.gbps;
        xr[n] = fast / roof.best.gbps;
        if (exact) {
            if (bench_eg_measure(e, d, r->count, row->ops, EG_MODE_EXACT,
                                 &one, tmp) != EG_OK)
                break;
            xe[n] = tmp->fig.gbps / roof.best.gbps;
            xf[n] = tmp->fig.gbps / fast;
        }
        n++;
    }
    free(tmp);
    pairs_set(&row->eg[c].xroof, xr, n);
    if (exact) {
        pairs_set(&row->exact[c].xroof, xe, n);
        pairs_set(&row->exact[c].xfast, xf, n);
    }
}

static void measure_edgegrid(const bench_args *a, bench_report *r,
                             const bench_data *d)
{
    bench_plan plan = plan_main(a);

    for (size_t c = 0; c < r->nconfigs; c++) {
        bench_config *cf = &r->configs[c];
        say(a, "edgegrid on devices %s%s", cf->spec,
            r->mode == EG_MODE_EXACT ? ", fast and exact" : "");
        eg_engine *e = open_config(cf, d, r->count);
        if (e == NULL)
            continue;
        for (size_t i = 0; i < r->nrows; i++) {
            measure_row(r, e, d, c, &plan, i);
            measure_pairs(r, e, d, c, i, a->reps);
        }
        measure_latency(a, r, e, d, c);
        eg_engine_close(&e);
        sample_roof(a, r, d);
    }
}

/* --------------------------------------------------------------- sweep */

/* The roof at each size of the sweep, kept when higher than before: it is
 * read at the start of the sweep and again at its end, since a burst of
 * load on a shared box can sink the short run of one small size. */
static void sweep_roof(const bench_args *a, bench_report *r,
                       const bench_data *d)
{
    bench_plan plan = plan_sweep(a);

    for (size_t i = 0; i < r->nsweep; i++) {
        bench_roof roof;
        say(a, "sweep: roof at %llu bytes",
            (unsigned long long)r->sweep[i].bytes);
        if (roof_at(d, r->sweep[i].bytes, 1u << r->roof.isa, &plan, &roof) ==
                0 &&
            roof.best.gbps > r->sweep[i].roof.gbps)
            r->sweep[i].roof = roof.best;
    }
}

static void measure_sweep(const bench_args *a, bench_report *r,
                          const bench_data *d)
{
    bench_plan plan = plan_sweep(a);
    bench_config cf;
    bench_eg_cell *cell = malloc(sizeof *cell);
    size_t es = eg_dtype_size(d->dtype);
    uint64_t sizes[BENCH_MAX_SWEEP];

    if (cell == NULL)
        return;
    r->nsweep = bench_sweep_sizes(a->max_size, sizes, BENCH_MAX_SWEEP);
    for (size_t i = 0; i < r->nsweep; i++)
        r->sweep[i].bytes = sizes[i];
    sweep_roof(a, r, d);
    memset(&cf, 0, sizeof cf);
    snprintf(cf.spec, sizeof cf.spec, "%s", r->sweep_spec);
    say(a, "sweep: edgegrid on devices %s", cf.spec);
    uint64_t largest = r->nsweep ? sizes[r->nsweep - 1] / es : 0;
    eg_engine *e = open_config(&cf, d, largest);
    for (size_t i = 0; e != NULL && i < r->nsweep; i++) {
        uint64_t n = sizes[i] / es;
        if (bench_eg_measure(e, d, n, EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST,
                             &plan, cell) == EG_OK)
            r->sweep[i].eg_sum = cell->fig;
        if (bench_eg_measure(e, d, n, EG_OPS_DEFAULT, EG_MODE_FAST, &plan,
                             cell) == EG_OK)
            r->sweep[i].eg_fused = cell->fig;
    }
    eg_engine_close(&e);
    free(cell);
}

/* ------------------------------------------------------- BLAS, numpy */

static void measure_blas(const bench_args *a, bench_report *r,
                         const bench_data *d)
{
    bench_plan plan = plan_main(a);
    char why[256];

    if (r->blas_config[0] == '\0')
        return;
    bench_blas *blas = bench_blas_open(why, sizeof why);
    if (!blas)
        return;
    say(a, "OpenBLAS");
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].blas_routine != NULL)
            bench_blas_measure(blas, d, r->count, r->rows[i].op, &plan,
                               &r->rows[i].blas);
    }
    plan = plan_sweep(a);
    for (size_t i = 0; i < r->nsweep; i++)
        bench_blas_measure(blas, d,
                           r->sweep[i].bytes / eg_dtype_size(d->dtype),
                           EG_OP_L1, &plan, &r->sweep[i].blas_asum);
    bench_blas_close(&blas); /* its threads stop before the next figures */
}

static void measure_numpy(const bench_args *a, bench_report *r,
                          const bench_data *d)
{
    bench_plan plan = plan_main(a);
    size_t es = eg_dtype_size(d->dtype);
    size_t njobs = 0;
    bench_numpy_job *jobs = calloc(r->nrows + 2 * r->nsweep + 1, sizeof *jobs);

    if (jobs == NULL) {
        snprintf(r->numpy_note, sizeof r->numpy_note,
                 "numpy skipped: out of memory");
        return;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        if (!bench_numpy_has(r->rows[i].name))
            continue;
        snprintf(jobs[njobs].op, sizeof jobs[njobs].op, "%s", r->rows[i].name);
        jobs[njobs++].count = r->count;
    }
    for (size_t i = 0; i < r->nsweep; i++) {
        snprintf(jobs[njobs].op, sizeof jobs[njobs].op, "sum");
        jobs[njobs++].count = r->sweep[i].bytes / es;
        snprintf(jobs[njobs].op, sizeof jobs[njobs].op, "fused");
        jobs[njobs++].count = r->sweep[i].bytes / es;
    }
    say(a, "numpy (%s)", BENCH_PYTHON);
    if (njobs > 0 &&
        bench_numpy_run(d, jobs, njobs, &plan, r->numpy_version,
                        sizeof r->numpy_version, r->numpy_note,
                        sizeof r->numpy_note) == 0) {
        size_t j = 0;
        r->numpy_ran = 1;
        for (size_t i = 0; i < r->nrows; i++) {
            if (bench_numpy_has(r->rows[i].name))
                r->rows[i].numpy = jobs[j++].fig;
        }
        for (size_t i = 0; i < r->nsweep; i++) {
            r->sweep[i].numpy_sum = jobs[j++].fig;
            r->sweep[i].numpy_fused = jobs[j++].fig;
        }
    }
    free(jobs);
}

/* ----------------------------------------------------------------- run */

int bench_run(const bench_args *a, bench_report *r)
{
    bench_data d;
    uint64_t sizes[BENCH_MAX_SWEEP];
    size_t nsizes = a->plot ? bench_sweep_sizes(a->max_size, sizes,
                                                BENCH_MAX_SWEEP)
                            : 0;
    uint64_t bytes = a->size;
    int rc;

    if ((rc = setup(a, r)) != CLI_EXIT_OK)
        return rc;
    if (nsizes > 0 && sizes[nsizes - 1] > bytes)
        bytes = sizes[nsizes - 1];
    say(a, "filling %llu bytes%s", (unsigned long long)bytes,
        wants_dot(a) ? " twice (dot)" : "");
    if (bench_data_alloc(&d, a->dtype, bytes / eg_dtype_size(a->dtype),
                         wants_dot(a)) != 0) {
        cli_errorf("bench: cannot allocate %llu bytes%s for the input",
                   (unsigned long long)bytes, wants_dot(a) ? " twice" : "");
        return CLI_EXIT_FAIL;
    }
    if ((rc = measure_roof(a, r, &d)) == CLI_EXIT_OK) {
        measure_edgegrid(a, r, &d);
        if (a->plot)
            measure_sweep(a, r, &d);
        measure_blas(a, r, &d);
        if (r->nsweep > 0)
            sweep_roof(a, r, &d);
        measure_numpy(a, r, &d);
    }
    bench_data_free(&d);
    return rc;
}
