/* bench_machine.c - the CPU model and memory size, from /proc (Linux, where
 * this bench runs); anything else reports "unknown CPU". */
#include <stdio.h>
#include <string.h>

#include "bench_machine.h"

/* The value of the first "name<spaces>: value" line of a /proc file. */
static int proc_field(const char *path, const char *name, char *out,
                      size_t len)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t n = strlen(name);
    int found = 0;

    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, name, n) != 0 || strspn(line + n, " \t") +
                                                   n >= strlen(line) ||
            line[n + strspn(line + n, " \t")] != ':')
            continue;
        const char *v = line + n + strspn(line + n, " \t") + 1;
        v += strspn(v, " \t");
        snprintf(out, len, "%.*s", (int)strcspn(v, "\n"), v);
        found = 1;
    }
    fclose(f);
    return found;
}

void bench_machine(char *cpu, size_t len, uint64_t *mem_bytes)
{
    char kb[64];
    unsigned long long v = 0;

    if (!proc_field("/proc/cpuinfo", "model name", cpu, len))
        snprintf(cpu, len, "unknown CPU");
    *mem_bytes = 0;
    if (proc_field("/proc/meminfo", "MemTotal", kb, sizeof kb) &&
        sscanf(kb, "%llu", &v) == 1)
        *mem_bytes = (uint64_t)v * 1024u;
}
