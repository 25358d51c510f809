"""Devices: `devices --json` and device selection (--devices,
EDGEGRID_DEVICES).  Device indices are read from `devices --json`, never
assumed: on a GPU box the GPU comes first.  Runs on two POCL devices live in
test_multi_device.py."""

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


def pocl_indices(doc):
    return [d["index"] for d in doc["devices"]
            if d["type"] == "cpu" and "Portable Computing" in d["platform"]]


@suite.test
def pocl_devices_follow_pocl_devices_env(tmp):
    one, two = devices(), devices(cu.env(**TWO))
    if not pocl_indices(one):
        print("     (no POCL device here: %s)" % one["notes"])
        return
    if len(pocl_indices(two)) != 2 or \
            opencl_count(two) != opencl_count(one) + 1 or \
            host_index(two) != host_index(one) + 1:
        raise AssertionError("POCL_DEVICES='pthread pthread' gave %r" % [
            (d["index"], d["type"], d["name"]) for d in two["devices"]])


# ------------------------------------------------------------ selection

@suite.test
def host_only(tmp):
    x, _, xp, _ = cu.pair_npy(tmp, "f64", n=10007)
    doc = cu.reduce_json(xp, "--devices", "host")
    # OpenCL is not asked: the id is the selector, not an index
    if [d["id"] for d in doc["devices"]] != ["host"]:
        raise AssertionError("--devices host ran on %r" % doc["devices"])


@suite.test
def edgegrid_devices_env(tmp):
    x, _, xp, _ = cu.pair_npy(tmp, "f32", n=10007)
    hidx = "host"
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
def env_selects_opencl_device(tmp):
    # Above the small-input limit (256 Ki elements), which the host takes.
    x, _, xp, _ = cu.pair_npy(tmp, "f32", n=300007)
    doc = devices()
    first = [d["index"] for d in doc["devices"] if d["type"] != "host"]
    if not first:
        print("     (no OpenCL device here: %s)" % doc["notes"])
        return
    want = str(first[-1])  # the last OpenCL device, not the first
    p = cu.run(["reduce", "--json", xp],
               cu.env(EDGEGRID_DEVICES=want))
    if p.returncode != 0 or p.stderr:
        raise AssertionError("EDGEGRID_DEVICES=%s: exit %d, stderr %r" % (
            want, p.returncode, p.stderr))
    got = [(d["id"], d["elements"]) for d in json.loads(p.stdout)["devices"]]
    if got != [(want, x.size)]:
        raise AssertionError("EDGEGRID_DEVICES=%s ran on %r" % (want, got))


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
    x, _, xp, _ = cu.pair_npy(tmp, "i16", n=10007)
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
    x, _, xp, _ = cu.pair_npy(tmp, "f32", n=10007)
    out = cu.ok(["reduce", "--devices", "host", xp])
    if "GB/s" not in out or "device" not in out:
        raise AssertionError("table:\n" + out)
    del x


if __name__ == "__main__":
    suite.main()
