"""`edgegrid reduce --axis/--keepdims/--by/-o` against numpy and pandas.

- every axis combination of 1- to 4-D shapes, C and Fortran order, both
  byte orders, every dtype: count, sum, mean, min, max, argmin, argmax, var,
  std, l1, l2 per output element against numpy (sums within the fast-mode
  bound 2^-50 * sum|x| of that element's own elements, extremes and indices
  exactly), the result read back from the .npz with numpy.load;
- each output element has the bits of `reduce` of that column alone;
- NaN policies, ddof, empty axes, keepdims, raw input with --shape, stdin,
  dot along an axis;
- --by against pandas' groupby (sum, mean, min, max, count, var, idxmin,
  idxmax): negative, unsorted and all-equal keys, every integer key dtype,
  1 and 100,000 groups;
- exact mode against exact rationals per column;
- two POCL devices and the host give the same bits, each device's element
  count asserted;
- bad input: one line on stderr, exit 2.
"""

import itertools
import json
import math
import os
import sys
from fractions import Fraction

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
NOARG = "count,sum,mean,min,max,var,std,l1,l2"
ALL = NOARG + ",argmin,argmax"
TWO_POCL = {"POCL_DEVICES": "pthread pthread"}


# ------------------------------------------------------------------ helpers

def run_npz(tmp, path, *args, environ=None, stdin=None):
    """reduce --json -o OUT.npz ARGS PATH: (the JSON object, the arrays)."""
    out = os.path.join(tmp, "out.npz")
    if os.path.exists(out):
        os.remove(out)
    j = cu.reduce_json(path, "-o", out, *args, environ=environ, stdin=stdin)
    with np.load(out) as z:
        arrays = {k: z[k] for k in z.files}
    return j, arrays


def data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(cu.NUMPY_NAMES.get(dtype, dtype))
    n = int(np.prod(shape))
    if dt.kind == "f":
        x = rng.normal(3.0, 10.0, n)
    elif dt.kind == "u":
        x = rng.integers(0, min(np.iinfo(dt).max, 1000) + 1, n)
    else:
        lim = min(np.iinfo(dt).max, 1000)
        x = rng.integers(-lim, lim + 1, n)
    return x.astype(dt).reshape(shape)


def save(tmp, name, x, fortran=False):
    path = os.path.join(tmp, name)
    np.save(path, np.asfortranarray(x) if fortran else np.ascontiguousarray(x))
    return path


def exact_sum(col):
    """Exact sum of a 1-D array (floats or ints) as a Fraction."""
    if col.dtype.kind == "f":
        return Fraction(math.fsum(col.astype(np.float64).tolist()))
    return Fraction(int(sum(int(v) for v in col.tolist())))


def columns(x, axes):
    """Output element -> its elements in C order of the reduced axes, as
    numpy's x.reshape of the moved axes gives them."""
    keep = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, keep + list(axes))
    kshape = [x.shape[d] for d in keep]
    return kshape, moved.reshape(int(np.prod(kshape)),
                                 int(np.prod([x.shape[d] for d in axes])))


def check_element(got, ops, col, what, ddof=0):
    """One output element's values (dict op -> value) against numpy."""
    n = col.size
    is_float = col.dtype.kind == "f"
    v = col.astype(np.float64)
    if "count" in ops:
        cu.same(int(got["count"]), n, what + " count")
    if "sum" in ops:
        want = exact_sum(col)
        if is_float:
            tol = 2.0 ** -50 * float(np.abs(v).sum()) + 1e-300
            cu.near_abs(float(got["sum"]), float(want), tol, what + " sum")
        else:
            cu.same(int(got["sum"]), int(want), what + " sum")
    if "mean" in ops:
        if n == 0:
            cu.same(float(got["mean"]), float("nan"), what + " mean")
        else:
            want = float(exact_sum(col) / n)
            tol = 2.0 ** -49 * float(np.abs(v).sum()) / n + 1e-300
            cu.near_abs(float(got["mean"]), want, tol, what + " mean")
    for op, fn, afn in (("min", np.min, np.argmin), ("max", np.max,
                                                      np.argmax)):
        if op in ops and n > 0:
            want = fn(col).item()
            cu.same(got[op].item(), want, what + " " + op)
        if "arg" + op in ops and n > 0:
            cu.same(int(got["arg" + op]), int(afn(col)), what + " arg" + op)
    if n - ddof > 0:
        exact_mean = exact_sum(col) / n
        m2 = sum((Fraction(float(t)) - exact_mean) ** 2 for t in v.tolist()) \
            if n <= 4096 else None
        if m2 is not None:
            want_var = float(m2 / (n - ddof))
            if "var" in ops:
                cu.near_rel(float(got["var"]), want_var, 1e-11, what + " var",
                            abs_tol=1e-300)
            if "std" in ops:
                cu.near_rel(float(got["std"]), math.sqrt(want_var), 1e-11,
                            what + " std", abs_tol=1e-300)
    if "l1" in ops:
        want = float(np.abs(v.astype(np.longdouble)).sum())
        cu.near_rel(float(got["l1"]), want, 1e-14, what + " l1", 1e-300)
    if "l2" in ops:
        want = float(np.sqrt((v.astype(np.longdouble) ** 2).sum()))
        cu.near_rel(float(got["l2"]), want, 1e-14, what + " l2", 1e-300)


