"""The bad-input catalogue: malformed files and command lines, each of which
must make edgegrid exit 2 with exactly one line on stderr naming the problem
("edgegrid: ...", containing the case's key words) and nothing on stdout.

    python3 test_bad_input_catalogue.py /path/to/edgegrid
    EDGEGRID_VALGRIND=1 python3 test_bad_input_catalogue.py /path/to/edgegrid

With EDGEGRID_VALGRIND=1 every case also runs under valgrind memcheck
(the ci/test step): zero errors and zero definite or indirect leaks, on the
host backend only (OpenCL under valgrind is slow and noisy, so the ICD
loader is pointed at an empty vendor directory and EDGEGRID_DEVICES=host).

Each case is a function of the temporary directory that writes the files
it needs and returns a Case; the list is the catalogue, one entry per way
to be wrong.
"""

import os
import shutil
import struct
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

VALGRIND = os.environ.get("EDGEGRID_VALGRIND") == "1"
# valgrind's own exit status on errors: not 1 or 2, which are edgegrid's.
VALGRIND_ERROR_EXIT = 97


class Case:
    def __init__(self, args, contains, stdin=None, env=None, code=2,
                 user=None):
        self.args = [str(a) for a in args]
        self.contains = contains    # words the error line must hold
        self.stdin = stdin          # None, bytes, or a path to read from
        self.env = env or {}
        self.code = code
        self.user = user            # "nobody": run without root's rights


class Skip(Exception):
    """A case that cannot run here (the reason is printed)."""


# ---------------------------------------------------------------- files

def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def npy(tmp, name, a, **kw):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        np.save(f, a, **kw)
    return path


def header(text, version=1, pad=True):
    """A .npy header around a dict text (bytes or str), padded as numpy
    pads it unless pad is False."""
    body = text.encode("latin1") if isinstance(text, str) else text
    prelude = 10 if version == 1 else 12
    if pad:
        body += b" " * (64 - (prelude + len(body) + 1) % 64) + b"\n"
    size = struct.pack("<H" if version == 1 else "<I", len(body))
    return b"\x93NUMPY" + bytes([version, 0]) + size + body


DATA10 = np.arange(10, dtype="<f8").tobytes()


def dict_text(descr="'<f8'", order="False", shape="(10,)"):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (
        descr, order, shape)


def bad_npy(name, blob, contains):
    """A case for a .npy file written from `blob`, reduced as it is."""
    def case(tmp):
        return Case(["reduce", write(tmp, name, blob)], [name] + contains)
    case.__name__ = name
    return case


CATALOGUE = []


def catalogue(fn):
    CATALOGUE.append(fn)
    return fn


# --------------------------------------------------- truncated and empty

@catalogue
def truncated_data(tmp):
    path = npy(tmp, "trunc-data.npy", np.arange(1000, dtype=np.float64))
    with open(path, "rb") as f:
        data = f.read()
    write(tmp, "trunc-data.npy", data[:-100])
    return Case(["reduce", path], ["trunc-data.npy", "truncated"])


@catalogue
def truncated_header(tmp):
    blob = header(dict_text()) + DATA10
    return Case(["reduce", write(tmp, "trunc-head.npy", blob[:40])],
                ["trunc-head.npy", "header_len"])


@catalogue
def truncated_magic(tmp):
    return Case(["reduce", write(tmp, "trunc-magic.npy", b"\x93NUM")],
                ["trunc-magic.npy", "not a .npy file"])


@catalogue
def truncated_header_length(tmp):
    return Case(["reduce", write(tmp, "trunc-len.npy", b"\x93NUMPY\x02\x00\x10")],
                ["trunc-len.npy", "header_len"])


@catalogue
def empty_file(tmp):
    return Case(["reduce", write(tmp, "empty.npy", b"")],
                ["empty.npy", "not a .npy file"])


@catalogue
def truncated_raw_stdin(tmp):
    return Case(["reduce", "--raw", "--dtype", "f64", "-"],
                ["-: raw size 12 bytes", "f64"], stdin=b"\0" * 12)


# ----------------------------------------------------- header lengths

