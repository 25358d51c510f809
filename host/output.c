/* output.c - the result of a reduction as a table or as one JSON object.
 * Ops always come in eg_op order, whatever order --ops listed them in, so
 * two runs of the same job print the same text. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "output.h"

double output_gbps(const eg_result *r)
{
    return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e9 : 0.0;
}

void output_json(FILE *f, const char *input, const eg_result *r)
{
    output_json_ext(f, input, r, NULL, NULL);
}

void output_json_ext(FILE *f, const char *input, const eg_result *r,
                     output_extra_fn extra, const void *ctx)
{
    output_json_head(f, input, r);

    fputs(", \"results\": {", f);
    int first = 1;
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(r->ops & EG_OPS_BIT(op)))
            continue;
        fputs(first ? "" : ", ", f);
        first = 0;
        json_string(f, eg_op_name((eg_op)op));
        fputs(": ", f);
        json_number(f, &r->value[op]);
    }
    if (extra)
        extra(f, ctx, first);

    fputs("}, ", f);
    output_json_tail(f, r);
}

void output_json_head(FILE *f, const char *input, const eg_result *r)
{
    fputs("{\"input\": ", f);
    json_string(f, input);
    fputs(", \"dtype\": ", f);
    json_string(f, eg_dtype_numpy_name(r->dtype));
    fputs(", \"shape\": [", f);
    for (unsigned d = 0; d < r->ndim && d < EG_MAX_DIMS; d++)
        fprintf(f, "%s%" PRIu64, d ? ", " : "", r->shape[d]);
    fprintf(f, "], \"count\": %" PRIu64 ", \"mode\": ", r->elements);
    json_string(f, cli_mode_name(r->mode));
}

void output_json_tail(FILE *f, const eg_result *r)
{
    fputs("\"devices\": [", f);
    for (size_t i = 0; i < r->ndevices && i < EG_MAX_DEVICES; i++) {
        const eg_device_stats *d = &r->devices[i];
        /* The id is a string: grid runs will name devices "worker/index". */
        if (d->index == EG_INDEX_UNLISTED)
            fprintf(f, "%s{\"id\": \"host\", \"name\": ", i ? ", " : "");
        else
            fprintf(f, "%s{\"id\": \"%u\", \"name\": ", i ? ", " : "",
                    d->index);
        json_string(f, d->name);
        fprintf(f, ", \"elements\": %" PRIu64 ", \"seconds\": ", d->elements);
        json_double(f, d->seconds);
        /* How an OpenCL device was driven: the last call's work sizes. */
        if (d->launch_local)
            fprintf(f,
                    ", \"launch\": {\"global\": %" PRIu64
                    ", \"local\": %" PRIu64 ", \"calls\": %" PRIu64 "}",
                    d->launch_global, d->launch_local, d->calls);
        fputc('}', f);
    }
    fputs("], \"seconds\": ", f);
    json_double(f, r->seconds);
    fputs(", \"gbps\": ", f);
    json_double(f, output_gbps(r));
    fputs("}\n", f);
}

void output_notes(FILE *f, const char *prefix, const char *notes)
{
    const char *p = notes;

    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        if (n > 0)
            fprintf(f, "%snote: %.*s\n", prefix, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

void output_table_header(FILE *f, const char *input, const eg_result *r)
{
    fprintf(f, "%s: %s [", input, eg_dtype_numpy_name(r->dtype));
    for (unsigned d = 0; d < r->ndim && d < EG_MAX_DIMS; d++)
        fprintf(f, "%s%" PRIu64, d ? ", " : "", r->shape[d]);
    fprintf(f, "], %" PRIu64 " elements, %s mode\n", r->elements,
            cli_mode_name(r->mode));
}

void output_table_devices(FILE *f, const eg_result *r)
{
    size_t n = r->ndevices < EG_MAX_DEVICES ? r->ndevices : EG_MAX_DEVICES;
    int name_w = 4, elem_w = 1;

    for (size_t i = 0; i < n; i++) {
        char buf[32];
        int w = (int)strlen(r->devices[i].name);
        name_w = w > name_w ? w : name_w;
        w = snprintf(buf, sizeof buf, "%" PRIu64, r->devices[i].elements);
        elem_w = w > elem_w ? w : elem_w;
    }
    for (size_t i = 0; i < n; i++) {
        const eg_device_stats *d = &r->devices[i];
        char id[16];
        if (d->index == EG_INDEX_UNLISTED)
            snprintf(id, sizeof id, "host");
        else
            snprintf(id, sizeof id, "%u", d->index);
        fprintf(f, "device %-2s %-*s  %*" PRIu64 " elements  %.4f s\n", id,
                name_w, d->name, elem_w, d->elements, d->seconds);
    }
}

void output_table(FILE *f, const char *input, const eg_result *r)
{
    output_table_ext(f, input, r, NULL, NULL);
}

void output_table_ext(FILE *f, const char *input, const eg_result *r,
                      output_extra_fn extra, const void *ctx)
{
    output_table_header(f, input, r);
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        char buf[FMT_DOUBLE_MAX];
        if (!(r->ops & EG_OPS_BIT(op)))
            continue;
        text_number(buf, sizeof buf, &r->value[op]);
        fprintf(f, "  %-7s %s\n", eg_op_name((eg_op)op), buf);
    }
    if (extra)
        extra(f, ctx, 0);
    output_table_devices(f, r);
    fprintf(f, "throughput %.2f GB/s (%" PRIu64 " bytes in %.4f s)\n",
            output_gbps(r), r->bytes, r->seconds);
    output_notes(f, "", r->notes);
}
