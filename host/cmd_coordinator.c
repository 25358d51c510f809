/* cmd_coordinator.c - `edgegrid coordinator`: owns one job, hands its tasks
 * to whatever workers connect, prints the result as `reduce` does. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grid_args.h"
#include "grid_output.h"

static const char coordinator_help[] =
    "usage: edgegrid coordinator --tasks ENDPOINT --results ENDPOINT\n"
    "                            [options] FILE|-\n"
    "       edgegrid coordinator --tasks ENDPOINT --results ENDPOINT\n"
    "                            [options] --shards MANIFEST\n"
    "\n"
    "Owns one reduction job: cuts FILE into tasks, hands them to the workers\n"
    "that connect ('edgegrid worker'), collects their partial states, merges\n"
    "them in task order and prints the result as 'edgegrid reduce' does.\n"
    "Workers connect to both endpoints; they may join and leave at any time.\n"
    "\n"
    "endpoints (bound here; '*' picks a free port):\n"
    "  --tasks ENDPOINT     tasks and control, e.g. tcp://0.0.0.0:5555\n"
    "  --results ENDPOINT   partial states, e.g. tcp://0.0.0.0:5556\n"
    "\n"
    "reduce options (as 'edgegrid reduce'):\n"
    "  --ops LIST, --mode fast|exact, --nan propagate|omit, --ddof D,\n"
    "  --with Y.npy, --raw, --dtype T, --axis A, --keepdims, --by KEYS.npy,\n"
    "  --shape R,C,..., -o RESULT.npz (structured jobs: one result per\n"
    "  column, row or group, with the bits of 'reduce --chunk')\n"
    "  --ops median,quantile,approx_quantile,hist with --q LIST,\n"
    "  --method M, --rel-err E, --bins N, --range LO,HI (one box's\n"
    "  bits): flat, each runs as rounds of tasks after the other ops:\n"
    "  hist one (two without --range: min/max first), approx_quantile\n"
    "  one, median and quantile one per selection pass: 1 for 8- and\n"
    "  16-bit dtypes, 2 for 32-bit, 4 for 64-bit; with --axis or --by\n"
    "  (inline data), one round whose tasks are whole outputs, each\n"
    "  output's segment at most 256 MiB\n"
    "\n"
    "grid options:\n"
    "  --task-bytes N       data bytes per task (per operand), rounded down to\n"
    "                       whole lanes of 4096 elements; default 4Mi\n"
    "                       elements (the engine's chunk).  The result has the\n"
    "                       bits of 'reduce --chunk' with the task's elements.\n"
    "  --shards MANIFEST    edge mode: each line names a shard (a .npy or raw\n"
    "                       file below the workers' --shard-root) and may give\n"
    "                       its element count; workers reduce the shards they\n"
    "                       hold and send only states\n"
    "  --timeout SEC        bound on the whole job (default 600); on expiry\n"
    "                       the job fails, naming the missing tasks or shards\n"
    "  --min-workers K      wait for K workers before the first task\n"
    "  --json               one JSON object: reduce's, plus a \"grid\" object\n"
    "  --verbose            log workers joining and lost, tasks sent again,\n"
    "                       frames rejected (stderr)\n"
    "  --noop-tasks N       benchmarking aid: N empty tasks, no input\n"
    "  -h, --help           this text\n"
    "\n"
    "security (README, \"Grid security\"):\n"
    "  --curve-secret FILE  this coordinator's secret key ('edgegrid keygen';\n"
    "                       mode 0600): both endpoints speak CURVE, and\n"
    "  --allow DIR          only workers whose public key is a NAME.pub file\n"
    "                       in DIR get past the handshake; a result counts\n"
    "                       only from the worker its task was sent to.\n"
    "                       SIGHUP reads DIR again.\n"
    "  --insecure           allow plain TCP on an endpoint that is not\n"
    "                       loopback (refused without it)\n"
    "\n"
    "Every task is leased: a worker that dies or goes silent (1.5 s) or\n"
    "overstays its lease gets its tasks sent again; after 4 failed attempts\n"
    "the job fails naming the task.  Each task's first valid state counts;\n"
    "duplicates and malformed frames are counted and dropped.\n"
    "\n"
    "exit status: 0 success, 1 runtime failure (job failed, timeout),\n"
    "2 bad usage or bad input.\n";

/* Bumped by SIGHUP: the allow-list is read again.  The one global a signal
 * handler forces. */
static volatile sig_atomic_t reloads;

static void on_sighup(int sig)
{
    (void)sig;
    reloads = (sig_atomic_t)((reloads + 1) & 0x7fff);
}

int cmd_coordinator(int argc, char **argv)
{
    grid_args a;
    memset(&a, 0, sizeof a);
    a.cmd = GRID_CMD_COORDINATOR;
    int rc = grid_args_parse(argc, argv, &a, coordinator_help);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;

    grid_events ev = {.verbose = a.verbose};
    a.co.event_fn = grid_events_print;
    a.co.event_ctx = &ev;
    if (a.co.allow_dir) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sighup;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGHUP, &sa, NULL);
        a.co.reload = &reloads;
    }
    eg_coord *c = NULL;
    eg_error err = {0};
    eg_result res;
    eg_grid_stats stats;
    memset(&stats, 0, sizeof stats);
    if (eg_coord_open(&c, &a.co, &err) != EG_OK)
        return cli_engine_error(&err);
    if (a.verbose)
        fprintf(stderr, "edgegrid: coordinator: %llu task(s); workers "
                "connect to --tasks %s --results %s\n",
                (unsigned long long)eg_coord_task_count(c),
                eg_coord_tasks_endpoint(c), eg_coord_results_endpoint(c));
    if (eg_coord_run(c, &res, &stats, &err) != EG_OK) {
        rc = cli_engine_error(&err);
    } else {
        if (a.co.structured)
            rc = grid_output_structured(&a, c, &stats);
        else
            rc = grid_output_flat(&a, c, &res, &stats);
    }
    eg_grid_stats_free(&stats);
    eg_coord_close(&c);
    return rc;
}
