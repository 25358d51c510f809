/* bench_table.c - the report of `edgegrid bench` as text: the machine and
 * its roof, one line per op with GB/s per device selection and the ratios
 * that matter (to the roof, to numpy), the small-input latencies, the sweep
 * behind --plot, and every note. */
#include <inttypes.h>
#include <string.h>

#include "bench_blas.h"
#include "bench_report.h"

int bench_row_best(const bench_report *r, const bench_row *row)
{
    int best = -1;

    for (size_t c = 0; c < r->nconfigs; c++) {
        const bench_figure *f = &row->eg[c].fig;
        if (f->have && (best < 0 || f->gbps > row->eg[best].fig.gbps))
            best = (int)c;
    }
    return best;
}

double bench_roof_spread(const bench_report *r)
{
    double lo = 0, hi = 0;

    for (size_t i = 0; i < r->nroof_samples; i++) {
        double g = r->roof_samples[i].gbps;
        if (!r->roof_samples[i].have || g <= 0)
            continue;
        lo = lo == 0 || g < lo ? g : lo;
        hi = g > hi ? g : hi;
    }
    return lo > 0 ? hi / lo : 1.0;
}

/* "4 KiB", "1 GiB", or plain bytes when no binary unit divides evenly. */
static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;

    while (u + 1 < sizeof units / sizeof units[0] && bytes >= 1024 &&
           bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
}

static void cell(FILE *f, int width, const bench_figure *fig, double value)
{
    if (fig != NULL && !fig->have)
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.2f", width, value);
}

static void ratio(FILE *f, int width, int have, double num, double den)
{
    if (!have || den <= 0)
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.2f", width, num / den);
}

static int config_width(const bench_config *c)
{
    int w = (int)strlen(c->spec);
    return w < 7 ? 7 : w;
}

static void print_header(FILE *f, const bench_report *r)
{
    char size[32], mem[32];

    fmt_size(size, sizeof size, r->bytes);
    fmt_size(mem, sizeof mem, r->mem_bytes - r->mem_bytes % (1u << 20));
    fprintf(f, "edgegrid bench: %s, %s (%" PRIu64 " elements), fast mode, "
            "median of at least %u runs after warm-up\n",
            eg_dtype_numpy_name(r->dtype), size, r->count, r->reps);
    fprintf(f, "machine: %s, %u cores, %s memory\n", r->cpu, r->cores, mem);
    fprintf(f, "roof: %.2f GB/s (%u thread%s x %u stream%s, %s; highest of",
            r->roof.best.gbps, r->roof.threads, r->roof.threads == 1 ? "" : "s",
            r->roof.streams, r->roof.streams == 1 ? "" : "s",
            bench_isa_name(r->roof.isa));
    for (size_t i = 0; i < r->nroof_samples; i++)
        fprintf(f, "%s %.2f", i ? "," : "", r->roof_samples[i].gbps);
    fputs(")\n", f);
    if (r->copy_gbps > 0)
        fprintf(f, "copy: %.2f GB/s host to device (--copy-gbps)\n",
                r->copy_gbps);
    fputs("devices:\n", f);
    for (size_t i = 0; i < r->ndevices; i++)
        fprintf(f, "  %2u  %-5s %s\n", r->devices[i].index,
                eg_device_kind_name(r->devices[i].kind), r->devices[i].name);
}

static void print_rows(FILE *f, const bench_report *r)
{
    fputs("\nGB/s    ", f);
    for (size_t c = 0; c < r->nconfigs; c++)
        fprintf(f, " %*s", config_width(&r->configs[c]), r->configs[c].spec);
    fputs(" |    best   xroof", f);
    if (r->copy_gbps > 0)
        fputs("   xcopy", f);
    fputs(" |   numpy   xroof   eg/np |    blas   xroof\n", f);

    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        int b = bench_row_best(r, row);
        double best = b >= 0 ? row->eg[b].fig.gbps : 0.0;
        double roof = r->roof.best.gbps;

        fprintf(f, "%-8s", row->name);
        for (size_t c = 0; c < r->nconfigs; c++) {
            int w = config_width(&r->configs[c]);
            if (row->eg[c].error[0] != '\0')
                fprintf(f, " %*s", w, "err");
            else
                cell(f, w, &row->eg[c].fig, row->eg[c].fig.gbps);
        }
        fputs(" |", f);
        fprintf(f, " %7s", b >= 0 ? r->configs[b].spec : "-");
        ratio(f, 7, b >= 0, best, roof);
        if (r->copy_gbps > 0)
            ratio(f, 7, b >= 0, best, r->copy_gbps);
        fputs(" |", f);
        cell(f, 7, &row->numpy, row->numpy.gbps);
        ratio(f, 7, row->numpy.have, row->numpy.gbps, roof);
        ratio(f, 7, b >= 0 && row->numpy.have, best, row->numpy.gbps);
        fputs(" |", f);
        cell(f, 7, &row->blas, row->blas.gbps);
        ratio(f, 7, row->blas.have, row->blas.gbps, roof);
        fputc('\n', f);
    }
}

