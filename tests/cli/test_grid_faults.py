"""The grid under faults, with real processes on 127.0.0.1: workers killed
with SIGKILL (twice in one job, and at random through a whole job), a
stalled worker, an injected failure, a poison task, workers joining and
leaving mid-job.  The result must equal a one-box `edgegrid reduce` bit for
bit (the task size is the reduce chunk size, so the merge trees are the
same), the JSON must account for every repeat, and nothing may hang.

Workers run with --task-delay-ms so that a job lasts long enough to be hurt
on purpose; every wait has a deadline.
"""

import os
import random
import signal
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
ELEMS = 4096  # elements per task


def data(tmp, tasks, dtype="int64", seed=0):
    rng = np.random.default_rng(seed)
    n = tasks * ELEMS - 17
    if dtype == "float64":
        x = rng.standard_normal(n) * 1e3 + 1e6
    else:
        x = rng.integers(-2 ** 40, 2 ** 40, n, dtype=dtype)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    return path, x


def coord_args(path, itemsize=8, timeout=60, *extra):
    return ["--task-bytes", ELEMS * itemsize, "--timeout", timeout,
            "--json", "--ops", "count,sum,mean,min,max,argmin,argmax,std",
            *extra, path]


def check(doc, path, x):
    want = gu.reduce_ref(path, "--ops", "count,sum,mean,min,max,argmin,argmax,"
                         "std", chunk=ELEMS)
    gu.same_results(doc, want)
    if x.dtype.kind == "i":
        cu.same(doc["results"]["sum"], int(x.astype(object).sum()), "sum")
    else:
        exact = cu.fsum_exact(x)
        cu.near_abs(cu.num(doc["results"]["sum"]), exact,
                    cu.FAST_BOUND * cu.fsum_exact(np.abs(x)), "sum")
    return gu.check_grid_object(doc, tasks=(x.size + ELEMS - 1) // ELEMS)


@suite.test
def kill9_twice_in_one_job(tmp):
    path, x = data(tmp, 300)
    with gu.Grid(tmp, coord_args(path)) as g:
        for name in ("w1", "w2", "w3"):
            g.worker(name, "--task-delay-ms", 25, wait=True)
        g.mark()
        g.at(0.6)
        g.kill("w1")
        g.at(1.2)
        if not g.coord.alive():
            raise AssertionError("the job ended before the second kill")
        g.kill("w2")
        doc = g.result(timeout=60)
        err = g.coord.stderr()
    gg = check(doc, path, x)
    for name in ("w1", "w2"):
        if "worker %s lost (connection closed)" % name not in err:
            raise AssertionError("no loss of %s logged:\n%s" % (name, err))
    if gg["failures"] < 2 or gg["redispatched"] < 2:
        raise AssertionError("two kills but %r" % gg)


@suite.test
def one_injected_failure_costs_exactly_one_execution(tmp):
    path, x = data(tmp, 30, seed=1)
    flag = os.path.join(tmp, "fail-once")
    open(flag, "w").close()
    with gu.Grid(tmp, coord_args(path)) as g:
        g.worker("w1", "--fail-once-file", flag)
        g.worker("w2", "--fail-once-file", flag)
        doc = g.result()
    gg = check(doc, path, x)
    if os.path.exists(flag):
        raise AssertionError("the failure was never injected")
    want = {"attempts": 31, "redispatched": 1, "failures": 1,
            "duplicates": 0, "returned": 0}
    got = {k: gg[k] for k in want}
    if got != want:
        raise AssertionError("executions %r, want %r" % (got, want))


@suite.test
def exact_mode_survives_a_killed_worker(tmp):
    # Exact mode merges integers: a worker killed mid-job, its tasks redone
    # elsewhere and the states arriving in any order still give the bits of
    # a one-box run, whatever that run's chunk size.
    rng = np.random.default_rng(5)
    n = 200 * ELEMS - 17
    x = rng.standard_normal(n) * 1e6
    x[::3] *= 1e-12  # magnitudes far apart: every float64 bit counts
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    ops = "count,sum,mean,std,l1,l2"
    args = ["--task-bytes", ELEMS * 8, "--timeout", 60, "--json",
            "--mode", "exact", "--ops", ops, path]
    with gu.Grid(tmp, args) as g:
        for name in ("w1", "w2", "w3"):
            g.worker(name, "--task-delay-ms", 25, wait=True)
        g.mark()
        g.at(0.6)
        if not g.coord.alive():
            raise AssertionError("the job ended before the kill")
        g.kill("w1")
        doc = g.result(timeout=60)
    gg = gu.check_grid_object(doc, tasks=200)
    if gg["failures"] < 1 or gg["redispatched"] < 1:
        raise AssertionError("a kill but %r" % gg)
    for chunk in (None, 3 * ELEMS):
        want = gu.reduce_ref(path, "--mode", "exact", "--ops", ops,
                             chunk=chunk)
        gu.same_results(doc, want, "chunk %s" % chunk)


@suite.test
def random_killer_and_restarter_lose_nothing(tmp):
    path, x = data(tmp, 400, "float64", seed=2)
    r = random.Random(7)
    kills = 0
    with gu.Grid(tmp, coord_args(path)) as g:
        names = ["w1", "w2", "w3"]
        for n in names:
            g.worker(n, "--task-delay-ms", 12)
        nxt = 4
        give_up = gu.deadline(90)
        while g.coord.alive() and not give_up():
            time.sleep(r.uniform(0.15, 0.4))
            live = g.live_workers()
            if not g.coord.alive() or not live:
                break
            g.kill(r.choice(live))
            kills += 1
            g.worker("w%d" % nxt, "--task-delay-ms", 12)
            nxt += 1
        doc = g.result(timeout=30)
    gg = check(doc, path, x)
    if kills < 3:
        raise AssertionError("the job ended after %d kills; too short a test"
                             % kills)
    print("     %d kills, %r" % (kills, {k: gg[k] for k in (
        "attempts", "redispatched", "failures", "duplicates")}))


@suite.test
def poison_task_fails_the_job_after_four_attempts(tmp):
    path, x = data(tmp, 12, seed=3)
    start = time.monotonic()
    with gu.Grid(tmp, coord_args(path)) as g:
        restarts = 0
        give_up = gu.deadline(60)
        while g.coord.alive() and not give_up():
            for n in ("p1", "p2"):
                if n not in g.workers or not g.workers[n].alive():
                    g.worker(n, "--die-on-task", 5)
                    restarts += 1
            time.sleep(0.05)
        rc, out, err = g.wait(timeout=10)
    took = time.monotonic() - start
    if rc != 1 or out:
        raise AssertionError("exit %d, stdout %r, stderr %r" % (rc, out, err))
    last = err.strip().splitlines()[-1]
    want = "edgegrid: task 5 (elements %d..%d) failed 4 times; last: worker" % (
        5 * ELEMS, 6 * ELEMS)
    if not last.startswith(want) or "lost" not in last:
        raise AssertionError("last stderr line %r, want %r..." % (last, want))
    if took > 30:
        raise AssertionError("took %.1f s to give up" % took)


@suite.test
def worker_joining_mid_job_gets_work(tmp):
    path, x = data(tmp, 100, seed=4)
    with gu.Grid(tmp, coord_args(path)) as g:
        g.worker("early", "--task-delay-ms", 30, wait=True)
        g.mark()
        g.at(0.5)
        g.worker("late", "--task-delay-ms", 30)
        doc = g.result()
    gg = check(doc, path, x)
    tasks = {w["name"]: w["tasks"] for w in gg["workers"]}
    if tasks.get("late", 0) < 5 or tasks.get("early", 0) < 5:
        raise AssertionError("work not shared: %r" % tasks)


@suite.test
def clean_leave_returns_tasks_without_failures(tmp):
    path, x = data(tmp, 120, seed=5)
    with gu.Grid(tmp, coord_args(path)) as g:
        g.worker("stays", "--task-delay-ms", 20, wait=True)
        g.worker("leaves", "--task-delay-ms", 20, wait=True)
        g.mark()
        g.at(0.3)
        g.kill("leaves", signal.SIGTERM)
        rc = g.workers["leaves"].wait(10)
        werr = g.workers["leaves"].stderr()
        doc = g.result()
    if rc != 0 or "leaving:" not in werr:
        raise AssertionError("leaving worker: exit %d, %r" % (rc, werr))
    gg = check(doc, path, x)
    if gg["failures"] != 0:
        raise AssertionError("a clean leave counted as failure: %r" % gg)


@suite.test
def stalled_worker_is_declared_dead_by_silence(tmp):
    path, x = data(tmp, 50, seed=6)
    with gu.Grid(tmp, coord_args(path)) as g:
        g.worker("frozen", "--task-delay-ms", 30, wait=True)
        g.worker("fine", "--task-delay-ms", 30, wait=True)
        g.mark()
        g.at(0.2)
        g.kill("frozen", signal.SIGSTOP)
        try:
            doc = g.result()
        finally:
            g.kill("frozen", signal.SIGCONT)
        err = g.coord.stderr()
    check(doc, path, x)
    if "worker frozen lost (silent for" not in err:
        raise AssertionError("no silence detected:\n%s" % err)


@suite.test
def all_workers_leaving_ends_in_a_timeout(tmp):
    path, x = data(tmp, 400, seed=7)
    start = time.monotonic()
    with gu.Grid(tmp, coord_args(path, 8, 4)) as g:
        g.worker("only", "--task-delay-ms", 30, wait=True)
        g.mark()
        g.at(0.5)
        g.kill("only", signal.SIGTERM)
        if g.workers["only"].wait(10) != 0:
            raise AssertionError("worker did not leave cleanly")
        rc, out, err = g.wait(timeout=20)
    took = time.monotonic() - start
    if rc != 1 or out:
        raise AssertionError("exit %d, stdout %r" % (rc, out[:200]))
    for want in ("worker only left", "waiting for workers",
                 "timed out after", "0 worker(s) connected", "missing tasks:"):
        if want not in err:
            raise AssertionError("stderr lacks %r:\n%s" % (want, err))
    if took > 10:
        raise AssertionError("took %.1f s for a 4 s timeout" % took)


if __name__ == "__main__":
    suite.main()
