"""The grid's happy paths and its command line: `edgegrid grid` and a
coordinator with workers give the bits of `edgegrid reduce` (with the chunk
size equal to the task size, the merge tree is the same, so every op of
every dtype matches exactly), the JSON carries the grid's account, and
usage errors, bad endpoints and a busy port fail as the CLI contract says.
"""

import json
import os
import socket
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
TASK_ELEMS = 8192


def grid_json(path, *args, workers=2, task_elems=TASK_ELEMS, itemsize=4):
    out = cu.ok(["grid", "--workers", workers, "--devices", "host",
                 "--task-bytes", task_elems * itemsize, "--timeout", 60,
                 "--json", *args, path])
    return json.loads(out)


def make(dtype, n, seed):
    rng = np.random.default_rng(seed)
    if dtype in ("f32", "f64"):
        return (rng.standard_normal(n) * 100 + 3).astype(cu.NUMPY_NAMES[dtype])
    info = np.iinfo(cu.NUMPY_NAMES[dtype])
    lo, hi = max(info.min, -2 ** 40), min(info.max, 2 ** 40)
    return rng.integers(lo, hi, n, dtype=cu.NUMPY_NAMES[dtype],
                        endpoint=True)


def case_dtype(tmp, dtype):
    n = 5 * TASK_ELEMS + 123  # a short last task
    x, y = make(dtype, n, 1), make(dtype, n, 2)
    xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    ops = ["--ops", ",".join(cu.ALL_OPS), "--with", yp]
    itemsize = x.dtype.itemsize
    got = grid_json(xp, *ops, itemsize=itemsize)
    want = gu.reduce_ref(xp, *ops, chunk=TASK_ELEMS)
    gu.same_results(got, want, dtype)
    g = gu.check_grid_object(got, tasks=6)
    if g["bytes"] != 2 * n * itemsize:
        raise AssertionError("grid bytes %d, want %d" % (g["bytes"],
                                                         2 * n * itemsize))
    # A small job may be over before the second worker has registered.
    names = [w["name"] for w in g["workers"]]
    if not names or not set(names) <= {"grid-1", "grid-2"}:
        raise AssertionError("workers %r" % g["workers"])


for _dtype in cu.DTYPES:
    suite.add("grid equals reduce bitwise, all ops, %s" % _dtype, case_dtype,
              _dtype)


@suite.test
def default_task_size_matches_default_reduce(tmp):
    # Without --task-bytes a task is the engine's default chunk: the grid
    # then gives the bits of a plain `edgegrid reduce`.
    x = make("f32", 9 * 1024 * 1024 + 5, 3)
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    got = json.loads(cu.ok(["grid", "--workers", 2, "--devices", "host",
                            "--json", xp]))
    gu.same_results(got, gu.reduce_ref(xp))
    gu.check_grid_object(got, tasks=3)


@suite.test
def exact_mode_is_bitwise_whatever_the_task_size(tmp):
    # Exact mode merges integers of fixed-point sums: any task size, worker
    # count and arrival order give the bits of a one-box run.
    ops = ["--ops", "count,sum,mean,var,std,l1,l2,dot"]
    for dtype in ("f32", "f64"):
        rng = np.random.default_rng(11)
        x = (rng.standard_normal(7 * 4096 + 5) * 1e6).astype(
            cu.NUMPY_NAMES[dtype])
        x[::3] *= 1e-9  # an ill-conditioned mix
        y = x[::-1].copy()
        xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(xp, x)
        np.save(yp, y)
        want = gu.reduce_ref(xp, "--mode", "exact", *ops, "--with", yp)
        for task_elems, workers in ((4096, 3), (4096, 2), (8192, 1)):
            got = grid_json(xp, "--mode", "exact", *ops, "--with", yp,
                            workers=workers, task_elems=task_elems,
                            itemsize=x.dtype.itemsize)
            gu.same_results(got, want, "%s tasks of %d" % (dtype, task_elems))
            if got["mode"] != "exact":
                raise AssertionError("mode %r" % got["mode"])


