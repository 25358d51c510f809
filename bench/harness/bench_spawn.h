/* bench_spawn.h - running the helper programs of `edgegrid bench` (python3
 * for numpy, gnuplot for the plot): no shell, so no quoting of paths, and
 * the child's stdout captured for parsing. */
#ifndef EG_HOST_BENCH_SPAWN_H
#define EG_HOST_BENCH_SPAWN_H

#include <stddef.h>

/* Runs argv[0] (searched in PATH when it has no '/') with argv, stdin from
 * /dev/null and stderr shared with ours.  When `out` is non-NULL the
 * child's stdout is collected into *out (malloc'ed, NUL-terminated; the
 * caller frees it), else the child writes to our stdout.  Returns the exit
 * status (0-255), 128 + signal when it was killed, 127 when it could not be
 * started, or -1 when no process could be made (errno set). */
int bench_spawn(char *const argv[], char **out);

/* 1 when `name` (a path, or a bare name looked up in PATH) names an
 * executable file. */
int bench_have_program(const char *name);

#endif
