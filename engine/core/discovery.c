/* discovery.c - device discovery and selection on a thread of its own
 * (discovery.h). */
#define _DEFAULT_SOURCE 1 /* sigaltstack */
#include "discovery.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "registry.h"

struct eg_discovery {
    pthread_t thread;
    char spec[64];
    /* Written by the thread only, read after the join. */
    eg_device **devs;
    size_t ndev;
    unsigned host_index;
    eg_status st;
    eg_error err;
    char notes[512];
    /* Set by the thread as its last step: the one field read while it runs. */
    atomic_int done;
};

#ifdef EDGEGRID_TEST_HOOKS
/* Test builds: a slow discovery (so that a job is over before it ends) and
 * a failing one, without a slow or broken driver. */
static eg_status test_hooks(eg_error *err)
{
    const char *delay = getenv("EDGEGRID_TEST_DISCOVERY_DELAY_MS");
    if (delay && *delay) {
        long ms = strtol(delay, NULL, 10);
        if (ms > 0) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0)
                ;
        }
    }
    const char *fail = getenv("EDGEGRID_TEST_DISCOVERY");
    if (fail && !strcmp(fail, "fail"))
        return eg_error_set(err, EG_EIO, "EDGEGRID_TEST_DISCOVERY=fail");
    return EG_OK;
}
#else
static eg_status test_hooks(eg_error *err)
{
    (void)err;
    return EG_OK;
}
#endif

static void *discovery_main(void *arg)
{
    eg_discovery *d = arg;
    /* Starting POCL starts LLVM, whose crash handlers give the calling
     * thread an alternate signal stack of their own (malloc'ed, kept by
     * LLVM).  This thread ends, and a sanitizer's runtime unmaps the
     * thread's alternate stack as it ends, so this one is put back:
     * LLVM's was only ever used by this thread. */
    stack_t alt;
    int have_alt = sigaltstack(NULL, &alt) == 0;
    eg_error_clear(&d->err);
    d->st = test_hooks(&d->err);
    if (d->st == EG_OK)
        d->st = eg_registry_discover(&d->devs, &d->ndev, d->notes,
                                     sizeof d->notes, &d->err);
    if (d->st == EG_OK) {
        d->host_index = (unsigned)(d->ndev - 1);
        d->st = eg_registry_select(d->devs, &d->ndev, d->spec, d->notes,
                                   sizeof d->notes, &d->err);
    }
    if (d->st != EG_OK) {
        eg_registry_free(&d->devs, d->ndev);
        d->ndev = 0;
    }
    if (have_alt)
        sigaltstack(&alt, NULL);
    atomic_store(&d->done, 1);
    return NULL;
}

eg_status eg_discovery_start(eg_discovery **out, const char *spec,
                             eg_error *err)
{
    eg_discovery *d = calloc(1, sizeof *d);
    if (!d)
        return eg_error_set(err, EG_ENOMEM, "device discovery: out of memory");
    if (strlen(spec) >= sizeof d->spec) {
        free(d);
        return eg_error_set(err, EG_EUSAGE, "--devices '%.40s...': too long",
                            spec);
    }
    strcpy(d->spec, spec);
    atomic_init(&d->done, 0);
    /* The thread (and the threads POCL starts from it) inherits this mask:
     * SIGINT and SIGTERM must reach the threads that wait for them (the
     * grid worker's poll), not a thread inside the ICD loader.  The signals
     * a fault raises stay open. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&d->thread, NULL, discovery_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(d);
        return eg_error_set(err, EG_ENOMEM,
                            "device discovery: cannot start a thread");
    }
    *out = d;
    return EG_OK;
}

int eg_discovery_ready(const eg_discovery *d)
{
    return atomic_load(&((eg_discovery *)d)->done);
}

eg_status eg_discovery_finish(eg_discovery **dp, eg_device ***devs,
                              size_t *count, unsigned *host_index,
                              char *notes, size_t notes_len, eg_error *err)
{
    eg_discovery *d = *dp;
    pthread_join(d->thread, NULL);
    eg_status st = d->st;
    if (d->notes[0])
        eg_notes_append(notes, notes_len, "%s", d->notes);
    if (st == EG_OK) {
        *devs = d->devs;
        *count = d->ndev;
        *host_index = d->host_index;
    } else {
        *err = d->err;
    }
    free(d);
    *dp = NULL;
    return st;
}
