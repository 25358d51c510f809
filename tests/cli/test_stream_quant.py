"""edgegrid stream with approx_quantile and hist: every window's sketch
answer within --rel-err of the element numpy.quantile(method="lower")
picks, and every window's histogram identical to numpy.histogram over the
same records (below, above and NaN counted apart), per channel and key;
and the usage errors of these ops in a stream."""

import json
import signal

import numpy as np

import cliutil as cu
import streamutil as su

suite = cu.Suite()


def stream(args, data, timeout=60):
    p = cu.run(["stream", "--from", "-"] + args, stdin=data, timeout=timeout)
    err = p.stderr.decode()
    if p.returncode != 0:
        raise AssertionError("stream %s: exit %d: %s" % (args, p.returncode,
                                                          err))
    return [json.loads(l) for l in p.stdout.decode().splitlines()
            if l.strip()]


def check_approx(got, col, qs, rel, what, nan_omit=False):
    col = np.asarray(col, dtype=np.float64)
    if np.isnan(col).any():
        if not nan_omit:
            assert all(g == "nan" for g in got), (what, got)
            return
        col = col[~np.isnan(col)]
    assert len(got) == len(qs), (what, got)
    for g, q in zip(got, qs):
        want = float(np.quantile(col, q, method="lower"))
        assert isinstance(g, float), (what, q, g)
        assert abs(g - want) <= rel * abs(want), (what, q, g, want)


def check_hist(got, col, bins, lo, hi, what):
    col = np.asarray(col)
    fin = col[~np.isnan(col)]
    counts, edges = np.histogram(fin, bins=bins, range=(lo, hi))
    assert got["counts"] == counts.tolist(), (what, got["counts"], counts)
    assert got["edges"] == [float(e) for e in edges], (what, got["edges"])
    assert got["below"] == int((fin < lo).sum()), (what, got)
    assert got["above"] == int((fin > hi).sum()), (what, got)
    assert got["nan"] == int(np.isnan(col).sum()), (what, got)


