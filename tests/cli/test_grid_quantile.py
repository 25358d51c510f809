"""median, quantile, approx_quantile and hist on the grid, with real
processes on 127.0.0.1: each is a round of tasks (hist without --range a
min/max round first; quantile and median one round per selection pass), and
the answer must have the bits of a one-box `edgegrid reduce` and equal
numpy's (quantile for every method, nanquantile, histogram) with 1 and 2
workers; a worker SIGKILLed during a selection pass (by --die-on-task in the
first pass, by the test in the second) must not change it; quantile
payloads that are malformed, oversized or of the wrong kind are refused and
counted, and the answer stays right.

With --shards the data stays on the workers: every round's task names a
shard, and the answer must be the one-box bits of the shards concatenated
in manifest order (and numpy's), with replicas, an empty shard, a worker
killed during a selection pass; a shard that is truncated, rewritten or
removed between rounds fails its task with a message naming it, and the
worker stays up.
"""

import os
import struct
import sys
import time
import warnings

import numpy as np
import zmq

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
ELEMS = 4096  # elements per task: --task-bytes 4096 rounds to one lane
METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]
QS = [0.0, 1.0, 0.5, 0.25, 0.1, 0.9, 0.99, 1 / 3]
QARG = ",".join(repr(q) for q in QS)
QOPS = "median,quantile,approx_quantile,hist"
RESULT = 5


def save(tmp, name, a):
    path = os.path.join(tmp, name + ".npy")
    np.save(path, a)
    return path



