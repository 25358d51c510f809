/* grid_args.c - option parsing shared by `edgegrid coordinator` and
 * `edgegrid grid`, and how their events are printed. */
#include "grid_args.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_OPS = 256, OPT_MODE, OPT_NAN, OPT_DDOF, OPT_WITH, OPT_RAW, OPT_DTYPE,
    OPT_TASK_BYTES, OPT_TIMEOUT, OPT_MIN_WORKERS, OPT_SHARDS, OPT_JSON,
    OPT_VERBOSE, OPT_NOOP, OPT_TASKS, OPT_RESULTS, OPT_WORKERS, OPT_DEVICES,
    OPT_SHARD_ROOT, OPT_CREDIT, OPT_CURVE_SECRET, OPT_ALLOW, OPT_INSECURE,
    OPT_CURVE, OPT_AXIS, OPT_KEEPDIMS, OPT_BY, OPT_SHAPE,
    OPT_QUANT /* .. OPT_QUANT + QUANT_OPT_COUNT - 1: quant_cli.h */
};

/* The job's default bound: long enough for real jobs on slow links, short
 * enough that a forgotten coordinator ends on its own. */
#define DEFAULT_TIMEOUT_S 600.0

#define COMMON_OPTIONS                                                      \
    {"ops", required_argument, NULL, OPT_OPS},                              \
    {"mode", required_argument, NULL, OPT_MODE},                            \
    {"nan", required_argument, NULL, OPT_NAN},                              \
    {"ddof", required_argument, NULL, OPT_DDOF},                            \
    {"with", required_argument, NULL, OPT_WITH},                            \
    {"raw", no_argument, NULL, OPT_RAW},                                    \
    {"dtype", required_argument, NULL, OPT_DTYPE},                          \
    {"task-bytes", required_argument, NULL, OPT_TASK_BYTES},                \
    {"timeout", required_argument, NULL, OPT_TIMEOUT},                      \
    {"min-workers", required_argument, NULL, OPT_MIN_WORKERS},              \
    {"shards", required_argument, NULL, OPT_SHARDS},                        \
    {"json", no_argument, NULL, OPT_JSON},                                  \
    {"verbose", no_argument, NULL, OPT_VERBOSE},                            \
    {"noop-tasks", required_argument, NULL, OPT_NOOP},                      \
    {"axis", required_argument, NULL, OPT_AXIS},                            \
    {"keepdims", no_argument, NULL, OPT_KEEPDIMS},                          \
    {"by", required_argument, NULL, OPT_BY},                                \
    {"shape", required_argument, NULL, OPT_SHAPE},                          \
    {"output", required_argument, NULL, 'o'},                               \
    QUANT_LONGOPTS(OPT_QUANT),                                              \
    {"help", no_argument, NULL, 'h'}

static const struct option coordinator_options[] = {
    COMMON_OPTIONS,
    {"tasks", required_argument, NULL, OPT_TASKS},
    {"results", required_argument, NULL, OPT_RESULTS},
    {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {NULL, 0, NULL, 0},
};

static const struct option grid_options[] = {
    COMMON_OPTIONS,
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"devices", required_argument, NULL, OPT_DEVICES},
    {"shard-root", required_argument, NULL, OPT_SHARD_ROOT},
    {"credit", required_argument, NULL, OPT_CREDIT},
    {"curve", no_argument, NULL, OPT_CURVE},
    {NULL, 0, NULL, 0},
};

static const char *name_of(const grid_args *a)
{
    return a->cmd == GRID_CMD_GRID ? "grid" : "coordinator";
}

static int parse_reduce_option(int c, const char *arg, grid_args *a)
{
    const char *cmd = name_of(a);
    eg_reduce_opts *o = &a->co.reduce;
    eg_error err = {0};
    switch (c) {
    case OPT_OPS:
        /* The quantile ops run as rounds of tasks after the others. */
        return quant_cli_ops(cmd, arg, &o->ops, &a->q);
    case OPT_MODE:
        if (cli_parse_mode(arg, &o->mode) != 0)
            return cli_usage(cmd, "--mode: '%s' is not fast or exact", arg);
        return CLI_EXIT_OK;
    case OPT_NAN:
        if (strcmp(arg, "propagate") == 0)
            o->nan = EG_NAN_PROPAGATE;
        else if (strcmp(arg, "omit") == 0)
            o->nan = EG_NAN_OMIT;
        else
            return cli_usage(cmd, "--nan: '%s' is not propagate or omit",
                             arg);
        return CLI_EXIT_OK;
    case OPT_DDOF:
        if (cli_parse_uint(arg, &o->ddof) != 0)
            return cli_usage(cmd, "--ddof: '%s' is not a non-negative "
                             "integer", arg);
        return CLI_EXIT_OK;
    case OPT_WITH: a->co.with_path = arg; return CLI_EXIT_OK;
    case OPT_RAW: a->co.in.raw = 1; return CLI_EXIT_OK;
    case OPT_DTYPE:
        if (eg_dtype_parse(arg, &a->co.in.raw_dtype, &err) != EG_OK)
            return cli_usage(cmd, "--dtype: unknown dtype '%s'", arg);
        a->have_dtype = 1;
        return CLI_EXIT_OK;
    default:
        if (c >= OPT_QUANT && c < OPT_QUANT + QUANT_OPT_COUNT)
            return quant_cli_option(cmd, c - OPT_QUANT, arg, &a->q);
        return CLI_EXIT_USAGE;
    }
}

