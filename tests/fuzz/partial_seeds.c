// fuzz-sources: engine/lanes/lanes_fast.c engine/lanes/lanes_avx512.c engine/lanes/lanes_avx2.c engine/lanes/lanes_exact.c engine/lanes/lanes_exact_avx512.c engine/lanes/lanes_host.c engine/state/exact_chunk.c engine/state/partial_wire.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
/* partial_seeds.c - writes seeds for fuzz_partial: real partials as
 * eg_reduce_partial writes them (fast and exact, floats and integers,
 * NaN, empty), alone and in pairs that merge.  tests/fuzz/run.sh builds
 * and runs it before every fuzz_partial run, so the seeds follow this
 * build's wire form. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "partial.h"
#include "state.h"

/* One chunk of n elements through the host lanes into a partial. */
static void partial(const void *x, uint64_t n, eg_dtype t, unsigned ops,
                    eg_mode mode, uint8_t *buf)
{
    unsigned groups = eg_groups_for_ops(ops);
    if (mode == EG_MODE_EXACT && eg_dtype_is_float(t))
        groups |= EG_G_EXACT;
    uint64_t *words =
        calloc(eg_lane_count(n) + 1, eg_lane_words(groups) * sizeof *words);
    eg_state s;
    eg_partial_head h = {mode, EG_NAN_PROPAGATE, ops, 1};
    if (!words)
        exit(1);
    eg_lanes_any(x, x, n, t, groups, words);
    eg_chunk_state_any(words, x, x, n, 0, t, groups, &s);
    free(words);
    if (eg_partial_encode(&h, &s, buf, eg_partial_size(), NULL) != EG_OK)
        exit(1);
}

static void put(const char *dir, const char *name, const uint8_t *a,
                const uint8_t *b)
{
    size_t n = eg_partial_size();
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, n, f) != n || (b && fwrite(b, 1, n, f) != n) ||
        fclose(f) != 0) {
        fprintf(stderr, "partial_seeds: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: partial_seeds DIR\n");
        return 2;
    }
    size_t n = eg_partial_size();
    uint8_t *a = malloc(n), *b = malloc(n);
    if (!a || !b)
        return 1;
    unsigned every = EG_OPS_BIT(EG_OP_COUNT_ALL) - 1;
    double f[] = {1.5, NAN, -INFINITY, 4.25, 1e-310, 1e150, -2.0};
    double g[] = {1e9 + 0.5, 1e9 - 0.25, 3.0, -7.5};
    partial(f, 7, EG_F64, every, EG_MODE_FAST, a);
    partial(g, 4, EG_F64, every, EG_MODE_FAST, b);
    put(argv[1], "f64-fast", a, NULL);
    put(argv[1], "f64-fast-pair", a, b);
    partial(g, 4, EG_F64, every, EG_MODE_EXACT, a);
    partial(g + 1, 3, EG_F64, every, EG_MODE_EXACT, b);
    put(argv[1], "f64-exact-pair", a, b);
    int64_t i[] = {INT64_MAX, INT64_MAX, -3, 0, 5};
    partial(i, 5, EG_I64, EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST, a);
    partial(i, 0, EG_I64, EG_OPS_BIT(EG_OP_SUM), EG_MODE_FAST, b);
    put(argv[1], "i64-sum-pair", a, b);
    free(b);
    free(a);
    return 0;
}