static void print_latency(FILE *f, const bench_report *r)
{
    static const char *const names[BENCH_LAT_OPS] = {"sum", "fused"};
    char size[32];
    int any = 0;

    for (int s = 0; s < BENCH_LAT_SIZES; s++)
        any |= r->lat_bytes[s] != 0;
    if (!any)
        return;
    fputs("\nus/call         ", f);
    for (size_t c = 0; c < r->nconfigs; c++)
        fprintf(f, " %*s", config_width(&r->configs[c]), r->configs[c].spec);
    fputc('\n', f);
    for (int o = 0; o < BENCH_LAT_OPS; o++) {
        for (int s = 0; s < BENCH_LAT_SIZES; s++) {
            if (r->lat_bytes[s] == 0)
                continue;
            fmt_size(size, sizeof size, r->lat_bytes[s]);
            fprintf(f, "%-6s %9s", names[o], size);
            for (size_t c = 0; c < r->nconfigs; c++) {
                const bench_figure *fig = &r->latency[o][s][c];
                cell(f, config_width(&r->configs[c]), fig, fig->seconds * 1e6);
            }
            fputc('\n', f);
        }
    }
}

static void print_sweep(FILE *f, const bench_report *r)
{
    char size[32];

    if (r->nsweep == 0)
        return;
    fprintf(f, "\nGB/s by size (edgegrid on %s)\n", r->sweep_spec);
    fputs("     size    roof  eg sum eg fused  np sum np fused    asum\n", f);
    for (size_t i = 0; i < r->nsweep; i++) {
        const bench_sweep_point *p = &r->sweep[i];
        fmt_size(size, sizeof size, p->bytes);
        fprintf(f, "%9s", size);
        cell(f, 7, &p->roof, p->roof.gbps);
        cell(f, 7, &p->eg_sum, p->eg_sum.gbps);
        cell(f, 8, &p->eg_fused, p->eg_fused.gbps);
        cell(f, 7, &p->numpy_sum, p->numpy_sum.gbps);
        cell(f, 8, &p->numpy_fused, p->numpy_fused.gbps);
        cell(f, 7, &p->blas_asum, p->blas_asum.gbps);
        fputc('\n', f);
    }
    if (r->plot_path != NULL)
        fprintf(f, "plot: %s\n", r->plot_path);
}

/* The legend and every note, each distinct cell error once. */
static void print_notes(FILE *f, const bench_report *r)
{
    fputs("\nbest: the fastest device selection; xroof: GB/s over the roof; "
          "eg/np: edgegrid's best over numpy;\n"
          "fused: count,sum,mean,min,max,std in one edgegrid pass (numpy: "
          "one call each)\n",
          f);
    if (r->blas_config[0] != '\0')
        fprintf(f, "blas: %s, %d threads: ?sum for sum, ?asum for l1, "
                "?nrm2 for l2, ?dot for dot\n",
                r->blas_config, r->blas_threads);
    else
        fputs("note: built without OpenBLAS; blas columns skipped\n", f);
    if (r->numpy_ran)
        fprintf(f, "numpy: %s (python3, loaded into memory)\n",
                r->numpy_version);
    else if (r->numpy_note[0] != '\0')
        fprintf(f, "note: %s\n", r->numpy_note);
    if (bench_roof_spread(r) > BENCH_ROOF_SPREAD_WARN)
        fprintf(f, "note: the roof's readings spread by x%.2f: something else "
                "loaded the machine during the run; its ratios are suspect\n",
                bench_roof_spread(r));
    if (r->device_notes[0] != '\0')
        fprintf(f, "note: %s\n", r->device_notes);
    for (size_t c = 0; c < r->nconfigs; c++) {
        const bench_config *cf = &r->configs[c];
        if (cf->error[0] != '\0')
            fprintf(f, "note: devices %s: %s\n", cf->spec, cf->error);
        else if (cf->notes[0] != '\0')
            fprintf(f, "note: devices %s: %s\n", cf->spec, cf->notes);
        for (size_t i = 0; i < r->nrows; i++) {
            const char *e = r->rows[i].eg[c].error;
            int seen = e[0] == '\0' || cf->error[0] != '\0';
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(r->rows[j].eg[c].error, e) == 0;
            if (!seen)
                fprintf(f, "note: devices %s, %s: %s\n", cf->spec,
                        r->rows[i].name, e);
        }
    }
}

void bench_report_table(FILE *f, const bench_report *r)
{
    print_header(f, r);
    print_rows(f, r);
    print_latency(f, r);
    print_sweep(f, r);
    print_notes(f, r);
}
