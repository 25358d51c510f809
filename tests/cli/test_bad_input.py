"""Bad input and bad usage: each run must exit 2 (1 for a runtime failure
such as integer overflow) with exactly one line on stderr, "edgegrid: ...",
naming what is at fault, and nothing on stdout."""

import os
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()


def npy(tmp, name, a, **kw):
    path = os.path.join(tmp, name)
    np.save(path, a, **kw)
    return path


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def header_v1(text):
    """A .npy v1 header around a dict text, padded as numpy pads it."""
    body = text.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body


def good(tmp):
    return npy(tmp, "good.npy", np.arange(100, dtype=np.float64))


# ------------------------------------------------------------- files

@suite.test
def missing_file(tmp):
    path = os.path.join(tmp, "no-such-file.npy")
    cu.expect_fail(["reduce", path], 2, contains="no-such-file.npy")


@suite.test
def truncated_npy(tmp):
    path = npy(tmp, "trunc.npy", np.arange(1000, dtype=np.float64))
    with open(path, "rb") as f:
        data = f.read()
    write(tmp, "trunc.npy", data[:len(data) - 100])
    cu.expect_fail(["reduce", path], 2, contains="trunc.npy")
    # Cut inside the header, too.
    write(tmp, "trunc.npy", data[:40])
    cu.expect_fail(["reduce", path], 2, contains="trunc.npy")
    write(tmp, "trunc.npy", b"")
    cu.expect_fail(["reduce", path], 2, contains="trunc.npy")


@suite.test
def corrupt_headers(tmp):
    data = np.arange(10, dtype="<f8").tobytes()
    bad = {
        "magic.npy": b"\x93NUMPX\x01\x00" + header_v1(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }")[8:]
        + data,
        "dict.npy": header_v1("{'descr': '<f8', 'fortran_order': False, "
                              "'shape': (10,") + data,
        "nodescr.npy": header_v1("{'fortran_order': False, 'shape': (10,), }")
        + data,
        "shape.npy": header_v1("{'descr': '<f8', 'fortran_order': False, "
                               "'shape': (-10,), }") + data,
        "order.npy": header_v1("{'descr': '<f8', 'fortran_order': Maybe, "
                               "'shape': (10,), }") + data,
        "hugelen.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr'",
        "version4.npy": b"\x93NUMPY\x04\x00" + header_v1(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }")[8:]
        + data,
        "toolong.npy": header_v1("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (11,), }") + data,
        "overflow.npy": header_v1(
            "{'descr': '<f8', 'fortran_order': False, "
            "'shape': (4294967296, 4294967296, 4294967296), }") + data,
    }
    for name, blob in bad.items():
        path = write(tmp, name, blob)
        cu.expect_fail(["reduce", path], 2, contains=name)


@suite.test
def unsupported_dtypes(tmp):
    for name, a in (("complex64.npy", np.zeros(10, dtype=np.complex64)),
                    ("float16.npy", np.zeros(10, dtype=np.float16)),
                    ("bool.npy", np.zeros(10, dtype=bool)),
                    ("record.npy", np.zeros(10, dtype=[("a", "<f8")]))):
        cu.expect_fail(["reduce", npy(tmp, name, a)], 2, contains=name)


@suite.test
def object_array(tmp):
    path = npy(tmp, "obj.npy", np.array([1, "a", None], dtype=object),
               allow_pickle=True)
    cu.expect_fail(["reduce", path], 2, contains="obj.npy")


@suite.test
def raw_size_mismatch(tmp):
    path = write(tmp, "x.bin", b"\0" * 10)
    cu.expect_fail(["reduce", "--raw", "--dtype", "f32", path], 2,
                   contains="x.bin")
    cu.expect_fail(["reduce", "--raw", "--dtype", "f64", "-"], 2,
                   stdin=b"\0" * 12)


@suite.test
def with_of_another_length(tmp):
    x = npy(tmp, "x.npy", np.ones(100))
    y = npy(tmp, "y.npy", np.ones(101))
    cu.expect_fail(["reduce", "--ops", "dot", "--with", y, x], 2)


@suite.test
def with_of_another_dtype(tmp):
    x = npy(tmp, "x.npy", np.ones(100))
    y = npy(tmp, "y.npy", np.ones(100, dtype=np.float32))
    cu.expect_fail(["reduce", "--ops", "dot", "--with", y, x], 2)


@suite.test
def with_missing_file(tmp):
    x = npy(tmp, "x.npy", np.ones(100))
    cu.expect_fail(["reduce", "--ops", "dot", "--with",
                    os.path.join(tmp, "nope-y.npy"), x], 2, contains="nope-y.npy")


# ------------------------------------------------------------- usage

@suite.test
def unknown_op(tmp):
    cu.expect_fail(["reduce", "--ops", "sum,mode", good(tmp)], 2,
                   contains="mode")
    cu.expect_fail(["reduce", "--ops", "", good(tmp)], 2)


@suite.test
def unknown_device(tmp):
    cu.expect_fail(["reduce", "--devices", "99", good(tmp)], 2, contains="99")
    cu.expect_fail(["reduce", "--devices", "fpga", good(tmp)], 2,
                   contains="fpga")


@suite.test
def empty_selection(tmp):
    for spec in ("", ",", "0,,"):
        cu.expect_fail(["reduce", "--devices", spec, good(tmp)], 2)


@suite.test
def unknown_dtype(tmp):
    path = write(tmp, "x.bin", b"\0" * 16)
    cu.expect_fail(["reduce", "--raw", "--dtype", "f16", path], 2,
                   contains="f16")
    cu.expect_fail(["gen", "--count", "10", "--dtype", "complex64", "-o",
                    os.path.join(tmp, "g.npy")], 2, contains="complex64")


