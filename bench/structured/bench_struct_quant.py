#!/usr/bin/python3
"""Quantile ops per axis and per group, measured in one run on the same
bytes (float32):

  median --axis 1 on [N/8, 8]   (short rows: the sorted-segment path)
  median --axis 0 on [N/8, 8]   (long columns: the selection passes)
  median --by over 1-D, int32 keys, K = 10, 1000, 100000 groups
  hist --axis 0 --range on [N/8, 8]

each beside edgegrid's flat median and flat sum of the same file, numpy's
np.median(x, axis=...) (and a loop of np.histogram per column) and, for
--by, pandas' groupby(k).median().  edgegrid's time is the job's own
(`seconds` of --json); numpy and pandas run on arrays in memory.  Best of
--reps runs each.  Prints a Markdown table: seconds, and each figure's
speed as a ratio to edgegrid's flat median and to the numpy/pandas
baseline.

usage: bench_struct_quant.py EDGEGRID [--mib 64] [--reps 3] [--devices host]
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_structured import cpu_model, eg_seconds  # noqa: E402
from bench_structured import py_seconds as best_of  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--devices", default="host")
    a = ap.parse_args()
    n = a.mib * 2**20 // 4 // 8 * 8
    rng = np.random.default_rng(1)
    x = rng.normal(size=n).astype(np.float32)
    x2 = x.reshape(-1, 8)
    rows = []
    with tempfile.TemporaryDirectory(prefix="eg-sq-") as tmp:
        xp, x2p = os.path.join(tmp, "x.npy"), os.path.join(tmp, "x2.npy")
        np.save(xp, x)
        np.save(x2p, x2)
        run = lambda *args: eg_seconds(a.binary, list(args), a.reps,  # noqa
                                       a.devices)
        flat_sum = run("--ops", "sum", xp)
        flat_med = run("--ops", "median", xp)
        rows.append(("flat median (reference)", flat_med,
                     best_of(lambda: np.median(x), a.reps), "np.median(x)"))
        rows.append(("median --axis 1 [N/8, 8]",
                     run("--ops", "median", "--axis", "1", x2p),
                     best_of(lambda: np.median(x2, axis=1), a.reps),
                     "np.median(x, axis=1)"))
        rows.append(("median --axis 0 [N/8, 8]",
                     run("--ops", "median", "--axis", "0", x2p),
                     best_of(lambda: np.median(x2, axis=0), a.reps),
                     "np.median(x, axis=0)"))
        for k in (10, 1000, 100000):
            keys = rng.integers(0, k, size=n).astype(np.int32)
            kp = os.path.join(tmp, "k%d.npy" % k)
            np.save(kp, keys)
            s = pd.Series(x)
            rows.append(("median --by, K=%d" % k,
                         run("--ops", "median", "--by", kp, xp),
                         best_of(lambda: s.groupby(keys).median(), a.reps),
                         "pandas groupby(k).median()"))
        rows.append(("hist --axis 0 --range -4,4 --bins 100",
                     run("--ops", "hist", "--bins", "100", "--range",
                         "-4,4", "--axis", "0", x2p),
                     best_of(lambda: [np.histogram(x2[:, c], 100, (-4, 4))
                                      for c in range(8)], a.reps),
                     "np.histogram per column"))
    print("CPU: %s; %d MiB float32 (%d values); devices %s; best of %d" % (
        cpu_model(), a.mib, n, a.devices, a.reps))
    print("flat sum of the same file: %.4f s\n" % flat_sum)
    print("| case | edgegrid s | vs flat median | vs flat sum | baseline s "
          "| speed-up | baseline |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, t, b, bname in rows:
        print("| %s | %.4f | %.2f | %.2f | %.4f | %.1fx | %s |" % (
            name, t, flat_med / t, flat_sum / t, b, b / t, bname))


if __name__ == "__main__":
    main()
