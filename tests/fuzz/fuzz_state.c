// fuzz-sources: engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
/* fuzz_state.c - libFuzzer harness for the partial-state decoder
 * (engine/state/state_wire.c), the code that reads every state a grid worker
 * sends back.
 *
 * Input layout: 4 bytes of finalize parameters (ops bits, NaN policy,
 * ddof), then the bytes handed to eg_state_decode.  The state bytes are
 * copied to an allocation of exactly their size, so AddressSanitizer sees
 * any read past the end.  A refused state must leave one printable line
 * starting "state: ".  An accepted state must re-encode to exactly the
 * input bytes (every byte is meaningful, nothing is padding), and then
 * survive what the collector does with it: merge (with itself, the worst
 * aliasing case) and finalize with every op.  Nothing may crash or trip
 * UBSan; the values of a forged state are garbage in, garbage out.
 * Build and run: tests/fuzz/run.sh (README.md next to this file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_message(const eg_error *err, const char *prefix)
{
    check(strncmp(err->msg, prefix, strlen(prefix)) == 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

/* finalize with every op the parameters ask for; an integer sum that does
 * not fit 64 bits is the one error finalize may report. */
static void finalize(const eg_state *s, const uint8_t params[4])
{
    unsigned ops = ((unsigned)params[0] | (unsigned)params[1] << 8) &
                   (EG_OPS_BIT(EG_OP_COUNT_ALL) - 1);
    eg_nan_policy nan = (params[2] & 1) ? EG_NAN_OMIT : EG_NAN_PROPAGATE;
    /* small ddofs and, now and then, an absurd one */
    unsigned ddof = (params[2] & 2) ? 0xffffffffu - params[3] : params[3];
    eg_result r;
    eg_error err;
    memset(&r, 0, sizeof r);
    memset(&err, 0, sizeof err);
    eg_status st = eg_state_finalize(s, ops, nan, ddof, &r, &err);
    if (st != EG_OK) {
        check(st == EG_EOVERFLOW && err.code == st);
        check(!eg_dtype_is_float(s->dtype));
        check_message(&err, "sum of ");
        return;
    }
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        check(r.value[op].kind <= EG_NUM_U64);
        if (!(ops & EG_OPS_BIT(op)))
            check(r.value[op].kind == EG_NUM_NONE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const uint8_t *params = data;
    size_t len = size - 4;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 4, len);

    eg_state *s = malloc(sizeof *s);
    eg_state *twice = malloc(sizeof *twice);
    uint8_t *again = malloc(eg_state_encoded_size());
    check(s && twice && again);
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_state_decode(s, copy, len, &err);
    if (st != EG_OK) {
        check(st == EG_EINPUT && err.code == st);
        check_message(&err, "state: ");
    } else {
        check(len == eg_state_encoded_size());
        check(eg_state_encode(s, again, eg_state_encoded_size()) == len);
        check(memcmp(again, copy, len) == 0);
        finalize(s, params);
        *twice = *s;
        eg_state_merge(twice, s);
        finalize(twice, params);
        eg_state_merge(twice, twice);
        finalize(twice, params);
    }
    free(again);
    free(twice);
    free(s);
    free(copy);
    return 0;
}