@suite.test
def fortran_big_endian_and_shape(tmp):
    x = make("i32", 3 * 4096 * 7, 4).reshape(4096 * 3, 7).astype(">i4")
    x = np.asfortranarray(x)
    x[5, 3] = x.min()  # a tie whose C-order index differs from memory order
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    ops = ["--ops", "count,sum,min,max,argmin,argmax"]
    got = grid_json(xp, *ops, task_elems=4096)
    gu.same_results(got, gu.reduce_ref(xp, *ops, chunk=4096))
    if got["shape"] != [4096 * 3, 7]:
        raise AssertionError("shape %r" % got["shape"])


@suite.test
def nan_omit_and_ddof(tmp):
    x = make("f64", 4 * TASK_ELEMS, 5)
    x[::97] = np.nan
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    args = ["--nan", "omit", "--ddof", "1", "--ops", "count,mean,var,argmin"]
    got = grid_json(xp, *args, itemsize=8)
    gu.same_results(got, gu.reduce_ref(xp, *args, chunk=TASK_ELEMS))


@suite.test
def raw_input_and_empty_array(tmp):
    x = make("u16", 3 * TASK_ELEMS, 6)
    rp = os.path.join(tmp, "x.raw")
    x.tofile(rp)
    args = ["--raw", "--dtype", "u16"]
    got = grid_json(rp, *args, itemsize=2)
    gu.same_results(got, gu.reduce_ref(rp, *args, chunk=TASK_ELEMS))
    ep = os.path.join(tmp, "empty.npy")
    np.save(ep, np.zeros(0, np.float32))
    got = grid_json(ep)
    gu.same_results(got, gu.reduce_ref(ep))
    gu.check_grid_object(got, tasks=0)


@suite.test
def table_output_has_the_grid_line(tmp):
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i64", 3 * TASK_ELEMS, 7))
    out = cu.ok(["grid", "--workers", 2, "--devices", "host", "--task-bytes",
                 TASK_ELEMS * 8, xp])
    for want in ("  count", "  sum", "device 0  grid-", "grid 3 tasks on "):
        if want not in out:
            raise AssertionError("table lacks %r:\n%s" % (want, out))


@suite.test
def coordinator_with_workers_started_apart(tmp):
    x = make("i64", 40 * 4096, 8)
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    with gu.Grid(tmp, ["--task-bytes", 4096 * 8, "--timeout", 60, "--json",
                       xp]) as g:
        g.worker("a")
        g.worker("b", "--credit", 4)
        got = g.result()
    gu.same_results(got, gu.reduce_ref(xp, chunk=4096))
    gg = gu.check_grid_object(got, tasks=40)
    if gg["redispatched"] or gg["failures"] or gg["duplicates"]:
        raise AssertionError("a quiet run had repeats: %r" % gg)


@suite.test
def workers_serve_one_job_after_another(tmp):
    # A worker outlives its coordinator and serves the next one on the
    # same endpoints; results of the old job could not be confused with
    # the new one's (job ids).
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i32", 12 * 4096, 9))
    ports = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        ports.append(s.getsockname()[1])
        s.close()
    ep = ["tcp://127.0.0.1:%d" % p for p in ports]
    env = cu.env()
    w = gu.Proc([cu.binary(), "worker", "--tasks", ep[0], "--results", ep[1],
                 "--devices", "host", "--name", "steady"], env)
    try:
        want = gu.reduce_ref(xp, chunk=4096)
        for job in range(2):
            p = cu.run(["coordinator", "--tasks", ep[0], "--results", ep[1],
                        "--task-bytes", 4096 * 4, "--timeout", 30, "--json",
                        xp])
            if p.returncode != 0:
                raise AssertionError("job %d: exit %d: %s" % (
                    job, p.returncode, p.stderr.decode()))
            got = json.loads(p.stdout)
            gu.same_results(got, want, "job %d" % job)
            if [x["name"] for x in got["grid"]["workers"]] != ["steady"]:
                raise AssertionError("workers %r" % got["grid"]["workers"])
        w.kill(2)  # SIGINT: leaves cleanly
        if w.wait(10) != 0:
            raise AssertionError("worker exit %r: %s" % (w.p.returncode,
                                                          w.stderr()))
    finally:
        w.kill()
        w.p.wait(timeout=10)


