"""`edgegrid reduce --json` against numpy and exact references.

Every dtype at sizes 0, 1, 7, 4097 and 1000003 with every op; NaN and
infinities under both NaN policies; multi-dimensional C and Fortran arrays;
big-endian files; --ddof; raw input; stdin.

Integers, counts and indices must match exactly (integer sums as Python ints,
never numpy's wrapping sum); float sums within the fast-mode bound
|got - exact| <= 2^-50 * sum|x| with math.fsum as the exact reference;
var/std/l2 within a relative 1e-12.
"""

import math
import os
import sys
import warnings
from fractions import Fraction

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
SIZES = [0, 1, 7, 4097, 1000003]
REL = 1e-12  # var, std, l2


def make(dtype, n, seed):
    """Random data whose integer sums fit 64 bits even at a million
    elements, with plenty of ties for the small integer types."""
    rng = np.random.default_rng(seed)
    t = np.dtype(cu.NUMPY_NAMES[dtype])
    if dtype == "f32":
        return (rng.standard_normal(n) * 10 + 1).astype(np.float32)
    if dtype == "f64":
        return rng.standard_normal(n) * 1e3 + 5
    if dtype == "i64":
        return rng.integers(-2 ** 40, 2 ** 40, n, dtype=np.int64)
    if dtype == "u64":
        return rng.integers(0, 2 ** 41, n, dtype=np.uint64)
    info = np.iinfo(t)
    return rng.integers(info.min, info.max, n, dtype=t, endpoint=True)


def save(tmp, name, a):
    path = os.path.join(tmp, name)
    np.save(path, a)
    return path


# ---------------------------------------------------------------- reference

def check_results(res, x, y=None, ddof=0, omit=False):
    """Checks every op in res against exact references computed from x
    (any shape; C-order flattening as numpy's argmin uses)."""
    flat = x.ravel(order="C")
    keep = None
    if omit and flat.dtype.kind == "f":
        keep = np.flatnonzero(~np.isnan(flat))
        flat = flat[keep]
    n = flat.size
    ints = flat.dtype.kind in "iu"
    xs = flat.tolist()  # Python ints or floats, exact
    if ints:
        exact_sum = sum(xs)
        abs_sum = sum(abs(v) for v in xs)
    else:
        exact_sum = cu.fsum_exact(flat)
        abs_sum = cu.fsum_exact(np.abs(flat.astype(np.float64)))
    nan = float("nan")

    def got(op):
        return cu.num(res[op])

    for op in res:
        if op not in cu.ALL_OPS:
            raise AssertionError("unknown result key %r" % op)
    if "count" in res:
        if not isinstance(res["count"], int):
            raise AssertionError("count %r is not a JSON integer" % res["count"])
        cu.same(got("count"), n, "count")
    if "sum" in res:
        if ints:
            if not isinstance(res["sum"], int):
                raise AssertionError("integer sum %r is not a JSON integer"
                                     % res["sum"])
            cu.same(got("sum"), exact_sum, "sum")
        else:
            cu.near_abs(got("sum"), exact_sum, cu.FAST_BOUND * abs_sum, "sum")
    if "mean" in res:
        if n == 0:
            cu.same(got("mean"), nan, "mean")
        else:
            m = Fraction(exact_sum) / n
            tol = cu.FAST_BOUND * abs_sum / n + 2.0 ** -52 * abs(float(m))
            cu.near_abs(got("mean"), m, tol, "mean")
    for op, fn in (("min", np.argmin), ("max", np.argmax)):
        if op in res:
            want = xs[int(fn(flat))] if n else nan
            cu.same(got(op), want, op)
    for op, fn in (("argmin", np.argmin), ("argmax", np.argmax)):
        if op in res:
            if n == 0:
                cu.same(got(op), None, op)
                continue
            i = int(fn(flat))
            want = int(keep[i]) if keep is not None else i
            if not isinstance(res[op], int):
                raise AssertionError("%s %r is not a JSON integer" % (op, res[op]))
            cu.same(got(op), want, op)
    if "var" in res or "std" in res:
        if n - ddof <= 0:
            want_var = nan
        else:
            f = flat.astype(np.float64)
            d = f - exact_sum / n  # int / int rounds correctly too
            want_var = math.fsum((d * d).tolist()) / (n - ddof)
        # Slack for a variance that is zero or tiny next to the data's scale.
        scale = cu.fsum_exact(flat.astype(np.float64) ** 2) / n if n else 0.0
        slack = cu.FAST_BOUND * scale
        if "var" in res:
            cu.near_rel(got("var"), want_var, REL, "var", slack)
        if "std" in res:
            cu.near_rel(got("std"), math.sqrt(want_var), REL, "std",
                        math.sqrt(slack))
    if "l1" in res:
        if isinstance(res["l1"], int):
            cu.same(got("l1"), abs_sum, "l1")
        else:
            cu.near_abs(got("l1"), abs_sum, cu.FAST_BOUND * abs_sum, "l1")
    if "l2" in res:
        want = math.sqrt(cu.fsum_exact(flat.astype(np.float64) ** 2))
        cu.near_rel(got("l2"), want, REL, "l2")
    if "dot" in res:
        check_dot(got("dot"), flat, y.ravel(order="C"))


