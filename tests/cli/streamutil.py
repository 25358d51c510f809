"""streamutil - running `edgegrid stream` and `edgegrid collect` as real
processes on 127.0.0.1 for the test_stream*.py tests: pipes to feed them,
threads that collect their lines, deadlines on every wait, and a
Mosquitto broker on a free port with a generated config."""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import cliutil as cu


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    """A child with stdin as a pipe, stdout and stderr read by threads."""

    def __init__(self, args, stdin=True):
        self.argv = [cu.binary()] + [str(a) for a in args]
        self.p = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cu.env())
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(f, l),
                                         daemon=True)
                        for f, l in ((self.p.stdout, self.out),
                                     (self.p.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _read(self, f, lines):
        for raw in f:
            with self.cond:
                lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close_stdin(self):
        if self.p.stdin and not self.p.stdin.closed:
            self.p.stdin.close()

    def windows(self):
        """The window lines so far, parsed."""
        with self.cond:
            return [json.loads(l) for l in self.out if l.startswith("{")]

    def wait_for(self, pred, timeout, what):
        """Waits until pred(self.windows()) holds."""
        end = time.monotonic() + timeout
        while True:
            w = self.windows()
            if pred(w):
                return w
            if time.monotonic() > end:
                raise AssertionError("%s: not within %g s; lines %r; stderr "
                                     "%r" % (what, timeout, w[-5:],
                                             self.err[-5:]))
            with self.cond:
                self.cond.wait(0.05)

    def wait_err(self, needle, timeout):
        end = time.monotonic() + timeout
        while True:
            with self.cond:
                for l in self.err:
                    if needle in l:
                        return l
                if time.monotonic() > end:
                    raise AssertionError("no %r on stderr of %s: %r" % (
                        needle, self.argv[1], self.err[-5:]))
                self.cond.wait(0.05)

    def finish(self, timeout=20, sig=None):
        """Ends the process (closing stdin, or with sig) and returns its
        exit status."""
        if sig is not None and self.p.poll() is None:
            self.p.send_signal(sig)
        self.close_stdin()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("%s did not end within %g s" % (
                " ".join(self.argv[1:3]), timeout))
        for t in self.threads:
            t.join(timeout=5)
        return rc

    def totals(self):
        for l in reversed(self.err):
            if l.startswith('{"totals"'):
                return json.loads(l)["totals"]
        raise AssertionError("no totals on stderr: %r" % self.err[-5:])

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.close_stdin()
        self.p.wait()


class Procs:
    """Every process a case starts, killed at the end whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, args, stdin=True):
        p = Proc(args, stdin)
        self.procs.append(p)
        return p

    def collector(self, port, *args):
        """`edgegrid collect --bind tcp://127.0.0.1:PORT ARGS...`, once it
        says it is listening."""
        c = self.start(["collect", "--bind", "tcp://127.0.0.1:%d" % port]
                       + list(args), stdin=False)
        c.wait_err("listening", 10)
        return c

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            try:
                p.p.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            p.kill()


class Broker:
    """A Mosquitto broker on 127.0.0.1 and a free port, config generated in
    tmp, stopped on exit."""

    def __init__(self, tmp, port=None):
        self.port = port or free_port()
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\nmax_queued_messages 100000\n"
                    % self.port)
        self.p = subprocess.Popen(["mosquitto", "-c", conf],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > end or self.p.poll() is not None:
                    self.close()
                    raise AssertionError("mosquitto did not start")
                time.sleep(0.05)

    def publish(self, topic, lines, qos=1):
        """Publishes each line as one message (mosquitto_pub -l)."""
        data = "".join(l + "\n" for l in lines).encode()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(self.port), "-q", str(qos), "-t", topic, "-l"],
                       input=data, check=True, timeout=30)

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def have_mosquitto():
    return bool(shutil.which("mosquitto") and shutil.which("mosquitto_pub"))
