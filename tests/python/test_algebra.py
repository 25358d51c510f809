"""partial / merge / finalize: states of unequal parts merged in random
trees equal one box (exact mode: its bits; fast: within the bound); the
example splits work on a multiprocessing.Pool."""
import math
import os
import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from conftest import DTYPES, exact_sum, make

OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "python", "pool_mean.py")


def random_cuts(rng, n, parts):
    cuts = sorted(rng.randrange(0, n + 1) for _ in range(parts - 1))
    bounds = [0] + cuts + [n]
    return list(zip(bounds[:-1], bounds[1:]))


def random_tree(rng, states):
    """Merges neighbours at random until one state is left."""
    states = list(states)
    while len(states) > 1:
        i = rng.randrange(len(states) - 1)
        states[i:i + 2] = [merge(states[i], states[i + 1])]
    return states[0]


def merge(a, b):
    import edgegrid
    return edgegrid.merge(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_trees_equal_one_box_exact(eg, dtype):
    rng = random.Random(dtype)
    x = make(dtype, 300_000, seed=len(dtype))
    if x.dtype.kind == "f":
        x[rng.randrange(x.size)] = x.min() - 1  # a unique argmin
    one = eg.reduce(x, ops=OPS, mode="exact", ddof=1)
    for trial in range(4):
        parts = random_cuts(rng, x.size, rng.randrange(2, 12))
        states = [eg.partial(x[a:b], ops=OPS, mode="exact", ddof=1)
                  for a, b in parts]
        got = eg.finalize(random_tree(rng, states))
        if x.dtype.kind == "f":
            assert dict(got) == dict(one), (trial, parts)
        else:
            # Integer input is exact already in its sums, extremes and
            # indices; var, std and l2 are doubles as in fast mode (README).
            for op in one:
                if op in ("var", "std", "l2"):
                    assert got[op] == pytest.approx(one[op], rel=1e-12)
                else:
                    assert got[op] == one[op], (op, trial, parts)
        assert got.elements == x.size and got.mode == "exact"


def test_fast_mode_within_bound(eg):
    rng = random.Random(5)
    x = make("float64", 400_000, seed=2) + 1e6
    exact = exact_sum(x)
    absum = float(np.abs(x).sum())
    parts = random_cuts(rng, x.size, 9)
    got = eg.finalize(random_tree(rng, [eg.partial(x[a:b], ops="sum,mean,std")
                                        for a, b in parts]))
    assert abs(Fraction(got["sum"]) - exact) <= 2.0 ** -50 * absum
    assert got["std"] == pytest.approx(float(np.std(x)), rel=1e-10)


def test_indices_and_nan_across_parts(eg):
    x = np.arange(100_000, dtype=np.float64) % 977
    x[77_777] = -1.0
    x[60_001] = np.nan
    ops = "argmin,argmax,min"
    parts = [(0, 10), (10, 60_001), (60_001, 60_002), (60_002, 100_000)]
    st = [eg.partial(x[a:b], ops=ops, nan="omit") for a, b in parts]
    got = eg.finalize(random_tree(random.Random(1), st))
    assert got["argmin"] == 77_777 == np.nanargmin(x)
    assert got["argmax"] == np.nanargmax(x)
    st = [eg.partial(x[a:b], ops=ops) for a, b in parts]
    got = eg.finalize(random_tree(random.Random(2), st))
    assert got["argmin"] == 60_001 and math.isnan(got["min"])


def test_dot_partials(eg):
    x = make("float64", 50_000, seed=1)
    y = make("float64", 50_000, seed=2)
    st = [eg.partial(x[a:b], y=y[a:b], ops="dot", mode="exact")
          for a, b in [(0, 7), (7, 33_000), (33_000, 50_000)]]
    got = eg.finalize(random_tree(random.Random(3), st))
    assert got["dot"] == eg.dot(x, y, mode="exact")


def test_empty_partial_is_the_identity(eg):
    x = make("int32", 10_000)
    e = eg.partial(x[:0], ops="sum,argmax")
    p = eg.partial(x, ops="sum,argmax")
    assert eg.merge(e, p) == p and eg.merge(p, e) == p
    assert eg.finalize(p)["argmax"] == int(np.argmax(x))


def test_partial_is_bytes_of_fixed_size(eg):
    p = eg.partial(np.zeros(3), ops="sum")
    assert isinstance(p, bytes) and p[:4] == b"EGPT" and p[16:20] == b"EGST"
    assert len(p) == len(eg.partial(np.zeros(9000, np.int8), ops="dot",
                                    y=np.zeros(9000, np.int8)))


def test_pool_example(eg):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, EXAMPLE], capture_output=True,
                         text=True, env=env, timeout=120, check=True).stdout
    lines = dict(l.split(":", 1) for l in out.strip().splitlines())
    merged = float(lines["merged states"])
    one = float(lines["one eg.mean"])
    wrong = float(lines["mean of means (wrong)"])
    assert merged == one
    assert abs(wrong - one) > 1e-3 * abs(one)