CATALOGUE += [
    bad_npy("oversized-header.npy",
            b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'",
            ["header_len", "over the limit"]),
    bad_npy("header-past-end.npy",
            b"\x93NUMPY\x01\x00\x60\xea" + dict_text().encode(),
            ["header_len", "truncated"]),
    bad_npy("header-len-zero.npy", b"\x93NUMPY\x01\x00\x00\x00" + DATA10,
            ["'header'", "expected '{'"]),
]

# ------------------------------------------------------------ shapes

CATALOGUE += [
    bad_npy("negative-shape.npy",
            header(dict_text(shape="(-10,)")) + DATA10,
            ["'shape'", "non-negative"]),
    bad_npy("negative-inner-shape.npy",
            header(dict_text(shape="(5, -2)")) + DATA10,
            ["'shape'", "non-negative"]),
    bad_npy("absurd-shape.npy",
            header(dict_text(shape="(%d,)" % 10 ** 30)) + DATA10,
            ["'shape'", "exceeds 2^63-1"]),
    bad_npy("shape-times-itemsize.npy",
            header(dict_text(shape="(%d, 4)" % 2 ** 61)) + DATA10,
            ["'shape'", "overflows"]),
    bad_npy("shape-product.npy",
            header(dict_text(shape="(4294967296, 4294967296, 4294967296)"))
            + DATA10,
            ["'shape'", "overflows"]),
    bad_npy("too-many-dims.npy",
            header(dict_text(shape="(" + "1, " * 33 + ")")) + DATA10,
            ["'shape'", "more than 32"]),
    bad_npy("float-shape.npy",
            header(dict_text(shape="(10.0,)")) + DATA10,
            ["'shape'", "integer"]),
    bad_npy("shape-not-tuple.npy",
            header(dict_text(shape="[10]")) + DATA10,
            ["'shape'", "tuple"]),
    bad_npy("too-long-for-data.npy",
            header(dict_text(shape="(11,)")) + DATA10,
            ["truncated", "88 bytes"]),
]

# ------------------------------------------------------------ dtypes

CATALOGUE += [
    # the header says float64, the data is 10 int8 values: too short
    bad_npy("mismatched-dtype.npy",
            header(dict_text()) + np.arange(10, dtype="i1").tobytes(),
            ["truncated", "80 bytes of data"]),
    bad_npy("complex.npy", header(dict_text(descr="'<c8'")) + DATA10,
            ["unsupported dtype", "<c8"]),
    bad_npy("float16.npy", header(dict_text(descr="'<f2'")) + DATA10,
            ["unsupported dtype", "<f2"]),
    bad_npy("object.npy", header(dict_text(descr="'|O'")) + DATA10,
            ["unsupported dtype", "|O"]),
    bad_npy("structured.npy",
            header(dict_text(descr="[('a', '<f8')]")) + DATA10,
            ["structured"]),
    bad_npy("descr-not-string.npy", header(dict_text(descr="8")) + DATA10,
            ["'descr'", "quoted string"]),
]

# ------------------------------------------------- syntax and NUL bytes

CATALOGUE += [
    bad_npy("bad-magic.npy",
            b"\x93NUMPX" + header(dict_text())[6:] + DATA10,
            ["magic", "not a .npy file"]),
    bad_npy("version-4.npy",
            b"\x93NUMPY\x04\x00" + header(dict_text())[8:] + DATA10,
            ["version", "4.0"]),
    bad_npy("fortran-maybe.npy",
            header(dict_text(order="Maybe")) + DATA10,
            ["'fortran_order'", "True or False"]),
    bad_npy("unknown-key.npy",
            header("{'descr': '<f8', 'fortran_order': False, 'shape': (10,), "
                   "'extra': 1, }") + DATA10,
            ["'extra'", "unknown key"]),
    bad_npy("duplicate-key.npy",
            header("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                   "'shape': (10,), }") + DATA10,
            ["'descr'", "given twice"]),
    bad_npy("missing-shape.npy",
            header("{'descr': '<f8', 'fortran_order': False, }") + DATA10,
            ["'shape'", "missing"]),
    bad_npy("unclosed-dict.npy",
            header("{'descr': '<f8', 'fortran_order': False, 'shape': (10,")
            + DATA10,
            ["'shape'"]),
    bad_npy("nul-in-header.npy",
            header(b"{'descr': '<f8',\0'fortran_order': False, "
                   b"'shape': (10,), }") + DATA10,
            ["header byte", "found '?'"]),
    bad_npy("nul-in-descr.npy",
            header(dict_text(descr="'<f\x008'")) + DATA10,
            ["unsupported dtype", "<f?8"]),
    bad_npy("nul-padding.npy",
            header(dict_text().encode() + b"\0" * 53 + b"\n", pad=False)
            + DATA10,
            ["only padding"]),
    bad_npy("escape-in-string.npy",
            header(dict_text(descr="'<f\\x38'")) + DATA10,
            ["'descr'", "no escapes"]),
]


