/* finish_values.h - what every finalizer of a state shares (state.c for
 * fast mode, exact_finish.c for exact mode): result numbers of each kind
 * and the IEEE rule for infinities counted apart from a finite part. */
#ifndef EG_FINISH_VALUES_H
#define EG_FINISH_VALUES_H

#include <math.h>
#include <stdint.h>

#include "edgegrid.h"

static inline eg_number eg_num_f(double v)
{
    eg_number n = {.kind = EG_NUM_F64};
    n.v.f = v;
    return n;
}

static inline eg_number eg_num_i(int64_t v)
{
    eg_number n = {.kind = EG_NUM_I64};
    n.v.i = v;
    return n;
}

static inline eg_number eg_num_u(uint64_t v)
{
    eg_number n = {.kind = EG_NUM_U64};
    n.v.u = v;
    return n;
}

/* The IEEE sum of a finite value and the infinities seen. */
static inline double eg_with_infinities(double finite, uint64_t pinf,
                                        uint64_t ninf)
{
    if (pinf && ninf)
        return NAN;
    if (pinf)
        return INFINITY;
    if (ninf)
        return -INFINITY;
    return finite;
}

#endif