def check_axes(tmp, x, axes, ops, fortran=False, extra=(), label=""):
    path = save(tmp, "x.npy", x, fortran)
    arg = ",".join(str(a) for a in axes)
    j, z = run_npz(tmp, path, "--ops", ops, "--axis", arg, *extra)
    norm = sorted(a % x.ndim for a in axes)
    kshape, cols = columns(x, norm)
    cu.same(len(j["result_shape"]), len(kshape), label + " result ndim")
    if list(j["result_shape"]) != kshape:
        raise AssertionError("%s result_shape %r, want %r" % (
            label, j["result_shape"], kshape))
    names = ops.split(",")
    for name in names:
        if list(z[name].shape) != kshape:
            raise AssertionError("%s npz %s shape %r, want %r" % (
                label, name, z[name].shape, kshape))
    for i in range(cols.shape[0]):
        got = {name: z[name].reshape(-1)[i] for name in names}
        check_element(got, names, cols[i], "%s elem %d" % (label, i))
    return j, z


# ----------------------------------------------------------- axes vs numpy

@suite.test
def every_axis_combination_c_and_fortran(tmp):
    shapes = [(7,), (5, 6), (3, 4, 5), (2, 3, 4, 3)]
    for shape in shapes:
        x = data(shape, "f64", seed=len(shape))
        nd = len(shape)
        for k in range(1, nd + 1):
            for axes in itertools.combinations(range(nd), k):
                for fortran in (False, True):
                    ops = ALL if k == 1 else NOARG
                    label = "%r axes %r %s" % (shape, axes, "F" if fortran
                                               else "C")
                    check_axes(tmp, x, list(axes), ops, fortran, label=label)


@suite.test
def negative_axes_and_keepdims(tmp):
    x = data((3, 4, 5), "f32")
    path = save(tmp, "x.npy", x)
    j, z = run_npz(tmp, path, "--ops", "sum,max", "--axis", "-1,-3",
                   "--keepdims")
    if j["result_shape"] != [1, 4, 1] or z["sum"].shape != (1, 4, 1):
        raise AssertionError("keepdims shape %r" % j["result_shape"])
    want = x.astype(np.float64).sum(axis=(0, 2), keepdims=True)
    if not np.allclose(z["sum"], want, rtol=1e-13, atol=0):
        raise AssertionError("keepdims sum %r want %r" % (z["sum"], want))
    if not np.array_equal(z["max"], x.max(axis=(0, 2), keepdims=True)):
        raise AssertionError("keepdims max")
    # the JSON holds nested lists of that shape
    if len(j["results"]["sum"]) != 1 or len(j["results"]["sum"][0]) != 4:
        raise AssertionError("json nesting %r" % j["results"]["sum"])


