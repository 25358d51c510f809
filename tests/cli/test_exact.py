"""`edgegrid reduce --mode exact` against exact references computed here,
never with the engine's code: math.fsum (correctly rounded sums) and exact
rational arithmetic (Python integers on a 2^-1074 / 2^-2148 grid).

- ill-conditioned data from `edgegrid gen --dist ill` (Ogita-Rump-Oishi),
  condition numbers 1e3 to 1e40, up to 1e7 elements: sum, l1, mean and dot
  bit for bit; var correctly rounded; std and l2 within one ulp;
- constructed cases: x and -x pairs plus a tiny value, values from 2^-1074
  to 2^1023, many subnormals, results at rounding ties;
- the bitwise-identity matrix: --devices host, the first OpenCL device,
  two POCL devices (POCL_DEVICES="pthread pthread") and several --chunk
  sizes give the same bits; device indices come from `devices --json`;
- NaN and infinities; integer input keeps its (exact) fast path.
"""

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
SUM_SHIFT = 1074    # every double is a whole multiple of 2^-1074
PROD_SHIFT = 2148   # every product of two doubles, of 2^-2148
ALL = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"
TWO_POCL = {"POCL_DEVICES": "pthread pthread"}


def listed(environ=None):
    """(OpenCL device indices, POCL CPU device indices, host index) as
    `devices --json` lists them under environ."""
    devs = json.loads(cu.ok(["devices", "--json"], environ))["devices"]
    cl = [str(d["index"]) for d in devs if d["type"] != "host"]
    pocl = [str(d["index"]) for d in devs if d["type"] == "cpu" and
            "Portable Computing" in d["platform"]]
    host = [str(d["index"]) for d in devs if d["type"] == "host"][0]
    return cl, pocl, host


def first_device():
    """The first OpenCL device, else the host (a box without OpenCL)."""
    cl, _, host = listed()
    return cl[0] if cl else host


# ---------------------------------------------------------------- references

def scaled(v, shift):
    """The finite double v times 2^shift, as an exact Python int."""
    num, den = float(v).as_integer_ratio()
    k = den.bit_length() - 1  # den is a power of two
    return num << (shift - k)


def exact_sums(x, y=None):
    """(n, S1, L1, S2, D) as exact integers on the grids above."""
    xs = [scaled(v, SUM_SHIFT) for v in x.astype(np.float64).tolist()]
    s1 = sum(xs)
    l1 = sum(abs(v) for v in xs)
    s2 = sum(v * v for v in xs)
    d = None
    if y is not None:
        ys = [scaled(v, SUM_SHIFT) for v in y.astype(np.float64).tolist()]
        d = sum(a * b for a, b in zip(xs, ys))
    return len(xs), s1, l1, s2, d


def rounded(num, den=1):
    """num / den correctly rounded (Python's int / int rounds once)."""
    try:
        return num / den
    except OverflowError:  # the rounded value is past DBL_MAX
        return math.inf if (num > 0) == (den > 0) else -math.inf


def ulp(v):
    return math.ulp(v)


def sqrt_within_ulp(got, value, what):
    """got within one ulp of sqrt(value) (value a Fraction): checked as
    (got - ulp)^2 <= value <= (got + ulp)^2, exactly."""
    u = Fraction(ulp(got))
    g = Fraction(got)
    lo = max(g - u, Fraction(0))
    if not (lo * lo <= value <= (g + u) * (g + u)):
        raise AssertionError("%s: got %r, more than one ulp from sqrt of "
                             "%.17g" % (what, got, float(value)))


def within_ulp(got, value, what):
    if abs(Fraction(got) - value) > Fraction(ulp(got)):
        raise AssertionError("%s: got %r, want %r within one ulp" % (
            what, got, float(value)))


def bits_equal(got, want, what):
    if isinstance(want, float) and math.isnan(want):
        if not (isinstance(got, float) and math.isnan(got)):
            raise AssertionError("%s: got %r, want nan" % (what, got))
        return
    if not isinstance(got, float) or got != want or \
            math.copysign(1, got) != math.copysign(1, want):
        raise AssertionError("%s: got %r, want %r (bit for bit)" % (
            what, got, want))