@suite.test
def no_worker_times_out_and_says_so(tmp):
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i32", 4096, 10))
    start = time.monotonic()
    p = cu.run(["coordinator", "--tasks", "tcp://127.0.0.1:*", "--results",
                "tcp://127.0.0.1:*", "--timeout", 3.5, xp], timeout=30)
    took = time.monotonic() - start
    err = p.stderr.decode()
    if p.returncode != 1 or p.stdout:
        raise AssertionError("exit %d, stdout %r" % (p.returncode, p.stdout))
    if "waiting for workers" not in err or "timed out after" not in err:
        raise AssertionError("stderr %r" % err)
    if "missing tasks: 0" not in err:
        raise AssertionError("timeout does not name the missing task: %r" % err)
    if took > 8:
        raise AssertionError("took %.1f s for a 3.5 s timeout" % took)


@suite.test
def usage_errors(tmp):
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i32", 10, 11))
    ep = ["--tasks", "tcp://127.0.0.1:*", "--results", "tcp://127.0.0.1:*"]
    cu.expect_fail(["grid", xp], 2, contains="--workers")
    cu.expect_fail(["grid", "--workers", 0, xp], 2, contains="--workers")
    cu.expect_fail(["coordinator", xp], 2, contains="--tasks")
    cu.expect_fail(["coordinator", *ep], 2, contains="missing FILE")
    cu.expect_fail(["coordinator", *ep, "--with", xp, xp], 2, contains="dot")
    cu.expect_fail(["coordinator", *ep, "--ops", "dot", xp], 2,
                   contains="--with")
    cu.expect_fail(["coordinator", *ep, "--task-bytes", "lots", xp], 2,
                   contains="--task-bytes")
    cu.expect_fail(["coordinator", *ep, "--timeout", "-1", xp], 2,
                   contains="--timeout")
    cu.expect_fail(["coordinator", *ep, "--bogus", xp], 2, contains="--bogus")
    cu.expect_fail(["coordinator", *ep, os.path.join(tmp, "none.npy")], 2,
                   contains="none.npy")
    cu.expect_fail(["coordinator", *ep, "--task-bytes", "1Gi", xp], 2,
                   contains="--task-bytes")
    cu.expect_fail(["worker", "--tasks", "tcp://127.0.0.1:1"], 2,
                   contains="--results")
    cu.expect_fail(["worker", "--tasks", "x", "--results", "y", "--name",
                    "two words"], 2, contains="name")
    for cmd in ("coordinator", "worker", "grid"):
        out = cu.ok([cmd, "--help"])
        if "usage: edgegrid %s" % cmd not in out:
            raise AssertionError("%s --help: %r" % (cmd, out[:200]))


@suite.test
def endpoint_errors_name_the_endpoint(tmp):
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i32", 10, 12))
    cu.expect_fail(["coordinator", "--tasks", "nonsense://x", "--results",
                    "tcp://127.0.0.1:*", xp], 2,
                   contains="zmq_bind nonsense://x")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        line = cu.expect_fail(["coordinator", "--tasks",
                               "tcp://127.0.0.1:%d" % port, "--results",
                               "tcp://127.0.0.1:*", xp], 1)
        want = "zmq_bind tcp://127.0.0.1:%d: Address already in use" % port
        if want not in line:
            raise AssertionError("%r lacks %r" % (line, want))
    finally:
        busy.close()
    cu.expect_fail(["worker", "--tasks", "tcp://127.0.0.1", "--results",
                    "tcp://127.0.0.1:1", "--devices", "host"], 2,
                   contains="zmq_connect tcp://127.0.0.1")


@suite.test
def grid_fails_fast_when_its_workers_cannot_start(tmp):
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, make("i32", 10, 13))
    start = time.monotonic()
    p = cu.run(["grid", "--workers", 2, "--devices", "99", "--timeout", 60,
                xp], timeout=60)
    if p.returncode != 1 or "all 2 worker(s) exited" not in p.stderr.decode():
        raise AssertionError("exit %d: %r" % (p.returncode, p.stderr))
    if time.monotonic() - start > 20:
        raise AssertionError("took %.1f s" % (time.monotonic() - start))


if __name__ == "__main__":
    suite.main()
