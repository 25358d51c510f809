"""gridutil - running real grids on 127.0.0.1 for the test_grid*.py tests.

A Grid starts one `edgegrid coordinator` (on ports it picks itself: the
endpoints are read from its --verbose start line, so no two tests race for a
port) and any number of `edgegrid worker` processes, lets a test kill,
restart and stop them, and in close() kills whatever is still running.
Every wait has a deadline; nothing here can hang a test run.
"""

import json
import os
import random
import signal
import subprocess
import threading
import time

import cliutil as cu

WORKER_DEVICES = "host"  # no POCL compile time in the tests


class Proc:
    """A child process whose stderr is collected by a thread."""

    def __init__(self, argv, env, stdout=subprocess.DEVNULL):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=stdout, stderr=subprocess.PIPE,
                                  env=env)
        self.lines = []
        self.cond = threading.Condition()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, needle, timeout):
        """The first stderr line containing needle, or AssertionError."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if needle in line:
                        return line
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None
                                 and not self.t.is_alive()):
                    raise AssertionError("no %r on stderr of %s within %g s:"
                                         " %r" % (needle, self.argv[1],
                                                  timeout, self.lines[-20:]))
                self.cond.wait(min(left, 0.1))

    def stderr(self):
        with self.cond:
            return "\n".join(self.lines)

    def alive(self):
        return self.p.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s still running after %g s" % (
                " ".join(self.argv[1:3]), timeout))
        self.t.join(timeout=5)
        return rc


class Grid:
    """One coordinator and its workers.  Use as a context manager."""

    def __init__(self, tmp, coord_args, environ=None):
        self.tmp = tmp
        self.env = environ if environ is not None else cu.env()
        self.workers = {}
        self.out_path = os.path.join(tmp, "coordinator.out")
        self.out = open(self.out_path, "wb")
        argv = [cu.binary(), "coordinator", "--tasks", "tcp://127.0.0.1:*",
                "--results", "tcp://127.0.0.1:*", "--verbose"]
        argv += [str(a) for a in coord_args]
        self.coord = Proc(argv, self.env, stdout=self.out)
        line = self.coord.wait_line("workers connect to", 30)
        words = line.split()
        self.tasks = words[words.index("--tasks") + 1]
        self.results = words[words.index("--results") + 1]
        self.started = time.monotonic()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def worker(self, name, *extra, devices=WORKER_DEVICES, wait=False):
        """Starts (or restarts) worker `name`; with wait, returns once it
        has registered (a loaded machine may take a while to start it)."""
        argv = [cu.binary(), "worker", "--tasks", self.tasks, "--results",
                self.results, "--name", name, "--devices", devices,
                "--verbose"] + [str(a) for a in extra]
        self.workers[name] = Proc(argv, self.env)
        if wait:
            self.workers[name].wait_line("registered with the coordinator", 30)
        return self.workers[name]

    def mark(self):
        """Starts the test's timeline now (see at())."""
        self.started = time.monotonic()

    def at(self, t):
        """Sleeps until t seconds after the timeline started."""
        left = self.started + t - time.monotonic()
        if left > 0:
            time.sleep(left)

    def kill(self, name, sig=signal.SIGKILL):
        self.workers[name].kill(sig)

    def live_workers(self):
        return [n for n, w in self.workers.items() if w.alive()]

    def wait(self, timeout=60):
        """Waits for the coordinator; returns (exit code, stdout, stderr)."""
        rc = self.coord.wait(timeout)
        self.out.close()
        with open(self.out_path, "rb") as f:
            out = f.read().decode()
        return rc, out, self.coord.stderr()

    def result(self, timeout=60):
        """The coordinator's JSON; it must have succeeded."""
        rc, out, err = self.wait(timeout)
        if rc != 0:
            raise AssertionError("coordinator exited %d: %s" % (rc, err[-2000:]))
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError("not JSON (%s): %r" % (e, out[:300]))

    def close(self):
        for p in list(self.workers.values()) + [self.coord]:
            p.kill(signal.SIGKILL)
        for p in list(self.workers.values()) + [self.coord]:
            try:
                p.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if not self.out.closed:
            self.out.close()


def reduce_ref(path, *args, chunk=None):
    """`edgegrid reduce --json` on one box (the reference), with the chunk
    size that makes its merge tree the grid's."""
    extra = ["--devices", "host"] + (["--chunk", str(chunk)] if chunk else [])
    return cu.reduce_json(path, *extra, *args)


def same_results(got, want, what="grid"):
    """Every result bit for bit (NaN equal to NaN)."""
    if list(got["results"]) != list(want["results"]):
        raise AssertionError("%s: ops %r, want %r" % (
            what, list(got["results"]), list(want["results"])))
    for op, v in want["results"].items():
        cu.same(cu.num(got["results"][op]), cu.num(v), "%s %s" % (what, op))
    for key in ("dtype", "shape", "count"):
        if got[key] != want[key]:
            raise AssertionError("%s: %s %r, want %r" % (what, key, got[key],
                                                         want[key]))


def check_grid_object(doc, tasks=None):
    g = doc.get("grid")
    if not isinstance(g, dict):
        raise AssertionError("no grid object in %r" % list(doc))
    for key in ("tasks", "attempts", "redispatched", "failures", "returned",
                "duplicates", "rejected", "bytes", "seconds", "tasks_per_s",
                "gbps", "workers", "endpoints"):
        if key not in g:
            raise AssertionError("grid lacks %r: %r" % (key, g))
    if tasks is not None and g["tasks"] != tasks:
        raise AssertionError("grid tasks %d, want %d" % (g["tasks"], tasks))
    done = sum(w["tasks"] for w in g["workers"])
    if done != g["tasks"]:
        raise AssertionError("workers' accepted tasks add up to %d, not %d" %
                             (done, g["tasks"]))
    if g["attempts"] < g["tasks"]:
        raise AssertionError("fewer attempts than tasks: %r" % g)
    # Every task went out at least once; the repeats are the redispatches.
    if g["redispatched"] != g["attempts"] - g["tasks"]:
        raise AssertionError("redispatched %d != attempts - tasks: %r" % (
            g["redispatched"], g))
    return g


def make_ints(n, seed, dtype="int64"):
    import numpy as np
    rng = np.random.default_rng(seed)
    return rng.integers(-2 ** 40, 2 ** 40, n, dtype=dtype)


def deadline(seconds):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end


def shuffled(items, seed):
    r = random.Random(seed)
    items = list(items)
    r.shuffle(items)
    return items
