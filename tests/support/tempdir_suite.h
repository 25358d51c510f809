/* tempdir_suite.h - a Criterion suite whose tests each get a fresh
 * temporary directory `dir` (made by .init, removed with its files by
 * .fini), and path_of(), the path of a file in it. */
#ifndef EG_TEMPDIR_SUITE_H
#define EG_TEMPDIR_SUITE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define TU_PATH_CAP 4096

/* Defines dir, the suite `name` and its .init/.fini; tag names the
 * directory ("$TMPDIR/eg_<tag>_XXXXXX"). */
#define TU_TEMPDIR_SUITE(name, tag)                                        \
    static char dir[64];                                                   \
    static void tu_suite_setup(void)                                       \
    {                                                                      \
        cr_assert_eq(tu_tempdir(dir, sizeof dir, tag), 0, "mkdtemp: %s",   \
                     strerror(errno));                                     \
    }                                                                      \
    static void tu_suite_teardown(void) { tu_tempdir_remove(dir); }        \
    static inline void path_of(char *out, const char *file)                \
    {                                                                      \
        snprintf(out, TU_PATH_CAP, "%s/%s", dir, file);                    \
    }                                                                      \
    TestSuite(name, .init = tu_suite_setup, .fini = tu_suite_teardown)

#endif
