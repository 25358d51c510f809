/* bench_struct.h - `edgegrid bench --structured`: reductions per axis and
 * per group (eg_reduce_structured) beside edgegrid's flat sum of the same
 * bytes, in one run, as a table or one JSON object (bench/README.md). */
#ifndef EG_HOST_BENCH_STRUCT_H
#define EG_HOST_BENCH_STRUCT_H

#include <stdio.h>

#include "bench_run.h"

/* Measures every case on --size bytes of float32 (--devices: the first
 * spec, else every device) and prints them to f; a CLI exit status. */
int bench_struct_run(const bench_args *a, int json, FILE *f);

#endif
