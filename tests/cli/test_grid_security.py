"""Grid security on 127.0.0.1 (README, "Grid security"): `edgegrid keygen`,
CURVE between coordinator and workers with a ZAP allow-list, results
accepted only from the identity that holds the task's lease, oversized
frames, repeat offenders, idle raw connections, secret file permissions and
the plain-TCP rule.  Jobs must still give the bits of `edgegrid reduce`.

Uses python3-zmq (pyzmq) to play the stranger, the thief and the flooder;
every subprocess and socket wait is bounded and everything started is
killed in the end.
"""

import os
import shutil
import signal
import socket
import stat
import struct
import sys
import time
from urllib.parse import urlparse

import numpy as np
import zmq
from zmq.utils.monitor import recv_monitor_message

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
ELEMS = 4096  # elements per task
OPS = "count,sum,mean,min,max,argmin,argmax,std"
Z85 = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
          ".-:+=^!/*?&<>()[]{}@%$#")
READY, HEARTBEAT, RESET = 1, 3, 9


# ---------------------------------------------------------------- helpers

def data(tmp, tasks, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2 ** 40, 2 ** 40, tasks * ELEMS - 17, dtype=np.int64)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    return path, x


def job_args(path, *extra, timeout=60):
    return ["--task-bytes", ELEMS * 8, "--timeout", timeout, "--json",
            "--ops", OPS, *extra, path]


