/* ledger.c - tasks, leases, attempts and exactly-once acceptance.
 *
 * The pending queue is a binary min-heap of task ids, so a task that comes
 * back goes out again before later ones and the merge frontier keeps moving.
 * Leased tasks sit on a doubly linked list, so finding a lost worker's tasks
 * and expired leases costs the number of leases, not of tasks. */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_grid.h"

eg_status eg_ledger_init(eg_ledger *l, uint64_t ntasks, eg_error *err)
{
    memset(l, 0, sizeof *l);
    l->leased_head = EG_NO_TASK;
    l->lease_cache = -1;
    if (ntasks > SIZE_MAX / sizeof(eg_state))
        return eg_error_set(err, EG_ENOMEM, "ledger: %llu tasks are too many",
                            (unsigned long long)ntasks);
    size_t n = ntasks ? (size_t)ntasks : 1;
    l->tasks = calloc(n, sizeof *l->tasks);
    l->states = calloc(n, sizeof *l->states);
    l->heap = calloc(n, sizeof *l->heap);
    if (!l->tasks || !l->states || !l->heap) {
        eg_ledger_free(l);
        return eg_error_set(err, EG_ENOMEM, "ledger: out of memory for %llu "
                            "tasks", (unsigned long long)ntasks);
    }
    l->ntasks = ntasks;
    /* Ids in increasing order already form a valid min-heap. */
    for (uint64_t i = 0; i < ntasks; i++) {
        l->tasks[i].prev = l->tasks[i].next = EG_NO_TASK;
        l->tasks[i].queued = 1;
        l->heap[i] = i;
    }
    l->heap_n = ntasks;
    return EG_OK;
}

void eg_ledger_free(eg_ledger *l)
{
    free(l->tasks);
    free(l->states);
    free(l->heap);
    memset(l, 0, sizeof *l);
}

void eg_ledger_set_range(eg_ledger *l, uint64_t id, uint64_t first,
                         uint64_t count)
{
    l->tasks[id].first = first;
    l->tasks[id].count = count;
}

int eg_ledger_finished(const eg_ledger *l)
{
    return l->done == l->ntasks;
}

/* ------------------------------------------------------------------ heap */