# ---------------------------------------------- not a .npy at all: CSV

@catalogue
def csv_numbers(tmp):
    path = write(tmp, "numbers.csv", b"1,2,3\n4,5,6\n")
    return Case(["reduce", path], ["numbers.csv", "CSV is not read"])


@catalogue
def csv_words(tmp):
    path = write(tmp, "words.csv", b"name,value\nfoo,bar\n")
    return Case(["reduce", "--ops", "sum", path], ["words.csv", "CSV"])


@catalogue
def csv_as_raw_f32(tmp):
    # --raw reads bytes as numbers, as asked; a length that is not whole
    # elements is still refused
    path = write(tmp, "text.csv", b"1.5,2\n")
    return Case(["reduce", "--raw", "--dtype", "f32", path],
                ["text.csv", "raw size 6 bytes", "item size"])


# ------------------------------------------- what the path points at

@catalogue
def missing_file(tmp):
    return Case(["reduce", os.path.join(tmp, "no-such.npy")],
                ["no-such.npy", "no such file"])


@catalogue
def missing_folder(tmp):
    return Case(["reduce", os.path.join(tmp, "nope", "x.npy")],
                ["nope/x.npy", "no such file"])


@catalogue
def newline_in_name(tmp):
    # the name is echoed escaped, so the error stays one line
    return Case(["reduce", os.path.join(tmp, "a\nb.npy")],
                ["a\\nb.npy", "no such file"])


@catalogue
def directory(tmp):
    d = os.path.join(tmp, "adir.npy")
    os.mkdir(d)
    return Case(["reduce", d], ["adir.npy", "directory"])


@catalogue
def with_is_directory(tmp):
    x = npy(tmp, "x.npy", np.ones(10))
    d = os.path.join(tmp, "ydir")
    os.mkdir(d)
    return Case(["reduce", "--ops", "dot", "--with", d, x],
                ["ydir", "directory"])


@catalogue
def unreadable_file(tmp):
    path = npy(tmp, "locked.npy", np.ones(10))
    os.chmod(path, 0)
    if os.geteuid() != 0:
        return Case(["reduce", path], ["locked.npy", "permission denied"])
    # root reads anything: run as nobody, who needs to reach the file
    if not shutil.which("setpriv"):
        raise Skip("running as root and setpriv is missing")
    os.chmod(tmp, 0o755)
    return Case(["reduce", path], ["locked.npy", "permission denied"],
                user="nobody")


@catalogue
def dev_zero_raw(tmp):
    return Case(["reduce", "--raw", "--dtype", "u8", "/dev/zero"],
                ["/dev/zero", "character device"])


@catalogue
def dev_zero_npy(tmp):
    return Case(["reduce", "/dev/zero"], ["/dev/zero", "character device"])


@catalogue
def stdin_dev_zero_limit(tmp):
    return Case(["reduce", "--raw", "--dtype", "f64", "-"],
                ["-: more than 1048576 bytes", "EDGEGRID_MAX_STDIN"],
                stdin="/dev/zero", env={"EDGEGRID_MAX_STDIN": "1Mi"})


@catalogue
def stdin_limit_not_a_number(tmp):
    return Case(["reduce", "--raw", "--dtype", "u8", "-"],
                ["EDGEGRID_MAX_STDIN", "'lots'"], stdin=b"\1\2\3",
                env={"EDGEGRID_MAX_STDIN": "lots"})


