/* quant_cli.h - the options of the quantile and histogram ops on the
 * command line (--q, --method, --rel-err, --bins, --range) and how their
 * results print, as a table and inside the JSON "results" object. */
#ifndef EG_HOST_QUANT_CLI_H
#define EG_HOST_QUANT_CLI_H

#include <stdio.h>

#include "edgegrid.h"

/* getopt codes of the options; a subcommand gives them a base so they do
 * not clash with its own. */
enum { QUANT_OPT_Q, QUANT_OPT_METHOD, QUANT_OPT_REL_ERR, QUANT_OPT_BINS,
       QUANT_OPT_RANGE, QUANT_OPT_COUNT };

#define QUANT_LONGOPTS(base)                                                 \
    {"q", required_argument, NULL, (base) + QUANT_OPT_Q},                    \
    {"method", required_argument, NULL, (base) + QUANT_OPT_METHOD},          \
    {"rel-err", required_argument, NULL, (base) + QUANT_OPT_REL_ERR},        \
    {"bins", required_argument, NULL, (base) + QUANT_OPT_BINS},              \
    {"range", required_argument, NULL, (base) + QUANT_OPT_RANGE}

#define QUANT_HELP                                                           \
    "  --q LIST           quantiles in [0, 1] for quantile and\n"            \
    "                     approx_quantile, such as 0.5,0.9,0.99\n"           \
    "  --method M         quantile: linear (default), lower, higher,\n"     \
    "                     nearest or midpoint, as numpy.quantile\n"         \
    "  --rel-err E        approx_quantile's relative error, in (0, 0.5)\n"   \
    "                     (default 0.01)\n"                                  \
    "  --bins N           hist: equal-width bins (default 10)\n"             \
    "  --range LO,HI      hist: the bins' range (default the data's min\n"   \
    "                     and max, as numpy.histogram)\n"

/* Option `which` (QUANT_OPT_*) with its value into o; CLI_EXIT_OK or the
 * status of the usage error printed for `cmd`. */
int quant_cli_option(const char *cmd, int which, const char *arg,
                     eg_quant_opts *o);

/* --ops LIST: the quantile ops into o->qops, the others into *ops (0 when
 * none).  CLI_EXIT_OK or a usage error. */
int quant_cli_ops(const char *cmd, const char *list, unsigned *ops,
                  eg_quant_opts *o);

/* The checks across options (eg_quant_opts_check) as a usage error. */
int quant_cli_check(const char *cmd, const eg_quant_opts *o);

/* The results as members of the JSON "results" object, each preceded by
 * ", " unless `first`. */
void quant_json(FILE *f, const eg_quant_opts *o, const eg_quant_result *r,
                int first);

/* The results as table lines, with a bar chart for hist. */
void quant_table(FILE *f, const eg_quant_opts *o, const eg_quant_result *r);

/* The two above as the extension callbacks of output.h's printers (reduce's
 * and the grid's output), whose context is a quant_print. */
typedef struct quant_print {
    const eg_quant_opts *o;
    const eg_quant_result *r;
} quant_print;

void quant_print_json(FILE *f, const void *ctx, int first);
void quant_print_table(FILE *f, const void *ctx, int first);

#endif
