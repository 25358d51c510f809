#!/usr/bin/python3
"""Quantile and histogram ops against a flat sum and numpy, in one run, on
the same array (issue 15's ratios).

    /usr/bin/python3 bench/quant_bench.py build/edgegrid [--mib 1024]
                     [--dtype f32|f64] [--reps 3] [--markdown]
                     [--baseline OLD_EDGEGRID]

The array (normal, seeded) is written once to /dev/shm and read from there
by edgegrid and by numpy (loaded into memory before its clock).
edgegrid's figure is the "seconds" of its JSON (the reduction itself,
without start-up), the median of --reps runs; numpy's is
time.perf_counter around the call, also the median.  Each edgegrid run of
an op comes right after a flat sum of the same file, and "sum / op" is the
median of those pairs' ratios, so that a machine whose speed wanders
within the run still gives a fair ratio.  --baseline runs a second
binary (a build of an earlier commit) right after each run of the first,
so that both meet the same load, and adds its median time and the ratio
old / new.  Nothing is asserted.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def eg_run(binary, path, args):
    p = subprocess.run([binary, "reduce", "--json", *args, path],
                       stdout=subprocess.PIPE, check=True)
    return json.loads(p.stdout)["seconds"]


def eg_seconds(binary, path, args, reps, ratios=None, baseline=None,
               base_times=None):
    """The median time of `args`; with `ratios`, each run follows a flat
    sum and ratios gets the median of sum / op over the pairs; with
    `baseline`, each run is followed by the baseline's, whose median time
    goes to base_times."""
    out, pairs, base = [], [], []
    for _ in range(reps):
        s = eg_run(binary, path, ["--ops", "sum"]) if ratios is not None \
            else None
        t = eg_run(binary, path, args)
        out.append(t)
        if s is not None:
            pairs.append(s / t)
        if baseline:
            base.append(eg_run(baseline, path, args))
    if ratios is not None:
        ratios.append(statistics.median(pairs))
    if baseline:
        base_times.append(statistics.median(base))
    return statistics.median(out)


def np_seconds(fn, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--baseline")
    a = ap.parse_args()
    dt = np.float32 if a.dtype == "f32" else np.float64
    n = a.mib * 2**20 // np.dtype(dt).itemsize
    path = "/dev/shm/eg_quant_bench_%d.npy" % os.getpid()
    x = np.random.default_rng(1).standard_normal(n, dtype=dt)
    np.save(path, x)
    try:
        sum_s = eg_seconds(a.binary, path, ["--ops", "sum"], a.reps)
        rows, ratio, base = [], [], []
        for bins in (10, 32, 4096):
            eg = eg_seconds(a.binary, path, ["--ops", "hist", "--bins",
                                             str(bins)], a.reps, ratio, a.baseline, base)
            ref = np_seconds(lambda: np.histogram(x, bins=bins), a.reps)
            rows.append(("hist %d bins" % bins, eg, ref,
                         "numpy.histogram"))
        # one pass: a given range needs no min/max pass first
        for bins in (10, 4096):
            eg = eg_seconds(a.binary, path, ["--ops", "hist", "--bins",
                                             str(bins), "--range", "-5,5"],
                            a.reps, ratio, a.baseline, base)
            ref = np_seconds(lambda: np.histogram(x, bins=bins,
                                                  range=(-5, 5)), a.reps)
            rows.append(("hist %d bins, --range" % bins, eg, ref,
                         "numpy.histogram range"))
        eg = eg_seconds(a.binary, path, ["--ops", "approx_quantile", "--q",
                                         "0.5,0.99"], a.reps, ratio, a.baseline, base)
        ref = np_seconds(lambda: np.quantile(x, [0.5, 0.99],
                                             method="lower"), a.reps)
        rows.append(("approx_quantile", eg, ref, "numpy.quantile lower"))
        eg = eg_seconds(a.binary, path, ["--ops", "median"], a.reps, ratio, a.baseline, base)
        ref = np_seconds(lambda: np.median(x), a.reps)
        rows.append(("median (exact)", eg, ref, "numpy.median"))
        eg = eg_seconds(a.binary, path, ["--ops", "quantile", "--q",
                                         "0.01,0.5,0.99"], a.reps, ratio, a.baseline, base)
        ref = np_seconds(lambda: np.quantile(x, [0.01, 0.5, 0.99]), a.reps)
        rows.append(("quantile 3 q (exact)", eg, ref, "numpy.quantile"))
    finally:
        os.unlink(path)
    gb = n * np.dtype(dt).itemsize / 1e9
    print("%s, %d cores; %s, %d MiB (%d elements); flat sum %.4f s "
          "(%.1f GB/s)" % (cpu_model(), os.cpu_count(), np.dtype(dt).name,
                           a.mib, n, sum_s, gb / sum_s))
    base = base or [None] * len(rows)
    if a.markdown:
        old = " baseline s | old / new |" if a.baseline else ""
        print("| op | edgegrid s | sum / op | numpy s | numpy / edgegrid "
              "| numpy call |" + old)
        print("| --- | ---: | ---: | ---: | ---: | --- |" +
              (" ---: | ---: |" if a.baseline else ""))
        for (name, eg, ref, what), r, b in zip(rows, ratio, base):
            old = " %.4f | %.2f |" % (b, b / eg) if b is not None else ""
            print("| %s | %.4f | %.2f | %.4f | %.1f | %s |%s" % (
                name, eg, r, ref, ref / eg, what, old))
    else:
        for (name, eg, ref, what), r, b in zip(rows, ratio, base):
            old = "   baseline %.4f s (%.2f x)" % (b, b / eg) \
                if b is not None else ""
            print("%-24s edgegrid %.4f s  = %.2f x sum speed   %s %.4f s "
                  "(%.1f x slower)%s" % (name, eg, r, what, ref, ref / eg,
                                         old))


if __name__ == "__main__":
    sys.exit(main())
