/* test_ledger.c - the task ledger: lowest task first, leases and their
 * measured length, retries up to the fourth failure, exactly-once
 * acceptance, and a merge in task-id order whatever the arrival order. */
#include <criterion/criterion.h>
#include <string.h>

#include "ledger.h"
#include "testutil.h"

static eg_ledger make(uint64_t n, uint64_t per)
{
    eg_ledger l;
    cr_assert_eq(eg_ledger_init(&l, n, NULL), EG_OK);
    for (uint64_t i = 0; i < n; i++)
        eg_ledger_set_range(&l, i, i * per, per);
    return l;
}

/* A state of one task: n elements, its minimum at a chosen global index. */
static eg_state task_state(uint64_t n, double min, uint64_t argmin)
{
    eg_state s;
    eg_state_init(&s, EG_F64, eg_groups_for_ops(EG_OPS_BIT(EG_OP_ARGMIN)));
    s.n = n;
    s.vn = n;
    s.sum_s = min * (double)n;
    s.min.f = min;
    s.max.f = min;
    s.argmin = argmin;
    s.argmax = argmin;
    return s;
}

static uint64_t take(eg_ledger *l)
{
    uint64_t id;
    cr_assert(eg_ledger_take(l, NULL, NULL, &id), "nothing to take");
    return id;
}

Test(ledger, tasks_go_out_lowest_first_and_come_back_first)
{
    eg_ledger l = make(5, 10);
    cr_assert_eq(take(&l), 0);
    cr_assert_eq(take(&l), 1);
    eg_ledger_lease(&l, 0, 7, 0.0);
    uint32_t a1 = eg_ledger_lease(&l, 1, 7, 0.0);
    cr_assert_eq(a1, 1);
    cr_assert_eq(take(&l), 2);
    eg_ledger_untake(&l, 2);
    cr_assert_eq(eg_ledger_release(&l, 1, a1, 7, EG_RELEASE_FAILED, "lost", NULL), EG_OK);
    cr_assert_eq(take(&l), 1, "a released task goes out before later ones");
    cr_assert_eq(eg_ledger_lease(&l, 1, 8, 1.0), 2, "second attempt");
    cr_assert_eq(take(&l), 2);
    cr_assert_eq(l.attempts, 3);
    cr_assert_eq(l.redispatched, 1);
    cr_assert_eq(l.failures, 1);
    eg_ledger_free(&l);
}

Test(ledger, fourth_failure_fails_the_job_naming_why)
{
    eg_ledger l = make(3, 4096);
    eg_error err = {0};
    for (uint32_t a = 1; a <= 3; a++) {
        uint64_t id = take(&l);
        cr_assert_eq(id, 0);
        cr_assert_eq(eg_ledger_lease(&l, id, a, 0.0), a);
        cr_assert_eq(eg_ledger_release(&l, id, a, a, EG_RELEASE_FAILED,
                                       "worker died", &err),
                     EG_OK);
    }
    cr_assert_eq(take(&l), 0);
    eg_ledger_lease(&l, 0, 9, 0.0);
    cr_assert_eq(eg_ledger_release(&l, 0, 4, 9, EG_RELEASE_FAILED,
                                   "worker w9 lost", &err),
                 EG_EIO);
    cr_assert_str_eq(err.msg, "failed 4 times; last: worker w9 lost");
    eg_ledger_free(&l);
}

Test(ledger, returned_tasks_do_not_count_as_failures)
{
    eg_ledger l = make(1, 1);
    eg_error err;
    for (uint32_t a = 1; a <= 10; a++) {
        cr_assert_eq(take(&l), 0);
        eg_ledger_lease(&l, 0, 1, 0.0);
        cr_assert_eq(eg_ledger_release(&l, 0, a, 1, EG_RELEASE_RETURNED, NULL,
                                       &err), EG_OK);
    }
    cr_assert_eq(l.returned, 10);
    cr_assert_eq(l.failures, 0);
    eg_ledger_free(&l);
}

Test(ledger, stale_releases_change_nothing)
{
    eg_ledger l = make(2, 1);
    take(&l);
    eg_ledger_lease(&l, 0, 5, 0.0);
    eg_ledger_release(&l, 0, 1, 5, EG_RELEASE_FAILED, "first", NULL);
    take(&l);
    eg_ledger_lease(&l, 0, 6, 0.0);  /* attempt 2 on worker 6 */
    cr_assert(eg_ledger_holds(&l, 0, 2, 6));
    cr_assert_not(eg_ledger_holds(&l, 0, 1, 5));
    eg_ledger_release(&l, 0, 1, 5, EG_RELEASE_FAILED, "late news", NULL);
    eg_ledger_release(&l, 0, 2, 5, EG_RELEASE_FAILED, "wrong worker", NULL);
    cr_assert(eg_ledger_holds(&l, 0, 2, 6), "lease survived stale releases");
    cr_assert_eq(l.failures, 1);
    eg_ledger_release(&l, 7, 1, 5, EG_RELEASE_FAILED, "no such task", NULL);
    eg_ledger_free(&l);
}

