#!/usr/bin/env python3
"""default_pairs.py - exact against fast mode as a user meets them: whole
`edgegrid reduce FILE` processes with the default ops and the default
device selection, in interleaved pairs (fast then exact, exact then fast,
...), so both modes see the same neighbours in time on a shared machine.

    /usr/bin/python3 bench/exact/default_pairs.py build/edgegrid F.npy... [--pairs N]

For each file it prints the median wall time of each mode, and exact's
speed over fast's as the median of the pairs' ratios (fast time / exact
time), both whole-process and in-process (the JSON "seconds").  The
ingest is whatever $EDGEGRID_INGEST says (read when unset), so run it once
with EDGEGRID_INGEST=map to compare the two.  The files should be in the
page cache already (read them once); write them with `edgegrid gen`.
"""
import argparse
import json
import statistics
import subprocess
import time


def run(binary, path, mode):
    t0 = time.perf_counter()
    out = subprocess.run([binary, "reduce", path, "--mode", mode, "--json",
                          "--no-progress"], check=True, capture_output=True,
                         text=True).stdout
    return time.perf_counter() - t0, json.loads(out)["seconds"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--pairs", type=int, default=21)
    a = ap.parse_args()
    if a.pairs < 1:
        ap.error("--pairs must be at least 1")
    for path in a.files:
        for mode in ("fast", "exact"):  # warm-up, untimed
            run(a.binary, path, mode)
        wall = {"fast": [], "exact": []}
        inproc = {"fast": [], "exact": []}
        for i in range(a.pairs):
            order = ("fast", "exact") if i % 2 == 0 else ("exact", "fast")
            for mode in order:
                w, s = run(a.binary, path, mode)
                wall[mode].append(w)
                inproc[mode].append(s)
        med = statistics.median
        rw = med(f / e for f, e in zip(wall["fast"], wall["exact"]))
        ri = med(f / e for f, e in zip(inproc["fast"], inproc["exact"]))
        print(f"{path}: whole process fast {med(wall['fast']):.4f} s, "
              f"exact {med(wall['exact']):.4f} s, exact/fast {rw:.3f}; "
              f"in-process fast {med(inproc['fast']):.4f} s, "
              f"exact {med(inproc['exact']):.4f} s, exact/fast {ri:.3f}")


if __name__ == "__main__":
    main()
