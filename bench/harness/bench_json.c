/* bench_json.c - the report of `edgegrid bench` as one JSON object, so runs
 * can be compared by program: every figure carries its median seconds, its
 * GB/s, its repetitions and its ratio to the roof measured in the same run;
 * an absent figure is null and says why in a note. */
#include <inttypes.h>
#include <string.h>

#include "bench_report.h"
#include "cli.h"
#include "json.h"

static void key(FILE *f, int *first, const char *name)
{
    fputs(*first ? "" : ", ", f);
    *first = 0;
    json_string(f, name);
    fputs(": ", f);
}

/* {"gbps", "seconds", "reps", "ratio_roof"} or null. */
static void figure(FILE *f, const bench_figure *fig, double roof)
{
    if (!fig->have) {
        fputs("null", f);
        return;
    }
    fputs("{\"gbps\": ", f);
    json_double(f, fig->gbps);
    fputs(", \"seconds\": ", f);
    json_double(f, fig->seconds);
    fprintf(f, ", \"reps\": %u, \"ratio_roof\": ", fig->reps);
    json_double(f, roof > 0 ? fig->gbps / roof : 0.0);
    fputc('}', f);
}

static void gbps_or_null(FILE *f, const bench_figure *fig)
{
    if (fig->have)
        json_double(f, fig->gbps);
    else
        fputs("null", f);
}

static void ratio_or_null(FILE *f, int have, double num, double den)
{
    if (have && den > 0)
        json_double(f, num / den);
    else
        fputs("null", f);
}

static void text_or_null(FILE *f, const char *s)
{
    if (s == NULL || s[0] == '\0')
        fputs("null", f);
    else
        json_string(f, s);
}

static void print_setup(FILE *f, const bench_report *r)
{
    fprintf(f, "{\"bench\": \"edgegrid\", \"version\": \"%d.%d.%d\", "
            "\"dtype\": ",
            EG_VERSION_MAJOR, EG_VERSION_MINOR, EG_VERSION_PATCH);
    json_string(f, eg_dtype_numpy_name(r->dtype));
    fprintf(f,
            ", \"bytes\": %" PRIu64 ", \"count\": %" PRIu64
            ", \"reps\": %u, \"mode\": \"%s\", \"machine\": {\"cpu\": ",
            r->bytes, r->count, r->reps, cli_mode_name(r->mode));
    json_string(f, r->cpu);
    fprintf(f, ", \"cores\": %u, \"memory\": %" PRIu64 "}", r->cores,
            r->mem_bytes);

    /* The roof is the yardstick itself, so it carries how it was read. */
    fputs(", \"roof\": {\"gbps\": ", f);
    gbps_or_null(f, &r->roof.best);
    fputs(", \"seconds\": ", f);
    json_double(f, r->roof.best.seconds);
    fprintf(f, ", \"reps\": %u, \"threads\": %u, \"streams\": %u, "
            "\"isa\": \"%s\", \"samples\": [",
            r->roof.best.reps, r->roof.threads, r->roof.streams,
            bench_isa_name(r->roof.isa));
    for (size_t i = 0; i < r->nroof_samples; i++) {
        fputs(i ? ", " : "", f);
        gbps_or_null(f, &r->roof_samples[i]);
    }
    fputs("], \"spread\": ", f);
    json_double(f, bench_roof_spread(r));
    fputs(", \"by_isa\": {", f);
    int first = 1;
    for (int i = 0; i < BENCH_ISA_COUNT; i++) {
        if (!r->roof.by_isa[i].have)
            continue;
        key(f, &first, bench_isa_name((bench_isa)i));
        json_double(f, r->roof.by_isa[i].gbps);
    }
    fputs("}}, \"copy_gbps\": ", f);
    if (r->copy_gbps > 0)
        json_double(f, r->copy_gbps);
    else
        fputs("null", f);
}

static void print_devices(FILE *f, const bench_report *r)
{
    fputs(", \"devices\": [", f);
    for (size_t i = 0; i < r->ndevices; i++) {
        const eg_device_info *d = &r->devices[i];
        fprintf(f, "%s{\"index\": %u, \"type\": \"%s\", \"name\": ",
                i ? ", " : "", d->index, eg_device_kind_name(d->kind));
        json_string(f, d->name);
        fputc('}', f);
    }
    fputs("], \"configs\": [", f);
    for (size_t c = 0; c < r->nconfigs; c++) {
        const bench_config *cf = &r->configs[c];
        fputs(c ? ", {\"devices\": " : "{\"devices\": ", f);
        json_string(f, cf->spec);
        fputs(", \"opened\": [", f);
        for (size_t i = 0; i < cf->ndevices; i++)
            fprintf(f, "%s%u", i ? ", " : "", cf->device[i]);
        fputs("], \"notes\": ", f);
        text_or_null(f, cf->notes);
        fputs(", \"error\": ", f);
        text_or_null(f, cf->error);
        fputc('}', f);
    }
    fputc(']', f);
}