def grid_json(path, workers, *args, timeout=120):
    p = cu.run(["grid", "--workers", workers, "--devices", "host",
                "--task-bytes", ELEMS, "--json", path] + list(args),
               timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("grid exited %d: %s" % (
            p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return cu.json.loads(p.stdout)


def want_number(v):
    v = np.asarray(v)[()]
    return int(v) if isinstance(v, np.integer) else float(v)


def check_numpy(res, x, method, nan, hrange=None):
    """The grid's answer against numpy, independently of edgegrid."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        kept = x[~np.isnan(x)] if x.dtype.kind == "f" and nan == "omit" \
            else x
        if kept.size == 0:
            want_q = [float("nan")] * len(QS)
            want_m = float("nan")
        else:
            fq = np.nanquantile if nan == "omit" else np.quantile
            want_q = [want_number(v) for v in fq(x, np.array(QS),
                                                 method=method)]
            want_m = want_number((np.nanmedian if nan == "omit"
                                  else np.median)(x))
    for q, g, w in zip(QS, res["quantile"], want_q):
        cu.same(cu.num(g), w, "quantile q=%r %s %s" % (q, method, nan))
    cu.same(cu.num(res["median"]), want_m, "median %s" % nan)
    h = res["hist"]
    ref = x[~np.isnan(x)] if x.dtype.kind == "f" else x
    if ref.size:
        counts, edges = np.histogram(ref, bins=len(h["counts"]), range=hrange)
        assert h["counts"] == counts.tolist(), (h["counts"], counts.tolist())
        for g, w in zip(h["edges"], edges.tolist()):
            cu.same(cu.num(g), float(w), "hist edge")
    # approx_quantile: within --rel-err (0.01) of numpy's lower element
    if kept.size and not (nan == "propagate" and kept.size != x.size):
        lower = np.quantile(kept, np.array(QS), method="lower")
        for q, g, w in zip(QS, res["approx_quantile"], lower.tolist()):
            cu.near_rel(cu.num(g), float(w), 0.01, "approx q=%r" % q)


def one_box(path, *args):
    return gu.reduce_ref(path, *args)


def compare(tmp, name, x, methods=METHODS, nans=("propagate", "omit"),
            workers=(1, 2), hrange=None):
    """One box against numpy, then the grid against one box, bit for bit;
    hist over hrange (None: the data's, found by a min/max round)."""
    path = save(tmp, name, x)
    extra = ["--range", "%r,%r" % hrange] if hrange else []
    for nan in nans if x.dtype.kind == "f" else ("propagate",):
        for method in methods:
            args = ["--ops", "count,max," + QOPS, "--q", QARG, "--method",
                    method, "--nan", nan, "--bins", "16"] + extra
            want = one_box(path, *args)
            check_numpy(want["results"], x, method, nan, hrange)
            for n in workers:
                got = grid_json(path, n, *args)
                for key in ("dtype", "shape", "count"):
                    assert got[key] == want[key], (key, got[key], want[key])
                cu.same_bits(got["results"], want["results"],
                          "%s %s %s %d worker(s)" % (name, method, nan, n))
                gu.check_grid_object(got)


# ----------------------------------------------------------------- cases

@suite.test
def float32_every_method_one_and_two_workers(tmp):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(3 * ELEMS + 17).astype(np.float32)
    x[::97] = 0.0
    x[5::101] = -0.0
    x[7] = np.inf
    x[8] = -np.inf
    x[9] = np.float32(1e-45)  # a subnormal
    compare(tmp, "f32", x, nans=("propagate",), hrange=(-3.0, 3.0))
    compare(tmp, "f32_finite", x[np.isfinite(x)], methods=["linear"],
            nans=("propagate",))


@suite.test
def float64_with_nan_both_policies(tmp):
    rng = np.random.default_rng(2)
    x = rng.lognormal(0, 3, 5 * ELEMS + 3)
    x[::7] *= -1
    x[11] = np.nan
    x[4 * ELEMS + 1] = np.nan
    compare(tmp, "f64nan", x, methods=["linear", "nearest", "midpoint"],
            hrange=(-100.0, 100.0))
    # hist over data with NaN needs --range (or omit), as numpy's
    path = save(tmp, "f64nan_h", x)
    cu.expect_fail(["grid", "--workers", 1, "--devices", "host", "--ops",
                    "hist", path], 2, contains="--range")


@suite.test
def integer_dtypes_and_ties(tmp):
    rng = np.random.default_rng(3)
    for dt in (np.int8, np.uint8, np.int16, np.uint32, np.int64, np.uint64):
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, 2 * ELEMS + 5, dtype=dt,
                         endpoint=True)
        x[: ELEMS // 2] = info.max  # ties across a task boundary
        compare(tmp, np.dtype(dt).name, x, methods=["linear", "lower",
                                                     "midpoint"],
                workers=(2,))


@suite.test
def tiny_inputs_and_all_equal(tmp):
    for name, x in (("empty", np.array([], np.float64)),
                    ("one", np.array([3.5], np.float32)),
                    ("two", np.array([2, -7], np.int32)),
                    ("equal", np.full(ELEMS + 1, 7.25, np.float32))):
        path = save(tmp, name, x)
        args = ["--ops", "median,quantile,approx_quantile", "--q", QARG]
        if x.size:
            args[1] += ",hist"
        want = one_box(path, *args)
        for n in (1, 2):
            got = grid_json(path, n, *args)
            cu.same_bits(got["results"], want["results"], "%s %d" % (name, n))


@suite.test
def hist_with_range_and_values_on_edges(tmp):
    x = np.concatenate([np.linspace(-1, 1, 3 * ELEMS), [-2.0, 2.0, 1.0, -1.0,
                                                          0.25]])
    path = save(tmp, "edges", x)
    args = ["--ops", "hist", "--bins", "8", "--range", "-1,1"]
    want = one_box(path, *args)
    counts, _ = np.histogram(x, bins=8, range=(-1, 1))
    h = want["results"]["hist"]
    assert h["counts"] == counts.tolist() and h["below"] == 1 and \
        h["above"] == 1, h
    for n in (1, 2):
        got = grid_json(path, n, *args)
        cu.same_bits(got["results"], want["results"], "edges %d" % n)
        # one round: the range is given, so no min/max round
        assert got["grid"]["tasks"] == (x.size + ELEMS - 1) // ELEMS, \
            got["grid"]


@suite.test
def rounds_counted_in_the_report(tmp):
    x = np.random.default_rng(4).standard_normal(4 * ELEMS)
    path = save(tmp, "rounds", x)
    got = grid_json(path, 2, "--ops", "median")
    # float64: four selection passes of 16 bits, each a round of 4 tasks
    assert got["grid"]["tasks"] == 16, got["grid"]
    got = grid_json(path, 2, "--ops", "mean,hist")
    # the ordinary ops, the min/max round, the histogram
    assert got["grid"]["tasks"] == 12, got["grid"]


@suite.test
def many_q_values_take_more_rounds(tmp):
    x = np.random.default_rng(7).uniform(-1e6, 1e6, 12 * ELEMS)
    path = save(tmp, "manyq", x)
    q = ",".join(repr(i / 63) for i in range(64))
    args = ["--ops", "median,quantile", "--q", q]
    want = one_box(path, *args)
    got = grid_json(path, 2, *args)
    cu.same_bits(got["results"], want["results"], "64 q values")
    ref = np.quantile(x, [i / 63 for i in range(64)])
    for g, w in zip(got["results"]["quantile"], ref.tolist()):
        cu.same(cu.num(g), w, "quantile")
    # 130 ranks fall in more buckets than a pass searches (16): the later
    # passes need more than the four rounds of float64
    per_round = x.size // ELEMS  # a task is one lane, whatever the dtype
    tasks = got["grid"]["tasks"]
    assert tasks % per_round == 0 and tasks > 4 * per_round, got["grid"]


@suite.test
def worker_killed_during_selection_passes(tmp):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(24 * ELEMS)
    path = save(tmp, "kill", x)
    args = ["--ops", "median,quantile", "--q", QARG]
    want = one_box(path, *args)
    cu.same(cu.num(want["results"]["median"]), float(np.median(x)), "median")
    coord = ["--timeout", 60, "--task-bytes", 8 * ELEMS, "--json"] + args + \
        [path]
    # in the first pass: --die-on-task kills it a little into task 1
    # (registered first, it is sent tasks 0 and 1; a worker started beside
    # it on a loaded machine may register first and take task 1)
    with gu.Grid(tmp, coord) as g:
        g.worker("doomed", "--die-on-task", 1, "--task-delay-ms", 20,
                 wait=True)
        g.worker("steady", "--task-delay-ms", 20)
        doc = g.result()
    cu.same_bits(doc["results"], want["results"], "killed in pass 1")
    if doc["grid"]["failures"] < 1 or g.workers["doomed"].alive():
        raise AssertionError("no failure counted: %r" % doc["grid"])
    # in the second pass: SIGKILL as soon as the coordinator starts it
    with gu.Grid(tmp, coord) as g:
        g.worker("a", "--task-delay-ms", 40)
        g.worker("b", "--task-delay-ms", 40)
        g.coord.wait_line("selection pass 2", 60)
        time.sleep(0.06)
        g.kill("a")
        doc = g.result()
    cu.same_bits(doc["results"], want["results"], "killed in pass 2")
    if doc["grid"]["failures"] + doc["grid"]["unstarted"] < 1:
        raise AssertionError("the kill cost nothing: %r" % doc["grid"])


# ---------------------------------------------------------------- shards

SHARD_LENGTHS = [5000, 0, 12345, 7000, 3001]
SHARD_NAMES = ["s0.npy", "s1.npy", "sub/s2.npy", "s3.npy", "s4.npy"]
# Worker a holds s0 s1 s2; worker b holds s2 (a replica) s3 s4.
SHARD_HOLDERS = {"a": [0, 1, 2], "b": [2, 3, 4]}


def make_shards(tmp, parts, holders=None, counts=(0, 2)):
    """The parts as shards under one root per worker (holders: worker ->
    shard indices; None: one root "all" with every shard), a manifest
    giving the counts of the shards in `counts`, and the concatenation as
    one .npy for the one-box reference."""
    names = ["p%d/s%d.npy" % (i % 3, i) for i in range(len(parts))] \
        if len(parts) != len(SHARD_NAMES) else SHARD_NAMES
    holders = holders or {"all": list(range(len(parts)))}
    roots = {}
    for w, idx in holders.items():
        roots[w] = os.path.join(tmp, "root-" + w)
        for i in idx:
            path = os.path.join(roots[w], names[i])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.save(path, parts[i])
    lines = ["# shards in order"] + [
        n + (" %d" % parts[i].size if i in counts else "")
        for i, n in enumerate(names)]
    manifest = os.path.join(tmp, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    return manifest, roots, names, save(tmp, "all", np.concatenate(parts))


def shard_grid(tmp, manifest, roots, args, kill_at=None, delay=0):
    """A coordinator over the manifest and one worker per root; with
    kill_at, the first worker is SIGKILLed as that round starts."""
    coord = ["--shards", manifest, "--timeout", 60, "--json"] + list(args)
    with gu.Grid(tmp, coord) as g:
        for w, root in roots.items():
            g.worker(w, "--shard-root", root, "--task-delay-ms", delay)
        if kill_at:
            g.coord.wait_line(kill_at, 60)
            time.sleep(0.06)
            g.kill(sorted(roots)[0])
        return g.result()


@suite.test
def shards_give_the_one_box_bits(tmp):
    rng = np.random.default_rng(8)
    cases = {
        "float32": [(rng.standard_normal(n) * 50).astype(np.float32)
                    for n in SHARD_LENGTHS],
        "float64": [rng.lognormal(0, 2, n) * rng.choice([-1, 1], n)
                    for n in SHARD_LENGTHS],
        "int16": [rng.integers(-2 ** 15, 2 ** 15, n, dtype=np.int16)
                  for n in SHARD_LENGTHS],
    }
    cases["float32"][2][::501] = np.nan
    cases["float64"][3][:700] = 0.0  # ties across shards
    cases["float64"][4][:10] = 0.0
    for dt, parts in cases.items():
        sub = os.path.join(tmp, dt)
        os.makedirs(sub)
        manifest, roots, _, allp = make_shards(sub, parts, SHARD_HOLDERS)
        x = np.load(allp)
        nan = "omit" if dt == "float32" else "propagate"
        for ordinary in ("count,sum,max,argmin,", ""):
            for method in ("linear", "nearest"):
                # exact mode: the sum's bits do not depend on the split
                args = ["--ops", ordinary + QOPS, "--q", QARG, "--method",
                        method, "--nan", nan, "--bins", "16", "--mode",
                        "exact"]
                want = one_box(allp, *args)
                check_numpy(want["results"], x, method, nan)
                got = shard_grid(sub, manifest, roots, args)
                assert got["count"] == x.size and got["dtype"] == dt, got
                cu.same_bits(got["results"], want["results"],
                          "%s shards %s %r" % (dt, method, ordinary))
                gu.check_grid_object(got)
        # the rounds without ordinary ops: the hist range (which also
        # finds the shards' sizes), the hist, the sketch, the dtype's
        # selection passes; one task per shard each
        passes = {"float32": 2, "float64": 4, "int16": 1}[dt]
        rounds = 3 + passes
        assert got["grid"]["tasks"] == rounds * len(parts), got["grid"]
    # NaN under propagate: no automatic hist range, as numpy (exit 2)
    sub = os.path.join(tmp, "float32")
    with gu.Grid(sub, ["--shards", os.path.join(sub, "manifest.txt"),
                       "--timeout", 60, "--ops", "median,hist"]) as g:
        for w in SHARD_HOLDERS:
            g.worker(w, "--shard-root", os.path.join(sub, "root-" + w))
        rc, _, err = g.wait(60)
    if rc != 2 or "holds NaN" not in err or "--range" not in err:
        raise AssertionError("rc %d: %s" % (rc, err[-800:]))


@suite.test
def shards_in_one_command_and_raw(tmp):
    rng = np.random.default_rng(9)
    parts = [rng.integers(0, 1000, n, dtype=np.uint32)
             for n in (4096, 1, 9000, 333)]
    manifest, roots, names, allp = make_shards(tmp, parts)
    args = ["--ops", "mean,median,quantile,hist", "--q", "0.5,0.99",
            "--method", "higher", "--range", "0,1000", "--bins", "7"]
    want = one_box(allp, *args)
    p = cu.run(["grid", "--workers", 2, "--devices", "host", "--json",
                "--shards", manifest, "--shard-root", roots["all"]] + args,
               timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    cu.same_bits(cu.json.loads(p.stdout)["results"], want["results"],
              "one-command grid")
    # the same shards as raw little-endian u32 files
    for n, a in zip(names, parts):
        with open(os.path.join(roots["all"], n[:-4] + ".bin"), "wb") as f:
            f.write(a.astype("<u4").tobytes())
    raw = os.path.join(tmp, "raw.txt")
    with open(raw, "w") as f:
        f.write("\n".join(n[:-4] + ".bin" for n in names) + "\n")
    got = shard_grid(tmp, raw, roots, ["--raw", "--dtype", "u32"] + args)
    cu.same_bits(got["results"], want["results"], "raw shards")


@suite.test
def worker_killed_during_a_shard_selection_pass(tmp):
    rng = np.random.default_rng(10)
    parts = [rng.standard_normal(3000 + 17 * i) for i in range(12)]
    # both workers hold every shard, so the survivor can redo any task
    manifest, _, _, allp = make_shards(tmp, parts)
    root = os.path.join(tmp, "root-all")
    roots = {"a": root, "b": root}
    args = ["--ops", "median,quantile", "--q", QARG]
    want = one_box(allp, *args)
    cu.same(cu.num(want["results"]["median"]),
            float(np.median(np.load(allp))), "median")
    for at in ("selection pass 1", "selection pass 3"):
        doc = shard_grid(tmp, manifest, roots, args, kill_at=at, delay=40)
        cu.same_bits(doc["results"], want["results"], "killed at " + at)
        if doc["grid"]["failures"] + doc["grid"]["unstarted"] < 1:
            raise AssertionError("the kill cost nothing: %r" % doc["grid"])


def shard_changed(tmp, how, needle):
    """One worker; after the first round, shard s0 is changed as `how`
    says: its task fails on every try, the job fails naming the shard and
    why, and the worker stays up."""
    rng = np.random.default_rng(11)
    parts = [rng.standard_normal(5000), rng.standard_normal(6000)]
    manifest, roots, names, _ = make_shards(tmp, parts)
    s0 = os.path.join(roots["all"], names[0])
    coord = ["--shards", manifest, "--timeout", 60, "--ops", "median"]
    with gu.Grid(tmp, coord) as g:
        w = g.worker("w", "--shard-root", roots["all"], "--task-delay-ms",
                     150)
        # the delay runs before a task reads its shard: change it now
        g.coord.wait_line("round 2: selection pass 1", 60)
        how(s0)
        rc, _, err = g.wait(60)
        alive = w.alive()
    if rc != 1 or "shard '%s' failed" % names[0] not in err or \
            needle not in err:
        raise AssertionError("rc %d, want 1 and %r: %s" % (rc, needle,
                                                           err[-1500:]))
    if not alive:
        raise AssertionError("the worker died: %s" % w.stderr()[-800:])


@suite.test
def shard_truncated_rewritten_or_removed_between_rounds(tmp):
    def truncate(p):
        os.truncate(p, os.path.getsize(p) - 800)

    def rewrite(p):
        np.save(p, np.zeros(4999))

    for name, how, needle in (
            ("truncated", truncate, "truncated"),
            ("rewritten", rewrite,
             "holds 4999 elements; the job's first round counted 5000"),
            ("removed", os.unlink, "s0.npy")):
        sub = os.path.join(tmp, name)
        os.makedirs(sub)
        shard_changed(sub, how, needle)


def qresult(job, task, payload, elements, name=b"forger"):
    return gu_header(RESULT, job) + struct.pack(
        "<QIQQQBI", task, 1, elements, 0, 0, len(name), len(payload)) + \
        name + payload


def gu_header(ftype, job):
    return b"EGGF" + struct.pack("<HBBQ", 2, ftype, 0, job)


@suite.test
def bad_quantile_payloads_are_refused(tmp):
    x = np.random.default_rng(6).standard_normal(16 * ELEMS).astype(
        np.float32)
    path = save(tmp, "bad", x)
    args = ["--ops", "median,hist", "--bins", "5"]
    want = one_box(path, *args)
    hs = b"EGHS" + struct.pack("<HBBI4xQQQQQ", 1, 0, 1, 5, 0, 0, 0, 0, 0) + \
        b"\0" * 40
    bad = [
        b"EGQR" + b"\0" * 12,                                # kind 0
        b"EGQR" + struct.pack("<HBBQ", 9, 1, 0, 4096) + hs,  # version
        b"EGQR" + struct.pack("<HBBQ", 1, 1, 0, 4096) + hs[:-8],  # short
        b"EGQR" + struct.pack("<HBBQ", 1, 3, 0, 4096) +
        struct.pack("<II", 99, 0),                            # 99 buckets
        b"EGQR" + struct.pack("<HBBQ", 1, 2, 0, 4096) + b"EGSK" + b"\0" * 4,
        b"EGQR" + struct.pack("<HBBQ", 1, 1, 0, 7) + hs,      # wrong count
    ]
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    try:
        with gu.Grid(tmp, ["--timeout", 60, "--json"] + args + [path]) as g:
            push.connect(g.results)
            for i, p in enumerate(bad):
                elements = 7 if i == len(bad) - 1 else 4096
                push.send(qresult(0, 0, p, elements))
            # an oversized message: beyond any RESULT
            push.send(b"\0" * (40 << 20))
            time.sleep(0.3)
            g.worker("honest", "--task-delay-ms", 5)
            doc = g.result()
    finally:
        push.close()
        ctx.term()
    cu.same_bits(doc["results"], want["results"], "after bad payloads")
    if doc["grid"]["rejected"] < len(bad):
        raise AssertionError("rejected %d of %d bad frames" % (
            doc["grid"]["rejected"], len(bad)))


@suite.test
def bad_usage_on_the_grid(tmp):
    path = save(tmp, "u", np.arange(10.0))
    base = ["grid", "--workers", 1, "--devices", "host"]
    for args, needle in (
            (["--ops", "quantile", "--q", "1.5"], "--q"),
            (["--ops", "sum", "--q", "0.5"], "--q"),
            (["--ops", "hist", "--bins", "0"], "--bins"),
            (["--ops", "hist", "--range", "2,1"], "--range"),
            (["--ops", "approx_quantile", "--q", "0.5", "--rel-err", "0.7"],
             "--rel-err"),
            (["--ops", "median,dot", "--with", path], "dot")):
        cu.expect_fail(base + args + [path], 2, contains=needle)
    cu.expect_fail(["coordinator", "--tasks", "tcp://127.0.0.1:*",
                    "--results", "tcp://127.0.0.1:*", "--ops", "median",
                    "--noop-tasks", 3], 2, contains="--noop-tasks")
    manifest = os.path.join(tmp, "m.txt")
    with open(manifest, "w") as f:
        f.write("u.npy\n")
    cu.expect_fail(base + ["--ops", "median", "--axis", "0", "--shards",
                           manifest, "--shard-root", tmp], 2,
                   contains="--shards")


if __name__ == "__main__":
    suite.main()