static void heap_swap(uint64_t *h, uint64_t a, uint64_t b)
{
    uint64_t t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_up(uint64_t *h, uint64_t i)
{
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(uint64_t *h, uint64_t n, uint64_t i)
{
    for (;;) {
        uint64_t m = i, a = 2 * i + 1, b = 2 * i + 2;
        if (a < n && h[a] < h[m])
            m = a;
        if (b < n && h[b] < h[m])
            m = b;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

static void heap_remove_at(eg_ledger *l, uint64_t pos)
{
    l->tasks[l->heap[pos]].queued = 0;
    l->heap_n--;
    if (pos == l->heap_n)
        return;
    l->heap[pos] = l->heap[l->heap_n];
    heap_up(l->heap, pos);
    heap_down(l->heap, l->heap_n, pos);
}

static void heap_push(eg_ledger *l, uint64_t id)
{
    l->tasks[id].queued = 1;
    l->heap[l->heap_n] = id;
    heap_up(l->heap, l->heap_n++);
}

/* A task accepted while still queued (a late result from a lost worker) is
 * left in the heap and skipped here, rather than searched for. */
static void heap_drop_stale_top(eg_ledger *l)
{
    while (l->heap_n > 0 && l->tasks[l->heap[0]].phase != EG_TASK_PENDING)
        heap_remove_at(l, 0);
}

int eg_ledger_take(eg_ledger *l, int (*pred)(void *ctx, uint64_t id),
                   void *ctx, uint64_t *id)
{
    heap_drop_stale_top(l);
    if (l->heap_n == 0)
        return 0;
    if (!pred) {
        *id = l->heap[0];
        heap_remove_at(l, 0);
        return 1;
    }
    /* Shard jobs: a worker can take only the shards it holds; shards are
     * few, so a scan for the smallest match is enough. */
    uint64_t best = EG_NO_TASK, pos = 0;
    for (uint64_t i = 0; i < l->heap_n; i++) {
        uint64_t t = l->heap[i];
        if (t < best && l->tasks[t].phase == EG_TASK_PENDING && pred(ctx, t)) {
            best = t;
            pos = i;
        }
    }
    if (best == EG_NO_TASK)
        return 0;
    *id = best;
    heap_remove_at(l, pos);
    return 1;
}

/* ---------------------------------------------------------- leased list */

static void leased_link(eg_ledger *l, uint64_t id)
{
    eg_task *t = &l->tasks[id];
    t->prev = EG_NO_TASK;
    t->next = l->leased_head;
    if (l->leased_head != EG_NO_TASK)
        l->tasks[l->leased_head].prev = id;
    l->leased_head = id;
    l->nleased++;
}

static void leased_unlink(eg_ledger *l, uint64_t id)
{
    eg_task *t = &l->tasks[id];
    if (t->prev != EG_NO_TASK)
        l->tasks[t->prev].next = t->next;
    else
        l->leased_head = t->next;
    if (t->next != EG_NO_TASK)
        l->tasks[t->next].prev = t->prev;
    t->prev = t->next = EG_NO_TASK;
    l->nleased--;
}

/* ----------------------------------------------------------------- lease */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double eg_ledger_lease_seconds(eg_ledger *l)
{
    if (l->lease_cache >= 0)
        return l->lease_cache;
    if (l->nsamples == 0) {
        l->lease_cache = EG_LEASE_INITIAL_S;
        return l->lease_cache;
    }
    double s[EG_LEDGER_SAMPLES];
    memcpy(s, l->samples, l->nsamples * sizeof *s);
    qsort(s, l->nsamples, sizeof *s, cmp_double);
    double lease = EG_LEASE_FACTOR * s[l->nsamples / 2];
    l->lease_cache = lease > EG_LEASE_FLOOR_S ? lease : EG_LEASE_FLOOR_S;
    return l->lease_cache;
}

static void add_sample(eg_ledger *l, double seconds)
{
    l->samples[l->sample_next] = seconds;
    l->sample_next = (l->sample_next + 1) % EG_LEDGER_SAMPLES;
    if (l->nsamples < EG_LEDGER_SAMPLES)
        l->nsamples++;
    /* Re-sorting on every result would cost more than it tells; the lease
     * is refreshed every few results instead. */
    if (l->nsamples < 8 || l->sample_next % 8 == 0)
        l->lease_cache = -1;
}

void eg_ledger_untake(eg_ledger *l, uint64_t id)
{
    if (l->tasks[id].phase == EG_TASK_PENDING && !l->tasks[id].queued)
        heap_push(l, id);
}

uint32_t eg_ledger_lease(eg_ledger *l, uint64_t id, uint64_t owner,
                         double now)
{
    return eg_ledger_lease_uid(l, id, owner, 0, now);
}

uint32_t eg_ledger_lease_uid(eg_ledger *l, uint64_t id, uint64_t owner,
                             uint32_t uid, double now)
{
    eg_task *t = &l->tasks[id];
    t->owner_uid = uid;
    if (t->attempts > 0)
        l->redispatched++;
    t->attempts++;
    l->attempts++;
    t->seq = l->attempts;
    t->phase = EG_TASK_LEASED;
    t->owner = owner;
    t->sent_at = now;
    t->deadline = now + eg_ledger_lease_seconds(l);
    leased_link(l, id);
    return t->attempts;
}

eg_status eg_ledger_release(eg_ledger *l, uint64_t id, uint32_t attempt,
                            uint64_t owner, eg_release kind, const char *why,
                            eg_error *err)
{
    if (!eg_ledger_holds(l, id, attempt, owner))
        return EG_OK;
    eg_task *t = &l->tasks[id];
    leased_unlink(l, id);
    t->phase = EG_TASK_PENDING;
    t->owner = 0;
    if (!t->queued)
        heap_push(l, id);
    switch (kind) {
    case EG_RELEASE_RETURNED: l->returned++; return EG_OK;
    case EG_RELEASE_UNSTARTED: l->unstarted++; return EG_OK;
    case EG_RELEASE_FAILED: break;
    }
    t->failures++;
    l->failures++;
    snprintf(t->why, sizeof t->why, "%s", why ? why : "failed");
    if (t->failures >= EG_LEDGER_MAX_FAILURES)
        return eg_error_set(err, EG_EIO, "failed %u times; last: %s",
                            t->failures, t->why);
    return EG_OK;
}

eg_result_from eg_ledger_result_from(const eg_ledger *l, uint64_t id,
                                     uint32_t uid)
{
    if (id >= l->ntasks || uid == 0 || l->tasks[id].owner_uid != uid)
        return EG_FROM_STRANGER;
    switch (l->tasks[id].phase) {
    case EG_TASK_LEASED: return EG_FROM_HOLDER;
    case EG_TASK_DONE: return EG_FROM_DONE_BY;
    case EG_TASK_PENDING: break;
    }
    /* Released (its worker lost, the lease expired): nobody holds it until
     * it goes out again. */
    return EG_FROM_STRANGER;
}

int eg_ledger_holds(const eg_ledger *l, uint64_t id, uint32_t attempt,
                    uint64_t owner)
{
    return id < l->ntasks && l->tasks[id].phase == EG_TASK_LEASED &&
           l->tasks[id].attempts == attempt && l->tasks[id].owner == owner;
}

eg_status eg_ledger_release_owner(eg_ledger *l, uint64_t owner, int lost,
                                  const char *why, uint64_t *failed_task,
                                  eg_error *err)
{
    uint64_t oldest = EG_NO_TASK;
    for (uint64_t id = l->leased_head; id != EG_NO_TASK; id = l->tasks[id].next)
        if (l->tasks[id].owner == owner &&
            (oldest == EG_NO_TASK || l->tasks[id].seq < l->tasks[oldest].seq))
            oldest = id;
    uint64_t id = l->leased_head;
    while (id != EG_NO_TASK) {
        uint64_t next = l->tasks[id].next;
        if (l->tasks[id].owner == owner) {
            eg_release kind = !lost          ? EG_RELEASE_RETURNED
                              : id == oldest ? EG_RELEASE_FAILED
                                             : EG_RELEASE_UNSTARTED;
            eg_status st = eg_ledger_release(l, id, l->tasks[id].attempts,
                                             owner, kind, why, err);
            if (st != EG_OK) {
                if (failed_task)
                    *failed_task = id;
                return st;
            }
        }
        id = next;
    }
    return EG_OK;
}

eg_status eg_ledger_expire(eg_ledger *l, double now,
                           void (*on_expire)(void *ctx, uint64_t id,
                                             uint64_t owner),
                           void *ctx, eg_error *err)
{
    uint64_t id = l->leased_head;
    while (id != EG_NO_TASK) {
        eg_task *t = &l->tasks[id];
        uint64_t next = t->next;
        if (t->deadline < now) {
            char why[128];
            uint64_t owner = t->owner;
            snprintf(why, sizeof why, "lease of %.1f s expired",
                     t->deadline - t->sent_at);
            eg_status st = eg_ledger_release(l, id, t->attempts, owner,
                                             EG_RELEASE_FAILED, why, err);
            if (on_expire)
                on_expire(ctx, id, owner);
            if (st != EG_OK)
                return st;
        }
        id = next;
    }
    return EG_OK;
}

/* ------------------------------------------------------------ accepting */

eg_accept eg_ledger_complete(eg_ledger *l, uint64_t id, uint32_t attempt,
                             const eg_state *s, double now)
{
    eg_task *t = &l->tasks[id];
    if (t->phase == EG_TASK_DONE) {
        l->duplicates++;
        return EG_DUPLICATE;
    }
    if (t->phase == EG_TASK_LEASED) {
        if (attempt == t->attempts)
            add_sample(l, now - t->sent_at);
        leased_unlink(l, id);
    }
    /* A PENDING task stays in the heap; take() skips it once DONE. */
    t->phase = EG_TASK_DONE;
    t->owner = 0;
    l->states[id] = *s;
    l->done++;
    return EG_ACCEPTED;
}

uint64_t eg_ledger_merge(const eg_ledger *l, int rebase, eg_state *total)
{
    uint64_t offset = 0;
    for (uint64_t i = 0; i < l->ntasks; i++) {
        eg_state s = l->states[i];
        if (rebase)
            eg_state_shift(&s, offset);
        eg_state_merge(total, &s);
        offset += s.n;
    }
    return offset;
}
