"""Garbage sent to both coordinator endpoints while a job runs: random
bytes, empty and multipart messages, frames of a future version, forged
registrations and results, a peer that registers, takes tasks and goes
silent, oversized messages and raw TCP junk.  The job must end with the
right result, the JSON must count the rejected frames, and an unknown peer
that speaks the protocol must be told to register (RESET).
"""

import os
import socket
import struct
import sys
import time
from urllib.parse import urlparse

import numpy as np
import zmq

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
ELEMS = 4096
NONE = 2 ** 64 - 1
READY, CREDIT, HEARTBEAT, TASK, RESULT, FAIL = 1, 2, 3, 4, 5, 6
RESET = 9


def header(ftype, job, version=2):
    return b"EGGF" + struct.pack("<HBBQ", version, ftype, 0, job)


def ready(name, credit=2, session=1):
    name = name.encode()
    return header(READY, 0) + struct.pack("<QIIIB", session, 0, credit, 0,
                                          len(name)) + name


def state(n, dtype=8, groups=3):
    """An encoded engine state (wire version 3) of n elements and no
    extremes, for the default ops (groups min/max and var), in the compact
    form (no exact block) a fast-mode container carries."""
    fields = [0] * 30
    fields[0] = n          # n
    fields[2] = NONE       # first_nan
    fields[15] = NONE      # argmin
    fields[16] = NONE      # argmax
    return b"EGST" + struct.pack("<HBBI", 3, dtype, 0, groups) + \
        struct.pack("<30Q", *fields)


def container(*states, version=2, flags=1):
    """A container of compact states (container version 2, flag 1), as a
    fast-mode RESULT carries."""
    return b"EGSC" + struct.pack("<HHI", version, flags, len(states)) + \
        b"".join(states)


def result(job, task, n=0, name=b"forger", version=2, st=None):
    st = container(state(n)) if st is None else st
    return header(RESULT, job, version) + struct.pack(
        "<QIQQdBI", task, 1, n, 0, 0.0, len(name), len(st)) + name + st


def endpoint_port(ep):
    return urlparse(ep).port


