"""`reduce` with the default devices (`all`) starts on the host while
OpenCL is discovered on a thread of its own; the devices `all` selects join
the job when they are ready.  Test hooks (EDGEGRID_TEST_HOOKS builds):
EDGEGRID_TEST_DISCOVERY_DELAY_MS makes discovery slow,
EDGEGRID_TEST_DISCOVERY=fail makes it fail, EDGEGRID_TEST_ALL_KEEPS_CPU=1
lets `all` keep POCL's CPU device (which it leaves to the host backend
otherwise), so that POCL stands for a GPU that joins.  Whatever joins when:
the bits of `--devices host`, every element counted once, every device of
the list reported (the host under its index in `devices --json`), and the
quantile ops, which read the device list, see all of it.  Without a POCL
device the file is skipped (exit 77)."""

import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"
# pread for every file: the largest files here are ones reduce's "auto"
# would time both ways, and what they test is the devices, not the ingest
KEEP = {"EDGEGRID_TEST_ALL_KEEPS_CPU": "1", "EDGEGRID_INGEST": "read"}


def box():
    """`devices --json`'s list: (index, type) pairs."""
    doc = json.loads(cu.ok(["devices", "--json"], cu.env()))
    return [(d["index"], d["type"]) for d in doc["devices"]]


def write(tmp, n, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = (rng.standard_normal(n) * 3 + 1e3).astype(dtype)
    else:
        x = rng.integers(-1000, 1000, n).astype(dtype)
    p = os.path.join(tmp, "x_%s.npy" % dtype)
    np.save(p, x)
    return p, x


def reduce_env(path, args, extra):
    """reduce --json with the default devices; returns (doc, stderr)."""
    p = cu.run(["reduce", "--json", *args, path], cu.env(**extra))
    if p.returncode != 0:
        raise AssertionError("exit %d: %s" % (
            p.returncode, p.stderr.decode(errors="replace")))
    return json.loads(p.stdout), p.stderr.decode()


def host_doc(path, args):
    return cu.reduce_json(path, *args, "--devices", "host", environ=cu.env())


def check_devices(doc, n):
    """Every device of the box in the result, in the box's order, and the
    elements adding up to the count.  Returns {index: elements}."""
    want = [str(i) for i, _ in BOX]
    got = [d["id"] for d in doc["devices"]]
    if got != want:
        raise AssertionError("devices %r, want %r" % (got, want))
    total = sum(d["elements"] for d in doc["devices"])
    if total != n:
        raise AssertionError("devices reduced %d of %d elements" % (total, n))
    return {d["id"]: d["elements"] for d in doc["devices"]}


def host_id():
    return [str(i) for i, t in BOX if t == "host"][0]


def slow_discovery(tmp):
    """Discovery slower than the job: the host did every element, the POCL
    device is listed with none, and the bits are the host's, numpy's sum
    close by."""
    path, x = write(tmp, 1 << 25, "float32", 1)
    args = ["--ops", OPS]
    doc, err = reduce_env(path, args,
                          dict(KEEP, EDGEGRID_TEST_DISCOVERY_DELAY_MS="3000"))
    if err:
        raise AssertionError("stderr: %s" % err)
    per = check_devices(doc, x.size)
    for i, e in per.items():
        want = x.size if i == host_id() else 0
        if e != want:
            raise AssertionError("device %s reduced %d, want %d" % (i, e, want))
    cu.same_bits(doc["results"], host_doc(path, args)["results"], "results")
    ref = float(np.sum(x, dtype=np.float64))
    if abs(doc["results"]["sum"] - ref) > 1e-9 * float(np.abs(x).sum()):
        raise AssertionError("sum %r, numpy %r" % (doc["results"]["sum"], ref))


def devices_join(tmp, dtype, mode):
    """No delay, a few hundred MiB: POCL joins when it is ready (how much it
    takes depends on the timing), the bits are the host's."""
    path, x = write(tmp, 3 << 25, dtype, 2)
    args = ["--ops", OPS, "--mode", mode]
    doc, err = reduce_env(path, args, KEEP)
    if err:
        raise AssertionError("stderr: %s" % err)
    check_devices(doc, x.size)
    cu.same_bits(doc["results"], host_doc(path, args)["results"], "results")


def failed_discovery(tmp):
    """A discovery that fails: the host alone (index 0, as on a box without
    OpenCL), a note that says so, the host's bits, exit 0."""
    path, x = write(tmp, 1 << 24, "float64", 3)
    args = ["--ops", OPS]
    doc, err = reduce_env(path, args, {"EDGEGRID_TEST_DISCOVERY": "fail"})
    if "device discovery failed" not in err or "host backend" not in err:
        raise AssertionError("stderr: %r" % err)
    if [(d["id"], d["elements"]) for d in doc["devices"]] != [("0", x.size)]:
        raise AssertionError("devices %r" % doc["devices"])
    cu.same_bits(doc["results"], host_doc(path, args)["results"], "results")


def quantiles_wait(tmp):
    """The quantile ops read the device list: under a slow discovery they
    wait for it and give numpy's median, as always."""
    path, x = write(tmp, 1 << 22, "float32", 4)
    doc, err = reduce_env(path, ["--ops", "median"],
                          dict(KEEP, EDGEGRID_TEST_DISCOVERY_DELAY_MS="300"))
    got = cu.num(doc["results"]["median"])
    want = float(np.median(x))
    if got != want:
        raise AssertionError("median %r, numpy %r" % (got, want))


BOX = None

if __name__ == "__main__":
    BOX = box()
    if not any(t == "cpu" for _, t in BOX):
        print("no POCL CPU device: skipped")
        sys.exit(77)
    suite.add("slow_discovery", slow_discovery)
    for dt, mode in (("float32", "fast"), ("float64", "exact"),
                     ("int32", "fast")):
        suite.add("devices_join_%s_%s" % (dt, mode), devices_join, dt, mode)
    suite.add("failed_discovery", failed_discovery)
    suite.add("quantiles_wait", quantiles_wait)
    suite.main()
