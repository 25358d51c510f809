/* quant_args.c - parsing the options of the quantile and histogram ops
 * (quant_cli.h).  Every mistake is one usage line naming the option. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "quant_cli.h"

static int parse_q_list(const char *cmd, const char *arg, eg_quant_opts *o)
{
    char buf[64];
    o->nq = 0;
    for (const char *p = arg;;) {
        size_t n = strcspn(p, ",");
        double v;
        if (o->nq == EG_QUANT_MAX_Q)
            return cli_usage(cmd, "--q: more than %d values", EG_QUANT_MAX_Q);
        if (n == 0 || n >= sizeof buf)
            return cli_usage(cmd,
                             "--q: '%s' is not a comma list of numbers "
                             "in [0, 1]",
                             arg);
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (cli_parse_double(buf, &v) != 0 || !(v >= 0 && v <= 1))
            return cli_usage(cmd, "--q: '%s' is not a number in [0, 1]", buf);
        o->q[o->nq++] = v;
        p += n;
        if (*p == '\0')
            return CLI_EXIT_OK;
        p++;
    }
}

static int parse_range(const char *cmd, const char *arg, eg_quant_opts *o)
{
    char buf[128];
    size_t n = strcspn(arg, ",");
    if (arg[n] != ',' || n == 0 || n >= sizeof buf || strlen(arg) >= sizeof buf)
        return cli_usage(cmd, "--range: '%s' is not LO,HI", arg);
    memcpy(buf, arg, n);
    buf[n] = '\0';
    if (cli_parse_double(buf, &o->lo) != 0 ||
        cli_parse_double(arg + n + 1, &o->hi) != 0)
        return cli_usage(cmd, "--range: '%s' is not two finite numbers LO,HI",
                         arg);
    if (!(o->lo < o->hi))
        return cli_usage(cmd, "--range: LO must be below HI (got '%s')", arg);
    o->have_range = 1;
    return CLI_EXIT_OK;
}

int quant_cli_option(const char *cmd, int which, const char *arg,
                     eg_quant_opts *o)
{
    eg_error err = {0};
    switch (which) {
    case QUANT_OPT_Q:
        return parse_q_list(cmd, arg, o);
    case QUANT_OPT_METHOD:
        if (eg_qmethod_parse(arg, &o->method, &err) != EG_OK)
            return cli_usage(cmd, "%s", err.msg);
        return CLI_EXIT_OK;
    case QUANT_OPT_REL_ERR:
        if (cli_parse_double(arg, &o->rel_err) != 0 ||
            !(o->rel_err > 0 && o->rel_err < 0.5))
            return cli_usage(cmd,
                             "--rel-err: '%s' is not a number in "
                             "(0, 0.5)",
                             arg);
        if (o->rel_err < EG_SKETCH_MIN_REL_ERR)
            return cli_usage(cmd,
                             "--rel-err: '%s' is below %g (the sketch "
                             "would outgrow memory)",
                             arg, EG_SKETCH_MIN_REL_ERR);
        return CLI_EXIT_OK;
    case QUANT_OPT_BINS:
        if (cli_parse_uint(arg, &o->bins) != 0 || o->bins == 0 ||
            o->bins > EG_HIST_MAX_BINS)
            return cli_usage(cmd, "--bins: '%s' is not an integer in 1..%u",
                             arg, EG_HIST_MAX_BINS);
        return CLI_EXIT_OK;
    case QUANT_OPT_RANGE:
        return parse_range(cmd, arg, o);
    default:
        return CLI_EXIT_USAGE;
    }
}

int quant_cli_ops(const char *cmd, const char *list, unsigned *ops,
                  eg_quant_opts *o)
{
    eg_error err = {0};
    char rest[512];
    if (strlen(list) >= sizeof rest)
        return cli_usage(cmd, "--ops: list too long");
    if (eg_quant_ops_split(list, &o->qops, rest, sizeof rest, &err) != EG_OK)
        return cli_usage(cmd, "%s", err.msg);
    *ops = 0;
    if (rest[0] == '\0' && o->qops != 0)
        return CLI_EXIT_OK;
    if (eg_ops_parse(rest[0] ? rest : list, ops, &err) != EG_OK) {
        /* the engine lists its ops in "(expected ...)": add ours */
        size_t n = strlen(err.msg);
        if (n > 0 && err.msg[n - 1] == ')')
            return cli_usage(cmd,
                             "%.*s median quantile approx_quantile "
                             "hist)",
                             (int)(n - 1), err.msg);
        return cli_usage(cmd, "%s",
                         err.msg[0] ? err.msg : eg_strerror(err.code));
    }
    return CLI_EXIT_OK;
}

int quant_cli_check(const char *cmd, const eg_quant_opts *o)
{
    eg_error err = {0};
    if (eg_quant_opts_check(o, &err) != EG_OK)
        return cli_usage(cmd, "%s", err.msg);
    return CLI_EXIT_OK;
}
