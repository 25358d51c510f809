"""The numbers of `--json` against Python's repr, the independent
reference for the shortest form that reads back: every float in a result
must read back as the value and carry exactly repr's significant digits
(the JSON layout may differ: 123 for 123.0, 1e+16 as repr writes it).
Values of every kind as one row each of a [N, 1] float64 array, so that
`--axis -1 --ops max` hands each back unchanged: random bit patterns of
every exponent, subnormals, every power of two (where the doubles below
are twice as dense as above), their neighbours, float32 values, short
decimals and integers.

Run: python3 test_json_numbers.py /path/to/edgegrid
"""

import json
import os
import re

import numpy as np

import cliutil as cu

suite = cu.Suite()


def digits(text):
    """The significant digits of a decimal: no sign, point, exponent,
    leading or trailing zeros."""
    mant = re.split("[eE]", text.lstrip("-"))[0].replace(".", "")
    return mant.strip("0") or "0"


def values():
    rng = np.random.default_rng(2026)
    bits = rng.integers(0, 2 ** 63, size=60_000, dtype=np.uint64)
    bits |= rng.integers(0, 2, size=bits.size, dtype=np.uint64) << 63
    x = bits.view(np.float64)
    x = x[np.isfinite(x)]
    pow2 = np.ldexp(1.0, np.arange(-1074, 1024))
    near = np.concatenate([np.nextafter(pow2, np.inf),
                           np.nextafter(pow2, -np.inf),
                           np.nextafter(np.nextafter(pow2, np.inf), np.inf)])
    sub = np.arange(1, 2000, dtype=np.uint64).view(np.float64)
    f32 = rng.standard_normal(20_000).astype(np.float32).astype(np.float64)
    dec = np.round(rng.uniform(-1e4, 1e4, 20_000), rng.integers(0, 8))
    ints = np.concatenate([np.arange(-1000, 1000), 10.0 ** np.arange(0, 23)])
    out = np.concatenate([x, pow2, -pow2, near, sub, -sub, f32, dec, ints,
                          [0.0, -0.0, 0.1, 0.2, 0.3, 1 / 3, 5e-324,
                           1.7976931348623157e308]])
    return out[np.isfinite(out)]


@suite.test
def shortest_round_trip(tmp):
    x = values()
    path = os.path.join(tmp, "v.npy")
    np.save(path, x.reshape(-1, 1))
    out = cu.ok(["reduce", "--json", "--devices", "host", "--axis", "-1",
                 "--ops", "max", path])
    # keep each number's text: parse_float sees it before any rounding
    doc = json.loads(out, parse_float=str, parse_int=str)
    got = doc["results"]["max"]
    assert len(got) == x.size, (len(got), x.size)
    bad = []
    for text, v in zip(got, x.tolist()):
        if float(text) != v or digits(text) != digits(repr(v)):
            bad.append((text, repr(v)))
    assert not bad, "%d of %d differ from repr, e.g. %r" % (
        len(bad), x.size, bad[:5])


if __name__ == "__main__":
    suite.main()
