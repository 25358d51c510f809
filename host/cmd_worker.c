/* cmd_worker.c - `edgegrid worker`: serves grid jobs on this box's devices
 * until SIGINT or SIGTERM, then leaves cleanly. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grid.h"

static const char worker_help[] =
    "usage: edgegrid worker --tasks ENDPOINT --results ENDPOINT [options]\n"
    "\n"
    "Connects to a coordinator and reduces the tasks it hands out on this\n"
    "box's devices, one job after another, until stopped.  It may join or\n"
    "leave at any time; a coordinator that goes away is waited for.\n"
    "SIGINT/SIGTERM: hand back the queued tasks, finish the running one,\n"
    "say goodbye and exit 0; a second signal leaves at once.\n"
    "\n"
    "options:\n"
    "  --tasks ENDPOINT     the coordinator's tasks endpoint, e.g.\n"
    "                       tcp://10.0.0.1:5555\n"
    "  --results ENDPOINT   its results endpoint, e.g. tcp://10.0.0.1:5556\n"
    "  --devices SPEC       as 'edgegrid reduce' (default: $EDGEGRID_DEVICES,\n"
    "                       else all)\n"
    "  --name NAME          how the coordinator's report calls this worker\n"
    "                       (default host:pid)\n"
    "  --shard-root DIR     edge mode: serve the shards found below DIR\n"
    "  --credit N           tasks it takes at a time (default 2: one\n"
    "                       computing, one arriving)\n"
    "  --verbose            log registrations, jobs, failures (stderr)\n"
    "  -h, --help           this text\n"
    "\n"
    "security (README, \"Grid security\"):\n"
    "  --curve-secret FILE  this worker's secret key ('edgegrid keygen'; mode\n"
    "                       0600; its NAME.pub must be in the coordinator's\n"
    "                       --allow directory)\n"
    "  --server-key FILE    the coordinator's public key: with both, every\n"
    "                       connection is CURVE-encrypted and authenticated\n"
    "  --insecure           allow plain TCP to an endpoint that is not\n"
    "                       loopback (refused without it)\n"
    "\n"
    "pacing:\n"
    "  --task-delay-ms MS   sleep MS milliseconds in every task\n"
#ifdef EDGEGRID_TEST_HOOKS
    "\n"
    "testing aids (fault injection; builds with EDGEGRID_TEST_HOOKS only):\n"
    "  --die-on-task K      kill itself (SIGKILL) 50 ms into task K\n"
    "  --fail-once-file F   fail one task if it can remove file F (so among\n"
    "                       several workers, exactly one failure happens)\n"
    "  --duplicate-results  send every result twice\n"
#endif
    "\n"
    "exit status: 0 stopped cleanly, 1 runtime failure, 2 bad usage.\n";

enum {
    OPT_TASKS = 256, OPT_RESULTS, OPT_DEVICES, OPT_NAME, OPT_SHARD_ROOT,
    OPT_CREDIT, OPT_VERBOSE, OPT_DIE, OPT_FAIL_ONCE, OPT_DUPLICATE, OPT_DELAY,
    OPT_CURVE_SECRET, OPT_SERVER_KEY, OPT_INSECURE, OPT_FORGE
};

/* Counts SIGINT/SIGTERM; the one global a signal handler forces. */
static volatile sig_atomic_t stop_signals;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_signals < 100)
        stop_signals++;
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "edgegrid: %s\n", line);
}

/* What the worker's options fill. */
typedef struct worker_cli {
    eg_worker_opts *o;
    int *verbose;
} worker_cli;

