// fuzz-sources: engine/state/states_wire.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
// fuzz-max-len: 16384
/* fuzz_states.c - libFuzzer harness for the container of partial states
 * (engine/state/states_wire.c): what a grid RESULT carries, one state per
 * output element of a structured task.
 *
 * The input is copied to an allocation of exactly its size (so
 * AddressSanitizer sees any read past the end) and checked with a bound of
 * 8 states.  A refused container must leave one printable line starting
 * "states: " and no count.  An accepted one must hold 1..8 states that
 * each decode, re-encode to exactly the input bytes, and survive what the
 * collector does with them: merge in order into the identity, and
 * finalize.  Build and run: tests/fuzz/run.sh (README.md next to this file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "states_wire.h"

#define MAX_STATES 8u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_message(const eg_error *err)
{
    check(strncmp(err->msg, "states: ", 8) == 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    eg_state *s = malloc(MAX_STATES * sizeof *s);
    eg_result *r = malloc(sizeof *r);
    check(copy && s && r);
    memcpy(copy, data, size);
    eg_error err;
    memset(&err, 0, sizeof err);
    uint32_t n = 12345;
    eg_status st = eg_states_check(copy, size, MAX_STATES, &n, &err);
    if (st != EG_OK) {
        check(st == EG_EINPUT && err.code == st && n == 0);
        check_message(&err);
    } else {
        check(n >= 1 && n <= MAX_STATES);
        check(size <= eg_states_encoded_size(n));
        for (uint32_t i = 0; i < n; i++)
            check(eg_states_get(copy, size, i, &s[i], &err) == EG_OK);
        /* compact exactly when no state is an exact one */
        check(size == eg_states_size_of(s, n));
        check(eg_states_get(copy, size, n, &s[0], &err) == EG_EINPUT);
        uint8_t *again = malloc(size);
        check(again != NULL);
        check(eg_states_encode(s, n, again, size) == size);
        check(memcmp(again, copy, size) == 0);
        free(again);
        eg_state acc;
        eg_state_init(&acc, s[0].dtype, s[0].groups);
        for (uint32_t i = 0; i < n; i++)
            if (s[i].dtype == acc.dtype && s[i].groups == acc.groups)
                eg_state_merge(&acc, &s[i]);
        memset(r, 0, sizeof *r);
        eg_status fs = eg_state_finalize(&acc, EG_OPS_DEFAULT, EG_NAN_OMIT, 1,
                                         r, &err);
        check(fs == EG_OK || fs == EG_EOVERFLOW);
    }
    free(r);
    free(s);
    free(copy);
    return 0;
}
