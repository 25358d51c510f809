/* squant_output.c - the quantile and histogram ops of `reduce --axis/--by`
 * as JSON members and table lines.  Shapes as numpy's: quantile and
 * approx_quantile [nq, ...result shape] (the q axis first, as
 * numpy.quantile(x, q, axis=...)), median the result shape, hist counts
 * [..., bins], its edges [bins + 1] when --range gives every column the
 * same bins, else [..., bins + 1]; below, above and nan the result shape. */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "reduce_structured.h"

/* Results with more values than this print as shape, first and last. */
#define TABLE_FULL_MAX 16

typedef struct qarray {
    eg_number_kind kind;
    const void *data;
    unsigned ndim;
    uint64_t shape[EG_MAX_DIMS + 1];
    uint64_t n;
} qarray;

static eg_number at(const qarray *a, uint64_t i)
{
    eg_number v = {.kind = a->kind};
    memcpy(&v.v, (const unsigned char *)a->data + 8 * i, 8);
    return v;
}

/* lead: an axis before the result shape (q), tail: one after it (bins);
 * 0 for none. */
static qarray make(const eg_sresult *r, eg_number_kind kind, const void *data,
                   uint64_t lead, uint64_t tail)
{
    qarray a = {.kind = kind, .data = data, .n = 1};
    if (lead)
        a.shape[a.ndim++] = lead;
    for (unsigned d = 0; d < r->ndim; d++)
        a.shape[a.ndim++] = r->shape[d];
    if (tail)
        a.shape[a.ndim++] = tail;
    for (unsigned d = 0; d < a.ndim; d++)
        a.n *= a.shape[d];
    return a;
}

static void json_array(FILE *f, const char *name, const qarray *a)
{
    fprintf(f, "\"%s\": ", name);
    structured_nested(f, a->kind, a->data, a->ndim, a->shape, 1);
}

void squant_json(FILE *f, const eg_sresult *r, const eg_squant_result *q,
                 int first)
{
    const char *sep = first ? "" : ", ";
    if (q->qops & EG_QOP_MEDIAN) {
        qarray a = make(r, q->median.kind, q->median.data, 0, 0);
        fputs(sep, f);
        json_array(f, "median", &a);
        sep = ", ";
    }
    if (q->qops & EG_QOP_QUANTILE) {
        qarray a = make(r, q->quantile.kind, q->quantile.data, q->nq, 0);
        fputs(sep, f);
        json_array(f, "quantile", &a);
        sep = ", ";
    }
    if (q->qops & EG_QOP_APPROX) {
        qarray a = make(r, q->approx.kind, q->approx.data, q->nq, 0);
        fputs(sep, f);
        json_array(f, "approx_quantile", &a);
        sep = ", ";
    }
    if (!(q->qops & EG_QOP_HIST))
        return;
    qarray edges = make(r, EG_NUM_F64, q->edges, 0, q->nbins + 1);
    if (q->shared_edges) {
        edges.ndim = 1;
        edges.shape[0] = edges.n = q->nbins + 1;
    }
    qarray counts = make(r, EG_NUM_U64, q->counts, 0, q->nbins);
    qarray below = make(r, EG_NUM_U64, q->below, 0, 0);
    qarray above = make(r, EG_NUM_U64, q->above, 0, 0);
    qarray nan = make(r, EG_NUM_U64, q->nan, 0, 0);
    fprintf(f, "%s\"hist\": {", sep);
    json_array(f, "edges", &edges);
    fputs(", ", f);
    json_array(f, "counts", &counts);
    fputs(", ", f);
    json_array(f, "below", &below);
    fputs(", ", f);
    json_array(f, "above", &above);
    fputs(", ", f);
    json_array(f, "nan", &nan);
    fputc('}', f);
}

/* One table line: in full when small, else its shape, first and last. */
static int table_line(FILE *f, const char *name, const qarray *a)
{
    fprintf(f, "  %-7s ", name);
    if (a->n <= TABLE_FULL_MAX) {
        structured_nested(f, a->kind, a->data, a->ndim, a->shape, 0);
        fputc('\n', f);
        return 0;
    }
    char x[FMT_DOUBLE_MAX], y[FMT_DOUBLE_MAX];
    eg_number v0 = at(a, 0), v1 = at(a, a->n - 1);
    text_number(x, sizeof x, &v0);
    text_number(y, sizeof y, &v1);
    structured_shape(f, a->ndim, a->shape);
    fprintf(f, " first %s ... last %s\n", x, y);
    return 1;
}

void squant_table(FILE *f, const eg_sresult *r, const eg_quant_opts *o,
                  const eg_squant_result *q)
{
    int large = 0;
    if (q->qops & EG_QOP_MEDIAN) {
        qarray a = make(r, q->median.kind, q->median.data, 0, 0);
        large |= table_line(f, "median", &a);
    }
    /* one line per q: [result shape] each */
    const struct {
        unsigned bit;
        const char *name;
        const eg_array_result *v;
    } lists[] = {{EG_QOP_QUANTILE, "quantile", &q->quantile},
                 {EG_QOP_APPROX, "approx_quantile", &q->approx}};
    for (size_t l = 0; l < 2; l++) {
        if (!(q->qops & lists[l].bit))
            continue;
        for (size_t i = 0; i < q->nq; i++) {
            char name[64], qs[FMT_DOUBLE_MAX];
            fmt_double(qs, sizeof qs, o->q[i]);
            snprintf(name, sizeof name, "%s q=%s", lists[l].name, qs);
            qarray a = make(r, lists[l].v->kind,
                            (const unsigned char *)lists[l].v->data +
                                8 * i * q->nout,
                            0, 0);
            large |= table_line(f, name, &a);
        }
    }
    if (q->qops & EG_QOP_HIST) {
        qarray counts = make(r, EG_NUM_U64, q->counts, 0, q->nbins);
        fprintf(f, "  hist    %u bins per output, %s\n", q->nbins,
                q->shared_edges ? "edges shared (--range)"
                                : "each output over its own min and max");
        large |= table_line(f, "counts", &counts);
        if (q->shared_edges) {
            qarray e = {.kind = EG_NUM_F64, .data = q->edges, .ndim = 1,
                        .shape = {q->nbins + 1}, .n = q->nbins + 1};
            large |= table_line(f, "edges", &e);
        } else {
            qarray e = make(r, EG_NUM_F64, q->edges, 0, q->nbins + 1);
            large |= table_line(f, "edges", &e);
        }
        qarray below = make(r, EG_NUM_U64, q->below, 0, 0);
        qarray above = make(r, EG_NUM_U64, q->above, 0, 0);
        qarray nan = make(r, EG_NUM_U64, q->nan, 0, 0);
        large |= table_line(f, "below", &below);
        large |= table_line(f, "above", &above);
        large |= table_line(f, "nan", &nan);
    }
    if (large)
        fputs("(quantile results above are shape, first and last; -o "
              "RESULT.npz or --json for all of them)\n",
              f);
}