@suite.test
def garbage_on_both_endpoints_does_not_disturb_the_job(tmp):
    rng = np.random.default_rng(1)
    x = rng.integers(-2 ** 40, 2 ** 40, 300 * ELEMS, dtype=np.int64)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    ctx = zmq.Context()
    socks = []

    def sock(kind, ep):
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(ep)
        socks.append(s)
        return s

    try:
        with gu.Grid(tmp, ["--task-bytes", ELEMS * 8, "--timeout", 60,
                           "--json", path]) as g:
            g.worker("w1", "--task-delay-ms", 10)
            g.worker("w2", "--task-delay-ms", 10)
            tasks = sock(zmq.DEALER, g.tasks)
            results = sock(zmq.PUSH, g.results)
            time.sleep(0.3)  # the job is running

            # An unknown peer that speaks the protocol is asked to register.
            tasks.send(header(HEARTBEAT, 0))
            if not tasks.poll(5000):
                raise AssertionError("no answer to an unknown heartbeat")
            reply = tasks.recv()
            if reply[:4] != b"EGGF" or reply[6] != RESET:
                raise AssertionError("want RESET, got %r" % reply[:16])

            # Frames the ROUTER must refuse (each counted once).
            bad_control = [
                os.urandom(7), os.urandom(64), b"", header(READY, 0, 3),
                header(READY, 0, 1),
                ready("two words"), header(CREDIT, 0) + b"\0\0\0\0",
                header(77, 0), b"EGGF" + os.urandom(40),
            ]
            for f in bad_control:
                tasks.send(f)
            tasks.send_multipart([header(HEARTBEAT, 0), b"extra"])
            # Results the collector must refuse.
            bad_results = [
                os.urandom(100), header(RESULT, 0), result(12345, 0),
                result(0, 0)[:-1], header(RESULT, 0) + os.urandom(300),
                result(0, 0, version=1),
            ]
            for f in bad_results:
                results.send(f)
            results.send_multipart([result(0, 0), b"more"])
            want_rejected = len(bad_control) + 1 + len(bad_results) + 1

            # A thief registers, learns the job id from the tasks it is
            # given, forges results with it, and then falls silent.
            thief = sock(zmq.DEALER, g.tasks)
            thief.send(ready("thief", credit=2, session=99))
            if not thief.poll(5000):
                raise AssertionError("the thief got no task")
            parts = thief.recv_multipart()
            job = struct.unpack("<Q", parts[0][8:16])[0]
            task = struct.unpack("<Q", parts[0][16:24])[0]
            results.send(result(job, task, n=3))   # wrong element count
            results.send(result(job, 10 ** 9))     # no such task
            want_rejected += 2

            # Oversized messages and raw TCP junk: dropped connections.
            tasks2 = sock(zmq.DEALER, g.tasks)
            tasks2.send(b"\0" * 100000)
            results2 = sock(zmq.PUSH, g.results)
            results2.send(b"\0" * 100000)
            for ep in (g.tasks, g.results):
                with socket.create_connection(("127.0.0.1",
                                               endpoint_port(ep))) as raw:
                    raw.sendall(os.urandom(4096))
            doc = g.result(timeout=60)
            err = g.coord.stderr()
    finally:
        for s in socks:
            s.close()
        ctx.term()

    want = gu.reduce_ref(path, chunk=ELEMS)
    gu.same_results(doc, want)
    gg = gu.check_grid_object(doc, tasks=300)
    if gg["rejected"] < want_rejected:
        raise AssertionError("rejected %d, want at least %d\n%s" % (
            gg["rejected"], want_rejected, err[-3000:]))
    for old in ("frame: version 1, this build speaks 2",
                "frame: version 3, this build speaks 2"):
        if old not in err:
            raise AssertionError("no %r in the log:\n%s" % (old, err[-3000:]))
    if "worker thief lost (silent for" not in err:
        raise AssertionError("the silent thief was not declared dead:\n%s"
                             % err[-3000:])
    if [w["name"] for w in gg["workers"] if w["name"] == "forger"]:
        raise AssertionError("a forged result was accepted: %r" % gg)


@suite.test
def exact_job_refuses_compact_states(tmp):
    """A compact container (no exact blocks) for a float task of an exact
    job is refused and counted, and the job's exact sum is still right."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(40 * ELEMS) * 10.0 ** rng.integers(-9, 9,
                                                                40 * ELEMS)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    ctx = zmq.Context()
    socks = []
    try:
        with gu.Grid(tmp, ["--task-bytes", ELEMS * 8, "--timeout", 60,
                           "--mode", "exact", "--json", path]) as g:
            g.worker("w1", "--task-delay-ms", 10)
            thief = ctx.socket(zmq.DEALER)
            results = ctx.socket(zmq.PUSH)
            for s, ep in ((thief, g.tasks), (results, g.results)):
                s.setsockopt(zmq.LINGER, 0)
                s.connect(ep)
                socks.append(s)
            thief.send(ready("thief", credit=1, session=7))
            if not thief.poll(5000):
                raise AssertionError("the thief got no task")
            parts = thief.recv_multipart()
            job, task = struct.unpack("<QQ", parts[0][8:24])
            count = struct.unpack("<Q", parts[0][16 + 36:16 + 44])[0]
            # honest in every word but the form: f64, the task's length
            st = container(state(count, dtype=1))
            results.send(result(job, task, n=count, st=st))
            doc = g.result(timeout=60)
            err = g.coord.stderr()
    finally:
        for s in socks:
            s.close()
        ctx.term()
    cu.same(cu.num(doc["results"]["sum"]), cu.fsum_exact(x), "exact sum")
    gg = gu.check_grid_object(doc, tasks=40)
    if gg["rejected"] < 1:
        raise AssertionError("nothing rejected: %r" % gg)
    if "compact state container in an exact-mode job" not in err:
        raise AssertionError("no reason in the log:\n%s" % err[-3000:])


if __name__ == "__main__":
    suite.main()
