/* ledger.h - the coordinator's task ledger: what every task covers, who holds
 * it, for how long, how often it was tried, and its one accepted state.
 *
 * A task is PENDING (waiting in a queue ordered by task id), LEASED (sent to
 * a worker, with a deadline) or DONE (its first valid state accepted).  A
 * lease ends with a result, or goes back to PENDING when its worker is lost,
 * fails it, returns it or overstays the deadline.  Results are keyed by task
 * id: the first valid state wins, whichever attempt sent it, and every later
 * one is counted as a duplicate and dropped.  States merge in task-id order,
 * so the total does not depend on arrival order, retries or worker count.
 *
 * The lease is measured, not fixed: EG_LEASE_FACTOR times the median time
 * from dispatch to result of recent tasks, never below EG_LEASE_FLOOR_S
 * (and EG_LEASE_INITIAL_S until a first task has been timed).
 */
#ifndef EG_LEDGER_H
#define EG_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "engine_grid.h"

#define EG_LEDGER_MAX_FAILURES 4
#define EG_LEASE_FACTOR 10.0
#define EG_LEASE_FLOOR_S 2.0
#define EG_LEASE_INITIAL_S 30.0
#define EG_LEDGER_SAMPLES 64

typedef enum eg_task_phase {
    EG_TASK_PENDING,
    EG_TASK_LEASED,
    EG_TASK_DONE
} eg_task_phase;

typedef struct eg_task {
    uint64_t first, count;  /* inline: global range; shard: count (0 unknown) */
    eg_task_phase phase;
    uint32_t attempts;      /* dispatches so far; the current attempt number */
    uint32_t failures;      /* attempts that ended in failure */
    uint64_t owner;         /* serial of the worker holding the lease */
    uint32_t owner_uid;     /* CURVE identity (zap.h) of the latest
                               dispatch, kept once DONE; 0: plain TCP */
    double sent_at, deadline;
    uint64_t seq;           /* dispatch order of the current lease */
    uint64_t prev, next;    /* list of leased tasks (EG_NO_TASK ends it) */
    int queued;             /* present in the pending heap */
    char why[160];          /* how the last failed attempt ended */
} eg_task;

#define EG_NO_TASK UINT64_MAX

typedef struct eg_ledger {
    eg_task *tasks;
    eg_state *states;       /* states[i] valid once tasks[i] is DONE */
    uint64_t ntasks, done;
    uint64_t *heap;         /* pending task ids, smallest first */
    uint64_t heap_n;
    uint64_t leased_head, nleased;
    /* Counters for the report. */
    uint64_t attempts, redispatched, duplicates, failures, returned;
    uint64_t unstarted;     /* leases of lost workers never begun */
    /* Recent dispatch-to-result times, for the lease. */
    double samples[EG_LEDGER_SAMPLES];
    unsigned nsamples, sample_next;
    double lease_cache;     /* < 0: recompute */
} eg_ledger;

/* Tasks 0 .. ntasks-1, all PENDING with empty ranges; set each range with
 * eg_ledger_set_range before the first take. */
eg_status eg_ledger_init(eg_ledger *l, uint64_t ntasks, eg_error *err);
void eg_ledger_free(eg_ledger *l);
void eg_ledger_set_range(eg_ledger *l, uint64_t id, uint64_t first,
                         uint64_t count);

int eg_ledger_finished(const eg_ledger *l);  /* every task DONE */

/* Takes the smallest PENDING task id (for which pred(ctx, id) holds, when
 * pred is given) off the queue.  0 when there is none. */
int eg_ledger_take(eg_ledger *l, int (*pred)(void *ctx, uint64_t id),
                   void *ctx, uint64_t *id);
/* Puts a task just taken back, untouched (its frame could not be sent). */
void eg_ledger_untake(eg_ledger *l, uint64_t id);
/* Leases a task just taken to worker `owner` until now + lease; returns
 * the attempt number the task frame must carry. */
uint32_t eg_ledger_lease(eg_ledger *l, uint64_t id, uint64_t owner,
                         double now);
/* The same, recording the CURVE identity `uid` the worker authenticated
 * as, so that a result can be checked against it (eg_ledger_result_from). */
uint32_t eg_ledger_lease_uid(eg_ledger *l, uint64_t id, uint64_t owner,
                             uint32_t uid, double now);

/* Whom a result sent by identity `uid` may come from, under CURVE:
 * EG_FROM_HOLDER when task `id` is leased to that identity now,
 * EG_FROM_DONE_BY when it is DONE and its accepted state came from that
 * identity's lease (a late copy: a duplicate), else EG_FROM_STRANGER (the
 * task is pending, held by another identity, done by another, or out of
 * range): such a result is refused. */
typedef enum eg_result_from {
    EG_FROM_STRANGER,
    EG_FROM_HOLDER,
    EG_FROM_DONE_BY
} eg_result_from;
eg_result_from eg_ledger_result_from(const eg_ledger *l, uint64_t id,
                                     uint32_t uid);

/* How a lease ended without a result. */
typedef enum eg_release {
    EG_RELEASE_FAILED,    /* the attempt failed: counts towards the limit */
    EG_RELEASE_RETURNED,  /* the worker handed it back untried */
    EG_RELEASE_UNSTARTED  /* its worker was lost before starting it */
} eg_release;

/* Puts a leased task back in the queue, if attempt `attempt` of it is
 * still leased to `owner` (a late message about an older attempt changes
 * nothing).  A failed attempt keeps `why` and, at EG_LEDGER_MAX_FAILURES,
 * EG_EIO is returned with err saying "failed 4 times; last: <why>" (the
 * caller names the task).  Returns EG_OK otherwise, also when nothing
 * matched. */
eg_status eg_ledger_release(eg_ledger *l, uint64_t id, uint32_t attempt,
                            uint64_t owner, eg_release kind, const char *why,
                            eg_error *err);
/* Releases every task leased to `owner`.  For a lost worker (`lost`), the
 * oldest lease is the task it was computing (workers work in dispatch
 * order): that attempt failed; the others were never started.  Otherwise
 * (the worker said goodbye) all are returned.  Stops at the first error;
 * *failed_task names the task that failed its last attempt. */
eg_status eg_ledger_release_owner(eg_ledger *l, uint64_t owner, int lost,
                                  const char *why, uint64_t *failed_task,
                                  eg_error *err);
/* Whether attempt `attempt` of task `id` is leased to `owner` now. */
int eg_ledger_holds(const eg_ledger *l, uint64_t id, uint32_t attempt,
                    uint64_t owner);
/* Fails every lease whose deadline is before now. */
eg_status eg_ledger_expire(eg_ledger *l, double now,
                           void (*on_expire)(void *ctx, uint64_t id,
                                             uint64_t owner),
                           void *ctx, eg_error *err);

typedef enum eg_accept {
    EG_ACCEPTED,
    EG_DUPLICATE
} eg_accept;

/* Offers a validated state for task `id` (from attempt `attempt`).  The
 * first one is kept and the task is DONE; later ones count as duplicates.
 * A result for the attempt currently leased is timed for the lease. */
eg_accept eg_ledger_complete(eg_ledger *l, uint64_t id, uint32_t attempt,
                             const eg_state *s, double now);

/* The current lease length in seconds. */
double eg_ledger_lease_seconds(eg_ledger *l);

/* Merges every task's state in task-id order into `total` (initialised by
 * the caller).  With `rebase`, each state's indices are relative to its
 * task and are shifted by the elements of the tasks before it (shards);
 * otherwise they are global already.  Returns the elements merged. */
uint64_t eg_ledger_merge(const eg_ledger *l, int rebase, eg_state *total);

#endif
