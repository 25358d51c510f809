"""edgegrid stream: windows against numpy over the same records (count,
tumbling and hopping event time with late and out-of-order records,
processing time, an idle source), CSV/JSON/raw records with bad ones among
them, keys, exact mode, and every usage error of the issue."""

import json
import math
import signal
import time

import numpy as np

import cliutil as cu
import streamutil as su

suite = cu.Suite()


def lines_of(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def stream(args, data, timeout=60):
    p = cu.run(["stream", "--from", "-"] + args, stdin=data, timeout=timeout)
    err = p.stderr.decode()
    if p.returncode != 0:
        raise AssertionError("stream %s: exit %d: %s" % (args, p.returncode,
                                                          err))
    tot = [json.loads(l)["totals"] for l in err.splitlines()
           if l.startswith('{"totals"')]
    assert len(tot) == 1, err
    return lines_of(p.stdout.decode()), tot[0], err


def check_window(line, x, what, ops=("count", "sum", "mean", "min", "max",
                                     "std")):
    """One line's results against numpy over x (records x channels)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    res = line["results"]
    assert line["count"] == len(x), (what, line["count"], len(x))
    for c in range(x.shape[1]):
        col = x[:, c]
        w = "%s ch%d" % (what, c)
        if "count" in ops:
            assert res["count"][c] == len(col), w
        if "sum" in ops:
            cu.near_abs(res["sum"][c], cu.fsum_exact(col),
                        cu.FAST_BOUND * float(np.abs(col).sum()), w + " sum")
        if "mean" in ops:
            cu.near_rel(res["mean"][c], float(np.mean(col)), 1e-14,
                        w + " mean", 1e-300)
        if "min" in ops:
            cu.same(res["min"][c], float(col.min()), w + " min")
        if "max" in ops:
            cu.same(res["max"][c], float(col.max()), w + " max")
        if "argmin" in ops:
            assert res["argmin"][c] == int(np.argmin(col)), w
        if "argmax" in ops:
            assert res["argmax"][c] == int(np.argmax(col)), w
        if "std" in ops:
            cu.near_rel(res["std"][c], float(np.std(col)), 1e-12, w + " std",
                        1e-300)


@suite.test
def count_windows_csv(tmp):
    rng = np.random.default_rng(1)
    x = rng.normal(1e6, 3.0, size=(10500, 3))
    data = "".join(",".join(repr(float(v)) for v in r) + "\n" for r in x)
    ops = "count,sum,mean,min,max,argmin,argmax,std"
    got, tot, _ = stream(["--window", "1000", "--ops", ops], data.encode())
    assert len(got) == 11, len(got)
    for i, line in enumerate(got):
        assert line["window"] == [i * 1000, (i + 1) * 1000], line["window"]
        assert line["key"] is None and line["late"] == 0 and line["bad"] == 0
        check_window(line, x[i * 1000:(i + 1) * 1000], "window %d" % i,
                     ops.split(","))
    assert tot["records"] == 10500 and tot["windows"] == 11, tot


@suite.test
def count_windows_raw_f32(tmp):
    """Raw records of two f32 channels: records cut across reads."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-5, 5, size=(300001, 2)).astype(np.float32)
    got, tot, _ = stream(["--format", "raw", "--dtype", "f32", "--channels",
                          "2", "--window", "100000", "--ops",
                          "count,sum,min,max,argmax"], x.tobytes())
    assert [l["count"] for l in got] == [100000, 100000, 100000, 1], got
    for i, line in enumerate(got):
        check_window(line, x[i * 100000:(i + 1) * 100000].astype(np.float64),
                     "raw %d" % i, ("count", "sum", "min", "max", "argmax"))
    # a record cut off by the end of the input is bad, never half-counted
    got, tot, err = stream(["--format", "raw", "--dtype", "f32", "--window",
                            "10"], x.tobytes()[:4 * 25 + 3])
    assert tot["records"] == 25 and tot["bad"] == 1, tot
    assert "ends inside a record" in err


@suite.test
def exact_mode_sums(tmp):
    """Exact mode: each window's sum is the correctly rounded sum."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, size=5000) * 10.0 ** rng.integers(-8, 9, size=5000)
    data = "".join(repr(float(v)) + "\n" for v in x)
    got, _, _ = stream(["--window", "1000", "--mode", "exact", "--ops",
                        "sum,mean"], data.encode())
    assert len(got) == 5
    for i, line in enumerate(got):
        want = cu.fsum_exact(x[i * 1000:(i + 1) * 1000])
        cu.same(line["results"]["sum"][0], want, "exact window %d" % i)


def flink_reference(records, size, slide, lateness):
    """An independent model of Flink's rule over (t, v) records: returns
    {start: [values]} of closed windows and the late records' count per
    line, by simulating the watermark record by record."""
    wm = -math.inf
    windows, late = {}, 0
    for t, v in records:
        starts = [k * slide for k in range(math.floor((t - size) / slide) + 1,
                                           math.floor(t / slide) + 1)]
        open_ = [s for s in starts if s + size > wm]
        if not open_:
            late += 1
        for s in open_:
            windows.setdefault(s, []).append(v)
        wm = max(wm, t - lateness)
    return windows, late


@suite.test
def event_time_late_and_out_of_order(tmp):
    rng = np.random.default_rng(4)
    n = 4000
    t = np.sort(rng.uniform(1000, 1400, size=n))
    # shuffle locally (out of order within a few seconds) and add
    # stragglers far behind the watermark (late)
    t = t + rng.uniform(-3, 3, size=n)
    strag = rng.choice(n, 60, replace=False)
    t[strag] -= rng.uniform(20, 60, size=60)
    t = np.round(t, 3)
    v = rng.normal(50, 10, size=n)
    data = "".join("%r,%r\n" % (float(a), float(b)) for a, b in zip(t, v))
    got, tot, _ = stream(["--time", "event", "--window", "10s", "--lateness",
                          "2s", "--ops", "count,sum,min,max"], data.encode())
    ref, late = flink_reference(zip(t.tolist(), v.tolist()), 10, 10, 2)
    assert late > 0, "the data set must hold late records"
    assert tot["late"] == late, (tot, late)
    assert sum(l["late"] for l in got) == late
    assert sorted(l["window"][0] for l in got) == sorted(ref), \
        (len(got), len(ref))
    for line in got:
        s = line["window"][0]
        assert line["window"][1] == s + 10
        check_window(line, ref[s], "window %g" % s, ("count", "sum", "min",
                                                     "max"))
    # lines come in window order
    starts = [l["window"][0] for l in got]
    assert starts == sorted(starts)


@suite.test
def hopping_event_time(tmp):
    rng = np.random.default_rng(5)
    t = np.round(np.sort(rng.uniform(0, 60, size=3000)), 3) + 1.7e9
    v = rng.integers(-1000, 1000, size=3000).astype(np.float64)
    data = "".join("%r,%r\n" % (float(a), float(b)) for a, b in zip(t, v))
    got, tot, _ = stream(["--time", "event", "--window", "10s", "--slide",
                          "2s", "--ops", "count,sum,mean,min,max,std"],
                         data.encode())
    starts = sorted(l["window"][0] for l in got)
    assert len(starts) == len(set(starts))
    lo = math.floor((t[0] - 10) / 2) * 2 + 2
    assert starts[0] == lo and starts[-1] == math.floor(t[-1] / 2) * 2, \
        (starts[:2], starts[-2:])
    for line in got:
        s, e = line["window"]
        assert e - s == 10
        sel = v[(t >= s) & (t < e)]
        check_window(line, sel, "hop %g" % s)
    assert tot["late"] == 0 and tot["records"] == 3000


@suite.test
def processing_time_closes_while_open(tmp):
    """Processing-time windows close by the clock, the input still open."""
    with su.Procs() as ps:
        p = ps.start(["stream", "--from", "-", "--window", "500ms", "--ops",
                      "count,sum"])
        p.write("".join("%d\n" % i for i in range(1, 101)))
        w = p.wait_for(lambda w: sum(l["count"] for l in w) == 100, 5,
                       "first batch")
        p.write("".join("%d\n" % i for i in range(101, 151)))
        w = p.wait_for(lambda w: sum(l["count"] for l in w) == 150, 5,
                       "second batch")
        assert sum(l["results"]["sum"][0] for l in w) == 150 * 151 / 2
        for l in w:
            s, e = l["window"]
            assert abs(e - s - 0.5) < 1e-9 and abs(s * 2 - round(s * 2)) < 1e-9
            assert abs(time.time() - e) < 10
        assert p.finish() == 0


@suite.test
def idle_source_closes_event_windows(tmp):
    """A silent source still closes its event-time windows."""
    with su.Procs() as ps:
        p = ps.start(["stream", "--from", "-", "--time", "event", "--window",
                      "1s", "--ops", "count,sum"])
        p.write("".join("%r,%d\n" % (100 + i / 10, i) for i in range(25)))
        # [100,101) and [101,102) close by the watermark; [102,103) only by
        # the source going quiet
        w = p.wait_for(lambda w: len(w) == 3, 8, "idle close")
        assert [l["count"] for l in w] == [10, 10, 5]
        assert w[2]["results"]["sum"][0] == sum(range(20, 25))
        assert p.finish() == 0


@suite.test
def json_with_bad_records_and_keys(tmp):
    rng = np.random.default_rng(6)
    good, bad_lines, lines = [], 0, []
    for i in range(900):
        k = "s%d" % rng.integers(0, 3)
        a, b = float(rng.normal()), float(rng.normal())
        lines.append(json.dumps({"ts": 1700000000000 + i * 10, "id": k,
                                 "a": a, "b": b, "x": {"nested": [1, 2]}}))
        good.append((1700000000.0 + i / 100, k, a, b))
        if i % 97 == 0:
            for bad in ['{"ts": 1, "id": "s0", "a": 1}',        # b missing
                        '{"ts": 1, "id": "s0", "a": "1", "b": 2}',
                        '{"ts": 1, "id": "s0", "a": 1, "a": 1, "b": 2}',
                        '{"ts": 1, "a": 1, "b": 2}',            # no key
                        '{"ts": 1, "id": "s0", "a": 1, "b": 2',  # cut
                        'garbage']:
                lines.append(bad)
                bad_lines += 1
    data = ("\n".join(lines) + "\n").encode()
    got, tot, err = stream(["--format", "json", "--fields", "a,b", "--time",
                            "event", "--time-field", "ts", "--window", "2s",
                            "--key", "field:id", "--ops",
                            "count,sum,min,max"], data)
    assert tot["bad"] == bad_lines and tot["late"] == 0, (tot, bad_lines)
    assert sum(l["bad"] for l in got) == bad_lines
    assert tot["records"] == len(good)
    assert len([l for l in err.splitlines() if "bad record" in l]) == 5
    for line in got:
        s, e = line["window"]
        sel = [(a, b) for t, k, a, b in good
               if k == line["key"] and s <= t < e]
        check_window(line, sel, "key %s %g" % (line["key"], s),
                     ("count", "sum", "min", "max"))
    assert {l["key"] for l in got} == {"s0", "s1", "s2"}


@suite.test
def csv_bad_records(tmp):
    data = b"1,2\n3,4\nx,1\n5\n\n6,7,8\n9,10\r\n1e400,1\n"
    got, tot, _ = stream(["--window", "100", "--ops", "count,sum,max"], data)
    # "x,1", "5" and "6,7,8" are bad; the blank line is no record; 1e400 is
    # inf, a number
    assert tot["bad"] == 3 and tot["records"] == 4, tot
    assert got[0]["results"]["sum"] == ["inf", 17.0], got
    assert got[0]["results"]["max"] == ["inf", 10.0], got
    assert got[0]["bad"] == 3


@suite.test
def zmq_pull_raw_records(tmp):
    """zmq+tcp:// source: producers PUSH messages of whole raw records; a
    message that is not whole records is one bad record."""
    import zmq
    port = su.free_port()
    rng = np.random.default_rng(8)
    x = rng.normal(size=(20000, 4))
    with su.Procs() as ps:
        p = ps.start(["stream", "--from", "zmq+tcp://127.0.0.1:%d" % port,
                      "--format", "raw", "--channels", "4", "--window",
                      "5000", "--ops", "count,sum,min,max"], stdin=False)
        ctx = zmq.Context()
        try:
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.LINGER, 2000)
            push.connect("tcp://127.0.0.1:%d" % port)
            for i in range(0, 20000, 500):
                push.send(x[i:i + 500].tobytes())
            push.send(b"\0" * 33)
            w = p.wait_for(lambda w: len(w) == 4, 15, "four windows")
            push.close()
        finally:
            ctx.term()
        assert p.finish(sig=signal.SIGTERM) == 0
        tot = p.totals()
    assert tot["bad"] == 1 and tot["records"] == 20000, tot
    for i, line in enumerate(w):
        check_window(line, x[i * 5000:(i + 1) * 5000], "zmq %d" % i,
                     ("count", "sum", "min", "max"))


USAGE = [
    (["--from", "-"], "--window"),
    (["--from", "-", "--window", "10s", "--format", "xml"], "--format"),
    (["--from", "-", "--window", "10s", "--slide", "20s"], "--slide"),
    (["--from", "-", "--window", "10s", "--format", "json", "--fields", "a",
      "--time", "event"], "--time-field"),
    (["--from", "-", "--window", "10s", "--push", "tcp://192.0.2.1:5000",
      "--name", "b"], "--insecure"),
    (["--from", "-", "--window", "soon"], "--window"),
    (["--from", "ftp://x", "--window", "1s"], "--from"),
    (["--from", "-", "--window", "1s", "--key", "topic:2"], "mqtt"),
    (["--from", "-", "--window", "1s", "--push", "tcp://127.0.0.1:5000"],
     "--name"),
    (["--from", "-", "--window", "1s", "--ops", "dot"], "dot"),
]


@suite.test
def usage_errors(tmp):
    for args, needle in USAGE:
        cu.expect_fail(["stream"] + args, 2, contains=needle)
    cu.expect_fail(["collect", "--bind", "tcp://127.0.0.1:0"], 2,
                   contains="--expect")
    cu.expect_fail(["collect", "--bind", "tcp://192.0.2.1:5000", "--boxes",
                    "2"], 2, contains="--insecure")


if __name__ == "__main__":
    suite.main()
