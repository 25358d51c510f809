/* grid_output.h - a grid job's result: what `reduce` prints, plus the
 * grid's account (a "grid" object in JSON, a summary line in the table). */
#ifndef EG_HOST_GRID_OUTPUT_H
#define EG_HOST_GRID_OUTPUT_H

#include <stdio.h>

#include "edgegrid.h"
#include "grid.h"
#include "grid_args.h"
#include "output.h"

/* The JSON object of `reduce --json` with one more member:
 *   "grid": {"tasks", "attempts", "redispatched", "failures", "returned",
 *            "unstarted", "duplicates", "rejected", "seconds", "tasks_per_s", "gbps",
 *            "workers": [{"name", "tasks", "elements", "bytes",
 *                         "seconds"}, ...],
 *            "endpoints": {"tasks", "results"}} */
void grid_output_json(FILE *f, const char *input, const eg_result *r,
                      const eg_grid_stats *g, output_extra_fn extra,
                      const void *ctx);

/* The `reduce` table (one "device" line per worker) and a summary line.
 * Both take more results from `extra` (NULL: none), as output.h's _ext
 * functions do. */
void grid_output_table(FILE *f, const char *input, const eg_result *r,
                       const eg_grid_stats *g, output_extra_fn extra,
                       const void *ctx);

/* The result on stdout as `a` asks (--json or the table), named by its
 * input: the manifest, the file, or "noop"; with the quantile ops'
 * results `q` (NULL: none asked) as `reduce` prints them. */
void grid_output_print(const grid_args *a, const eg_result *r,
                       const eg_quant_result *q, const eg_grid_stats *g);

/* A flat job's result (coordinator run already), its quantile results
 * taken from c when it had quantile ops.  Returns the exit status. */
int grid_output_flat(const grid_args *a, eg_coord *c, const eg_result *r,
                     const eg_grid_stats *g);

/* A structured job's arrays (coordinator run already): -o's .npz, then
 * the structured table or JSON of `reduce --axis/--by`, with the grid's
 * object or summary line.  Returns the exit status. */
int grid_output_structured(const grid_args *a, eg_coord *c,
                           const eg_grid_stats *g);

#endif
