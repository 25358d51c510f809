/* cmd_grid.c - `edgegrid grid --workers N`: a whole grid on this box.
 *
 * This process is the coordinator (bound to 127.0.0.1 on ports the kernel
 * picks); N worker processes are this same program (/proc/self/exe) run as
 * `edgegrid worker`.  Workers die with this process (PR_SET_PDEATHSIG), and
 * are stopped (SIGTERM, then SIGKILL) when the job ends either way. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "curve.h"
#include "grid_args.h"
#include "grid_output.h"

static const char grid_help[] =
    "usage: edgegrid grid --workers N [options] FILE|-\n"
    "       edgegrid grid --workers N [options] --shards MANIFEST "
    "--shard-root DIR\n"
    "\n"
    "Runs a local grid: a coordinator and N worker processes on 127.0.0.1\n"
    "(ports chosen free), reduces FILE on it, prints the result as\n"
    "'edgegrid coordinator' does and tears the grid down.\n"
    "\n"
    "options:\n"
    "  --workers N          worker processes to start\n"
    "  --devices SPEC       devices of every worker, as 'edgegrid reduce'\n"
    "                       (default: $EDGEGRID_DEVICES, else all).  N\n"
    "                       workers share this box: 'host' keeps each to\n"
    "                       the CPU backend\n"
    "  --credit N           tasks each worker takes at a time (default 2)\n"
    "  --shard-root DIR     where the workers find the shards of --shards\n"
    "  --ops, --mode, --nan, --ddof, --with, --raw, --dtype, --axis,\n"
    "  --keepdims, --by, --shape, -o RESULT.npz\n"
    "                       as 'edgegrid reduce'\n"
    "  --q, --method, --rel-err, --bins, --range\n"
    "                       median, quantile, approx_quantile and hist, as\n"
    "                       'edgegrid reduce': rounds of tasks (see\n"
    "                       'edgegrid coordinator --help': a quantile takes\n"
    "                       1, 2 or 4 rounds for 8/16-, 32- and 64-bit data;\n"
    "                       with --axis or --by, one round of whole outputs)\n"
    "  --task-bytes N, --shards MANIFEST, --timeout SEC, --min-workers K,\n"
    "  --json, --verbose    as 'edgegrid coordinator'\n"
    "  --curve              CURVE on loopback too: throw-away keys for the\n"
    "                       coordinator and each worker, in a temporary\n"
    "                       directory removed at the end (to try it out or\n"
    "                       to measure its cost)\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n";

#define MAX_LOCAL_WORKERS 64

typedef struct local_grid {
    pid_t pid[MAX_LOCAL_WORKERS];
    int status[MAX_LOCAL_WORKERS];
    int exited[MAX_LOCAL_WORKERS];
    unsigned n;
    eg_curve_local keys;  /* with --curve */
    char server_secret[512], server_pub[512], allow[512];
    char secret[MAX_LOCAL_WORKERS][512];
} local_grid;

/* Builds the worker's argv before fork, so the child only execs. */
static void worker_argv(const grid_args *a, local_grid *g, eg_coord *c,
                        unsigned k, char names[][32], char credit[][16],
                        char **argv)
{
    int i = 0;
    snprintf(names[k], 32, "grid-%u", k + 1);
    argv[i++] = "edgegrid";
    argv[i++] = "worker";
    argv[i++] = "--tasks";
    argv[i++] = (char *)eg_coord_tasks_endpoint(c);
    argv[i++] = "--results";
    argv[i++] = (char *)eg_coord_results_endpoint(c);
    argv[i++] = "--name";
    argv[i++] = names[k];
    if (a->devices) {
        argv[i++] = "--devices";
        argv[i++] = (char *)a->devices;
    }
    if (a->shard_root) {
        argv[i++] = "--shard-root";
        argv[i++] = (char *)a->shard_root;
    }
    if (a->credit) {
        snprintf(credit[k], 16, "%u", a->credit);
        argv[i++] = "--credit";
        argv[i++] = credit[k];
    }
    if (a->verbose)
        argv[i++] = "--verbose";
    if (a->curve) {
        eg_curve_local_path(&g->keys, NULL, k + 1, g->secret[k],
                            sizeof g->secret[k]);
        argv[i++] = "--curve-secret";
        argv[i++] = g->secret[k];
        argv[i++] = "--server-key";
        argv[i++] = g->server_pub;
    }
    argv[i] = NULL;
}

