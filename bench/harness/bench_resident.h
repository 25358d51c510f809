/* bench_resident.h - `edgegrid bench --resident`: on each OpenCL device,
 * edgegrid on data already in device memory (eg_reduce_cl_buffer) beside
 * the same reduction of host memory (eg_reduce) and a read-probe kernel's
 * device-memory bandwidth, each as GB/s and as a ratio to that probe. */
#ifndef EG_HOST_BENCH_RESIDENT_H
#define EG_HOST_BENCH_RESIDENT_H

#include <stdio.h>

#include "bench_run.h"

/* Measures every row of `a` but dot (one buffer) on every OpenCL device
 * and prints one block per device to f, or with `json` one JSON object
 * with the same figures (bench/README.md).  Returns an exit status (0; 1
 * on an OpenCL or engine failure, after printing the one error line, and
 * then no JSON). */
int bench_resident_run(const bench_args *a, int json, FILE *f);

#endif
