"""Structured reductions on the grid (--axis, --by), with real processes on
127.0.0.1: every output element (a column, a row, a group) must have the
bits of a one-box `edgegrid reduce` with the task size as its chunk, with
1 and 2 workers and with a worker killed mid-job; the values are also
checked against numpy, and the .npz read back.

A task is one chunk of the segments of some output elements; its RESULT
carries one state per segment (frame version 2).
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
ELEMS = 4096  # elements per task: the one-box reference's chunk
OPS = "count,sum,mean,std,min,max,argmin,argmax"


def one_box(path, *args):
    return gu.reduce_ref(path, "--ops", OPS, *args, chunk=ELEMS)


def same_arrays(got, want, what):
    """Every result array bit for bit (NaN equal to NaN), and the shape."""
    if got["result_shape"] != want["result_shape"]:
        raise AssertionError("%s: shape %r, want %r" % (
            what, got["result_shape"], want["result_shape"]))
    if got.get("groups") != want.get("groups"):
        raise AssertionError("%s: groups differ" % what)
    for op, v in want["results"].items():
        a = np.array(v, dtype=object).ravel()
        b = np.array(got["results"][op], dtype=object).ravel()
        if a.size != b.size:
            raise AssertionError("%s %s: %d values, want %d" % (
                what, op, b.size, a.size))
        for i in range(a.size):
            cu.same(cu.num(b[i]), cu.num(a[i]), "%s %s[%d]" % (what, op, i))


def local_grid(path, workers, *args):
    out = cu.ok(["grid", "--workers", workers, "--devices", "host",
                 "--task-bytes", ELEMS * 4, "--timeout", 120, "--json",
                 "--ops", OPS, *args, path])
    import json
    return json.loads(out)


def sums_near(got, x, axis, what):
    """Each output's sum within the fast bound of its own elements."""
    ref = x.astype(np.float64).sum(axis=axis)
    mag = np.abs(x.astype(np.float64)).sum(axis=axis)
    g = np.array([cu.num(v) for v in np.array(got, dtype=object).ravel()])
    if g.shape != ref.ravel().shape:
        raise AssertionError("%s: %d sums, want %d" % (what, g.size, ref.size))
    err = np.abs(g - ref.ravel())
    tol = cu.FAST_BOUND * mag.ravel() + 1e-6 * mag.ravel() / max(x.size, 1)
    # numpy's float64 sum is itself off by about n * eps * sum|x|
    tol += mag.ravel() * 2.0 ** -40
    if np.any(err > tol):
        i = int(np.argmax(err - tol))
        raise AssertionError("%s: sum[%d] %r, numpy %r" % (what, i, g[i],
                                                           ref.ravel()[i]))


@suite.test
def columns_and_rows_one_and_two_workers(tmp):
    rng = np.random.default_rng(11)
    # 3 full chunks and a part per column: multi-chunk segments
    x = (rng.standard_normal((3 * ELEMS + 123, 8)) * 1e3).astype(np.float32)
    x[5, 3] = np.nan
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    for axis in ("0", "-1"):
        want = one_box(path, "--axis", axis)
        for workers in (1, 2):
            doc = local_grid(path, workers, "--axis", axis)
            same_arrays(doc, want, "--axis %s, %d worker(s)" % (axis, workers))
            gu.check_grid_object(doc)
        sums_near(doc["results"]["sum"], x, int(axis), "--axis " + axis)
    # rows of a wide 2-D array: more outputs than one task carries
    w = rng.standard_normal((3000, 50))
    wpath = os.path.join(tmp, "w.npy")
    np.save(wpath, np.asfortranarray(w))
    want = one_box(wpath, "--axis", "1", "--keepdims")
    doc = local_grid(wpath, 2, "--axis", "1", "--keepdims")
    same_arrays(doc, want, "--axis 1 --keepdims (Fortran order)")
    if doc["grid"]["tasks"] < 3:
        raise AssertionError("3000 rows in %d task(s)" % doc["grid"]["tasks"])
    sums_near(doc["results"]["sum"], w, 1, "rows")


@suite.test
def groups_and_npz(tmp):
    rng = np.random.default_rng(12)
    n = 5 * ELEMS + 7
    x = rng.integers(-2 ** 40, 2 ** 40, (n, 3), dtype=np.int64)
    # one big group (several chunks), many small ones, negative keys
    keys = np.where(rng.random(n) < 0.5, 7,
                    rng.integers(-300, 300, n)).astype(np.int16)
    path = os.path.join(tmp, "x.npy")
    kpath = os.path.join(tmp, "k.npy")
    np.save(path, x)
    np.save(kpath, keys)
    want = one_box(path, "--by", kpath)
    npz = os.path.join(tmp, "r.npz")
    for workers in (1, 2):
        doc = local_grid(path, workers, "--by", kpath, "-o", npz)
        same_arrays(doc, want, "--by, %d worker(s)" % workers)
    groups = np.unique(keys)
    if doc["groups"] != [int(g) for g in groups]:
        raise AssertionError("groups %r..." % doc["groups"][:5])
    r = np.load(npz)
    exact = np.array([[int(v) for v in x[keys == g, c].astype(object).sum(
        axis=0).ravel()] for g in groups for c in [slice(None)]],
        dtype=object).reshape(len(groups), 3)
    for gi in range(len(groups)):
        for c in range(3):
            cu.same(int(r["sum"][gi, c]), exact[gi, c], "npz sum[%d,%d]"
                    % (gi, c))
    first = np.array([np.flatnonzero(keys == g)[np.argmin(x[keys == g], axis=0)]
                      for g in groups])
    if not np.array_equal(r["argmin"], first):
        raise AssertionError("argmin rows differ from pandas' idxmin")
    if not np.array_equal(r["groups"], groups.astype(np.int64)):
        raise AssertionError("npz groups differ")