def check_dot(got, x, y):
    if x.dtype.kind in "iu":
        prods = [a * b for a, b in zip(x.tolist(), y.tolist())]
        exact = sum(prods)
        abs_sum = sum(abs(p) for p in prods)
        if isinstance(got, int):
            cu.same(got, exact, "dot")
            return
    else:
        p = x.astype(np.float64) * y.astype(np.float64)  # f32: exact
        exact = cu.fsum_exact(p)
        abs_sum = cu.fsum_exact(np.abs(p))
    # The products themselves round once each (f64), hence the 2^-52.
    cu.near_abs(got, exact, (cu.FAST_BOUND + 2.0 ** -52) * abs_sum, "dot")


def check_header(doc, path, x):
    if doc["input"] != path:
        raise AssertionError("input %r, want %r" % (doc["input"], path))
    if doc["dtype"] != x.dtype.newbyteorder("=").name:
        raise AssertionError("dtype %r, want %r" % (doc["dtype"], x.dtype.name))
    if doc["shape"] != list(x.shape):
        raise AssertionError("shape %r, want %r" % (doc["shape"], list(x.shape)))
    if doc["count"] != x.size or doc["mode"] != "fast":
        raise AssertionError("count %r mode %r" % (doc["count"], doc["mode"]))
    if sum(d["elements"] for d in doc["devices"]) != x.size:
        raise AssertionError("device elements %r do not add up to %d" % (
            [d["elements"] for d in doc["devices"]], x.size))
    for key in ("seconds", "gbps"):
        if not isinstance(doc[key], (int, float)) or doc[key] < 0:
            raise AssertionError("%s = %r" % (key, doc[key]))


# ------------------------------------------------------------------ cases

def case_dtype_size(tmp, dtype, n):
    x = make(dtype, n, seed=n * 31 + cu.DTYPES.index(dtype))
    y = make(dtype, n, seed=n * 31 + 17)
    xp, yp = save(tmp, "x.npy", x), save(tmp, "y.npy", y)
    doc = cu.reduce_json(xp, "--ops", ",".join(cu.ALL_OPS), "--with", yp)
    check_header(doc, xp, x)
    if list(doc["results"]) != cu.ALL_OPS:
        raise AssertionError("result keys %r" % list(doc["results"]))
    check_results(doc["results"], x, y)


for _dtype in cu.DTYPES:
    for _n in SIZES:
        suite.add("all ops %s n=%d" % (_dtype, _n), case_dtype_size, _dtype, _n)


@suite.test
def default_ops_in_order(tmp):
    for dtype in cu.DTYPES:
        x = make(dtype, 4097, seed=5)
        doc = cu.reduce_json(save(tmp, "x.npy", x))
        want = ["count", "sum", "mean", "min", "max", "std"]
        if list(doc["results"]) != want:
            raise AssertionError("%s: keys %r, want %r" % (
                dtype, list(doc["results"]), want))
        check_results(doc["results"], x)


