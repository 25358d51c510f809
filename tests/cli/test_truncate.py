"""A file truncated while it is read, as a user whose producer rewrites it
would do: `edgegrid reduce` (the host backend and a POCL device, whole
array, --axis and --by), the grid's coordinator reading tasks inline, and a
worker reading a shard.  Every run
must end in one clear line naming the file and how far it was read, exit 1
(never a signal: a memory-mapped file ends in SIGBUS); the coordinator's
workers stay up; stdin and pipes read as before.

The moment of the cut is taken from the run itself (a progress line) or
from workers slowed with --task-delay-ms, so it falls mid-read on a fast
machine or a slow one.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
CHANGED = "the file changed while it was read"


def last_line(err):
    lines = err.strip().splitlines()
    return lines[-1] if lines else ""


def check_changed(rc, err, path, what, cut, size, mapped=False):
    """rc 1 and a last line that names the file, the change (to `cut` of
    `size` bytes) and how far the read got.  `mapped`: the input was
    memory-mapped, so the line may also be the program's own for a page
    that faulted (host/fault_guard.c), which names the file by its real
    path and knows no size at open."""
    line = last_line(err)
    if rc < 0:
        raise AssertionError("%s: killed by signal %d: %r" % (what, -rc,
                                                              err[-500:]))
    want = ("edgegrid: %s: %s: truncated to %d bytes (%d when opened), "
            "read up to byte " % (path, CHANGED, cut, size))
    fault = ("edgegrid: %s: %s: truncated to %d bytes while mapped, read up "
             "to byte " % (os.path.realpath(path), CHANGED, cut))
    ok = line.startswith(want) or (mapped and line.startswith(fault))
    if rc != 1 or not ok:
        raise AssertionError("%s: exit %d, last line %r, want %r..." % (
            what, rc, line, want))
    return line.startswith(fault)


def reduce_cut_at(pristine, path, delay, cut, devices, env=None):
    """Runs reduce on a fresh copy of pristine; `delay` seconds after its
    first progress line (its threads are reading by then) stops it, cuts
    the file to `cut` bytes and lets it go on.  `env`: variables added to
    cu.env().  Returns (rc, stderr, stdout)."""
    shutil.copyfile(pristine, path)
    # Small chunks make many reads; the progress lines tell when the run
    # is under way.
    argv = [cu.binary(), "reduce", "--devices", devices, "--chunk", 4096,
            "--progress", "--json", path]
    out = open(path + ".out", "w+b")
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.PIPE,
                         env=cu.env(**(env or {})))
    lines = []
    stopped = False
    for raw in p.stderr:
        line = raw.decode(errors="replace")
        lines.append(line)
        if not stopped and line.startswith("progress:"):
            stopped = True
            time.sleep(delay)
            # SIGSTOP freezes it mid-read, however fast the machine
            p.send_signal(signal.SIGSTOP)
            os.truncate(path, cut)
            p.send_signal(signal.SIGCONT)
    rc = p.wait(timeout=cu.TIMEOUT)
    out.seek(0)
    result = out.read()
    out.close()
    return rc, "".join(lines), result


def reduce_truncated(tmp, devices, env=None):
    """Cuts at four moments of `reduce --devices DEVICES` (with `env`): at
    least two must fall mid-read and end in the clear line.  Returns how
    many of those lines were the fault guard's."""
    pristine = os.path.join(tmp, "pristine.npy")
    path = os.path.join(tmp, "x.npy")
    cu.ok(["gen", "--count", "32Mi", "--dtype", "f32", "--seed", 3,
           "-o", pristine])
    size = os.path.getsize(pristine)
    want = cu.reduce_json(pristine, "--devices", devices, "--chunk", 4096,
                          environ=cu.env(**(env or {})))["results"]
    hits = faults = 0
    moments = ((0, size // 2), (0, 128), (0.01, size - 1), (0.03, 4096))
    for delay, cut in moments:
        rc, err, out = reduce_cut_at(pristine, path, delay, cut, devices, env)
        what = "%s, cut to %d %g s in" % (devices, cut, delay)
        if rc == 0 and CHANGED not in err:
            # The reads were done already: nothing lost, the uncut file's
            # results (a map reads what a cut leaves of a page as zeros:
            # never a wrong sum).  Fine, but a run that never fails would
            # prove nothing (checked below).
            got = json.loads(out)["results"]
            if got != want:
                raise AssertionError("%s: exit 0 with results %r, the uncut "
                                     "file's %r" % (what, got, want))
            continue
        # reduce may map the file (EDGEGRID_INGEST=auto, its default)
        faults += check_changed(rc, err, path, what, cut, size, mapped=True)
        hits += 1
    if hits < 2:
        raise AssertionError("%s: only %d of %d cuts fell mid-read" % (
            devices, hits, len(moments)))
    return faults


@suite.test
def reduce_host_backend(tmp):
    reduce_truncated(tmp, "host")


@suite.test
def reduce_opencl_device(tmp):
    devs = cu.run(["devices", "--json"])
    if b'"type": "cpu"' not in devs.stdout:
        print("skip: no OpenCL CPU device")
        return
    reduce_truncated(tmp, "cpu")


@suite.test
def mapped_input_cut_ends_in_one_line(tmp):
    # EDGEGRID_INGEST=map: the engine finds most cuts when it maps a
    # chunk's pages in (its own line); a cut under pages already mapped
    # faults, and the program's guard writes the line instead of dying of
    # SIGBUS, in the host's threads and in POCL's
    env = {"EDGEGRID_INGEST": "map"}
    reduce_truncated(tmp, "host", env)
    devs = cu.run(["devices", "--json"])
    if b'"type": "cpu"' in devs.stdout:
        reduce_truncated(tmp, "cpu", env)
    if hooks_built():
        # reduce's default, "auto", with its timing forced to choose the
        # map (the file is below the size it times)
        reduce_truncated(tmp, "host", {PROBE: "map"})
    # a page that faults, every time: --axis 1 of a Fortran-order array
    # reads the mapped file in place (no chunk is mapped in ahead); reduce's
    # default, "auto", maps what --axis would copy
    x = np.asfortranarray(
        np.random.default_rng(9).standard_normal((32768, 256)))
    mapped = {"EDGEGRID_INGEST": None}
    structured_truncated(tmp, "mapcols", {"x": x},
                         ["--mode", "exact", "--axis", 1, "--ops", "sum,std",
                          "{x}"], "x", env=mapped, hits=2, faults=2)


PROBE = "EDGEGRID_TEST_INGEST_PROBE"


@suite.test
def auto_ingest_notes_its_choice_and_keeps_the_bits(tmp):
    # `reduce` brings a file in by "auto": a large one is timed both ways
    # and mapped where that is faster; either way the same bits, and the
    # note says which way and why
    x = np.random.default_rng(10).standard_normal(1 << 20).astype(np.float32)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    runs = {}
    for how, extra in (("read", {"EDGEGRID_INGEST": "read"}),
                       ("map", {"EDGEGRID_INGEST": "map"}),
                       ("auto", {"EDGEGRID_INGEST": None}),
                       ("auto-map", {"EDGEGRID_INGEST": None, PROBE: "map"}),
                       ("auto-read", {"EDGEGRID_INGEST": None,
                                      PROBE: "read"})):
        if PROBE in extra and not hooks_built():
            continue
        p = cu.run(["reduce", "--json", "--devices", "host", path],
                   environ=cu.env(**extra))
        if p.returncode != 0:
            raise AssertionError("%s: exit %d: %r" % (how, p.returncode,
                                                      p.stderr[-300:]))
        # --json writes the notes to stderr
        runs[how] = dict(json.loads(p.stdout),
                         notes=p.stderr.decode(errors="replace"))
    for how, r in runs.items():
        if r["results"] != runs["read"]["results"]:
            raise AssertionError("%s: results %r, pread's %r" % (
                how, r["results"], runs["read"]["results"]))
    # 4 MiB is below the size auto times: read, and nothing noted
    if "input " in runs["auto"]["notes"]:
        raise AssertionError("auto on 4 MiB: notes %r" % runs["auto"]["notes"])
    # a map is noted (it departs from the library's pread), pread is not
    for how, word in (("auto-map", "input mapped (forced by"),
                      ("auto-read", "")):
        notes = runs.get(how, {"notes": word})["notes"]
        if (word and word not in notes) or (not word and "input " in notes):
            raise AssertionError("%s: notes %r, want %r" % (how, notes, word))
    bad = cu.run(["reduce", path], environ=cu.env(EDGEGRID_INGEST="mmap"))
    line = last_line(bad.stderr.decode())
    if bad.returncode != 2 or "'read', 'map' or 'auto'" not in line:
        raise AssertionError("EDGEGRID_INGEST=mmap: exit %d, %r" % (
            bad.returncode, line))


@suite.test
def stdin_and_pipes_still_read(tmp):
    x = np.random.default_rng(4).standard_normal(300001).astype(np.float32)
    path = os.path.join(tmp, "x.npy")
    np.save(path, x)
    want = cu.reduce_json(path)
    with open(path, "rb") as f:
        data = f.read()
    got = cu.reduce_json("-", stdin=data)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(data)

    t = threading.Thread(target=feed)
    t.start()
    piped = cu.reduce_json(fifo)
    t.join(timeout=30)
    for doc, how in ((got, "stdin"), (piped, "a named pipe")):
        if doc["results"] != want["results"]:
            raise AssertionError("%s: %r, file: %r" % (how, doc["results"],
                                                       want["results"]))


def opened(pid, path):
    """Whether process pid holds path open or mapped (it has begun)."""
    real = os.path.realpath(path)
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == real:
                    return True
            except OSError:
                pass
        with open("/proc/%d/maps" % pid) as f:
            return any(line.rstrip().endswith(real) for line in f)
    except OSError:
        return False


def structured_run(paths, argv, out, cut=None, delay=0, cut_to=0,
                   env=None):
    """`reduce --devices host ARGV -o OUT` with {x}/{k} in argv filled from
    paths.  With cut, `delay` seconds after the process has opened
    paths[cut] it is stopped, that file cut to `cut_to` bytes and the
    process let go on.  `env`: variables added to cu.env().  Returns (rc,
    stderr, whether it was still running when cut)."""
    if os.path.exists(out):
        os.remove(out)
    cmd = [cu.binary(), "reduce", "--devices", "host", "--json"]
    cmd += [str(a).format(**paths) for a in argv] + ["-o", out]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=cu.env(**(env or {})))
    running = False
    if cut is not None:
        deadline = time.monotonic() + cu.TIMEOUT
        while p.poll() is None and not opened(p.pid, paths[cut]):
            if time.monotonic() > deadline:
                p.kill()
                raise AssertionError("%r never opened its input" % cmd)
        time.sleep(delay)
        running = p.poll() is None
        if running:
            # SIGSTOP freezes it mid-read, however fast the machine
            p.send_signal(signal.SIGSTOP)
        os.truncate(paths[cut], cut_to)
        if running:
            p.send_signal(signal.SIGCONT)
    err = p.stderr.read().decode(errors="replace")
    return p.wait(timeout=cu.TIMEOUT), err, running


def structured_truncated(tmp, name, arrays, argv, cut, env=None, hits=0,
                         faults=0):
    """--axis / --by with arrays[cut] (the input or the keys) cut at
    several moments: every run ends in the clear line (exit 1) or, when the
    cut came after the bytes were read, in the uncut files' result, bit for
    bit; never a signal (a mapped input would end in SIGBUS but for the
    fault guard).  `env` for every run; at least `hits` runs must end in
    the clear line, `faults` of them the fault guard's."""
    pristine, live = {}, {}
    for key, a in arrays.items():
        pristine[key] = os.path.join(tmp, "%s-%s-pristine.npy" % (name, key))
        live[key] = os.path.join(tmp, "%s-%s.npy" % (name, key))
        np.save(pristine[key], a)
    ref = os.path.join(tmp, name + "-ref.npz")
    rc, err, _ = structured_run(pristine, argv, ref, env=env)
    if rc != 0:
        raise AssertionError("%s uncut: exit %d: %r" % (name, rc, err[-500:]))
    with np.load(ref) as z:
        want = {k: z[k].copy() for k in z.files}
    size = os.path.getsize(pristine[cut])
    out = os.path.join(tmp, name + "-cut.npz")
    running = failed = guarded = 0
    for delay, cut_to in ((0, size // 2), (0.003, 128), (0.02, size - 1),
                          (0.06, 4096)):
        for key in arrays:
            shutil.copyfile(pristine[key], live[key])
        rc, err, live_cut = structured_run(live, argv, out, cut, delay,
                                           cut_to, env)
        what = "%s, cut to %d %g s in" % (name, cut_to, delay)
        running += live_cut
        if rc < 0:
            raise AssertionError("%s: killed by signal %d: %r" % (
                what, -rc, err[-500:]))
        if rc == 0:
            with np.load(out) as z:
                for k, v in want.items():
                    if not np.array_equal(z[k], v, equal_nan=True):
                        raise AssertionError("%s: %s differs from the "
                                             "uncut file's" % (what, k))
            continue
        # reduce maps a file it would copy (EDGEGRID_INGEST=auto)
        guarded += check_changed(rc, err, live[cut], what, cut_to, size,
                                 mapped=True)
        failed += 1
    if failed < hits:
        raise AssertionError("%s: only %d cuts ended in the clear line, "
                             "want %d" % (name, failed, hits))
    if guarded < faults:
        raise AssertionError("%s: only %d cuts ended in the fault guard's "
                             "line, want %d" % (name, guarded, faults))
    # A cut after the run ended would prove nothing.
    if running < 3:
        raise AssertionError("%s: only %d of 4 cuts came while it ran" % (
            name, running))


# The library's way for --axis and --by: the input copied whole with
# pread.  reduce's default ("auto") maps it instead, which is fast enough
# that most cuts would come after the run; mapped_input_cut_ends_in_one_line
# cuts that way in.
COPY = {"EDGEGRID_INGEST": "read"}


@suite.test
def axis_reduction_input_cut(tmp):
    x = np.random.default_rng(5).standard_normal((1024, 8192))
    structured_truncated(tmp, "axis0", {"x": x.astype(np.float32)},
                         ["--axis", 0, "{x}"], "x", env=COPY)
    structured_truncated(tmp, "axis1", {"x": x},
                         ["--axis", 1, "--ops", "sum,min,argmax", "{x}"], "x",
                         env=COPY)


@suite.test
def group_reduction_input_and_keys_cut(tmp):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(8 << 20).astype(np.float32)
    k = rng.integers(0, 1000, x.size).astype(np.int64)
    arrays = {"x": x, "k": k}
    argv = ["--by", "{k}", "{x}"]
    structured_truncated(tmp, "byx", arrays, argv, "x", env=COPY)
    structured_truncated(tmp, "byk", arrays, argv, "k", env=COPY)


# A file over half the physical memory is not copied for --by but read by
# row ranges with pread; test builds take that bound from this variable,
# so a few MiB stand for a file larger than the machine can hold twice.
STORE_LIMIT = "EDGEGRID_TEST_STORE_LIMIT"


def holds(pid, path):
    """(whether pid has path open, whether it has it mapped)."""
    real = os.path.realpath(path)
    fds = False
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            fds = fds or os.readlink("/proc/%d/fd/%s" % (pid, fd)) == real
        except OSError:
            pass
    with open("/proc/%d/maps" % pid) as f:
        mapped = any(line.rstrip().endswith(real) for line in f)
    return fds, mapped


def held_after(argv, path, env, delay):
    """holds() of a run of argv `delay` seconds after it opened path."""
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=cu.env(**env))
    deadline = time.monotonic() + cu.TIMEOUT
    state = None
    while p.poll() is None and time.monotonic() < deadline:
        try:
            if holds(p.pid, path)[0]:
                time.sleep(delay)
                p.send_signal(signal.SIGSTOP)
                state = holds(p.pid, path)
                p.send_signal(signal.SIGCONT)
                break
        except OSError:
            pass  # it ended between the checks
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait(timeout=cu.TIMEOUT)
    if rc != 0:
        raise AssertionError("%r: exit %d: %r" % (argv, rc, err[-500:]))
    return state if state is not None else (False, False)


def cut_while_grouping(tmp, x, k, env):
    """--by with an input too large to copy: stopped while it groups the
    keys (it has them open), it holds the input open for pread and not
    mapped (a copy would have closed it, a map would show in
    /proc/PID/maps); the input cut then, before its rows are read, ends in
    the clear line, exit 1, never SIGBUS."""
    xp, kp = os.path.join(tmp, "g-x.npy"), os.path.join(tmp, "g-k.npy")
    np.save(xp, x)
    np.save(kp, k)
    size = os.path.getsize(xp)
    cmd = [str(a) for a in (cu.binary(), "reduce", "--devices", "host",
                            "--json", "--by", kp, xp)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=cu.env(**env))
    deadline = time.monotonic() + cu.TIMEOUT
    caught = None
    while p.poll() is None and time.monotonic() < deadline:
        try:
            if holds(p.pid, kp)[0]:
                p.send_signal(signal.SIGSTOP)
                caught = holds(p.pid, xp)
                os.truncate(xp, size // 2)
                p.send_signal(signal.SIGCONT)
                break
        except OSError:
            pass  # it ended between the checks
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait(timeout=cu.TIMEOUT)
    if caught is None:
        raise AssertionError("never caught it with the keys open: exit %d, "
                             "%r" % (rc, err[-500:]))
    if caught != (True, False):
        raise AssertionError("input open %s, mapped %s while the keys are "
                             "grouped; want open for pread, not mapped" %
                             caught)
    check_changed(rc, err, xp, "cut while grouping", size // 2, size)


def hooks_built():
    """Only test builds (EDGEGRID_TEST_HOOKS) read STORE_LIMIT."""
    return os.environ.get("EDGEGRID_TEST_HOOKS_BUILT", "").upper() in (
        "ON", "1", "TRUE", "YES", "Y")


def same_as_in_memory(tmp, name, arrays, argv, env, how):
    """Saves arrays as tmp/NAME-KEY.npy, runs argv (structured_run's
    placeholders) once on the file read whole into memory and once under
    env (a lowered STORE_LIMIT), and asserts the two .npz results hold the
    same fields with the same bits.  Returns the limited run's fields; its
    npz stays as tmp/NAME-HOW.npz."""
    paths = {}
    for key, a in arrays.items():
        paths[key] = os.path.join(tmp, "%s-%s.npy" % (name, key))
        np.save(paths[key], a)
    got = {}
    for run, e in (("memory", {STORE_LIMIT: None}), (how, env)):
        out = os.path.join(tmp, "%s-%s.npz" % (name, run))
        rc, err, _ = structured_run(paths, argv, out, env=e)
        if rc != 0:
            raise AssertionError("%s %s: exit %d: %r" % (
                name, run, rc, err[-500:]))
        with np.load(out) as z:
            got[run] = {f: z[f].copy() for f in z.files}
    if sorted(got["memory"]) != sorted(got[how]):
        raise AssertionError("%s: fields %r and %r" % (
            name, sorted(got["memory"]), sorted(got[how])))
    for f, v in got["memory"].items():
        if not np.array_equal(got[how][f], v, equal_nan=True):
            raise AssertionError("%s: %s (%s) differs from the file read "
                                 "whole" % (name, f, how))
    return got[how]


@suite.test
def group_reduction_of_a_file_too_large_to_copy(tmp):
    if not hooks_built():
        print("skip: not a test-hooks build, no %s" % STORE_LIMIT)
        return
    rng = np.random.default_rng(7)
    rows = 1 << 20
    small = {STORE_LIMIT: "64Ki"}
    cases = (
        ("big2d", rng.standard_normal((rows, 3)),
         ["--ops", "count,sum,min,argmax,std"]),
        ("big1d", rng.standard_normal(rows).astype(">f4"), ["--ops",
                                                             "sum,mean,max"]),
        ("bigq", rng.standard_normal(rows).astype(np.float32),
         ["--ops", "median,sum"]),
    )
    k = rng.integers(-500, 500, rows).astype(np.int64)
    for name, x, ops in cases:
        argv = ["--by", "{k}"] + ops + ["{x}"]
        got = same_as_in_memory(tmp, name, {"x": x, "k": k}, argv, small,
                                "pread")
        if name == "big2d":
            # against numpy, so that both paths cannot agree on a wrong sum
            keys = np.unique(k)
            want = np.array([x[k == g].sum(axis=0) for g in keys])
            if not np.allclose(got["sum"], want, rtol=1e-12,
                               atol=1e-9):
                raise AssertionError("big2d: sums differ from numpy's")
    x = rng.standard_normal((rows, 4)).astype(np.float32)
    cut_while_grouping(tmp, x, k, small)
    # cut at other moments: the clear line or the uncut result, never a
    # signal
    structured_truncated(tmp, "bigx", {"x": x, "k": k},
                         ["--by", "{k}", "{x}"], "x", env=small, hits=2)
    structured_truncated(tmp, "bigk", {"x": x, "k": k},
                         ["--by", "{k}", "{x}"], "k", env=small)


@suite.test
def axis_reduction_of_a_file_too_large_to_copy(tmp):
    if not hooks_built():
        print("skip: not a test-hooks build, no %s" % STORE_LIMIT)
        return
    # a 1 MiB bound: pieces of 256 KiB, so each file below takes dozens
    env = {STORE_LIMIT: "1Mi"}
    rng = np.random.default_rng(8)
    rows = rng.standard_normal((65536, 16))
    cols = rng.standard_normal((4096, 512)).astype(">f4")
    cube = rng.integers(-1000, 1000, (64, 128, 64)).astype(np.int32)
    cases = (
        ("rows", {"x": rows}, ["--axis", -1, "--ops",
                               "count,sum,min,argmax,std,l2", "{x}"]),
        ("rowsdot", {"x": rows, "y": rows[::-1].copy()},
         ["--axis", 1, "--ops", "dot,sum", "--with", "{y}", "{x}"]),
        ("cols", {"x": cols}, ["--axis", 0, "--ops", "sum,mean,argmin,var",
                               "{x}"]),
        ("exact", {"x": rows}, ["--mode", "exact", "--axis", 1, "--ops",
                                "sum,mean", "{x}"]),
        ("cube12", {"x": cube}, ["--axis", "1,2", "--ops", "sum,min,max",
                                 "{x}"]),
        ("cube01", {"x": cube}, ["--axis", "0,1", "--ops", "sum,min,max",
                                 "{x}"]),
        # reduced axes in the middle do not cut into pieces: still mapped
        ("cube1", {"x": cube}, ["--axis", 1, "--ops", "sum", "{x}"]),
    )
    for name, arrays, argv in cases:
        same_as_in_memory(tmp, name, arrays, argv, env, "pieces")
    # against numpy, so that both paths cannot agree on a wrong result
    want = {"rows": rows.sum(axis=-1), "cols": cols.astype(np.float64).sum(axis=0),
            "cube12": cube.sum(axis=(1, 2)), "cube01": cube.sum(axis=(0, 1))}
    for name, w in want.items():
        with np.load(os.path.join(tmp, "%s-pieces.npz" % name)) as z:
            if not np.allclose(z["sum"], w, rtol=1e-9, atol=1e-9):
                raise AssertionError("%s: sums differ from numpy's" % name)
    # read in pieces: 5 ms after it opened the input (of the 50 to 300 ms
    # the reads and exact sums take on an idle machine) it still holds it
    # open, not mapped; a copy closes it after one read of 2 ms, a map
    # shows in /proc/PID/maps
    for name, axis in (("rows", -1), ("cols", 0)):
        argv = [cu.binary(), "reduce", "--devices", "host", "--axis", axis,
                "--mode", "exact", "--ops", "sum,std",
                os.path.join(tmp, "%s-x.npy" % name)]
        state = held_after(argv, argv[-1], env, 0.005)
        if state != (True, False):
            raise AssertionError("%s: input open %s, mapped %s 5 ms in; "
                                 "want open for pread, not mapped" % (
                                     name, state[0], state[1]))
    # cut while it runs: the clear line, never SIGBUS (rows of 16 take the
    # short rows' fast pass: 4x the rows above, so that the cuts 3 and
    # 20 ms in still come while it reads)
    long_rows = rng.standard_normal((4 * 65536, 16))
    structured_truncated(tmp, "piecerows", {"x": long_rows},
                         ["--axis", -1, "--ops", "sum,max", "{x}"], "x",
                         env=env, hits=2)
    structured_truncated(tmp, "piececols", {"x": cols},
                         ["--axis", 0, "--ops", "sum,max", "{x}"], "x",
                         env=env, hits=2)


ELEMS = 4096  # elements per task


@suite.test
def coordinator_fails_the_job_and_workers_stay_up(tmp):
    path = os.path.join(tmp, "x.npy")
    np.save(path, np.arange(400 * ELEMS, dtype=np.float32))
    size = os.path.getsize(path)
    args = ["--task-bytes", ELEMS * 4, "--timeout", 60, "--json", path]
    with gu.Grid(tmp, args) as g:
        for name in ("a", "b"):
            g.worker(name, "--task-delay-ms", 10, wait=True)
        time.sleep(0.5)  # 400 tasks of 10 ms on two workers: 2 s
        os.truncate(path, 100 * ELEMS * 4)
        rc, out, err = g.wait(timeout=60)
        check_changed(rc, err, path, "coordinator", 100 * ELEMS * 4, size)
        time.sleep(0.5)
        for name, w in g.workers.items():
            if not w.alive():
                raise AssertionError("worker %s ended with the job: %r" % (
                    name, w.stderr()[-500:]))


def rchar(pid):
    """Bytes the process has read (read, pread), from /proc/PID/io."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


@suite.test
def worker_fails_the_shard_task_with_the_reason(tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    shard = os.path.join(root, "s0.npy")
    n = 32 * 1024 * 1024
    np.save(shard, np.ones(n, dtype=np.float32))
    manifest = os.path.join(tmp, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("s0.npy %d\n" % n)
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 60, "--json"]) as g:
        w = g.worker("a", "--shard-root", root, "--task-delay-ms", 300,
                     wait=True)
        # Once the worker has read a few MiB of its 128 MiB shard it is
        # stopped, the shard cut, and it goes on.
        base = rchar(w.p.pid)
        deadline = time.monotonic() + 30
        while rchar(w.p.pid) < base + (4 << 20):
            if time.monotonic() > deadline:
                raise AssertionError("the worker never read its shard")
        w.kill(signal.SIGSTOP)
        os.truncate(shard, 4096)
        w.kill(signal.SIGCONT)
        rc, out, err = g.wait(timeout=60)
        line = last_line(err)
        if rc != 1 or "shard 's0.npy' failed" not in line:
            raise AssertionError("exit %d, last line %r" % (rc, line))
        wl = w.stderr()
        first = [x for x in wl.splitlines() if "task 0 failed" in x][:1]
        want = "%s: %s: truncated to 4096 bytes" % (shard, CHANGED)
        if not first or want not in first[0]:
            raise AssertionError("worker's first failure %r, want %r" % (
                first, want))
        if want not in err:
            raise AssertionError("the reason is not passed on: %r" % err)
        time.sleep(0.3)
        if not w.alive():
            raise AssertionError("worker ended: %r" % wl[-500:])


if __name__ == "__main__":
    suite.main()
