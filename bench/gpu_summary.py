#!/usr/bin/env python3
"""bench/gpu_summary.py DIR - the figures of one bench/gpu-check.sh run as
the Markdown table of the README's GPU section, and each goal of issue 13
met or not.

DIR holds what gpu-check.sh wrote: copy.txt (cl_copy_probe -q: the card's
host-to-device copy rate, GB/s), resident-{f32,f64}-{fast,exact}.json
(`edgegrid bench --resident --json`: the read probe, and per op the
reduction of host memory and of the same data in device memory) and
bench-{f32,f64}.json (`edgegrid bench --json`: per op the GPU alone, the
host alone and every device together, in that order).  A missing file leaves its cells
"-".  Every ratio comes from figures of one run.  Prints the Markdown to
stdout; exit 0 (the goals are reported, not enforced: a bench measures).
"""
import json
import os
import sys

# Goals (issue 13): device-resident single ops and fused over the read
# probe, exact sum over it, host-resident over the copy rate.
GOAL_RESIDENT = {"sum": 0.85, "min": 0.85, "max": 0.85, "l1": 0.85,
                 "fused": 0.8}
GOAL_EXACT_SUM = 0.7
GOAL_HOST = 0.85


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def copy_rate(d):
    try:
        with open(os.path.join(d, "copy.txt")) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def fmt(v, digits=1):
    return "-" if v is None else "%.*f" % (digits, v)


def mark(ratio, goal):
    if ratio is None or goal is None:
        return ""
    return " ok" if ratio >= goal else " **below %.2f**" % goal


def device_of(res):
    """The first GPU or accelerator block of a resident report."""
    if not res:
        return None
    for d in res["devices"]:
        if d["type"] in ("gpu", "accelerator", "accel"):
            return d
    return res["devices"][0] if res["devices"] else None


def rows_of(dev):
    return {r["name"]: r for r in dev["rows"]} if dev else {}


def main():
    d = sys.argv[1]
    copy = copy_rate(d)
    out = []
    name = None
    for t in ("f32", "f64"):
        fast = device_of(load(os.path.join(d, "resident-%s-fast.json" % t)))
        exact = device_of(load(os.path.join(d, "resident-%s-exact.json" % t)))
        name = name or (fast or exact or {}).get("name")
        probe = fast["read_probe"]["gbps"] if fast else None
        out.append("")
        out.append("%s: read probe %s GB/s (device memory), copy %s GB/s "
                   "(pinned host to device)" % (t, fmt(probe), fmt(copy)))
        out.append("")
        out.append("| op | resident GB/s | x probe | host-resident GB/s "
                   "| x copy | exact resident GB/s | exact / fast |")
        out.append("| --- | --- | --- | --- | --- | --- | --- |")
        fr, er = rows_of(fast), rows_of(exact)
        for op in ("sum", "min", "max", "l1", "fused"):
            r, e = fr.get(op), er.get(op)
            res = r["resident"]["gbps"] if r else None
            host = r["host"]["gbps"] if r else None
            xr = res / probe if res and probe else None
            xh = host / copy if host and copy else None
            eres = e["resident"]["gbps"] if e else None
            xe = eres / res if eres and res else None
            exact_goal = (mark(eres / probe, GOAL_EXACT_SUM)
                          if op == "sum" and eres and probe else "")
            out.append("| %s | %s | %s%s | %s | %s%s | %s%s | %s |" % (
                op, fmt(res), fmt(xr, 3), mark(xr, GOAL_RESIDENT.get(op)),
                fmt(host), fmt(xh, 3), mark(xh, GOAL_HOST), fmt(eres),
                exact_goal, fmt(xe, 2)))
        bench = load(os.path.join(d, "bench-%s.json" % t))
        if bench:
            out.append("")
            out.append("| op (host memory) | %s |" % " | ".join(
                c["devices"] for c in bench["configs"]))
            out.append("| --- |%s" % (" --- |" * len(bench["configs"])))
            for op in bench["ops"]:
                cells, gbps = [], {}
                for c in bench["configs"]:
                    f = op["edgegrid"].get(c["devices"])
                    g = f.get("gbps") if f else None
                    gbps[c["devices"]] = g
                    cells.append(fmt(g))
                # Goal: every device together at least the faster of the
                # GPU alone and the host alone, on the same data.
                alone = [g for k, g in gbps.items() if k != "all" and g]
                if gbps.get("all") and alone:
                    at = list(gbps).index("all")
                    cells[at] += mark(gbps["all"] / max(alone), 1.0)
                out.append("| %s | %s |" % (op["op"], " | ".join(cells)))
    head = ["GPU figures of bench/gpu-check.sh on %s (GB/s; ratios of one "
            "run; goals of issue 13 marked)" % (name or "?")]
    print("\n".join(head + out))


if __name__ == "__main__":
    main()