@catalogue
def raw_size_not_whole_elements(tmp):
    path = write(tmp, "odd.bin", b"\0" * 10)
    return Case(["reduce", "--raw", "--dtype", "f32", path],
                ["odd.bin", "not a multiple"])


@catalogue
def with_other_length(tmp):
    x = npy(tmp, "x.npy", np.ones(100))
    y = npy(tmp, "y101.npy", np.ones(101))
    return Case(["reduce", "--ops", "dot", "--with", y, x],
                ["y101.npy", "same count"])


@catalogue
def with_other_dtype(tmp):
    x = npy(tmp, "x.npy", np.ones(100))
    y = npy(tmp, "yf32.npy", np.ones(100, dtype=np.float32))
    return Case(["reduce", "--ops", "dot", "--with", y, x],
                ["yf32.npy", "one dtype"])


# ------------------------------------------- arguments out of range

def good(tmp):
    return npy(tmp, "good.npy", np.arange(100, dtype=np.float64))


def reduce_args(*args, contains):
    def case(tmp):
        return Case(["reduce", *args, good(tmp)], contains)
    return case


def gen_args(*args, contains):
    def case(tmp):
        return Case(["gen", *args, "-o", os.path.join(tmp, "g.npy")],
                    contains)
    return case


ARGS = {
    "ddof_negative": reduce_args("--ddof", "-1", contains=["--ddof", "'-1'"]),
    "ddof_huge": reduce_args("--ddof", "99999999999999999999",
                             contains=["--ddof", "non-negative integer"]),
    "ddof_past_unsigned": reduce_args("--ddof", "4294967296",
                                      contains=["--ddof", "4294967296"]),
    "ddof_fraction": reduce_args("--ddof", "0.5", contains=["--ddof", "0.5"]),
    "chunk_zero": reduce_args("--chunk", "0", contains=["--chunk", "'0'"]),
    "chunk_not_lane_multiple": reduce_args("--chunk", "5000",
                                           contains=["--chunk", "4096"]),
    "chunk_negative": reduce_args("--chunk", "-4096",
                                  contains=["--chunk", "'-4096'"]),
    "chunk_huge": reduce_args("--chunk", "2305843009213693952",
                              contains=["--chunk", "up to 1Gi"]),
    "chunk_words": reduce_args("--chunk", "lots", contains=["--chunk"]),
    "unknown_nan": reduce_args("--nan", "ignore",
                               contains=["--nan", "'ignore'"]),
    "unknown_mode": reduce_args("--mode", "slow",
                                contains=["--mode", "'slow'"]),
    "unknown_op": reduce_args("--ops", "sum,mode", contains=["mode"]),
    "empty_ops": reduce_args("--ops", "", contains=["--ops"]),
    "unknown_device": reduce_args("--devices", "99", contains=["99"]),
    "bad_device_list": reduce_args("--devices", "0,,x",
                                   contains=["--devices"]),
    "dot_without_with": reduce_args("--ops", "dot", contains=["dot", "--with"]),
    "dtype_without_raw": reduce_args("--dtype", "f32",
                                     contains=["--dtype", "--raw"]),
    "unknown_option": reduce_args("--bogus", contains=["'--bogus'"]),
    "gen_count_negative": gen_args("--count", "-5", "--dtype", "f32",
                                   contains=["--count", "'-5'"]),
    "gen_count_overflow": gen_args("--count", "17179869184Gi", "--dtype",
                                   "f32", contains=["--count"]),
    "gen_cond_zero": gen_args("--count", "10", "--dtype", "f32", "--dist",
                              "ill", "--cond", "0",
                              contains=["--cond", "'0'"]),
    "gen_cond_nan": gen_args("--count", "10", "--dtype", "f32", "--dist",
                             "ill", "--cond", "nan",
                             contains=["--cond", "'nan'"]),
    "gen_seed_word": gen_args("--count", "10", "--dtype", "f32", "--seed",
                              "x", contains=["--seed", "'x'"]),
    "gen_unknown_dist": gen_args("--count", "10", "--dtype", "f32", "--dist",
                                 "zipf", contains=["--dist", "'zipf'"]),
    "gen_unknown_dtype": gen_args("--count", "10", "--dtype", "complex64",
                                  contains=["--dtype", "complex64"]),
}


