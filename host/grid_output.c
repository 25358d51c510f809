/* grid_output.c - printing a grid job's result.  The `reduce` output is
 * reused as it is: its JSON object is written to memory and reopened to
 * add the "grid" member, so both commands keep one format. */
#include "grid_output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "output.h"
#include "reduce_structured.h"

static void grid_object(FILE *f, const eg_grid_stats *g)
{
    fprintf(f, "\"grid\": {\"tasks\": %" PRIu64 ", \"attempts\": %" PRIu64
               ", \"redispatched\": %" PRIu64 ", \"failures\": %" PRIu64
               ", \"returned\": %" PRIu64 ", \"unstarted\": %" PRIu64
               ", \"duplicates\": %" PRIu64
               ", \"rejected\": %" PRIu64 ", \"refused\": %" PRIu64
               ", \"bytes\": %" PRIu64 ", \"seconds\": ",
            g->tasks, g->attempts, g->redispatched, g->failures, g->returned,
            g->unstarted, g->duplicates, g->rejected, g->refused, g->bytes);
    json_double(f, g->seconds);
    fputs(", \"tasks_per_s\": ", f);
    json_double(f, g->tasks_per_s);
    fputs(", \"gbps\": ", f);
    json_double(f, g->gbps);
    fputs(", \"workers\": [", f);
    for (size_t i = 0; i < g->nworkers; i++) {
        const eg_grid_worker_stats *w = &g->workers[i];
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        json_string(f, w->name);
        fprintf(f, ", \"tasks\": %" PRIu64 ", \"elements\": %" PRIu64
                   ", \"bytes\": %" PRIu64 ", \"seconds\": ",
                w->tasks, w->elements, w->bytes);
        json_double(f, w->seconds);
        fputc('}', f);
    }
    fputs("], \"endpoints\": {\"tasks\": ", f);
    json_string(f, g->tasks_endpoint);
    fputs(", \"results\": ", f);
    json_string(f, g->results_endpoint);
    fputs("}}", f);
}

void grid_output_json(FILE *f, const char *input, const eg_result *r,
                      const eg_grid_stats *g, output_extra_fn extra,
                      const void *ctx)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        output_json_ext(mem, input, r, extra, ctx);
        if (fclose(mem) != 0)
            len = 0;
    }
    /* output_json ends its object with "}\n"; the grid goes before it. */
    if (!text || len < 2 || strcmp(text + len - 2, "}\n") != 0) {
        free(text);
        output_json_ext(f, input, r, extra, ctx);
        return;
    }
    fwrite(text, 1, len - 2, f);
    fputs(", ", f);
    grid_object(f, g);
    fputs("}\n", f);
    free(text);
}

void grid_output_table(FILE *f, const char *input, const eg_result *r,
                       const eg_grid_stats *g, output_extra_fn extra,
                       const void *ctx)
{
    output_table_ext(f, input, r, extra, ctx);
    fprintf(f, "grid %" PRIu64 " tasks on %zu worker(s): %" PRIu64
               " attempts (%" PRIu64 " sent again, %" PRIu64 " failed, %" PRIu64
               " returned), %" PRIu64 " duplicates dropped, %" PRIu64
               " frames rejected, %.0f tasks/s\n",
            g->tasks, g->nworkers, g->attempts, g->redispatched, g->failures,
            g->returned, g->duplicates, g->rejected, g->tasks_per_s);
}

void grid_output_print(const grid_args *a, const eg_result *r,
                       const eg_quant_result *q, const eg_grid_stats *g)
{
    const char *input = a->co.manifest ? a->co.manifest
                        : a->co.path   ? a->co.path
                                       : "noop";
    quant_print qp = {&a->q, q};
    if (a->json)
        grid_output_json(stdout, input, r, g, q ? quant_print_json : NULL,
                         &qp);
    else
        grid_output_table(stdout, input, r, g, q ? quant_print_table : NULL,
                          &qp);
}

int grid_output_flat(const grid_args *a, eg_coord *c, const eg_result *r,
                     const eg_grid_stats *g)
{
    if (!a->co.quant) {
        grid_output_print(a, r, NULL, g);
        return CLI_EXIT_OK;
    }
    eg_quant_result q;
    eg_error err = {0};
    if (eg_coord_take_qresult(c, &q, &err) != EG_OK)
        return cli_engine_error(&err);
    grid_output_print(a, r, &q, g);
    eg_quant_result_free(&q);
    return CLI_EXIT_OK;
}

int grid_output_structured(const grid_args *a, eg_coord *c,
                           const eg_grid_stats *g)
{
    eg_sresult res;
    eg_squant_result q;
    eg_error err = {0};
    memset(&res, 0, sizeof res);
    memset(&q, 0, sizeof q);
    /* The quantile ops' arrays, when asked, beside the ordinary ones. */
    const eg_squant_result *qp = a->co.quant ? &q : NULL;
    eg_status st = eg_coord_take_sresult(c, &res, &err);
    if (st == EG_OK && qp)
        st = eg_coord_take_squant(c, &q, &err);
    if (st == EG_OK && a->s.npz)
        st = eg_sresult_write_npz_quant(&res, qp, a->s.npz, &err);
    if (st != EG_OK) {
        eg_sresult_free(&res);
        eg_squant_result_free(&q);
        return cli_engine_error(&err);
    }
    const char *input = a->co.path;
    if (!a->json) {
        structured_print_table_quant(stdout, input, &res, a->co.quant, qp);
        fprintf(stdout, "grid %" PRIu64 " tasks on %zu worker(s): %" PRIu64
                        " attempts (%" PRIu64 " sent again), %" PRIu64
                        " duplicates dropped, %" PRIu64 " frames rejected\n",
                g->tasks, g->nworkers, g->attempts, g->redispatched,
                g->duplicates, g->rejected);
        eg_sresult_free(&res);
        eg_squant_result_free(&q);
        return CLI_EXIT_OK;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        structured_print_json_quant(mem, input, &res, qp);
        if (fclose(mem) != 0)
            len = 0;
    }
    if (!text || len < 2 || strcmp(text + len - 2, "}\n") != 0) {
        structured_print_json_quant(stdout, input, &res, qp);
    } else {
        fwrite(text, 1, len - 2, stdout);
        fputs(", ", stdout);
        grid_object(stdout, g);
        fputs("}\n", stdout);
    }
    free(text);
    eg_sresult_free(&res);
    eg_squant_result_free(&q);
    return CLI_EXIT_OK;
}
