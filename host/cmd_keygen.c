/* cmd_keygen.c - `edgegrid keygen -o NAME`: a CURVE key pair for the grid,
 * as NAME.pub and NAME.secret. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "curve.h"

static const char keygen_help[] =
    "usage: edgegrid keygen -o NAME\n"
    "\n"
    "Writes a fresh CURVE key pair for the grid: NAME.pub, the public key\n"
    "(shareable), and NAME.secret, the secret key (created with mode 0600;\n"
    "keep it on its box).  Both are Z85 text, one key per file.  Refuses to\n"
    "overwrite either file.\n"
    "\n"
    "  A coordinator:  edgegrid keygen -o coord\n"
    "                  edgegrid coordinator --curve-secret coord.secret\n"
    "                                       --allow workers/ ...\n"
    "  A worker:       edgegrid keygen -o box7   (box7.pub goes into the\n"
    "                  coordinator's workers/ directory; coord.pub to the "
    "box)\n"
    "                  edgegrid worker --curve-secret box7.secret\n"
    "                                  --server-key coord.pub ...\n"
    "\n"
    "options:\n"
    "  -o, --output NAME    the files' path without .pub / .secret\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 written, 1 runtime failure, 2 bad usage (including a\n"
    "file that exists).\n";

int cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = NULL;
    int c;
    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(keygen_help, stdout);
            return CLI_EXIT_OK;
        case 'o':
            name = optarg;
            break;
        default:
            return cli_getopt_error("keygen", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
    if (!name || name[0] == '\0')
        return cli_usage("keygen", "needs -o NAME (writes NAME.pub and "
                                   "NAME.secret)");
    eg_curve_keys k;
    eg_error err = {0};
    if (eg_curve_keygen(name, &k, &err) != EG_OK)
        return cli_engine_error(&err);
    printf("wrote %s.pub (public key %s) and %s.secret (secret key, mode "
           "0600)\n",
           name, k.public_key, name);
    eg_curve_wipe(&k, sizeof k);
    return CLI_EXIT_OK;
}