Test(ledger, lost_worker_fails_only_the_task_it_was_computing)
{
    eg_ledger l = make(6, 1);
    for (uint64_t i = 0; i < 6; i++) {
        take(&l);
        eg_ledger_lease(&l, i, i % 2 ? 20 : 10, (double)i);
    }
    cr_assert_eq(l.nleased, 6);
    uint64_t failed = EG_NO_TASK;
    cr_assert_eq(eg_ledger_release_owner(&l, 20, 1, "lost", &failed, NULL),
                 EG_OK);
    cr_assert_eq(l.nleased, 3);
    /* Task 1 went out first to worker 20: it was running; 3 and 5 waited. */
    cr_assert_eq(l.tasks[1].failures, 1);
    cr_assert_eq(l.tasks[3].failures, 0);
    cr_assert_eq(l.failures, 1);
    cr_assert_eq(l.unstarted, 2);
    cr_assert_eq(take(&l), 1);
    cr_assert_eq(take(&l), 3);
    cr_assert_eq(take(&l), 5);
    uint64_t id;
    cr_assert_not(eg_ledger_take(&l, NULL, NULL, &id));
    cr_assert_eq(eg_ledger_release_owner(&l, 10, 0, NULL, NULL, NULL), EG_OK);
    cr_assert_eq(l.returned, 3, "a worker saying goodbye returns them all");
    cr_assert_eq(l.failures, 1);
    eg_ledger_free(&l);
}

Test(ledger, first_state_wins_and_duplicates_are_counted)
{
    eg_ledger l = make(2, 10);
    take(&l);
    eg_ledger_lease(&l, 0, 1, 0.0);
    eg_state a = task_state(10, 1.0, 3), b = task_state(10, -5.0, 4);
    cr_assert_eq(eg_ledger_complete(&l, 0, 1, &a, 0.5), EG_ACCEPTED);
    cr_assert_eq(eg_ledger_complete(&l, 0, 1, &b, 0.6), EG_DUPLICATE);
    cr_assert_eq(eg_ledger_complete(&l, 0, 2, &b, 0.7), EG_DUPLICATE);
    cr_assert_eq(l.duplicates, 2);
    cr_assert_eq(l.states[0].min.f, 1.0, "the first state stays");
    cr_assert_not(eg_ledger_finished(&l));
    eg_ledger_free(&l);
}

Test(ledger, late_result_of_a_requeued_task_is_taken_once)
{
    eg_ledger l = make(3, 10);
    take(&l);
    eg_ledger_lease(&l, 0, 1, 0.0);
    eg_ledger_release(&l, 0, 1, 1, EG_RELEASE_FAILED, "lease expired",
                      NULL);
    /* The slow worker answers after all, while the task waits in the queue. */
    eg_state s = task_state(10, 2.0, 0);
    cr_assert_eq(eg_ledger_complete(&l, 0, 1, &s, 1.0), EG_ACCEPTED);
    cr_assert_eq(take(&l), 1, "the finished task is not handed out again");
    cr_assert_eq(take(&l), 2);
    eg_ledger_free(&l);
}

Test(ledger, lease_follows_the_measured_task_time)
{
    eg_ledger l = make(20 + EG_LEDGER_SAMPLES, 1);
    cr_assert_eq(eg_ledger_lease_seconds(&l), EG_LEASE_INITIAL_S);
    eg_state s = task_state(1, 0.0, 0);
    for (uint64_t i = 0; i < 20; i++) {
        take(&l);
        eg_ledger_lease(&l, i, 1, 100.0);
        eg_ledger_complete(&l, i, 1, &s, 100.0 + 0.5);  /* 0.5 s each */
    }
    cr_assert_float_eq(eg_ledger_lease_seconds(&l), EG_LEASE_FACTOR * 0.5,
                       1e-9);
    /* Fast tasks replace every old sample. */
    for (uint64_t i = 20; i < 20 + EG_LEDGER_SAMPLES; i++) {
        take(&l);
        eg_ledger_lease(&l, i, 1, 200.0);
        eg_ledger_complete(&l, i, 1, &s, 200.0 + 0.001);
    }
    cr_assert_eq(eg_ledger_lease_seconds(&l), EG_LEASE_FLOOR_S,
                 "never below the floor");
    eg_ledger_free(&l);
}

