"""The counting passes of median, quantile, hist and approx_quantile on
OpenCL devices (kernels/count.cl and kernels/sketch.cl through POCL): the
counts equal numpy's exactly (the sketch: the host's answers, bit for
bit), and the device, not the host, counted them (its element count is
the first pass's, every element once, there is no host entry and no note
that the host counted).

Cases: hist on every dtype with the automatic range and a given one (values
on the edges and the range ends, outside it, NaN, +-inf, subnormals, +-0.0,
1 to 4096 bins: local bins, and 100000 bins: global counters), the integer
range test by keys (int64 extremes); median and quantile for every method
on every dtype, with NaN under both policies, ties and many buckets (more
passes); the host and the device together (two POCL devices and the host)
giving the same bits; a device failing mid-pass (EDGEGRID_CL_FAULT=run,
test builds) handing its units to the host with a note; inputs below the
small-input threshold counted on the host, with a note that says so.
Without a POCL device the file is skipped (exit 77).
"""

import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402

suite = cu.Suite()
METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]
QS = [0.0, 1.0, 0.5, 0.25, 0.75, 0.1, 0.9, 0.99, 0.01, 1 / 3, 0.999]
QARG = ",".join(repr(q) for q in QS)
# above the small-input threshold (64 lanes of 4096), not a multiple of a
# lane nor of a unit, so units are uneven
N = 1_300_007
TWO = {"POCL_DEVICES": "pthread pthread"}


def pocl_devices(environ=None):
    doc = json.loads(cu.ok(["devices", "--json"], environ))
    return [str(d["index"]) for d in doc["devices"]
            if "Portable Computing Language" in d["platform"]]


def host_index(environ=None):
    doc = json.loads(cu.ok(["devices", "--json"], environ))
    return [str(d["index"]) for d in doc["devices"] if d["type"] == "host"][0]


def is_host(d):
    return d["name"].startswith("host")


def save(tmp, name, a):
    path = os.path.join(tmp, name + ".npy")
    np.save(path, a)
    return path


def run_json(path, args, devices, environ=None):
    """(parsed JSON, stderr text) of one reduce --json."""
    p = cu.run(["reduce", "--json", *args, "--devices", devices, path],
               environ or cu.env())
    assert p.returncode == 0, (p.returncode, p.stderr.decode()[:2000])
    return json.loads(p.stdout), p.stderr.decode()


def on_device(r, err, dev, n):
    """The device counted every element (of the first pass; the later
    ones read the same elements), the host none."""
    devs = [(d["id"], d["elements"]) for d in r["devices"]]
    assert devs == [(dev, n)], (devs, n)
    assert "host" not in err and "counted on" not in err, err


def hist_ref(x, bins, rng=None):
    with np.errstate(all="ignore"):
        y = x[~np.isnan(x)] if x.dtype.kind == "f" else x
        c, e = np.histogram(y, bins=bins, range=rng)
    lo, hi = (e[0], e[-1]) if rng is None else rng
    below = int(np.sum(y < lo)) if rng is not None else 0
    above = int(np.sum(y > hi)) if rng is not None else 0
    nan = int(np.sum(np.isnan(x))) if x.dtype.kind == "f" else 0
    return c.tolist(), below, above, nan


def data(dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = (rng.normal(size=N) * 3).astype(dtype)
        x[:5] = [0.0, -0.0, 1e-310 if dtype == "float64" else 1e-40, -3.0,
                 3.0]
        return x
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -50000), min(info.max, 50000)
    x = rng.integers(lo, hi, size=N, endpoint=True).astype(dtype)
    x[:2] = [info.min, info.max]
    return x


DTYPES = ["float32", "float64", "int8", "uint8", "int16", "uint16",
          "int32", "uint32", "int64", "uint64"]


