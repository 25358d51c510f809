/* cmd_reduce.c - `edgegrid reduce`: parses the job, opens an engine on the
 * chosen devices, reduces one file (or stdin) and prints the result.  All
 * numerical work is the engine's; this file only checks what the user typed
 * and passes it on. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "output.h"
#include "progress.h"
#include "quant_cli.h"
#include "reduce_structured.h"

static const char reduce_help[] =
    "usage: edgegrid reduce [options] FILE|-\n"
    "\n"
    "Reduces every element of a .npy file (any shape, C or Fortran order, any\n"
    "byte order), a raw binary file (--raw --dtype T) or stdin ('-').\n"
    "\n"
    "options:\n"
    "  --ops LIST         comma list of count sum mean min max argmin argmax\n"
    "                     var std l1 l2 dot (default count,sum,mean,min,max,std);\n"
    "                     results come in that canonical order; and median\n"
    "                     quantile approx_quantile hist (after them)\n"
    "  --devices SPEC     all (default: GPUs and the host backend for the\n"
    "                     CPU), opencl, cpu, gpu, host, or indices from\n"
    "                     'edgegrid devices' such as 0,1; without it the\n"
    "                     EDGEGRID_DEVICES environment variable, else all\n"
    "  --mode fast|exact  fast (default): |error| <= 2^-50 * sum|x|;\n"
    "                     exact: correctly rounded, the same bits anywhere\n"
    "  --nan propagate|omit\n"
    "                     propagate (default) as numpy; omit skips NaNs as\n"
    "                     numpy's nan-functions do\n"
    "  --ddof D           delta degrees of freedom of var and std (default 0)\n"
    "  --with Y.npy       second operand of dot (same dtype and length); only\n"
    "                     allowed when --ops lists dot\n"
    "  --raw              FILE is headerless binary in native byte order...\n"
    "  --dtype T          ...of this dtype: f32 f64 i8 u8 i16 u16 i32 u32 i64\n"
    "                     u64 (or float32 ...); only with --raw\n"
    QUANT_HELP
    "  --chunk ELEMS      elements per scheduled chunk, a multiple of 4096 up\n"
    "                     to 1Gi; a fixed value gives the same bits on any\n"
    "                     device set\n"
    "  --axis A           reduce along axis A only (an int or a comma list;\n"
    "                     negatives count from the end, as numpy); argmin and\n"
    "                     argmax take one axis\n"
    "  --keepdims         keep the reduced axes as 1s (with --axis)\n"
    "  --by KEYS.npy      one result per distinct integer key over the rows\n"
    "                     (axis 0), groups ascending; not with --axis\n"
    "                     median, quantile, approx_quantile and hist work\n"
    "                     per column and group too: quantile and\n"
    "                     approx_quantile are [q, ...] (numpy's q axis\n"
    "                     first), hist counts [..., bins]; with --range\n"
    "                     every column shares one set of edges [bins+1],\n"
    "                     without it each column takes its own min and max\n"
    "                     (edges [..., bins+1]), as numpy.histogram of that\n"
    "                     column alone\n"
    "  --shape R,C,...    the shape of raw input (with --raw)\n"
    "  -o RESULT.npz      write every op's result array (and the groups) for\n"
    "                     numpy.load; with --axis or --by\n"
    "  --json             print one JSON object instead of the table\n"
    "  --progress         show a progress bar on stderr (default: only when\n"
    "                     stderr is a terminal and the input exceeds 1 GiB)\n"
    "  --no-progress      never show it\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n";

enum {
    OPT_OPS = 256, OPT_DEVICES, OPT_MODE, OPT_NAN, OPT_DDOF, OPT_WITH,
    OPT_RAW, OPT_DTYPE, OPT_JSON, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_CHUNK,
    OPT_AXIS, OPT_KEEPDIMS, OPT_BY, OPT_SHAPE,
    OPT_QUANT /* .. OPT_QUANT + QUANT_OPT_COUNT - 1: quant_cli.h */
};

/* The largest --chunk, in elements. */
#define CHUNK_MAX (UINT64_C(1) << 30)

typedef struct reduce_args {
    eg_reduce_opts o;
    eg_input_opts in;
    eg_quant_opts q;      /* median, quantile, approx_quantile, hist */
    const char *devices;  /* NULL: let the engine read EDGEGRID_DEVICES */
    const char *path;
    const char *with;
    int have_dtype;
    int json;
    int progress;         /* -1 automatic, 0 off, 1 forced */
    structured_args s;    /* --axis, --keepdims, --by, --shape, -o */
} reduce_args;

static int parse_nan(const char *text, eg_nan_policy *out)
{
    if (strcmp(text, "propagate") == 0)
        *out = EG_NAN_PROPAGATE;
    else if (strcmp(text, "omit") == 0)
        *out = EG_NAN_OMIT;
    else
        return -1;
    return 0;
}

