"""quantile, median and approx_quantile with axis=, keepdims= and by=, and
reduce_file with axis=, keepdims= and by=, against numpy and pandas."""
import warnings

import numpy as np
import pandas as pd
import pytest

METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]


def _x(shape, dtype="float64", seed=5):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 100 + 7).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype,
                        endpoint=True)


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint64"])
@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), (0, 1, 2)])
def test_quantile_axis_is_numpys(eg, method, dtype, axis):
    x = _x((9, 8, 7), dtype)
    q = [0.0, 0.3, 0.5, 0.99, 1.0]
    got = eg.quantile(x, q, method=method, axis=axis)
    want = np.quantile(x, q, method=method, axis=axis)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    # a scalar q drops the q axis, as numpy
    got1 = eg.quantile(x, 0.25, method=method, axis=axis)
    want1 = np.quantile(x, 0.25, method=method, axis=axis)
    assert np.shape(got1) == np.shape(want1)
    np.testing.assert_array_equal(got1, want1)


@pytest.mark.parametrize("axis", [None, 0, (1, 2)])
def test_keepdims_and_q_shape(eg, axis):
    x = _x((6, 5, 4))
    q = np.array([[0.1, 0.2], [0.7, 0.9]])  # q's shape leads the result
    got = eg.quantile(x, q, axis=axis, keepdims=True)
    want = np.quantile(x, q, axis=axis, keepdims=True)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    m = eg.median(x, axis=axis, keepdims=True)
    np.testing.assert_array_equal(m, np.median(x, axis=axis, keepdims=True))


def test_median_axis_and_nan(eg):
    x = _x((50, 6), "float32")
    x[3, 2] = np.nan
    m = eg.median(x, axis=0)
    want = np.median(x, axis=0)
    assert m.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(m, want)  # NaN in column 2 only
    np.testing.assert_array_equal(eg.median(x, axis=0, nan="omit"),
                                  np.nanmedian(x, axis=0))
    np.testing.assert_array_equal(
        eg.quantile(x, [0.2, 0.8], axis=0, nan="omit", method="midpoint"),
        np.nanquantile(x, [0.2, 0.8], axis=0, method="midpoint"))
    xi = _x((50, 3), "int32")
    mi = eg.median(xi, axis=0)
    assert mi.dtype == np.float64
    np.testing.assert_array_equal(mi, np.median(xi, axis=0))


def test_strided_and_big_endian_input(eg):
    x = _x((40, 30))
    for v in (x.T, x[::3, 1::2], x.astype(">f8")):
        np.testing.assert_array_equal(eg.quantile(v, [0.5, 0.9], axis=0),
                                      np.quantile(v, [0.5, 0.9], axis=0))


def test_approx_quantile_axis(eg):
    rng = np.random.default_rng(9)
    x = np.stack([rng.lognormal(0, 2, 50_000), -rng.pareto(1.2, 50_000)], 1)
    q = [0.01, 0.5, 0.99]
    got = eg.approx_quantile(x, q, rel_err=0.01, axis=0)
    ref = np.quantile(x, q, axis=0, method="lower")
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= 0.01 * np.abs(ref))
    got1 = eg.approx_quantile(x.T, 0.5, axis=1, keepdims=True)
    assert got1.shape == (2, 1)


@pytest.mark.parametrize("method", ["linear", "lower", "higher",
                                    "midpoint"])
def test_quantile_by_matches_pandas(eg, method):
    rng = np.random.default_rng(13)
    n = 3000
    keys = rng.integers(-40, 40, size=n).astype(np.int64)
    x = rng.standard_normal((n, 3))
    q = [0.1, 0.5, 0.9]
    got = eg.quantile(x, q, method=method, by=keys)
    groups = eg.reduce(x, ops="count", by=keys).groups
    assert got.shape == (3, len(groups), 3)
    # numpy per group, bit for bit
    want = np.stack([np.quantile(x[keys == k], q, axis=0, method=method)
                     for k in groups], axis=1)
    np.testing.assert_array_equal(got, want)
    # pandas' groupby().quantile(), within rounding of its interpolation
    ref = pd.DataFrame(x).groupby(keys).quantile(q, interpolation=method)
    for i, qq in enumerate(q):
        np.testing.assert_allclose(got[i], ref.xs(qq, level=1).to_numpy(),
                                   rtol=1e-12, atol=1e-12)
    med = eg.median(x, by=keys)
    np.testing.assert_array_equal(
        med, np.stack([np.median(x[keys == k], axis=0) for k in groups]))