@suite.test
def ops_print_in_enum_order(tmp):
    x = make("f64", 100, seed=1)
    doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", "std,argmin,sum,count")
    if list(doc["results"]) != ["count", "sum", "argmin", "std"]:
        raise AssertionError("keys %r" % list(doc["results"]))


@suite.test
def exact_integer_extremes(tmp):
    # Values no double can hold: min/max/argmin/argmax must stay exact.
    u = np.array([2 ** 64 - 1, 2 ** 63 + 1, 2 ** 53 + 1, 2 ** 64 - 1,
                  2 ** 53 + 1], dtype=np.uint64)
    i = np.array([2 ** 63 - 1, -2 ** 63, -2 ** 63 + 1, 2 ** 53 + 1, -2 ** 63],
                 dtype=np.int64)
    for x in (u, i):
        doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops",
                             "min,max,argmin,argmax")
        check_results(doc["results"], x)


@suite.test
def large_offset_variance(tmp):
    # 1e9 + noise: a naive sum of squares loses every digit of the variance.
    rng = np.random.default_rng(3)
    x = 1e9 + rng.standard_normal(1000003)
    doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", "mean,var,std")
    d = x - math.fsum(x.tolist()) / x.size
    want = math.fsum((d * d).tolist()) / x.size
    cu.near_rel(cu.num(doc["results"]["var"]), want, 1e-9, "var")
    cu.near_rel(cu.num(doc["results"]["std"]), math.sqrt(want), 1e-9, "std")


# ---------------------------------------------------------- NaN and Inf

def numpy_expect(x, omit, ddof=0):
    """numpy's answer (nan-functions for omit), in float64, None where numpy
    raises (nanargmin of all-NaN)."""
    f = x.astype(np.float64).ravel(order="C")
    nanf = {"count": lambda a: int(np.count_nonzero(~np.isnan(a))),
            "sum": np.nansum, "mean": np.nanmean, "min": np.nanmin,
            "max": np.nanmax, "argmin": np.nanargmin, "argmax": np.nanargmax,
            "var": lambda a: np.nanvar(a, ddof=ddof),
            "std": lambda a: np.nanstd(a, ddof=ddof),
            "l1": lambda a: np.nansum(np.abs(a)),
            "l2": lambda a: math.sqrt(np.nansum(a * a))}
    plain = {"count": lambda a: a.size, "sum": np.sum, "mean": np.mean,
             "min": np.min, "max": np.max, "argmin": np.argmin,
             "argmax": np.argmax, "var": lambda a: np.var(a, ddof=ddof),
             "std": lambda a: np.std(a, ddof=ddof),
             "l1": lambda a: np.sum(np.abs(a)),
             "l2": lambda a: float(np.sqrt(np.sum(a * a)))}
    out = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for op, fn in (nanf if omit else plain).items():
            try:
                v = fn(f)
            except ValueError:  # numpy: "All-NaN slice encountered"
                v = None
            if isinstance(v, (np.integer, int)) and op in (
                    "count", "argmin", "argmax"):
                v = int(v)
            elif v is not None:
                v = float(v)
            out[op] = v
    return out


def check_numpy(res, want):
    for op, w in want.items():
        g = cu.num(res[op])
        if w is None or isinstance(w, int) or not math.isfinite(w):
            cu.same(g, w, op)
        elif op in ("min", "max"):
            cu.same(g, w, op)
        else:
            cu.near_rel(g, w, 1e-9, op, 1e-12)


NONFINITE_OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"


def case_nonfinite(tmp, dtype, pattern, policy):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(10007) * 4).astype(cu.NUMPY_NAMES[dtype])
    if pattern == "nan":
        x[rng.choice(x.size, 25, replace=False)] = np.nan
    elif pattern == "nan-late":  # one NaN, in the last chunk's last lane
        x[-3] = np.nan
    elif pattern == "inf":
        x[5000] = np.inf
    elif pattern == "inf-ninf":
        x[100], x[9000] = np.inf, -np.inf
    elif pattern == "nan-inf":
        x[300], x[200], x[7000] = np.inf, np.nan, -np.inf
    elif pattern == "all-nan":
        x[:] = np.nan
    path = save(tmp, "x.npy", x)
    doc = cu.reduce_json(path, "--ops", NONFINITE_OPS, "--nan", policy)
    check_numpy(doc["results"], numpy_expect(x, policy == "omit"))
    if doc["count"] != x.size:
        raise AssertionError("top-level count %r, want all %d elements"
                             % (doc["count"], x.size))


