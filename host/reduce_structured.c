/* reduce_structured.c - a structured reduction on the command line: its
 * options, and its result as a table (small results in full, large ones as
 * shape, first and last value), as JSON (nested lists in C order of the
 * result shape) and as a .npz for numpy.load. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "output.h"
#include "reduce_structured.h"

/* Results with more values than this print as shape, first and last. */
#define TABLE_FULL_MAX 16

int structured_wanted(const structured_args *s)
{
    return s->have_axis || s->by != NULL;
}

int structured_parse_axes(const char *text, structured_args *s)
{
    const char *p = text;
    unsigned n = 0;
    if (*p == '\0')
        return -1;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < -(long)EG_MAX_DIMS ||
            v >= (long)EG_MAX_DIMS || n == EG_MAX_DIMS)
            return -1;
        s->so.axes[n++] = (int)v;
        if (*end == ',' && end[1] != '\0')
            p = end + 1;
        else if (*end == '\0')
            p = end;
        else
            return -1;
    }
    s->so.naxes = n;
    s->have_axis = 1;
    return 0;
}

int structured_parse_shape(const char *text, structured_args *s)
{
    char buf[1024];
    unsigned n = 0;
    if (strlen(text) >= sizeof buf || text[0] == '\0')
        return -1;
    strcpy(buf, text);
    for (char *tok = buf; tok; n++) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (n == EG_MAX_DIMS || cli_parse_count(tok, &s->so.shape[n]) != 0)
            return -1;
        tok = comma ? comma + 1 : NULL;
    }
    s->so.shape_ndim = n;
    s->have_shape = 1;
    return 0;
}

/* Element i of an array of 8-byte values of one kind. */
static eg_number value_at(eg_number_kind kind, const void *data, uint64_t i)
{
    eg_number n = {.kind = kind};
    if (kind != EG_NUM_NONE)
        memcpy(&n.v, (const unsigned char *)data + 8 * i, 8);
    return n;
}

static void nested_from(FILE *f, eg_number_kind kind, const void *data,
                        unsigned ndim, const uint64_t *shape, unsigned d,
                        uint64_t *at, int json)
{
    if (d == ndim) {
        eg_number v = value_at(kind, data, (*at)++);
        if (json) {
            json_number(f, &v);
        } else {
            char buf[FMT_DOUBLE_MAX];
            text_number(buf, sizeof buf, &v);
            fputs(buf, f);
        }
        return;
    }
    fputc('[', f);
    for (uint64_t i = 0; i < shape[d]; i++) {
        if (i)
            fputs(", ", f);
        nested_from(f, kind, data, ndim, shape, d + 1, at, json);
    }
    fputc(']', f);
}

void structured_nested(FILE *f, eg_number_kind kind, const void *data,
                       unsigned ndim, const uint64_t *shape, int json)
{
    uint64_t at = 0;
    nested_from(f, kind, data, ndim, shape, 0, &at, json);
}

void structured_shape(FILE *f, unsigned ndim, const uint64_t *shape)
{
    fputc('[', f);
    for (unsigned d = 0; d < ndim; d++)
        fprintf(f, "%s%" PRIu64, d ? ", " : "", shape[d]);
    fputc(']', f);
}

static void group_value(FILE *f, const eg_sresult *r, uint64_t g)
{
    if (r->groups_unsigned)
        fprintf(f, "%" PRIu64, (uint64_t)r->groups[g]);
    else
        fprintf(f, "%" PRId64, r->groups[g]);
}

void structured_print_json(FILE *f, const char *input, const eg_sresult *r)
{
    structured_print_json_quant(f, input, r, NULL);
}

void structured_print_json_quant(FILE *f, const char *input,
                                 const eg_sresult *r,
                                 const eg_squant_result *q)
{
    output_json_head(f, input, &r->r);
    fputs(", \"result_shape\": ", f);
    structured_shape(f, r->ndim, r->shape);
    if (r->groups) {
        fputs(", \"groups\": [", f);
        for (uint64_t g = 0; g < r->ngroups; g++) {
            if (g)
                fputs(", ", f);
            group_value(f, r, g);
        }
        fputc(']', f);
    }
    fputs(", \"results\": {", f);
    int first = 1;
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(r->r.ops & EG_OPS_BIT(op)))
            continue;
        fputs(first ? "" : ", ", f);
        first = 0;
        json_string(f, eg_op_name((eg_op)op));
        fputs(": ", f);
        structured_nested(f, r->op[op].kind, r->op[op].data, r->ndim,
                          r->shape, 1);
    }
    if (q && q->qops)
        squant_json(f, r, q, first);
    fputs("}, ", f);
    output_json_tail(f, &r->r);
}

