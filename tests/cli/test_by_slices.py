"""`reduce --by` with its rows cut into slices (one a thread): the same
bits for any number of slices, and each group against numpy and pandas.

A test build cuts small inputs into 1 to 16 slices on request
($EDGEGRID_TEST_BY_SLICES), as large inputs are cut on a box with that many
cores:
- every op's .npz array, and the groups, bit for bit the same for 1, 2, 3,
  7 and 16 slices: dense negative unsorted keys, sparse int64 keys (sorted
  and searched, not counted in a table), all keys equal, groups of one row,
  more slices than rows, no rows; f32 1-D, big-endian f64 [R, 3] with dot,
  Fortran order; a file too large to copy (read with pread, slice by slice,
  $EDGEGRID_TEST_STORE_LIMIT) and big-endian keys read with pread;
- against numpy/pandas: counts, extremes and idxmin/idxmax rows exactly,
  sums within the fast-mode bound 2^-50 * sum|x| of the group;
- a group's fast-mode sum has the bits of `reduce` of its rows alone.
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
SLICES = "EDGEGRID_TEST_BY_SLICES"
STORE_LIMIT = "EDGEGRID_TEST_STORE_LIMIT"
OPS = "count,sum,mean,min,max,var,argmin,argmax"


def hooks_built():
    """Only test builds (EDGEGRID_TEST_HOOKS) read $EDGEGRID_TEST_BY_SLICES."""
    return os.environ.get("EDGEGRID_TEST_HOOKS_BUILT", "").upper() in (
        "ON", "1", "TRUE", "YES", "Y")


def save(tmp, name, x, fortran=False):
    path = os.path.join(tmp, name)
    np.save(path, np.asfortranarray(x) if fortran else x)
    return path


def npz(tmp, px, pk, ops, slices, extra=(), environ=None):
    """reduce --by PK -o OUT.npz with SLICES slices: the arrays."""
    out = os.path.join(tmp, "out.npz")
    if os.path.exists(out):
        os.remove(out)
    e = cu.env(**{SLICES: str(slices)}, **(environ or {}))
    cu.ok(["reduce", "--ops", ops, "--by", pk, "-o", out, *extra, px], e)
    with np.load(out) as z:
        return {k: z[k].copy() for k in z.files}


def same_for_every_slicing(tmp, x, keys, label, ops=OPS, extra=(),
                           fortran=False, environ=None):
    """The arrays for 1 slice; those for 2, 3, 7 and 16 must be the same
    bytes (dtype and shape included)."""
    px = save(tmp, "x.npy", x, fortran)
    pk = save(tmp, "k.npy", keys)
    one = npz(tmp, px, pk, ops, 1, extra, environ)
    for s in (2, 3, 7, 16):
        got = npz(tmp, px, pk, ops, s, extra, environ)
        if sorted(got) != sorted(one):
            raise AssertionError("%s: %d slices give fields %r, 1 gives %r"
                                 % (label, s, sorted(got), sorted(one)))
        for f, v in one.items():
            if got[f].dtype != v.dtype or got[f].shape != v.shape or \
                    got[f].tobytes() != v.tobytes():
                bad = np.flatnonzero(got[f].ravel() != v.ravel())[:3]
                raise AssertionError("%s: %s with %d slices differs at %r: "
                                     "%r, 1 slice %r" % (
                                         label, f, s, bad,
                                         got[f].ravel()[bad],
                                         v.ravel()[bad]))
    return one


def against_pandas(z, x, keys, label):
    """Column by column: groups, count, min, max, argmin, argmax exactly;
    sum and mean within 2^-50 * sum|x| of the group (mean: over its count)."""
    import pandas as pd
    native = keys.astype(keys.dtype.newbyteorder("="))
    uniq = np.unique(native)
    if not np.array_equal(z["groups"], uniq):
        raise AssertionError("%s: groups %r want %r" % (
            label, z["groups"][:5], uniq[:5]))
    flat = x.reshape(x.shape[0], -1)
    flat = flat.astype(flat.dtype.newbyteorder("=")).astype(np.float64)
    for c in range(flat.shape[1]):
        df = pd.DataFrame({"k": native, "v": flat[:, c],
                           "a": np.abs(flat[:, c])})
        g = df.groupby("k", sort=True)
        bound = g["a"].sum().to_numpy() * 2.0 ** -50
        cnt = g["v"].count().to_numpy()
        exact = {"count": cnt, "min": g["v"].min().to_numpy(),
                 "max": g["v"].max().to_numpy(),
                 "argmin": g["v"].idxmin().to_numpy(),
                 "argmax": g["v"].idxmax().to_numpy()}
        for name, want in exact.items():
            got = z[name].reshape(len(uniq), -1)[:, c]
            if not np.array_equal(got.astype(np.float64),
                                  want.astype(np.float64)):
                bad = np.flatnonzero(got != want)[:3]
                raise AssertionError("%s col %d %s at groups %r: %r want %r"
                                     % (label, c, name, bad, got[bad],
                                        want[bad]))
        for name, want, tol in (
                ("sum", g["v"].sum().to_numpy(), bound),
                ("mean", g["v"].mean().to_numpy(), bound / cnt)):
            got = z[name].reshape(len(uniq), -1)[:, c]
            err = np.abs(got - want)
            # pandas' own sum rounds once a row: allow its error too
            slack = tol + np.abs(want) * 2.0 ** -40
            if np.any(err > slack):
                bad = np.flatnonzero(err > slack)[:3]
                raise AssertionError("%s col %d %s at groups %r: %r want %r"
                                     % (label, c, name, bad, got[bad],
                                        want[bad]))


def skip_without_hooks():
    if not hooks_built():
        print("skipped: $%s is read by test builds only" % SLICES)
        return True
    return False


@suite.test
def dense_sparse_and_equal_keys_give_the_same_bits_in_any_slices(tmp):
    if skip_without_hooks():
        return
    rng = np.random.default_rng(7)
    n = 50001
    x = rng.normal(3.0, 10.0, n).astype(np.float32)
    cases = (
        ("dense negative unsorted", rng.integers(-20, 17, n)
         .astype(np.int32)),
        ("sparse int64", rng.choice(np.array([-2 ** 62, -5, 0, 3, 2 ** 40,
                                              2 ** 62], np.int64), n)),
        ("all equal", np.full(n, -3, np.int16)),
        ("groups of one row",
         rng.permutation(n).astype(np.int64) * 1000003 - 11),
        ("u8 keys", rng.integers(0, 256, n).astype(np.uint8)),
        # a count table that grows as the rows go, row by row and past the
        # size the four copies of a table count (struct_keys.c), upwards
        # and downwards
        ("range growing up", (np.arange(n) * 9000 // n
                              + rng.integers(-3, 4, n)).astype(np.int32)),
        ("range growing down", (5 - np.arange(n) * 6000 // n).astype(np.int16)),
    )
    for label, keys in cases:
        z = same_for_every_slicing(tmp, x, keys, label)
        against_pandas(z, x, keys, label)


@suite.test
def two_d_big_endian_fortran_and_dot_in_any_slices(tmp):
    if skip_without_hooks():
        return
    rng = np.random.default_rng(11)
    n = 20011
    x = rng.normal(0.0, 1.0, (n, 3))
    y = rng.normal(0.0, 1.0, (n, 3))
    keys = rng.integers(-4, 9, n).astype(np.int32)
    py = save(tmp, "y.npy", y)
    for label, arr, fortran in (("big-endian", x.astype(">f8"), False),
                                ("fortran", x, True)):
        z = same_for_every_slicing(tmp, arr, keys, label,
                                   ops=OPS + ",dot", extra=("--with", py),
                                   fortran=fortran)
        against_pandas(z, x, keys, label)
        want = np.stack([np.bincount(keys - keys.min(), weights=x[:, c] *
                                     y[:, c])[np.unique(keys) - keys.min()]
                         for c in range(3)], axis=1)
        if not np.allclose(z["dot"], want, rtol=1e-12, atol=1e-12):
            raise AssertionError("%s dot: %r want %r" % (label, z["dot"][:2],
                                                          want[:2]))


@suite.test
def more_slices_than_rows_and_no_rows(tmp):
    if skip_without_hooks():
        return
    x = np.array([2.5, -1.0, 4.0], np.float64)
    keys = np.array([9, -9, 9], np.int64)
    z = same_for_every_slicing(tmp, x, keys, "three rows")
    if z["groups"].tolist() != [-9, 9] or z["sum"].tolist() != [-1.0, 6.5] \
            or z["argmax"].tolist() != [1, 2]:
        raise AssertionError("three rows: %r %r %r" % (
            z["groups"], z["sum"], z["argmax"]))
    z = same_for_every_slicing(tmp, np.zeros((0, 2), np.float32),
                               np.zeros(0, np.int32), "no rows")
    if z["groups"].shape != (0,) or z["sum"].shape != (0, 2):
        raise AssertionError("no rows: %r %r" % (z["groups"].shape,
                                                 z["sum"].shape))


@suite.test
def files_read_with_pread_in_any_slices(tmp):
    """Keys in big-endian order (read and swapped block by block) and a
    file of values too large to copy (read with pread, slice by slice):
    the bits of the file read whole."""
    if skip_without_hooks():
        return
    rng = np.random.default_rng(5)
    n = 40000
    x = rng.normal(1.0, 5.0, (n, 2)).astype(np.float32)
    keys = rng.integers(-300, 300, n).astype(">i4")
    whole = same_for_every_slicing(tmp, x, keys, "big-endian keys")
    against_pandas(whole, x, keys, "big-endian keys")
    limited = same_for_every_slicing(tmp, x, keys, "too large to copy",
                                     environ={STORE_LIMIT: "65536"})
    for f, v in whole.items():
        if limited[f].tobytes() != v.tobytes():
            raise AssertionError("too large to copy: %s differs from the "
                                 "file read whole" % f)


@suite.test
def each_group_has_the_bits_of_its_rows_alone(tmp):
    if skip_without_hooks():
        return
    rng = np.random.default_rng(3)
    n = 30000
    x = rng.normal(3.0, 10.0, n).astype(np.float32)
    keys = rng.integers(-2, 3, n).astype(np.int32)
    keys[::97] = 1000  # one sparse-ish group among dense ones
    px, pk = save(tmp, "x.npy", x), save(tmp, "k.npy", keys)
    z = npz(tmp, px, pk, "sum,min,argmin", 5)
    for g, key in enumerate(z["groups"].tolist()):
        rows = np.flatnonzero(keys == key)
        one = cu.reduce_json(save(tmp, "one.npy", x[rows].copy()), "--ops",
                             "sum,min,argmin")
        cu.same(float(z["sum"][g]), cu.num(one["results"]["sum"]),
                "group %d sum" % key)
        cu.same(float(z["min"][g]), cu.num(one["results"]["min"]),
                "group %d min" % key)
        if int(z["argmin"][g]) != int(rows[one["results"]["argmin"]]):
            raise AssertionError("group %d argmin %d want %d" % (
                key, z["argmin"][g], rows[one["results"]["argmin"]]))


if __name__ == "__main__":
    suite.main()