for _dtype in ("f32", "f64"):
    for _pattern in ("nan", "nan-late", "inf", "inf-ninf", "nan-inf",
                     "all-nan"):
        for _policy in ("propagate", "omit"):
            suite.add("%s %s --nan %s" % (_dtype, _pattern, _policy),
                      case_nonfinite, _dtype, _pattern, _policy)


@suite.test
def omit_matches_exact_reference(tmp):
    # Beyond numpy's float64 answers: omit must meet the same fast bound.
    rng = np.random.default_rng(12)
    x = rng.standard_normal(1000003).astype(np.float32)
    x[rng.choice(x.size, 1000, replace=False)] = np.nan
    doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", NONFINITE_OPS,
                         "--nan", "omit")
    check_results(doc["results"], x, omit=True)


# -------------------------------------------------- shapes and byte order

def case_shape(tmp, dtype, shape, order, chunk):
    rng = np.random.default_rng(len(shape) * 7 + sum(shape))
    n = int(np.prod(shape))
    if dtype in ("f32", "f64"):
        x = rng.standard_normal(n).astype(cu.NUMPY_NAMES[dtype])
    else:
        # Values 0..5: many ties, so argmin/argmax test the smallest C index.
        x = rng.integers(0, 6, n).astype(cu.NUMPY_NAMES[dtype])
    x = x.reshape(shape)
    if order == "F":
        x = np.asfortranarray(x)
    path = save(tmp, "x.npy", x)
    with open(path, "rb") as f:
        fortran = b"'fortran_order': True" in f.read(256)
    if fortran != (order == "F" and len(shape) > 1):
        raise AssertionError("numpy wrote fortran_order=%r" % fortran)
    args = ["--ops", NONFINITE_OPS]
    if chunk:
        args += ["--chunk", str(chunk)]
    doc = cu.reduce_json(path, *args)
    check_header(doc, path, x)
    check_results(doc["results"], x)


for _dtype, _shape in (("i32", (37, 53)), ("f64", (5, 7, 11)),
                       ("u8", (1000, 1100)), ("f32", (3, 1, 4, 1, 5))):
    for _order in ("C", "F"):
        suite.add("shape %s %r order %s" % (_dtype, _shape, _order),
                  case_shape, _dtype, _shape, _order,
                  4096 if _shape == (1000, 1100) else 0)


@suite.test
def fortran_nan_first_in_c_order(tmp):
    x = np.asfortranarray(np.arange(60, dtype=np.float64).reshape(6, 10))
    x[4, 1] = np.nan   # C index 41, memory (F) index 1*6+4 = 10
    x[1, 7] = np.nan   # C index 17, memory index 7*6+1 = 43
    doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", "argmin,argmax,min")
    cu.same(doc["results"]["argmin"], 17, "argmin")
    cu.same(doc["results"]["argmax"], 17, "argmax")
    cu.same(cu.num(doc["results"]["min"]), float("nan"), "min")


@suite.test
def big_endian(tmp):
    rng = np.random.default_rng(8)
    for t in (">f8", ">f4", ">i4", ">u2", ">i8"):
        x = (rng.standard_normal(100003) * 1000).astype(t)
        doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", NONFINITE_OPS)
        check_header(doc, os.path.join(tmp, "x.npy"), x)
        check_results(doc["results"], x.astype(x.dtype.newbyteorder("=")))


@suite.test
def header_versions(tmp):
    x = make("f64", 4097, seed=30)
    for version in ((1, 0), (2, 0), (3, 0)):
        path = os.path.join(tmp, "v%d.npy" % version[0])
        with open(path, "wb") as f:
            np.lib.format.write_array(f, x, version=version)
        doc = cu.reduce_json(path, "--ops", NONFINITE_OPS)
        check_header(doc, path, x)
        check_results(doc["results"], x)


