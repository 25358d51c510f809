"""cliutil - what the end-to-end CLI tests share.

Each tests/cli/test_*.py runs as `python3 test_x.py /path/to/edgegrid`,
registers its cases on a Suite and calls Suite.main(), which runs every case
in a fresh temporary directory, prints one line per failure and a final
"N passed, M failed" line, and exits non-zero on any failure.

Only the standard library and numpy: these tests run in CPU-only CI.
"""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from fractions import Fraction

TIMEOUT = 120  # seconds for any one edgegrid run

# The fast-mode bound of DESIGN.md: |got - exact| <= 2^-50 * sum|x|.
FAST_BOUND = 2.0 ** -50

DTYPES = ["f32", "f64", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]
NUMPY_NAMES = {
    "f32": "float32", "f64": "float64", "i8": "int8", "u8": "uint8",
    "i16": "int16", "u16": "uint16", "i32": "int32", "u32": "uint32",
    "i64": "int64", "u64": "uint64",
}
ALL_OPS = ["count", "sum", "mean", "min", "max", "argmin", "argmax", "var",
           "std", "l1", "l2", "dot"]


def binary():
    if len(sys.argv) < 2:
        sys.exit("usage: %s /path/to/edgegrid" % sys.argv[0])
    return os.path.abspath(sys.argv[1])