@suite.test
def dot_without_with(tmp):
    line = cu.expect_fail(["reduce", "--ops", "sum,dot", good(tmp)], 2,
                          contains="--with")
    if "dot" not in line:
        raise AssertionError("message does not name dot: %r" % line)


@suite.test
def with_without_dot(tmp):
    cu.expect_fail(["reduce", "--with", good(tmp), good(tmp)], 2,
                   contains="dot")


@suite.test
def reduce_usage(tmp):
    g = good(tmp)
    cases = [
        ["reduce"],
        ["reduce", g, g],
        ["reduce", "--bogus", g],
        ["reduce", "-x", g],
        ["reduce", g, "--ops"],
        ["reduce", "--json=yes", g],
        ["reduce", "--mode", "slow", g],
        ["reduce", "--nan", "ignore", g],
        ["reduce", "--ddof", "-1", g],
        ["reduce", "--ddof", "x", g],
        ["reduce", "--chunk", "100", g],
        ["reduce", "--chunk", "0", g],
        ["reduce", "--chunk", "lots", g],
        ["reduce", "--raw", g],
        ["reduce", "--dtype", "f32", g],
        ["reduce", "--ops", "dot", "--with", "-", "-"],
    ]
    for args in cases:
        cu.expect_fail(args, 2)


@suite.test
def program_usage(tmp):
    for args in ([], ["frobnicate"], ["--bogus"], ["-q"],
                 ["devices", "extra"], ["devices", "--bogus"]):
        cu.expect_fail(args, 2)


@suite.test
def gen_usage(tmp):
    out = os.path.join(tmp, "g.npy")
    cases = [
        ["gen", "--dtype", "f32", "-o", out],
        ["gen", "--count", "10", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32"],
        ["gen", "--count", "1.5", "--dtype", "f32", "-o", out],
        ["gen", "--count", "-3", "--dtype", "f32", "-o", out],
        ["gen", "--count", "ten", "--dtype", "f32", "-o", out],
        ["gen", "--count", "0x10", "--dtype", "f32", "-o", out],
        ["gen", "--count", "1e300", "--dtype", "f32", "-o", out],
        ["gen", "--count", "99999999999999999999", "--dtype", "f32", "-o", out],
        ["gen", "--count", "17179869184Gi", "--dtype", "f32", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32", "--dist", "zipf", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32", "--cond", "10", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32", "--dist", "ill",
         "--cond", "0.5", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32", "--seed", "x", "-o", out],
        ["gen", "--count", "10", "--dtype", "f32", "-o", out, "extra"],
    ]
    for args in cases:
        cu.expect_fail(args, 2)
    if os.path.exists(out):
        raise AssertionError("a failed gen left %s behind" % out)


@suite.test
def gen_unwritable(tmp):
    out = os.path.join(tmp, "no-such-dir", "g.npy")
    p = cu.run(["gen", "--count", "10", "--dtype", "f32", "-o", out])
    if p.returncode not in (1, 2) or p.stdout or \
            len(p.stderr.decode().splitlines()) != 1:
        raise AssertionError("gen into a missing directory: exit %d, %r %r" % (
            p.returncode, p.stdout, p.stderr))


@suite.test
def help_everywhere(tmp):
    for args in (["--help"], ["help"], ["devices", "--help"], ["gen", "--help"],
                 ["reduce", "--help"], ["reduce", "-h"]):
        p = cu.run(args)
        if p.returncode != 0 or b"usage" not in p.stdout or p.stderr:
            raise AssertionError("edgegrid %s: exit %d, %r" % (
                " ".join(args), p.returncode, p.stderr))
    p = cu.run(["--version"])
    if p.returncode != 0 or not p.stdout.startswith(b"edgegrid "):
        raise AssertionError("--version: %r" % p.stdout)


# ------------------------------------------------------- runtime failures

@suite.test
def integer_overflow(tmp):
    for name, a in (("i64.npy", np.array([2 ** 62, 2 ** 62], dtype=np.int64)),
                    ("n64.npy", np.array([-2 ** 63, -1], dtype=np.int64)),
                    ("u64.npy", np.array([2 ** 63, 2 ** 63], dtype=np.uint64))):
        path = npy(tmp, name, a)
        cu.expect_fail(["reduce", "--ops", "sum", path], 1)
        # Ops that do not need the sum are unaffected.
        doc = cu.reduce_json(path, "--ops", "min,max,argmax")
        cu.same(doc["results"]["max"], int(a.max()), "max of " + name)


@suite.test
def failed_stdout_write(tmp):
    # A result that cannot be written must not exit 0.
    if not os.path.exists("/dev/full"):
        return
    with open("/dev/full", "wb") as full:
        cu.expect_fail(["devices"], 1, stdout=full)
        cu.expect_fail(["reduce", "--json", good(tmp)], 1, stdout=full)


@suite.test
def exact_mode_passes_through(tmp):
    # Until exact mode lands the engine refuses it with a one-line error;
    # afterwards it must simply work.
    p = cu.run(["reduce", "--json", "--mode", "exact", good(tmp)])
    if p.returncode == 0:
        return
    lines = p.stderr.decode().splitlines()
    if p.returncode not in (1, 2) or p.stdout or len(lines) != 1 or \
            not lines[0].startswith("edgegrid: "):
        raise AssertionError("--mode exact: exit %d, stdout %r, stderr %r" % (
            p.returncode, p.stdout, p.stderr))


if __name__ == "__main__":
    suite.main()