@suite.test
def count_windows_two_channels_f64(tmp):
    """Heavy-tailed, negative, zero and out-of-range values, values on the
    edges; windows both shorter and longer than one 4096-element lane."""
    rng = np.random.default_rng(17)
    n = 25000
    a = rng.lognormal(0, 3, size=n)
    b = rng.normal(0, 4, size=n)
    b[::97] = 0.0
    b[5::101] = np.round(b[5::101])  # on the edges of [-8, 8] / 16 bins
    a[3::211] = 100.0                # the closed last edge
    x = np.stack([a, b], axis=1)
    qs = [0, 0.01, 0.5, 0.9, 0.99, 1]
    for win in (1000, 9000):
        for rel in (0.01, 0.05):
            got = stream(["--format", "raw", "--dtype", "f64", "--channels",
                          "2", "--window", str(win), "--ops",
                          "count,approx_quantile,hist", "--q",
                          ",".join(map(str, qs)), "--rel-err", str(rel),
                          "--bins", "16", "--range", "-8,100"], x.tobytes())
            assert len(got) == -(-n // win), len(got)
            for i, line in enumerate(got):
                sel = x[i * win:(i + 1) * win]
                res = line["results"]
                assert res["count"] == [len(sel)] * 2
                assert len(res["approx_quantile"]) == 2
                assert len(res["hist"]) == 2
                for c in range(2):
                    w = "win %d rel %g #%d ch%d" % (win, rel, i, c)
                    check_approx(res["approx_quantile"][c], sel[:, c], qs,
                                 rel, w)
                    check_hist(res["hist"][c], sel[:, c], 16, -8, 100, w)


@suite.test
def f32_one_channel_whole_lanes(tmp):
    """f32 records in windows of many lanes (folded straight from the
    input): numpy's float32 bin arithmetic, counts exact."""
    rng = np.random.default_rng(18)
    x = rng.uniform(-1, 1, size=50000).astype(np.float32)
    x[::13] = np.float32(0.25)  # on an edge of 8 bins over [-1, 1]
    got = stream(["--format", "raw", "--dtype", "f32", "--window", "16384",
                  "--ops", "approx_quantile,hist", "--q", "0.25,0.5,0.75",
                  "--bins", "8", "--range", "-1,1"], x.tobytes())
    assert len(got) == 4
    for i, line in enumerate(got):
        sel = x[i * 16384:(i + 1) * 16384]
        res = line["results"]
        assert "count" not in res
        check_approx(res["approx_quantile"][0], sel, [0.25, 0.5, 0.75], 0.01,
                     "f32 #%d" % i)
        check_hist(res["hist"][0], sel, 8, -1, 1, "f32 #%d" % i)


@suite.test
def keys(tmp):
    """JSON records keyed by a field: each key's windows on their own."""
    rng = np.random.default_rng(19)
    n = 3000
    keys = rng.choice(["k1", "k2", "k3"], size=n)
    v = rng.exponential(5, size=n)
    msgs = "".join('{"id": "%s", "v": %r}\n' % (k, float(a))
                   for k, a in zip(keys, v))
    got = stream(["--format", "json", "--fields", "v", "--key", "field:id",
                  "--window", "200", "--ops", "approx_quantile,hist", "--q",
                  "0.1,0.5,0.95", "--bins", "5", "--range", "0,20"],
                 msgs.encode())
    seen = {}
    for line in got:
        k = line["key"]
        i = seen.get(k, 0)
        seen[k] = i + 1
        sel = v[keys == k][i * 200:(i + 1) * 200]
        assert line["count"] == len(sel)
        w = "%s #%d" % (k, i)
        res = line["results"]
        check_approx(res["approx_quantile"][0], sel, [0.1, 0.5, 0.95], 0.01,
                     w)
        check_hist(res["hist"][0], sel, 5, 0, 20, w)
    assert seen == {k: -(-int((keys == k).sum()) // 200)
                    for k in ("k1", "k2", "k3")}, seen


@suite.test
def nan_policies(tmp):
    """A NaN gives NaN under propagate and is left out under omit; the
    histogram counts it apart either way; other windows are untouched."""
    rng = np.random.default_rng(20)
    x = rng.normal(0, 1, size=(900, 2))
    x[10, 0] = np.nan
    x[450, 1] = np.nan
    x[451, 1] = np.nan
    data = "".join("%r,%r\n" % (float(a), float(b)) for a, b in x)
    for nan in ("propagate", "omit"):
        got = stream(["--window", "300", "--nan", nan, "--ops",
                      "approx_quantile,hist", "--q", "0,0.5,1", "--bins", "7",
                      "--range", "-2,2"], data.encode())
        assert len(got) == 3
        for i, line in enumerate(got):
            sel = x[i * 300:(i + 1) * 300]
            res = line["results"]
            for c in range(2):
                w = "%s #%d ch%d" % (nan, i, c)
                check_approx(res["approx_quantile"][c], sel[:, c],
                             [0, 0.5, 1], 0.01, w, nan_omit=(nan == "omit"))
                check_hist(res["hist"][c], sel[:, c], 7, -2, 2, w)
        assert got[0]["results"]["hist"][0]["nan"] == 1
        assert got[1]["results"]["hist"][1]["nan"] == 2


QARGS = ["--ops", "count,approx_quantile,hist", "--q", "0,0.25,0.5,0.99,1",
         "--rel-err", "0.02", "--bins", "12", "--range", "-3,40"]


@suite.test
def three_boxes_and_collector(tmp):
    """Three boxes push their windows' sketches and histograms; the
    collector's merged lines equal one box's lines over all the records
    (the same counts, so the same answers to the bit) and numpy's."""
    rng = np.random.default_rng(21)
    port = su.free_port()
    names = ["q1", "q2", "q3"]
    data = {}
    with su.Procs() as ps:
        col = ps.collector(port, "--expect", ",".join(names),
                           "--wait", "5s")
        boxes = []
        for n in names:
            p = ps.start(["stream", "--from", "-", "--time", "event",
                          "--window", "5s", "--channels", "2"] + QARGS +
                         ["--push", "tcp://127.0.0.1:%d" % port, "--name", n])
            t = np.sort(rng.uniform(1000, 1020, size=3000))
            a = rng.lognormal(1, 1.5, size=3000)
            b = rng.normal(5, 10, size=3000)
            data[n] = (t, a, b)
            p.write("".join("%r,%r,%r\n" % (float(x), float(y), float(z))
                            for x, y, z in zip(t, a, b)))
            p.close_stdin()
            boxes.append(p)
        for p in boxes:
            assert p.finish() == 0
        col.wait_for(lambda w: len(w) == 4, 20, "four windows")
        col.finish(sig=signal.SIGTERM)
        lines = col.windows()
    t = np.concatenate([data[n][0] for n in names])
    a = np.concatenate([data[n][1] for n in names])
    b = np.concatenate([data[n][2] for n in names])
    order = np.argsort(t, kind="stable")
    one = "".join("%r,%r,%r\n" % (float(t[i]), float(a[i]), float(b[i]))
                  for i in order)
    ref = {tuple(l["window"]): l for l in
           stream(["--time", "event", "--window", "5s", "--channels", "2"] +
                  QARGS, one.encode())}
    assert len(lines) == 4 and len(ref) == 4
    qs = [0, 0.25, 0.5, 0.99, 1]
    for line in lines:
        s_, e_ = line["window"]
        assert line["boxes"] == names and "missing" not in line, line
        r = ref[(s_, e_)]
        assert line["count"] == r["count"]
        assert line["results"]["approx_quantile"] == \
            r["results"]["approx_quantile"], (line, r)
        assert line["results"]["hist"] == r["results"]["hist"], (line, r)
        sel = (t >= s_) & (t < e_)
        for c, col_ in enumerate((a[sel], b[sel])):
            w = "window %g ch%d" % (s_, c)
            check_approx(line["results"]["approx_quantile"][c], col_, qs,
                         0.02, w)
            check_hist(line["results"]["hist"][c], col_, 12, -3, 40, w)


USAGE = [
    (["--ops", "hist"], "--range"),
    (["--ops", "hist", "--bins", "4"], "--range"),
    (["--ops", "median"], "approx_quantile"),
    (["--ops", "sum,quantile", "--q", "0.5"], "approx_quantile"),
    (["--ops", "approx_quantile"], "--q"),
    (["--ops", "sum", "--q", "0.5"], "--q"),
    (["--ops", "approx_quantile", "--q", "1.5"], "--q"),
    (["--ops", "approx_quantile", "--q", "0.5", "--rel-err", "0.6"],
     "--rel-err"),
    (["--ops", "hist", "--bins", "0", "--range", "0,1"], "--bins"),
    (["--ops", "hist", "--range", "1,0"], "--range"),
    (["--ops", "hist", "--range", "0,inf"], "--range"),
    (["--ops", "sum", "--range", "0,1"], "--range"),
]


@suite.test
def usage_errors(tmp):
    for args, needle in USAGE:
        cu.expect_fail(["stream", "--from", "-", "--window", "10"] + args, 2,
                       contains=needle)


if __name__ == "__main__":
    suite.main()