@suite.test
def every_dtype_and_byte_order(tmp):
    for t in cu.DTYPES:
        for order in ("<", ">"):
            dt = np.dtype(cu.NUMPY_NAMES[t]).newbyteorder(order)
            x = data((40, 3), dt, seed=3)
            for axis in (0, 1):
                _, z = check_axes(tmp, x, [axis], ALL,
                                  label="%s%s axis %d" % (order, t, axis))
            kind = {"f": "float64", "i": "int64", "u": "uint64"}[dt.kind]
            if z["sum"].dtype != np.dtype(kind):
                raise AssertionError("%s sum dtype %s, want %s" % (
                    t, z["sum"].dtype, kind))
            for name in ("count", "argmin", "argmax"):
                if z[name].dtype != np.int64:
                    raise AssertionError("%s %s dtype %s" % (
                        t, name, z[name].dtype))


@suite.test
def each_column_has_the_bits_of_the_column_alone(tmp):
    """Fast mode: column j of --axis 0 equals `reduce` of x[:, j] alone, bit
    for bit, at a chunk size that cuts the columns into several chunks."""
    x = data((20000, 3), "f32", seed=5)
    path = save(tmp, "x.npy", x)
    for chunk in ("4096", "8192", "4194304"):
        j, z = run_npz(tmp, path, "--ops", ALL, "--axis", "0",
                       "--chunk", chunk)
        for c in range(3):
            cp = save(tmp, "c.npy", x[:, c].copy())
            one = cu.reduce_json(cp, "--ops", ALL, "--chunk", chunk)
            for op in ALL.split(","):
                cu.same(cu.num(j["results"][op][c]),
                        cu.num(one["results"][op]),
                        "chunk %s column %d %s" % (chunk, c, op))


def same_as_alone(tmp, got, seg, ops, extra, what, rows=None):
    """got (op -> value of one output element) against `reduce` of its
    elements alone, bit for bit; rows maps argmin/argmax positions to the
    input's rows (--by)."""
    one = cu.reduce_json(save(tmp, "one.npy", seg), "--ops", ops, *extra)
    for op in ops.split(","):
        want = cu.num(one["results"][op])
        if rows is not None and op in ("argmin", "argmax") and \
                isinstance(want, int):
            want = int(rows[want])
        if want is None:
            # no value alone; in an array of other values it reads NaN
            want = got[op] if got[op] is None else float("nan")
        cu.same(cu.num(got[op]), want, "%s %s" % (what, op))


