"""The Python binding's figures, each beside its baseline in the same run
(bench/README.md, "Python"):

  1. overhead per call on 4 KiB (512 float64): Engine.reduce and eg.sum
     against eg_reduce from C (capi_bench, same process model: one engine,
     warm, batches of calls);
  2. GB/s on a large array: Engine.reduce against eg_reduce (libedgegrid.so
     through ctypes) on the same array in this process, timed in turns;
  3. eg.std(x) and the default op set against numpy's calls for the same
     answers (np.std; x.size, sum, mean, min, max, std), same process;
  4. edgegrid.dask.reduce against Dask's own mean/std/min/max computed
     together (dask.compute) on a 2-worker LocalCluster, same persisted
     array, and against one eg.reduce of the same data in this process.

Run: PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_python.py \
        --capi build/capi_bench --lib build/engine/libedgegrid.so \
        [--big-mib 1024] [--dask-mib 4096] [--json F]
Speed is measured here, never asserted.
"""
import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

import edgegrid as eg

DEFAULT = eg.DEFAULT_OPS


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def timed(fn, reps, batch=1, settle=None):
    """(best, median) seconds per call over reps timings of batch calls;
    settle() runs before each timing, outside the clock."""
    for _ in range(3 * batch):
        fn()
    ts = []
    for _ in range(reps):
        if settle:
            settle()
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        ts.append((time.perf_counter() - t0) / batch)
    return min(ts), statistics.median(ts)


