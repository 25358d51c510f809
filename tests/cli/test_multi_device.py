"""Runs on two POCL CPU devices (POCL_DEVICES="pthread pthread"), their
indices read from `devices --json`: every device set agrees with the host
within the fast-mode bound, a fixed --chunk gives the same bits whatever the
device set, and every run is checked for an empty stderr (no note: no device
dropped, no fallback) and for the elements each device reduced.  Without
two POCL devices (a box without POCL) the whole file is skipped: exit 77,
which CTest reports as skipped."""

import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
TWO = {"POCL_DEVICES": "pthread pthread"}
OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2,dot"


def box():
    """(first POCL index, second POCL index, host index) under TWO, or None
    without two POCL devices."""
    doc = json.loads(cu.ok(["devices", "--json"], cu.env(**TWO)))
    pocl = [d["index"] for d in doc["devices"]
            if d["type"] == "cpu" and "Portable Computing" in d["platform"]]
    host = [d["index"] for d in doc["devices"] if d["type"] == "host"]
    return (pocl[0], pocl[1], host[0]) if len(pocl) >= 2 else None


BOX = None


def spec(s):
    """A device set where a, b (the POCL devices) and h (the host) stand for
    this box's indices; words (all, opencl, cpu, host) stay as they are."""
    a, b, h = BOX
    idx = {"a": a, "b": b, "h": h}
    return ",".join(str(idx.get(t, t)) for t in s.split(","))


def pocl_in(s):
    """The indices of the POCL devices named in device set s."""
    return [spec(t) for t in s.split(",") if t in ("a", "b")]


def reduce_on(xp, *args, devices):
    """reduce --json on `devices`; stderr must be empty and the devices
    reduced every element between them.  (Which device takes how many
    chunks depends on timing; test_engine checks that two devices split a
    large input.)"""
    p = cu.run(["reduce", "--json", *args, "--devices", devices, xp],
               cu.env(**TWO))
    if p.returncode != 0:
        raise AssertionError("--devices %s: exit %d: %s" % (
            devices, p.returncode, p.stderr.decode(errors="replace")))
    if p.stderr:
        raise AssertionError("--devices %s: stderr %r" % (devices, p.stderr))
    doc = json.loads(p.stdout)
    count = doc["count"]
    got = {d["id"]: d["elements"] for d in doc["devices"]}
    if sum(got.values()) != count:
        raise AssertionError("--devices %s: elements %r of %d" % (
            devices, got, count))
    return doc


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
    x, y, xp, yp = cu.pair_npy(tmp, dtype)
    ref = reduce_on(xp, "--ops", OPS, "--with", yp, devices="host")
    for s in ("all", "opencl", "a,b", "a", "b", "cpu", "b,a"):
        sel = spec(s)
        want = pocl_in(s)
        doc = reduce_on(xp, "--ops", OPS, "--with", yp, devices=sel)
        agree(doc["results"], ref["results"], x, y, "--devices " + sel)
        if want:
            ids = {d["id"] for d in doc["devices"]}
            if not ids <= set(want):
                raise AssertionError("--devices %s ran on %r" % (sel, ids))


def case_fixed_chunk_bitwise(tmp, dtype):
    x, y, xp, yp = cu.pair_npy(tmp, dtype, seed=2)
    runs = {}
    for s in ("a", "a,b", "b", "all", "opencl", "a,b,h", "host"):
        sel = spec(s)
        doc = reduce_on(xp, "--ops", OPS, "--with", yp, "--chunk", "4096",
                        devices=sel)
        runs[sel] = doc["results"]
    # Round-trip printing makes text equality bit equality.
    first = spec("a")
    base = json.dumps(runs[first])
    for sel, res in runs.items():
        if json.dumps(res) != base:
            diff = {k: (runs[first][k], v) for k, v in res.items()
                    if runs[first].get(k) != v}
            raise AssertionError("--chunk 4096 --devices %s differs from "
                                 "--devices %s: %r" % (sel, first, diff))


for _dtype in ("f32", "f64", "i32"):
    suite.add("device sets agree %s" % _dtype,
              case_device_sets_agree, _dtype)
    suite.add("fixed chunk bitwise %s" % _dtype,
              case_fixed_chunk_bitwise, _dtype)


@suite.test
def nonfinite_across_devices(tmp):
    x = np.random.default_rng(4).standard_normal(300007)
    x[[5, 150000, 299000]] = [np.inf, np.nan, -np.inf]
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    ops = "count,sum,mean,min,max,argmin,argmax,var,l1,l2"
    for policy in ("propagate", "omit"):
        runs = [reduce_on(xp, "--ops", ops, "--nan", policy, "--chunk", "8192",
                          devices=spec(s))
                for s in ("a", "a,b", "host")]
        for r in runs[1:]:
            if r["results"] != runs[0]["results"]:
                raise AssertionError("--nan %s: %r vs %r" % (
                    policy, r["results"], runs[0]["results"]))


if __name__ == "__main__":
    cu.binary()
    BOX = box()
    if BOX is None:
        print("skipped: fewer than two POCL devices here")
        sys.exit(77)
    suite.main()
