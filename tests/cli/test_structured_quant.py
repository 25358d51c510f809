"""`edgegrid reduce --axis/--by` with median, quantile, approx_quantile and
hist, against numpy 1.24 (Debian's) and pandas.

Per column and per group, bit for bit: numpy.quantile(x, q, axis=A,
method=M, keepdims=K) for every method (nanquantile under --nan omit),
numpy.median, numpy.histogram of each column alone (its own range, or the
shared --range); pandas' groupby().quantile() as a second reference for
--by; approx_quantile within --rel-err of numpy's method=lower element per
column.  Shapes of 1-3 dims, several axis combinations, keepdims, Fortran
order, big-endian, integer dtypes (lower/higher/nearest stay integers),
NaN in some columns only, an empty axis (NaN, as the flat op gives), -o
npz read back by numpy, and the bad inputs that exit 2.
"""

import math
import os
import sys
import warnings

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]
QS = [0.0, 0.5, 0.9, 1.0, 1 / 3, 0.01]
QARG = ",".join(repr(q) for q in QS)
HOST = ["--devices", "host"]


def save(tmp, name, a):
    path = os.path.join(tmp, name + ".npy")
    np.save(path, a)
    return path


def axes_arg(axis):
    return ",".join(str(a) for a in axis) if isinstance(axis, tuple) \
        else str(axis)


def quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*a, **kw)


def assert_array(got, want, what, ints=False):
    """A nested JSON list against a numpy array: same shape, same values
    (NaN equal to NaN), integers as JSON ints when `ints`."""
    g = np.array(got, dtype=object)
    want = np.asarray(want)
    assert g.shape == want.shape, (what, g.shape, want.shape)
    for idx in np.ndindex(want.shape):
        w = want[idx]
        w = int(w) if want.dtype.kind in "iu" else float(w)
        v = cu.num(g[idx])
        if ints:
            assert isinstance(v, int) and not isinstance(v, bool), (what, v)
        cu.same(v, w, "%s %s" % (what, idx))


def np_quantile(x, axis, m, nan, keepdims=False):
    f = np.nanquantile if nan == "omit" else np.quantile
    return quiet(f, x, np.array(QS), axis=axis, method=m, keepdims=keepdims)


def check_axis(tmp, name, x, axis, keepdims=False, nans=("propagate",)):
    path = save(tmp, name, x)
    extra = ["--keepdims"] if keepdims else []
    for nan in nans:
        for m in METHODS:
            got = cu.reduce_json(path, *HOST, "--ops", "median,quantile",
                                 "--q", QARG, "--method", m, "--nan", nan,
                                 "--axis", axes_arg(axis), *extra)
            res = got["results"]
            want = np_quantile(x, axis, m, nan, keepdims)
            ints = x.dtype.kind in "iu" and m in ("lower", "higher",
                                                  "nearest")
            assert_array(res["quantile"], want, "%s %s %s quantile" % (
                name, m, nan), ints)
            fm = np.nanmedian if nan == "omit" else np.median
            assert_array(res["median"],
                         quiet(fm, x, axis=axis, keepdims=keepdims),
                         "%s %s median" % (name, nan))
            assert got["result_shape"] == list(want.shape[1:]), got


# ------------------------------------------------------------ per axis

@suite.test
def axis_float_2d(tmp):
    rng = np.random.default_rng(3)
    for dt in (np.float32, np.float64):
        x = rng.normal(size=(1001, 5)).astype(dt)
        x[3, 1] = np.nan            # NaN in column 1 only
        x[:, 4] = np.round(x[:, 4])  # ties
        x[10, 3] = np.inf
        x[11, 3] = -0.0
        check_axis(tmp, "f%d" % x.itemsize, x, 0,
                   nans=("propagate", "omit"))
        check_axis(tmp, "f%d_rows" % x.itemsize, x, 1,
                   nans=("propagate", "omit"))


