"""edgegrid collect --state-dir: a collector SIGKILLed at several moments
and restarted on the same directory neither prints a window again nor
loses one.  Moments: once a printed window is recorded but before its acks
went out (--die-after-record, a test build's fault injection), while a
window waits for its second box, and after lines and acks went out.  Every
window's line appears exactly once over all the collector's runs, its
count and sum numpy's over what the boxes were fed.  Needs
EDGEGRID_TEST_HOOKS."""

import os
import signal
import time

import numpy as np

import cliutil as cu
import streamutil as su

suite = cu.Suite()

WIN = 5  # seconds of event time per window
NAMES = ["b1", "b2"]


class Run:
    """Two boxes on stdin, event time, pushing to a collector on `port`."""

    def __init__(self, ps, port):
        self.ps = ps
        self.port = port
        self.rng = np.random.default_rng(23)
        self.fed = {n: [] for n in NAMES}  # (t, v)
        self.boxes = {n: ps.start(
            ["stream", "--from", "-", "--time", "event", "--window",
             "%ds" % WIN, "--ops", "count,sum", "--push",
             "tcp://127.0.0.1:%d" % port, "--name", n, "--drain", "20s"])
            for n in NAMES}

    def feed(self, name, ts):
        vals = self.rng.integers(1, 10 ** 9, len(ts)).astype(np.float64)
        self.fed[name] += list(zip(ts, vals))
        self.boxes[name].write("".join("%d,%d\n" % (1000 + t, v)
                                       for t, v in zip(ts, vals)))

    def feed_all(self, ts):
        for n in NAMES:
            self.feed(n, ts)

    def finish(self):
        for p in self.boxes.values():
            p.close_stdin()
        for p in self.boxes.values():
            assert p.finish(timeout=40) == 0
            t = p.totals()
            assert t["unsent"] == 0 and t["acked"] == t["pushed"], t

    def check(self, lines, windows):
        """Each window of `windows` printed once, all boxes, numpy's sums."""
        starts = sorted(l["window"][0] for l in lines)
        assert starts == sorted(set(starts)), "a window printed twice: %r" % (
            starts,)
        assert starts == [1000 + WIN * k for k in windows], starts
        for l in lines:
            s = l["window"][0]
            assert l["boxes"] == NAMES and "missing" not in l, l
            v = np.array([x for n in NAMES for t, x in self.fed[n]
                          if s <= 1000 + t < s + WIN])
            assert l["count"] == len(v), (l, len(v))
            cu.same(l["results"]["sum"][0], float(v.sum()), "window %d" % s)


def collector(ps, port, state, *extra):
    return ps.collector(port, "--expect", ",".join(NAMES), "--wait", "30s",
                        "--state-dir", state, *extra)


@suite.test
def killed_after_recording_before_acks(tmp):
    port = su.free_port()
    state = os.path.join(tmp, "state")
    with su.Procs() as ps:
        col = collector(ps, port, state, "--die-after-record", "2")
        run = Run(ps, port)
        run.feed_all(range(0, 12))  # closes [1000,1005) and [1005,1010)
        assert col.p.wait(timeout=20) == -signal.SIGKILL
        first = col.windows()
        # the second window was printed and recorded; its acks never left
        assert [l["window"][0] for l in first] == [1000, 1005], first
        run.feed_all(range(12, 30))
        col2 = collector(ps, port, state)
        col2.wait_err("2 printed ids recovered", 10)
        run.finish()
        col2.finish(sig=signal.SIGTERM)
        second = col2.windows()
        tot = col2.totals()
    run.check(first + second, range(0, 6))
    # both boxes sent [1005,1010) again: known, acknowledged, not printed
    assert tot["after"] >= 2 and tot["recovered"] == 2, tot


@suite.test
def killed_while_a_window_waits(tmp):
    port = su.free_port()
    state = os.path.join(tmp, "state")
    with su.Procs() as ps:
        col = collector(ps, port, state)
        run = Run(ps, port)
        run.feed_all(range(0, 6))  # [1000,1005) from both
        col.wait_for(lambda w: len(w) == 1, 10, "the first window")
        time.sleep(0.5)  # its acks go out
        run.feed("b1", list(range(6, 11)))  # b1 closes [1005,1010)
        time.sleep(0.5)  # b1's state is held, waiting for b2
        col.kill()
        first = col.windows()
        col2 = collector(ps, port, state)
        run.feed("b2", list(range(6, 11)))
        run.feed_all(range(11, 16))
        col2.wait_for(lambda w: len(w) >= 2, 20, "after the restart")
        time.sleep(0.5)
        # a third collector on the same state: lines and acks went out,
        # so nothing comes again
        col2.kill()
        second = col2.windows()
        col3 = collector(ps, port, state)
        run.finish()
        col3.finish(sig=signal.SIGTERM)
        third = col3.windows()
    run.check(first + second + third, range(0, 4))


@suite.test
def state_dir_not_a_journal(tmp):
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    with open(os.path.join(state, "printed.log"), "w") as f:
        f.write("not a journal\n")
    r = cu.run(["collect", "--bind", "tcp://127.0.0.1:%d" % su.free_port(),
                "--boxes", "1", "--state-dir", state])
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 2, (r.returncode, err)
    assert "printed.log" in err and "journal" in err, err


if __name__ == "__main__":
    suite.main()