static int parse_positive(const char *cmd, const char *opt, const char *arg,
                          unsigned *out)
{
    if (cli_parse_uint(arg, out) != 0 || *out == 0)
        return cli_usage(cmd, "%s: '%s' is not a positive integer", opt, arg);
    return CLI_EXIT_OK;
}

static int parse_option(int c, const char *arg, void *ctx)
{
    grid_args *a = ctx;
    const char *cmd = name_of(a);
    uint64_t n;
    double d;
    switch (c) {
    case OPT_TASK_BYTES:
        if (cli_parse_count(arg, &n) != 0 || n == 0)
            return cli_usage(cmd, "--task-bytes: '%s' is not a positive byte "
                             "count (e.g. 8Mi)", arg);
        a->co.task_bytes = n;
        return CLI_EXIT_OK;
    case OPT_TIMEOUT:
        if (cli_parse_double(arg, &d) != 0 || !(d > 0) || d > 1e9)
            return cli_usage(cmd, "--timeout: '%s' is not a positive number "
                             "of seconds", arg);
        a->co.timeout_s = d;
        return CLI_EXIT_OK;
    case OPT_MIN_WORKERS:
        return parse_positive(cmd, "--min-workers", arg, &a->co.min_workers);
    case OPT_SHARDS: a->co.manifest = arg; return CLI_EXIT_OK;
    case OPT_JSON: a->json = 1; return CLI_EXIT_OK;
    case OPT_VERBOSE: a->verbose = 1; return CLI_EXIT_OK;
    case OPT_NOOP:
        if (cli_parse_count(arg, &n) != 0 || n == 0)
            return cli_usage(cmd, "--noop-tasks: '%s' is not a positive "
                             "count", arg);
        a->co.noop_tasks = n;
        return CLI_EXIT_OK;
    case OPT_AXIS:
        if (structured_parse_axes(arg, &a->s) != 0)
            return cli_usage(name_of(a), "--axis: '%s' is not an integer or "
                             "a comma list of integers", arg);
        return CLI_EXIT_OK;
    case OPT_KEEPDIMS: a->s.so.keepdims = 1; return CLI_EXIT_OK;
    case OPT_BY: a->s.by = arg; return CLI_EXIT_OK;
    case OPT_SHAPE:
        if (structured_parse_shape(arg, &a->s) != 0)
            return cli_usage(name_of(a), "--shape: '%s' is not a comma list "
                             "of positive counts", arg);
        return CLI_EXIT_OK;
    case 'o': a->s.npz = arg; return CLI_EXIT_OK;
    case OPT_TASKS: a->co.tasks_endpoint = arg; return CLI_EXIT_OK;
    case OPT_RESULTS: a->co.results_endpoint = arg; return CLI_EXIT_OK;
    case OPT_WORKERS:
        return parse_positive(cmd, "--workers", arg, &a->workers);
    case OPT_DEVICES:
        if (arg[0] == '\0')
            return cli_usage(cmd, "--devices: empty device selection");
        a->devices = arg;
        return CLI_EXIT_OK;
    case OPT_SHARD_ROOT: a->shard_root = arg; return CLI_EXIT_OK;
    case OPT_CREDIT: return parse_positive(cmd, "--credit", arg, &a->credit);
    case OPT_CURVE_SECRET: a->co.curve_secret = arg; return CLI_EXIT_OK;
    case OPT_ALLOW: a->co.allow_dir = arg; return CLI_EXIT_OK;
    case OPT_INSECURE: a->co.insecure = 1; return CLI_EXIT_OK;
    case OPT_CURVE: a->curve = 1; return CLI_EXIT_OK;
    default: return parse_reduce_option(c, arg, a);
    }
}

