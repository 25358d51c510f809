"""`edgegrid gen`: numpy loads what it writes, the same options give the
same bytes, and the counts it accepts."""

import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()


def gen(tmp, name, *args):
    path = os.path.join(tmp, name)
    p = cu.run(["gen", *args, "-o", path])
    if p.returncode != 0 or p.stderr:
        raise AssertionError("gen %s: exit %d, %r" % (
            " ".join(args), p.returncode, p.stderr))
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def case_dtype(tmp, dtype):
    a = gen(tmp, "a.npy", "--count", "10007", "--dtype", dtype, "--seed", "3")
    b = gen(tmp, "b.npy", "--count", "10007", "--dtype", dtype, "--seed", "3")
    c = gen(tmp, "c.npy", "--count", "10007", "--dtype", dtype, "--seed", "4")
    if read(a) != read(b):
        raise AssertionError("same seed, different bytes")
    if read(a) == read(c):
        raise AssertionError("different seeds, same bytes")
    x = np.load(a)
    if x.dtype != np.dtype(cu.NUMPY_NAMES[dtype]) or x.shape != (10007,):
        raise AssertionError("numpy loads %r %r" % (x.dtype, x.shape))
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise AssertionError("non-finite values")
    if np.unique(x).size < 2:
        raise AssertionError("constant data")
    if sorted(os.listdir(tmp)) != ["a.npy", "b.npy", "c.npy"]:
        raise AssertionError("left behind: %r" % os.listdir(tmp))


for _dtype in cu.DTYPES:
    suite.add("gen %s" % _dtype, case_dtype, _dtype)


@suite.test
def distributions(tmp):
    for dist in ("uniform", "normal", "ill"):
        for dtype in ("f32", "f64", "i32"):
            if dist == "ill" and dtype == "i32":
                # A condition number is about float sums; integers refuse.
                cu.expect_fail(["gen", "--count", "10", "--dtype", dtype,
                                "--dist", dist, "-o",
                                os.path.join(tmp, "i.npy")], 2)
                continue
            args = ["--count", "20000", "--dtype", dtype, "--dist", dist]
            a = gen(tmp, "a.npy", *args)
            b = gen(tmp, "b.npy", *args)
            if read(a) != read(b):
                raise AssertionError("%s %s: not deterministic" % (dist, dtype))
            x = np.load(a)
            if x.shape != (20000,) or (x.dtype.kind == "f" and
                                       not np.all(np.isfinite(x))):
                raise AssertionError("%s %s: %r" % (dist, dtype, x[:5]))


@suite.test
def ill_conditioned(tmp):
    # The point of --dist ill: a sum far smaller than the sum of magnitudes.
    a = gen(tmp, "a.npy", "--count", "100000", "--dtype", "f64", "--dist",
            "ill", "--cond", "1e10")
    x = np.load(a).tolist()
    s, s_abs = math.fsum(x), math.fsum(abs(v) for v in x)
    cond = s_abs / abs(s) if s != 0 else math.inf
    print("     condition number %.3g (asked 1e10)" % cond)
    if not cond > 1e6:
        raise AssertionError("condition number %.3g for --cond 1e10" % cond)


@suite.test
def count_forms(tmp):
    for text, n in (("1e3", 1000), ("2Ki", 2048), ("4097", 4097), ("0", 0),
                    ("1", 1)):
        x = np.load(gen(tmp, "x.npy", "--count", text, "--dtype", "u16"))
        if x.shape != (n,):
            raise AssertionError("--count %s gave shape %r" % (text, x.shape))


@suite.test
def gen_then_reduce(tmp):
    path = gen(tmp, "x.npy", "--count", "1e5", "--dtype", "f32", "--dist",
               "normal", "--seed", "9")
    x = np.load(path)
    doc = cu.reduce_json(path, "--ops", "count,sum,min,max,argmax")
    r = doc["results"]
    cu.same(r["count"], x.size, "count")
    cu.same(cu.num(r["min"]), float(x.min()), "min")
    cu.same(cu.num(r["max"]), float(x.max()), "max")
    cu.same(r["argmax"], int(np.argmax(x)), "argmax")
    s_abs = cu.fsum_exact(np.abs(x.astype(np.float64)))
    cu.near_abs(cu.num(r["sum"]), cu.fsum_exact(x), cu.FAST_BOUND * s_abs,
                "sum")


@suite.test
def overwrite_keeps_one_file(tmp):
    gen(tmp, "x.npy", "--count", "100", "--dtype", "i8")
    path = gen(tmp, "x.npy", "--count", "50", "--dtype", "i8")
    if np.load(path).shape != (50,) or os.listdir(tmp) != ["x.npy"]:
        raise AssertionError("overwrite: %r" % os.listdir(tmp))


if __name__ == "__main__":
    suite.main()
