/* finisher.h - a device's second thread, which turns the lane records of a
 * finished call into chunk states while the device's feeding thread
 * already sends the next call, so that an accelerator never waits for the
 * host's merging or careful-lane work.
 *
 * The feeding thread alternates between EG_FINISH_SETS sets of buffers:
 * it waits until a set is free, fills it (a device call), posts it; the
 * finisher runs fn(arg, set) on posted sets in the order they were posted.
 * Which thread builds a chunk's state does not change its bits. */
#ifndef EG_FINISHER_H
#define EG_FINISHER_H

#include <pthread.h>

#include "error.h"

#define EG_FINISH_SETS 2

typedef struct eg_finisher {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void (*fn)(void *arg, unsigned set);
    void *arg;
    int busy[EG_FINISH_SETS]; /* posted and not finished yet */
    unsigned queue[EG_FINISH_SETS];
    unsigned head, queued;
    int quit;
} eg_finisher;

/* Starts the thread; EG_ENOMEM (named) if it cannot. */
eg_status eg_finisher_start(eg_finisher *f, void (*fn)(void *, unsigned),
                            void *arg, eg_error *err);
/* Returns once `set` is not posted or being finished. */
void eg_finisher_wait(eg_finisher *f, unsigned set);
/* Hands `set` to the finisher. */
void eg_finisher_post(eg_finisher *f, unsigned set);
/* Finishes what was posted, then ends and joins the thread. */
void eg_finisher_stop(eg_finisher *f);

#endif
