"""min, max, argmin, argmax of data whose extreme is the start value of the
lane rule (+inf for min, -inf for max, an integer dtype's limits), against
numpy: all-+inf and all--inf arrays, NaN beside infinities under both NaN
policies, an all-inf chunk or lane beside finite ones, all-inf columns and
groups (--axis, --by); fast and exact mode, on the host and on every OpenCL
device `devices --json` lists (large inputs: the host takes small ones).

Run: python3 test_inf_extremes.py /path/to/edgegrid
"""

import json
import os

import numpy as np

import cliutil as cu

suite = cu.Suite()
OPS = "min,max,argmin,argmax"
BIG = 300007  # above the host's small-input limit (256 Ki elements)


def opencl_indices():
    doc = json.loads(cu.ok(["devices", "--json"]))
    return [str(d["index"]) for d in doc["devices"] if d["type"] != "host"]


def first(x, v):
    """The first index of the value v in x.  Not numpy's nanargmin: that
    fills NaN with +inf first, so [nan, inf] gives 0, a NaN's index."""
    return int(np.flatnonzero(x == v)[0])


def want_flat(x, nan):
    """numpy's answer: first occurrences; NaN wins under propagate."""
    if nan == "omit":
        mn, mx = np.nanmin(x), np.nanmax(x)
        return {"min": mn, "max": mx, "argmin": first(x, mn),
                "argmax": first(x, mx)}
    return {"min": np.min(x), "max": np.max(x),
            "argmin": int(np.argmin(x)), "argmax": int(np.argmax(x))}


def check_value(got, want, what):
    got = cu.num(got)
    if got is None:
        raise AssertionError("%s: null, want %r" % (what, want))
    if isinstance(want, (int, np.integer)) and not isinstance(
            want, (bool, np.bool_)):
        if got != int(want) or isinstance(got, float):
            raise AssertionError("%s: %r, want %r" % (what, got, int(want)))
        return
    w = float(want)
    if np.isnan(w):
        if not cu.is_nan(got):
            raise AssertionError("%s: %r, want nan" % (what, got))
    elif got != w:
        raise AssertionError("%s: %r, want %r" % (what, got, w))


def run_flat(tmp, x, dev, mode, nan, extra=()):
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    doc = cu.reduce_json(path, "--devices", dev, "--mode", mode, "--nan",
                         nan, "--ops", OPS, *extra)
    where = "%s %s %s n=%d %s" % (x.dtype, dev, mode, x.size, nan)
    if doc.get("notes"):
        raise AssertionError("%s: notes %r" % (where, doc["notes"]))
    devs = [(d["id"], d["elements"]) for d in doc["devices"]]
    if dev != "host" and devs != [(dev, x.size)]:
        raise AssertionError("%s: ran on %r" % (where, devs))
    if sum(e for _, e in devs) != x.size:
        raise AssertionError("%s: element counts %r" % (where, devs))
    for op, w in want_flat(x, nan).items():
        check_value(doc["results"][op], w, "%s %s" % (where, op))


