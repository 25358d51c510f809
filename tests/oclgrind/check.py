"""check.py EDGEGRID WORKDIR [--match NAME] [--count N] [--only quant]

The GPU path on one GPU or accelerator device, by default Oclgrind's (see
run.sh, which sets the environment; bench/gpu-check.sh runs it on a real
GPU with --match naming it):
every op, f32/f64/i32, fast and exact, several chunk sizes, the quantile
ops (median, quantile, hist: kernels/count.cl; approx_quantile:
kernels/sketch.cl), inputs just
above the engine's small-input threshold (64 lanes of 4096; smaller inputs
never reach a device); --any-type 1 accepts a CPU device too (the dry
run of bench/gpu-check.sh).  Each run on the Oclgrind device must give the
host backend's results, bit for bit (the JSON prints every double with 17
significant digits, so equal text is equal bits), the device must have
reduced every element, and stderr must be empty: no note of a dropped
device or a fallback, no Oclgrind diagnostic (invalid access, data race,
API misuse)."""

import json
import os
import subprocess
import sys
import time

EG, WORK = sys.argv[1], sys.argv[2]
OPTS = dict(zip(sys.argv[3::2], sys.argv[4::2]))
MATCH = OPTS.get("--match", "Oclgrind")
OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2,dot"
# Just above the small-input threshold, not a multiple of a lane or a
# chunk, so every run has partial lanes and a short last chunk.
COUNT = int(OPTS.get("--count", 64 * 4096 + 4096 * 3 + 77))
# 16384: several calls of 8 chunks and a short last call; 1Mi: one chunk
# for the whole input.  (65536, one call of 5 chunks, added nothing these
# two do not cover, at 3-6 s a run.)
CHUNKS = (16384, 1 << 20)
# --exact-chunks A,B: exact mode's chunk sizes for floats (integers are
# exact in fast mode's kernels anyway), when fewer are wanted (a
# float's exact run spreads a lane over a work-group of 64, which a
# simulator runs several times slower than the fast kernels).
EXACT_CHUNKS = tuple(int(c) for c in OPTS["--exact-chunks"].split(",")) \
    if "--exact-chunks" in OPTS else CHUNKS
TIMEOUT = 600


def run(args, env=None):
    p = subprocess.run([EG, *args], capture_output=True, text=True,
                       timeout=TIMEOUT, env=env)
    return p.returncode, p.stdout, p.stderr


def timed_run(args):
    """run() on the device under test, and its seconds."""
    t = time.time()
    rc, out, err = run(args)
    return rc, out, err, time.time() - t


def host_env():
    """The host backend needs no OpenCL at all: no ICD for it."""
    e = dict(os.environ)
    e["OCL_ICD_VENDORS"] = os.path.join(WORK, "none")
    os.makedirs(e["OCL_ICD_VENDORS"], exist_ok=True)
    return e


def device_index():
    rc, out, err = run(["devices", "--json"])
    if rc != 0:
        sys.exit("check: devices --json failed (%d): %s" % (rc, err))
    devs = [d for d in json.loads(out)["devices"]
            if MATCH in d["name"] or MATCH in d["platform"]]
    if len(devs) != 1:
        sys.exit("check: want one device matching %r, got %r" % (MATCH, devs))
    d = devs[0]
    # --any-type 1: bench/gpu-check.sh --dry-run, on a CPU device.
    if (d["type"] not in ("gpu", "accelerator", "accel") and
            OPTS.get("--any-type") != "1"):
        sys.exit("check: %r is not a GPU or accelerator" % d)
    if MATCH == "Oclgrind" and d["unified_memory"]:
        sys.exit("check: Oclgrind %r should have memory of its own" % d)
    return d["index"]


def gen(dtype, seed):
    path = os.path.join(WORK, "%s_%d.npy" % (dtype, seed))
    rc, _, err = run(["gen", "--count", str(COUNT), "--dtype", dtype,
                      "--dist", "normal", "--seed", str(seed), "-o", path],
                     host_env())
    if rc != 0:
        sys.exit("check: gen %s: %s" % (dtype, err))
    return path