@suite.test
def zero_dim_array(tmp):
    # numpy's 0-d array: shape (), one element.
    x = np.array(2.5)
    path = save(tmp, "x.npy", x)
    doc = cu.reduce_json(path, "--ops", NONFINITE_OPS)
    if doc["shape"] != [] or doc["count"] != 1:
        raise AssertionError("shape %r count %r" % (doc["shape"], doc["count"]))
    check_results(doc["results"], x)


@suite.test
def ddof_one(tmp):
    x = make("f64", 4097, seed=9)
    doc = cu.reduce_json(save(tmp, "x.npy", x), "--ops", "var,std", "--ddof", "1")
    check_results(doc["results"], x, ddof=1)
    cu.near_rel(cu.num(doc["results"]["var"]), float(np.var(x, ddof=1)), 1e-10,
                "var vs numpy")
    one = save(tmp, "one.npy", np.array([3.0]))
    doc = cu.reduce_json(one, "--ops", "var,std", "--ddof", "1")
    cu.same(cu.num(doc["results"]["var"]), float("nan"), "var of 1 ddof 1")


# ------------------------------------------------------ raw and stdin

@suite.test
def raw_input(tmp):
    x = make("f32", 4097, seed=21)
    path = os.path.join(tmp, "x.bin")
    x.tofile(path)
    for name in ("f32", "float32"):
        doc = cu.reduce_json(path, "--raw", "--dtype", name, "--ops",
                             NONFINITE_OPS)
        check_header(doc, path, x)
        check_results(doc["results"], x)


@suite.test
def raw_input_with_dot(tmp):
    x, y = make("i16", 5000, seed=22), make("i16", 5000, seed=23)
    xp, yp = os.path.join(tmp, "x.bin"), os.path.join(tmp, "y.bin")
    x.tofile(xp)
    y.tofile(yp)
    doc = cu.reduce_json(xp, "--raw", "--dtype", "i16", "--ops", "sum,dot",
                         "--with", yp)
    check_results(doc["results"], x, y)


@suite.test
def stdin_npy(tmp):
    x = make("f64", 100003, seed=24)
    path = save(tmp, "x.npy", x)
    with open(path, "rb") as f:
        data = f.read()
    doc = cu.reduce_json("-", "--ops", NONFINITE_OPS, stdin=data)
    check_header(doc, "-", x)
    check_results(doc["results"], x)


@suite.test
def stdin_raw(tmp):
    x = make("u32", 7777, seed=25)
    doc = cu.reduce_json("-", "--raw", "--dtype", "u32", "--ops",
                         NONFINITE_OPS, stdin=x.tobytes())
    check_header(doc, "-", x)
    check_results(doc["results"], x)


@suite.test
def odd_file_names_stay_valid_json(tmp):
    x = np.arange(10, dtype=np.int8)
    for name in ('we"ird\\na\tme\n.npy', "caf\u00e9 \u2603.npy"):
        path = save(tmp, name, x)
        doc = cu.reduce_json(path, "--ops", "sum")
        if doc["input"] != path:
            raise AssertionError("input %r, want %r" % (doc["input"], path))
    # Bytes that are not UTF-8 (a file name may hold any): still valid JSON.
    raw = os.path.join(os.fsencode(tmp), b"bad\xff\xfe.npy")
    with open(raw, "wb") as f:
        np.save(f, x)
    p = cu.run(["reduce", "--json", "--ops", "sum", raw])
    if p.returncode != 0:
        raise AssertionError("exit %d: %r" % (p.returncode, p.stderr))
    doc = __import__("json").loads(p.stdout.decode("utf-8"))
    cu.same(doc["results"]["sum"], 45, "sum")


@suite.test
def table_output(tmp):
    x = make("f32", 1000, seed=26)
    out = cu.ok(["reduce", save(tmp, "x.npy", x)])
    for word in ("sum", "mean", "std", "count", "GB/s"):
        if word not in out:
            raise AssertionError("table lacks %r:\n%s" % (word, out))


if __name__ == "__main__":
    suite.main()
