/* main.c - the edgegrid program: global options, then a {name, fn} table of
 * subcommands (bpftool's shape), each of which parses its own options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list the OpenCL devices and the host backend"},
    {"gen", cmd_gen, "write a synthetic .npy data set"},
    {"reduce", cmd_reduce, "reduce a .npy or raw file on the chosen devices"},
    {"coordinator", cmd_coordinator, "own a grid job: hand out tasks, merge states"},
    {"worker", cmd_worker, "serve grid jobs on this box's devices"},
    {"grid", cmd_grid, "run a coordinator and N workers on this box"},
    {"keygen", cmd_keygen, "write a CURVE key pair for the grid"},
    {"stream", cmd_stream, "reduce a live stream in windows, per key"},
    {"collect", cmd_collect, "merge the window states of stream boxes"},
    {"bench", cmd_bench, "measure GB/s against the roof, numpy and OpenBLAS"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f)
{
    fputs("usage: edgegrid [--help] [--version] COMMAND [options]\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'edgegrid COMMAND --help' describes a command's options.\n"
          "exit status: 0 success, 1 runtime failure, 2 bad usage or bad "
          "input.\n",
          f);
}

static void print_version(void)
{
    printf("edgegrid %d.%d.%d\n", EG_VERSION_MAJOR, EG_VERSION_MINOR,
           EG_VERSION_PATCH);
}

/* Flushes stdout and reports a failed write (a full disk, a closed pipe),
 * so a truncated result never exits 0. */
static int finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("cannot write the output: stdout failed");
        return rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    cli_guard_mapped_files();

    /* POCL's CPU device runs one worker thread per core and wakes them for
     * every kernel; left to the OS scheduler, woken workers are often
     * pulled onto one core, and for up to a second or so the device reads
     * a third slower (bench/README.md).  POCL_AFFINITY, POCL's own knob,
     * pins one worker per core; a value the user set stands.  Set before
     * any OpenCL call, as POCL reads it when it loads. */
    setenv("POCL_AFFINITY", "1", 0);

    /* '+': stop at the first word that is not an option, the command name;
     * what follows belongs to the command. */
    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': print_usage(stdout); return finish(CLI_EXIT_OK);
        case 'V': print_version(); return finish(CLI_EXIT_OK);
        default: {
            /* A short option in a cluster is known only by optopt. */
            const char *word = optind > 0 ? argv[optind - 1] : "";
            if (optopt != 0 && strncmp(word, "--", 2) != 0)
                cli_errorf("unknown option '-%c'; see 'edgegrid --help'",
                           optopt);
            else
                cli_errorf("unknown option '%s'; see 'edgegrid --help'", word);
            return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind >= argc) {
        cli_errorf("missing command; see 'edgegrid --help'");
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        print_usage(stdout);
        return finish(CLI_EXIT_OK);
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) == 0)
            return finish(commands[i].fn(argc - optind, argv + optind));
    }
    cli_errorf("unknown command '%s'; see 'edgegrid --help'", name);
    return CLI_EXIT_USAGE;
}
