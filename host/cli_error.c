/* cli_error.c - the one error format of the program and the glue that makes
 * getopt_long's complaints use it. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Writes a formatted message with every control character escaped (\n,
 * \t, \xNN): a file name or argument holding a newline must not break the
 * one-line error.  Bytes from 0x80 up pass as they are (UTF-8 names). */
static void put_escaped(const char *fmt, va_list ap)
{
    char text[2048];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    if (n < 0)
        return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n')
            fputs("\\n", stderr);
        else if (*p == '\t')
            fputs("\\t", stderr);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(stderr, "\\x%02x", *p);
        else
            fputc(*p, stderr);
    }
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("edgegrid: ", stderr);
    va_start(ap, fmt);
    put_escaped(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "edgegrid: %s: ", cmd);
    va_start(ap, fmt);
    put_escaped(fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'edgegrid %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_engine_error(const eg_error *err)
{
    /* The engine promises a message; fall back to the code's text so the
     * user never sees an empty line. */
    if (err->msg[0] != '\0')
        cli_errorf("%s", err->msg);
    else
        cli_errorf("%s", eg_strerror(err->code));
    int code = eg_status_exit_code(err->code);
    /* An error that claims success is an engine bug; never exit 0 on it. */
    return code == 0 ? CLI_EXIT_FAIL : code;
}

void cli_getopt_begin(void)
{
    /* optind = 0 makes glibc re-initialise its scanner entirely (a plain 1
     * would keep the state of a half-scanned option cluster). */
    optind = 0;
    opterr = 0;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    /* After an error getopt has stepped past the offending word, so
     * argv[optind - 1] names it; a short option inside a cluster is only
     * known through optopt. */
    const char *word = optind > 0 ? argv[optind - 1] : "";

    if (c == ':')
        return cli_usage(cmd, "option '%s' needs a value", word);
    if (strncmp(word, "--", 2) == 0) {
        if (optopt != 0)  /* a known long option used the wrong way */
            return cli_usage(cmd, "option '%s' takes no value", word);
        return cli_usage(cmd, "unknown option '%s'", word);
    }
    if (optopt != 0)
        return cli_usage(cmd, "unknown option '-%c'", optopt);
    return cli_usage(cmd, "unknown option '%s'", word);
}

int cli_getopts(const char *cmd, const char *help, int argc, char **argv,
                const struct option *longopts, cli_option_fn fn, void *ctx)
{
    return cli_getopts_short(cmd, help, ":h", argc, argv, longopts, fn, ctx);
}

int cli_getopts_short(const char *cmd, const char *help, const char *shorts,
                      int argc, char **argv, const struct option *longopts,
                      cli_option_fn fn, void *ctx)
{
    int c;
    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return CLI_DONE;
        }
        if (c == '?' || c == ':')
            return cli_getopt_error(cmd, c, argv);
        int rc = fn(c, optarg, ctx);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    return CLI_EXIT_OK;
}
