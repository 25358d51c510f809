/* stream_out.c - window lines and duration specs (stream_out.h). */
#include "stream_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "quant_numpy.h"

/* approx_quantile: [[one value per q] per channel], the element numpy's
 * method=lower picks within rel-err (NaN under propagate when the window
 * holds one, null for an empty window); hist: [{edges, counts, below,
 * above, nan} per channel].  Returns -1 when a sketch ran out of memory
 * (its values printed null and named on stderr). */
static int print_quant(FILE *f, const eg_sf_window *w, int first)
{
    const eg_quant_opts *o = &w->q;
    int rc = 0;
    if ((o->qops & EG_QOP_APPROX) && w->sketches) {
        fprintf(f, "%s\"approx_quantile\": [", first ? "" : ", ");
        first = 0;
        for (unsigned c = 0; c < w->channels; c++) {
            const eg_sketch *s = &w->sketches[c];
            uint64_t n = eg_sketch_count(s);
            fputs(c ? ", [" : "[", f);
            if (s->oom) {
                cli_errorf("stream: window %" PRId64 " channel %u: the "
                           "sketch ran out of memory",
                           w->h.start, c);
                rc = -1;
            }
            for (size_t i = 0; i < o->nq; i++) {
                fputs(i ? ", " : "", f);
                if (s->oom || n == 0)
                    fputs("null", f);
                else if (s->nan > 0 && o->nan == EG_NAN_PROPAGATE)
                    json_double(f, NAN);
                else
                    json_double(f, eg_sketch_at(s, eg_np_lower_rank(n, o->q[i])));
            }
            fputc(']', f);
        }
        fputc(']', f);
    }
    if ((o->qops & EG_QOP_HIST) && w->hists && w->plan) {
        fprintf(f, "%s\"hist\": [", first ? "" : ", ");
        for (unsigned c = 0; c < w->channels; c++) {
            const eg_hist_state *h = &w->hists[c];
            fputs(c ? ", {\"edges\": [" : "{\"edges\": [", f);
            for (unsigned i = 0; i <= w->plan->nbins; i++) {
                fputs(i ? ", " : "", f);
                json_double(f, w->plan->edges[i]);
            }
            fputs("], \"counts\": [", f);
            for (unsigned i = 0; i < h->nbins; i++)
                fprintf(f, "%s%" PRIu64, i ? ", " : "", h->counts[i]);
            fprintf(f,
                    "], \"below\": %" PRIu64 ", \"above\": %" PRIu64
                    ", \"nan\": %" PRIu64 "}",
                    h->below, h->above, h->nan);
        }
        fputc(']', f);
    }
    return rc;
}

int stream_print_line(FILE *f, const eg_sf_window *w, const char *box,
                      const char *const *boxes, unsigned nboxes,
                      const char *const *missing, unsigned nmissing)
{
    int rc = 0;
    fputs("{\"window\": [", f);
    if (w->h.kind == 2) {
        json_double(f, (double)w->h.start / 1e6);
        fputs(", ", f);
        json_double(f, (double)w->h.end / 1e6);
    } else {
        fprintf(f, "%" PRId64 ", %" PRId64, w->h.start, w->h.end);
    }
    fputs("], \"key\": ", f);
    if (w->h.has_key)
        json_string(f, w->h.key);
    else
        fputs("null", f);
    fprintf(f,
            ", \"count\": %" PRIu64 ", \"late\": %" PRIu64 ", \"bad\": %" PRIu64
            ", \"results\": {",
            w->count, w->late, w->bad);
    /* Finish every channel once; eg_result is large, so one at a time per
     * op would repeat the work. */
    static const unsigned max_ch = EG_SF_MAX_CHANNELS;
    eg_number *vals = calloc((size_t)max_ch * EG_OP_COUNT_ALL, sizeof *vals);
    if (!vals) {
        fputs("}}\n", f);
        cli_errorf("stream: out of memory");
        return -1;
    }
    for (unsigned c = 0; c < w->channels; c++) {
        eg_result r;
        eg_error err;
        memset(&r, 0, sizeof r);
        if (eg_state_finalize(&w->moments[c], w->ops, (eg_nan_policy)w->nan,
                              w->ddof, &r, &err) != EG_OK) {
            cli_errorf("stream: window %" PRId64 " channel %u: %s", w->h.start,
                       c, err.msg);
            rc = -1;
            continue;
        }
        for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
            vals[c * EG_OP_COUNT_ALL + op] = r.value[op];
    }
    int first = 1;
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(w->ops & EG_OPS_BIT(op)))
            continue;
        fprintf(f, "%s\"%s\": [", first ? "" : ", ", eg_op_name((eg_op)op));
        first = 0;
        for (unsigned c = 0; c < w->channels; c++) {
            if (c)
                fputs(", ", f);
            json_number(f, &vals[c * EG_OP_COUNT_ALL + op]);
        }
        fputc(']', f);
    }
    free(vals);
    if (print_quant(f, w, first) != 0)
        rc = -1;
    fputc('}', f);
    if (box) {
        fputs(", \"box\": ", f);
        json_string(f, box);
    }
    if (boxes) {
        fputs(", \"boxes\": [", f);
        for (unsigned i = 0; i < nboxes; i++) {
            if (i)
                fputs(", ", f);
            json_string(f, boxes[i]);
        }
        fputc(']', f);
        if (nmissing) {
            fputs(", \"missing\": [", f);
            for (unsigned i = 0; i < nmissing; i++) {
                if (i)
                    fputs(", ", f);
                json_string(f, missing[i]);
            }
            fputc(']', f);
        }
    }
    fputs("}\n", f);
    /* A line per window is read as it comes (a pipe, a log shipper):
     * never held in a buffer past its window's close. */
    fflush(f);
    return rc;
}

int stream_parse_duration(const char *text, int zero_ok, int64_t *us)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0)
        return -1;
    double scale;
    if (strcmp(end, "ms") == 0)
        scale = 1e3;
    else if (strcmp(end, "s") == 0)
        scale = 1e6;
    else if (strcmp(end, "m") == 0)
        scale = 60e6;
    else if (strcmp(end, "h") == 0)
        scale = 3600e6;
    else
        return -1;
    double t = v * scale;
    /* At most ten years: far from int64's end, so window arithmetic never
     * overflows. */
    if (t > 3.2e14 || (!zero_ok && t < 1))
        return -1;
    *us = (int64_t)llround(t);
    return 0;
}
