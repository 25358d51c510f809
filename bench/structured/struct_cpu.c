/* struct_cpu.c - issue 14's --axis cases by thread time: each case's
 * eg_reduce_structured and eg_reduce's flat sum of the same bytes, the
 * process's CPU time (getrusage, every thread) of each call, best of
 * --reps, interleaved call by call.  On a box shared with other work the
 * CPU seconds a call costs move much less than its wall time.  Speed
 * only: nothing here checks a value (the tests do).
 *
 *   build/struct_cpu [--mib 256] [--reps 5] [--devices host] [--ops sum]
 *                    [--case A,C]   (one case only, for a profiler)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "edgegrid.h"

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 +
           (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

static double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static const struct {
    int axis;
    uint64_t c;
} cases[] = {{0, 2},  {0, 3},   {0, 8},     {0, 64},      {0, 1024},
             {-1, 8}, {-1, 16}, {-1, 32}, {-1, 64}, {-1, 4096},
             {-1, 1000000}};

static int usage(const char *msg)
{
    fprintf(stderr,
            "struct_cpu: %s\nusage: struct_cpu [--mib N] [--reps N] "
            "[--devices SPEC] [--ops LIST] [--case A,C]\n",
            msg);
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long mib = 256, reps = 5;
    const char *spec = "host";
    unsigned ops = EG_OPS_BIT(EG_OP_SUM);
    int only = 0, only_axis = 0;
    unsigned long long only_c = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage("every option takes a value");
        char *end = NULL;
        if (!strcmp(argv[i], "--mib"))
            mib = strtoul(argv[++i], &end, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = strtoul(argv[++i], &end, 10);
        else if (!strcmp(argv[i], "--devices"))
            spec = argv[++i];
        else if (!strcmp(argv[i], "--ops")) {
            eg_error perr;
            if (eg_ops_parse(argv[++i], &ops, &perr) != EG_OK)
                return usage(perr.msg);
        } else if (!strcmp(argv[i], "--case")) {
            if (sscanf(argv[++i], "%d,%llu", &only_axis, &only_c) != 2)
                return usage("--case: AXIS,COLUMNS, as -1,8");
            only = 1;
        } else
            return usage("unknown option");
        if (end &&
            (*end || mib == 0 || mib > 65536 || reps == 0 || reps > 1000))
            return usage("--mib: 1 to 65536, --reps: 1 to 1000");
    }
    uint64_t total = (uint64_t)mib << 18; /* float32 elements */
    float *x = malloc(total * sizeof *x);
    if (!x) {
        fprintf(stderr, "struct_cpu: no memory for %lu MiB\n", mib);
        return 1;
    }
    uint64_t s = 1;
    for (uint64_t i = 0; i < total; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, spec, &err) != EG_OK) {
        fprintf(stderr, "struct_cpu: %s\n", err.msg);
        free(x);
        return err.code == EG_EUSAGE ? 2 : 1;
    }
    printf("%-22s %9s %9s %7s %9s %9s %7s\n", "case", "cpu s", "flat", "xflat",
           "wall s", "flat", "xflat");
    int rc = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0] && rc == 0; k++) {
        uint64_t c = cases[k].c, n = total / c * c;
        if (only && (cases[k].axis != only_axis || c != only_c))
            continue;
        eg_struct_opts so;
        eg_struct_opts_init(&so);
        so.naxes = 1;
        so.axes[0] = cases[k].axis;
        so.shape_ndim = 2;
        so.shape[0] = n / c;
        so.shape[1] = c;
        eg_reduce_opts o;
        eg_reduce_opts_init(&o);
        o.ops = ops;
        double cs = 1e30, cf = 1e30, ws = 1e30, wf = 1e30;
        for (unsigned long r = 0; r < reps && rc == 0; r++) {
            eg_sresult res;
            double c0 = cpu_seconds(), w0 = wall_seconds();
            if (eg_reduce_structured(e, x, NULL, n, EG_F32, &so, &o, &res,
                                     &err) != EG_OK) {
                fprintf(stderr, "struct_cpu: %s\n", err.msg);
                rc = 1;
                break;
            }
            double c1 = cpu_seconds(), w1 = wall_seconds();
            eg_sresult_free(&res);
            cs = c1 - c0 < cs ? c1 - c0 : cs;
            ws = w1 - w0 < ws ? w1 - w0 : ws;
            eg_result flat;
            c0 = cpu_seconds();
            w0 = wall_seconds();
            if (eg_reduce(e, x, NULL, n, EG_F32, &o, &flat, &err) != EG_OK) {
                fprintf(stderr, "struct_cpu: %s\n", err.msg);
                rc = 1;
                break;
            }
            c1 = cpu_seconds();
            w1 = wall_seconds();
            cf = c1 - c0 < cf ? c1 - c0 : cf;
            wf = w1 - w0 < wf ? w1 - w0 : wf;
        }
        if (rc == 0) {
            char name[48]; /* "--axis INT_MIN, C=UINT64_MAX" fits */
            snprintf(name, sizeof name, "--axis %d, C=%llu", cases[k].axis,
                     (unsigned long long)c);
            printf("%-22s %9.4f %9.4f %7.2f %9.4f %9.4f %7.2f\n", name, cs, cf,
                   cf / cs, ws, wf, wf / ws);
        }
    }
    eg_engine_close(&e);
    free(x);
    return rc;
}
