"""median, quantile, approx_quantile and hist on the grid, with real
processes on 127.0.0.1: each is a round of tasks (hist without --range a
min/max round first; quantile and median one round per selection pass), and
the answer must have the bits of a one-box `edgegrid reduce` and equal
numpy's (quantile for every method, nanquantile, histogram) with 1 and 2
workers; a worker SIGKILLed during a selection pass (by --die-on-task in the
first pass, by the test in the second) must not change it; quantile
payloads that are malformed, oversized or of the wrong kind are refused and
counted, and the answer stays right.
"""

import math
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


def bits(v):
    """A JSON value with the sign of zero and NaN made comparable."""
    v = cu.num(v)
    if isinstance(v, float):
        return ("nan",) if math.isnan(v) else struct.pack("<d", v)
    return v


def same_bits(got, want, what):
    if isinstance(want, dict):
        if sorted(got) != sorted(want):
            raise AssertionError("%s: keys %r, want %r" % (what, sorted(got),
                                                          sorted(want)))
        for k in want:
            same_bits(got[k], want[k], "%s.%s" % (what, k))
    elif isinstance(want, list):
        if len(got) != len(want):
            raise AssertionError("%s: %d values, want %d" % (
                what, len(got), len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            same_bits(g, w, "%s[%d]" % (what, i))
    elif bits(got) != bits(want):
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


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
                same_bits(got["results"], want["results"],
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
            same_bits(got["results"], want["results"], "%s %d" % (name, n))


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
        same_bits(got["results"], want["results"], "edges %d" % n)
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
    same_bits(got["results"], want["results"], "64 q values")
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
    with gu.Grid(tmp, coord) as g:
        g.worker("doomed", "--die-on-task", 1, "--task-delay-ms", 20)
        g.worker("steady", "--task-delay-ms", 20)
        doc = g.result()
    same_bits(doc["results"], want["results"], "killed in pass 1")
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
    same_bits(doc["results"], want["results"], "killed in pass 2")
    if doc["grid"]["failures"] + doc["grid"]["unstarted"] < 1:
        raise AssertionError("the kill cost nothing: %r" % doc["grid"])


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
    same_bits(doc["results"], want["results"], "after bad payloads")
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
            (["--ops", "median", "--axis", "0"], "--axis"),
            (["--ops", "median,dot", "--with", path], "dot")):
        cu.expect_fail(base + args + [path], 2, contains=needle)
    cu.expect_fail(["coordinator", "--tasks", "tcp://127.0.0.1:*",
                    "--results", "tcp://127.0.0.1:*", "--ops", "median",
                    "--shards", path], 2, contains="--shards")


if __name__ == "__main__":
    suite.main()
