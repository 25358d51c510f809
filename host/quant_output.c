/* quant_output.c - quantile and histogram results as JSON members and as
 * table lines (quant_cli.h).  JSON shapes: "quantile": [v...] and
 * "approx_quantile": [v...] one per --q, "median": v, "hist": {"edges",
 * "counts", "below", "above", "nan"}. */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "quant_cli.h"

static void json_list(FILE *f, const eg_number *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_number(f, &v[i]);
    }
    fputc(']', f);
}

void quant_json(FILE *f, const eg_quant_opts *o, const eg_quant_result *r,
                int first)
{
    const char *sep = first ? "" : ", ";
    (void)o;
    if (r->qops & EG_QOP_MEDIAN) {
        fprintf(f, "%s\"median\": ", sep);
        json_number(f, &r->median);
        sep = ", ";
    }
    if (r->qops & EG_QOP_QUANTILE) {
        fprintf(f, "%s\"quantile\": ", sep);
        json_list(f, r->quantile, r->nq);
        sep = ", ";
    }
    if (r->qops & EG_QOP_APPROX) {
        fprintf(f, "%s\"approx_quantile\": ", sep);
        json_list(f, r->approx, r->nq);
        sep = ", ";
    }
    if ((r->qops & EG_QOP_HIST) && r->counts) {
        fprintf(f, "%s\"hist\": {\"edges\": [", sep);
        for (unsigned i = 0; i <= r->nbins; i++) {
            fputs(i ? ", " : "", f);
            json_double(f, r->edges[i]);
        }
        fputs("], \"counts\": [", f);
        for (unsigned i = 0; i < r->nbins; i++)
            fprintf(f, "%s%" PRIu64, i ? ", " : "", r->counts[i]);
        fprintf(f,
                "], \"below\": %" PRIu64 ", \"above\": %" PRIu64
                ", \"nan\": %" PRIu64 "}",
                r->below, r->above, r->nan);
    }
}

/* Bins shown one per line up to this many; beyond, the table sums
 * neighbouring bins into this many rows (JSON always has every bin). */
#define TABLE_ROWS 40
#define BAR_WIDTH 40

static void table_hist(FILE *f, const eg_quant_result *r)
{
    unsigned rows = r->nbins < TABLE_ROWS ? r->nbins : TABLE_ROWS;
    uint64_t peak = 0;
    uint64_t sums[TABLE_ROWS];
    for (unsigned j = 0; j < rows; j++) {
        unsigned a = (unsigned)((uint64_t)j * r->nbins / rows);
        unsigned b = (unsigned)((uint64_t)(j + 1) * r->nbins / rows);
        sums[j] = 0;
        for (unsigned i = a; i < b; i++)
            sums[j] += r->counts[i];
        peak = sums[j] > peak ? sums[j] : peak;
    }
    fprintf(f, "  hist    %u bins%s\n", r->nbins,
            rows < r->nbins ? " (neighbours summed for the chart)" : "");
    for (unsigned j = 0; j < rows; j++) {
        char lo[FMT_DOUBLE_MAX], hi[FMT_DOUBLE_MAX], bar[BAR_WIDTH + 1];
        unsigned a = (unsigned)((uint64_t)j * r->nbins / rows);
        unsigned b = (unsigned)((uint64_t)(j + 1) * r->nbins / rows);
        int w = peak ? (int)((sums[j] * BAR_WIDTH + peak - 1) / peak) : 0;
        fmt_double(lo, sizeof lo, r->edges[a]);
        fmt_double(hi, sizeof hi, r->edges[b]);
        memset(bar, '#', (size_t)w);
        bar[w] = '\0';
        fprintf(f, "    [%12s, %12s%c %12" PRIu64 " %s\n", lo, hi,
                b == r->nbins ? ']' : ')', sums[j], bar);
    }
    fprintf(f, "    below %" PRIu64 ", above %" PRIu64 ", nan %" PRIu64 "\n",
            r->below, r->above, r->nan);
}

static void table_list(FILE *f, const char *name, const eg_quant_opts *o,
                       const eg_number *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char q[FMT_DOUBLE_MAX], val[FMT_DOUBLE_MAX];
        fmt_double(q, sizeof q, o->q[i]);
        text_number(val, sizeof val, &v[i]);
        fprintf(f, "  %s q=%s %s\n", name, q, val);
    }
}

void quant_table(FILE *f, const eg_quant_opts *o, const eg_quant_result *r)
{
    if (r->qops & EG_QOP_MEDIAN) {
        char buf[FMT_DOUBLE_MAX];
        text_number(buf, sizeof buf, &r->median);
        fprintf(f, "  %-7s %s\n", "median", buf);
    }
    if (r->qops & EG_QOP_QUANTILE)
        table_list(f, "quantile", o, r->quantile, r->nq);
    if (r->qops & EG_QOP_APPROX)
        table_list(f, "approx_quantile", o, r->approx, r->nq);
    if ((r->qops & EG_QOP_HIST) && r->counts)
        table_hist(f, r);
}

void quant_print_json(FILE *f, const void *ctx, int first)
{
    const quant_print *p = ctx;
    quant_json(f, p->o, p->r, first);
}

void quant_print_table(FILE *f, const void *ctx, int first)
{
    const quant_print *p = ctx;
    (void)first;
    quant_table(f, p->o, p->r);
}