def float_cases(n):
    """(name, f64 array) pairs; each a case where the start value of the
    rule is the answer somewhere."""
    pinf = np.full(n, np.inf)
    ninf = np.full(n, -np.inf)
    nan_pinf = np.full(n, np.inf)
    nan_pinf[0] = np.nan
    if n > 2:
        nan_pinf[n // 2] = np.nan
    nan_ninf = -nan_pinf
    # an all-+inf first part (whole chunks of 4096 with --chunk 4096 and
    # whole lanes), then finite data with its own -inf lane in the middle
    mixed = np.full(n, np.inf)
    if n > 6 * 4096:
        mixed[3 * 4096 + 5:] = np.linspace(-2.0, 7.0, n - 3 * 4096 - 5)
        mixed[5 * 4096:6 * 4096] = -np.inf
    cases = [("+inf", pinf), ("-inf", ninf), ("nan,+inf", nan_pinf),
             ("nan,-inf", nan_ninf)]
    return cases + [("+inf chunks then finite", mixed)] if n > 6 * 4096 \
        else cases


def flat_case(tmp, n, devs):
    for _, x64 in float_cases(n):
        for dt in (np.float64, np.float32):
            x = x64.astype(dt)
            for dev in devs:
                for mode in ("fast", "exact"):
                    for nan in ("propagate", "omit"):
                        extra = ("--chunk", "4096") if n > 4096 else ()
                        run_flat(tmp, x, dev, mode, nan, extra)


@suite.test
def small_on_host(tmp):
    flat_case(tmp, 2, ["host"])
    flat_case(tmp, 7 * 4096 + 4101, ["host"])


@suite.test
def big_on_host_and_opencl(tmp):
    devs = ["host"] + opencl_indices()
    if len(devs) == 1:
        print("     (no OpenCL device here)")
    flat_case(tmp, BIG, devs)


@suite.test
def integers_at_their_limits(tmp):
    for name in ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"):
        dt = np.dtype(cu.NUMPY_NAMES[name])
        info = np.iinfo(dt)
        for lim in (info.max, info.min):
            for n, devs in ((5, ["host"]), (BIG, ["host"] + opencl_indices())):
                x = np.full(n, lim, dtype=dt)
                for dev in devs:
                    for mode in ("fast", "exact"):
                        run_flat(tmp, x, dev, mode, "propagate")


def structured_want(m, nan, keys=None):
    """Per column (or per group and column): numpy's extremes, argmin and
    argmax as indices along axis 0 (the row's global index with --by,
    which is what both modes report)."""
    def one(col, rows):
        if nan == "omit":
            mn, mx = np.nanmin(col), np.nanmax(col)
            return (mn, mx, int(rows[first(col, mn)]),
                    int(rows[first(col, mx)]))
        return (np.min(col), np.max(col),
                int(rows[np.argmin(col)]), int(rows[np.argmax(col)]))
    if keys is None:
        rows = np.arange(m.shape[0])
        return [[one(m[:, j], rows) for j in range(m.shape[1])]]
    out = []
    for g in np.unique(keys):
        rows = np.nonzero(keys == g)[0]
        out.append([one(m[rows, j], rows) for j in range(m.shape[1])])
    return out


def check_structured(doc, want, what, grouped):
    res = doc["results"]
    for gi, cols in enumerate(want):
        for j, w in enumerate(cols):
            for k, op in enumerate(("min", "max", "argmin", "argmax")):
                got = res[op][gi][j] if grouped else res[op][j]
                check_value(got, w[k], "%s group %d col %d %s" % (
                    what, gi, j, op))


@suite.test
def all_inf_columns_and_groups(tmp):
    rows = 4096 + 9  # a whole lane and a short one per column
    m = np.linspace(-1.0, 1.0, rows * 6).reshape(rows, 6)
    m[:, 0] = np.inf
    m[:, 1] = -np.inf
    m[:, 2] = np.inf
    m[::7, 2] = np.nan           # NaN and +inf only
    m[:, 3] = -np.inf
    m[1::5, 3] = np.nan          # NaN and -inf only
    m[100:, 4] = np.inf          # finite, then +inf
    keys = (np.arange(rows) % 3).astype(np.int64)
    keys[:50] = 3                # group 3: the first rows
    m[:50, 5] = np.inf           # group 3 is all +inf in column 5
    kp = os.path.join(tmp, "k.npy")
    np.save(kp, keys)
    for dt in (np.float64, np.float32):
        x = m.astype(dt)
        path = os.path.join(tmp, "m.npy")
        np.save(path, x)
        for mode in ("fast", "exact"):
            for nan in ("propagate", "omit"):
                base = ("--devices", "host", "--mode", mode, "--nan", nan,
                        "--ops", OPS)
                what = "%s %s %s" % (x.dtype, mode, nan)
                doc = cu.reduce_json(path, *base, "--axis", "0")
                check_structured(doc, structured_want(x, nan),
                                 what + " --axis 0", False)
                doc = cu.reduce_json(path, *base, "--by", kp)
                check_structured(doc, structured_want(x, nan, keys),
                                 what + " --by", True)


@suite.test
def stream_windows_of_infinities(tmp):
    """Raw f64 records in count windows: all +inf, all -inf, NaN and +inf,
    finite then +inf; argmin/argmax count from the window's first record."""
    w = 5000
    parts = [np.full(w, np.inf), np.full(w, -np.inf), np.full(w, np.inf),
             np.linspace(-1.0, 1.0, w)]
    parts[2][::3] = np.nan
    parts[3][10:] = np.inf
    x = np.concatenate(parts)
    for mode in ("fast", "exact"):
        for nan in ("propagate", "omit"):
            p = cu.run(["stream", "--from", "-", "--format", "raw", "--dtype",
                        "f64", "--window", str(w), "--mode", mode, "--nan",
                        nan, "--ops", OPS], stdin=x.tobytes())
            if p.returncode != 0:
                raise AssertionError("stream: exit %d: %s" % (
                    p.returncode, p.stderr.decode()))
            lines = [json.loads(l) for l in p.stdout.decode().splitlines()
                     if l.strip()]
            if len(lines) != len(parts):
                raise AssertionError("stream: %d windows" % len(lines))
            for i, (line, part) in enumerate(zip(lines, parts)):
                if line["count"] != w:
                    raise AssertionError("window %d count %r" % (
                        i, line["count"]))
                for op, want in want_flat(part, nan).items():
                    check_value(line["results"][op][0], want,
                                "stream %s %s window %d %s" % (
                                    mode, nan, i, op))


if __name__ == "__main__":
    suite.main()
