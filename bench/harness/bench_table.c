/* bench_table.c - the report of `edgegrid bench` as text: the machine and
 * its roof, one line per op with GB/s per device selection and the ratios
 * that matter (to the roof, to numpy), the small-input latencies, the sweep
 * behind --plot, and every note. */
#include <inttypes.h>
#include <string.h>

#include "bench_blas.h"
#include "bench_report.h"

int bench_best(const bench_report *r, const bench_eg_cell *cells)
{
    int best = -1;

    for (size_t c = 0; c < r->nconfigs; c++) {
        const bench_figure *f = &cells[c].fig;
        if (f->have && (best < 0 || f->gbps > cells[best].fig.gbps))
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

/* A ratio from pairs (bench_pairs) when they were measured, else from the
 * two medians. */
static void pair_ratio(FILE *f, int width, const bench_pairs *p, int have,
                       double num, double den)
{
    if (p->n > 0)
        fprintf(f, " %*.2f", width, p->median);
    else
        ratio(f, width, have, num, den);
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
    fprintf(f,
            "edgegrid bench: %s, %s (%" PRIu64 " elements), %s, "
            "median of at least %u runs after warm-up\n",
            eg_dtype_numpy_name(r->dtype), size, r->count,
            r->mode == EG_MODE_EXACT ? "exact mode beside fast mode"
                                     : "fast mode",
            r->reps);
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

static void print_config_heads(FILE *f, const bench_report *r)
{
    for (size_t c = 0; c < r->nconfigs; c++)
        fprintf(f, " %*s", config_width(&r->configs[c]), r->configs[c].spec);
}

/* What a column per device selection shows of a cell. */
typedef enum cell_show {
    SHOW_GBPS,  /* its GB/s */
    SHOW_XROOF, /* its GB/s over the roof */
    SHOW_XFAST  /* its GB/s over fast mode's on the same selection */
} cell_show;

/* One column per device selection of `cells` (a row's eg or exact); `fast`
 * is the row's fast-mode cells, for SHOW_XFAST. */
static void print_cells(FILE *f, const bench_report *r,
                        const bench_eg_cell *cells, const bench_eg_cell *fast,
                        cell_show show)
{
    for (size_t c = 0; c < r->nconfigs; c++) {
        const bench_figure *fig = &cells[c].fig;
        int w = config_width(&r->configs[c]);
        if (cells[c].error[0] != '\0')
            fprintf(f, " %*s", w, "err");
        else if (show == SHOW_XROOF)
            pair_ratio(f, w, &cells[c].xroof, fig->have, fig->gbps,
                       r->roof.best.gbps);
        else if (show == SHOW_XFAST)
            pair_ratio(f, w, &cells[c].xfast, fig->have && fast[c].fig.have,
                       fig->gbps, fast[c].fig.gbps);
        else
            cell(f, w, fig, fig->gbps);
    }
}

/* numpy and OpenBLAS beside edgegrid's best (`best` GB/s; `have` 0 when no
 * selection was measured). */
static void print_others(FILE *f, const bench_report *r, const bench_row *row,
                         int have, double best)
{
    double roof = r->roof.best.gbps;

    fputs(" |", f);
    cell(f, 7, &row->numpy, row->numpy.gbps);
    ratio(f, 7, row->numpy.have, row->numpy.gbps, roof);
    ratio(f, 7, have && row->numpy.have, best, row->numpy.gbps);
    fputs(" |", f);
    cell(f, 7, &row->blas, row->blas.gbps);
    ratio(f, 7, row->blas.have, row->blas.gbps, roof);
    fputc('\n', f);
}

/* The fastest selection of `cells`, its ratio to the roof and to the bus;
 * returns its index or -1. */
static int print_best(FILE *f, const bench_report *r,
                      const bench_eg_cell *cells)
{
    int b = bench_best(r, cells);
    double best = b >= 0 ? cells[b].fig.gbps : 0.0;

    fputs(" |", f);
    fprintf(f, " %7s", b >= 0 ? r->configs[b].spec : "-");
    if (b >= 0)
        pair_ratio(f, 7, &cells[b].xroof, 1, best, r->roof.best.gbps);
    else
        ratio(f, 7, 0, 0, 0);
    if (r->copy_gbps > 0)
        ratio(f, 7, b >= 0, best, r->copy_gbps);
    return b;
}

/* The head of the main table: `label`, the selections, best and its
 * ratios, `extra` columns, numpy and OpenBLAS. */
static void print_head(FILE *f, const bench_report *r, const char *label,
                       const char *extra)
{
    fprintf(f, "\n%-8s", label);
    print_config_heads(f, r);
    fputs(" |    best   xroof", f);
    if (r->copy_gbps > 0)
        fputs("   xcopy", f);
    fputs(extra, f);
    fputs(" |   numpy   xroof   eg/np |    blas   xroof\n", f);
}

/* Fast mode: one GB/s column per selection, then the best of them. */
static void print_fast_rows(FILE *f, const bench_report *r)
{
    print_head(f, r, "GB/s", "");
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        fprintf(f, "%-8s", row->name);
        print_cells(f, r, row->eg, NULL, SHOW_GBPS);
        int b = print_best(f, r, row->eg);
        print_others(f, r, row, b >= 0, b >= 0 ? row->eg[b].fig.gbps : 0.0);
    }
}

/* Exact mode: exact GB/s per selection, exact's best with its ratios to
 * the roof and to fast mode's best, fast mode's best with its own ratio to
 * the roof, and numpy and OpenBLAS against exact's best. */
static void print_exact_rows(FILE *f, const bench_report *r)
{
    double roof = r->roof.best.gbps;

    print_head(f, r, "exact", "   xfast |    fast   xroof");
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        int fb = bench_best(r, row->eg);
        double fast = fb >= 0 ? row->eg[fb].fig.gbps : 0.0;

        fprintf(f, "%-8s", row->name);
        print_cells(f, r, row->exact, NULL, SHOW_GBPS);
        int b = print_best(f, r, row->exact);
        double best = b >= 0 ? row->exact[b].fig.gbps : 0.0;
        ratio(f, 7, b >= 0 && fb >= 0, best, fast);
        fputs(" |", f);
        if (fb >= 0)
            fprintf(f, " %7.2f", fast);
        else
            fprintf(f, " %7s", "-");
        ratio(f, 7, fb >= 0, fast, roof);
        print_others(f, r, row, b >= 0, best);
    }
}

/* Exact mode, per selection: exact over the roof or over fast mode on that
 * same selection (the goals are set per device, not for the best). */
static void print_exact_ratios(FILE *f, const bench_report *r, const char *head,
                               cell_show show)
{
    fprintf(f, "\n%-8s", head);
    print_config_heads(f, r);
    fputc('\n', f);
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        fprintf(f, "%-8s", row->name);
        print_cells(f, r, row->exact, row->eg, show);
        fputc('\n', f);
    }
}