@suite.test
def exact_mode_per_group(tmp):
    rng = np.random.default_rng(13)
    n = 2 * ELEMS + 99
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n)
    keys = rng.integers(0, 40, n).astype(np.uint8)
    path = os.path.join(tmp, "x.npy")
    kpath = os.path.join(tmp, "k.npy")
    np.save(path, x)
    np.save(kpath, keys)
    want = one_box(path, "--by", kpath, "--mode", "exact")
    doc = local_grid(path, 2, "--by", kpath, "--mode", "exact")
    same_arrays(doc, want, "exact --by")
    for gi, g in enumerate(np.unique(keys)):
        cu.same(cu.num(doc["results"]["sum"][gi]), cu.fsum_exact(x[keys == g]),
                "exact sum of group %d" % g)


@suite.test
def many_short_segments_fast_and_exact(tmp):
    """Rows of 64: a task carries hundreds of states.  Fast mode sends them
    compact (no exact block) and must still give the one-box bits; exact
    mode sends the full block, and its row sums must be the correctly
    rounded ones (a state that lost its block would sum to 0)."""
    rng = np.random.default_rng(15)
    x = (rng.standard_normal((3 * ELEMS + 77, 64)) *
         10.0 ** rng.integers(-6, 6, (3 * ELEMS + 77, 64))).astype(np.float32)
    x[9, 5] = np.nan
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    want = one_box(path, "--axis", "-1")
    doc = local_grid(path, 2, "--axis", "-1")
    same_arrays(doc, want, "fast rows of 64, 2 workers")
    gg = gu.check_grid_object(doc)
    if gg["tasks"] < 3 or gg["rejected"] != 0:
        raise AssertionError("fast rows: %r" % gg)
    sums_near(doc["results"]["sum"], x, 1, "fast rows of 64")
    want = one_box(path, "--axis", "-1", "--mode", "exact")
    doc = local_grid(path, 2, "--axis", "-1", "--mode", "exact")
    same_arrays(doc, want, "exact rows of 64, 2 workers")
    if gu.check_grid_object(doc)["rejected"] != 0:
        raise AssertionError("exact rows: results rejected")
    sums = doc["results"]["sum"]
    for r in (0, 1, 4096, 3 * ELEMS + 76):
        cu.same(cu.num(sums[r]), cu.fsum_exact(x[r].astype(np.float64)),
                "exact sum of row %d" % r)
    if not cu.num(sums[9]) != cu.num(sums[9]):
        raise AssertionError("row 9 holds a NaN: sum %r" % sums[9])


@suite.test
def worker_killed_mid_job(tmp):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((80 * ELEMS // 4, 4)).astype(np.float32)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    args = ["--task-bytes", ELEMS * 4, "--timeout", 60, "--json", "--ops",
            OPS, "--axis", "0", path]
    want = one_box(path, "--axis", "0")
    with gu.Grid(tmp, args) as g:
        g.worker("steady", "--task-delay-ms", 25, wait=True)
        g.worker("doomed", "--task-delay-ms", 25, wait=True)
        g.mark()
        g.at(0.4)
        if not g.coord.alive():
            raise AssertionError("the job ended before the kill")
        g.kill("doomed")
        doc = g.result(timeout=60)
        err = g.coord.stderr()
    same_arrays(doc, want, "--axis 0 with a kill")
    gg = gu.check_grid_object(doc)
    if "worker doomed lost" not in err:
        raise AssertionError("no loss logged:\n%s" % err[-2000:])
    if gg["redispatched"] < 1:
        raise AssertionError("a kill but nothing sent again: %r" % gg)


@suite.test
def bad_structured_options_are_usage_errors(tmp):
    x = np.zeros((10, 2), dtype=np.float32)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    k = os.path.join(tmp, "k.npy")
    np.save(k, np.zeros(9, dtype=np.int32))
    for args, want in (
            (["--axis", "2"], "axis"),
            (["--axis", "0", "--by", k], "--by"),
            (["--by", k], "9 keys"),
            (["--keepdims"], "--keepdims needs --axis"),
            (["-o", os.path.join(tmp, "r.npz")], "-o writes")):
        p = cu.run(["grid", "--workers", 1, "--devices", "host", *args, path])
        if p.returncode != 2:
            raise AssertionError("%r: exit %d, want 2: %s" % (
                args, p.returncode, p.stderr.decode()))
        if want not in p.stderr.decode():
            raise AssertionError("%r: stderr %r lacks %r" % (
                args, p.stderr.decode(), want))


if __name__ == "__main__":
    suite.main()