def check_exact(res, x, y=None, ddof=0, what=""):
    """Every exact-mode op in res against the references of x (and y)."""
    r = {k: cu.num(v) for k, v in res["results"].items()}
    if res.get("mode") != "exact":
        raise AssertionError("%s: mode %r" % (what, res.get("mode")))
    n, s1, l1, s2, d = exact_sums(x, y)
    flat = x.astype(np.float64).tolist()
    if "sum" in r:
        bits_equal(r["sum"], rounded(s1, 1 << SUM_SHIFT), what + " sum")
        try:
            bits_equal(r["sum"], math.fsum(flat), what + " sum (fsum)")
        except OverflowError:
            pass  # fsum gives up on partial sums past DBL_MAX
    if "l1" in r:
        bits_equal(r["l1"], rounded(l1, 1 << SUM_SHIFT), what + " l1")
    if "mean" in r and n:
        bits_equal(r["mean"], rounded(s1, n << SUM_SHIFT), what + " mean")
    if "var" in r and n > ddof:
        m2n = n * s2 - s1 * s1  # n * M2 on the 2^-2148 grid
        den = n * (n - ddof) << PROD_SHIFT
        bits_equal(r["var"], rounded(m2n, den), what + " var")
        sqrt_within_ulp(r["std"], Fraction(m2n, den), what + " std")
    if "l2" in r:
        sqrt_within_ulp(r["l2"], Fraction(s2, 1 << PROD_SHIFT), what + " l2")
    if "dot" in r:
        bits_equal(r["dot"], rounded(d, 1 << PROD_SHIFT), what + " dot")


def save(tmp, name, a):
    path = os.path.join(tmp, name)
    np.save(path, a)
    return path


def gen_ill(tmp, name, dtype, n, cond, seed):
    path = os.path.join(tmp, name)
    cu.ok(["gen", "--count", n, "--dtype", dtype, "--dist", "ill",
           "--cond", cond, "--seed", seed, "-o", path])
    return path


# ------------------------------------------------- ill-conditioned sums

def ill_case(tmp, dtype, cond, n):
    path = gen_ill(tmp, "x.npy", dtype, n, cond, 7)
    x = np.load(path)
    res = cu.reduce_json(path, "--mode", "exact", "--ops", ALL)
    check_exact(res, x, what="%s cond %s n %d" % (dtype, cond, n))
    # the condition number is real: fast mode is allowed to differ
    got = cu.num(res["results"]["sum"])
    total = math.fsum(abs(v) for v in x.astype(np.float64).tolist())
    if got and total / abs(got) < float(cond) / 100:
        raise AssertionError("cond %s: data only %.3g-conditioned" % (
            cond, total / abs(got)))


for _cond in ["1e3", "1e10", "1e20", "1e30", "1e40"]:
    suite.add("ill_f64_cond_%s" % _cond, ill_case, "f64", _cond, 300007)
for _cond in ["1e3", "1e10", "1e20", "1e28"]:
    suite.add("ill_f32_cond_%s" % _cond, ill_case, "f32", _cond, 300007)


@suite.test
def ill_ten_million(tmp):
    """1e7 elements: sum and l1 bit for bit with math.fsum."""
    path = gen_ill(tmp, "x.npy", "f32", 10000000, "1e20", 3)
    x = np.load(path).astype(np.float64).tolist()
    res = cu.reduce_json(path, "--mode", "exact", "--ops", "sum,l1")
    r = res["results"]
    bits_equal(cu.num(r["sum"]), math.fsum(x), "sum")
    bits_equal(cu.num(r["l1"]), math.fsum(abs(v) for v in x), "l1")


def dot_case(tmp, dtype, cond):
    xp = gen_ill(tmp, "x.npy", dtype, 300007, cond, 1)
    yp = gen_ill(tmp, "y.npy", dtype, 300007, "1e5", 2)
    x, y = np.load(xp), np.load(yp)
    res = cu.reduce_json(xp, "--mode", "exact", "--ops", "dot,sum",
                         "--with", yp)
    check_exact(res, x, y, what="%s dot cond %s" % (dtype, cond))


for _dt, _cond in [("f64", "1e10"), ("f64", "1e40"), ("f32", "1e20")]:
    suite.add("dot_%s_cond_%s" % (_dt, _cond), dot_case, _dt, _cond)


# ---------------------------------------------------- constructed cases

