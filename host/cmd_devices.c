/* cmd_devices.c - `edgegrid devices [--json]`: every device the engine can
 * use, OpenCL devices in platform order and the host backend last, with the
 * indices that `reduce --devices` takes. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "output.h"

static const char devices_help[] =
    "usage: edgegrid devices [--json]\n"
    "\n"
    "Lists the devices a reduction can run on: every OpenCL device, in\n"
    "platform order, then the host backend (vectorised C and OpenBLAS).\n"
    "The index column is what 'edgegrid reduce --devices 0,1' takes.\n"
    "No OpenCL platform is not an error: the list then holds only the host,\n"
    "and a note says why.\n"
    "\n"
    "options:\n"
    "  --json      one JSON object: {\"devices\": [...], \"notes\": \"...\"}\n"
    "  -h, --help  this text\n";

/* "125.3 GiB"; "-" when the backend does not report a size. */
static void fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
    if (bytes == 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f GiB",
                 (double)bytes / (1024.0 * 1024.0 * 1024.0));
}

static void print_table(const eg_device_info *d, size_t n, const char *notes)
{
    printf("%3s  %-5s  %4s  %10s  %10s  %-7s  %-4s  %s\n", "id", "type",
           "CUs", "global mem", "max alloc", "unified", "fp64",
           "platform / name");
    for (size_t i = 0; i < n; i++) {
        char gmem[32], amax[32];
        fmt_bytes(gmem, sizeof gmem, d[i].global_mem);
        fmt_bytes(amax, sizeof amax, d[i].max_alloc);
        printf("%3u  %-5s  %4u  %10s  %10s  %-7s  %-4s  %s / %s\n",
               d[i].index, eg_device_kind_name(d[i].kind), d[i].compute_units,
               gmem, amax, d[i].unified_memory ? "yes" : "no",
               d[i].fp64 ? "yes" : "no", d[i].platform, d[i].name);
    }
    output_notes(stdout, "", notes);
}

static void print_json(const eg_device_info *d, size_t n, const char *notes)
{
    fputs("{\"devices\": [", stdout);
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"index\": %u, \"type\": ", i ? ", " : "", d[i].index);
        json_string(stdout, eg_device_kind_name(d[i].kind));
        fputs(", \"platform\": ", stdout);
        json_string(stdout, d[i].platform);
        fputs(", \"name\": ", stdout);
        json_string(stdout, d[i].name);
        fputs(", \"driver\": ", stdout);
        json_string(stdout, d[i].driver);
        printf(", \"compute_units\": %u, \"global_mem\": %" PRIu64
               ", \"max_alloc\": %" PRIu64
               ", \"unified_memory\": %s, \"fp64\": %s}",
               d[i].compute_units, d[i].global_mem, d[i].max_alloc,
               d[i].unified_memory ? "true" : "false",
               d[i].fp64 ? "true" : "false");
    }
    fputs("], \"notes\": ", stdout);
    json_string(stdout, notes);
    fputs("}\n", stdout);
}

int cmd_devices(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;

    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': fputs(devices_help, stdout); return CLI_EXIT_OK;
        default: return cli_getopt_error("devices", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("devices", "unexpected argument '%s'", argv[optind]);

    eg_device_info *list = NULL;
    size_t n = 0;
    char notes[512] = "";
    eg_error err = {0};
    if (eg_devices_list(&list, &n, notes, sizeof notes, &err) != EG_OK) {
        free(list);
        return cli_engine_error(&err);
    }
    if (json)
        print_json(list, n, notes);
    else
        print_table(list, n, notes);
    free(list);
    return CLI_EXIT_OK;
}
