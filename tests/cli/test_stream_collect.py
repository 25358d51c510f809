"""edgegrid stream --push and edgegrid collect on 127.0.0.1: three boxes
and a collector with one box SIGKILLed and restarted mid-stream (every
window has all boxes or names the missing one, nothing counted twice, a
replayed window dropped and counted), count windows of a box SIGKILLed
and restarted (its new windows counted once, not dropped as copies), a
collector killed and restarted (the
boxes send again what it never printed), a stalled collector (the boxes
count what they could not send), and CURVE with the allow-list."""

import os
import signal
import time

import cliutil as cu
import streamutil as su

suite = cu.Suite()

WIN = 5  # seconds of event time per window


def box(ps, port, name, *extra):
    return ps.start(["stream", "--from", "-", "--time", "event", "--window",
                     "%ds" % WIN, "--ops", "count,sum,min,max", "--push",
                     "tcp://127.0.0.1:%d" % port, "--name", name] +
                    list(extra))


def value(b, t):
    """A value unique to (box, time): sums tell which records went in."""
    return b * 1000000 + t


def feed(p, b, ts):
    p.write("".join("%d,%d\n" % (1000 + t, value(b, t)) for t in ts))


def expected(fed, names):
    """{window start: {box: (count, sum)}} of what each box was fed."""
    out = {}
    for (bi, name), ts in zip(enumerate(names), fed):
        for t in ts:
            s = 1000 + (t // WIN) * WIN
            c, v = out.setdefault(s, {}).get(name, (0, 0))
            out[s][name] = (c + 1, v + value(bi, t))
    return out


def check_line(line, names, exp):
    s = line["window"][0]
    boxes = line["boxes"]
    missing = line.get("missing", [])
    assert sorted(boxes + missing) == sorted(names), line
    want_c = sum(exp[s][b][0] for b in boxes)
    want_v = sum(exp[s][b][1] for b in boxes)
    assert line["count"] == want_c, (line, want_c)
    assert line["results"]["sum"][0] == want_v, (line, want_v)


@suite.test
def three_boxes_one_killed(tmp):
    port = su.free_port()
    names = ["b1", "b2", "b3"]
    with su.Procs() as ps:
        col = ps.collector(port, "--expect", ",".join(names),
                           "--wait", "1500ms")
        boxes = [box(ps, port, n) for n in names]
        fed = [[], [], []]
        for t in range(0, 20):
            for i, p in enumerate(boxes):
                feed(p, i, [t])
                fed[i].append(t)
        # windows up to [1010,1015) closed everywhere
        col.wait_for(lambda w: len(w) >= 3, 10, "first windows")
        boxes[1].kill()  # b2 holds [1015,1020) in memory: lost with it
        for t in range(20, 30):
            for i in (0, 2):
                feed(boxes[i], i, [t])
                fed[i].append(t)
        # b2 comes back under its name and replays an old window, which the
        # collector already printed: dropped and counted, not printed again
        b2 = box(ps, port, "b2")
        feed(b2, 1, range(5, 10))
        for t in range(30, 45):
            for i, p in enumerate((boxes[0], b2, boxes[2])):
                feed(p, i, [t])
                fed[i].append(t)
        for p in (boxes[0], b2, boxes[2]):
            p.close_stdin()
        for p in (boxes[0], b2, boxes[2]):
            assert p.finish(timeout=20) == 0
        # the replayed window went in: b2 was fed it twice
        fed[1] += list(range(5, 10))
        col.finish(sig=signal.SIGTERM)
        lines = col.windows()
        tot = col.totals()
    starts = [l["window"][0] for l in lines]
    assert len(starts) == len(set(starts)), "a window printed twice"
    assert sorted(starts) == list(range(1000, 1045, WIN)), starts
    exp = expected(fed, names)
    # b2's replay of [1005,1010) must not count: its own first state holds
    exp[1005]["b2"] = (5, sum(value(1, t) for t in range(5, 10)))
    for l in lines:
        check_line(l, names, exp)
    by = {l["window"][0]: l for l in lines}
    for s in (1000, 1005, 1010, 1030, 1035, 1040):
        assert by[s]["boxes"] == names, by[s]
    for s in (1015, 1020, 1025):
        assert by[s]["missing"] == ["b2"], by[s]
    assert tot["after"] >= 1, tot


@suite.test
def count_windows_box_restarted(tmp):
    """Count windows are numbered from a box's start: after b1 is SIGKILLed
    and restarted, its windows [0, 100) ... come again with new records.
    Every record reaches the collector exactly once: the lines' counts and
    sums (of values unique to each record) are numpy's over what was fed."""
    import numpy as np
    N = 100
    port = su.free_port()
    rng = np.random.default_rng(17)
    # integer values: sums are exact, and unique per record
    vals = rng.permutation(10 ** 6)[:1050].astype(np.float64) + 1
    b1a, b2v, b1b = vals[:300], vals[300:800], vals[800:1050]

    def start(ps, name):
        return ps.start(["stream", "--from", "-", "--window", str(N),
                         "--ops", "count,sum,max", "--push",
                         "tcp://127.0.0.1:%d" % port, "--name", name])

    def feed(p, v):
        p.write("".join("%d\n" % x for x in v))

    with su.Procs() as ps:
        col = ps.collector(port, "--expect", "b1,b2", "--wait", "1s")
        b1, b2 = start(ps, "b1"), start(ps, "b2")
        feed(b1, b1a)
        feed(b2, b2v[:300])
        col.wait_for(lambda w: len(w) >= 3, 10, "three windows of both")
        b1.kill()  # its three windows are printed; nothing open
        b1 = start(ps, "b1")
        feed(b1, b1b)  # [0,100) [100,200) again, [200,250) at the end
        feed(b2, b2v[300:])
        b1.close_stdin()
        b2.close_stdin()
        assert b1.finish() == 0 and b2.finish() == 0
        for p in (b1, b2):
            t = p.totals()
            assert t["unsent"] == 0 and t["acked"] == t["pushed"], t
            assert len(t["epoch"]) == 16 and int(t["epoch"], 16) != 0, t
        assert b1.totals()["epoch"] != b2.totals()["epoch"]
        col.finish(sig=signal.SIGTERM)
        lines = col.windows()
        tot = col.totals()

    def w(start, parts):
        return (start, sum(len(p) for p in parts),
                float(sum(p.sum() for p in parts)),
                float(max(p.max() for p in parts)))

    want = [w(0, [b1a[0:100], b2v[0:100]]), w(100, [b1a[100:200],
            b2v[100:200]]), w(200, [b1a[200:300], b2v[200:300]]),
            w(0, [b1b[0:100]]), w(100, [b1b[100:200]]),
            w(200, [b1b[200:250]]), w(300, [b2v[300:400]]),
            w(400, [b2v[400:500]])]
    got = [(l["window"][0], l["count"], l["results"]["sum"][0],
            l["results"]["max"][0]) for l in lines]
    assert sorted(got) == sorted(want), (sorted(got), sorted(want))
    assert sum(l["count"] for l in lines) == len(vals)
    cu.same(math_fsum([l["results"]["sum"][0] for l in lines]),
            float(vals.sum()), "all records once")
    assert tot["duplicates"] == 0 and tot["old"] == 0, tot


def math_fsum(xs):
    import math
    return math.fsum(xs)


@suite.test
def exact_mode_across_boxes(tmp):
    """Exact mode through the collector: each merged window's sum is the
    correctly rounded sum of every box's records of that window."""
    import math
    import numpy as np
    rng = np.random.default_rng(9)
    port = su.free_port()
    names = ["e1", "e2", "e3"]
    data = {}
    with su.Procs() as ps:
        col = ps.collector(port, "--expect", ",".join(names),
                           "--wait", "5s")
        boxes = []
        for i, n in enumerate(names):
            p = ps.start(["stream", "--from", "-", "--time", "event",
                          "--window", "%ds" % WIN, "--mode", "exact",
                          "--ops", "count,sum,mean", "--push",
                          "tcp://127.0.0.1:%d" % port, "--name", n])
            t = np.sort(rng.uniform(1000, 1020, size=2000))
            v = rng.normal(size=2000) * 10.0 ** rng.integers(-6, 12, 2000)
            data[n] = (t, v)
            p.write("".join("%r,%r\n" % (float(a), float(b))
                            for a, b in zip(t, v)))
            p.close_stdin()
            boxes.append(p)
        for p in boxes:
            assert p.finish() == 0
        col.wait_for(lambda w: len(w) == 4, 10, "four windows")
        col.finish(sig=signal.SIGTERM)
        lines = col.windows()
    for line in lines:
        s, e = line["window"]
        vals = []
        for n in names:
            t, v = data[n]
            vals += v[(t >= s) & (t < e)].tolist()
        assert line["boxes"] == names and line["count"] == len(vals)
        cu.same(line["results"]["sum"][0], math.fsum(vals), "window %g" % s)


@suite.test
def collector_restart(tmp):
    port = su.free_port()
    names = ["b1", "b2"]
    bind = ["collect", "--bind", "tcp://127.0.0.1:%d" % port, "--expect",
            "b1,b2", "--wait", "20s"]
    with su.Procs() as ps:
        col = ps.start(bind, stdin=False)
        col.wait_err("listening", 10)
        boxes = [box(ps, port, n, "--drain", "15s") for n in names]
        fed = [[], []]
        for t in range(0, 12):
            for i, p in enumerate(boxes):
                feed(p, i, [t])
                fed[i].append(t)
        col.wait_for(lambda w: len(w) >= 2, 10, "before the restart")
        # let its acknowledgements get out: a collector killed between a
        # line and its acks prints that window again when the boxes resend
        time.sleep(0.5)
        first = col.windows()
        col.kill()
        # while it is away, windows close and their states wait
        for t in range(12, 30):
            for i, p in enumerate(boxes):
                feed(p, i, [t])
                fed[i].append(t)
        time.sleep(0.5)
        col2 = ps.start(bind, stdin=False)
        col2.wait_err("listening", 10)
        for p in boxes:
            p.close_stdin()
        col2.wait_for(lambda w: max([l["window"][0] for l in w] + [0]) ==
                      1025, 20, "after the restart")
        for p in boxes:
            assert p.finish(timeout=30) == 0
            t = p.totals()
            assert t["unsent"] == 0 and t["acked"] == t["pushed"], t
        col2.finish(sig=signal.SIGTERM)
        second = col2.windows()
    exp = expected(fed, names)
    for l in second:
        assert l["boxes"] == names and "missing" not in l, l
        check_line(l, names, exp)
    got = {l["window"][0] for l in first} | {l["window"][0] for l in second}
    assert got == set(range(1000, 1030, WIN)), sorted(got)
    assert len({l["window"][0] for l in second}) == len(second)


@suite.test
def stalled_collector_counts_unsent(tmp):
    port = su.free_port()
    with su.Procs() as ps:
        col = ps.collector(port, "--boxes", "1", "--wait", "1s")
        col.p.send_signal(signal.SIGSTOP)
        p = box(ps, port, "b1", "--outbox", "3", "--drain", "6s")
        feed(p, 0, range(0, 50))  # 10 windows
        p.close_stdin()
        time.sleep(1.0)
        col.p.send_signal(signal.SIGCONT)
        assert p.finish(timeout=20) == 0
        t = p.totals()
        col.finish(sig=signal.SIGTERM)
        printed = col.windows()
    assert t["windows"] == 10, t
    assert t["unsent"] == 7 and t["pushed"] == 3, t
    assert t["acked"] + t["unsent"] == 10, t
    assert len(printed) == 3, printed
    assert any("counted unsent" in l for l in p.err), p.err


@suite.test
def curve_allow_list(tmp):
    keys = os.path.join(tmp, "keys")
    allow = os.path.join(tmp, "allow")
    os.mkdir(keys)
    os.mkdir(allow)
    for n in ("collector", "b1", "intruder"):
        cu.ok(["keygen", "-o", os.path.join(keys, n)])
    os.replace(os.path.join(keys, "b1.pub"), os.path.join(allow, "b1.pub"))
    port = su.free_port()
    with su.Procs() as ps:
        col = ps.collector(port, "--boxes", "1", "--wait", "1s",
                           "--curve-secret",
                           os.path.join(keys, "collector.secret"),
                           "--allow", allow)
        curve = ["--curve-secret", None, "--server-key",
                 os.path.join(keys, "collector.pub"), "--drain", "2s"]
        curve[1] = os.path.join(keys, "b1.secret")
        good = box(ps, port, "b1", *curve)
        curve[1] = os.path.join(keys, "intruder.secret")
        bad = box(ps, port, "b1", *curve)  # a stranger under b1's name
        feed(good, 0, range(0, 10))
        feed(bad, 5, range(10, 20))
        good.close_stdin()
        bad.close_stdin()
        assert good.finish() == 0 and bad.finish() == 0
        col.finish(sig=signal.SIGTERM)
        lines = col.windows()
        assert good.totals()["acked"] == 2, good.totals()
        assert bad.totals()["acked"] == 0 and bad.totals()["unsent"] == 2
    assert [l["window"][0] for l in lines] == [1000, 1005], lines
    assert any("refused" in l for l in col.err), col.err


if __name__ == "__main__":
    suite.main()