static int spawn(local_grid *g, const grid_args *a, eg_coord *c)
{
    static char names[MAX_LOCAL_WORKERS][32], credit[MAX_LOCAL_WORKERS][16];
    pid_t parent = getpid();
    for (unsigned k = 0; k < a->workers; k++) {
        char *argv[24];
        worker_argv(a, g, c, k, names, credit, argv);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            cli_errorf("grid: cannot start worker %u: %s", k + 1,
                       strerror(errno));
            return -1;
        }
        if (pid == 0) {
            /* Die with the grid, even if it is killed outright. */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(1);
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
            }
            execv("/proc/self/exe", argv);
            _exit(127);
        }
        g->pid[g->n++] = pid;
    }
    return 0;
}

static void reap(local_grid *g, int flags)
{
    for (unsigned k = 0; k < g->n; k++) {
        if (g->exited[k])
            continue;
        int st;
        if (waitpid(g->pid[k], &st, flags) == g->pid[k]) {
            g->exited[k] = 1;
            g->status[k] = st;
        }
    }
}

/* The coordinator's stop check: a grid whose workers have all exited can
 * never finish. */
static int all_exited(void *ctx, char *why, size_t len)
{
    local_grid *g = ctx;
    reap(g, WNOHANG);
    for (unsigned k = 0; k < g->n; k++)
        if (!g->exited[k])
            return 0;
    int st = g->status[0];
    if (WIFEXITED(st))
        snprintf(why, len, "grid: all %u worker(s) exited (grid-1: exit "
                 "status %d); see their messages above", g->n,
                 WEXITSTATUS(st));
    else
        snprintf(why, len, "grid: all %u worker(s) exited (grid-1: signal "
                 "%d)", g->n, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 1;
}

static void stop_workers(local_grid *g)
{
    for (unsigned k = 0; k < g->n; k++)
        if (!g->exited[k])
            kill(g->pid[k], SIGTERM);
    /* A worker finishes its task and leaves within a second or so. */
    for (int i = 0; i < 300; i++) {
        reap(g, WNOHANG);
        unsigned left = 0;
        for (unsigned k = 0; k < g->n; k++)
            left += !g->exited[k];
        if (left == 0)
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (unsigned k = 0; k < g->n; k++)
        if (!g->exited[k])
            kill(g->pid[k], SIGKILL);
    reap(g, 0);
}

int cmd_grid(int argc, char **argv)
{
    grid_args a;
    memset(&a, 0, sizeof a);
    a.cmd = GRID_CMD_GRID;
    int rc = grid_args_parse(argc, argv, &a, grid_help);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;
    if (a.workers > MAX_LOCAL_WORKERS)
        return cli_usage("grid", "--workers: at most %d local workers",
                         MAX_LOCAL_WORKERS);

    local_grid g;
    memset(&g, 0, sizeof g);
    /* Workers start their engines before registering; that wait is normal
     * here, so the "waiting for workers" notice is for --verbose only. */
    grid_events ev = {.verbose = a.verbose, .quiet_waiting = 1};
    a.co.tasks_endpoint = "tcp://127.0.0.1:*";
    a.co.results_endpoint = "tcp://127.0.0.1:*";
    a.co.event_fn = grid_events_print;
    a.co.event_ctx = &ev;
    a.co.stop_fn = all_exited;
    a.co.stop_ctx = &g;

    eg_coord *c = NULL;
    eg_error err = {0};
    eg_result res;
    eg_grid_stats stats;
    memset(&stats, 0, sizeof stats);
    if (a.curve) {
        if (eg_curve_local_create(&g.keys, a.workers, &err) != EG_OK)
            return cli_engine_error(&err);
        eg_curve_local_path(&g.keys, "server.secret", 0, g.server_secret,
                            sizeof g.server_secret);
        eg_curve_local_path(&g.keys, "server.pub", 0, g.server_pub,
                            sizeof g.server_pub);
        eg_curve_local_path(&g.keys, "allow", 0, g.allow, sizeof g.allow);
        a.co.curve_secret = g.server_secret;
        a.co.allow_dir = g.allow;
    }
    if (eg_coord_open(&c, &a.co, &err) != EG_OK) {
        eg_curve_local_remove(&g.keys);
        return cli_engine_error(&err);
    }
    if (spawn(&g, &a, c) != 0) {
        rc = CLI_EXIT_FAIL;
    } else if (eg_coord_run(c, &res, &stats, &err) != EG_OK) {
        rc = cli_engine_error(&err);
    } else {
        if (a.co.structured)
            rc = grid_output_structured(&a, c, &stats);
        else
            rc = grid_output_flat(&a, c, &res, &stats);
    }
    stop_workers(&g);
    eg_curve_local_remove(&g.keys);
    eg_grid_stats_free(&stats);
    eg_coord_close(&c);
    return rc;
}
