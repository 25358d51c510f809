#!/usr/bin/env python3
"""bench/resident_smoke_check.py EDGEGRID - a smoke test of `edgegrid bench
--resident`.

Runs it on 8 MiB of f32 with the rows sum, dot and fused and checks that
each OpenCL device has a block with a positive read-probe figure and the
rows sum and fused (dot is left out: one buffer), each with positive GB/s
for host and device memory and ratios that are those GB/s over the probe;
and that --json with --resident is a usage error (exit 2).  No speed is
asserted.  Registered with CTest as bench_resident_smoke.
"""
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
    q = subprocess.run([exe, "bench", "--resident", "--json"],
                       capture_output=True, timeout=60, text=True)
    if q.returncode != 2 or "--resident" not in q.stderr:
        fail("--resident --json: exit %d, %r" % (q.returncode, q.stderr))
    print("bench_resident_smoke: ok, %d device(s)" % len(blocks))


if __name__ == "__main__":
    main()
