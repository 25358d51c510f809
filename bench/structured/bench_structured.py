#!/usr/bin/python3
"""Structured reductions, measured in one run on the same bytes:

  --axis 0  on [N, C] float32, C = 2, 3, 8, 64, 1024
  --axis -1 on [R, C] float32, C = 8, 64, 4096, 1e6
  --by      over 1-D float32 with int32 keys, K = 10, 1000, 100000 groups
            (the keys' bytes counted)

each beside edgegrid's flat sum of the same file (`reduce --ops sum`, no
--axis), numpy's x.sum(axis=...) and, for --by, np.bincount(k, weights=x)
and pandas' groupby(k).agg("sum").  edgegrid's time is the reduction's own
(`seconds` of --json, the file mapped from the page cache); numpy and pandas
run on the arrays in memory.  Best of --reps runs each.  Prints a Markdown
table (GB/s and ratios); --json FILE writes the figures too.

--baseline OLD_EDGEGRID runs a second binary (a build of an earlier commit)
on each case, its runs interleaved with the first one's so that both meet
the same load, and adds its GB/s and the ratio new/old.  --cases picks the
groups of cases (axis0, axis1, by; all by default).

usage: bench_structured.py EDGEGRID [--mib 256] [--reps 5] [--devices host]
                           [--baseline OLD_EDGEGRID] [--cases by,...]
                           [--json OUT.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def rate(nbytes, seconds):
    """GB/s; a run too short for the clock counts as one microsecond."""
    return nbytes / max(seconds, 1e-6) / 1e9


def eg_seconds(binary, args, reps, devices):
    best = float("inf")
    for _ in range(reps):
        p = subprocess.run([binary, "reduce", "--json", "--no-progress",
                            "--devices", devices, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           check=False)
        if p.returncode != 0:
            sys.exit("edgegrid %s: %s" % (" ".join(args), p.stderr.decode()))
        best = min(best, json.loads(p.stdout)["seconds"])
    return best


def py_seconds(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("edgegrid")
    ap.add_argument("--mib", type=int, default=256,
                    help="bytes of float32 data per case, in MiB")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--devices", default="host")
    ap.add_argument("--json")
    ap.add_argument("--baseline")
    ap.add_argument("--cases", default="axis0,axis1,by")
    a = ap.parse_args()
    wanted = set(a.cases.split(","))
    n = a.mib * (1 << 20) // 4
    rng = np.random.default_rng(0)
    flat = rng.random(n, dtype=np.float32)
    rows = []
    with tempfile.TemporaryDirectory(prefix="eg-bench-structured-") as tmp:
        def case(label, shape, axis_args, np_fn, extra_bytes=0,
                 others=()):
            size = int(np.prod(shape))
            src = flat if size <= flat.size else rng.random(size,
                                                            dtype=np.float32)
            x = src[:size].reshape(shape)
            path = os.path.join(tmp, "x.npy")
            np.save(path, x)
            nbytes = x.nbytes + extra_bytes
            t_flat = eg_seconds(a.edgegrid, ["--ops", "sum", path], a.reps,
                                a.devices)
            args = ["--ops", "sum", *axis_args(tmp), path]
            t_eg = t_base = float("inf")
            for _ in range(a.reps):  # interleaved with the baseline's runs
                t_eg = min(t_eg, eg_seconds(a.edgegrid, args, 1, a.devices))
                if a.baseline:
                    t_base = min(t_base, eg_seconds(a.baseline, args, 1,
                                                    a.devices))
            t_np = py_seconds(lambda: np_fn(x), a.reps)
            row = {"case": label, "shape": list(shape), "bytes": nbytes,
                   "edgegrid_gbps": rate(nbytes, t_eg),
                   "flat_sum_gbps": rate(x.nbytes, t_flat),
                   "numpy_gbps": rate(nbytes, t_np)}
            row["vs_flat"] = row["edgegrid_gbps"] / row["flat_sum_gbps"]
            if a.baseline:
                row["baseline_gbps"] = rate(nbytes, t_base)
                row["vs_baseline"] = row["edgegrid_gbps"] / row[
                    "baseline_gbps"]
            row["vs_numpy"] = row["edgegrid_gbps"] / row["numpy_gbps"]
            for name, fn in others:
                t = py_seconds(lambda: fn(x), a.reps)
                row[name + "_gbps"] = rate(nbytes, t)
                row["vs_" + name] = row["edgegrid_gbps"] / row[name + "_gbps"]
            rows.append(row)
            print("%-22s %7.2f GB/s  flat %6.2f  x%.2f  numpy %6.2f  x%.2f%s"
                  % (label, row["edgegrid_gbps"], row["flat_sum_gbps"],
                     row["vs_flat"], row["numpy_gbps"], row["vs_numpy"],
                     "".join("  %s x%.2f" % (k, row["vs_" + k])
                             for k in [n for n, _ in others] +
                             (["baseline"] if a.baseline else []))),
                  file=sys.stderr)

        for c in (2, 3, 8, 64, 1024) if "axis0" in wanted else ():
            case("--axis 0, C=%d" % c, (max(1, n // c), c),
                 lambda t: ["--axis", "0"], lambda x: x.sum(axis=0))
        for c in (8, 64, 4096, 1000000) if "axis1" in wanted else ():
            case("--axis -1, C=%d" % c, (max(1, n // c), c),
                 lambda t: ["--axis", "-1"], lambda x: x.sum(axis=-1))
        import pandas as pd
        for k in (10, 1000, 100000) if "by" in wanted else ():
            keys = rng.integers(0, k, n).astype(np.int32)
            kp = os.path.join(tmp, "k.npy")
            np.save(kp, keys)
            case("--by, K=%d" % k, (n,), lambda t: ["--by", kp],
                 lambda x: np.bincount(keys, weights=x),
                 extra_bytes=keys.nbytes,
                 others=(("pandas", lambda x: pd.Series(x).groupby(
                     keys).agg("sum")),))
    print("CPU: %s; %d MiB of float32 per case; best of %d; --devices %s\n"
          % (cpu_model(), a.mib, a.reps, a.devices))
    base = " baseline GB/s | vs baseline |" if a.baseline else ""
    print("| case | edgegrid GB/s | flat sum GB/s | vs flat | numpy GB/s |"
          " vs numpy | pandas GB/s | vs pandas |" + base)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" +
          (" ---: | ---: |" if a.baseline else ""))
    for r in rows:
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |%s" % (
            r["case"], r["edgegrid_gbps"], r["flat_sum_gbps"], r["vs_flat"],
            r["numpy_gbps"], r["vs_numpy"],
            "%.2f" % r["pandas_gbps"] if "pandas_gbps" in r else "",
            "%.2f" % r["vs_pandas"] if "vs_pandas" in r else "",
            " %.2f | %.2f |" % (r["baseline_gbps"], r["vs_baseline"])
            if a.baseline else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpu": cpu_model(), "mib": a.mib, "reps": a.reps,
                       "devices": a.devices, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