def capi(path, n, reps, ops, devices):
    out = subprocess.run([path, str(n), str(reps), ops, "fast", devices],
                         check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    return d["best_s"], d["median_s"]


def data(n):
    return np.random.default_rng(1).random(n) - 0.5


def bench_small(args, rows):
    x = data(512)
    eng = eg.Engine(args.devices)
    batch = 2000
    c = capi(args.capi, 512, args.reps, "sum", args.devices)
    p = timed(lambda: eng.reduce(x, ops="sum"), args.reps, batch)
    f = timed(lambda: eg.sum(x, devices=args.devices), args.reps, batch)
    rows.append(("4 KiB sum: C eg_reduce", c[0] * 1e6, c[1] * 1e6, "us"))
    rows.append(("4 KiB sum: Engine.reduce", p[0] * 1e6, p[1] * 1e6, "us"))
    rows.append(("4 KiB sum: eg.sum", f[0] * 1e6, f[1] * 1e6, "us"))
    return {"overhead_engine_us": (p[0] - c[0]) * 1e6,
            "overhead_eg_sum_us": (f[0] - c[0]) * 1e6}


class CApi:
    """eg_reduce called through ctypes on libedgegrid.so, in this process
    and on the same array as the binding: for inputs this large the ctypes
    call's microsecond is noise, and both read the same pages."""

    def __init__(self, lib, devices):
        import ctypes
        self.ct = ctypes
        self.lib = ctypes.CDLL(lib)
        self.err = ctypes.create_string_buffer(1024)
        self.opts = ctypes.create_string_buffer(256)
        self.res = ctypes.create_string_buffer(64 * 1024)  # > eg_result
        self.lib.eg_reduce_opts_init(self.opts)  # the default op set, fast
        self.eng = ctypes.c_void_p()
        st = self.lib.eg_engine_open(ctypes.byref(self.eng),
                                     devices.encode(), self.err)
        if st != 0:
            raise RuntimeError("eg_engine_open: %d" % st)
        self.lib.eg_reduce.argtypes = [ctypes.c_void_p] * 3 + [
            ctypes.c_uint64, ctypes.c_int] + [ctypes.c_void_p] * 3

    def reduce(self, x):
        st = self.lib.eg_reduce(self.eng, x.ctypes.data, None, x.size, 1,
                                self.opts, self.res, self.err)
        if st != 0:
            raise RuntimeError("eg_reduce: %d" % st)


def interleaved(fns, reps):
    """(best, median) of each fn, timed in turns so that the load of a
    shared machine falls on all of them alike."""
    for fn in fns:
        fn()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for t, fn in zip(ts, fns):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
    return [(min(t), statistics.median(t)) for t in ts]


def bench_big(args, rows):
    n = args.big_mib * 1024 * 1024 // 8
    x = data(n)
    gb = x.nbytes / 1e9
    eng = eg.Engine(args.devices)
    capi_lib = CApi(args.lib, args.devices)
    c, p = interleaved([lambda: capi_lib.reduce(x), lambda: eng.reduce(x)],
                       args.reps)
    rows.append(("%d MiB default ops: C eg_reduce (ctypes)" % args.big_mib,
                 gb / c[0], gb / c[1], "GB/s"))
    rows.append(("%d MiB default ops: Engine.reduce" % args.big_mib,
                 gb / p[0], gb / p[1], "GB/s"))
    s = timed(lambda: eg.std(x, devices=args.devices), args.reps)
    ns = timed(lambda: np.std(x), args.reps)
    rows.append(("%d MiB std: eg.std" % args.big_mib, gb / s[0], gb / s[1],
                 "GB/s"))
    rows.append(("%d MiB std: np.std" % args.big_mib, gb / ns[0], gb / ns[1],
                 "GB/s"))

    def numpy_default():
        return (x.size, x.sum(), x.mean(), x.min(), x.max(), x.std())

    nd = timed(numpy_default, args.reps)
    rows.append(("%d MiB default ops: numpy's 5 calls" % args.big_mib,
                 gb / nd[0], gb / nd[1], "GB/s"))
    return {"python_vs_capi_gbps": c[0] / p[0], "std_vs_numpy": ns[0] / s[0],
            "default_vs_numpy": nd[0] / p[0]}


def _task_count(dask_scheduler):
    return len(dask_scheduler.tasks)


def bench_dask(args, rows):
    import dask
    import dask.array as da
    import distributed
    import edgegrid.dask as egd
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, host="127.0.0.1", dashboard_address=None,
        silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    try:
        n = args.dask_mib * 1024 * 1024 // 8
        src = da.random.RandomState(2).random_sample(
            n, chunks=8 * 1024 * 1024) - 0.5
        darr = client.persist(src)
        distributed.wait(darr)
        gb = n * 8 / 1e9
        ops = "mean,std,min,max"
        held = client.run_on_scheduler(_task_count)

        def settle():
            # Wait until the scheduler has forgotten the last result: a
            # graph of the same keys would otherwise find it in memory.
            deadline = time.time() + 10
            while (client.run_on_scheduler(_task_count) > held and
                   time.time() < deadline):
                time.sleep(0.01)

        def ours():
            return egd.reduce(darr, ops=ops).compute()

        def theirs():
            return dask.compute(darr.mean(), darr.std(), darr.min(),
                                darr.max())

        reps = max(3, args.reps // 3)
        o = timed(ours, reps, settle=settle)
        t = timed(theirs, reps, settle=settle)
        r, d = ours(), theirs()
        assert abs(r["mean"] - d[0]) <= 1e-12 and r["min"] == d[2]
        # The same values made here (seeded per block), not sent over.
        x = np.empty(n)
        at = 0
        for i in range(src.numblocks[0]):  # block by block: no second copy
            with warnings.catch_warnings():  # sync on purpose: local data
                warnings.simplefilter("ignore", UserWarning)
                b = src.blocks[i].compute(scheduler="sync")
            x[at:at + b.size] = b
            at += b.size
        one = timed(lambda: eg.reduce(x, ops=ops, devices=args.devices), reps)
        assert eg.reduce(x, ops="min")["min"] == r["min"]
        rows.append(("%d MiB dask: edgegrid.dask.reduce" % args.dask_mib,
                     gb / o[0], gb / o[1], "GB/s"))
        rows.append(("%d MiB dask: dask mean/std/min/max" % args.dask_mib,
                     gb / t[0], gb / t[1], "GB/s"))
        rows.append(("%d MiB one box: eg.reduce" % args.dask_mib,
                     gb / one[0], gb / one[1], "GB/s"))
        return {"dask_vs_dask": t[0] / o[0], "dask_vs_one_box": one[0] / o[0]}
    finally:
        client.close()
        cluster.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capi", required=True, help="path of capi_bench")
    ap.add_argument("--lib", required=True, help="path of libedgegrid.so")
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--dask-mib", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--devices", default="all")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    rows = []
    ratios = {}
    ratios.update(bench_small(args, rows))
    ratios.update(bench_big(args, rows))
    if not args.no_dask:
        ratios.update(bench_dask(args, rows))
    print("CPU: %s; devices=%s; best and median of %d" % (
        cpu_model(), args.devices, args.reps))
    print("%-44s %10s %10s" % ("", "best", "median"))
    for name, best, med, unit in rows:
        print("%-44s %10.3f %10.3f %s" % (name, best, med, unit))
    for k, v in ratios.items():
        print("%-30s %.3f" % (k, v))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_model(), "rows": rows, "ratios": ratios}, f,
                      indent=1)


if __name__ == "__main__":
    sys.exit(main())
