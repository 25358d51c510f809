// fuzz-sources: engine/structured/struct_qwire.c engine/quant/quant_opts.c engine/core/error.c engine/core/dtype.c
/* fuzz_sqwire.c - libFuzzer harness for the wire forms of the quantile ops
 * per axis and per group on the grid (engine/structured/struct_qwire.c):
 * a task's parameters ("EGSQ", read by a worker) and its payload of
 * finished per-output values ("EGSR", read by the coordinator).
 *
 * The first byte picks the parser; the rest, copied to an allocation of
 * exactly its size, is what it reads.  A refused input must leave
 * EG_EINPUT and one printable line; accepted parameters must have segment
 * lengths that add up to the count the check was given, and an accepted
 * payload's element count must be the sum of its segments'.  Build and
 * run: tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "struct_qwire.h"
#include "wire_le.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* engine_grid.h's, declared here so the harness links struct_qwire.c
 * alone. */
eg_status eg_sqgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                 uint64_t first, uint32_t nseg,
                                 uint64_t count, eg_error *err);
eg_status eg_sqgrid_payload_check(const uint8_t *p, size_t len,
                                  uint64_t *count, eg_error *err);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_refused(eg_status st, const eg_error *err)
{
    check(st == EG_EINPUT && err->code == st && err->msg[0] != 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void params_case(const uint8_t *p, size_t len)
{
    eg_sqparams s;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_sqparams_decode(p, len, &s, &err);
    if (st != EG_OK) {
        check_refused(st, &err);
        return;
    }
    check(s.nseg >= 1 && (unsigned)s.dtype < EG_DTYPE_COUNT);
    check(eg_quant_opts_check(&s.qo, NULL) == EG_OK);
    uint64_t sum = 0;
    int wraps = 0;
    for (uint32_t i = 0; i < s.nseg; i++) {
        uint64_t n = eg_get_le(s.lens + 8 * (size_t)i, 8);
        wraps |= sum + n < sum;
        sum += n;
    }
    memset(&err, 0, sizeof err);
    st = eg_sqgrid_params_check(p, len, s.dtype, s.first, s.nseg, sum, &err);
    if (wraps)
        check_refused(st, &err);
    else
        check(st == EG_OK);
    check(eg_sqgrid_params_check(p, len, s.dtype, s.first, s.nseg, sum + 1,
                                 NULL) == EG_EINPUT);
}

static void payload_case(const uint8_t *p, size_t len)
{
    uint64_t count = 0;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_sqgrid_payload_check(p, len, &count, &err);
    if (st != EG_OK) {
        check_refused(st, &err);
        return;
    }
    check(len >= EG_SQR_FIXED && count == eg_get_le(p + 32, 8));
    uint32_t nseg = (uint32_t)eg_get_le(p + 8, 4);
    size_t rec = eg_sqrec_size(p[6], (size_t)eg_get_le(p + 12, 4),
                               (unsigned)eg_get_le(p + 16, 4), p[7] != 0);
    check(len == EG_SQR_FIXED + rec * nseg);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nseg; i++)
        sum += eg_get_le(p + EG_SQR_FIXED + rec * i, 8);
    check(sum == count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    check(buf != NULL);
    memcpy(buf, data + 1, n);
    if (data[0] & 1)
        payload_case(buf, n);
    else
        params_case(buf, n);
    free(buf);
    return 0;
}