# The counting kernels of the quantile ops (kernels/count.cl): selection
# passes (global counters: 2^16 bins per bucket outgrow local memory), the
# histogram in local bins (64) and in global counters (20000 bins).
# Oclgrind takes ~5 s a pass over these inputs, so each dtype gets what
# its kernels differ in: float32 all of them, float64 the selection (64-bit
# keys), int32 hist with the automatic range (the range test by keys).
QUANT_RUNS = (
    ("f32", ["--ops", "median,quantile,hist", "--q", "0,0.1,0.5,0.9,1",
             "--bins", "64"]),
    ("f32", ["--ops", "hist", "--bins", "20000", "--range", "-1,1"]),
    ("f64", ["--ops", "median,quantile", "--q", "0,0.1,0.5,0.9,1"]),
    ("i32", ["--ops", "hist", "--bins", "64"]),
    # the sketch (kernels/sketch.cl): its span kernel, then its table in
    # local memory (--rel-err 0.01: a few thousand buckets) or, at 10^-4
    # (k = 13, over 2^13 buckets an octave), in global counters
    ("f32", ["--ops", "approx_quantile", "--q", "0,0.1,0.5,0.9,1"]),
    ("f64", ["--ops", "approx_quantile", "--q", "0,0.1,0.5,0.9,1",
             "--rel-err", "0.0001"]),
    ("i32", ["--ops", "approx_quantile", "--q", "0,0.5,1"]),
)


def quant_checks(dev, paths, failures):
    runs = 0
    for dtype, x in paths:
        for only, qargs in QUANT_RUNS:
            if only not in (None, dtype):
                continue
            args = ["reduce", "--json", *qargs, x]
            rc, want, herr = run([*args, "--devices", "host"], host_env())
            if rc != 0:
                sys.exit("check: host run failed: %s" % herr)
            rc, got, err, took = timed_run([*args, "--devices", str(dev)])
            runs += 1
            what = "%s %s" % (dtype, " ".join(qargs[:2]))
            if rc != 0:
                failures.append("%s: exit %d: %s" % (what, rc, err))
                continue
            g, w = json.loads(got), json.loads(want)
            problems = []
            if err.strip():
                problems.append("stderr: " + err.strip()[:2000])
            if g["results"] != w["results"]:
                problems.append("results %r, host %r" % (
                    g["results"], w["results"]))
            # every element on the device (a device's count is the first
            # pass's; the later ones read the same elements)
            devs = [(d["id"], d["elements"]) for d in g["devices"]]
            if devs != [(str(dev), COUNT)]:
                problems.append("devices %r, want all %d elements on %d"
                                % (devs, COUNT, dev))
            print("  %-28s %s  %4.1f s  devices %s" % (
                what, "FAIL" if problems else "ok", took, devs), flush=True)
            if problems:
                failures.append("%s: %s" % (what, "; ".join(problems)))
    return runs


def main():
    dev = device_index()
    failures, runs, t0 = [], 0, time.time()
    paths = []
    for dtype in ("f32", "f64", "i32"):
        x, y = gen(dtype, 1), gen(dtype, 2)
        paths.append((dtype, x))
        if OPTS.get("--only") == "quant":
            continue
        for mode in ("fast", "exact"):
            exact_float = mode == "exact" and dtype != "i32"
            # integers take fast mode's kernels in exact mode too: one
            # chunk size shows that the mode reaches them
            chunks = (EXACT_CHUNKS if exact_float else
                      CHUNKS[:1] if mode == "exact" else CHUNKS)
            for chunk in chunks:
                args = ["reduce", "--json", "--mode", mode, "--ops", OPS,
                        "--with", y, "--chunk", str(chunk), x]
                rc, want, herr = run([*args, "--devices", "host"], host_env())
                if rc != 0:
                    sys.exit("check: host run failed: %s" % herr)
                rc, got, err, took = timed_run([*args, "--devices", str(dev)])
                runs += 1
                what = "%s %s --chunk %d" % (dtype, mode, chunk)
                if rc != 0:
                    failures.append("%s: exit %d: %s" % (what, rc, err))
                    continue
                g, w = json.loads(got), json.loads(want)
                problems = []
                if err.strip():
                    problems.append("stderr: " + err.strip()[:2000])
                if g["results"] != w["results"]:
                    problems.append("results %r, host %r" % (
                        g["results"], w["results"]))
                devs = [(d["id"], d["elements"]) for d in g["devices"]]
                if devs != [(str(dev), COUNT)]:
                    problems.append("devices %r, want all %d elements on %d"
                                    % (devs, COUNT, dev))
                launch = g["devices"][0].get("launch") if devs else None
                if not launch or launch["calls"] < 1:
                    problems.append("no launch recorded: %r" % launch)
                print("  %-28s %s  %4.1f s  launch %s" % (
                    what, "FAIL" if problems else "ok", took, launch),
                    flush=True)
                if problems:
                    failures.append("%s: %s" % (what, "; ".join(problems)))
    t1 = time.time()
    runs += quant_checks(dev, paths, failures)
    print("check: quantile ops on %s in %.0f s" % (MATCH, time.time() - t1))
    print("check: %d runs on %s (device %d) in %.0f s" % (
        runs, MATCH, dev, time.time() - t0))
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


main()
