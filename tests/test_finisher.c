/* test_finisher.c - the finisher thread (engine/core/finisher.c): posted
 * sets are finished once each, in the order posted, never while the
 * feeding thread refills them, and stop finishes what was posted. */
#include <criterion/criterion.h>
#include <time.h>

#include "finisher.h"

enum { POSTS = 200 };

typedef struct log {
    int payload[EG_FINISH_SETS]; /* what the feeder wrote into each set */
    int seen[POSTS];
    int count;
} log_t;

static void nap(long ns)
{
    struct timespec t = {0, ns};
    nanosleep(&t, NULL);
}

static void record(void *arg, unsigned set)
{
    log_t *l = arg;
    int v = l->payload[set];
    /* Slow on some calls, so that the feeder runs ahead and must wait. */
    if (v % 3 == 0)
        nap(200000);
    /* A feeder that refilled the set meanwhile shows up as another value. */
    cr_assert_eq(l->payload[set], v, "set %u refilled while finishing", set);
    if (l->count < POSTS)
        l->seen[l->count] = v;
    l->count++;
}

Test(finisher, sets_finish_in_order_and_are_not_refilled_early)
{
    static log_t l;
    eg_finisher f;
    eg_error err;
    cr_assert_eq(eg_finisher_start(&f, record, &l, &err), EG_OK, "%s", err.msg);
    unsigned set = 0;
    for (int i = 0; i < POSTS; i++) {
        eg_finisher_wait(&f, set);
        l.payload[set] = i;
        eg_finisher_post(&f, set);
        set = (set + 1) % EG_FINISH_SETS;
    }
    eg_finisher_stop(&f);
    cr_assert_eq(l.count, POSTS);
    for (int i = 0; i < POSTS; i++)
        cr_assert_eq(l.seen[i], i, "finish %d was of post %d", i, l.seen[i]);
}

Test(finisher, stop_finishes_what_was_posted)
{
    static log_t l;
    eg_finisher f;
    eg_error err;
    cr_assert_eq(eg_finisher_start(&f, record, &l, &err), EG_OK, "%s", err.msg);
    l.payload[0] = 0; /* slow */
    l.payload[1] = 1;
    eg_finisher_post(&f, 0);
    eg_finisher_post(&f, 1);
    eg_finisher_stop(&f);
    cr_assert_eq(l.count, 2);
    cr_assert_eq(l.seen[0], 0);
    cr_assert_eq(l.seen[1], 1);
}