/* One option with its value; CLI_EXIT_OK or a usage error. */
static int parse_option(int c, const char *arg, void *ctx)
{
    reduce_args *a = ctx;
    eg_error err = {0};
    uint64_t chunk;

    switch (c) {
    case OPT_OPS:
        /* the engine's messages name --ops already */
        return quant_cli_ops("reduce", arg, &a->o.ops, &a->q);
    case OPT_DEVICES:
        /* The engine reads "" as "no choice made" (like an empty
         * EDGEGRID_DEVICES); typed on the command line it is a mistake. */
        if (arg[0] == '\0')
            return cli_usage("reduce", "--devices: empty device selection");
        a->devices = arg;
        return CLI_EXIT_OK;
    case OPT_MODE:
        if (cli_parse_mode(arg, &a->o.mode) != 0)
            return cli_usage("reduce", "--mode: '%s' is not fast or exact", arg);
        return CLI_EXIT_OK;
    case OPT_NAN:
        if (parse_nan(arg, &a->o.nan) != 0)
            return cli_usage("reduce", "--nan: '%s' is not propagate or omit",
                             arg);
        return CLI_EXIT_OK;
    case OPT_DDOF:
        if (cli_parse_uint(arg, &a->o.ddof) != 0)
            return cli_usage("reduce", "--ddof: '%s' is not a non-negative "
                             "integer", arg);
        return CLI_EXIT_OK;
    case OPT_WITH: a->with = arg; return CLI_EXIT_OK;
    case OPT_RAW: a->in.raw = 1; return CLI_EXIT_OK;
    case OPT_DTYPE:
        if (eg_dtype_parse(arg, &a->in.raw_dtype, &err) != EG_OK)
            return cli_usage("reduce", "--dtype: unknown dtype '%s'", arg);
        a->have_dtype = 1;
        return CLI_EXIT_OK;
    case OPT_CHUNK:
        /* Each device thread holds buffers of a chunk; past 1Gi elements
         * (8 GiB of f64) a chunk is a typo, and the buffer sizes would
         * overflow long before 2^64. */
        if (cli_parse_count(arg, &chunk) != 0 || chunk == 0 ||
            chunk % EG_LANE_ELEMS != 0 || chunk > CHUNK_MAX)
            return cli_usage("reduce", "--chunk: '%s' is not a positive "
                             "multiple of %u up to 1Gi", arg, EG_LANE_ELEMS);
        a->o.chunk_elems = chunk;
        return CLI_EXIT_OK;
    case OPT_AXIS:
        if (structured_parse_axes(arg, &a->s) != 0)
            return cli_usage("reduce", "--axis: '%s' is not an integer or a "
                             "comma list of integers", arg);
        return CLI_EXIT_OK;
    case OPT_KEEPDIMS: a->s.so.keepdims = 1; return CLI_EXIT_OK;
    case OPT_BY: a->s.by = arg; return CLI_EXIT_OK;
    case OPT_SHAPE:
        if (structured_parse_shape(arg, &a->s) != 0)
            return cli_usage("reduce", "--shape: '%s' is not a comma list of "
                             "element counts", arg);
        return CLI_EXIT_OK;
    case 'o': a->s.npz = arg; return CLI_EXIT_OK;
    case OPT_JSON: a->json = 1; return CLI_EXIT_OK;
    case OPT_PROGRESS: a->progress = 1; return CLI_EXIT_OK;
    case OPT_NO_PROGRESS: a->progress = 0; return CLI_EXIT_OK;
    default:
        if (c >= OPT_QUANT && c < OPT_QUANT + QUANT_OPT_COUNT)
            return quant_cli_option("reduce", c - OPT_QUANT, arg, &a->q);
        return CLI_EXIT_USAGE;
    }
}

/* Combinations that no single option can judge. */
static int check_args(const reduce_args *a)
{
    int dot = (a->o.ops & EG_OPS_BIT(EG_OP_DOT)) != 0;

    if (dot && a->with == NULL)
        return cli_usage("reduce", "dot needs --with Y.npy, the second operand");
    if (!dot && a->with != NULL)
        return cli_usage("reduce", "--with is only used by dot; add dot to --ops");
    if (a->in.raw && !a->have_dtype)
        return cli_usage("reduce", "--raw needs --dtype");
    if (!a->in.raw && a->have_dtype)
        return cli_usage("reduce", "--dtype applies only to --raw input (a .npy "
                         "file names its own dtype)");
    if (a->with != NULL && strcmp(a->path, "-") == 0 &&
        strcmp(a->with, "-") == 0)
        return cli_usage("reduce", "FILE and --with cannot both be stdin");
    if (a->s.by && a->s.have_axis)
        return cli_usage("reduce", "--by groups the rows (axis 0); it does "
                         "not take --axis");
    if (a->s.so.keepdims && !a->s.have_axis)
        return cli_usage("reduce", "--keepdims needs --axis");
    if (a->s.have_shape && !a->in.raw)
        return cli_usage("reduce", "--shape applies only to --raw input (a "
                         ".npy file names its own shape)");
    if (a->s.npz && !structured_wanted(&a->s))
        return cli_usage("reduce", "-o writes the arrays of --axis or --by");
    if (a->q.qops && dot)
        return cli_usage("reduce", "dot cannot be combined with median, "
                         "quantile, approx_quantile or hist");
    return quant_cli_check("reduce", &a->q);
}

