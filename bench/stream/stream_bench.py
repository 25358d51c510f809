#!/usr/bin/python3
"""stream_bench.py - the stream figures of bench/README.md ("Streams"), each
beside its yardstick measured in the same run on the same messages:

  stdin raw       edgegrid stream on a pipe of f32 records vs `cat` on the
                  same pipe (GB/s)
  zmq raw         edgegrid stream --from zmq+tcp:// vs a bare libzmq PULL
                  (build/pull_probe), 64 KiB messages from one PUSH (GB/s)
  mqtt json       edgegrid stream --from mqtt:// vs mosquitto_sub draining
                  the same QoS 1 messages queued for their persistent
                  sessions on one broker (msg/s)
  latency         window end (processing time) to its line on stdout, and
                  through `edgegrid collect` on loopback (p50, p99)
  memory          peak RSS with 1,000 keys x 8 channels, default ops

usage: bench/stream/stream_bench.py [BUILD_DIR] [--quick] [--json]
                                    [--only=stdin,zmq,mqtt,latency,memory]
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
BUILD = os.path.abspath(ARGS[0] if ARGS else "build")
EG = os.path.join(BUILD, "edgegrid")
PROBE = os.path.join(BUILD, "pull_probe")
QUICK = "--quick" in sys.argv
REPS = 1 if QUICK else 3
ONLY = [a.split("=", 1)[1].split(",") for a in sys.argv[1:]
        if a.startswith("--only=")]
ONLY = ONLY[0] if ONLY else None


def wanted(name):
    return ONLY is None or name in ONLY


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def median_time(fn):
    return statistics.median(fn() for _ in range(REPS))


# ------------------------------------------------------------- stdin raw

def stdin_raw(tmp):
    n = (64 if QUICK else 512) << 20
    path = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tmp,
                        "eg-stream-bench.f32")
    np.random.default_rng(1).standard_normal(n // 4).astype(
        np.float32).tofile(path)
    try:
        def pipe_to(argv):
            def once():
                t0 = time.perf_counter()
                cat = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
                sink = subprocess.run(argv, stdin=cat.stdout,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
                cat.wait()
                assert sink.returncode == 0
                return time.perf_counter() - t0
            return once
        eg = median_time(pipe_to([EG, "stream", "--from", "-", "--format",
                                  "raw", "--dtype", "f32", "--window",
                                  "10s"]))
        base = median_time(pipe_to(["cat"]))
    finally:
        os.unlink(path)
    return {"bytes": n, "edgegrid_gbps": n / eg / 1e9,
            "cat_gbps": n / base / 1e9, "ratio": base / eg}


# --------------------------------------------------------------- zmq raw

def zmq_raw(tmp):
    import zmq
    msg_bytes = 64 << 10
    n = 2000 if QUICK else 20000
    payload = np.random.default_rng(2).standard_normal(
        msg_bytes // 4).astype(np.float32).tobytes()

    def run(argv, done):
        port = free_port()
        argv = [a.replace("PORT", str(port)) for a in argv]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(0.3)  # bound
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.setsockopt(zmq.SNDHWM, 100000)
        s.connect("tcp://127.0.0.1:%d" % port)
        t0 = time.perf_counter()
        for _ in range(n):
            s.send(payload, copy=False)
        line = p.stdout.readline()
        dt = time.perf_counter() - t0
        assert done(line), line
        s.close(linger=0)
        ctx.term()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
        return dt

    records = n * msg_bytes // 4
    eg = median_time(lambda: run(
        [EG, "stream", "--from", "zmq+tcp://127.0.0.1:PORT", "--format",
         "raw", "--dtype", "f32", "--window", str(records)],
        lambda l: json.loads(l)["count"] == records))
    base = median_time(lambda: run(
        [PROBE, "tcp://127.0.0.1:PORT", str(n)],
        lambda l: json.loads(l)["messages"] == n))
    total = n * msg_bytes
    return {"messages": n, "message_bytes": msg_bytes,
            "edgegrid_gbps": total / eg / 1e9,
            "libzmq_pull_gbps": total / base / 1e9, "ratio": base / eg}


# -------------------------------------------------------------- mqtt json

def mqtt_json(tmp):
    n = 20000 if QUICK else 100000
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\n"
                "persistence false\nmax_queued_messages 0\n"
                "max_queued_bytes 0\n" % port)
    broker = subprocess.Popen(["mosquitto", "-c", conf],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    topic = "bench/s1/json"
    eg_argv = [EG, "stream", "--from", "mqtt://127.0.0.1:%d/bench/+/json"
               % port, "--format", "json", "--fields", "a,b,c,d",
               "--window", str(n), "--name", "eg-bench", "--ops",
               "count,sum,min,max"]
    sub_argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q",
                "1", "-c", "-i", "sub-bench", "-t", "bench/+/json"]
    try:
        # register both persistent sessions, then leave
        p = subprocess.Popen(eg_argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        q = subprocess.Popen(sub_argv, stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        for x in (p, q):
            x.send_signal(signal.SIGTERM)
            x.wait(timeout=10)
        rng = np.random.default_rng(3)
        v = rng.normal(size=(n, 4))
        msgs = "".join('{"ts": %d, "a": %r, "b": %r, "c": %r, "d": %r}\n' % (
            1700000000000 + i, *map(float, r)) for i, r in enumerate(v))
        eg_runs, sub_runs, pub_runs = [], [], []
        for _ in range(REPS):
            e, u, b = drain_both(port, topic, msgs, n, eg_argv, sub_argv)
            eg_runs.append(e)
            sub_runs.append(u)
            pub_runs.append(b)
        eg_s = statistics.median(eg_runs)
        sub_s = statistics.median(sub_runs)
        pub_s = statistics.median(pub_runs)
    finally:
        broker.terminate()
        broker.wait()
    return {"messages": n, "edgegrid_msgs": n / eg_s,
            "mosquitto_sub_msgs": n / sub_s, "ratio": sub_s / eg_s,
            "publish_msgs": n / pub_s, "ekuiper_published_msgs": 12000}


def drain_both(port, topic, msgs, n, eg_argv, sub_argv):
    """Queues n messages for both sessions, then times each draining them
    (mosquitto_sub first, then edgegrid: the same broker state)."""
    # in runs of 20,000: a single mosquitto_pub -l of 100,000 QoS 1
    # messages outruns the broker's memory for it and is cut off
    lines = msgs.encode().splitlines(keepends=True)
    t0 = time.perf_counter()
    for at in range(0, n, 20000):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(port), "-q", "1", "-t", topic, "-l"],
                       input=b"".join(lines[at:at + 20000]), check=True)
    pub_s = time.perf_counter() - t0
    # both sessions now hold the same n messages: time each draining
    t0 = time.perf_counter()
    subprocess.run(sub_argv + ["-C", str(n)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    sub_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = subprocess.Popen(eg_argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = json.loads(p.stdout.readline())
    eg_s = time.perf_counter() - t0
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    assert line["count"] == n, line
    return eg_s, sub_s, pub_s


# --------------------------------------------------------------- latency

def read_lines(p, out):
    for raw in p.stdout:
        out.append((time.time(), json.loads(raw)))


def latency(tmp):
    windows = 30 if QUICK else 100
    win_ms = 100
    port = free_port()
    col = subprocess.Popen([EG, "collect", "--bind", "tcp://127.0.0.1:%d" %
                            port, "--boxes", "1", "--wait", "5s"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    box = subprocess.Popen([EG, "stream", "--from", "-", "--window",
                            "%dms" % win_ms, "--ops", "count,sum,mean",
                            "--push", "tcp://127.0.0.1:%d" % port, "--name",
                            "lat", "--drain", "2s"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    got_box, got_col = [], []
    ts = [threading.Thread(target=read_lines, args=(box, got_box)),
          threading.Thread(target=read_lines, args=(col, got_col))]
    for t in ts:
        t.start()
    end = time.time() + windows * win_ms / 1000.0 + 0.3
    i = 0
    while time.time() < end:
        box.stdin.write(b"%d\n" % i)
        box.stdin.flush()
        i += 1
        time.sleep(0.002)
    box.stdin.close()
    box.wait(timeout=30)
    time.sleep(0.3)
    col.send_signal(signal.SIGTERM)
    col.wait(timeout=30)
    for t in ts:
        t.join(timeout=10)

    def lat(lines):
        # the first and last windows are partial (the run's start and end)
        ms = sorted((t - l["window"][1]) * 1e3 for t, l in lines[1:-1])
        return {"windows": len(ms), "p50_ms": ms[len(ms) // 2],
                "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))]}
    return {"stream": lat(got_box), "collect": lat(got_col)}


# ---------------------------------------------------------------- memory

def memory(tmp):
    keys, per_key = 1000, 40 if QUICK else 200
    p = subprocess.Popen([EG, "stream", "--from", "-", "--format", "json",
                          "--fields", "c0,c1,c2,c3,c4,c5,c6,c7", "--key",
                          "field:id", "--time", "event", "--time-field", "ts",
                          "--window", "10s"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = np.random.default_rng(4)
    peak = 0
    for r in range(per_key):
        v = rng.normal(size=(keys, 8))
        # one record per key per 0.1 s of event time: 100 records of every
        # key in every 10 s window, 1,000 keys open at once
        chunk = "".join('{"ts": %.1f, "id": "sensor-%04d", %s}\n' % (
            1700000000 + r * 0.1, k, ", ".join(
                '"c%d": %r' % (c, float(v[k, c])) for c in range(8)))
            for k in range(keys))
        p.stdin.write(chunk.encode())
        p.stdin.flush()
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    p.stdin.close()
    p.wait(timeout=60)
    return {"keys": keys, "channels": 8, "records": keys * per_key,
            "peak_rss_mib": peak / 1024.0}


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def main():
    for tool in (EG, PROBE):
        if not os.access(tool, os.X_OK):
            sys.exit("stream_bench: %s not built" % tool)
    res = {"cpu": cpu_model(), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="eg-stream-bench-") as tmp:
        if wanted("stdin"):
            res["stdin_raw"] = stdin_raw(tmp)
        if wanted("zmq"):
            res["zmq_raw"] = zmq_raw(tmp)
        if wanted("mqtt") and shutil.which("mosquitto") and \
                shutil.which("mosquitto_sub"):
            res["mqtt_json"] = mqtt_json(tmp)
        if wanted("latency"):
            res["latency"] = latency(tmp)
        if wanted("memory"):
            res["memory"] = memory(tmp)
    if "--json" in sys.argv:
        print(json.dumps(res, indent=1))
        return
    print("CPU: %s (%d cores)" % (res["cpu"], res["cores"]))
    if "stdin_raw" in res:
        s = res["stdin_raw"]
        print("stdin raw f32     edgegrid %.2f GB/s   cat %.2f GB/s   ratio "
              "%.2f" % (s["edgegrid_gbps"], s["cat_gbps"], s["ratio"]))
    if "zmq_raw" in res:
        z = res["zmq_raw"]
        print("zmq raw 64 KiB    edgegrid %.2f GB/s   libzmq PULL %.2f GB/s   "
              "ratio %.2f" % (z["edgegrid_gbps"], z["libzmq_pull_gbps"],
                              z["ratio"]))
    if "mqtt_json" in res:
        m = res["mqtt_json"]
        print("mqtt json QoS 1   edgegrid %.0f msg/s   mosquitto_sub %.0f "
              "msg/s   ratio %.2f   (eKuiper published: 12,000 msg/s on a "
              "Pi 3B+)" % (m["edgegrid_msgs"], m["mosquitto_sub_msgs"],
                           m["ratio"]))
    if "latency" in res:
        la = res["latency"]
        print("window close      stream p50 %.2f ms p99 %.2f ms   collect "
              "p50 %.2f ms p99 %.2f ms" % (la["stream"]["p50_ms"],
                                           la["stream"]["p99_ms"],
                                           la["collect"]["p50_ms"],
                                           la["collect"]["p99_ms"]))
    if "memory" in res:
        me = res["memory"]
        print("memory            %d keys x %d channels: peak RSS %.1f MiB" %
              (me["keys"], me["channels"], me["peak_rss_mib"]))


if __name__ == "__main__":
    main()