@suite.test
def opposite_pairs_plus_a_tiny_value(tmp):
    rng = np.random.default_rng(5)
    v = np.ldexp(rng.random(200000) + 1.0, rng.integers(-1000, 1000, 200000))
    x = np.concatenate([v, -v, [3 * 2.0 ** -1074]])
    rng.shuffle(x)
    path = save(tmp, "x.npy", x)
    for dev in ["host", first_device()]:
        res = cu.reduce_json(path, "--mode", "exact", "--devices", dev,
                             "--ops", "sum,mean,l1")
        bits_equal(cu.num(res["results"]["sum"]), 3 * 2.0 ** -1074,
                   dev + " sum")
        check_exact(res, x, what=dev)


@suite.test
def values_from_2_to_the_minus_1074_to_2_to_the_1023(tmp):
    p = np.ldexp(1.0, np.arange(-1074, 1024))
    rng = np.random.default_rng(9)
    signs = rng.choice([-1.0, 1.0], p.size)
    x = np.zeros(400000)
    x[rng.choice(x.size, p.size, replace=False)] = p * signs
    path = save(tmp, "x.npy", x)
    for dev in ["host", first_device()]:
        res = cu.reduce_json(path, "--mode", "exact", "--devices", dev,
                             "--ops", "sum,mean,var,std,l1,l2")
        check_exact(res, x, what=dev)
    # all positive: the exact sum 2^1024 - 2^-1074 rounds past DBL_MAX
    path = save(tmp, "p.npy", p)
    res = cu.reduce_json(path, "--mode", "exact", "--ops", "sum,l2")
    bits_equal(cu.num(res["results"]["sum"]), math.inf, "sum overflows")
    sqrt_within_ulp(cu.num(res["results"]["l2"]),
                    Fraction(sum(scaled(v, SUM_SHIFT) ** 2 for v in p),
                             1 << PROD_SHIFT), "l2 stays finite")


@suite.test
def many_subnormals(tmp):
    rng = np.random.default_rng(11)
    m = rng.integers(1, 2 ** 52, 1000000).astype(np.float64)
    x = np.ldexp(m, -1074) * rng.choice([-1.0, 1.0], m.size)
    path = save(tmp, "x.npy", x)
    for dev in ["host", first_device()]:
        res = cu.reduce_json(path, "--mode", "exact", "--devices", dev,
                             "--ops", "sum,mean,l1,var,std,l2")
        check_exact(res, x, what=dev)