static int parse_option(int c, const char *arg, void *ctx)
{
    eg_worker_opts *o = ((worker_cli *)ctx)->o;
    int *verbose = ((worker_cli *)ctx)->verbose;
    switch (c) {
    case OPT_TASKS: o->tasks_endpoint = arg; return CLI_EXIT_OK;
    case OPT_RESULTS: o->results_endpoint = arg; return CLI_EXIT_OK;
    case OPT_DEVICES:
        if (arg[0] == '\0')
            return cli_usage("worker", "--devices: empty device selection");
        o->devices = arg;
        return CLI_EXIT_OK;
    case OPT_NAME: o->name = arg; return CLI_EXIT_OK;
    case OPT_SHARD_ROOT: o->shard_root = arg; return CLI_EXIT_OK;
    case OPT_CREDIT:
        if (cli_parse_uint(arg, &o->credit) != 0 || o->credit == 0)
            return cli_usage("worker", "--credit: '%s' is not a positive "
                             "integer", arg);
        return CLI_EXIT_OK;
    case OPT_VERBOSE: *verbose = 1; return CLI_EXIT_OK;
#ifdef EDGEGRID_TEST_HOOKS
    case OPT_DIE: {
        unsigned u;
        if (cli_parse_uint(arg, &u) != 0)
            return cli_usage("worker", "--die-on-task: '%s' is not a task "
                             "id", arg);
        o->die_on_task = u;
        return CLI_EXIT_OK;
    }
    case OPT_FAIL_ONCE: o->fail_once_file = arg; return CLI_EXIT_OK;
    case OPT_DUPLICATE: o->duplicate_results = 1; return CLI_EXIT_OK;
    case OPT_FORGE: o->forge_results = 1; return CLI_EXIT_OK;
#endif
    case OPT_DELAY:
        if (cli_parse_uint(arg, &o->task_delay_ms) != 0)
            return cli_usage("worker", "--task-delay-ms: '%s' is not a "
                             "number of milliseconds", arg);
        return CLI_EXIT_OK;
    case OPT_CURVE_SECRET: o->curve_secret = arg; return CLI_EXIT_OK;
    case OPT_SERVER_KEY: o->server_key = arg; return CLI_EXIT_OK;
    case OPT_INSECURE: o->insecure = 1; return CLI_EXIT_OK;
    default: return CLI_EXIT_USAGE;
    }
}

static int parse_args(int argc, char **argv, eg_worker_opts *o, int *verbose)
{
    static const struct option longopts[] = {
        {"tasks", required_argument, NULL, OPT_TASKS},
        {"results", required_argument, NULL, OPT_RESULTS},
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"name", required_argument, NULL, OPT_NAME},
        {"shard-root", required_argument, NULL, OPT_SHARD_ROOT},
        {"credit", required_argument, NULL, OPT_CREDIT},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"task-delay-ms", required_argument, NULL, OPT_DELAY},
        {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
        {"server-key", required_argument, NULL, OPT_SERVER_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
#ifdef EDGEGRID_TEST_HOOKS
        {"die-on-task", required_argument, NULL, OPT_DIE},
        {"fail-once-file", required_argument, NULL, OPT_FAIL_ONCE},
        {"duplicate-results", no_argument, NULL, OPT_DUPLICATE},
        /* Hidden testing aid for the security tests: see grid.h. */
        {"forge-results", no_argument, NULL, OPT_FORGE},
#endif
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    worker_cli w = {o, verbose};
    int rc = cli_getopts("worker", worker_help, argc, argv, longopts,
                         parse_option, &w);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (optind < argc)
        return cli_usage("worker", "unexpected argument '%s'", argv[optind]);
    if (!o->tasks_endpoint || !o->results_endpoint)
        return cli_usage("worker", "needs --tasks ENDPOINT and --results "
                         "ENDPOINT (the coordinator's)");
    if (!o->curve_secret != !o->server_key)
        return cli_usage("worker", "%s", o->curve_secret
                         ? "--curve-secret needs --server-key FILE (the "
                           "coordinator's public key)"
                         : "--server-key needs --curve-secret FILE (this "
                           "worker's secret key)");
    return CLI_EXIT_OK;
}

int cmd_worker(int argc, char **argv)
{
    eg_worker_opts o;
    int verbose = 0;
    eg_worker_opts_init(&o);
    int rc = parse_args(argc, argv, &o, &verbose);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;
    if (verbose)
        o.log_fn = log_line;

    /* Task messages are megabytes; by default glibc maps and unmaps each
     * one, and the kernel zeroes every page again on the next (measured:
     * a fifth of a worker's CPU).  Keep freed memory for the next task. */
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);

    /* No SA_RESTART: the signal must interrupt zmq_poll. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    eg_error err = {0};
    if (eg_worker_run(&o, &stop_signals, &err) != EG_OK)
        return cli_engine_error(&err);
    return CLI_EXIT_OK;
}
