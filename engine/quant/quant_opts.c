/* quant_opts.c - the options of the quantile and histogram ops: defaults,
 * checks with one message per field, method names, and the split of an
 * --ops list between these ops and the others. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static const char *const method_names[EG_QM_COUNT] = {
    [EG_QM_LINEAR] = "linear",     [EG_QM_LOWER] = "lower",
    [EG_QM_HIGHER] = "higher",     [EG_QM_NEAREST] = "nearest",
    [EG_QM_MIDPOINT] = "midpoint",
};

static const struct {
    const char *name;
    unsigned bit;
} qop_names[] = {
    {"median", EG_QOP_MEDIAN},
    {"quantile", EG_QOP_QUANTILE},
    {"approx_quantile", EG_QOP_APPROX},
    {"hist", EG_QOP_HIST},
};

void eg_quant_opts_init(eg_quant_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = EG_QM_LINEAR;
    o->nan = EG_NAN_PROPAGATE;
    o->rel_err = 0.01;
    o->bins = 10;
}

const char *eg_qmethod_name(eg_qmethod m)
{
    return (unsigned)m < EG_QM_COUNT ? method_names[m] : "?";
}

eg_status eg_qmethod_parse(const char *text, eg_qmethod *out, eg_error *err)
{
    for (unsigned m = 0; m < EG_QM_COUNT; m++)
        if (strcmp(text, method_names[m]) == 0) {
            *out = (eg_qmethod)m;
            return EG_OK;
        }
    return eg_error_set(err, EG_EUSAGE,
                        "--method: '%.64s' is not linear, lower, higher, "
                        "nearest or midpoint",
                        text);
}

eg_status eg_quant_ops_split(const char *list, unsigned *qops, char *rest,
                             size_t len, eg_error *err)
{
    size_t used = 0;
    *qops = 0;
    if (len == 0)
        return eg_error_set(err, EG_EINTERNAL, "ops split: no room");
    rest[0] = '\0';
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        int mine = 0;
        if (n == 0)
            return eg_error_set(err, EG_EUSAGE,
                                "--ops: empty op name in '%.64s'", list);
        for (size_t i = 0; i < sizeof qop_names / sizeof *qop_names; i++)
            if (strlen(qop_names[i].name) == n &&
                strncmp(p, qop_names[i].name, n) == 0) {
                *qops |= qop_names[i].bit;
                mine = 1;
            }
        if (!mine) {
            if (used + n + 2 > len)
                return eg_error_set(err, EG_EUSAGE, "--ops: list too long");
            used += (size_t)snprintf(rest + used, len - used, "%s%.*s",
                                     used ? "," : "", (int)n, p);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return EG_OK;
}

eg_status eg_quant_opts_check(const eg_quant_opts *o, eg_error *err)
{
    unsigned qq = o->qops & (EG_QOP_QUANTILE | EG_QOP_APPROX);
    if (o->nq > EG_QUANT_MAX_Q)
        return eg_error_set(err, EG_EUSAGE, "--q: more than %d values",
                            EG_QUANT_MAX_Q);
    if (qq && o->nq == 0)
        return eg_error_set(err, EG_EUSAGE,
                            "quantile and approx_quantile need --q LIST");
    if (!qq && o->nq > 0)
        return eg_error_set(err, EG_EUSAGE,
                            "--q is only used by quantile and "
                            "approx_quantile; add one to --ops");
    for (size_t i = 0; i < o->nq; i++)
        if (!(o->q[i] >= 0 && o->q[i] <= 1))
            return eg_error_set(err, EG_EUSAGE, "--q: %g is not in [0, 1]",
                                o->q[i]);
    if ((unsigned)o->method >= EG_QM_COUNT)
        return eg_error_set(err, EG_EUSAGE, "--method: unknown method");
    if (!(o->rel_err > 0 && o->rel_err < 0.5))
        return eg_error_set(err, EG_EUSAGE, "--rel-err: %g is not in (0, 0.5)",
                            o->rel_err);
    if (o->bins == 0 || o->bins > EG_HIST_MAX_BINS)
        return eg_error_set(err, EG_EUSAGE, "--bins: %u is not in 1..%u",
                            o->bins, EG_HIST_MAX_BINS);
    if (o->have_range) {
        if (!isfinite(o->lo) || !isfinite(o->hi))
            return eg_error_set(err, EG_EUSAGE, "--range: %g,%g is not finite",
                                o->lo, o->hi);
        if (!(o->lo < o->hi))
            return eg_error_set(err, EG_EUSAGE,
                                "--range: LO %g is not below HI %g", o->lo,
                                o->hi);
    }
    return EG_OK;
}