static void count_expired(void *ctx, uint64_t id, uint64_t owner)
{
    (void)id;
    (void)owner;
    (*(int *)ctx)++;
}

Test(ledger, expired_leases_go_back_as_failures)
{
    eg_ledger l = make(3, 1);
    int n = 0;
    take(&l);
    eg_ledger_lease(&l, 0, 1, 0.0);
    take(&l);
    eg_ledger_lease(&l, 1, 1, 20.0);
    cr_assert_eq(eg_ledger_expire(&l, EG_LEASE_INITIAL_S + 1, count_expired,
                                  &n, NULL),
                 EG_OK);
    cr_assert_eq(n, 1, "only the overdue lease");
    cr_assert_eq(take(&l), 0);
    cr_assert_eq(l.failures, 1);
    cr_assert(strstr(l.tasks[0].why, "expired") != NULL);
    eg_ledger_free(&l);
}

static int even_only(void *ctx, uint64_t id)
{
    (void)ctx;
    return id % 2 == 0;
}

Test(ledger, take_with_a_filter_picks_the_smallest_match)
{
    eg_ledger l = make(6, 1);
    uint64_t id;
    cr_assert_eq(take(&l), 0);
    cr_assert(eg_ledger_take(&l, even_only, NULL, &id));
    cr_assert_eq(id, 2);
    cr_assert(eg_ledger_take(&l, even_only, NULL, &id));
    cr_assert_eq(id, 4);
    cr_assert_not(eg_ledger_take(&l, even_only, NULL, &id));
    cr_assert_eq(take(&l), 1);
    eg_ledger_free(&l);
}

/* States arriving in any order merge as if in task order: the same bits as
 * merging them one by one from task 0. */
Test(ledger, merge_is_in_task_order_whatever_the_arrival)
{
    enum { N = 64 };
    eg_ledger l = make(N, 100);
    eg_state want, states[N];
    uint64_t rng = 7;
    eg_state_init(&want, EG_F64, eg_groups_for_ops(EG_OPS_BIT(EG_OP_ARGMIN)));
    for (uint64_t i = 0; i < N; i++) {
        /* Ties on the minimum: only the order decides argmin. */
        states[i] = task_state(100, (double)(tu_next(&rng) % 3), i * 100 + 7);
        states[i].sum_s = tu_unit(&rng) * 1e16;
        eg_state_merge(&want, &states[i]);
    }
    uint64_t order[N];
    for (uint64_t i = 0; i < N; i++)
        order[i] = i;
    for (uint64_t i = N - 1; i > 0; i--) {
        uint64_t j = tu_next(&rng) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint64_t i = 0; i < N; i++) {
        take(&l);
        eg_ledger_lease(&l, i, 1, 0.0);
    }
    for (uint64_t k = 0; k < N; k++)
        eg_ledger_complete(&l, order[k], 1, &states[order[k]], 1.0);
    cr_assert(eg_ledger_finished(&l));
    eg_state got;
    eg_state_init(&got, EG_F64, eg_groups_for_ops(EG_OPS_BIT(EG_OP_ARGMIN)));
    cr_assert_eq(eg_ledger_merge(&l, 0, &got), N * 100);
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0);
    eg_ledger_free(&l);
}

Test(ledger, shard_merge_rebases_each_state)
{
    eg_ledger l = make(3, 0);
    eg_state s0 = task_state(5, 1.0, 2), s1 = task_state(7, 0.0, 6),
             s2 = task_state(3, 0.0, 0);
    for (uint64_t i = 0; i < 3; i++) {
        take(&l);
        eg_ledger_lease(&l, i, 1, 0.0);
    }
    eg_ledger_complete(&l, 2, 1, &s2, 0.0);
    eg_ledger_complete(&l, 0, 1, &s0, 0.0);
    eg_ledger_complete(&l, 1, 1, &s1, 0.0);
    eg_state got;
    eg_state_init(&got, EG_F64, eg_groups_for_ops(EG_OPS_BIT(EG_OP_ARGMIN)));
    cr_assert_eq(eg_ledger_merge(&l, 1, &got), 15);
    /* Shard 1's minimum 0.0 at its index 6 is global 5 + 6 = 11; shard 2's
     * tie at global 12 loses to it. */
    cr_assert_eq(got.argmin, 11);
    eg_ledger_free(&l);
}

Test(ledger, empty_job_is_finished_at_once)
{
    eg_ledger l = make(0, 0);
    uint64_t id;
    cr_assert(eg_ledger_finished(&l));
    cr_assert_not(eg_ledger_take(&l, NULL, NULL, &id));
    eg_ledger_free(&l);
}
