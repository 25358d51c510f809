#!/usr/bin/env python3
"""bench/resident_smoke_check.py EDGEGRID - a smoke test of `edgegrid bench
--resident`.

Runs it on 8 MiB of f32 with the rows sum, dot and fused and checks that
each OpenCL device has a block with a positive read-probe figure and the
rows sum and fused (dot is left out: one buffer), each with positive GB/s
for host and device memory and ratios that are those GB/s over the probe;
and that --json gives the same structure as one JSON object: the same
devices, rows sum and fused, positive GB/s, seconds and reps, and each
xprobe that GB/s over the device's read probe.  No speed is asserted.
Registered with CTest as bench_resident_smoke.
"""
import json
import re
import subprocess
import sys


def fail(msg):
    print("bench_resident_smoke: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    exe = sys.argv[1]
    p = subprocess.run([exe, "bench", "--resident", "--size", "8Mi",
                        "--ops", "sum,dot,fused", "--reps", "2"],
                       capture_output=True, timeout=300, text=True)
    if p.returncode != 0:
        fail("exit %d: %s" % (p.returncode, p.stderr[-500:]))
    blocks = re.split(r"^(?=device \d+ )", p.stdout, flags=re.M)[1:]
    if not blocks:
        if "no OpenCL device" in p.stdout:
            print("bench_resident_smoke: no OpenCL device; skipped")
            sys.exit(77)
        fail("no device block in:\n" + p.stdout)
    for b in blocks:
        m = re.match(r"device (\d+) .*read probe ([0-9.]+) GB/s", b)
        if not m or float(m.group(2)) <= 0:
            fail("probe line: %r" % b.splitlines()[0])
        probe = float(m.group(2))
        rows = {}
        for line in b.splitlines()[2:]:
            f = line.replace("|", " ").split()
            if len(f) == 5 and re.match(r"^[a-z]+$", f[0]):
                rows[f[0]] = [float(v) for v in f[1:]]
        if sorted(rows) != ["fused", "sum"]:
            fail("rows %r (want fused and sum, no dot)" % sorted(rows))
        for name, (host, hx, res, rx) in rows.items():
            if host <= 0 or res <= 0:
                fail("%s: GB/s %r %r" % (name, host, res))
            for g, x in ((host, hx), (res, rx)):
                if abs(g / probe - x) > 0.01 + 0.02 * x:
                    fail("%s: ratio %r is not %r / %r" % (name, x, g, probe))
    indices = sorted(int(re.match(r"device (\d+) ", b).group(1))
                     for b in blocks)
    check_json(exe, indices)
    print("bench_resident_smoke: ok, %d device(s), table and JSON"
          % len(blocks))


def check_json(exe, indices):
    q = subprocess.run([exe, "bench", "--resident", "--json", "--size", "8Mi",
                        "--ops", "sum,dot,fused", "--reps", "2"],
                       capture_output=True, timeout=300, text=True)
    if q.returncode != 0:
        fail("--json: exit %d: %s" % (q.returncode, q.stderr[-500:]))
    try:
        r = json.loads(q.stdout)
    except ValueError as e:
        fail("--json: not JSON (%s): %r" % (e, q.stdout[:300]))
    if (r.get("bench"), r.get("dtype"), r.get("bytes"), r.get("mode")) != (
            "resident", "float32", 8 << 20, "fast"):
        fail("--json: setup %r" % {k: r.get(k) for k in
                                   ("bench", "dtype", "bytes", "mode")})
    got = sorted(d["index"] for d in r["devices"])
    if got != indices:
        fail("--json: devices %r, the table's %r" % (got, indices))
    for d in r["devices"]:
        probe = d["read_probe"]["gbps"]
        if probe <= 0 or d["read_probe"]["reps"] < 2:
            fail("--json: device %d probe %r" % (d["index"], d["read_probe"]))
        names = sorted(row["name"] for row in d["rows"])
        if names != ["fused", "sum"]:
            fail("--json: device %d rows %r" % (d["index"], names))
        for row in d["rows"]:
            for where in ("host", "resident"):
                f = row[where]
                if f["gbps"] <= 0 or f["seconds"] <= 0 or f["reps"] < 2:
                    fail("--json: %s %s: %r" % (row["name"], where, f))
                if abs(f["gbps"] / probe - f["xprobe"]) > 1e-9 * f["xprobe"]:
                    fail("--json: %s %s: xprobe %r is not %r / %r" % (
                        row["name"], where, f["xprobe"], f["gbps"], probe))


if __name__ == "__main__":
    main()
