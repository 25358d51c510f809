/* reduce_memory.c - the smallest complete use of libedgegrid: reduce an
 * array that already sits in memory.
 *
 *   cc reduce_memory.c $(pkg-config --cflags --libs edgegrid-static)
 *
 * Opens an engine on the default devices ($EDGEGRID_DEVICES, else all),
 * reduces one million floats with the default ops and prints sum, mean and
 * standard deviation.  Every fallible call fills an eg_error with one
 * readable line; eg_status_exit_code maps it to 1 (failure) or 2 (bad
 * input).
 */
#include <stdio.h>
#include <stdlib.h>

#include "edgegrid.h"

#define N 1000000u

int main(void)
{
    eg_engine *engine = NULL;
    eg_error err = {0};
    eg_reduce_opts opts;
    eg_result res;
    int rc = 0;

    float *x = malloc(N * sizeof *x);
    if (x == NULL) {
        fprintf(stderr, "reduce_memory: out of memory\n");
        return 1;
    }
    /* A sawtooth in [0, 1): its mean is 0.4995 and its std about 0.2887. */
    for (unsigned i = 0; i < N; i++)
        x[i] = (float)(i % 1000u) / 1000.0f;

    if (eg_engine_open(&engine, NULL, &err) != EG_OK)
        goto fail;
    eg_reduce_opts_init(&opts);  /* EG_OPS_DEFAULT, fast mode */
    if (eg_reduce(engine, x, NULL, N, EG_F32, &opts, &res, &err) != EG_OK)
        goto fail;

    printf("sum  %.17g\n", res.value[EG_OP_SUM].v.f);
    printf("mean %.17g\n", res.value[EG_OP_MEAN].v.f);
    printf("std  %.17g\n", res.value[EG_OP_STD].v.f);
    if (res.notes[0] != '\0')
        printf("note: %s\n", res.notes);
    goto out;

fail:
    fprintf(stderr, "reduce_memory: %s\n", err.msg);
    rc = eg_status_exit_code(err.code);
out:
    eg_engine_close(&engine);  /* harmless when the open failed */
    free(x);
    return rc;
}
