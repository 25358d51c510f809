/* cmd_gen.c - `edgegrid gen`: writes a synthetic .npy data set.  The same
 * options always give the same bytes, so benchmarks and bug reports can name
 * their data by its command line. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define GEN_DEFAULT_COND 1e8

static const char gen_help[] =
    "usage: edgegrid gen --count N --dtype T [--dist uniform|normal|ill]\n"
    "                    [--cond C] [--seed S] -o FILE.npy\n"
    "\n"
    "Writes N elements of dtype T to FILE.npy (streaming, through a temporary\n"
    "name, so a failed run leaves nothing half-written).  The same options\n"
    "always give the same bytes.\n"
    "\n"
    "options:\n"
    "  -n, --count N     elements: 1000000, 1e6 or 256Mi (binary suffixes\n"
    "                    Ki Mi Gi Ti)\n"
    "  -t, --dtype T     f32 f64 i8 u8 i16 u16 i32 u32 i64 u64 (or numpy\n"
    "                    names: float32 ...)\n"
    "  --dist D          uniform (default), normal, or ill: an ill-conditioned\n"
    "                    sum whose condition number is --cond (f32, f64)\n"
    "  --cond C          target condition number for --dist ill (default 1e8)\n"
    "  --seed S          random seed (default 0)\n"
    "  -o, --output FILE where to write the .npy file\n"
    "  -h, --help        this text\n";

enum { OPT_DIST = 256, OPT_COND, OPT_SEED };

static int parse_dist(const char *text, eg_dist *out)
{
    static const struct {
        const char *name;
        eg_dist dist;
    } dists[] = {{"uniform", EG_DIST_UNIFORM},
                 {"normal", EG_DIST_NORMAL},
                 {"ill", EG_DIST_ILL}};

    for (size_t i = 0; i < sizeof dists / sizeof dists[0]; i++) {
        if (strcmp(text, dists[i].name) == 0) {
            *out = dists[i].dist;
            return 0;
        }
    }
    return -1;
}

typedef struct gen_args {
    eg_gen_opts o;
    const char *path;
    int have_count, have_dtype, have_cond;
} gen_args;

static int parse_args(int argc, char **argv, gen_args *a)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'},
        {"dtype", required_argument, NULL, 't'},
        {"dist", required_argument, NULL, OPT_DIST},
        {"cond", required_argument, NULL, OPT_COND},
        {"seed", required_argument, NULL, OPT_SEED},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    eg_error err = {0};
    int c;

    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, ":hn:t:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_parse_count(optarg, &a->o.count) != 0)
                return cli_usage("gen", "--count: '%s' is not an element count",
                                 optarg);
            a->have_count = 1;
            break;
        case 't':
            if (eg_dtype_parse(optarg, &a->o.dtype, &err) != EG_OK)
                return cli_usage("gen", "--dtype: unknown dtype '%s'", optarg);
            a->have_dtype = 1;
            break;
        case OPT_DIST:
            if (parse_dist(optarg, &a->o.dist) != 0)
                return cli_usage("gen", "--dist: '%s' is not uniform, normal or "
                                 "ill", optarg);
            break;
        case OPT_COND:
            if (cli_parse_double(optarg, &a->o.cond) != 0 || a->o.cond < 1.0)
                return cli_usage("gen", "--cond: '%s' is not a number >= 1",
                                 optarg);
            a->have_cond = 1;
            break;
        case OPT_SEED:
            if (cli_parse_count(optarg, &a->o.seed) != 0)
                return cli_usage("gen", "--seed: '%s' is not a non-negative "
                                 "integer", optarg);
            break;
        case 'o': a->path = optarg; break;
        case 'h': fputs(gen_help, stdout); return CLI_DONE;
        default: return cli_getopt_error("gen", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("gen", "unexpected argument '%s'", argv[optind]);
    if (!a->have_count)
        return cli_usage("gen", "--count is required");
    if (!a->have_dtype)
        return cli_usage("gen", "--dtype is required");
    if (a->path == NULL)
        return cli_usage("gen", "-o FILE is required");
    if (a->have_cond && a->o.dist != EG_DIST_ILL)
        return cli_usage("gen", "--cond applies only to --dist ill");
    return CLI_EXIT_OK;
}

int cmd_gen(int argc, char **argv)
{
    gen_args a = {.o = {.dist = EG_DIST_UNIFORM, .cond = GEN_DEFAULT_COND}};
    eg_error err = {0};

    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc == CLI_DONE ? CLI_EXIT_OK : rc;
    if (eg_gen_npy(a.path, &a.o, &err) != EG_OK)
        return cli_engine_error(&err);
    printf("wrote %s: %" PRIu64 " x %s (%" PRIu64 " bytes of data)\n", a.path,
           a.o.count, eg_dtype_numpy_name(a.o.dtype),
           a.o.count * (uint64_t)eg_dtype_size(a.o.dtype));
    return CLI_EXIT_OK;
}
