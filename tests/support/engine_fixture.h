/* engine_fixture.h - what the Criterion programs that drive whole engines
 * share: two POCL CPU devices (so that device sets of one, two and the
 * host can be compared) and an engine opened or the test failed. */
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

#endif
