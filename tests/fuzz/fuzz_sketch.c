// fuzz-sources: engine/state/sketch.c engine/state/sketch_wire.c engine/state/sketch_avx512.c engine/state/sketch_portable.c engine/state/hist.c engine/state/hist_wire.c engine/state/hist_avx512.c engine/state/hist_portable.c engine/quant/select_wire.c engine/core/error.c engine/core/dtype.c
/* fuzz_sketch.c - libFuzzer harness for the wire decoders of the quantile
 * states: the sketch (engine/state/sketch_wire.c) and the histogram
 * (engine/state/hist_wire.c) and one selection pass's counts
 * (engine/quant/select_wire.c), the bytes a grid or a stream would carry.
 *
 * A sketch the decoder accepts must encode back to the very same bytes
 * (the form is canonical), merge with itself, and answer every rank it
 * counts; a histogram state is read against one fixed plan.  A refused
 * input must leave EG_EINPUT and one printable line.  Nothing may crash or
 * trip UBSan.  Build and run: tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "hist.h"
#include "qselect.h"
#include "sketch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_refused(eg_status st, const eg_error *err)
{
    check(st == EG_EINPUT || st == EG_ENOMEM);
    check(err->msg[0] != 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void sketch_case(const uint8_t *p, size_t len)
{
    eg_sketch s, twice;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_sketch_decode(&s, p, len, &err);
    if (st != EG_OK) {
        check_refused(st, &err);
        return;
    }
    size_t n = eg_sketch_encoded_size(&s);
    uint8_t *back = malloc(n ? n : 1);
    check(back != NULL);
    eg_sketch_encode(&s, back);
    check(n == len && memcmp(back, p, len) == 0);
    free(back);
    uint64_t count = eg_sketch_count(&s);
    for (uint64_t r = 0; r < count && r < 64; r++)
        (void)eg_sketch_at(&s, r);
    if (count > 0)
        (void)eg_sketch_at(&s, count - 1);
    eg_sketch_init(&twice, s.k);
    if (eg_sketch_merge(&twice, &s, NULL) == EG_OK &&
        eg_sketch_merge(&twice, &s, NULL) == EG_OK)
        check(eg_sketch_count(&twice) == 2 * count ||
              eg_sketch_count(&twice) < count); /* a 64-bit wrap */
    eg_sketch_free(&twice);
    eg_sketch_free(&s);
}

static void hist_case(const uint8_t *p, size_t len)
{
    eg_hist_plan plan;
    eg_hist_state s;
    eg_error err;
    memset(&err, 0, sizeof err);
    check(eg_hist_plan_make(&plan, EG_F64, 4, 1, 0.0, 1.0, 0, 0, 0, NULL) ==
          EG_OK);
    eg_status st = eg_hist_decode(&plan, &s, p, len, &err);
    if (st != EG_OK)
        check_refused(st, &err);
    else
        eg_hist_state_free(&s);
    eg_hist_plan_free(&plan);
}

static void select_case(const uint8_t *p, size_t len)
{
    eg_select_counts c, twice;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_select_counts_decode(&c, p, len, &err);
    if (st != EG_OK) {
        check_refused(st, &err);
        return;
    }
    uint8_t *back = malloc(len);
    check(back != NULL && eg_select_counts_size(c.dtype) == len);
    eg_select_counts_encode(&c, back);
    check(memcmp(back, p, len) == 0);
    check(eg_select_counts_decode(&twice, back, len, NULL) == EG_OK);
    check(eg_select_counts_merge(&twice, &c, NULL) == EG_OK);
    eg_select_counts_free(&twice);
    eg_select_counts_free(&c);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copies, so AddressSanitizer sees any read past the end */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    if (size >= 4 && memcmp(p, "EGHS", 4) == 0)
        hist_case(p, size);
    else if (size >= 4 && memcmp(p, "EGSP", 4) == 0)
        select_case(p, size);
    else
        sketch_case(p, size);
    free(p);
    return 0;
}
