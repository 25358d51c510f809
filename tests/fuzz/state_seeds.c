// fuzz-sources: engine/lanes/lanes_fast.c engine/lanes/lanes_avx512.c engine/lanes/lanes_avx2.c engine/lanes/lanes_exact.c engine/lanes/lanes_exact_avx512.c engine/lanes/lanes_host.c engine/state/exact_chunk.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
/* state_seeds.c - writes seeds for fuzz_state: real partial states as the
 * engine encodes them (fast and exact, floats and integers, NaN and
 * infinities, empty), each behind the 4 parameter bytes the harness reads
 * first.  tests/fuzz/run.sh builds and runs it before every fuzz_state run,
 * so the seeds always speak this build's wire format; the copies committed
 * in corpus/state were written by it too (test_regressions.c checks they
 * still decode):
 *
 *     FUZZ_ONLY=state FUZZ_SECONDS=1 tests/fuzz/run.sh
 *     build-fuzz/state_seeds tests/fuzz/corpus/state
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "state.h"

/* One chunk of n elements through the host lanes into a state. */
static void reduce(const void *x, uint64_t n, eg_dtype t, unsigned groups,
                   eg_state *s)
{
    uint64_t *words =
        calloc(eg_lane_count(n) + 1, eg_lane_words(groups) * sizeof *words);
    if (!words)
        exit(1);
    eg_lanes_any(x, x, n, t, groups, words);
    eg_chunk_state_any(words, x, x, n, 0, t, groups, s);
    free(words);
}

static void put(const char *dir, const char *name, const uint8_t params[4],
                const eg_state *s)
{
    size_t len = eg_state_encoded_size();
    uint8_t *buf = malloc(4 + len);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!buf || !f || eg_state_encode(s, buf + 4, len) != len) {
        fprintf(stderr, "state_seeds: cannot write %s\n", path);
        exit(1);
    }
    memcpy(buf, params, 4);
    if (fwrite(buf, 1, 4 + len, f) != 4 + len || fclose(f) != 0)
        exit(1);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: state_seeds DIR\n");
        return 2;
    }
    const uint8_t every_op[4] = {0xff, 0x0f, 0, 1};
    const uint8_t omit_ddof[4] = {0xff, 0x0f, 1, 3};
    eg_state s;

    /* 1e150: large, yet its square (var, l2) stays finite */
    double f[] = {1.5, NAN, -INFINITY, 4.25, 1e-310, 1e150, -2.0};
    reduce(f, 7, EG_F64, EG_G_ALL, &s);
    put(argv[1], "f64-fast-specials", every_op, &s);

    double g[] = {1e9 + 0.5, 1e9 - 0.25, 3.0, -7.5};
    reduce(g, 4, EG_F64, EG_G_ALL | EG_G_EXACT, &s);
    put(argv[1], "f64-exact", omit_ddof, &s);

    int64_t i[] = {INT64_MAX, INT64_MAX, -3, 0, 5};
    reduce(i, 5, EG_I64, EG_G_ALL, &s);
    put(argv[1], "i64-overflowing-sum", every_op, &s);

    eg_state_init(&s, EG_F32, EG_G_MINMAX);
    put(argv[1], "f32-empty", omit_ddof, &s);

    /* l1 and dot alone: no sum (EG_G_NO_SUM) */
    float h[] = {2.5f, -1.0f, NAN, 8.0f};
    reduce(h, 4, EG_F32, EG_G_L1 | EG_G_DOT | EG_G_NO_SUM, &s);
    put(argv[1], "f32-no-sum", every_op, &s);
    return 0;
}
