"""Shared helpers of the Python binding's tests: independent references
(math.fsum, exact rationals, numpy) and small data sets."""
import math
from fractions import Fraction

import numpy as np
import pytest

DTYPES = ["float32", "float64", "int8", "uint8", "int16", "uint16", "int32",
          "uint32", "int64", "uint64"]


def make(dtype, n, seed=7):
    """n values of dtype spread over most of its range, deterministic."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(n) * 1e3 + 5.0).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -(1 << 40)), min(info.max, 1 << 40)
    return rng.integers(lo, hi, size=n, dtype=dt, endpoint=True)


def exact_sum(x):
    """The exact sum as a Fraction (floats) or int."""
    if x.dtype.kind == "f":
        return sum((Fraction(float(v)) for v in x.ravel()), Fraction(0))
    return int(sum(int(v) for v in x.ravel()))


def fsum(values):
    return math.fsum(float(v) for v in values)


@pytest.fixture(scope="session")
def eg():
    import edgegrid
    return edgegrid