def test_quantile_bad_input_axis(eg):
    x = _x((4, 5))
    with pytest.raises(eg.InputError):
        eg.quantile(x, 0.5, axis=2)
    with pytest.raises(eg.InputError):
        eg.quantile(x, 0.5, axis=(0, 0))
    with pytest.raises(eg.InputError):
        eg.quantile(x, 1.5, axis=0)
    with pytest.raises(eg.InputError):
        eg.median(x, axis=0, by=np.zeros(4, np.int32))
    with pytest.raises(eg.InputError):
        eg.median(x, by=np.zeros(3, np.int32))  # one key per row
    with pytest.raises(eg.InputError):
        eg.median(x, by=np.zeros(4, np.float64))
    with pytest.raises(eg.InputError):
        eg.quantile(x, 0.5, axis=1.0)


def test_histogram_stays_numpys_1d(eg):
    x = _x((30, 4))
    c, e = eg.histogram(x, 7)
    nc, ne = np.histogram(x, 7)
    np.testing.assert_array_equal(c, nc)
    np.testing.assert_array_equal(e, ne)


# ------------------------------------------------------------ reduce_file

@pytest.mark.parametrize("axis", [0, 1, (0, 1), None])
def test_reduce_file_axis(eg, tmp_path, axis):
    x = _x((300, 5, 2))
    p = tmp_path / "x.npy"
    np.save(p, x)
    kw = dict(axis=axis, keepdims=axis is None)
    one = isinstance(axis, int)  # argmax takes one axis
    ops = "sum,min,max,count" + (",argmax" if one else "")
    r = eg.reduce_file(str(p), ops=ops, **kw)
    want = eg.reduce(x, ops=ops, **kw)
    for op in ("sum", "min", "max", "count"):
        assert r[op].shape == want[op].shape
        np.testing.assert_array_equal(r[op], want[op])
    np.testing.assert_array_equal(r["max"], np.max(x, **kw))
    assert r["min"].dtype == x.dtype
    np.testing.assert_allclose(r["sum"], np.sum(x, **kw), rtol=1e-12)
    if one:
        np.testing.assert_array_equal(r["argmax"], np.argmax(x, axis=axis))


def test_reduce_file_by(eg, tmp_path):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((1000, 3)).astype(np.float32)
    keys = rng.integers(0, 9, size=1000).astype(np.int16)
    xp, kp = tmp_path / "x.npy", tmp_path / "k.npy"
    np.save(xp, x)
    np.save(kp, keys)
    a = eg.reduce_file(str(xp), ops="mean,max,count", by=keys)
    b = eg.reduce_file(xp, ops="mean,max,count", by=str(kp))
    df = pd.DataFrame(x.astype(np.float64)).groupby(keys)
    for r in (a, b):
        np.testing.assert_array_equal(r.groups, np.unique(keys))
        np.testing.assert_allclose(r["mean"], df.mean().to_numpy(),
                                   rtol=1e-6)
        np.testing.assert_array_equal(r["max"],
                                      df.max().to_numpy().astype(np.float32))
        np.testing.assert_array_equal(r["count"], df.count().to_numpy())
    with pytest.raises(eg.InputError):
        eg.reduce_file(str(xp), ops="mean", by=keys[:10])
    with pytest.raises(eg.InputError):
        eg.reduce_file(str(xp), ops="mean", by=str(kp), axis=0)
    with pytest.raises(eg.InputError):
        eg.reduce_file(str(xp), ops="argmin", axis=(0, 1))
