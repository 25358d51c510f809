#!/usr/bin/env python3
"""bench/smoke_check.py EDGEGRID [--mode exact] - a smoke test of
`edgegrid bench`.

Runs the bench on 2 MiB (512 Ki float32 elements: above the engine's
small-input threshold of 256 Ki, which the host takes alone, so every
device selection really runs on its devices), checks that its JSON parses
and holds the roof and edgegrid's figures with their ratios to the roof in
pairs (and numpy's when numpy is importable), and that bad options are
usage errors.  With --mode exact it also checks exact mode's
figures beside fast mode's, and that exact results have the same bits on
every device selection.  No speed is asserted: timings on a shared CI box
say nothing.  Registered with CTest as bench_smoke and bench_smoke_exact.
"""
import json
import math
import subprocess
import sys


SIZE = 2 << 20  # bytes of float32 the bench reduces


def fail(msg):
    print("bench_smoke: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def check_pairs(p, what):
    """Ratios of paired readings: two pairs, median inside their range."""
    if not p or p.get("n") != 2 or not all(
            positive(p.get(k)) for k in ("median", "lo", "hi")) or not (
            p["lo"] <= p["median"] <= p["hi"]):
        fail("%s: pairs %r" % (what, p))


def check_report(d):
    if d.get("bench") != "edgegrid" or d.get("dtype") != "float32":
        fail("not a float32 edgegrid bench report")
    if d.get("bytes") != SIZE or d.get("count") != SIZE // 4:
        fail("bytes/count are %r/%r" % (d.get("bytes"), d.get("count")))
    roof = d.get("roof") or {}
    if not positive(roof.get("gbps")) or roof.get("threads", 0) < 1:
        fail("no roof figure: %r" % roof)
    configs = [c["devices"] for c in d.get("configs", [])]
    for want in ("all",):
        if want not in configs:
            fail("device selection %r not measured (%r)" % (want, configs))
    if len(configs) < len(d.get("devices", [])) + 1:
        fail("expected every device alone plus all, got %r" % configs)
    rows = {r["op"]: r for r in d.get("ops", [])}
    for op in ("sum", "min", "max", "l1", "l2", "mean", "std", "argmin",
               "argmax", "dot", "fused"):
        if op not in rows:
            fail("op %s missing from the report" % op)
        best = rows[op].get("best")
        if not best or not positive(best.get("gbps")) or not positive(
                best.get("ratio_roof")):
            fail("no edgegrid figure for %s: %r" % (op, rows[op]))
    # Every measured cell has its ratio to the roof in pairs (--reps 2).
    for op, row in rows.items():
        for spec, c in row.get("edgegrid", {}).items():
            if "gbps" in c:
                check_pairs(c.get("pairs_roof"), "%s on %s" % (op, spec))
    # The same bytes went to every device selection: their sums agree.
    sums = [c["results"]["sum"] for c in rows["sum"]["edgegrid"].values()
            if "results" in c]
    if not sums or max(sums) - min(sums) > 1e-9 * abs(max(sums)):
        fail("sum differs between device selections: %r" % sums)
    if rows["fused"]["best"] and set(rows["fused"]["ops"]) != {
            "count", "sum", "mean", "min", "max", "std"}:
        fail("fused is not the default op set: %r" % rows["fused"]["ops"])
    lat = d.get("latency") or []
    if {e["bytes"] for e in lat} != {4096, 65536, 1048576}:
        fail("latency sizes: %r" % [e["bytes"] for e in lat])
    if d.get("numpy"):
        if not positive((rows["sum"].get("numpy") or {}).get("gbps")):
            fail("numpy ran but has no sum figure")
    elif not d.get("numpy_note"):
        fail("numpy neither ran nor said why")


# What exact mode changes per row on float32 (bench_eg_exact_ops).
EXACT_OPS = {"sum": ["sum"], "min": [], "max": [], "l1": ["l1"],
             "l2": ["l2"], "mean": ["mean"], "std": ["std"], "argmin": [],
             "argmax": [], "dot": ["dot"], "fused": ["sum", "mean", "std"]}


def check_exact(d):
    """Exact mode's figures beside fast mode's, for every op and selection."""
    configs = [c["devices"] for c in d["configs"]]
    for row in d["ops"]:
        op = row["op"]
        if row.get("exact_ops") != EXACT_OPS[op]:
            fail("%s: exact_ops %r" % (op, row.get("exact_ops")))
        cells = row.get("exact") or {}
        if sorted(cells) != sorted(configs):
            fail("%s: exact figures for %r, not %r" % (op, sorted(cells),
                                                       configs))
        for spec, c in cells.items():
            if not positive(c.get("gbps")) or not positive(
                    c.get("ratio_fast")):
                fail("%s on %s: no exact figure: %r" % (op, spec, c))
            check_pairs(c.get("pairs_roof"), "exact %s on %s" % (op, spec))
            check_pairs(c.get("pairs_fast"), "exact %s on %s" % (op, spec))
        best = row.get("exact_best") or {}
        for k in ("gbps", "ratio_roof", "ratio_fast"):
            if not positive(best.get(k)):
                fail("%s: exact_best has no %s: %r" % (op, k, best))
    # Exact mode's contract: the same bits on any device set.
    rows = {r["op"]: r for r in d["ops"]}
    for op in ("sum", "l1", "dot", "mean"):
        vals = {repr(c["results"][op]) for c in rows[op]["exact"].values()}
        if len(vals) != 1:
            fail("exact %s differs between device selections: %r" %
                 (op, vals))


def main():
    exe = sys.argv[1]
    extra = sys.argv[2:]  # none: the default mode, which is fast
    mode = extra[1] if extra[:1] == ["--mode"] else "fast"
    p = subprocess.run([exe, "bench", "--size", str(SIZE), "--reps", "2",
                        "--json"] + extra, capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        fail("exit %d: %s" % (p.returncode, p.stderr.strip()))
    try:
        d = json.loads(p.stdout)
    except ValueError as e:
        fail("stdout is not JSON (%s): %r" % (e, p.stdout[:200]))
    check_report(d)
    if d.get("mode") != mode:
        fail("mode is %r, not %r" % (d.get("mode"), mode))
    if mode == "exact":
        check_exact(d)
    elif any("exact" in r for r in d["ops"]):
        fail("fast mode reported exact figures")

    for bad in (["--ops", "nosuchop"], ["--size", "3"], ["--reps", "0"],
                ["--dtype", "complex64"], ["--max-size", "4Gi"],
                ["--mode", "approx"]):
        q = subprocess.run([exe, "bench"] + bad, capture_output=True,
                           text=True, timeout=60)
        if q.returncode != 2 or q.stdout or len(q.stderr.splitlines()) != 1:
            fail("%r: want exit 2 and one error line, got %d %r" %
                 (bad, q.returncode, q.stderr))
    h = subprocess.run([exe, "bench", "--help"], capture_output=True,
                       text=True, timeout=60)
    if h.returncode != 0 or "--plot" not in h.stdout or \
            "--mode fast|exact" not in h.stdout:
        fail("bench --help")
    print("bench_smoke: ok (%s mode; roof %.1f GB/s; numpy %s)" %
          (mode, d["roof"]["gbps"], "ran" if d.get("numpy") else "skipped"))


if __name__ == "__main__":
    main()
