/* engine_fixture.h - what the Criterion programs that drive whole engines
 * share: two POCL CPU devices (so that device sets of one, two and the
 * host can be compared), an engine opened or the test failed, and the
 * check that the devices asked for did all the work. */
#ifndef EG_ENGINE_FIXTURE_H
#define EG_ENGINE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "edgegrid.h"

/* Asks POCL for two CPU devices; a suite's .init, before any engine opens. */
static inline void tu_two_pocl_devices(void)
{
    setenv("POCL_DEVICES", "pthread pthread", 1);
}

static inline eg_engine *tu_open_engine(const char *spec)
{
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, spec, &err), EG_OK, "%s", err.msg);
    return e;
}

/* No fallback, no dropped device: the devices asked for did all the work
 * of a run over n elements between them. */
static inline void tu_assert_devices_did_all(const eg_result *r, size_t n)
{
    cr_assert_str_empty(r->notes, "notes: %s", r->notes);
    uint64_t elements = 0;
    for (size_t d = 0; d < r->ndevices; d++)
        elements += r->devices[d].elements;
    cr_assert_eq(elements, n, "devices reduced %llu of %zu elements",
                 (unsigned long long)elements, n);
}

#endif
