/* cmd_bench.c - `edgegrid bench`: parses the options, runs the bench
 * (bench_run.c) and shows the report as a table or JSON, and as a plot with
 * --plot.  The measuring lives in the bench_*.c modules. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_file.h"
#include "bench_plot.h"
#include "bench_resident.h"
#include "bench_struct.h"
#include "bench_run.h"
#include "cli.h"

static const char bench_help[] =
    "usage: edgegrid bench [options]\n"
    "\n"
    "Measures, on the same in-memory data and in one run, the read bandwidth\n"
    "of this machine (the roof: a multi-threaded SIMD sum over the buffer),\n"
    "edgegrid's fast mode (with --mode exact, exact mode beside it) per op\n"
    "and for the fused default op set on each device selection, OpenBLAS\n"
    "and numpy; and the latency of small inputs.\n"
    "Each figure is the median of several runs after a warm-up, shown as\n"
    "GB/s and as a ratio to the roof measured in the same run.\n"
    "\n"
    "options:\n"
    "  --size BYTES       bytes per input (default 1Gi); 1048576, 1e9, 256Mi\n"
    "  --dtype T          f32 (default) f64 i8 u8 i16 u16 i32 u32 i64 u64\n"
    "  --ops LIST         comma list of ops and 'fused' (count,sum,mean,min,\n"
    "                     max,std in one pass); default sum,min,max,l1,l2,\n"
    "                     mean,std,argmin,argmax,dot,fused\n"
    "  --devices SPEC     a device selection to measure (all, opencl, cpu,\n"
    "                     gpu, host, or indices such as 0,1); repeat for more columns.\n"
    "                     Default: each device alone, all, and every index\n"
    "                     together; EDGEGRID_DEVICES is not consulted\n"
    "  --mode fast|exact  fast (default): fast mode's GB/s; exact: each op\n"
    "                     in exact mode right after fast mode on the same\n"
    "                     data, as GB/s, over the roof (xroof) and over\n"
    "                     fast mode (xfast); small inputs and the sweep stay\n"
    "                     fast mode\n"
    "  --reps N           timed runs per figure, at least (default 5); small\n"
    "                     inputs get more, up to 0.05 s worth\n"
    "  --json             print one JSON object instead of the table\n"
    "  --plot FILE.png    also sweep input sizes from 4 KiB up by x4 and draw\n"
    "                     GB/s against size with gnuplot\n"
    "  --max-size BYTES   largest size of the sweep (default 1Gi, at most\n"
    "                     2Gi)\n"
    "  --copy-gbps X      a bus bandwidth to compare with (e.g. a GPU's\n"
    "                     host-to-device copy rate from bench/cl_copy_probe)\n"
    "  --structured       instead: reductions per axis and per group\n"
    "                     (--axis 0 and -1, --by) on --size bytes of\n"
    "                     float32, each beside the flat sum of the same\n"
    "                     bytes (ratio xflat); the first --devices spec\n"
    "  --resident         instead: on each OpenCL device, the --ops rows\n"
    "                     (but dot) on data already in device memory\n"
    "                     (eg_reduce_cl_buffer) beside host memory\n"
    "                     (eg_reduce), over a read probe's device-memory\n"
    "                     GB/s; with --json the same figures as one JSON\n"
    "                     object\n"
    "  --file DIR         instead: files in the page cache.  Writes two\n"
    "                     float32 .npy files of --size bytes in DIR, one in\n"
    "                     64 MiB writes and one in 4 KiB writes, and\n"
    "                     measures in rounds, on each: the page-cache roof\n"
    "                     (pread into 256 KiB and 1 MiB buffers, mmap with\n"
    "                     MADV_POPULATE_READ; every core) and whole-process\n"
    "                     'edgegrid reduce --ops sum' and 'edgegrid reduce';\n"
    "                     ratios are medians of per-round ratios.  --reps\n"
    "                     sets the rounds; use --size 4Gi for the goals\n"
    "  -h, --help         this text\n"
    "\n"
    "numpy runs in /usr/bin/python3 from a .npy file in /dev/shm; without\n"
    "python3 or numpy its columns are skipped with a note.\n"
    "\n"
    "exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n";

static const char default_ops[] =
    "sum,min,max,l1,l2,mean,std,argmin,argmax,dot,fused";

enum {
    OPT_SIZE = 256, OPT_DTYPE, OPT_OPS, OPT_DEVICES, OPT_MODE, OPT_REPS,
    OPT_JSON, OPT_PLOT, OPT_MAX_SIZE, OPT_COPY, OPT_FILE, OPT_RESIDENT,
    OPT_STRUCTURED
};

typedef struct cmd_args {
    bench_args b;
    const char *ops;
    int json;
    const char *file_dir;  /* --file: the page-cache bench, in this dir */
    int resident;          /* --resident: data in device memory */
    int structured;        /* --structured: per axis and per group */
} cmd_args;

