/* cli.h - what the subcommands of the edgegrid program share: their entry
 * points, the one error format, option-parsing helpers and number parsing.
 *
 * Every message to the user goes through here, so the program has one error
 * format ("edgegrid: <message>", one line on stderr) and one exit-status
 * convention (0 ok, 1 runtime failure, 2 bad usage or bad input).
 */
#ifndef EG_HOST_CLI_H
#define EG_HOST_CLI_H

#include <stdint.h>

#include "edgegrid.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    /* Returned by option parsers when --help was printed: stop, exit 0. */
    CLI_DONE = -1
};

/* A subcommand: argv[0] is its own name, options follow. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

int cmd_devices(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_reduce(int argc, char **argv);
/* The grid (issue 4): cmd_coordinator.c, cmd_worker.c, cmd_grid.c. */
int cmd_coordinator(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_grid(int argc, char **argv);
int cmd_keygen(int argc, char **argv);  /* CURVE keys (issue 6) */
int cmd_bench(int argc, char **argv);
/* Streams (issue 17): cmd_stream.c, cmd_collect.c. */
int cmd_stream(int argc, char **argv);
int cmd_collect(int argc, char **argv);

/* Prints "edgegrid: <message>" on stderr. */
void cli_errorf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints "edgegrid: <cmd>: <message> (see 'edgegrid <cmd> --help')" and
 * returns CLI_EXIT_USAGE, so callers write `return cli_usage(...)`. */
int cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints an engine error and returns its exit status (1 or 2). */
int cli_engine_error(const eg_error *err);

/* Resets getopt for a fresh argument vector and silences its own messages,
 * so that every usage error comes out in our one-line format. */
void cli_getopt_begin(void);

/* Makes a file cut short under a memory map end the program with one line
 * naming it (exit 1) instead of SIGBUS (fault_guard.c).  Called once, first
 * thing in main. */
void cli_guard_mapped_files(void);

/* Turns getopt_long's '?' or ':' into a one-line usage error; returns
 * CLI_EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv);

struct option;

/* Handles one option (getopt_long's code and its value) into ctx; returns
 * CLI_EXIT_OK or the exit status of a usage error it printed. */
typedef int (*cli_option_fn)(int c, const char *arg, void *ctx);

/* The option loop of a subcommand that takes only long options and -h:
 * prints `help` and returns CLI_DONE on -h/--help, turns unknown options
 * and missing values into usage errors naming `cmd`, hands every other
 * option to fn.  Leaves optind at the first operand. */
int cli_getopts(const char *cmd, const char *help, int argc, char **argv,
                const struct option *longopts, cli_option_fn fn, void *ctx);
/* The same with short options too: `shorts` as getopt takes them, starting
 * with ":h" ("-o FILE": ":ho:"). */
int cli_getopts_short(const char *cmd, const char *help, const char *shorts,
                      int argc, char **argv, const struct option *longopts,
                      cli_option_fn fn, void *ctx);

/* Element counts: a decimal integer ("268435456"), scientific notation that
 * names an integer ("1e6", "2.5e3") or an integer with a binary suffix
 * ("256Mi", "1Gi").  Returns 0, or -1 if the text is none of these. */
int cli_parse_count(const char *text, uint64_t *out);

/* A non-negative decimal integer that fits `unsigned`.  0 or -1. */
int cli_parse_uint(const char *text, unsigned *out);

/* A finite double.  0 or -1. */
int cli_parse_double(const char *text, double *out);

/* --mode of reduce, coordinator, grid and bench: "fast" or "exact".  0 or
 * -1.  cli_mode_name is its inverse. */
int cli_parse_mode(const char *text, eg_mode *out);
const char *cli_mode_name(eg_mode m);

#endif