@suite.test
def short_segments_have_the_bits_of_each_segment_alone(tmp):
    """Segments of one lane (1 to 4096 elements: rows of --axis -1, groups
    of --by) go eight at a time through the segmented lane pass: each output
    element equals `reduce` of its row or group alone, bit for bit, for
    rows of 1, 7, 8, 33, 4096 and 4097 elements (the last one the generic
    path), rows holding NaN, inf and a huge f64 (the careful path), groups
    of unequal sizes, 1 and many groups, every float dtype and an integer
    one, both NaN policies, fast and exact mode, and dot."""
    ops = ALL + ",dot"
    for dtype, ncol, mode, nan in (
            ("f32", 1, "fast", "propagate"), ("f32", 7, "fast", "omit"),
            ("f32", 8, "fast", "propagate"), ("f64", 33, "fast", "omit"),
            ("f64", 8, "exact", "propagate"), ("f32", 4096, "fast", "omit"),
            ("f64", 4097, "fast", "propagate"), ("i16", 8, "fast", "omit")):
        rows = 19
        x = data((rows, ncol), dtype, seed=ncol)
        y = data((rows, ncol), dtype, seed=ncol + 1)
        if x.dtype.kind == "f":
            x[2, ncol // 2] = np.nan
            x[5, 0] = np.inf
            x[9, ncol - 1] = -np.inf
            if dtype == "f64":
                x[11, 0] = 1e300  # l2 out of Blue's middle range
        px, py = save(tmp, "x.npy", x), save(tmp, "y.npy", y)
        extra = ("--mode", mode, "--nan", nan, "--with", py)
        j = cu.reduce_json(px, "--ops", ops, "--axis", "-1", *extra)
        label = "%s [%d,%d] %s %s" % (dtype, rows, ncol, mode, nan)
        for r in sorted({0, 1, 2, 5, 9, 11, rows - 1} & set(range(rows))):
            save(tmp, "y.npy", y[r].copy())
            same_as_alone(tmp, {op: j["results"][op][r]
                                for op in ops.split(",")},
                          x[r].copy(), ops, extra, "%s row %d" % (label, r))
    # --by: groups of 1 to ~600 rows side by side, and a single group
    rng = np.random.default_rng(3)
    for dtype, ngroups, mode in (("f32", 40, "fast"), ("f64", 40, "exact"),
                                 ("f64", 1, "fast"), ("u8", 40, "fast")):
        keys = np.repeat(np.arange(ngroups), rng.integers(1, 600, ngroups))
        rng.shuffle(keys)
        keys = keys.astype(np.int32)
        x = data((keys.size,), dtype, seed=ngroups)
        if x.dtype.kind == "f":
            x[np.flatnonzero(keys == 0)[:1]] = np.nan
        pk = save(tmp, "k.npy", keys)
        for nan in ("propagate", "omit"):
            extra = ("--mode", mode, "--nan", nan)
            j = cu.reduce_json(save(tmp, "x.npy", x), "--ops", ALL,
                               "--by", pk, *extra)
            for g in sorted({0, 1, ngroups // 2, ngroups - 1} &
                            set(range(ngroups))):
                at = np.flatnonzero(keys == j["groups"][g])
                same_as_alone(tmp, {op: j["results"][op][g]
                                    for op in ALL.split(",")},
                              x[at].copy(), ALL, extra,
                              "%s --by %d groups %s %s group %d" % (
                                  dtype, ngroups, mode, nan, g), rows=at)


@suite.test
def nan_policies_and_ddof(tmp):
    x = data((6, 5), "f64", seed=7)
    x[1, 2] = np.nan
    x[4, 2] = np.nan
    x[:, 4] = np.nan
    path = save(tmp, "x.npy", x)
    _, z = run_npz(tmp, path, "--ops", "sum,mean,min,max,argmin,argmax,std",
                   "--axis", "0")
    for name, fn in (("sum", np.sum), ("mean", np.mean), ("min", np.min),
                     ("max", np.max), ("argmin", np.argmin),
                     ("argmax", np.argmax)):
        want = fn(x, axis=0)
        if not np.allclose(z[name], want, rtol=1e-14, atol=0,
                           equal_nan=True):
            raise AssertionError("propagate %s %r want %r" % (
                name, z[name], want))
    _, z = run_npz(tmp, path, "--ops", "count,sum,mean,min,argmin,var",
                   "--axis", "0", "--nan", "omit", "--ddof", "1")
    with np.errstate(all="ignore"):
        import warnings
        warnings.simplefilter("ignore")
        wants = {"count": (~np.isnan(x)).sum(axis=0),
                 "sum": np.nansum(x, axis=0),
                 "mean": np.nanmean(x, axis=0),
                 "min": np.nanmin(x, axis=0),
                 "var": np.nanvar(x, axis=0, ddof=1)}
    for name, want in wants.items():
        if not np.allclose(z[name], want, rtol=1e-12, atol=0,
                           equal_nan=True):
            raise AssertionError("omit %s %r want %r" % (name, z[name], want))
    # nanargmin of the columns that have a value
    for c in range(4):
        cu.same(int(z["argmin"][c]), int(np.nanargmin(x[:, c])),
                "nanargmin col %d" % c)


@suite.test
def extremes_alone_see_nan_and_infinities(tmp):
    """min, max and their indices asked for alone skip the sum, which was
    how a lane showed NaN and infinities: columns read in place (axis 0),
    short rows (axis -1) and the whole array must still see them."""
    import warnings
    for dt in ("f32", "f64"):
        x = data((20000, 8), dt, seed=11)
        x[5000, 3] = np.nan      # a full lane of column 3
        x[19990, 6] = np.nan     # the last, partial lane of column 6
        x[7000, 5] = np.inf
        x[12, 1] = -np.inf
        path = save(tmp, "x_%s.npy" % dt, x)
        for nan in ("propagate", "omit"):
            fns = {"min": np.nanmin, "max": np.nanmax,
                   "argmin": np.nanargmin, "argmax": np.nanargmax} \
                if nan == "omit" else {"min": np.min, "max": np.max,
                                       "argmin": np.argmin,
                                       "argmax": np.argmax}
            for axes in (["--axis", "0"], ["--axis", "-1"], []):
                ax = int(axes[1]) if axes else None
                for ops in ("min,max", "argmin,argmax", "max"):
                    j = cu.reduce_json(path, "--ops", ops, "--nan", nan,
                                       "--devices", "host", *axes)
                    for op in ops.split(","):
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            want = np.asarray(fns[op](x, axis=ax),
                                              dtype=np.float64)
                        got = np.asarray(j["results"][op], dtype=np.float64)
                        if not np.array_equal(got, want, equal_nan=True):
                            raise AssertionError("%s %s --nan %s %s: %s: %r "
                                                 "want %r" % (dt, axes, nan,
                                                              ops, op, got,
                                                              want))


@suite.test
def empty_axes(tmp):
    x = np.zeros((0, 3), np.float32)
    path = save(tmp, "x.npy", x)
    j, z = run_npz(tmp, path, "--ops", "count,sum,mean,argmin", "--axis",
                   "0")
    if j["result_shape"] != [3]:
        raise AssertionError("shape %r" % j["result_shape"])
    if list(z["count"]) != [0, 0, 0] or list(z["sum"]) != [0.0] * 3:
        raise AssertionError("empty columns %r %r" % (z["count"], z["sum"]))
    if not np.isnan(z["mean"]).all() or not np.isnan(z["argmin"]).all():
        raise AssertionError("empty mean/argmin %r %r" % (z["mean"],
                                                          z["argmin"]))
    if j["results"]["argmin"] != [None, None, None]:
        raise AssertionError("json argmin %r" % j["results"]["argmin"])
    j, z = run_npz(tmp, path, "--ops", "sum", "--axis", "1")
    if j["result_shape"] != [0] or z["sum"].shape != (0,):
        raise AssertionError("no outputs: %r" % j["result_shape"])


@suite.test
def raw_with_shape_and_stdin(tmp):
    x = data((50, 4), "i32", seed=9)
    raw = os.path.join(tmp, "x.bin")
    x.astype(np.int32).tofile(raw)
    _, z = run_npz(tmp, raw, "--raw", "--dtype", "i32", "--shape", "50,4",
                   "--ops", "sum,argmax", "--axis", "1")
    if not np.array_equal(z["sum"], x.astype(np.int64).sum(axis=1)):
        raise AssertionError("raw --shape sum")
    if not np.array_equal(z["argmax"], x.argmax(axis=1)):
        raise AssertionError("raw --shape argmax")
    path = save(tmp, "x.npy", x)
    with open(path, "rb") as f:
        blob = f.read()
    _, z = run_npz(tmp, "-", "--ops", "min", "--axis", "0", stdin=blob)
    if not np.array_equal(z["min"], x.min(axis=0)):
        raise AssertionError("stdin min")


@suite.test
def dot_along_an_axis(tmp):
    x = data((30, 4), "f64", seed=11)
    y = data((30, 4), "f64", seed=12)
    px = save(tmp, "x.npy", x)
    py = save(tmp, "y.npy", y, fortran=True)
    _, z = run_npz(tmp, px, "--ops", "dot", "--with", py, "--axis", "0")
    want = (x.astype(np.longdouble) * y).sum(axis=0)
    tol = 2.0 ** -49 * np.abs(x * y).sum(axis=0)
    if not (np.abs(z["dot"] - want) <= tol).all():
        raise AssertionError("dot %r want %r" % (z["dot"], want))
    pz = save(tmp, "z.npy", data((4, 30), "f64"))
    cu.expect_fail(["reduce", "--ops", "dot", "--with", pz, "--axis", "0",
                    px], 2, contains="shape")


@suite.test
def table_small_in_full_large_with_a_hint(tmp):
    x = data((10, 3), "f32")
    out = cu.ok(["reduce", "--ops", "sum", "--axis", "0",
                 save(tmp, "x.npy", x)])
    if "result shape [3]" not in out or out.count("[") < 3:
        raise AssertionError("small table: %r" % out)
    x = data((2, 1000), "f32")
    out = cu.ok(["reduce", "--ops", "sum", "--axis", "0",
                 save(tmp, "x.npy", x)])
    if "first" not in out or "last" not in out or "-o" not in out:
        raise AssertionError("large table: %r" % out)


# ------------------------------------------------------------- --by keys

def check_groups(tmp, x, keys, ops="count,sum,mean,min,max,var,argmin,argmax",
                 label="", ddof=0):
    import pandas as pd
    px = save(tmp, "x.npy", x)
    pk = save(tmp, "k.npy", keys)
    j, z = run_npz(tmp, px, "--by", pk, "--ops", ops, "--ddof", str(ddof))
    native = keys.astype(keys.dtype.newbyteorder("="))
    uniq = np.unique(native)
    if not np.array_equal(z["groups"], uniq):
        raise AssertionError("%s groups %r want %r" % (label, z["groups"][:5],
                                                       uniq[:5]))
    if list(j["result_shape"]) != [len(uniq)] + list(x.shape[1:]):
        raise AssertionError("%s result_shape %r" % (label,
                                                     j["result_shape"]))
    flat = x.reshape(x.shape[0], -1)
    nat = flat.astype(flat.dtype.newbyteorder("="))
    for c in range(flat.shape[1]):
        df = pd.DataFrame({"k": native, "v": nat[:, c].astype(np.float64)})
        g = df.groupby("k", sort=True)["v"]
        want = {"count": g.count().to_numpy(), "sum": g.sum().to_numpy(),
                "mean": g.mean().to_numpy(), "min": g.min().to_numpy(),
                "max": g.max().to_numpy(),
                "var": g.var(ddof=ddof).to_numpy(),
                "argmin": g.idxmin().to_numpy(),
                "argmax": g.idxmax().to_numpy()}
        for name in ops.split(","):
            got = z[name].reshape(len(uniq), -1)[:, c].astype(np.float64)
            w = want[name].astype(np.float64)
            if name in ("count", "min", "max", "argmin", "argmax"):
                ok = np.array_equal(got, w, equal_nan=True)
            else:
                ok = np.allclose(got, w, rtol=1e-11, atol=1e-9,
                                 equal_nan=True)
            if not ok:
                bad = np.nonzero(~np.isclose(got, w, equal_nan=True))[0][:3]
                raise AssertionError("%s col %d %s at groups %r: %r want %r"
                                     % (label, c, name, bad, got[bad],
                                        w[bad]))
    return j, z


@suite.test
def by_negative_unsorted_and_all_equal_keys(tmp):
    rng = np.random.default_rng(1)
    x = data((500, 2), "f64", seed=2)
    check_groups(tmp, x, rng.integers(-5, 5, 500).astype(np.int64),
                 label="negative unsorted")
    check_groups(tmp, x, np.full(500, 7, np.int16), label="all equal")
    check_groups(tmp, x, np.arange(500)[::-1].astype(np.int32) * -1000003,
                 label="sparse keys", ddof=1)


@suite.test
def by_fortran_big_endian_and_dot(tmp):
    import pandas as pd
    rng = np.random.default_rng(13)
    x = data((400, 3), "f64", seed=14)
    y = data((400, 3), "f64", seed=15)
    keys = rng.integers(-3, 3, 400).astype(np.int32)
    pk = save(tmp, "k.npy", keys)
    big = x.astype(">f8")
    for label, arr, fortran in (("fortran", x, True), ("big-endian", big,
                                                       False)):
        px = save(tmp, "x.npy", arr, fortran)
        py = save(tmp, "y.npy", y, not fortran)
        _, z = run_npz(tmp, px, "--by", pk, "--ops", "sum,argmin,dot",
                       "--with", py)
        for c in range(3):
            df = pd.DataFrame({"k": keys, "v": x[:, c], "p": x[:, c] * y[:, c]})
            g = df.groupby("k", sort=True)
            for name, want in (("sum", g["v"].sum()), ("dot", g["p"].sum()),
                               ("argmin", g["v"].idxmin())):
                got = z[name][:, c].astype(np.float64)
                if not np.allclose(got, want.to_numpy().astype(np.float64),
                                   rtol=1e-12, atol=1e-12):
                    raise AssertionError("%s col %d %s: %r want %r" % (
                        label, c, name, got, want.to_numpy()))


@suite.test
def by_every_key_dtype_and_byte_order(tmp):
    rng = np.random.default_rng(3)
    x = data((300,), "i32", seed=4)
    for t in ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"):
        for order in ("<", ">"):
            dt = np.dtype(cu.NUMPY_NAMES[t]).newbyteorder(order)
            info = np.iinfo(dt)
            keys = rng.integers(0, 6, 300).astype(dt)
            keys[0] = info.max
            keys[1] = info.min
            check_groups(tmp, x, keys, ops="count,sum,min,argmax",
                         label="%s%s keys" % (order, t))


@suite.test
def by_100000_groups_and_one_group(tmp):
    rng = np.random.default_rng(5)
    n = 400000
    x = rng.normal(0, 1, n).astype(np.float32)
    keys = rng.integers(0, 100000, n).astype(np.int32)
    keys[:100000] = np.arange(100000)  # every key present
    j, z = check_groups(tmp, x, keys, ops="count,sum,min,argmax",
                        label="100000 groups")
    if len(z["groups"]) != 100000:
        raise AssertionError("groups %d" % len(z["groups"]))
    check_groups(tmp, x, np.zeros(n, np.uint8), ops="count,sum,mean,argmin",
                 label="one group")


@suite.test
def by_no_rows_gives_no_groups(tmp):
    px = save(tmp, "x.npy", np.zeros((0, 3), np.float64))
    pk = save(tmp, "k.npy", np.zeros(0, np.int32))
    j, z = run_npz(tmp, px, "--by", pk, "--ops", "count,sum,argmin")
    if j["result_shape"] != [0, 3] or j["groups"] != []:
        raise AssertionError("no rows: %r %r" % (j["result_shape"],
                                                 j["groups"]))
    if z["sum"].shape != (0, 3) or z["groups"].shape != (0,):
        raise AssertionError("npz shapes %r %r" % (z["sum"].shape,
                                                   z["groups"].shape))


@suite.test
def by_exact_mode_per_group(tmp):
    rng = np.random.default_rng(6)
    x = (rng.normal(0, 1, 3000) * 10.0 ** rng.integers(-8, 9, 3000))
    keys = rng.integers(0, 3, 3000).astype(np.int8)
    px = save(tmp, "x.npy", x)
    pk = save(tmp, "k.npy", keys)
    _, z = run_npz(tmp, px, "--by", pk, "--mode", "exact", "--ops",
                   "sum,mean")
    for g in range(3):
        col = x[keys == g]
        s = Fraction(math.fsum(col.tolist()))
        cu.same(float(z["sum"][g]), float(s), "group %d exact sum" % g)
        cu.same(float(z["mean"][g]), float(s / len(col)),
                "group %d exact mean" % g)


# --------------------------------------------------------------- exact mode

@suite.test
def exact_mode_per_column_against_rationals(tmp):
    rng = np.random.default_rng(8)
    for dt in (np.float32, np.float64):
        x = (rng.normal(0, 1, (2000, 3)) *
             10.0 ** rng.integers(-10, 11, (2000, 3))).astype(dt)
        x[:1000, 1] = -x[1000:, 1]  # a column that cancels to 0 but one
        x[5, 1] = 1e-30
        path = save(tmp, "x.npy", x, fortran=dt == np.float64)
        j, z = run_npz(tmp, path, "--mode", "exact", "--axis", "0", "--ops",
                       "sum,mean,var,l1")
        for c in range(3):
            col = x[:, c].astype(np.float64)
            fr = [Fraction(v) for v in col.tolist()]
            s = sum(fr)
            n = len(fr)
            cu.same(float(z["sum"][c]), float(s), "col %d exact sum" % c)
            cu.same(float(z["mean"][c]), float(s / n), "col %d exact mean"
                    % c)
            cu.same(float(z["l1"][c]), float(sum(abs(v) for v in fr)),
                    "col %d exact l1" % c)
            var = (n * sum(v * v for v in fr) - s * s) / (n * n)
            cu.same(float(z["var"][c]), float(var), "col %d exact var" % c)
            one = cu.reduce_json(save(tmp, "c.npy", x[:, c].copy()),
                                 "--mode", "exact", "--ops",
                                 "sum,mean,var,l1")
            for op in ("sum", "mean", "var", "l1"):
                cu.same(cu.num(j["results"][op][c]),
                        cu.num(one["results"][op]), "col %d alone %s"
                        % (c, op))


# ---------------------------------------------------------------- devices

def pocl_present():
    p = cu.run(["devices", "--json"], environ=cu.env(**TWO_POCL))
    if p.returncode != 0:
        return False
    devs = json.loads(p.stdout)["devices"]
    return sum(1 for d in devs if d["type"] == "cpu") >= 2


@suite.test
def two_pocl_devices_and_the_host_give_the_same_bits(tmp):
    if not pocl_present():
        print("SKIP two POCL devices: not present")
        return
    rng = np.random.default_rng(10)
    x = rng.normal(1e3, 1.0, (300000, 4)).astype(np.float32)
    path = save(tmp, "x.npy", x)
    env2 = cu.env(**TWO_POCL)
    runs = {}
    for mode in ("fast", "exact"):
        for devs in ("host", "0,1", "0"):
            p = cu.run(["reduce", "--json", "--mode", mode, "--ops", ALL,
                        "--axis", "0", "--devices", devs, path],
                       environ=env2)
            if p.returncode != 0:
                raise AssertionError("devices %s: %s" % (devs, p.stderr))
            if p.stderr.strip():
                raise AssertionError("devices %s left notes: %r" % (
                    devs, p.stderr))
            j = json.loads(p.stdout)
            total = sum(d["elements"] for d in j["devices"])
            cu.same(total, x.size, "%s %s elements" % (mode, devs))
            names = [d["name"] for d in j["devices"]]
            if devs != "host" and any("host" in n for n in names):
                raise AssertionError("%s: work went to the host: %r" % (
                    devs, j["devices"]))
            if devs == "0,1" and len(j["devices"]) != 2:
                raise AssertionError("two devices listed: %r" % j["devices"])
            runs[(mode, devs)] = j["results"]
        for devs in ("0,1", "0"):
            for op in ALL.split(","):
                for c in range(4):
                    cu.same(cu.num(runs[(mode, devs)][op][c]),
                            cu.num(runs[(mode, "host")][op][c]),
                            "%s devices %s %s col %d" % (mode, devs, op, c))


# -------------------------------------------------------------- bad input

@suite.test
def bad_input_exits_2_with_one_line(tmp):
    x = save(tmp, "x.npy", data((4, 5), "f32"))
    kf = save(tmp, "kf.npy", np.zeros(4, np.float32))
    kl = save(tmp, "kl.npy", np.zeros(3, np.int32))
    k2 = save(tmp, "k2.npy", np.zeros((4, 1), np.int32))
    kok = save(tmp, "k.npy", np.zeros(4, np.int32))
    cases = [
        (["--axis", "2"], "out of bounds"),
        (["--axis", "-3"], "out of bounds"),
        (["--axis", "0,-2"], "repeated"),
        (["--axis", "x"], "--axis"),
        (["--axis", "0,"], "--axis"),
        (["--axis", "0,1", "--ops", "argmin"], "one axis"),
        (["--by", kf], "integers"),
        (["--by", kl], "3 keys for 4 rows"),
        (["--by", k2], "1-D"),
        (["--by", kok, "--axis", "0"], "--axis"),
        (["--keepdims"], "--keepdims"),
        (["--shape", "4,5"], "--shape"),
        (["-o", os.path.join(tmp, "r.npz")], "-o"),
        (["--by", os.path.join(tmp, "missing.npy")], "missing.npy"),
    ]
    for args, needle in cases:
        cu.expect_fail(["reduce", *args, x], 2, contains=needle)
    raw = os.path.join(tmp, "x.bin")
    np.zeros(10, np.float32).tofile(raw)
    cu.expect_fail(["reduce", "--raw", "--dtype", "f32", "--shape", "3,4",
                    "--axis", "0", raw], 2, contains="shape")
    if os.path.exists(os.path.join(tmp, "r.npz")):
        raise AssertionError("a failed run left r.npz")
    # a column whose int64 sum overflows: a runtime error (1) naming it
    big = np.zeros((3, 2), np.int64)
    big[:, 1] = np.iinfo(np.int64).max
    out = os.path.join(tmp, "o.npz")
    cu.expect_fail(["reduce", "--ops", "sum", "--axis", "0", "-o", out,
                    save(tmp, "big.npy", big)], 1, contains="element 1")
    if os.path.exists(out):
        raise AssertionError("a failed run left o.npz")


if __name__ == "__main__":
    suite.main()
