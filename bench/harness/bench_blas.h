/* bench_blas.h - the OpenBLAS figures of `edgegrid bench`: ?asum for l1,
 * ?nrm2 for l2, ?dot for dot and OpenBLAS's ?sum extension for sum, on the
 * same in-memory arrays, through the CBLAS interface of libopenblas.so.0,
 * loaded at run time.  Without it every figure is simply absent. */
#ifndef EG_HOST_BENCH_BLAS_H
#define EG_HOST_BENCH_BLAS_H

#include <stddef.h>

#include "bench.h"

/* OpenBLAS, loaded; its threads run while it is open. */
typedef struct bench_blas bench_blas;

/* Loads OpenBLAS; NULL when it cannot, with the reason in why. */
bench_blas *bench_blas_open(char *why, size_t len);
/* Unloads it (which stops its threads) and sets *b to NULL. */
void bench_blas_close(bench_blas **b);

/* OpenBLAS's build line ("OpenBLAS 0.3.21 DYNAMIC_ARCH ... SkylakeX") and
 * thread count. */
void bench_blas_config(const bench_blas *b, char *buf, size_t len,
                       int *threads);

/* The routine measured for `op` on `t` ("sasum"), or NULL when there is
 * none (integer dtypes, ops BLAS does not have). */
const char *bench_blas_routine(eg_dtype t, eg_op op);

/* Times that routine over the first `count` elements of d as `plan` says.
 * Returns 0, or -1 when there is no routine (or OpenBLAS lacks it, or no
 * memory for the times); `fig` is then unmeasured. */
int bench_blas_measure(const bench_blas *b, const bench_data *d,
                       uint64_t count, eg_op op, const bench_plan *plan,
                       bench_figure *fig);

#endif