@suite.test
def axis_int_dtypes(tmp):
    rng = np.random.default_rng(5)
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64,
               np.uint64):
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=(257, 3), dtype=dt,
                         endpoint=True)
        x[0, 0], x[1, 0] = info.min, info.max  # wrapping differences
        check_axis(tmp, np.dtype(dt).name, x, 0)


@suite.test
def axis_3d_combinations(tmp):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(7, 6, 5))
    for axis in (0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2)):
        check_axis(tmp, "c", x, axis)
    check_axis(tmp, "keep", x, (0, 2), keepdims=True)
    check_axis(tmp, "fortran", np.asfortranarray(x), (0, 1))
    check_axis(tmp, "big", x.astype(">f8"), 1)
    check_axis(tmp, "big32", x.astype(">f4"), (1, 2))


@suite.test
def axis_long_columns(tmp):
    # columns long enough for the threaded, multi-pass selection
    rng = np.random.default_rng(9)
    x = rng.normal(size=(400_000, 3)).astype(np.float32)
    x[:, 2] = np.round(x[:, 2] * 4)  # ties
    x[17, 1] = np.nan
    path = save(tmp, "long", x)
    for m in ("linear", "nearest"):
        for nan in ("propagate", "omit"):
            got = cu.reduce_json(path, *HOST, "--ops", "median,quantile,"
                                 "approx_quantile", "--q", QARG, "--method",
                                 m, "--nan", nan, "--axis", "0")
            res = got["results"]
            assert_array(res["quantile"], np_quantile(x, 0, m, nan),
                         "long %s %s" % (m, nan))
            fm = np.nanmedian if nan == "omit" else np.median
            assert_array(res["median"], quiet(fm, x, axis=0), "long median")
            assert cu.is_nan(cu.num(res["approx_quantile"][1][1])) == (
                nan == "propagate")


@suite.test
def sort_paths(tmp):
    # short columns sort their keys: below 256 by comparisons, above by
    # bytes; ties, sorted and reversed columns on both sides
    rng = np.random.default_rng(10)
    for rows in (17, 255, 256, 3000):
        for name, x in (("ties", rng.integers(0, 3, (rows, 6))),
                        ("sorted", np.tile(np.arange(rows), (6, 1)).T),
                        ("reversed", np.tile(np.arange(rows)[::-1],
                                             (6, 1)).T),
                        ("normal", rng.normal(size=(rows, 6)))):
            for dt in (np.float64, np.int16):
                path = save(tmp, "s", x.astype(dt))
                got = cu.reduce_json(path, *HOST, "--ops", "quantile",
                                     "--q", QARG, "--method", "lower",
                                     "--axis", "0")
                assert_array(got["results"]["quantile"],
                             np.quantile(x.astype(dt), QS, axis=0,
                                         method="lower"),
                             "%s %d %s" % (name, rows, np.dtype(dt).name))


@suite.test
def axis_empty(tmp):
    # an empty axis gives NaN per column, as the flat op does for an empty
    # array (numpy raises there instead)
    x = np.zeros((0, 3), np.float64)
    path = save(tmp, "empty", x)
    got = cu.reduce_json(path, *HOST, "--ops", "median,quantile,hist",
                         "--q", "0.5", "--axis", "0")
    res = got["results"]
    assert all(cu.is_nan(cu.num(v)) for v in res["median"]), res
    assert all(cu.is_nan(cu.num(v)) for v in res["quantile"][0]), res
    assert res["hist"]["counts"] == [[0] * 10] * 3, res["hist"]
    assert res["hist"]["edges"][0] == np.histogram(x[:, 0])[1].tolist()


@suite.test
def axis_with_ordinary_ops(tmp):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(300, 4))
    path = save(tmp, "mix", x)
    got = cu.reduce_json(path, *HOST, "--ops", "mean,max,median,quantile",
                         "--q", "0.25,0.75", "--axis", "0")
    res = got["results"]
    assert_array(res["max"], x.max(axis=0), "max")
    assert np.allclose(np.array(res["mean"], float), x.mean(axis=0),
                       rtol=1e-14)
    assert_array(res["median"], np.median(x, axis=0), "median")
    assert_array(res["quantile"], np.quantile(x, [0.25, 0.75], axis=0), "q")
    # the table names every op
    out = cu.ok(["reduce", *HOST, "--ops", "mean,median,hist", "--axis",
                 "0", path])
    for word in ("mean", "median", "hist", "counts", "edges"):
        assert word in out, out


