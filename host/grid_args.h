/* grid_args.h - the options `coordinator` and `grid` share (the reduce
 * options, task size, timeout, shards, output), parsed once for both, and
 * the printing of the coordinator's events. */
#ifndef EG_HOST_GRID_ARGS_H
#define EG_HOST_GRID_ARGS_H

#include "grid.h"
#include "quant_cli.h"
#include "reduce_structured.h"

typedef enum grid_cmd { GRID_CMD_COORDINATOR, GRID_CMD_GRID } grid_cmd;

typedef struct grid_args {
    grid_cmd cmd;
    eg_coord_opts co;
    int have_dtype, json, verbose;
    structured_args s;  /* --axis, --keepdims, --by, --shape, -o */
    eg_quant_opts q;    /* median, quantile, approx_quantile, hist */
    /* grid only */
    unsigned workers;
    const char *devices, *shard_root;
    unsigned credit;
    int curve;  /* ephemeral CURVE keys for the local grid */
} grid_args;

/* Fills a from argv; CLI_EXIT_OK, CLI_DONE (help printed) or a usage
 * error (printed). */
int grid_args_parse(int argc, char **argv, grid_args *a, const char *help);

/* The coordinator's event callback for the command line: waiting notices
 * always (unless `quiet_waiting`), everything else with --verbose. */
typedef struct grid_events {
    int verbose, quiet_waiting;
    double start;
} grid_events;
void grid_events_print(void *ctx, const eg_coord_event *ev);

#endif
