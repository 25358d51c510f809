"""Devices: `devices --json`, device selection (--devices, EDGEGRID_DEVICES)
and multi-device runs.  POCL_DEVICES="pthread pthread" gives two OpenCL CPU
devices (0 and 1; the host backend is 2); every device set must agree with
the host within the fast-mode bound, and a fixed --chunk must give the same
bits whatever the device set."""

import functools
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
TWO = {"POCL_DEVICES": "pthread pthread"}


def devices(environ=None):
    doc = json.loads(cu.ok(["devices", "--json"], environ))
    if not isinstance(doc, dict) or not isinstance(doc.get("devices"), list):
        raise AssertionError("devices --json: %r" % doc)
    if not isinstance(doc.get("notes"), str):
        raise AssertionError("devices --json: notes %r" % doc.get("notes"))
    return doc


def opencl_count(doc):
    return sum(1 for d in doc["devices"] if d["type"] != "host")


def host_index(doc):
    return [d["index"] for d in doc["devices"] if d["type"] == "host"][0]


@suite.test
def devices_json_lists_host_last(tmp):
    doc = devices()
    devs = doc["devices"]
    if [d["index"] for d in devs] != list(range(len(devs))):
        raise AssertionError("indices %r" % [d["index"] for d in devs])
    if devs[-1]["type"] != "host":
        raise AssertionError("last device is %r, want the host" % devs[-1])
    for d in devs:
        for key, kind in (("name", str), ("platform", str), ("type", str),
                          ("compute_units", int), ("global_mem", int),
                          ("max_alloc", int), ("unified_memory", bool),
                          ("fp64", bool)):
            if not isinstance(d.get(key), kind):
                raise AssertionError("device %r: %s is %r" % (
                    d.get("index"), key, d.get(key)))


@suite.test
def devices_table(tmp):
    out = cu.ok(["devices"])
    if "host" not in out:
        raise AssertionError("table lacks the host:\n" + out)


@suite.test
def pocl_two_devices_listed(tmp):
    doc = devices(cu.env(**TWO))
    if opencl_count(devices()) == 0:
        print("     (no OpenCL platform here: %s)" % doc["notes"])
        return
    if opencl_count(doc) != 2 or host_index(doc) != 2:
        raise AssertionError("POCL_DEVICES='pthread pthread' gave %r" % [
            (d["index"], d["type"], d["name"]) for d in doc["devices"]])


# ------------------------------------------------------------ reductions

OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2,dot"


def data(tmp, dtype, n=1000003, seed=1):
    rng = np.random.default_rng(seed)
    if dtype in ("f32", "f64"):
        x = rng.standard_normal(n).astype(cu.NUMPY_NAMES[dtype])
        y = rng.standard_normal(n).astype(cu.NUMPY_NAMES[dtype])
    else:
        x = rng.integers(-1000, 1000, n).astype(cu.NUMPY_NAMES[dtype])
        y = rng.integers(-1000, 1000, n).astype(cu.NUMPY_NAMES[dtype])
    xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    return x, y, xp, yp


def agree(a, b, x, y, what):
    """Two result sets of the same data, each within the fast-mode bound of
    the exact value, so within twice that bound of each other."""
    f = x.astype(np.float64)
    n = x.size
    bound = {
        "sum": cu.fsum_exact(np.abs(f)),
        "mean": cu.fsum_exact(np.abs(f)) / n,
        "l1": cu.fsum_exact(np.abs(f)),
        "dot": cu.fsum_exact(np.abs(f * y.astype(np.float64))) * 1.25,
    }
    for op in a:
        ga, gb = cu.num(a[op]), cu.num(b[op])
        label = "%s: %s" % (what, op)
        if op in bound and not (isinstance(ga, int) and isinstance(gb, int)):
            cu.near_abs(ga, gb, 2 * cu.FAST_BOUND * bound[op] + 1e-300, label)
        elif op in ("var", "std", "l2"):
            cu.near_rel(ga, gb, 2e-12, label)
        else:
            cu.same(ga, gb, label)
    if list(a) != list(b):
        raise AssertionError("%s: keys %r vs %r" % (what, list(a), list(b)))


def case_device_sets_agree(tmp, dtype):
    x, y, xp, yp = data(tmp, dtype)
    environ = cu.env(**TWO)
    ref = cu.reduce_json(xp, "--ops", OPS, "--with", yp, "--devices", "host",
                         environ=environ)
    for spec in ("all", "opencl", "0,1", "0", "1", "cpu", "1,0"):
        doc = cu.reduce_json(xp, "--ops", OPS, "--with", yp, "--devices", spec,
                             environ=environ)
        agree(doc["results"], ref["results"], x, y, "--devices " + spec)
        if sum(d["elements"] for d in doc["devices"]) != x.size:
            raise AssertionError("--devices %s: elements %r" % (
                spec, [(d["id"], d["elements"]) for d in doc["devices"]]))
        if spec in ("0,1", "1,0"):
            ids = {d["id"] for d in doc["devices"]}
            if not ids <= {"0", "1"}:
                raise AssertionError("--devices %s ran on %r" % (spec, ids))


