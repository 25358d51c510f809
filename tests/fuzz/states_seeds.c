// fuzz-sources: engine/state/states_wire.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
/* states_seeds.c - writes seeds for fuzz_states: containers of 1, 3 and 8
 * states as the engine encodes them (fast ones compact, exact ones full),
 * so the seeds follow this build's formats.  tests/fuzz/run.sh runs it before every
 * fuzz_states run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "states_wire.h"

static void put(const char *dir, const char *name, const eg_state *s,
                uint32_t n)
{
    size_t len = eg_states_size_of(s, n);
    uint8_t *buf = malloc(len);
    char path[4096];
    snprintf(path, sizeof path, "%s/seed_%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!buf || !f || eg_states_encode(s, n, buf, len) != len ||
        fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "states_seeds: cannot write %s\n", path);
        exit(1);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: states_seeds DIR\n");
        return 2;
    }
    eg_state s[3];
    for (int i = 0; i < 3; i++) {
        eg_state_init(&s[i], EG_F32, EG_G_MINMAX | EG_G_VAR);
        s[i].n = s[i].vn = 10u + (unsigned)i;
        s[i].sum_s = 1.5 * i;
        s[i].m2 = 2.0;
        s[i].argmin = (uint64_t)i;
        s[i].argmax = 9;
    }
    put(argv[1], "one", s, 1);
    put(argv[1], "three", s, 3);
    eg_state e;
    eg_state_init(&e, EG_F64, EG_G_MINMAX | EG_G_EXACT);
    put(argv[1], "exact_empty", &e, 1);
    /* a structured task's many short segments, compact */
    eg_state many[8];
    for (int i = 0; i < 8; i++) {
        many[i] = s[i % 3];
        many[i].argmin = many[i].argmax = (uint64_t)(64 * i + 3);
    }
    put(argv[1], "eight_compact", many, 8);
    eg_state ex3[3] = {e, e, e};
    put(argv[1], "exact_three", ex3, 3);
    return 0;
}
