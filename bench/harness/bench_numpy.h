/* bench_numpy.h - the numpy figures of `edgegrid bench`: the same bytes,
 * written as .npy files in /dev/shm, loaded into memory by /usr/bin/python3
 * and reduced there, each op timed with time.perf_counter after a warm-up,
 * median of the repetitions.  No python3 or no numpy is not an error: the
 * figures are then absent and a note says why. */
#ifndef EG_HOST_BENCH_NUMPY_H
#define EG_HOST_BENCH_NUMPY_H

#include <stddef.h>

#include "bench.h"

#define BENCH_PYTHON "/usr/bin/python3"

/* One timing asked of numpy: an op (or "fused": count, sum, mean, min, max
 * and std one after the other, numpy's way to the default op set) over the
 * first `count` elements. */
typedef struct bench_numpy_job {
    char op[16];
    uint64_t count;
    bench_figure fig;   /* filled when numpy ran it */
} bench_numpy_job;

/* 1 when numpy has a counterpart of `op` (a row name of the bench). */
int bench_numpy_has(const char *op);

/* Runs every job in one python3 process and fills their figures; the files
 * are removed before it returns.  Returns 0 when numpy ran, or -1 when the
 * numpy figures are skipped, with `note` saying why. */
int bench_numpy_run(const bench_data *d, bench_numpy_job *jobs, size_t njobs,
                    const bench_plan *plan, char *version, size_t vlen,
                    char *note, size_t note_len);

#endif