@catalogue
def raw_unknown_dtype(tmp):
    path = write(tmp, "x.bin", b"\0" * 16)
    return Case(["reduce", "--raw", "--dtype", "f16", path],
                ["--dtype", "'f16'"])


@catalogue
def option_value_missing(tmp):
    return Case(["reduce", good(tmp), "--ops"], ["'--ops'", "needs a value"])


for _name, _fn in ARGS.items():
    _fn.__name__ = _name
    CATALOGUE.append(_fn)


# ---------------------------------------------------------------- running

def empty_vendor_dir(tmp):
    d = os.path.join(tmp, "no-icd")
    os.makedirs(d, exist_ok=True)
    return d


def command(case, tmp, log):
    """The argv that runs the case: edgegrid, under valgrind in that mode,
    as another user when the case asks."""
    argv = [cu.binary()] + case.args
    if VALGRIND:
        argv = ["valgrind", "--error-exitcode=%d" % VALGRIND_ERROR_EXIT,
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--show-leak-kinds=definite,indirect",
                "--log-file=" + log] + argv
    if case.user:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"] + argv
    return argv


def environment(case, tmp):
    extra = dict(case.env)
    if VALGRIND:
        extra.update(OCL_ICD_VENDORS=empty_vendor_dir(tmp),
                     EDGEGRID_DEVICES="host")
    return cu.env(**extra)


def run_case(name, fn, tmp):
    try:
        case = fn(tmp)
    except Skip as why:
        print("skip %s: %s" % (name, why))
        return
    logdir = os.path.join(tmp, "vg")
    os.makedirs(logdir, exist_ok=True)
    os.chmod(logdir, 0o777)  # a case run as nobody writes its log here
    log = os.path.join(logdir, "valgrind.log")
    stdin = subprocess.DEVNULL
    opened = None
    if isinstance(case.stdin, str):
        stdin = opened = open(case.stdin, "rb")
    elif case.stdin is not None:
        stdin = subprocess.PIPE
    try:
        p = subprocess.run(command(case, tmp, log),
                           input=case.stdin if stdin is subprocess.PIPE
                           else None,
                           stdin=None if stdin is subprocess.PIPE else stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=environment(case, tmp),
                           timeout=cu.TIMEOUT * (5 if VALGRIND else 1))
    finally:
        if opened:
            opened.close()
    what = "edgegrid " + " ".join(map(repr, case.args))
    err = p.stderr.decode(errors="replace")
    if VALGRIND and p.returncode == VALGRIND_ERROR_EXIT:
        with open(log, errors="replace") as f:
            raise AssertionError("%s: valgrind found errors:\n%s" % (
                what, f.read()[-4000:]))
    if p.returncode != case.code:
        raise AssertionError("%s: exit %d, want %d (stderr %r, stdout %r)" % (
            what, p.returncode, case.code, err, p.stdout[:200]))
    if p.stdout:
        raise AssertionError("%s: wrote to stdout: %r" % (what, p.stdout[:200]))
    lines = err.splitlines()
    if len(lines) != 1 or not err.endswith("\n") or \
            not lines[0].startswith("edgegrid: "):
        raise AssertionError("%s: want one 'edgegrid: ' line, got %r" % (
            what, err))
    for word in case.contains:
        if word.lower() not in lines[0].lower():
            raise AssertionError("%s: %r does not mention %r" % (
                what, lines[0], word))
    if VALGRIND:
        with open(log, errors="replace") as f:
            text = f.read()
        if "ERROR SUMMARY: 0 errors" not in text:
            raise AssertionError("%s: valgrind log:\n%s" % (what, text[-4000:]))


suite = cu.Suite()
for _fn in CATALOGUE:
    suite.add(_fn.__name__, lambda tmp, fn=_fn: run_case(fn.__name__, fn, tmp))


@suite.test
def catalogue_is_large_enough(tmp):
    if len(CATALOGUE) < 40:
        raise AssertionError("only %d cases" % len(CATALOGUE))


if __name__ == "__main__":
    suite.main()