/* One word of --ops: an op name, or "fused" for the default op set. */
static int parse_row(const char *word, bench_row_spec *row)
{
    eg_error err = {0};
    unsigned ops = 0;

    if (strcmp(word, "fused") == 0) {
        snprintf(row->name, sizeof row->name, "fused");
        row->ops = EG_OPS_DEFAULT;
        row->op = EG_OP_COUNT_ALL;
        return 0;
    }
    if (eg_ops_parse(word, &ops, &err) != EG_OK || ops == 0)
        return -1;
    for (int op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (ops == EG_OPS_BIT(op)) {
            snprintf(row->name, sizeof row->name, "%s", eg_op_name((eg_op)op));
            row->ops = ops;
            row->op = (eg_op)op;
            return 0;
        }
    }
    return -1;
}

static int parse_ops(const char *list, bench_args *b)
{
    char word[32];
    const char *p = list;

    b->nrows = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        bench_row_spec row;
        int dup = 0;
        if (n == 0 || n >= sizeof word)
            return cli_usage("bench", "--ops: '%s' is not a list of ops "
                             "and 'fused'", list);
        memcpy(word, p, n);
        word[n] = '\0';
        if (parse_row(word, &row) != 0)
            return cli_usage("bench", "--ops: unknown op '%s' (count sum "
                             "mean min max argmin argmax var std l1 l2 dot "
                             "fused)", word);
        for (size_t i = 0; i < b->nrows; i++)
            dup |= strcmp(b->rows[i].name, row.name) == 0;
        if (!dup) {
            if (b->nrows == BENCH_MAX_ROWS)
                return cli_usage("bench", "--ops: more than %d entries",
                                 BENCH_MAX_ROWS);
            b->rows[b->nrows++] = row;
        }
        p += n;
        if (*p == '\0')
            return CLI_EXIT_OK;
        p++;
    }
}

static int parse_size(const char *opt, const char *arg, uint64_t *out)
{
    if (cli_parse_count(arg, out) != 0 || *out == 0)
        return cli_usage("bench", "%s: '%s' is not a positive byte count "
                         "(such as 1048576, 1e9 or 256Mi)", opt, arg);
    return CLI_EXIT_OK;
}

static int parse_option(int c, const char *arg, void *ctx)
{
    cmd_args *a = ctx;
    eg_error err = {0};
    double v;

    switch (c) {
    case OPT_SIZE: return parse_size("--size", arg, &a->b.size);
    case OPT_FILE:
        if (arg[0] == '\0')
            return cli_usage("bench", "--file: empty directory name");
        a->file_dir = arg;
        return CLI_EXIT_OK;
    case OPT_RESIDENT:
        a->resident = 1;
        return CLI_EXIT_OK;
    case OPT_STRUCTURED:
        a->structured = 1;
        return CLI_EXIT_OK;
    case OPT_MAX_SIZE: return parse_size("--max-size", arg, &a->b.max_size);
    case OPT_DTYPE:
        if (eg_dtype_parse(arg, &a->b.dtype, &err) != EG_OK)
            return cli_usage("bench", "--dtype: unknown dtype '%s'", arg);
        return CLI_EXIT_OK;
    case OPT_OPS: a->ops = arg; return CLI_EXIT_OK;
    case OPT_DEVICES:
        if (arg[0] == '\0' || strlen(arg) >= BENCH_SPEC_MAX)
            return cli_usage("bench", "--devices: '%s' is not a device "
                             "selection", arg);
        if (a->b.nspecs == BENCH_MAX_CONFIGS)
            return cli_usage("bench", "--devices: at most %d selections",
                             BENCH_MAX_CONFIGS);
        a->b.specs[a->b.nspecs++] = arg;
        return CLI_EXIT_OK;
    case OPT_MODE:
        if (cli_parse_mode(arg, &a->b.mode) != 0)
            return cli_usage("bench", "--mode: '%s' is not fast or exact", arg);
        return CLI_EXIT_OK;
    case OPT_REPS:
        if (cli_parse_uint(arg, &a->b.reps) != 0 || a->b.reps == 0 ||
            a->b.reps > 100000)
            return cli_usage("bench", "--reps: '%s' is not a count from 1 "
                             "to 100000", arg);
        return CLI_EXIT_OK;
    case OPT_JSON: a->json = 1; return CLI_EXIT_OK;
    case OPT_PLOT:
        if (arg[0] == '\0')
            return cli_usage("bench", "--plot: empty file name");
        a->b.plot = arg;
        return CLI_EXIT_OK;
    case OPT_COPY:
        if (cli_parse_double(arg, &v) != 0 || v <= 0)
            return cli_usage("bench", "--copy-gbps: '%s' is not a positive "
                             "number", arg);
        a->b.copy_gbps = v;
        return CLI_EXIT_OK;
    default: return CLI_EXIT_USAGE;
    }
}

