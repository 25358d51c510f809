// fuzz-sources: engine/state/sketch.c engine/state/sketch_wire.c engine/state/sketch_avx512.c engine/state/sketch_portable.c engine/state/hist.c engine/state/hist_wire.c engine/state/hist_avx512.c engine/state/hist_portable.c engine/quant/select_wire.c engine/core/error.c engine/core/dtype.c
/* sketch_seeds.c - writes seeds for fuzz_sketch into the folder given: a
 * few sketches (empty, signed with zeros and infinities, coarse), a
 * histogram state of the harness's plan and a selection pass's counts, in
 * this build's wire forms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hist.h"
#include "qselect.h"
#include "sketch.h"

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        exit(1);
    fwrite(b, 1, n, f);
    fclose(f);
}

static void sketch_seed(const char *dir, const char *name, unsigned k,
                        const double *x, size_t n)
{
    eg_sketch s;
    eg_sketch_init(&s, k);
    if (eg_sketch_add(&s, x, n, EG_F64, NULL) != EG_OK)
        exit(1);
    size_t len = eg_sketch_encoded_size(&s);
    uint8_t *b = malloc(len);
    eg_sketch_encode(&s, b);
    put(dir, name, b, len);
    free(b);
    eg_sketch_free(&s);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const double mixed[] = {1.0, -2.5,   0.0,   INFINITY, -INFINITY,
                            NAN, 1e-310, 3e300, -7.0,     1.0};
    sketch_seed(argv[1], "empty", 6, mixed, 0);
    sketch_seed(argv[1], "mixed", 6, mixed, 10);
    sketch_seed(argv[1], "coarse", 0, mixed, 10);
    eg_hist_plan p;
    eg_hist_state h;
    if (eg_hist_plan_make(&p, EG_F64, 4, 1, 0.0, 1.0, 0, 0, 0, NULL) != EG_OK ||
        eg_hist_state_init(&h, 4, NULL) != EG_OK)
        return 1;
    const double v[] = {0.1, 0.5, 0.9, 1.0, 2.0, -1.0, NAN};
    eg_hist_add(&p, &h, v, 7);
    size_t len = eg_hist_encoded_size(&p);
    uint8_t *b = malloc(len);
    eg_hist_encode(&p, &h, b);
    put(argv[1], "hist", b, len);
    free(b);
    eg_hist_state_free(&h);
    eg_hist_plan_free(&p);
    /* a selection pass of 8-bit keys (256 counts) */
    uint64_t counts[256] = {0};
    counts[3] = 5;
    counts[200] = 1;
    eg_select_counts sc = {EG_U8, 8, 0, 0, 0, counts};
    len = eg_select_counts_size(EG_U8);
    b = malloc(len);
    eg_select_counts_encode(&sc, b);
    put(argv[1], "select", b, len);
    free(b);
    return 0;
}
