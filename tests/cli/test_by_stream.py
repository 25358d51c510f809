"""`reduce --by` with few groups streams the rows into each group's pending
lane instead of copying them in group order (engine/structured/
struct_stream.c); the two paths must give the same bytes.

A test build forces either path ($EDGEGRID_TEST_BY_PATH=copy|stream) and
cuts small inputs into slices ($EDGEGRID_TEST_BY_SLICES), so lanes that a
slice boundary cuts are met on small inputs:
- every op's .npz array, and the groups, byte for byte the same from the
  copy (1 slice) and the streamed path (1, 2, 3 and 7 slices): dense,
  sorted, sparse int64, all-equal and one-row keys; groups of partial
  lanes and groups longer than a chunk (--chunk 8192); f32, f64
  big-endian, i8, i32, u64 and i64 data; NaN and infinities (lanes redone
  carefully); [R, 3] with dot, Fortran order; fast and exact modes;
- the path really taken (the device the run names) and the default
  choice: few groups streamed, many copied;
- a streamed group against its rows reduced alone with numpy's rows.
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
PATH = "EDGEGRID_TEST_BY_PATH"
SLICES = "EDGEGRID_TEST_BY_SLICES"
STREAMED = "host (--by streamed)"
FLOAT_OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"
INT_OPS = "count,sum,mean,min,max,argmin,argmax,l1"


def save(tmp, name, x, fortran=False):
    path = os.path.join(tmp, name)
    np.save(path, np.asfortranarray(x) if fortran else x)
    return path


def npz(tmp, px, pk, ops, path, slices, extra=()):
    """reduce --by PK -o OUT.npz on PATH's path in SLICES slices."""
    out = os.path.join(tmp, "out.npz")
    if os.path.exists(out):
        os.remove(out)
    e = cu.env(**{PATH: path, SLICES: str(slices), "EDGEGRID_DEVICES":
                  "host"})
    cu.ok(["reduce", "--ops", ops, "--by", pk, "-o", out, *extra, px], e)
    with np.load(out) as z:
        return {k: z[k].copy() for k in z.files}


def same_bytes(got, want, label):
    if sorted(got) != sorted(want):
        raise AssertionError("%s: fields %r, copy gives %r"
                             % (label, sorted(got), sorted(want)))
    for f, v in want.items():
        g = got[f]
        if g.dtype != v.dtype or g.shape != v.shape or \
                g.tobytes() != v.tobytes():
            bad = np.flatnonzero(g.ravel().view(np.uint8)
                                 != v.ravel().view(np.uint8))[:3]
            raise AssertionError("%s: %s differs (%s %r vs %s %r) near "
                                 "byte %r" % (label, f, g.dtype, g.shape,
                                              v.dtype, v.shape, bad))


def copy_equals_stream(tmp, x, keys, label, ops, extra=(), fortran=False):
    px = save(tmp, "x.npy", x, fortran)
    pk = save(tmp, "k.npy", keys)
    want = npz(tmp, px, pk, ops, "copy", 1, extra)
    for s in (1, 2, 3, 7):
        got = npz(tmp, px, pk, ops, "stream", s, extra)
        same_bytes(got, want, "%s, %d slices" % (label, s))
    return want


def key_layouts(rng, n):
    """Key arrays that put lanes and slice boundaries in different places."""
    sizes = np.array([1, 4095, 4096, 4097, 9000, 20000])
    sized = np.repeat(np.arange(len(sizes)), sizes)[:n]
    sized = np.concatenate([sized, np.full(n - len(sized), 99)])
    return (
        ("dense negative unsorted", rng.integers(-7, 5, n).astype(np.int32)),
        ("sorted runs of partial lanes", sized.astype(np.int16)),
        ("sorted runs shuffled", rng.permutation(sized).astype(np.int64)),
        ("sparse int64", rng.choice(np.array([-2 ** 62, -5, 3, 2 ** 40],
                                             np.int64), n)),
        ("all equal", np.full(n, 42, np.uint8)),
        ("one-row groups beside a big one",
         np.where(np.arange(n) % 1000 == 0, np.arange(n), -1)
         .astype(np.int32)),
    )


def hooks_built():
    return os.environ.get("EDGEGRID_TEST_HOOKS_BUILT", "").upper() in (
        "ON", "1", "TRUE", "YES", "Y")


@suite.test
def key_layouts_give_the_copy_bits_in_any_slices(tmp):
    rng = np.random.default_rng(11)
    n = 70001
    x = rng.normal(3.0, 10.0, n).astype(np.float32)
    for label, keys in key_layouts(rng, n):
        for chunk in ((), ("--chunk", "8192")):
            copy_equals_stream(tmp, x, keys, "%s %r" % (label, chunk),
                               FLOAT_OPS, chunk)


