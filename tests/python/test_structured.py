"""axis=, keepdims=, by= against numpy and pandas; quantile, median,
histogram, approx_quantile against numpy."""
import numpy as np
import pandas as pd
import pytest


def _x(shape, dtype="float64", seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 100 + 7
    return x.astype(dtype) if np.dtype(dtype).kind == "f" else \
        rng.integers(-1000, 1000, size=shape).astype(dtype)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, (0, 2), (1, -1), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_mean_std_along_axes(eg, axis, keepdims):
    x = _x((5, 6, 7))
    r = eg.reduce(x, ops="sum,mean,std,min,max,count", axis=axis,
                  keepdims=keepdims, ddof=1)
    kw = dict(axis=axis, keepdims=keepdims)
    assert np.shape(r["sum"]) == np.shape(np.sum(x, **kw))
    np.testing.assert_allclose(r["sum"], np.sum(x, **kw), rtol=1e-12)
    np.testing.assert_allclose(r["mean"], np.mean(x, **kw), rtol=1e-12)
    np.testing.assert_allclose(r["std"], np.std(x, ddof=1, **kw),
                               rtol=1e-10)
    np.testing.assert_array_equal(r["min"], np.min(x, **kw))
    np.testing.assert_array_equal(r["max"], np.max(x, **kw))
    assert axis is None and not keepdims or r["min"].dtype == x.dtype
    n = x.size // np.sum(np.ones_like(x), **kw).size
    np.testing.assert_array_equal(r["count"], np.full(np.shape(r["sum"]), n))


def test_numpy_like_functions_take_axis(eg):
    x = _x((4, 9, 3), "int32")
    np.testing.assert_array_equal(eg.sum(x, axis=0), x.sum(axis=0))
    assert eg.sum(x, axis=0).dtype == np.int64
    np.testing.assert_allclose(eg.mean(x, axis=(0, 2), keepdims=True),
                               x.mean(axis=(0, 2), keepdims=True))
    assert eg.mean(x, axis=(0, 2), keepdims=True).shape == (1, 9, 1)
    np.testing.assert_allclose(eg.std(x, axis=-1, ddof=1),
                               x.std(axis=-1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(eg.var(x, axis=1), x.var(axis=1), rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_argmin_argmax_along_an_axis(eg, axis):
    x = _x((6, 8), "int16")  # repeats: the first index wins, as numpy
    np.testing.assert_array_equal(eg.argmin(x, axis=axis),
                                  np.argmin(x, axis=axis))
    np.testing.assert_array_equal(eg.argmax(x, axis=axis),
                                  np.argmax(x, axis=axis))


def test_fortran_order_is_copied_with_a_note(eg):
    x = np.asfortranarray(_x((7, 5)))
    r = eg.reduce(x, ops="sum", axis=1)
    np.testing.assert_allclose(r["sum"], x.sum(axis=1), rtol=1e-12)
    assert "copied" in r.notes
    c = eg.reduce(np.ascontiguousarray(x), ops="sum", axis=1)
    assert "copied" not in c.notes


def test_bad_axis_raises_input_error(eg):
    x = _x((3, 4))
    with pytest.raises(eg.InputError):
        eg.sum(x, axis=2)
    with pytest.raises(eg.InputError):
        eg.sum(x, axis=1.0)
    with pytest.raises(eg.InputError):
        eg.sum(x, axis=0, by=np.zeros(3, np.int64))


@pytest.mark.parametrize("kdtype", ["int64", "uint8", "int32"])
def test_by_matches_pandas_groupby(eg, kdtype):
    x = _x((50, 3))
    keys = np.random.default_rng(1).integers(0, 7, 50).astype(kdtype)
    r = eg.reduce(x, ops="sum,mean,min,max,count,std", by=keys, ddof=1)
    df = pd.DataFrame(x)
    g = df.groupby(keys)
    np.testing.assert_array_equal(r.groups, g.sum().index.to_numpy())
    assert r["sum"].shape == (len(r.groups), 3)
    np.testing.assert_allclose(r["sum"], g.sum().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(r["mean"], g.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(r["std"], g.std(ddof=1).to_numpy(),
                               rtol=1e-10)
    np.testing.assert_array_equal(r["min"], g.min().to_numpy())
    np.testing.assert_array_equal(r["max"], g.max().to_numpy())
    np.testing.assert_array_equal(r["count"], g.count().to_numpy())
    np.testing.assert_allclose(eg.sum(x, by=keys), g.sum().to_numpy(),
                               rtol=1e-12)


def test_by_rejects_float_keys_and_wrong_count(eg):
    x = _x((10, 2))
    with pytest.raises(eg.InputError):
        eg.sum(x, by=np.zeros(10))
    with pytest.raises(eg.InputError):
        eg.sum(x, by=np.zeros(9, np.int64))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8"])
@pytest.mark.parametrize("method",
                         ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_is_numpys(eg, dtype, method):
    x = _x(1001, dtype).ravel()
    q = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]
    got = eg.quantile(x, q, method=method)
    assert got.shape == (6,)
    np.testing.assert_array_equal(got, np.quantile(x, q, method=method))
    assert eg.quantile(x, 0.3, method=method) == \
        np.quantile(x, 0.3, method=method)


def test_median_is_numpys(eg):
    for n in (1, 2, 999, 1000):
        x = _x(n).ravel()
        assert eg.median(x) == np.median(x)
    assert eg.median(_x((4, 5), "int16")) == np.median(_x((4, 5), "int16"))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_histogram_is_numpys(eg, dtype):
    x = _x(5000, dtype).ravel()
    for bins, rng in ((10, None), (37, None), (8, (-50.0, 120.0))):
        c, e = eg.histogram(x, bins, rng)
        nc, ne = np.histogram(x, bins, rng)
        np.testing.assert_array_equal(c, nc)
        np.testing.assert_array_equal(e, ne)
        assert e.dtype == ne.dtype


def test_approx_quantile_within_rel_err(eg):
    x = np.abs(_x(20000)).ravel() + 1.0
    q = [0.05, 0.5, 0.95]
    ref = np.quantile(x, q, method="lower")
    got = eg.approx_quantile(x, q, rel_err=0.01)
    assert np.all(np.abs(got - ref) <= 0.01 * np.abs(ref) + 1e-12)


def test_quantile_bad_input(eg):
    x = _x(10).ravel()
    with pytest.raises(eg.InputError):
        eg.quantile(x, 1.5)
    with pytest.raises(eg.InputError):
        eg.quantile(x, 0.5, method="cubic")
    with pytest.raises(eg.InputError):
        eg.histogram(x, 0)


def test_memory_map_along_an_axis_is_read_in_place(eg, tmp_path):
    x = _x((64, 33))
    np.save(tmp_path / "x.npy", x)
    m = np.load(tmp_path / "x.npy", mmap_mode="r")
    r = eg.reduce(m, ops="sum,argmax", axis=0)
    assert "copied" not in r.notes
    np.testing.assert_allclose(r["sum"], x.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(r["argmax"], x.argmax(axis=0))


def test_threads_sharing_the_engine_get_their_own_answers(eg):
    import threading
    xs = [_x((200, 50), seed=s) for s in range(4)]
    out = [None] * 4

    def work(i):
        out[i] = eg.mean(xs[i], axis=1)
        out[i] = (out[i], eg.quantile(xs[i], 0.5))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for x, (m, q) in zip(xs, out):
        np.testing.assert_allclose(m, x.mean(axis=1), rtol=1e-12)
        assert q == np.quantile(x, 0.5)