static int parse_args(int argc, char **argv, reduce_args *a)
{
    static const struct option longopts[] = {
        {"ops", required_argument, NULL, OPT_OPS},
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"mode", required_argument, NULL, OPT_MODE},
        {"nan", required_argument, NULL, OPT_NAN},
        {"ddof", required_argument, NULL, OPT_DDOF},
        {"with", required_argument, NULL, OPT_WITH},
        {"raw", no_argument, NULL, OPT_RAW},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"chunk", required_argument, NULL, OPT_CHUNK},
        {"json", no_argument, NULL, OPT_JSON},
        {"axis", required_argument, NULL, OPT_AXIS},
        {"keepdims", no_argument, NULL, OPT_KEEPDIMS},
        {"by", required_argument, NULL, OPT_BY},
        {"shape", required_argument, NULL, OPT_SHAPE},
        {"output", required_argument, NULL, 'o'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        QUANT_LONGOPTS(OPT_QUANT),
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = cli_getopts_short("reduce", reduce_help, ":ho:", argc, argv,
                               longopts, parse_option, a);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (optind >= argc)
        return cli_usage("reduce", "missing FILE (a .npy file, or - for stdin)");
    if (optind + 1 < argc)
        return cli_usage("reduce", "unexpected argument '%s'", argv[optind + 1]);
    a->path = argv[optind];
    return check_args(a);
}

/* Size of the input on disk, for the automatic progress bar; 0 for stdin
 * or anything stat cannot size. */
static uint64_t input_bytes(const char *path)
{
    struct stat st;

    if (path == NULL || strcmp(path, "-") == 0 || stat(path, &st) != 0 ||
        st.st_size < 0)
        return 0;
    return (uint64_t)st.st_size;
}

/* Engine notes from opening (dropped devices, no platform) that the result's
 * own notes do not already repeat. */
static const char *extra_engine_notes(const eg_engine *e, const eg_result *r)
{
    const char *n = eg_engine_notes(e);

    if (n == NULL || n[0] == '\0' || strstr(r->notes, n) != NULL)
        return "";
    return n;
}

static int run(const reduce_args *a)
{
    eg_engine *engine = NULL;
    eg_error err = {0};
    eg_result res;
    eg_quant_result qres;
    eg_quant_opts q = a->q;
    quant_print qp = {&q, &qres};
    eg_reduce_opts o = a->o;
    progress bar;
    int show = a->progress < 0
                   ? progress_default(input_bytes(a->path) + input_bytes(a->with))
                   : a->progress;
    int rc = CLI_EXIT_OK;

    memset(&res, 0, sizeof res);
    memset(&qres, 0, sizeof qres);
    q.nan = o.nan;
    if (eg_engine_open(&engine, a->devices, &err) != EG_OK)
        return cli_engine_error(&err);
    if (show) {
        progress_init(&bar, stderr);
        o.progress = 1;
        o.progress_fn = progress_update;
        o.progress_ctx = &bar;
    }
    if (structured_wanted(&a->s)) {
        rc = structured_run(engine, a->path, a->with, &a->in, &o, &q, &a->s,
                            a->json);
        if (show)
            progress_finish(&bar);
        goto out;
    }
    eg_status st =
        q.qops ? eg_reduce_file_quant(engine, a->path, &a->in, &o, &q, &res,
                                      &qres, &err)
               : eg_reduce_file(engine, a->path, a->with, &a->in, &o, &res,
                                &err);
    if (show)
        progress_finish(&bar);  /* before any message, so lines stay whole */
    if (st != EG_OK) {
        rc = cli_engine_error(&err);
        goto out;
    }
    if (a->json) {
        /* stdout holds only the JSON object; notes go to stderr. */
        output_json_ext(stdout, a->path, &res, quant_print_json, &qp);
        output_notes(stderr, "edgegrid: ", res.notes);
        output_notes(stderr, "edgegrid: ", extra_engine_notes(engine, &res));
    } else {
        output_table_ext(stdout, a->path, &res, quant_print_table, &qp);
        output_notes(stdout, "", extra_engine_notes(engine, &res));
    }
out:
    eg_quant_result_free(&qres);
    eg_engine_close(&engine);
    return rc;
}

int cmd_reduce(int argc, char **argv)
{
    reduce_args a;

    memset(&a, 0, sizeof a);
    eg_reduce_opts_init(&a.o);
    eg_quant_opts_init(&a.q);
    a.progress = -1;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;
    /* The library reads files with pread unless told otherwise: a cut
     * under a map is a SIGBUS it cannot answer.  This program answers it
     * (fault_guard.c), so it lets the engine time both ways into a large
     * file and take the faster, and map what --axis and --by would copy
     * whole (README, "How files are read"); a value the user set stands. */
    setenv("EDGEGRID_INGEST", "auto", 0);
    return run(&a);
}