def case_fixed_chunk_bitwise(tmp, dtype):
    x, y, xp, yp = data(tmp, dtype, seed=2)
    environ = cu.env(**TWO)
    runs = {}
    for spec in ("0", "0,1", "1", "all", "opencl", "0,1,2", "host"):
        doc = cu.reduce_json(xp, "--ops", OPS, "--with", yp, "--devices", spec,
                             "--chunk", "4096", environ=environ)
        runs[spec] = doc["results"]
    # Round-trip printing makes text equality bit equality.
    base = json.dumps(runs["0"])
    for spec, res in runs.items():
        if json.dumps(res) != base:
            diff = {k: (runs["0"][k], v) for k, v in res.items()
                    if runs["0"].get(k) != v}
            raise AssertionError("--chunk 4096 --devices %s differs from "
                                 "--devices 0: %r" % (spec, diff))


@functools.lru_cache(maxsize=None)
def multi_device_available():
    return opencl_count(devices(cu.env(**TWO))) >= 2


def needs_two(fn):
    """Runs fn only where POCL gives two devices; says so otherwise."""
    @functools.wraps(fn)
    def wrapped(tmp, *args):
        if not multi_device_available():
            print("     (skipped: fewer than two OpenCL devices)")
            return
        fn(tmp, *args)
    return wrapped


for _dtype in ("f32", "f64", "i32"):
    suite.add("device sets agree %s" % _dtype,
              needs_two(case_device_sets_agree), _dtype)
    suite.add("fixed chunk bitwise %s" % _dtype,
              needs_two(case_fixed_chunk_bitwise), _dtype)


@suite.test
@needs_two
def nonfinite_across_devices(tmp):
    x = np.random.default_rng(4).standard_normal(300007)
    x[[5, 150000, 299000]] = [np.inf, np.nan, -np.inf]
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    environ = cu.env(**TWO)
    ops = "count,sum,mean,min,max,argmin,argmax,var,l1,l2"
    for policy in ("propagate", "omit"):
        runs = [cu.reduce_json(xp, "--ops", ops, "--nan", policy, "--devices",
                               spec, "--chunk", "8192", environ=environ)
                for spec in ("0", "0,1", "host")]
        for r in runs[1:]:
            if r["results"] != runs[0]["results"]:
                raise AssertionError("--nan %s: %r vs %r" % (
                    policy, r["results"], runs[0]["results"]))


# ------------------------------------------------------------ selection

@suite.test
def host_only(tmp):
    x, _, xp, _ = data(tmp, "f64", n=10007)
    doc = cu.reduce_json(xp, "--devices", "host")
    hidx = host_index(devices())
    if [d["id"] for d in doc["devices"]] != [str(hidx)]:
        raise AssertionError("--devices host ran on %r" % doc["devices"])


@suite.test
def edgegrid_devices_env(tmp):
    x, _, xp, _ = data(tmp, "f32", n=10007)
    hidx = str(host_index(devices()))
    doc = cu.reduce_json(xp, environ=cu.env(EDGEGRID_DEVICES="host"))
    if [d["id"] for d in doc["devices"]] != [hidx]:
        raise AssertionError("EDGEGRID_DEVICES=host ran on %r" % doc["devices"])
    cu.expect_fail(["reduce", xp], 2, environ=cu.env(EDGEGRID_DEVICES="99"),
                   contains="99")
    # The option wins over the environment.
    doc = cu.reduce_json(xp, "--devices", "host",
                         environ=cu.env(EDGEGRID_DEVICES="99"))
    if [d["id"] for d in doc["devices"]] != [hidx]:
        raise AssertionError("--devices host under EDGEGRID_DEVICES=99 ran on "
                             "%r" % doc["devices"])


@suite.test
@needs_two
def env_selects_opencl_device(tmp):
    # Above the small-input limit (256 Ki elements), which the host takes.
    x, _, xp, _ = data(tmp, "f32", n=300007)
    doc = cu.reduce_json(xp, environ=cu.env(EDGEGRID_DEVICES="1", **TWO))
    if {d["id"] for d in doc["devices"]} != {"1"}:
        raise AssertionError("EDGEGRID_DEVICES=1 ran on %r" % doc["devices"])


@suite.test
def no_opencl_platform_falls_back_to_host(tmp):
    # ocl-icd reads its vendor list from OCL_ICD_VENDORS: an empty directory
    # is a box without OpenCL.  Not an error: the host does the work.
    empty = os.path.join(tmp, "vendors")
    os.mkdir(empty)
    environ = cu.env(OCL_ICD_VENDORS=empty)
    doc = devices(environ)
    if [d["type"] for d in doc["devices"]] != ["host"] or not doc["notes"]:
        raise AssertionError("devices without OpenCL: %r" % doc)
    x, _, xp, _ = data(tmp, "i16", n=10007)
    p = cu.run(["reduce", "--json", "--ops", "sum", xp], environ)
    if p.returncode != 0:
        raise AssertionError("exit %d: %r" % (p.returncode, p.stderr))
    res = json.loads(p.stdout)
    cu.same(res["results"]["sum"], int(x.astype(np.int64).sum()), "sum")
    for line in p.stderr.decode().splitlines():
        if not line.startswith("edgegrid: note: "):
            raise AssertionError("stderr line %r" % line)
    out = cu.ok(["reduce", xp], environ)
    if "note: " not in out:
        raise AssertionError("table lacks the note:\n" + out)


@suite.test
def table_shows_devices_and_throughput(tmp):
    x, _, xp, _ = data(tmp, "f32", n=10007)
    out = cu.ok(["reduce", "--devices", "host", xp])
    if "GB/s" not in out or "device" not in out:
        raise AssertionError("table:\n" + out)
    del x


if __name__ == "__main__":
    suite.main()
