/* struct_par.c - the passes of --by's grouping and permutation, one slice
 * of rows per thread: a thread a core, while each has a million rows. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "structured.h"

/* Below this many rows a second thread costs more than it saves. */
#define PAR_MIN_ROWS (1u << 20)

/* Test builds may set the number of slices, so that small inputs are cut
 * as large ones are (tests/cli/test_by_slices.py): 1 to
 * EG_STRUCT_MAX_SLICES.  Product builds ignore it. */
#define EG_SLICES_ENV "EDGEGRID_TEST_BY_SLICES"

unsigned eg_struct_threads(uint64_t rows)
{
#ifdef EDGEGRID_TEST_HOOKS
    const char *env = getenv(EG_SLICES_ENV);
    if (env != NULL && env[0] != '\0') {
        long n = strtol(env, NULL, 10);
        if (n >= 1 && n <= EG_STRUCT_MAX_SLICES)
            return (unsigned)n;
    }
#endif
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t t = cores > 0 ? (uint64_t)cores : 1;
    if (t > EG_STRUCT_MAX_SLICES)
        t = EG_STRUCT_MAX_SLICES;
    if (rows / PAR_MIN_ROWS < t)
        t = rows / PAR_MIN_ROWS;
    return t ? (unsigned)t : 1u;
}

typedef struct par_arg {
    void (*fn)(void *ctx, unsigned t);
    void *ctx;
    unsigned t;
} par_arg;

static void *par_main(void *arg)
{
    par_arg *a = arg;
    a->fn(a->ctx, a->t);
    return NULL;
}

void eg_struct_par(unsigned nt, void (*fn)(void *ctx, unsigned t), void *ctx)
{
    pthread_t th[EG_STRUCT_MAX_SLICES];
    par_arg args[EG_STRUCT_MAX_SLICES];
    int started[EG_STRUCT_MAX_SLICES] = {0};
    if (nt > EG_STRUCT_MAX_SLICES)
        nt = EG_STRUCT_MAX_SLICES;
    for (unsigned t = 1; t < nt; t++) {
        args[t] = (par_arg){fn, ctx, t};
        started[t] = pthread_create(&th[t], NULL, par_main, &args[t]) == 0;
    }
    /* A thread that did not start leaves its slice to this one: the
     * slices' results do not depend on which thread ran them. */
    fn(ctx, 0);
    for (unsigned t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn(ctx, t);
    }
}