def check(doc, path, x):
    """Bits of a one-box reduce, and the grid's account adds up."""
    gu.same_results(doc, gu.reduce_ref(path, "--ops", OPS, chunk=ELEMS))
    cu.same(doc["results"]["sum"], int(x.astype(object).sum()), "sum")
    return gu.check_grid_object(doc, tasks=(x.size + ELEMS - 1) // ELEMS)


def keygen(tmp, name):
    """`edgegrid keygen -o tmp/name`; returns (pub path, secret path)."""
    base = os.path.join(tmp, name)
    cu.ok(["keygen", "-o", base])
    return base + ".pub", base + ".secret"


def read_key(path):
    with open(path) as f:
        return f.read().strip()


class Keys:
    """A coordinator key pair, an allow directory and worker key pairs."""

    def __init__(self, tmp, allowed=("w1", "w2"), others=()):
        self.tmp = tmp
        self.server_pub, self.server_secret = keygen(tmp, "coordinator")
        self.allow = os.path.join(tmp, "allow")
        os.mkdir(self.allow)
        self.secret = {}
        for name in list(allowed) + list(others):
            pub, sec = keygen(tmp, name)
            self.secret[name] = sec
            if name in allowed:
                self.permit(name)

    def permit(self, name):
        shutil.copy(os.path.join(self.tmp, name + ".pub"), self.allow)

    def revoke(self, name):
        os.unlink(os.path.join(self.allow, name + ".pub"))

    def coord(self):
        return ["--curve-secret", self.server_secret, "--allow", self.allow]

    def worker(self, name):
        return ["--curve-secret", self.secret[name], "--server-key",
                self.server_pub]

    def python_client(self, name):
        """A pyzmq key pair whose public half is allowed as `name`."""
        pub, sec = zmq.curve_keypair()
        with open(os.path.join(self.allow, name + ".pub"), "wb") as f:
            f.write(pub + b"\n")
        return pub, sec


def header(ftype, job=0):
    return b"EGGF" + struct.pack("<HBBQ", 2, ftype, 0, job)


def ready(name, credit=2, session=7):
    name = name.encode()
    return header(READY) + struct.pack("<QIIIB", session, 0, credit, 0,
                                       len(name)) + name


class Client:
    """A pyzmq socket (optionally a CURVE client) with a monitor."""

    def __init__(self, ctx, kind, endpoint, server_pub=None, pair=None):
        self.s = ctx.socket(kind)
        self.s.setsockopt(zmq.LINGER, 0)
        if pair:
            self.s.curve_publickey, self.s.curve_secretkey = pair
            self.s.curve_serverkey = server_pub
        self.mon = self.s.get_monitor_socket()
        self.events = []
        self.s.connect(endpoint)

    def wait_event(self, event, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(e["event"] == event for e in self.events):
                return True
            if self.mon.poll(100):
                self.events.append(recv_monitor_message(self.mon))
        return any(e["event"] == event for e in self.events)

    def reply(self, timeout):
        """The next frame's type byte, or None if nothing came."""
        if not self.s.poll(int(timeout * 1000)):
            return None
        parts = self.s.recv_multipart()
        return parts[0][6] if len(parts[0]) >= 16 else -1

    def close(self):
        self.s.disable_monitor()
        self.mon.close()
        self.s.close()


def port(ep):
    return urlparse(ep).port


# ------------------------------------------------------------------ keygen

@suite.test
def keygen_writes_z85_keys_and_refuses_to_overwrite(tmp):
    base = os.path.join(tmp, "k")
    out = cu.ok(["keygen", "-o", base])
    if "k.pub" not in out or "k.secret" not in out:
        raise AssertionError("keygen says %r" % out)
    pub, sec = read_key(base + ".pub"), read_key(base + ".secret")
    for what, key in (("public", pub), ("secret", sec)):
        if len(key) != 40 or not set(key) <= Z85:
            raise AssertionError("%s key %r is not 40 Z85 characters" % (
                what, key))
    mode = stat.S_IMODE(os.stat(base + ".secret").st_mode)
    if mode != 0o600:
        raise AssertionError("secret file mode %o, want 600" % mode)
    if zmq.curve_public(sec.encode()) != pub.encode():
        raise AssertionError("the public key is not the secret key's")
    if pub in out and sec in out:
        raise AssertionError("keygen printed the secret key")
    # A second run touches nothing, whichever file is in the way.
    before = (pub, sec)
    cu.expect_fail(["keygen", "-o", base], 2, contains="exists")
    if (read_key(base + ".pub"), read_key(base + ".secret")) != before:
        raise AssertionError("keygen overwrote a key")
    other = os.path.join(tmp, "only-pub")
    with open(other + ".pub", "w") as f:
        f.write("x\n")
    cu.expect_fail(["keygen", "-o", other], 2, contains="only-pub.pub")
    if os.path.exists(other + ".secret"):
        raise AssertionError("keygen left a secret behind after refusing")
    cu.expect_fail(["keygen"], 2, contains="-o NAME")
    cu.expect_fail(["keygen", "-o", os.path.join(tmp, "no", "dir", "k")], 1,
                   contains="k.secret")
    # Two runs never give the same key.
    pub2, _ = keygen(tmp, "k2")
    if read_key(pub2) == pub:
        raise AssertionError("two keygen runs gave the same key")


@suite.test
def secret_files_with_loose_permissions_are_refused(tmp):
    keys = Keys(tmp, allowed=("w1",))
    path, _ = data(tmp, 4)
    loop = ["--tasks", "tcp://127.0.0.1:*", "--results", "tcp://127.0.0.1:*"]
    for mode in (0o640, 0o604, 0o660, 0o644, 0o700 | 0o020):
        for f in (keys.server_secret, keys.secret["w1"]):
            os.chmod(f, mode)
        line = cu.expect_fail(["coordinator", *loop, *keys.coord(),
                               "--timeout", 1, path], 2,
                              contains="chmod 600")
        if keys.server_secret not in line or "%04o" % mode not in line:
            raise AssertionError("not naming the file and mode: %r" % line)
        cu.expect_fail(["worker", "--tasks", "tcp://127.0.0.1:1",
                        "--results", "tcp://127.0.0.1:2", *keys.worker("w1")],
                       2, contains=keys.secret["w1"])
    # Owner-only modes are fine: the coordinator gets as far as waiting.
    for mode in (0o600, 0o400):
        os.chmod(keys.server_secret, mode)
        p = cu.run(["coordinator", *loop, *keys.coord(), "--timeout", 0.3,
                    path])
        if p.returncode != 1 or b"timed out" not in p.stderr:
            raise AssertionError("mode %o: exit %d %r" % (
                mode, p.returncode, p.stderr))
    # A secret that is not a key at all.
    bad = os.path.join(tmp, "bad.secret")
    with open(bad, "w") as f:
        f.write("not a key\n")
    os.chmod(bad, 0o600)
    cu.expect_fail(["coordinator", *loop, "--curve-secret", bad, "--allow",
                    keys.allow, path], 2, contains="Z85")


@suite.test
def plain_tcp_is_refused_off_loopback(tmp):
    path, _ = data(tmp, 4)
    for tasks in ("tcp://0.0.0.0:*", "tcp://*:*", "tcp://[::]:*",
                  "tcp://eth0:*", "tcp://192.0.2.1:5555"):
        line = cu.expect_fail(["coordinator", "--tasks", tasks, "--results",
                               "tcp://127.0.0.1:*", path], 2,
                              contains="--insecure")
        if tasks not in line:
            raise AssertionError("not naming %s: %r" % (tasks, line))
    cu.expect_fail(["coordinator", "--tasks", "tcp://127.0.0.1:*",
                    "--results", "tcp://0.0.0.0:*", path], 2,
                   contains="--results")
    for ep in ("tcp://192.0.2.1:5555", "tcp://edge-box:5555"):
        cu.expect_fail(["worker", "--tasks", ep, "--results", ep], 2,
                       contains="--insecure")
    # Loopback in every spelling is fine (the job times out: no workers).
    for tasks in ("tcp://127.0.0.1:*", "tcp://127.3.4.5:*"):
        p = cu.run(["coordinator", "--tasks", tasks, "--results",
                    "tcp://127.0.0.1:*", "--timeout", 0.3, path])
        if p.returncode != 1 or b"timed out" not in p.stderr:
            raise AssertionError("%s: exit %d %r" % (tasks, p.returncode,
                                                     p.stderr))
    # A worker dialling loopback runs (until stopped) instead of refusing.
    for ep in ("tcp://localhost:9", "tcp://127.0.0.1:9", "tcp://[::1]:9"):
        w = gu.Proc([cu.binary(), "worker", "--tasks", ep, "--results", ep,
                     "--devices", "host", "--verbose"], cu.env())
        try:
            w.wait_line("connected to", 30)
            w.kill(signal.SIGTERM)
            rc = w.wait(10)
        finally:
            w.kill()
        if rc != 0:
            raise AssertionError("worker to %s: exit %d %r" % (
                ep, rc, w.stderr()))
    # --insecure says it out loud.
    p = cu.run(["coordinator", "--tasks", "tcp://0.0.0.0:*", "--results",
                "tcp://0.0.0.0:*", "--insecure", "--timeout", 0.3, path])
    if p.returncode != 1 or b"timed out" not in p.stderr:
        raise AssertionError("--insecure: exit %d %r" % (p.returncode,
                                                         p.stderr))
    # The options come in pairs.
    keys = Keys(tmp, allowed=("w1",))
    cu.expect_fail(["coordinator", "--tasks", "tcp://0.0.0.0:*", "--results",
                    "tcp://0.0.0.0:*", "--curve-secret", keys.server_secret,
                    path], 2, contains="--allow")
    cu.expect_fail(["worker", "--tasks", "tcp://192.0.2.1:1", "--results",
                    "tcp://192.0.2.1:2", "--server-key", keys.server_pub], 2,
                   contains="--curve-secret")
    cu.expect_fail(["coordinator", "--tasks", "tcp://127.0.0.1:*",
                    "--results", "tcp://127.0.0.1:*", "--curve-secret",
                    keys.server_secret, "--allow",
                    os.path.join(tmp, "nowhere"), path], 2,
                   contains="nowhere")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    cu.expect_fail(["coordinator", "--tasks", "tcp://127.0.0.1:*",
                    "--results", "tcp://127.0.0.1:*", "--curve-secret",
                    keys.server_secret, "--allow", empty, path], 2,
                   contains="no NAME.pub")


# ------------------------------------------------------------- handshakes

@suite.test
def unknown_key_is_refused_at_the_handshake(tmp):
    keys = Keys(tmp, allowed=("good",), others=("stranger", "impostor"))
    path, x = data(tmp, 60)
    ctx = zmq.Context()
    clients = []
    try:
        with gu.Grid(tmp, keys.coord() + job_args(path)) as g:
            # A worker whose key is not on the list, and one that has the
            # wrong idea of the coordinator's key.
            g.worker("stranger", *keys.worker("stranger"))
            g.workers["stranger"].wait_line("refused this worker's key", 30)
            g.coord.wait_line("handshake refused from 127.0.0.1", 30)
            wrong = keys.worker("impostor")
            wrong[3] = os.path.join(tmp, "stranger.pub")
            g.worker("impostor", *wrong)
            g.workers["impostor"].wait_line("is --server-key the", 30)
            # A pyzmq client with an unknown key gets no answer at all.
            pub, sec = zmq.curve_keypair()
            c = Client(ctx, zmq.DEALER, g.tasks,
                       server_pub=read_key(keys.server_pub).encode(),
                       pair=(pub, sec))
            clients.append(c)
            c.s.send(header(HEARTBEAT))
            if not c.wait_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 10):
                raise AssertionError("no auth failure: %r" % c.events)
            if c.reply(0.5) is not None:
                raise AssertionError("an unknown key got an answer")
            # A plain client gets nowhere either.
            p = Client(ctx, zmq.DEALER, g.tasks)
            clients.append(p)
            p.s.send(header(HEARTBEAT))
            if p.reply(1.0) is not None:
                raise AssertionError("a plain client got an answer")
            g.worker("good", *keys.worker("good"))
            doc = g.result(timeout=60)
            strangers = [g.workers[n].stderr() for n in ("stranger",
                                                         "impostor")]
    finally:
        for c in clients:
            c.close()
        ctx.term()
    gg = check(doc, path, x)
    if [w["name"] for w in gg["workers"]] != ["good"]:
        raise AssertionError("workers %r" % gg["workers"])
    if gg["refused"] < 2:
        raise AssertionError("refused %d handshakes, want >= 2" %
                             gg["refused"])
    for err in strangers:
        if "registered" in err or "serving job" in err:
            raise AssertionError("a refused worker got in:\n%s" % err)


@suite.test
def result_for_another_workers_task_is_rejected(tmp):
    keys = Keys(tmp, allowed=("honest", "forger"))
    path, x = data(tmp, 120, seed=3)
    with gu.Grid(tmp, keys.coord() + job_args(path, "--min-workers", 2)) as g:
        g.worker("honest", *keys.worker("honest"), "--task-delay-ms", 3)
        g.worker("forger", *keys.worker("forger"), "--task-delay-ms", 3,
                 "--forge-results")
        doc = g.result(timeout=60)
        err = g.coord.stderr()
        forged = g.workers["forger"].stderr().count("forged a result")
    gg = check(doc, path, x)
    refused = err.count("from 'forger', which does not hold its lease")
    print("     %d forged results sent, %d refused as not the lease holder's,"
          " %d frames rejected in all" % (forged, refused, gg["rejected"]))
    if forged < 5 or refused < 5:
        raise AssertionError("forged %d, refused as not the holder %d:\n%s" %
                             (forged, refused, err[-3000:]))
    if gg["rejected"] < refused:
        raise AssertionError("rejected %d < %d refused forgeries" % (
            gg["rejected"], refused))


@suite.test
def sighup_reloads_the_allow_list(tmp):
    keys = Keys(tmp, allowed=("first",), others=("second",))
    path, x = data(tmp, 150, seed=5)
    with gu.Grid(tmp, keys.coord() + job_args(path)) as g:
        g.worker("first", *keys.worker("first"), "--task-delay-ms", 20,
                 wait=True)
        g.worker("second", *keys.worker("second"), "--task-delay-ms", 5)
        g.workers["second"].wait_line("refused this worker's key", 30)
        keys.permit("second")
        keys.revoke("first")
        g.coord.kill(signal.SIGHUP)
        g.coord.wait_line("reloaded: 1 key(s)", 10)
        g.coord.wait_line("worker first lost (its key left the allow-list)",
                          10)
        # libzmq may wait before trying a refused key again; the worker
        # retries as long as it runs.
        g.workers["second"].wait_line("registered with the coordinator", 30)
        doc = g.result(timeout=60)
        err = g.coord.stderr()
    gg = check(doc, path, x)
    names = {w["name"]: w["tasks"] for w in gg["workers"]}
    if names.get("second", 0) == 0:
        raise AssertionError("the newly allowed worker did nothing: %r" %
                             names)
    if "worker first joined" in err.split("reloaded: 1 key(s)")[1]:
        raise AssertionError("the revoked worker joined again:\n%s" %
                             err[-2000:])


@suite.test
def local_grid_with_curve_equals_reduce(tmp):
    path, x = data(tmp, 20)
    keydir = os.path.join(tmp, "keys")
    os.mkdir(keydir)
    out = cu.ok(["grid", "--workers", 2, "--devices", "host", "--curve",
                 *job_args(path)], environ=cu.env(TMPDIR=keydir))
    import json
    check(json.loads(out), path, x)
    if os.listdir(keydir):
        raise AssertionError("keys left behind: %r" % os.listdir(keydir))


# ------------------------------------------------------ frames and floods

@suite.test
def oversized_frames_drop_the_connection(tmp):
    keys = Keys(tmp, allowed=("w1",))
    pair = keys.python_client("probe")
    server = read_key(keys.server_pub).encode()
    path, x = data(tmp, 100)
    ctx = zmq.Context()
    clients = []
    try:
        with gu.Grid(tmp, keys.coord() + job_args(path)) as g:
            g.worker("w1", *keys.worker("w1"), "--task-delay-ms", 5)
            d = Client(ctx, zmq.DEALER, g.tasks, server, pair)
            r = Client(ctx, zmq.PUSH, g.results, server, pair)
            clients += [d, r]
            # An allowed key is answered while it behaves ...
            d.s.send(header(HEARTBEAT))
            if d.reply(5) != RESET:
                raise AssertionError("an allowed client got no RESET")
            if not r.wait_event(zmq.EVENT_HANDSHAKE_SUCCEEDED, 5):
                raise AssertionError("results handshake: %r" % r.events)
            # ... and cut off by ZMQ_MAXMSGSIZE when it sends too much.
            d.s.send(b"\0" * 100000)
            r.s.send(b"\0" * 1000000)
            for c, what in ((d, "tasks"), (r, "results")):
                if not c.wait_event(zmq.EVENT_DISCONNECTED, 10):
                    raise AssertionError("%s: oversized frame did not drop "
                                         "the connection: %r" % (what,
                                                                 c.events))
            doc = g.result(timeout=60)
    finally:
        for c in clients:
            c.close()
        ctx.term()
    check(doc, path, x)


@suite.test
def repeat_offender_is_ignored(tmp):
    path, x = data(tmp, 150)
    ctx = zmq.Context()
    clients = []
    try:
        with gu.Grid(tmp, job_args(path)) as g:
            # The worker comes last, so the job outlives the abuse.
            # A registered peer that turns bad: dropped, its tasks resent.
            bad = Client(ctx, zmq.DEALER, g.tasks)
            clients.append(bad)
            bad.s.send(ready("rogue", credit=4))
            if bad.reply(10) is None:
                raise AssertionError("the rogue got no task")
            for i in range(16):
                bad.s.send(os.urandom(40))
            g.coord.wait_line("worker rogue lost (sent 16 bad frames", 10)
            time.sleep(0.5)
            while bad.s.poll(0):  # tasks sent before the ban
                bad.s.recv_multipart()
            bad.s.send(header(HEARTBEAT))
            if bad.reply(1.0) is not None:
                raise AssertionError("a banned peer was answered")
            # An unregistered one too; a fresh connection starts clean.
            anon = Client(ctx, zmq.DEALER, g.tasks)
            clients.append(anon)
            anon.s.send(header(HEARTBEAT))
            if anon.reply(5) != RESET:
                raise AssertionError("no RESET before the strikes")
            for i in range(16):
                anon.s.send(b"junk")
            g.coord.wait_line("an unregistered peer sent 16 bad frames", 10)
            anon.s.send(header(HEARTBEAT))
            if anon.reply(1.0) is not None:
                raise AssertionError("a banned peer was answered")
            fresh = Client(ctx, zmq.DEALER, g.tasks)
            clients.append(fresh)
            fresh.s.send(header(HEARTBEAT))
            if fresh.reply(5) != RESET:
                raise AssertionError("a fresh peer was not answered")
            g.worker("w1")
            doc = g.result(timeout=60)
    finally:
        for c in clients:
            c.close()
        ctx.term()
    gg = check(doc, path, x)
    if gg["rejected"] < 34:
        raise AssertionError("rejected %d, want >= 34" % gg["rejected"])
    if "rogue" in [w["name"] for w in gg["workers"] if w["tasks"]]:
        raise AssertionError("the rogue's results counted: %r" % gg)


def timed_job(tmp, path, coord_args, worker_args, raw=0):
    """Runs the job with two workers, holding `raw` idle TCP connections
    (and as many that send a byte of garbage now and then) open against
    each endpoint meanwhile; returns (JSON, seconds from first dispatch to
    last result)."""
    conns = []
    try:
        with gu.Grid(tmp, coord_args + job_args(path, "--min-workers", 2)) \
                as g:
            for ep in (g.tasks, g.results):
                for i in range(2 * raw):
                    s = socket.create_connection(("127.0.0.1", port(ep)),
                                                 timeout=5)
                    conns.append(s)
                    if i % 2:
                        s.sendall(b"\xff")  # half a greeting, then nothing
            g.worker("a", *worker_args("a"), "--task-delay-ms", 2)
            g.worker("b", *worker_args("b"), "--task-delay-ms", 2)
            end = time.monotonic() + 60
            while g.coord.alive() and time.monotonic() < end:
                for s in conns[1::7]:
                    try:
                        s.send(os.urandom(1))
                    except OSError:
                        pass
                time.sleep(0.05)
            doc = g.result(timeout=60)
    finally:
        for s in conns:
            s.close()
    return doc, doc["grid"]["seconds"]


def case_idle_connections(tmp, curve):
    path, x = data(tmp, 300, seed=9)
    if curve:
        keys = Keys(tmp, allowed=("a", "b"))
        coord, worker = keys.coord(), keys.worker
    else:
        coord, worker = [], lambda name: []
    _, base = timed_job(tmp, path, coord, worker)
    doc, loaded = timed_job(tmp, path, coord, worker, raw=100)
    check(doc, path, x)
    print("     job %.3f s alone, %.3f s with 400 raw connections open" %
          (base, loaded))
    if loaded > 3 * base + 2.0:
        raise AssertionError("idle connections slowed the job: %.3f s, "
                             "baseline %.3f s" % (loaded, base))


suite.add("idle raw connections do not slow a CURVE job",
          case_idle_connections, True)
suite.add("idle raw connections do not slow a plain job",
          case_idle_connections, False)


if __name__ == "__main__":
    suite.main()
