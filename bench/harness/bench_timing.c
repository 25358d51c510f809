/* bench_timing.c - the clock, medians and the repetition loop of
 * `edgegrid bench`.  Medians, not means: this box is shared, and one
 * descheduled repetition must not move the figure. */
#include <stdlib.h>
#include <time.h>

#include "bench_timing.h"

uint64_t bench_bytes(eg_dtype t, uint64_t count, int two_inputs)
{
    return count * (uint64_t)eg_dtype_size(t) * (two_inputs ? 2u : 1u);
}

void bench_figure_set(bench_figure *fig, double seconds, unsigned reps,
                      uint64_t bytes)
{
    fig->have = 1;
    fig->seconds = seconds;
    fig->reps = reps;
    fig->gbps = seconds > 0 ? (double)bytes / seconds / 1e9 : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_repeat(const bench_plan *plan, bench_fn fn, void *ctx,
                 uint64_t bytes, bench_figure *fig)
{
    unsigned max = plan->max_reps > plan->min_reps ? plan->max_reps
                                                   : plan->min_reps;
    double *t;
    unsigned n = 0;
    double total = 0.0;
    int rc;

    fig->have = 0;
    if (max == 0)
        max = 1;
    t = malloc(max * sizeof *t);
    if (t == NULL)
        return -1;
    for (unsigned i = 0; i < plan->warmup; i++) {
        if ((rc = fn(ctx)) != 0)
            goto out;
    }
    while (n < max && (n < plan->min_reps || total < plan->min_seconds ||
                       n == 0)) {
        double t0 = eg_now();
        if ((rc = fn(ctx)) != 0)
            goto out;
        t[n] = eg_now() - t0;
        total += t[n++];
    }
    bench_figure_set(fig, bench_median(t, n), n, bytes);
    rc = 0;
out:
    free(t);
    return rc;
}