# ------------------------------------------------------------ approx

@suite.test
def approx_per_column(tmp):
    rng = np.random.default_rng(21)
    x = np.stack([rng.lognormal(0, 2, 200_000),
                  -rng.pareto(1.5, 200_000),
                  rng.normal(size=200_000)], axis=1)
    path = save(tmp, "heavy", x)
    for rel in (0.01, 0.001):
        got = cu.reduce_json(path, *HOST, "--ops", "approx_quantile", "--q",
                             QARG, "--rel-err", repr(rel), "--axis", "0")
        vals = got["results"]["approx_quantile"]
        want = np.quantile(x, QS, axis=0, method="lower")
        for i, q in enumerate(QS):
            for c in range(3):
                cu.near_rel(cu.num(vals[i][c]), float(want[i, c]), rel,
                            "approx q=%r col %d rel %r" % (q, c, rel))


# -------------------------------------------------------------- hist

def check_hist_axis(tmp, name, x, axis, bins, rng=None, nan="propagate"):
    path = save(tmp, name, x)
    args = ["--ops", "hist", "--bins", str(bins), "--nan", nan, "--axis",
            str(axis)]
    if rng is not None:
        args += ["--range", "%r,%r" % rng]
    h = cu.reduce_json(path, *HOST, *args)["results"]["hist"]
    cols = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    for c, col in enumerate(cols):
        ref = col[~np.isnan(col)] if (col.dtype.kind == "f" and
                                      rng is None) else col
        counts, edges = np.histogram(ref, bins=bins, range=rng)
        assert h["counts"][c] == counts.tolist(), (name, c, h["counts"][c],
                                                   counts)
        e = h["edges"] if rng is not None else h["edges"][c]
        assert len(e) == bins + 1
        for g, w in zip(e, edges.tolist()):
            cu.same(cu.num(g), float(w), "%s col %d edge" % (name, c))
        nan_n = int(np.isnan(col).sum()) if col.dtype.kind == "f" else 0
        assert h["nan"][c] == nan_n
        assert (h["below"][c] + h["above"][c] + h["nan"][c] +
                sum(h["counts"][c])) == col.size
    if rng is not None:  # one set of edges for every column
        assert not isinstance(h["edges"][0], list), h["edges"]


@suite.test
def hist_per_column(tmp):
    rng = np.random.default_rng(31)
    x = rng.normal(size=(2000, 4)).astype(np.float32)
    x[:, 2] *= 100
    x[5, 1] = np.nan
    check_hist_axis(tmp, "auto_omit", x, 0, 10, nan="omit")
    check_hist_axis(tmp, "shared", x, 0, 7, rng=(-1.0, 1.0))
    check_hist_axis(tmp, "rows", x[:40], 1, 3, nan="omit")
    xi = rng.integers(-50, 50, size=(999, 3)).astype(np.int16)
    check_hist_axis(tmp, "int", xi, 0, 16)
    # columns past the short-segment path (2^16), through the flat passes
    xl = rng.normal(size=(70_000, 2))
    xl[9, 0] = np.nan
    check_hist_axis(tmp, "long", xl, 0, 50, nan="omit")
    check_hist_axis(tmp, "long_range", xl, 0, 50, rng=(-2.0, 2.5))
    edge = np.tile(np.linspace(0, 1, 11), (3, 1)).T  # values on the edges
    check_hist_axis(tmp, "edges", edge, 0, 10)
    check_hist_axis(tmp, "edges_range", edge, 0, 10, rng=(0.0, 1.0))


# ------------------------------------------------------------- per group

