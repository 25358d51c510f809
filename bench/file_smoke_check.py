#!/usr/bin/env python3
"""bench/file_smoke_check.py EDGEGRID - a smoke test of `edgegrid bench
--file DIR`.

Runs the page-cache bench on two 8 MiB files in a temporary directory with
two rounds, checks that its JSON holds, for both kinds of file, the probe's
three readings, a roof that is the best of them, and whole-process reduce
figures with ratios to that roof inside their own lo-hi range; that the
files are gone afterwards; and that a missing directory is a usage error.
No speed is asserted.  Registered with CTest as bench_file_smoke.
"""
import json
import math
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("bench_file_smoke: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="eg-file-bench-") as tmp:
        p = subprocess.run([exe, "bench", "--file", tmp, "--size", "8Mi",
                            "--reps", "2", "--json"],
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            fail("exit %d: %s" % (p.returncode, p.stderr.decode()[-500:]))
        d = json.loads(p.stdout)
        if d.get("bytes") != 8 << 20 or d.get("threads", 0) < 1:
            fail("bytes/threads: %r" % d)
        kinds = [f.get("kind") for f in d.get("files", [])]
        if kinds != ["64 MiB writes", "4 KiB writes"]:
            fail("files: %r" % kinds)
        for f in d["files"]:
            probes = [f["pread_256k_gbps"], f["pread_1m_gbps"],
                      f["mmap_gbps"]]
            if not all(positive(x) for x in probes + [f["roof_gbps"]]):
                fail("%s: probe figures %r" % (f["kind"], f))
            if f["rounds"] != 2:
                fail("%s: %r rounds" % (f["kind"], f["rounds"]))
            for k in ("sum", "fused"):
                r, lo, hi = (f[k + "_ratio"], f[k + "_ratio_lo"],
                             f[k + "_ratio_hi"])
                if not (positive(f[k + "_gbps"]) and positive(r)
                        and lo <= r <= hi):
                    fail("%s %s: %r" % (f["kind"], k, f))
                if not positive(f[k + "_inproc_gbps"]):
                    fail("%s %s: no in-process figure" % (f["kind"], k))
        left = os.listdir(tmp)
        if left:
            fail("files left behind: %r" % left)
    p = subprocess.run([exe, "bench", "--file", "/nonexistent/dir"],
                       capture_output=True, timeout=60)
    if p.returncode != 2 or b"not a directory" not in p.stderr:
        fail("missing dir: exit %d %r" % (p.returncode, p.stderr))
    print("bench_file_smoke: ok")


if __name__ == "__main__":
    main()
