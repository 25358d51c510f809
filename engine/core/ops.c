/* ops.c - op names, op lists and the reduce options. */
#include <string.h>

#include "error.h"
#include "state.h"

static const char *const op_names[EG_OP_COUNT_ALL] = {
    "count", "sum", "mean", "min", "max", "argmin",
    "argmax", "var", "std", "l1", "l2", "dot"};

const char *eg_op_name(eg_op op)
{
    return (unsigned)op < EG_OP_COUNT_ALL ? op_names[op] : "?";
}

eg_status eg_ops_parse(const char *list, unsigned *ops, eg_error *err)
{
    unsigned set = 0;
    const char *p = list;
    if (!list || !*list)
        return eg_error_set(err, EG_EUSAGE, "--ops: empty op list");
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
            if (strlen(op_names[op]) == len && !strncmp(p, op_names[op], len)) {
                set |= EG_OPS_BIT(op);
                found = 1;
            }
        }
        if (!found)
            return eg_error_set(err, EG_EUSAGE,
                                "--ops: unknown op '%.*s' (expected count sum "
                                "mean min max argmin argmax var std l1 l2 dot)",
                                (int)(len > 64 ? 64 : len), p);
        p += len;
        if (*p == ',')
            p++;
    }
    *ops = set;
    return EG_OK;
}

void eg_reduce_opts_init(eg_reduce_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ops = EG_OPS_DEFAULT;
    o->mode = EG_MODE_FAST;
    o->nan = EG_NAN_PROPAGATE;
}

unsigned eg_groups_for_ops(unsigned ops)
{
    unsigned g = 0;
    if (ops & (EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX) |
               EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX)))
        g |= EG_G_MINMAX;
    if (ops & (EG_OPS_BIT(EG_OP_VAR) | EG_OPS_BIT(EG_OP_STD)))
        g |= EG_G_VAR;
    if (ops & EG_OPS_BIT(EG_OP_L1))
        g |= EG_G_L1;
    if (ops & EG_OPS_BIT(EG_OP_L2))
        g |= EG_G_L2;
    if (ops & EG_OPS_BIT(EG_OP_DOT))
        g |= EG_G_DOT;
    unsigned reads_sum = EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MEAN);
    if (!(ops & reads_sum) && g != 0)
        g |= EG_G_NO_SUM;
    return g;
}

unsigned eg_groups_for(unsigned ops, eg_mode mode, eg_dtype dtype)
{
    unsigned g = eg_groups_for_ops(ops);
    if (mode == EG_MODE_EXACT && eg_dtype_is_float(dtype))
        g |= EG_G_EXACT;
    return g;
}