/* What no single option can judge. */
static int check_args(cmd_args *a)
{
    size_t es = eg_dtype_size(a->b.dtype);
    int rc = parse_ops(a->ops, &a->b);

    if (rc != CLI_EXIT_OK)
        return rc;
    if (a->b.size % es != 0)
        return cli_usage("bench", "--size: %llu bytes is not a whole number "
                         "of %s elements (%zu bytes each)",
                         (unsigned long long)a->b.size,
                         eg_dtype_name(a->b.dtype), es);
    if (a->b.max_size > ((uint64_t)2 << 30) || a->b.max_size < 4096)
        return cli_usage("bench", "--max-size: from 4Ki to 2Gi (the sweep "
                         "runs from 4 KiB to 2 GiB)");
    if (a->b.plot != NULL && !bench_plot_available()) {
        cli_errorf("bench: --plot needs gnuplot (Debian package gnuplot-nox)");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int parse_args(int argc, char **argv, cmd_args *a)
{
    static const struct option longopts[] = {
        {"size", required_argument, NULL, OPT_SIZE},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"ops", required_argument, NULL, OPT_OPS},
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"mode", required_argument, NULL, OPT_MODE},
        {"reps", required_argument, NULL, OPT_REPS},
        {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"copy-gbps", required_argument, NULL, OPT_COPY},
        {"file", required_argument, NULL, OPT_FILE},
        {"resident", no_argument, NULL, OPT_RESIDENT},
        {"structured", no_argument, NULL, OPT_STRUCTURED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_getopts("bench", bench_help, argc, argv, longopts,
                         parse_option, a);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (optind < argc)
        return cli_usage("bench", "unexpected argument '%s'", argv[optind]);
    return check_args(a);
}

/* --file: the page-cache bench (bench_file.h). */
static int bench_files(const cmd_args *a)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_errorf("bench: cannot find the edgegrid program "
                   "(/proc/self/exe)");
        return CLI_EXIT_FAIL;
    }
    self[n] = '\0';
    struct stat sb;
    if (stat(a->file_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_usage("bench", "--file: '%s' is not a directory",
                         a->file_dir);
    bench_file_report *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cli_errorf("bench: out of memory");
        return CLI_EXIT_FAIL;
    }
    int rc = bench_file_run(a->file_dir, a->b.size, a->b.reps, self,
                            a->b.verbose, r);
    if (rc == 0) {
        if (a->json)
            bench_file_json(stdout, r);
        else
            bench_file_table(stdout, r);
    }
    free(r);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_bench(int argc, char **argv)
{
    cmd_args a;
    bench_report *r;
    char err[512];
    int rc;

    memset(&a, 0, sizeof a);
    a.b.size = (uint64_t)1 << 30;
    a.b.max_size = (uint64_t)1 << 30;
    a.b.dtype = EG_F32;
    a.b.reps = 5;
    a.b.mode = EG_MODE_FAST;
    a.ops = default_ops;
    rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;
    a.b.verbose = isatty(STDERR_FILENO);
    if (a.file_dir != NULL)
        return bench_files(&a);
    if (a.structured)
        return bench_struct_run(&a.b, a.json, stdout);
    if (a.resident)
        return bench_resident_run(&a.b, a.json, stdout);

    /* The report holds every cell of every row: too big for the stack. */
    if ((r = calloc(1, sizeof *r)) == NULL) {
        cli_errorf("bench: out of memory");
        return CLI_EXIT_FAIL;
    }
    rc = bench_run(&a.b, r);
    if (rc == CLI_EXIT_OK && a.b.plot != NULL &&
        bench_plot_draw(r, a.b.plot, err, sizeof err) != 0) {
        cli_errorf("bench: %s", err);
        r->plot_path = NULL;
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK || r->roof.best.have) {
        if (a.json)
            bench_report_json(stdout, r);
        else
            bench_report_table(stdout, r);
    }
    free(r);
    return rc;
}
