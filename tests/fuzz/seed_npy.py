"""seed_npy.py - writes the seed corpora of fuzz_npy and fuzz_source:
headers numpy writes (versions 1-3, every byte order and memory order,
dtypes edgegrid refuses too) and, for fuzz_source, whole small files behind
the harness's control byte.  Small on purpose: the fuzzer grows the rest.

    /usr/bin/python3 tests/fuzz/seed_npy.py tests/fuzz/corpus
"""

import io
import os
import struct
import sys

import numpy as np


def npy_bytes(a, version=(1, 0)):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def npy_seeds(out):
    os.makedirs(out, exist_ok=True)
    arrs = [np.zeros(3), np.zeros((2, 3), ">i4", order="F"),
            np.zeros((), "u1"), np.zeros(0, "<u8"), np.zeros(2, "c8"),
            np.zeros(2, [("a", "<f4")])]
    for i, a in enumerate(arrs):
        for v in (1, 2, 3):
            write(os.path.join(out, "seed_%d_%d" % (i, v)),
                  npy_bytes(a, (v, 0))[:256])


def control(raw=False, pipe=False, dtype=0):
    """The first byte fuzz_source reads (dtype: edgegrid's enum order)."""
    return bytes([(1 if raw else 0) | (2 if pipe else 0) | (dtype << 4)])


def source_seeds(out):
    os.makedirs(out, exist_ok=True)
    f64 = np.array([[1.5, -2.0, 3.0], [np.nan, 0.25, -0.0]])
    fortran = np.asfortranarray(np.arange(24, dtype=">i4").reshape(2, 3, 4))
    # A hand-made header whose data starts at an odd offset: the source
    # must realign it.
    dict_text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
    odd = (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(dict_text) + 1)
           + dict_text + b"\n" + np.array([1.0, 2.0, 3.0]).tobytes())
    seeds = {
        "npy-f64-nan": control() + npy_bytes(f64),
        "npy-fortran-be-i4": control() + npy_bytes(fortran, (2, 0)),
        "npy-pipe-u1": control(pipe=True) + npy_bytes(np.arange(5, dtype="u1")),
        "npy-misaligned": control() + odd,
        "raw-f32": control(raw=True, dtype=0)
        + np.array([1, 2, 3, 4], "<f4").tobytes(),
        "raw-pipe-i16": control(raw=True, pipe=True, dtype=4)
        + np.array([-1, 7, 300], "<i2").tobytes(),
    }
    for name, data in seeds.items():
        write(os.path.join(out, name), data)


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus"
    npy_seeds(os.path.join(root, "npy"))
    source_seeds(os.path.join(root, "source"))
