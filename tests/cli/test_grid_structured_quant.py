"""median, quantile, approx_quantile and hist per axis and per group on the
grid, with real processes on 127.0.0.1: one round of tasks of whole
outputs (after the ordinary ops' round when some are asked).  The answer
must have the bits of a one-box `edgegrid reduce --axis/--by` and equal
numpy's (quantile, nanquantile, median, histogram per column) and pandas'
(groupby().quantile()) with 1 and 2 workers, short segments many to a task
and long ones one to a task; a worker SIGKILLed mid-round must not change
it; -o's npz must hold the same arrays; malformed per-output payloads sent
to the coordinator are refused and counted; bad usage exits 2.
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
ELEMS = 4096  # --task-bytes 4096: small tasks, so a job has many
QS = [0.0, 0.5, 0.9, 1.0, 1 / 3, 0.01]
QARG = ",".join(repr(q) for q in QS)
QOPS = "median,quantile,hist,approx_quantile"
RESULT = 5


def save(tmp, name, a):
    path = os.path.join(tmp, name + ".npy")
    np.save(path, a)
    return path



def quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*a, **kw)


def grid_json(path, workers, *args, timeout=120):
    p = cu.run(["grid", "--workers", workers, "--devices", "host",
                "--task-bytes", ELEMS, "--json", path] + list(args),
               timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("grid exited %d: %s" % (
            p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return cu.json.loads(p.stdout)


def same_as_one_box(got, want, what):
    for key in ("dtype", "shape", "count", "result_shape"):
        assert got[key] == want[key], (what, key, got[key], want[key])
    if "groups" in want:
        assert got["groups"] == want["groups"], (what, "groups")
    cu.same_bits(got["results"], want["results"], what)
    gu.check_grid_object(got)


def check_numpy_axis(res, x, axis, nan, bins):
    """Per column against numpy, independently of edgegrid."""
    fq = np.nanquantile if nan == "omit" else np.quantile
    fm = np.nanmedian if nan == "omit" else np.median
    want_q = quiet(fq, x, np.array(QS), axis=axis)
    got_q = np.array([[cu.num(v) for v in np.ravel(row)]
                      for row in res["quantile"]], dtype=float)
    np.testing.assert_array_equal(got_q, want_q.reshape(len(QS), -1))
    want_m = quiet(fm, x, axis=axis)
    got_m = np.array([cu.num(v) for v in np.ravel(res["median"])],
                     dtype=float)
    np.testing.assert_array_equal(got_m, np.ravel(want_m))
    # approx_quantile within --rel-err (0.01) of numpy's lower element, per
    # column (a column with NaN under propagate gives NaN)
    lower = quiet(np.nanquantile if nan == "omit" else np.quantile, x,
                  np.array(QS), axis=axis, method="lower").reshape(len(QS), -1)
    got_a = np.array([[cu.num(v) for v in np.ravel(row)]
                      for row in res["approx_quantile"]], dtype=float)
    nanw = np.isnan(lower)
    assert (np.isnan(got_a) == nanw).all(), (got_a, lower)
    assert (np.abs(got_a - lower)[~nanw] <=
            0.01 * np.abs(lower)[~nanw] + 1e-300).all(), (got_a, lower)
    # hist per column over its own min and max, as numpy.histogram of that
    # column alone
    cols = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    counts = np.array(res["hist"]["counts"]).reshape(len(cols), bins)
    for j, col in enumerate(cols):
        c = col[~np.isnan(col)] if col.dtype.kind == "f" else col
        want, _ = np.histogram(c, bins=bins)
        assert counts[j].tolist() == want.tolist(), (j, counts[j], want)


def compare_axis(tmp, name, x, axis, nan="propagate", workers=(1, 2),
                 extra=()):
    path = save(tmp, name, x)
    args = ["--axis", str(axis), "--ops", QOPS, "--q", QARG, "--bins", "7",
            "--nan", nan] + list(extra)
    want = gu.reduce_ref(path, *args)
    if "--range" not in extra:
        check_numpy_axis(want["results"], x, axis, nan, 7)
    for n in workers:
        got = grid_json(path, n, *args)
        same_as_one_box(got, want, "%s axis %s %s %d worker(s)" % (
            name, axis, nan, n))
    return got


# ----------------------------------------------------------------- cases

@suite.test
def short_columns_many_to_a_task(tmp):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3000, 8)).astype(np.float32)
    x[::17, 3] = 0.0
    x[5::19, 4] = -0.0
    # --axis -1: 3000 outputs of 8, hundreds to a task
    got = compare_axis(tmp, "rows", x, -1)
    assert got["grid"]["tasks"] > 2, got["grid"]
    # --axis 0: 8 outputs of 3000, a few to a task
    got = compare_axis(tmp, "cols", x, 0)
    assert got["grid"]["tasks"] > 1, got["grid"]


@suite.test
def long_columns_one_to_a_task(tmp):
    # columns of 70,000 (above the short-segment path): eg_quant per column
    rng = np.random.default_rng(2)
    x = rng.lognormal(0, 2, (70000, 3))
    x[::5, 1] *= -1
    got = compare_axis(tmp, "long", x, 0, workers=(2,))
    assert got["grid"]["tasks"] == 3, got["grid"]


@suite.test
def nan_policies_and_ranges(tmp):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((600, 5))
    x[7, 2] = np.nan
    x[100, 4] = np.nan
    compare_axis(tmp, "nanomit", x, 0, nan="omit")
    # under propagate a column with NaN gives NaN; hist needs a range then
    compare_axis(tmp, "nanprop", x, 0, extra=["--range", "-1,1"])
    # ... without one the job fails as one box fails: exit 2 and the same
    # line, naming the column (the worker's failure, reworded)
    path = save(tmp, "nanhist", x)
    kpath = save(tmp, "nank", (np.arange(600) % 3).astype(np.int8))
    for how in (["--axis", "0"], ["--by", kpath]):
        args = ["--devices", "host", "--ops", "hist"] + how + [path]
        g = cu.run(["grid", "--workers", 2] + args)
        r = cu.run(["reduce"] + args)
        gl = g.stderr.decode().strip().splitlines()[-1:]
        rl = r.stderr.decode().strip().splitlines()[-1:]
        assert g.returncode == r.returncode == 2, (g.returncode, gl)
        assert gl == rl and "column [2]" in rl[0], (gl, rl)


@suite.test
def integer_dtypes_keep_their_kind(tmp):
    rng = np.random.default_rng(4)
    for dt in (np.int8, np.uint16, np.int64):
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, (900, 4), dtype=dt,
                         endpoint=True)
        path = save(tmp, np.dtype(dt).name, x)
        for method in ("linear", "lower", "nearest"):
            args = ["--axis", "0", "--ops", "median,quantile,hist", "--q",
                    QARG, "--method", method]
            want = gu.reduce_ref(path, *args)
            ref = np.quantile(x, np.array(QS), axis=0, method=method)
            got = grid_json(path, 2, *args)
            same_as_one_box(got, want, "%s %s" % (dt.__name__, method))
            for i in range(len(QS)):
                for j in range(4):
                    cu.same(cu.num(got["results"]["quantile"][i][j]),
                            ref[i, j].item(), "quantile %d %d" % (i, j))


@suite.test
def groups_match_one_box_numpy_and_pandas(tmp):
    import pandas as pd
    rng = np.random.default_rng(5)
    n = 5000
    keys = rng.integers(-4, 40, n).astype(np.int16)
    x = rng.standard_normal((n, 2)).astype(np.float64)
    x[::11, 1] = np.round(x[::11, 1], 1)  # ties
    path = save(tmp, "gx", x)
    kpath = save(tmp, "gk", keys)
    args = ["--by", kpath, "--ops", "count,mean," + QOPS, "--q", QARG,
            "--bins", "5"]
    want = gu.reduce_ref(path, *args)
    npz = os.path.join(tmp, "g.npz")
    for w in (1, 2):
        got = grid_json(path, w, *(args + ["-o", npz]))
        same_as_one_box(got, want, "by %d worker(s)" % w)
    groups = np.unique(keys)
    assert got["groups"] == groups.tolist()
    # numpy per group, bit for bit; pandas (its own interpolation
    # arithmetic) within an ulp or two
    df = pd.DataFrame({"k": keys, "a": x[:, 0], "b": x[:, 1]})
    for qi, q in enumerate(QS):
        got_q = np.array(got["results"]["quantile"][qi], dtype=float)
        exact = np.array([np.quantile(x[keys == k], q, axis=0)
                          for k in groups])
        np.testing.assert_array_equal(got_q, exact)
        ref = df.groupby("k")[["a", "b"]].quantile(q).to_numpy()
        np.testing.assert_allclose(got_q, ref, rtol=1e-14, atol=1e-300)
    r = np.load(npz)
    for gi, k in enumerate(groups):
        sel = x[keys == k]
        np.testing.assert_array_equal(r["median"][gi],
                                      np.median(sel, axis=0))
        for c in range(2):
            counts, edges = np.histogram(sel[:, c], bins=5)
            assert r["hist_counts"][gi, c].tolist() == counts.tolist()
            np.testing.assert_array_equal(r["hist_edges"][gi, c], edges)
        np.testing.assert_array_equal(r["mean"][gi], np.array(
            [cu.num(v) for v in want["results"]["mean"][gi]]))


@suite.test
def worker_killed_mid_round(tmp):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4000, 6)).astype(np.float32)
    path = save(tmp, "kill", x)
    args = ["--axis", "-1", "--ops", "max," + QOPS, "--q", QARG]
    want = gu.reduce_ref(path, *args)
    coord = ["--timeout", 60, "--task-bytes", ELEMS, "--json"] + args + \
        [path]
    # --die-on-task 1: killed a little into task 1 of the first round (the
    # ordinary ops'; registered first, it is sent tasks 0 and 1), then in
    # the round of whole outputs by the test as soon as that round starts
    with gu.Grid(tmp, coord) as g:
        g.worker("doomed", "--die-on-task", 1, "--task-delay-ms", 20,
                 wait=True)
        g.worker("steady", "--task-delay-ms", 20)
        doc = g.result()
    same_as_one_box(doc, want, "killed by --die-on-task")
    if doc["grid"]["failures"] < 1 or g.workers["doomed"].alive():
        raise AssertionError("no failure counted: %r" % doc["grid"])
    with gu.Grid(tmp, coord) as g:
        g.worker("a", "--task-delay-ms", 40)
        g.worker("b", "--task-delay-ms", 40)
        g.coord.wait_line("whole outputs", 60)
        time.sleep(0.1)
        g.kill("a")
        doc = g.result()
    same_as_one_box(doc, want, "killed in the round of whole outputs")
    if doc["grid"]["failures"] + doc["grid"]["unstarted"] < 1:
        raise AssertionError("the kill cost nothing: %r" % doc["grid"])


def sresult(job, task, payload, elements, name=b"forger"):
    return b"EGGF" + struct.pack("<HBBQ", 2, RESULT, 0, job) + struct.pack(
        "<QIQQQBI", task, 1, elements, 0, 0, len(name), len(payload)) + \
        name + payload


def sr_payload(nseg, n, qops=1, flags=0, nq=0, bins=0, first=0,
               version=1, rec=None):
    head = b"EGSR" + struct.pack("<HBBIIIIQQ", version, qops, flags, nseg,
                                 nq, bins, 0, first, n * nseg)
    if rec is None:
        rec = struct.pack("<Q", n) + b"\x01" + struct.pack("<d", 0.5)
    return head + rec * nseg


@suite.test
def bad_payloads_are_refused(tmp):
    x = np.random.default_rng(7).standard_normal((64, 4))
    path = save(tmp, "bad", x)
    args = ["--axis", "-1", "--ops", "median"]
    want = gu.reduce_ref(path, *args)
    bad = [
        sr_payload(2, 4, version=9),                    # version
        sr_payload(2, 4)[:-3],                          # short
        sr_payload(0, 4),                               # no segments
        sr_payload(2, 4, rec=struct.pack("<Q", 4) + b"\x07" + b"\0" * 8),
        sr_payload(2, 4, qops=8, bins=1,                # hist not adding up
                   rec=struct.pack("<QQQQQ", 4, 1, 0, 0, 0)),
        sr_payload(64, 4),                              # too many for task 0
        sr_payload(1, 4, first=3),                      # other outputs
    ]
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    try:
        with gu.Grid(tmp, ["--timeout", 60, "--json"] + args + [path]) as g:
            push.connect(g.results)
            for p in bad:
                n = struct.unpack_from("<Q", p, 32)[0] if len(p) >= 40 else 0
                push.send(sresult(0, 0, p, n))
            time.sleep(0.3)
            g.worker("honest", "--task-delay-ms", 5)
            doc = g.result()
    finally:
        push.close()
        ctx.term()
    same_as_one_box(doc, want, "after bad payloads")
    if doc["grid"]["rejected"] < len(bad):
        raise AssertionError("rejected %d of %d bad frames" % (
            doc["grid"]["rejected"], len(bad)))


@suite.test
def bad_usage_on_the_grid(tmp):
    path = save(tmp, "u", np.arange(12.0).reshape(3, 4))
    kpath = save(tmp, "k", np.array([1, 2, 1], np.int32))
    base = ["grid", "--workers", 1, "--devices", "host"]
    for args, needle in (
            (["--ops", "quantile", "--q", "1.5", "--axis", "0"], "--q"),
            (["--ops", "hist", "--bins", "0", "--by", kpath], "--bins"),
            (["--ops", "median", "--axis", "2"], "axis"),
            (["--ops", "median", "--axis", "0", "--by", kpath], "--by"),
            (["--ops", "median,dot", "--with", path, "--axis", "0"], "dot")):
        cu.expect_fail(base + args + [path], 2, contains=needle)


if __name__ == "__main__":
    suite.main()
