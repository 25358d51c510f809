"""min, max, argmin, argmax of all-+inf / all--inf data and of NaN beside
infinities, flat, along an axis and merged partials, against numpy (first
occurrences; not numpy's nanargmin, which takes [nan, inf] to index 0)."""
import math

import numpy as np
import pytest

OPS = "min,max,argmin,argmax"


def first(x, v):
    return int(np.flatnonzero(x == v)[0])


def cases(n):
    pinf = np.full(n, np.inf)
    nan_pinf = pinf.copy()
    nan_pinf[::3] = np.nan
    mixed = pinf.copy()
    mixed[n // 2:] = np.linspace(-1.0, 1.0, n - n // 2)
    return [pinf, -pinf, nan_pinf, -nan_pinf, mixed]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["fast", "exact"])
@pytest.mark.parametrize("nan", ["propagate", "omit"])
@pytest.mark.parametrize("n", [2, 50_000])
def test_flat(eg, dtype, mode, nan, n):
    for x in cases(n):
        x = x.astype(dtype)
        r = eg.reduce(x, ops=OPS, mode=mode, nan=nan)
        if nan == "omit":
            mn, mx = np.nanmin(x), np.nanmax(x)
            want = (mn, mx, first(x, mn), first(x, mx))
        else:
            want = (np.min(x), np.max(x), int(np.argmin(x)),
                    int(np.argmax(x)))
        got = (r["min"], r["max"], r["argmin"], r["argmax"])
        assert got[2:] == want[2:], (x[:4], got, want)
        for g, w in zip(got[:2], want[:2]):
            assert (math.isnan(g) and math.isnan(w)) or g == w, (got, want)


def test_axis_all_inf_columns(eg):
    m = np.full((4100, 3), np.inf)
    m[:, 1] = -np.inf
    m[:, 2] = np.arange(4100.0)
    r = eg.reduce(m, ops=OPS, axis=0)
    assert list(r["min"]) == [np.inf, -np.inf, 0.0]
    assert list(r["max"]) == [np.inf, -np.inf, 4099.0]
    assert list(r["argmin"]) == [0, 0, 0]
    assert list(r["argmax"]) == [0, 0, 4099]


def test_partials_of_inf_then_finite(eg):
    """An all-+inf part merged with a finite one, and with another all-+inf
    part: the finite min at its global index, or the first +inf."""
    a = np.full(10_000, np.inf)
    b = np.full(10_000, 5.0)
    b[3] = 2.0
    got = eg.finalize(eg.merge(eg.partial(a, ops=OPS), eg.partial(b, ops=OPS)))
    assert (got["min"], got["argmin"]) == (2.0, 10_003)
    assert (got["max"], got["argmax"]) == (np.inf, 0)
    got = eg.finalize(eg.merge(eg.partial(a, ops=OPS), eg.partial(a, ops=OPS)))
    assert (got["min"], got["argmin"]) == (np.inf, 0)