void structured_print_table(FILE *f, const char *input, const eg_sresult *r)
{
    structured_print_table_quant(f, input, r, NULL, NULL);
}

void structured_print_table_quant(FILE *f, const char *input,
                                  const eg_sresult *r, const eg_quant_opts *o,
                                  const eg_squant_result *q)
{
    output_table_header(f, input, &r->r);
    fputs("result shape ", f);
    structured_shape(f, r->ndim, r->shape);
    if (r->groups && r->ngroups > 0) {
        fprintf(f, ", %" PRIu64 " group%s: ", r->ngroups,
                r->ngroups == 1 ? "" : "s");
        group_value(f, r, 0);
        if (r->ngroups > 1) {
            fputs(r->ngroups > 2 ? " ... " : ", ", f);
            group_value(f, r, r->ngroups - 1);
        }
    }
    fputc('\n', f);
    int large = r->nout > TABLE_FULL_MAX;
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(r->r.ops & EG_OPS_BIT(op)))
            continue;
        fprintf(f, "  %-7s ", eg_op_name((eg_op)op));
        if (!large) {
            structured_nested(f, r->op[op].kind, r->op[op].data, r->ndim,
                              r->shape, 0);
        } else {
            char a[FMT_DOUBLE_MAX], b[FMT_DOUBLE_MAX];
            eg_number v0 = value_at(r->op[op].kind, r->op[op].data, 0);
            eg_number v1 = value_at(r->op[op].kind, r->op[op].data,
                                    r->nout - 1);
            text_number(a, sizeof a, &v0);
            text_number(b, sizeof b, &v1);
            fprintf(f, "first %s ... last %s", a, b);
        }
        fputc('\n', f);
    }
    if (large && r->r.ops)
        fprintf(f,
                "(%" PRIu64 " values per op; -o RESULT.npz or --json for "
                "all of them)\n",
                r->nout);
    if (q && q->qops)
        squant_table(f, r, o, q);
    output_table_devices(f, &r->r);
    fprintf(f, "throughput %.2f GB/s (%" PRIu64 " bytes in %.4f s)\n",
            output_gbps(&r->r), r->r.bytes, r->r.seconds);
    output_notes(f, "", r->r.notes);
}

int structured_run(eg_engine *e, const char *path, const char *with,
                   const eg_input_opts *in, const eg_reduce_opts *o,
                   const eg_quant_opts *q, const structured_args *s, int json)
{
    eg_error err = {0};
    eg_sresult res;
    eg_squant_result qres;
    eg_struct_opts so = s->so;
    so.keys_path = s->by;
    memset(&qres, 0, sizeof qres);
    eg_status st =
        q && q->qops
            ? eg_reduce_file_structured_quant(e, path, in, &so, o, q, &res,
                                              &qres, &err)
            : eg_reduce_file_structured(e, path, with, in, &so, o, &res,
                                        &err);
    if (st == EG_OK && s->npz)
        st = eg_sresult_write_npz_quant(&res, &qres, s->npz, &err);
    if (st != EG_OK) {
        eg_sresult_free(&res);
        eg_squant_result_free(&qres);
        return cli_engine_error(&err);
    }
    const char *enotes = eg_engine_notes(e);
    if (enotes && strstr(res.r.notes, enotes) != NULL)
        enotes = "";
    if (json) {
        structured_print_json_quant(stdout, path, &res, &qres);
        output_notes(stderr, "edgegrid: ", res.r.notes);
        output_notes(stderr, "edgegrid: ", enotes ? enotes : "");
    } else {
        structured_print_table_quant(stdout, path, &res, q, &qres);
        output_notes(stdout, "", enotes ? enotes : "");
    }
    eg_sresult_free(&res);
    eg_squant_result_free(&qres);
    return CLI_EXIT_OK;
}