/* Combinations no single option can judge. */
static int check_args(grid_args *a, int positional)
{
    const char *cmd = name_of(a);
    const eg_coord_opts *co = &a->co;
    int dot = (co->reduce.ops & EG_OPS_BIT(EG_OP_DOT)) != 0;
    int inputs = (positional > 0) + (co->manifest != NULL) +
                 (co->noop_tasks > 0);
    if (inputs == 0)
        return cli_usage(cmd, "missing FILE (or --shards MANIFEST)");
    if (positional > 1)
        return cli_usage(cmd, "more than one FILE");
    if (inputs > 1)
        return cli_usage(cmd, "give one input: FILE, --shards MANIFEST or "
                         "--noop-tasks N");
    if (dot && !co->with_path && !co->manifest)
        return cli_usage(cmd, "dot needs --with Y.npy, the second operand");
    if (!dot && co->with_path)
        return cli_usage(cmd, "--with is only used by dot; add dot to --ops");
    if (co->manifest && (dot || co->with_path))
        return cli_usage(cmd, "dot is not available with --shards");
    if (co->in.raw && !a->have_dtype)
        return cli_usage(cmd, "--raw needs --dtype");
    if (!co->in.raw && a->have_dtype)
        return cli_usage(cmd, "--dtype applies only to --raw input");
    if (co->manifest && co->task_bytes)
        return cli_usage(cmd, "--task-bytes does not apply to --shards (a "
                         "shard is one task)");
    if (a->cmd == GRID_CMD_COORDINATOR &&
        (!co->tasks_endpoint || !co->results_endpoint))
        return cli_usage(cmd, "needs --tasks ENDPOINT and --results ENDPOINT "
                         "(e.g. tcp://0.0.0.0:5555 and tcp://0.0.0.0:5556)");
    if (!co->curve_secret != !co->allow_dir)
        return cli_usage(cmd, "%s", co->curve_secret
                         ? "--curve-secret needs --allow DIR (the workers' "
                           "public keys)"
                         : "--allow needs --curve-secret FILE (the "
                           "coordinator's secret key)");
    if (a->s.by && a->s.have_axis)
        return cli_usage(cmd, "--by groups the rows (axis 0); it does not "
                         "take --axis");
    if (a->s.so.keepdims && !a->s.have_axis)
        return cli_usage(cmd, "--keepdims needs --axis");
    if (a->s.have_shape && !co->in.raw)
        return cli_usage(cmd, "--shape applies only to --raw input (a .npy "
                         "file names its own shape)");
    if (a->s.npz && !structured_wanted(&a->s))
        return cli_usage(cmd, "-o writes the arrays of --axis or --by");
    if (structured_wanted(&a->s) && (co->manifest || co->noop_tasks))
        return cli_usage(cmd, "--axis and --by need a FILE (the data goes "
                         "inline), not --shards or --noop-tasks");
    if (a->q.qops && (dot || co->noop_tasks))
        return cli_usage(cmd, "median, quantile, approx_quantile and hist "
                         "need data (a FILE or --shards); not with dot or "
                         "--noop-tasks");
    if (quant_cli_check(cmd, &a->q) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    if (a->cmd == GRID_CMD_GRID && a->workers == 0)
        return cli_usage(cmd, "needs --workers N");
    if (a->cmd == GRID_CMD_GRID && a->shard_root && !co->manifest)
        return cli_usage(cmd, "--shard-root is only used with --shards");
    if (a->cmd == GRID_CMD_GRID && co->manifest && !a->shard_root)
        return cli_usage(cmd, "--shards needs --shard-root DIR for the local "
                         "workers");
    return CLI_EXIT_OK;
}

int grid_args_parse(int argc, char **argv, grid_args *a, const char *help)
{
    const char *cmd = name_of(a);
    const struct option *longopts =
        a->cmd == GRID_CMD_GRID ? grid_options : coordinator_options;
    eg_reduce_opts_init(&a->co.reduce);
    eg_quant_opts_init(&a->q);
    a->co.timeout_s = DEFAULT_TIMEOUT_S;
    int rc = cli_getopts_short(cmd, help, ":ho:", argc, argv, longopts,
                               parse_option, a);
    if (rc != CLI_EXIT_OK)
        return rc;
    int positional = argc - optind;
    if (positional >= 1)
        a->co.path = argv[optind];
    if (positional > 1)
        return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    rc = check_args(a, positional);
    a->q.nan = a->co.reduce.nan;
    if (rc == CLI_EXIT_OK && a->q.qops)
        a->co.quant = &a->q;
    if (rc == CLI_EXIT_OK && structured_wanted(&a->s)) {
        a->s.so.keys_path = a->s.by;
        a->co.structured = &a->s.so;
    }
    return rc;
}

void grid_events_print(void *ctx, const eg_coord_event *ev)
{
    grid_events *g = ctx;
    if (g->start == 0)
        g->start = ev->t;  /* times are relative to the first event */
    if (ev->kind == EG_EV_WAITING) {
        if (!g->quiet_waiting || g->verbose)
            fprintf(stderr, "edgegrid: coordinator: %s\n", ev->text);
        return;
    }
    /* A reload was asked for by hand (SIGHUP): its outcome is the answer. */
    if (ev->kind == EG_EV_ALLOW) {
        fprintf(stderr, "edgegrid: coordinator: %s\n", ev->text);
        return;
    }
    if (!g->verbose)
        return;
    if (ev->kind == EG_EV_DISPATCH) {
        /* First dispatches are the normal case; only repeats are news. */
        if (ev->attempt > 1)
            fprintf(stderr, "edgegrid: coordinator: [%.3f] task %llu sent "
                    "again to %s (attempt %u)\n", ev->t - g->start,
                    (unsigned long long)ev->task, ev->worker, ev->attempt);
        return;
    }
    fprintf(stderr, "edgegrid: coordinator: [%.3f] %s\n", ev->t - g->start,
            ev->text);
}