def check_hist(tmp, dev, dtype):
    x = data(dtype, 3)
    path = save(tmp, "x", x)
    # automatic range: the min/max pass and the counting pass
    for bins in (1, 10, 4096):
        r, err = run_json(path, ["--ops", "hist", "--bins", str(bins)], dev)
        h = r["results"]["hist"]
        c, _, _, _ = hist_ref(x, bins)
        assert h["counts"] == c, (dtype, bins)
        on_device(r, err, dev, N)
    # a given range: edges inside the data, values outside, on the ends
    lo, hi = (-2.5, 2.0) if x.dtype.kind == "f" else (-1000, 777)
    for bins in (7, 100000):
        r, err = run_json(path, ["--ops", "hist", "--bins", str(bins),
                                 "--range", "%r,%r" % (lo, hi)], dev)
        h = r["results"]["hist"]
        c, below, above, nan = hist_ref(x, bins, (lo, hi))
        assert h["counts"] == c, (dtype, bins)
        assert (h["below"], h["above"], h["nan"]) == (below, above, nan)
        on_device(r, err, dev, N)


def check_exact(tmp, dev, dtype):
    x = data(dtype, 4)
    if x.dtype.kind == "f":
        x[7::1000] = np.nan
        x[9::997] = np.inf
    path = save(tmp, "x", x)
    nans = ("propagate", "omit") if x.dtype.kind == "f" else ("propagate",)
    for nan in nans:
        for m in METHODS:
            r, err = run_json(path, ["--ops", "median,quantile", "--q", QARG,
                                     "--method", m, "--nan", nan], dev)
            res = r["results"]
            with np.errstate(all="ignore"):
                f = np.nanquantile if nan == "omit" else np.quantile
                want = f(x, np.array(QS), method=m)
                med = (np.nanmedian if nan == "omit" else np.median)(x)
            for g, w in zip(res["quantile"], want.tolist()):
                cu.same(cu.num(g), w, "%s %s %s" % (dtype, m, nan))
            cu.same(cu.num(res["median"]), float(med), "median")
            # several passes, each over every element: N, not N * passes
            on_device(r, err, dev, N)


def check_sketch(tmp, dev, dtype):
    x = data(dtype, 8)
    if x.dtype.kind == "f":
        x[11::1001] = np.nan
        x[13::999] = np.inf
        x[17::998] = -np.inf
    path = save(tmp, "x", x)
    nans = ("propagate", "omit") if x.dtype.kind == "f" else ("propagate",)
    for nan in nans:
        for rel in ("0.01", "0.3", "0.0001"):
            args = ["--ops", "approx_quantile", "--q", QARG, "--rel-err", rel,
                    "--nan", nan]
            host, _ = run_json(path, args, "host")
            r, err = run_json(path, args, dev)
            assert r["results"] == host["results"], (dtype, rel, nan)
            on_device(r, err, dev, N)
            if nan == "omit" or x.dtype.kind != "f":
                # and within --rel-err of numpy's method=lower element
                with np.errstate(all="ignore"):
                    want = np.nanquantile(x, np.array(QS), method="lower")
                for g, w in zip(r["results"]["approx_quantile"],
                                want.astype(np.float64)):
                    g = cu.num(g)
                    if np.isinf(w):
                        assert g == w, (g, w)
                    else:
                        assert abs(g - w) <= float(rel) * abs(w) * (
                            1 + 1e-9), (dtype, rel, g, w)


for t in DTYPES:
    suite.add("hist_" + t, lambda tmp, t=t: check_hist(tmp, DEV, t))
    suite.add("exact_" + t, lambda tmp, t=t: check_exact(tmp, DEV, t))
    suite.add("sketch_" + t, lambda tmp, t=t: check_sketch(tmp, DEV, t))