def env(**extra):
    """The test environment: ours, minus the variables that pick devices
    (so a developer's shell cannot change what a test means), plus extra;
    a value of None removes the variable."""
    e = dict(os.environ)
    for k in ("EDGEGRID_DEVICES", "POCL_DEVICES"):
        e.pop(k, None)
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def run(args, environ=None, stdin=None, timeout=TIMEOUT):
    """Runs edgegrid with args; returns the CompletedProcess (bytes)."""
    argv = [binary()] + [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run(argv,
                          input=stdin if stdin is not None else b"",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=environ if environ is not None else env(),
                          timeout=timeout)


def ok(args, environ=None, stdin=None):
    """Runs edgegrid and insists on exit status 0; returns stdout as text."""
    p = run(args, environ, stdin)
    if p.returncode != 0:
        raise AssertionError("edgegrid %s exited %d: %s" % (
            " ".join(map(str, args)), p.returncode,
            p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


def reduce_json(path, *args, environ=None, stdin=None):
    """`edgegrid reduce --json ARGS PATH`, parsed."""
    out = ok(["reduce", "--json", *args, path], environ, stdin)
    try:
        return json.loads(out)
    except ValueError as e:
        raise AssertionError("not JSON (%s): %r" % (e, out[:300]))


def num(v):
    """A JSON result value as Python: "nan"/"inf"/"-inf" become floats;
    ints stay exact ints; null stays None."""
    if isinstance(v, str):
        if v in ("nan", "inf", "-inf"):
            return float(v)
        raise AssertionError("unexpected string value %r" % v)
    return v


def _bits(v):
    """A JSON value with the sign of zero and NaN made comparable."""
    v = num(v)
    if isinstance(v, float):
        return ("nan",) if math.isnan(v) else struct.pack("<d", v)
    return v


def same_bits(got, want, what):
    """Nested JSON values (dicts, lists, numbers) equal bit for bit: the
    sign of zero counts, NaN equals NaN."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or sorted(got) != sorted(want):
            raise AssertionError("%s: keys %r, want %r" % (
                what, sorted(got) if isinstance(got, dict) else got,
                sorted(want)))
        for k in want:
            same_bits(got[k], want[k], "%s.%s" % (what, k))
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            raise AssertionError("%s: %r values, want %d" % (
                what, len(got) if isinstance(got, list) else got, len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            same_bits(g, w, "%s[%d]" % (what, i))
    elif _bits(got) != _bits(want):
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def expect_fail(args, code, environ=None, stdin=None, contains=None,
                stdout=None):
    """edgegrid must exit `code` with exactly one line on stderr, prefixed
    "edgegrid: ", and nothing on stdout (unless stdout is a file object the
    run writes to)."""
    what = "edgegrid " + " ".join(map(str, args))
    if stdout is None:
        p = run(args, environ, stdin)
    else:
        p = subprocess.run([binary()] + [str(a) for a in args], stdin=
                           subprocess.DEVNULL, stdout=stdout,
                           stderr=subprocess.PIPE, timeout=TIMEOUT,
                           env=environ if environ is not None else env())
        p.stdout = b""
    err = p.stderr.decode(errors="replace")
    if p.returncode != code:
        raise AssertionError("%s: exit %d, want %d (stderr %r, stdout %r)" % (
            what, p.returncode, code, err, p.stdout[:200]))
    if p.stdout:
        raise AssertionError("%s: wrote to stdout: %r" % (what, p.stdout[:200]))
    lines = err.splitlines()
    if len(lines) != 1 or not err.endswith("\n"):
        raise AssertionError("%s: want one stderr line, got %r" % (what, err))
    if not lines[0].startswith("edgegrid: "):
        raise AssertionError("%s: stderr lacks 'edgegrid: ': %r" % (what, err))
    if contains is not None and contains.lower() not in err.lower():
        raise AssertionError("%s: stderr %r does not mention %r" % (
            what, err, contains))
    return lines[0]


# ------------------------------------------------------------ comparisons

def pair_npy(tmp, dtype, n=1000003, seed=1):
    """x and y of n values of dtype (normal floats, integers in [-1000,
    1000)), saved as tmp/x.npy and tmp/y.npy: (x, y, x_path, y_path)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    name = NUMPY_NAMES[dtype]
    if dtype in ("f32", "f64"):
        x = rng.standard_normal(n).astype(name)
        y = rng.standard_normal(n).astype(name)
    else:
        x = rng.integers(-1000, 1000, n).astype(name)
        y = rng.integers(-1000, 1000, n).astype(name)
    xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    return x, y, xp, yp


def is_nan(v):
    return isinstance(v, float) and math.isnan(v)


def same(got, want, what):
    """Exact equality, NaN equal to NaN; ints compared exactly."""
    if is_nan(want):
        if not is_nan(got):
            raise AssertionError("%s: got %r, want nan" % (what, got))
        return
    if got is None or want is None:
        if got is not want:
            raise AssertionError("%s: got %r, want %r" % (what, got, want))
        return
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise AssertionError("%s: got %r, want a number" % (what, got))
    infinite = [v for v in (got, want)
                if isinstance(v, float) and math.isinf(v)]
    if infinite:
        if got != want:
            raise AssertionError("%s: got %r, want %r" % (what, got, want))
        return
    if Fraction(got) != Fraction(want):
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def near_abs(got, want, tol, what):
    """|got - want| <= tol, computed exactly; non-finite wants must match."""
    if isinstance(want, float) and not math.isfinite(want):
        same(got, want, what)
        return
    if got is None or isinstance(got, str) or (
            isinstance(got, float) and not math.isfinite(got)):
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
    err = abs(Fraction(got) - Fraction(want))
    if err > Fraction(tol):
        raise AssertionError("%s: got %r, want %r, |error| %.3g > %.3g" % (
            what, got, want, float(err), tol))


def near_rel(got, want, rel, what, abs_tol=0.0):
    tol = rel * abs(want) + abs_tol if math.isfinite(want) else 0.0
    near_abs(got, want, tol, what)


def fsum_exact(values):
    """math.fsum over a numpy array (as float64): the correctly rounded sum."""
    return math.fsum(values.astype("float64").tolist())


# ------------------------------------------------------------------ suite

class Suite:
    def __init__(self):
        self.cases = []

    def add(self, name, fn, *args):
        """Registers fn(tmpdir, *args) as a case."""
        self.cases.append((name, fn, args))

    def test(self, fn):
        """Decorator: registers fn(tmpdir) under its own name."""
        self.add(fn.__name__, fn)
        return fn

    def main(self):
        binary()  # fail early on a missing argument
        passed = failed = 0
        for name, fn, args in self.cases:
            start = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="eg-cli-") as tmp:
                try:
                    fn(tmp, *args)
                except Exception as e:  # one case's failure is reported
                    failed += 1
                    print("FAIL %s: %s" % (name, e))
                    if not isinstance(e, AssertionError):
                        traceback.print_exc(file=sys.stdout)
                    continue
            passed += 1
            print("ok   %s (%.1f s)" % (name, time.monotonic() - start))
            sys.stdout.flush()
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)