def groups_and_keys(n, k, seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(-k, k, size=n).astype(np.int32) * 7  # negative, gaps
    return keys


@suite.test
def by_matches_numpy_and_pandas(tmp):
    import pandas as pd
    rng = np.random.default_rng(41)
    n = 5000
    keys = groups_and_keys(n, 30, 42)
    for dt in (np.float64, np.float32, np.int32):
        x = (rng.normal(size=(n, 3)) * 50).astype(dt)
        if dt != np.int32:
            x[7, 2] = np.nan
        kp = save(tmp, "keys", keys)
        xp = save(tmp, "x", x)
        uk = np.unique(keys)
        for m in METHODS:
            for nan in ("propagate", "omit") if dt != np.int32 else \
                    ("propagate",):
                got = cu.reduce_json(xp, *HOST, "--ops", "median,quantile",
                                     "--q", QARG, "--method", m, "--nan",
                                     nan, "--by", kp)
                assert got["groups"] == uk.tolist()
                want = np.stack([np_quantile(x[keys == k], 0, m, nan)
                                 for k in uk], axis=1)
                ints = dt == np.int32 and m in ("lower", "higher",
                                                "nearest")
                assert_array(got["results"]["quantile"], want,
                             "by %s %s %s" % (np.dtype(dt).name, m, nan),
                             ints)
                fm = np.nanmedian if nan == "omit" else np.median
                assert_array(got["results"]["median"],
                             np.stack([quiet(fm, x[keys == k], axis=0)
                                       for k in uk]), "by median")
                if dt == np.float64 and nan == "omit" and m != "nearest":
                    # pandas skips NaN, as --nan omit; its "nearest"
                    # rounds a half-way index its own way, not numpy's
                    df = pd.DataFrame(x)
                    ref = df.groupby(keys).quantile(QS, interpolation=m)
                    vals = np.array(got["results"]["quantile"], float)
                    for qi, q in enumerate(QS):
                        pv = ref.xs(q, level=1).to_numpy()
                        assert np.allclose(vals[qi], pv, rtol=1e-12,
                                           atol=1e-12, equal_nan=True), (
                            m, q, vals[qi][:3], pv[:3])


@suite.test
def by_2d_rest_and_npz(tmp):
    rng = np.random.default_rng(51)
    x = rng.normal(size=(600, 2, 3))
    keys = rng.integers(0, 4, size=600).astype(np.uint8)
    xp, kp = save(tmp, "x", x), save(tmp, "k", keys)
    out = os.path.join(tmp, "r.npz")
    cu.ok(["reduce", *HOST, "--ops", "count,median,quantile,approx_quantile,"
           "hist", "--q", "0.1,0.5", "--bins", "5", "--by", kp, "-o", out,
           xp])
    d = np.load(out)
    uk = np.unique(keys)
    assert d["groups"].tolist() == uk.tolist()
    want = np.stack([np.quantile(x[keys == k], [0.1, 0.5], axis=0)
                     for k in uk], axis=1)
    assert d["quantile"].shape == (2, len(uk), 2, 3)
    assert np.array_equal(d["quantile"], want)
    assert np.array_equal(d["median"], np.stack(
        [np.median(x[keys == k], axis=0) for k in uk]))
    assert d["approx_quantile"].shape == (2, len(uk), 2, 3)
    assert d["hist_counts"].shape == (len(uk), 2, 3, 5)
    assert d["hist_counts"].dtype == np.int64
    assert d["hist_edges"].shape == (len(uk), 2, 3, 6)
    g, i, j = 2, 1, 0
    c, e = np.histogram(x[keys == uk[g]][:, i, j], bins=5)
    assert d["hist_counts"][g, i, j].tolist() == c.tolist()
    assert np.array_equal(d["hist_edges"][g, i, j], e)
    assert d["count"].tolist() == [[[int((keys == k).sum())] * 3] * 2
                                   for k in uk]


@suite.test
def by_many_groups(tmp):
    rng = np.random.default_rng(61)
    n = 200_000
    keys = rng.integers(0, 20_000, size=n).astype(np.int64)
    x = rng.normal(size=n)
    xp, kp = save(tmp, "x", x), save(tmp, "k", keys)
    got = cu.reduce_json(xp, *HOST, "--ops", "median", "--by", kp)
    order = np.argsort(keys, kind="stable")
    ks, xs = keys[order], x[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    want = [np.median(s) for s in np.split(xs, starts[1:])]
    assert_array(got["results"]["median"], np.array(want), "many groups")


@suite.test
def devices_same_bits(tmp):
    # the ordinary ops on an OpenCL device, the counting on the host's
    # cores: the same bits as --devices host, and a note saying where the
    # counting ran
    import json
    rng = np.random.default_rng(81)
    x = rng.normal(size=(70_000, 3)).astype(np.float32)
    xp = save(tmp, "x", x)
    args = ["--ops", "sum,median,quantile,hist", "--q", "0.3", "--chunk",
            "8192", "--axis", "0", xp]
    host = cu.reduce_json(xp, *HOST, *args[:-1])
    devs = json.loads(cu.ok(["devices", "--json"]))["devices"]
    ocl = [str(d["index"]) for d in devs if d["type"] != "host"]
    for spec in ["all"] + ocl[:1]:
        p = cu.run(["reduce", "--json", "--devices", spec] + args)
        assert p.returncode == 0, p.stderr
        got = json.loads(p.stdout)
        assert got["results"] == host["results"], spec
        # every element reduced once, wherever (units of 8192 elements
        # are below the small-input threshold: the host's lanes take them)
        assert sum(d["elements"] for d in got["devices"]) == x.size, got
        if spec != "all":
            assert b"host's cores" in p.stderr, p.stderr
    if not ocl:
        return
    # rows long enough for the device at the default chunk: the ordinary
    # ops are the OpenCL device's own work (its entry reads every element,
    # no host entry), the counting the host's, the bits those of the host
    y = rng.normal(size=(3, 400_000)).astype(np.float32)
    yp = save(tmp, "y", y)
    args = ["--ops", "sum,min,median,hist", "--axis", "-1", yp]
    host = cu.reduce_json(yp, *HOST, *args[:-1])
    p = cu.run(["reduce", "--json", "--devices", ocl[0]] + args)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["results"] == host["results"]
    assert [(d["id"], d["elements"]) for d in got["devices"]] == \
        [(ocl[0], y.size)], got["devices"]
    assert b"host's cores" in p.stderr, p.stderr
    assert got["results"]["median"] == np.median(y, axis=-1).tolist()


# -------------------------------------------------------- bad input

@suite.test
def bad_inputs(tmp):
    x = np.random.default_rng(71).normal(size=(100, 3))
    x[4, 1] = np.nan
    xp = save(tmp, "x", x)
    kp = save(tmp, "k", np.zeros(100, np.int32))
    line = cu.expect_fail(["reduce", *HOST, "--ops", "hist", "--axis", "0",
                           xp], 2, contains="NaN")
    assert "column [1]" in line, line
    line = cu.expect_fail(["reduce", *HOST, "--ops", "hist", "--by", kp,
                           xp], 2, contains="group 0")
    cu.expect_fail(["reduce", *HOST, "--ops", "quantile", "--q", "1.5",
                    "--axis", "0", xp], 2, contains="q")
    cu.expect_fail(["reduce", *HOST, "--ops", "quantile", "--q", "0.5",
                    "--axis", "2", xp], 2, contains="axis")
    cu.expect_fail(["reduce", *HOST, "--ops", "median", "--axis", "0,0",
                    xp], 2, contains="axis")
    cu.expect_fail(["reduce", *HOST, "--ops", "hist", "--range", "1,0",
                    "--axis", "0", xp], 2)
    cu.expect_fail(["reduce", *HOST, "--ops", "median,dot", "--with", xp,
                    "--axis", "0", xp], 2, contains="dot")
    cu.expect_fail(["reduce", *HOST, "--ops", "median", "--by",
                    save(tmp, "short", np.zeros(7, np.int32)), xp], 2)


if __name__ == "__main__":
    sys.exit(suite.main())