@suite.test
def hist_edges_and_specials(tmp):
    # values exactly on every edge, both range ends, +-inf and NaN
    e = np.linspace(-1.0, 1.0, 65)
    x = np.concatenate([np.tile(e, N // 65 + 1)[:N - 6],
                        [np.inf, -np.inf, np.nan, 1.0, -1.0, 0.0]])
    for dt in ("float64", "float32"):
        y = x.astype(dt)
        path = save(tmp, "x" + dt, y)
        r, err = run_json(path, ["--ops", "hist", "--bins", "64", "--range",
                                 "-1,1"], DEV)
        c, below, above, nan = hist_ref(y, 64, (-1.0, 1.0))
        h = r["results"]["hist"]
        assert h["counts"] == c and (h["below"], h["above"], h["nan"]) == (
            below, above, nan), dt
        on_device(r, err, DEV, N)


@suite.test
def many_buckets_many_passes(tmp):
    # 64 quantiles of wide float64 data: many buckets in each later pass
    x = np.random.default_rng(5).standard_cauchy(N)
    path = save(tmp, "x", x)
    qs = np.linspace(0, 1, 64)
    r, err = run_json(path, ["--ops", "quantile", "--q",
                             ",".join(repr(q) for q in qs)], DEV)
    want = np.quantile(x, qs)
    for g, w in zip(r["results"]["quantile"], want.tolist()):
        cu.same(cu.num(g), w, "quantile")
    assert "counted on" not in err, err


@suite.test
def host_and_devices_same_bits(tmp):
    two = pocl_devices(cu.env(**TWO))
    if len(two) < 2:
        print("   (two POCL devices unavailable: host and one device)")
    x = np.random.default_rng(6).normal(size=3 * N).astype(np.float32)
    path = save(tmp, "x", x)
    env = cu.env(**TWO)
    devs = two if len(two) >= 2 else [DEV]
    spec = ",".join(devs + [host_index(env)])
    for ops, keys in (("median,quantile,hist,approx_quantile",
                       ("median", "quantile", "hist", "approx_quantile")),
                      ("approx_quantile", ("approx_quantile",))):
        args = ["--ops", ops, "--q", QARG, "--bins", "333"]
        host, _ = run_json(path, args, "host")
        both, err = run_json(path, args, spec, env)
        for k in keys:
            assert both["results"][k] == host["results"][k], k
        # the first pass covered every element once, across the devices
        # (which one takes a unit is first come, first served: on a loaded
        # machine the host's cores may leave the OpenCL devices none, so
        # that the devices count is asserted below, with them alone)
        total = sum(d["elements"] for d in both["devices"])
        assert total == x.size, both["devices"]
        assert "counted on" not in err, err
    if len(two) < 2:
        return
    # the two devices alone, 8 units of 1 Mi: each counts a share of the
    # sketch, and the shares add up to the array
    y = np.random.default_rng(16).lognormal(0, 4, size=8 << 20)
    y[::3] *= -1
    path = save(tmp, "y", y)
    args = ["--ops", "approx_quantile", "--q", QARG]
    host, _ = run_json(path, args, "host")
    both, err = run_json(path, args, ",".join(two), env)
    assert both["results"] == host["results"]
    share = {d["id"]: d["elements"] for d in both["devices"]}
    assert sorted(share) == sorted(two), both["devices"]
    assert all(v > 0 for v in share.values()), both["devices"]
    assert sum(share.values()) == y.size, both["devices"]
    assert "counted on" not in err and "stopped" not in err, err


@suite.test
def ordinary_and_quantile_ops_count_once(tmp):
    # the ordinary ops' pass and the quantile passes read the same
    # elements: the device's entry reads N, not N times the passes
    x = np.random.default_rng(9).normal(size=N)
    path = save(tmp, "x", x)
    r, err = run_json(path, ["--ops", "sum,median,approx_quantile,hist",
                             "--q", "0.5"], DEV)
    assert r["results"]["median"] == float(np.median(x))
    on_device(r, err, DEV, N)


@suite.test
def small_input_counts_on_host(tmp):
    x = np.arange(1000, dtype=np.float64)
    path = save(tmp, "x", x)
    r, err = run_json(path, ["--ops", "median,hist"], DEV)
    assert r["results"]["median"] == 499.5
    assert "small-input threshold" in err, err
    assert [is_host(d) for d in r["devices"]] == [True], r["devices"]


@suite.test
def failing_device_hands_over(tmp):
    # test builds only: EDGEGRID_CL_FAULT=run fails the device's counts
    x = np.random.default_rng(7).normal(size=N)
    path = save(tmp, "x", x)
    env = cu.env(EDGEGRID_CL_FAULT="run")
    r, err = run_json(path, ["--ops", "median,hist", "--range", "-1,1"],
                      DEV, env)
    if "stopped counting" not in err:
        print("   (no fault injection in this build)")
        return
    assert r["results"]["median"] == float(np.median(x))
    c, _, _, _ = hist_ref(x, 10, (-1.0, 1.0))
    assert r["results"]["hist"]["counts"] == c
    host = [d for d in r["devices"] if is_host(d)]
    assert host and host[0]["elements"] > 0, r["devices"]


if __name__ == "__main__":
    cu.binary()
    found = pocl_devices()
    if not found:
        print("no POCL device: skipped")
        sys.exit(77)
    DEV = found[0]
    suite.main()