/* , "name": {"median", "lo", "hi", "n"} of ratios in pairs, or null. */
static void print_pairs(FILE *f, const char *name, const bench_pairs *p)
{
    fprintf(f, ", \"%s\": ", name);
    if (p->n == 0) {
        fputs("null", f);
        return;
    }
    fputs("{\"median\": ", f);
    json_double(f, p->median);
    fputs(", \"lo\": ", f);
    json_double(f, p->lo);
    fputs(", \"hi\": ", f);
    json_double(f, p->hi);
    fprintf(f, ", \"n\": %u}", p->n);
}

/* The edgegrid figure of one config with its results and device shares;
 * with `fast` (an exact cell's fast-mode twin) also its ratio to that. */
static void print_eg(FILE *f, const bench_eg_cell *c, double roof,
                     const bench_eg_cell *fast)
{
    int first = 1;

    if (!c->fig.have) {
        fputs("{\"error\": ", f);
        json_string(f, c->error[0] ? c->error : "not measured");
        fputc('}', f);
        return;
    }
    fputs("{\"gbps\": ", f);
    json_double(f, c->fig.gbps);
    fputs(", \"seconds\": ", f);
    json_double(f, c->fig.seconds);
    fprintf(f, ", \"reps\": %u, \"ratio_roof\": ", c->fig.reps);
    json_double(f, roof > 0 ? c->fig.gbps / roof : 0.0);
    if (fast != NULL) {
        fputs(", \"ratio_fast\": ", f);
        ratio_or_null(f, fast->fig.have, c->fig.gbps, fast->fig.gbps);
    }
    print_pairs(f, "pairs_roof", &c->xroof);
    if (fast != NULL)
        print_pairs(f, "pairs_fast", &c->xfast);
    fputs(", \"results\": {", f);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(c->ops & EG_OPS_BIT(op)))
            continue;
        key(f, &first, eg_op_name((eg_op)op));
        json_number(f, &c->value[op]);
    }
    fputs("}, \"shares\": [", f);
    for (size_t i = 0; i < c->nshares; i++) {
        fprintf(f, "%s{\"index\": %u, \"elements\": %" PRIu64 ", "
                "\"seconds\": ",
                i ? ", " : "", c->shares[i].index, c->shares[i].elements);
        json_double(f, c->shares[i].seconds);
        fputc('}', f);
    }
    fputs("]}", f);
}

/* ["sum", "mean"]: the ops of an EG_OPS_BIT set. */
static void op_list(FILE *f, unsigned ops)
{
    int first = 1;

    fputc('[', f);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (ops & EG_OPS_BIT(op)) {
            fputs(first ? "" : ", ", f);
            first = 0;
            json_string(f, eg_op_name((eg_op)op));
        }
    }
    fputc(']', f);
}

/* {"config": figure, ...} of a row's fast (`fast` NULL) or exact cells. */
static void print_cells(FILE *f, const bench_report *r,
                        const bench_eg_cell *cells, const bench_eg_cell *fast)
{
    int first = 1;

    fputc('{', f);
    for (size_t c = 0; c < r->nconfigs; c++) {
        key(f, &first, r->configs[c].spec);
        print_eg(f, &cells[c], r->roof.best.gbps, fast ? &fast[c] : NULL);
    }
    fputc('}', f);
}

/* The fastest config of `cells` and its ratios, or null; with `fast` (exact
 * cells' fast-mode twins) also over fast mode's best. */
static void print_best(FILE *f, const bench_report *r, const bench_row *row,
                       const bench_eg_cell *cells, const bench_eg_cell *fast)
{
    double roof = r->roof.best.gbps;
    int b = bench_best(r, cells);

    if (b < 0) {
        fputs("null", f);
        return;
    }
    double best = cells[b].fig.gbps;
    fputs("{\"devices\": ", f);
    json_string(f, r->configs[b].spec);
    fputs(", \"gbps\": ", f);
    json_double(f, best);
    fputs(", \"ratio_roof\": ", f);
    json_double(f, roof > 0 ? best / roof : 0.0);
    fputs(", \"ratio_numpy\": ", f);
    ratio_or_null(f, row->numpy.have, best, row->numpy.gbps);
    fputs(", \"ratio_copy\": ", f);
    ratio_or_null(f, 1, best, r->copy_gbps);
    if (fast != NULL) {
        int fb = bench_best(r, fast);
        fputs(", \"ratio_fast\": ", f);
        ratio_or_null(f, fb >= 0, best, fb >= 0 ? fast[fb].fig.gbps : 0.0);
    }
    fputc('}', f);
}