@suite.test
def dtypes_and_exact_mode_give_the_copy_bits(tmp):
    rng = np.random.default_rng(12)
    n = 40003
    keys = rng.integers(0, 6, n).astype(np.int32)
    keys[: n // 3] = 9  # one group longer than a chunk of 8192
    f = rng.normal(1e3, 50.0, n)
    cases = (
        ("f32", f.astype(np.float32), FLOAT_OPS),
        ("f64 big-endian", f.astype(">f8"), FLOAT_OPS),
        ("i8", rng.integers(-128, 128, n).astype(np.int8), INT_OPS),
        ("i32", rng.integers(-2 ** 31, 2 ** 31, n).astype(np.int32), INT_OPS),
        ("u64", rng.integers(0, 2 ** 50, n).astype(np.uint64), INT_OPS),
        ("i64", rng.integers(-2 ** 40, 2 ** 40, n).astype(np.int64), INT_OPS),
    )
    for label, x, ops in cases:
        for mode in ("fast", "exact"):
            copy_equals_stream(tmp, x, keys, "%s %s" % (label, mode), ops,
                               ("--mode", mode, "--chunk", "8192"))


@suite.test
def nan_and_infinities_give_the_copy_bits(tmp):
    rng = np.random.default_rng(13)
    n = 30011
    x = rng.normal(0.0, 1.0, n)
    x[rng.integers(0, n, 40)] = np.nan
    x[rng.integers(0, n, 20)] = np.inf
    x[rng.integers(0, n, 20)] = -np.inf
    keys = rng.integers(0, 4, n).astype(np.int32)
    for dt in (np.float32, np.float64):
        for extra in (("--nan", "propagate"), ("--nan", "omit"),
                      ("--nan", "omit", "--mode", "exact")):
            copy_equals_stream(tmp, x.astype(dt), keys,
                               "%s %r" % (np.dtype(dt).name, extra),
                               FLOAT_OPS, extra)


@suite.test
def rows_of_three_with_dot_and_fortran_order(tmp):
    rng = np.random.default_rng(14)
    r = 20011
    x = rng.normal(2.0, 3.0, (r, 3))
    y = rng.normal(-1.0, 2.0, (r, 3))
    keys = rng.integers(-3, 3, r).astype(np.int32)
    py = save(tmp, "y.npy", y.astype(">f8"))
    copy_equals_stream(tmp, x.astype(">f8"), keys, "[R, 3] big-endian dot",
                       FLOAT_OPS + ",dot", ("--with", py, "--chunk", "8192"))
    copy_equals_stream(tmp, x.astype(np.float32), keys, "[R, 3] Fortran",
                       FLOAT_OPS, ("--chunk", "8192"), fortran=True)


def device_names(tmp, px, pk, path):
    e = cu.env(**({PATH: path} if path else {}), EDGEGRID_DEVICES="host")
    r = cu.reduce_json(px, "--by", pk, environ=e)
    return [d["name"] for d in r["devices"]]


@suite.test
def the_path_taken_and_the_default_choice(tmp):
    rng = np.random.default_rng(15)
    n = 200000
    px = save(tmp, "x.npy", rng.normal(size=n).astype(np.float32))
    few = save(tmp, "few.npy", rng.integers(0, 100, n).astype(np.int32))
    many = save(tmp, "many.npy", rng.integers(0, 50000, n).astype(np.int32))
    for pk, path, streamed in ((few, "stream", True), (few, "copy", False),
                               (many, "stream", True),
                               (many, "copy", False),
                               (few, None, True), (many, None, False)):
        names = device_names(tmp, px, pk, path)
        if (STREAMED in names) != streamed:
            raise AssertionError("%s with %s: devices %r, streamed %r "
                                 "expected" % (os.path.basename(pk), path,
                                               names, streamed))


@suite.test
def a_streamed_group_against_its_rows_alone(tmp):
    rng = np.random.default_rng(16)
    n = 90007
    x = rng.normal(5.0, 2.0, n).astype(np.float32)
    keys = rng.integers(0, 3, n).astype(np.int32)
    px, pk = save(tmp, "x.npy", x), save(tmp, "k.npy", keys)
    z = npz(tmp, px, pk, "count,sum,min,argmin", "stream", 3)
    for g, key in enumerate(z["groups"].tolist()):
        rows = np.flatnonzero(keys == key)
        if int(z["count"][g]) != len(rows):
            raise AssertionError("group %d count %d want %d"
                                 % (key, z["count"][g], len(rows)))
        one = cu.reduce_json(save(tmp, "one.npy", x[rows].copy()), "--ops",
                             "sum,min,argmin")
        cu.same(float(z["sum"][g]), cu.num(one["results"]["sum"]),
                "group %d sum" % key)
        cu.same(float(z["min"][g]), float(x[rows].min()), "group %d min" % key)
        if int(z["argmin"][g]) != int(rows[np.argmin(x[rows])]):
            raise AssertionError("group %d argmin %d want %d" % (
                key, z["argmin"][g], rows[np.argmin(x[rows])]))


if __name__ == "__main__":
    if not hooks_built():
        print("skipped: $%s is read by test builds only" % PATH)
        sys.exit(77)
    suite.main()
