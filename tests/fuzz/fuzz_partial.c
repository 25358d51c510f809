// fuzz-sources: engine/state/partial_wire.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
/* fuzz_partial.c - libFuzzer harness for the public partial's decoder and
 * its merge (engine/state/partial_wire.c), the code that reads the states
 * Python users (eg.merge, eg.finalize) and Dask workers hand back.
 *
 * Input: one partial (finalized), or two partials back to back (merged,
 * then the merge finalized).  Each is copied to an allocation of exactly
 * its size, so AddressSanitizer sees any read past the end.  A refused
 * input must leave EG_EINPUT and one printable line naming the partial; an
 * integer sum past 64 bits is the one error finalize may give an accepted
 * one.  Nothing may crash or trip UBSan.
 * Build and run: tests/fuzz/run.sh (README.md next to this file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_line(const eg_error *err)
{
    check(err->msg[0] != 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void finalize(const uint8_t *p, size_t len)
{
    eg_result r;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_partial_finalize(p, len, &r, &err);
    if (st == EG_OK) {
        check(r.ndim == 1 && r.shape[0] == r.elements);
        for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
            check(r.value[op].kind <= EG_NUM_U64);
        return;
    }
    check(err.code == st && (st == EG_EINPUT || st == EG_EOVERFLOW));
    check_line(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = eg_partial_size();
    if (size != 2 * n) {
        uint8_t *one = malloc(size ? size : 1);
        check(one != NULL);
        memcpy(one, data, size);
        finalize(one, size);
        free(one);
        return 0;
    }
    uint8_t *a = malloc(n), *b = malloc(n), *out = malloc(n);
    check(a && b && out);
    memcpy(a, data, n);
    memcpy(b, data + n, n);
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_partial_merge(a, b, n, out, &err);
    if (st == EG_OK) {
        finalize(out, n);
        /* A state merged with itself doubles its counts and sums, which a
         * valid state near the limits cannot take: then a refusal with a
         * reason, never a wrapped count. */
        st = eg_partial_merge(out, out, n, out, &err);
        if (st == EG_OK) {
            finalize(out, n);
        } else {
            check((st == EG_EINPUT || st == EG_EOVERFLOW) && err.code == st);
            check_line(&err);
        }
    } else {
        check(st == EG_EINPUT && err.code == st);
        check_line(&err);
    }
    free(out);
    free(b);
    free(a);
    return 0;
}
