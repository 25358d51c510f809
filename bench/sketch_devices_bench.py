#!/usr/bin/python3
"""approx_quantile's sketch on the host's cores and on an OpenCL device
(kernels/sketch.cl; device 0, POCL on a CPU box) beside a flat sum, in one
run, two interleaved rounds, on arrays made beforehand:

    edgegrid gen --count 64Mi --dtype f32 --dist normal --seed 1 -o /dev/shm/sk_f32.npy
    edgegrid gen --count 64Mi --dtype f64 --dist normal --seed 1 -o /dev/shm/sk_f64.npy
    /usr/bin/python3 bench/sketch_devices_bench.py build/edgegrid

Prints per run the wall time of `reduce --json` and its "seconds", the
answers (equal on both: the same bits) and the device entries.  Nothing is
asserted: these machines are shared.
"""
import json, subprocess, sys, time
E = sys.argv[1]
runs = []
for dt in ("f32", "f64"):
    f = "/dev/shm/sk_%s.npy" % dt
    runs += [(dt, "sum host", ["--ops", "sum", "--devices", "host"], f),
             (dt, "approx host", ["--ops", "approx_quantile", "--q", "0.5,0.99", "--devices", "host"], f),
             (dt, "approx POCL", ["--ops", "approx_quantile", "--q", "0.5,0.99", "--devices", "0"], f)]
res = {}
for rnd in (1, 2):
    for dt, name, args, f in runs:
        t = time.perf_counter()
        p = subprocess.run([E, "reduce", "--json", *args, f], capture_output=True, check=True)
        wall = time.perf_counter() - t
        j = json.loads(p.stdout)
        res.setdefault((dt, name), []).append((wall, j["seconds"], j["results"].get("approx_quantile"), [(d["id"], d["elements"]) for d in j["devices"]], p.stderr.decode().strip()))
for k, v in res.items():
    print(k, ["%.3f wall %.3f eg" % (a, b) for a, b, *_ in v], v[0][2], v[0][3], v[0][4][:200])