static void print_rows(FILE *f, const bench_report *r)
{
    if (r->mode != EG_MODE_EXACT) {
        print_fast_rows(f, r);
        return;
    }
    print_exact_rows(f, r);
    print_exact_ratios(f, r, "xroof", SHOW_XROOF);
    print_exact_ratios(f, r, "xfast", SHOW_XFAST);
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

/* Cell k of config c: rows' fast cells first, then (--mode exact) their
 * exact ones, so one index walks both. */
static const bench_eg_cell *nth_cell(const bench_report *r, size_t k, size_t c)
{
    const bench_row *row = &r->rows[k % r->nrows];
    return k < r->nrows ? &row->eg[c] : &row->exact[c];
}

/* Every distinct cell error of config `c` once, exact ones marked. */
static void print_cell_errors(FILE *f, const bench_report *r, size_t c)
{
    const bench_config *cf = &r->configs[c];
    size_t n = r->nrows * (r->mode == EG_MODE_EXACT ? 2 : 1);

    if (cf->error[0] != '\0') /* the engine never opened: said once */
        return;
    for (size_t k = 0; k < n; k++) {
        const char *e = nth_cell(r, k, c)->error;
        int seen = e[0] == '\0';
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(nth_cell(r, j, c)->error, e) == 0;
        if (!seen)
            fprintf(f, "note: devices %s, %s%s: %s\n", cf->spec,
                    r->rows[k % r->nrows].name, k < r->nrows ? "" : " (exact)",
                    e);
    }
}

/* The legend of the edgegrid table(s). */
static void print_legend(FILE *f, const bench_report *r)
{
    if (r->mode != EG_MODE_EXACT) {
        fputs("\nbest: the fastest device selection; xroof: GB/s over the "
              "roof; eg/np: edgegrid's best over numpy;\n",
              f);
    } else {
        fputs("\nexact: exact mode's GB/s per device selection; best: the "
              "fastest of them; xroof: GB/s over the roof;\n"
              "xfast: exact's GB/s over fast mode's (beside best: best over "
              "best; in its own table: on the same selection);\n"
              "fast: fast mode's best selection; eg/np: exact's best over "
              "numpy; us/call and the sweep: fast mode;\n",
              f);
        if (eg_dtype_is_float(r->dtype))
            fputs("exact mode rounds sum, mean, l1 and dot correctly and "
                  "var, std and l2 within one ulp; min, max, argmin\n"
                  "and argmax answer as in fast mode, but run the exact "
                  "kernels all the same (they always carry the exact sum);\n",
                  f);
        else
            fprintf(f,
                    "%s: integer sums are exact in either mode, so exact "
                    "mode runs fast mode's code and the two differ by noise "
                    "only;\n",
                    eg_dtype_numpy_name(r->dtype));
    }
    fputs("fused: count,sum,mean,min,max,std in one edgegrid pass (numpy: "
          "one call each)\n",
          f);
}

/* The legend and every note, each distinct cell error once. */
static void print_notes(FILE *f, const bench_report *r)
{
    print_legend(f, r);
    if (r->blas_config[0] != '\0')
        fprintf(f, "blas: %s, %d threads: ?sum for sum, ?asum for l1, "
                "?nrm2 for l2, ?dot for dot\n",
                r->blas_config, r->blas_threads);
    else
        fprintf(f, "note: no OpenBLAS (%s); blas columns skipped\n",
                r->blas_note);
    if (r->numpy_ran)
        fprintf(f, "numpy: %s (python3, loaded into memory)\n",
                r->numpy_version);
    else if (r->numpy_note[0] != '\0')
        fprintf(f, "note: %s\n", r->numpy_note);
    fprintf(f, "ratios of edgegrid to the roof (and exact to fast): the "
            "median of %u pairs of neighbouring readings (bench/README.md, "
            "\"Noise\"); numpy and OpenBLAS: over the highest roof\n",
            r->reps);
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
        print_cell_errors(f, r, c);
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