@suite.test
def results_at_rounding_ties(tmp):
    """Ties go to even; anything below the tie decides."""
    cases = [
        ([1.0, 2.0 ** -53], 1.0),
        ([1.0 + 2.0 ** -52, 2.0 ** -53], 1.0 + 2.0 ** -51),
        ([1.0, 2.0 ** -53, 2.0 ** -1074], 1.0 + 2.0 ** -52),
        ([1.0, 2.0 ** -53, -2.0 ** -1074], 1.0),
        ([2.0 ** 1023, 2.0 ** 970], 2.0 ** 1023),
        ([sys.float_info.max, 2.0 ** 970], math.inf),
    ]
    for i, (vals, want) in enumerate(cases):
        x = np.zeros(300000)
        x[::300000 // len(vals)][:len(vals)] = vals
        path = save(tmp, "t%d.npy" % i, x)
        for dev in ["host", first_device()]:
            res = cu.reduce_json(path, "--mode", "exact", "--devices", dev,
                                 "--ops", "sum")
            bits_equal(cu.num(res["results"]["sum"]), want,
                       "%s case %d" % (dev, i))
    # a mean at a tie: (2^53 + 1) / 1 ... spread over 2 elements:
    # (2^54 + 2) / 2 = 2^53 + 1 -> 2^53 (even)
    x = np.array([2.0 ** 54, 2.0], dtype=np.float64)
    res = cu.reduce_json(save(tmp, "m.npy", x), "--mode", "exact",
                         "--ops", "mean")
    bits_equal(cu.num(res["results"]["mean"]), 2.0 ** 53, "mean tie")


@suite.test
def variance_at_an_offset_of_1e9(tmp):
    rng = np.random.default_rng(3)
    x = 1e9 + rng.standard_normal(500000)
    path = save(tmp, "x.npy", x)
    for ddof in ["0", "1"]:
        res = cu.reduce_json(path, "--mode", "exact", "--ddof", ddof,
                             "--ops", "mean,var,std")
        check_exact(res, x, ddof=int(ddof), what="ddof " + ddof)


# ------------------------------------------------------ bitwise identity

def mixed(dtype, n, seed):
    rng = np.random.default_rng(seed)
    e = rng.integers(-20, 20, n)
    wild = rng.random(n) < 0.001
    e[wild] = rng.integers(-100, 100, int(wild.sum()))
    x = np.ldexp(rng.random(n) - 0.5, e) + np.where(np.arange(n) % 3, 0, 1e6)
    return x.astype(cu.NUMPY_NAMES[dtype])


@suite.test
def same_bits_on_every_device_set_and_chunk(tmp):
    runs = [({}, "host"), ({}, first_device())]
    _, pocl, host = listed(cu.env(**TWO_POCL))
    if len(pocl) >= 2:
        a, b = pocl[:2]
        runs += [(TWO_POCL, a), (TWO_POCL, b), (TWO_POCL, a + "," + b),
                 (TWO_POCL, host), (TWO_POCL, ",".join([a, b, host]))]
    else:
        print("     (fewer than two POCL devices: one-device runs only)")
    chunks = [None, "4096", "65536", "1048576"]
    for dtype in ["f32", "f64"]:
        x, y = mixed(dtype, 1500007, 1), mixed(dtype, 1500007, 2)
        xp, yp = save(tmp, "x.npy", x), save(tmp, "y.npy", y)
        first = None
        for extra, devs in runs:
            for chunk in chunks:
                args = ["--mode", "exact", "--ops", ALL + ",dot", "--with",
                        yp, "--devices", devs]
                if chunk:
                    args += ["--chunk", chunk]
                res = cu.reduce_json(xp, *args, environ=cu.env(**extra))
                got = res["results"]
                if len(res["devices"]) != len(devs.split(",")):
                    raise AssertionError("%s: ran on %r" % (
                        devs, res["devices"]))
                if first is None:
                    first = got
                    check_exact(res, x, y, what=dtype)
                elif got != first:
                    diff = [k for k in got if got[k] != first[k]]
                    raise AssertionError(
                        "%s --devices %s (%s) --chunk %s: %s differ" % (
                            dtype, devs, extra or "one POCL device", chunk,
                            diff))


# ------------------------------------------------- special values, ints

@suite.test
def nan_and_infinities(tmp):
    x = np.zeros(300000)
    x[[5, 70000]] = [np.nan, 2.0]
    path = save(tmp, "nan.npy", x)
    res = cu.reduce_json(path, "--mode", "exact", "--ops", "sum,argmin,l2")
    r = {k: cu.num(v) for k, v in res["results"].items()}
    if not (math.isnan(r["sum"]) and math.isnan(r["l2"])) or r["argmin"] != 5:
        raise AssertionError("propagate: %r" % r)
    res = cu.reduce_json(path, "--mode", "exact", "--nan", "omit",
                         "--ops", "count,sum,mean")
    r = res["results"]
    if r["count"] != 299999 or cu.num(r["sum"]) != 2.0 or \
            cu.num(r["mean"]) != 2.0 / 299999:
        raise AssertionError("omit: %r" % r)
    x[5] = np.inf
    x[6] = -np.inf
    res = cu.reduce_json(save(tmp, "inf.npy", x), "--mode", "exact",
                         "--ops", "sum,l1")
    r = {k: cu.num(v) for k, v in res["results"].items()}
    if not math.isnan(r["sum"]) or r["l1"] != math.inf:
        raise AssertionError("inf: %r" % r)


@suite.test
def integers_keep_their_exact_path(tmp):
    rng = np.random.default_rng(4)
    x = rng.integers(-2 ** 31, 2 ** 31, 400000, dtype=np.int64)
    path = save(tmp, "i.npy", x)
    ex = cu.reduce_json(path, "--mode", "exact", "--ops", ALL)
    fa = cu.reduce_json(path, "--ops", ALL)
    if ex["mode"] != "exact" or ex["results"] != fa["results"]:
        raise AssertionError("%r vs %r" % (ex["results"], fa["results"]))
    if ex["results"]["sum"] != int(x.sum()):
        raise AssertionError("integer sum")


if __name__ == "__main__":
    suite.main()