static void print_row(FILE *f, const bench_report *r, const bench_row *row)
{
    double roof = r->roof.best.gbps;

    fputs("{\"op\": ", f);
    json_string(f, row->name);
    fputs(", \"ops\": ", f);
    op_list(f, row->ops);
    fputs(", \"edgegrid\": ", f);
    print_cells(f, r, row->eg, NULL);
    fputs(", \"best\": ", f);
    print_best(f, r, row, row->eg, NULL);
    fputs(", \"numpy\": ", f);
    figure(f, &row->numpy, roof);
    fputs(", \"openblas\": ", f);
    if (row->blas.have) {
        fputs("{\"routine\": ", f);
        json_string(f, row->blas_routine);
        fputs(", \"figure\": ", f);
        figure(f, &row->blas, roof);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    /* Exact mode's figures come after fast mode's keys, which keep their
     * meaning (fast mode) so that readers of either mode's JSON agree. */
    if (r->mode == EG_MODE_EXACT) {
        fputs(", \"exact_ops\": ", f);
        op_list(f, bench_eg_exact_ops(r->dtype, row->ops));
        fputs(", \"exact\": ", f);
        print_cells(f, r, row->exact, row->eg);
        fputs(", \"exact_best\": ", f);
        print_best(f, r, row, row->exact, row->eg);
    }
    fputc('}', f);
}

static void print_latency(FILE *f, const bench_report *r)
{
    static const char *const names[BENCH_LAT_OPS] = {"sum", "fused"};
    int first_entry = 1;

    fputs(", \"latency\": [", f);
    for (int o = 0; o < BENCH_LAT_OPS; o++) {
        for (int s = 0; s < BENCH_LAT_SIZES; s++) {
            int first = 1;
            if (r->lat_bytes[s] == 0)
                continue;
            fprintf(f, "%s{\"op\": \"%s\", \"bytes\": %" PRIu64 ", \"us\": {",
                    first_entry ? "" : ", ", names[o], r->lat_bytes[s]);
            first_entry = 0;
            for (size_t c = 0; c < r->nconfigs; c++) {
                const bench_figure *fig = &r->latency[o][s][c];
                key(f, &first, r->configs[c].spec);
                if (fig->have)
                    json_double(f, fig->seconds * 1e6);
                else
                    fputs("null", f);
            }
            fputs("}}", f);
        }
    }
    fputc(']', f);
}

static void print_sweep(FILE *f, const bench_report *r)
{
    fputs(", \"sweep\": ", f);
    if (r->nsweep == 0) {
        fputs("null", f);
        return;
    }
    fputs("{\"devices\": ", f);
    json_string(f, r->sweep_spec);
    fputs(", \"points\": [", f);
    for (size_t i = 0; i < r->nsweep; i++) {
        const bench_sweep_point *p = &r->sweep[i];
        fprintf(f, "%s{\"bytes\": %" PRIu64 ", \"roof\": ", i ? ", " : "",
                p->bytes);
        gbps_or_null(f, &p->roof);
        fputs(", \"edgegrid_sum\": ", f);
        gbps_or_null(f, &p->eg_sum);
        fputs(", \"edgegrid_fused\": ", f);
        gbps_or_null(f, &p->eg_fused);
        fputs(", \"numpy_sum\": ", f);
        gbps_or_null(f, &p->numpy_sum);
        fputs(", \"numpy_fused\": ", f);
        gbps_or_null(f, &p->numpy_fused);
        fputs(", \"openblas_asum\": ", f);
        gbps_or_null(f, &p->blas_asum);
        fputc('}', f);
    }
    fputs("]}, \"plot\": ", f);
    text_or_null(f, r->plot_path);
}

void bench_report_json(FILE *f, const bench_report *r)
{
    print_setup(f, r);
    print_devices(f, r);
    fputs(", \"ops\": [", f);
    for (size_t i = 0; i < r->nrows; i++) {
        fputs(i ? ", " : "", f);
        print_row(f, r, &r->rows[i]);
    }
    fputs("], \"numpy\": ", f);
    if (r->numpy_ran) {
        fputs("{\"version\": ", f);
        json_string(f, r->numpy_version);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fputs(", \"numpy_note\": ", f);
    text_or_null(f, r->numpy_ran ? "" : r->numpy_note);
    fputs(", \"openblas\": ", f);
    if (r->blas_config[0] != '\0') {
        fputs("{\"config\": ", f);
        json_string(f, r->blas_config);
        fprintf(f, ", \"threads\": %d}", r->blas_threads);
    } else {
        fputs("null", f);
    }
    fputs(", \"device_notes\": ", f);
    text_or_null(f, r->device_notes);
    print_latency(f, r);
    print_sweep(f, r);
    fputs("}\n", f);
}
