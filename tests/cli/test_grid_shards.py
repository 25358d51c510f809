"""Edge mode: the data stays on the workers (each serves the shards found
under its --shard-root) and only partial states travel.  The result must be
the reduction of the shards concatenated in manifest order, every shard
counted exactly once even when two workers hold it or a worker pushes its
states twice; a shard nobody holds is named when the job times out; a shard
that contradicts the manifest fails the job.
"""

import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cliutil as cu  # noqa: E402
import gridutil as gu  # noqa: E402

suite = cu.Suite()
LENGTHS = [5000, 0, 12345, 7000, 3000]
NAMES = ["s0.npy", "s1.npy", "sub/s2.npy", "s3.npy", "s4.npy"]
# Worker a holds s0 s1 s2; worker b holds s2 (a replica) s3 s4.
HOLDERS = {"a": [0, 1, 2], "b": [2, 3, 4]}
EXACT_OPS = ["count", "sum", "mean", "min", "max", "argmin", "argmax", "l1"]


def make_shards(tmp, dtype, seed, manifest_counts=(0, 2)):
    rng = np.random.default_rng(seed)
    parts = []
    for n in LENGTHS:
        if dtype == "float32":
            parts.append((rng.standard_normal(n) * 50).astype(np.float32))
        else:
            parts.append(rng.integers(-2 ** 31, 2 ** 31, n, dtype=dtype))
    # A shared extreme: argmin must name the first one in manifest order.
    lo = min(p.min() for p in parts if p.size) - 1
    parts[2][100] = lo
    parts[3][5] = lo
    roots = {}
    for w, idx in HOLDERS.items():
        roots[w] = os.path.join(tmp, "root-" + w)
        for i in idx:
            path = os.path.join(roots[w], NAMES[i])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.save(path, parts[i])
    lines = ["# shards in order"]
    for i, name in enumerate(NAMES):
        lines.append(name + (" %d" % LENGTHS[i] if i in manifest_counts
                             else ""))
    manifest = os.path.join(tmp, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    whole = np.concatenate(parts)
    allp = os.path.join(tmp, "all.npy")
    np.save(allp, whole)
    return manifest, roots, whole, allp


def check(doc, allp, whole, ops):
    want = gu.reduce_ref(allp, "--ops", ",".join(ops))
    for op in ops:
        got, ref = cu.num(doc["results"][op]), cu.num(want["results"][op])
        if op in ("std", "var", "l2"):
            cu.near_rel(got, ref, 1e-12, op)
        elif op in ("sum", "mean", "l1") and whole.dtype.kind == "f":
            scale = cu.fsum_exact(np.abs(whole.astype(np.float64)))
            if op == "mean":
                scale /= whole.size
            cu.near_abs(got, ref, 2 * cu.FAST_BOUND * scale, op)
        else:
            cu.same(got, ref, op)
    if doc["count"] != whole.size or doc["shape"] != [whole.size]:
        raise AssertionError("count %r shape %r" % (doc["count"],
                                                    doc["shape"]))


@suite.test
def replica_and_duplicate_pushes_count_once(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "int64", 1)
    ops = EXACT_OPS + ["std"]
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 60, "--json",
                       "--ops", ",".join(ops), "--min-workers", 2]) as g:
        g.worker("a", "--shard-root", roots["a"])
        g.worker("b", "--shard-root", roots["b"], "--duplicate-results")
        doc = g.result()
    check(doc, allp, whole, ops)
    gg = gu.check_grid_object(doc, tasks=len(NAMES))
    done_b = sum(w["tasks"] for w in gg["workers"] if w["name"] == "b")
    if done_b == 0:
        raise AssertionError("worker b did nothing: %r" % gg["workers"])
    # Every state b sends arrives twice; only the first counts.  (The
    # duplicate of the job's last shard may arrive after the job ended.)
    if not done_b - 1 <= gg["duplicates"] <= done_b:
        raise AssertionError("duplicates %d for %d pushed twice" % (
            gg["duplicates"], done_b))
    if doc["input"] != manifest:
        raise AssertionError("input %r" % doc["input"])


@suite.test
def float_shards_within_the_fast_bound(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "float32", 2)
    ops = ["count", "sum", "mean", "min", "max", "argmin", "argmax", "std"]
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 60, "--json",
                       "--ops", ",".join(ops)]) as g:
        g.worker("a", "--shard-root", roots["a"])
        g.worker("b", "--shard-root", roots["b"])
        doc = g.result()
    check(doc, allp, whole, ops)


@suite.test
def exact_mode_shards_give_the_one_box_bits(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "float32", 7)
    ops = ["count", "sum", "mean", "var", "std", "l1", "l2"]
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 60, "--json",
                       "--mode", "exact", "--ops", ",".join(ops)]) as g:
        g.worker("a", "--shard-root", roots["a"])
        g.worker("b", "--shard-root", roots["b"])
        doc = g.result()
    gu.same_results(doc, gu.reduce_ref(allp, "--mode", "exact", "--ops",
                                       ",".join(ops)))


@suite.test
def one_command_local_grid_with_shards(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "int32", 3)
    # Every local worker serves one root: give it all the shards.
    root = os.path.join(tmp, "root-all")
    for i, name in enumerate(NAMES):
        src = os.path.join(roots["a" if i in HOLDERS["a"] else "b"], name)
        dst = os.path.join(root, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.link(src, dst)
    out = cu.ok(["grid", "--workers", 2, "--devices", "host", "--shards",
                 manifest, "--shard-root", root, "--json", "--ops",
                 ",".join(EXACT_OPS)])
    check(json.loads(out), allp, whole, EXACT_OPS)


@suite.test
def raw_shards(tmp):
    rng = np.random.default_rng(4)
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    parts = [rng.integers(0, 60000, n, dtype=np.uint16) for n in (700, 9000)]
    for i, p in enumerate(parts):
        p.tofile(os.path.join(root, "r%d.bin" % i))
    manifest = os.path.join(tmp, "m.txt")
    with open(manifest, "w") as f:
        f.write("r0.bin 700\nr1.bin\n")
    whole = np.concatenate(parts)
    allp = os.path.join(tmp, "all.npy")
    np.save(allp, whole)
    out = cu.ok(["grid", "--workers", 1, "--devices", "host", "--shards",
                 manifest, "--shard-root", root, "--raw", "--dtype", "u16",
                 "--json", "--ops", ",".join(EXACT_OPS)])
    check(json.loads(out), allp, whole, EXACT_OPS)


@suite.test
def missing_shard_is_named_at_the_timeout(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "int64", 5)
    with open(manifest, "a") as f:
        f.write("nobody/has-this.npy\n")
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 3, "--json"]) as g:
        g.worker("a", "--shard-root", roots["a"])
        g.worker("b", "--shard-root", roots["b"])
        rc, out, err = g.wait(timeout=20)
    last = err.strip().splitlines()[-1]
    if rc != 1 or out:
        raise AssertionError("exit %d, stdout %r" % (rc, out[:200]))
    for want in ("timed out after", "5 of 6 shards done",
                 "missing shards: 'nobody/has-this.npy'"):
        if want not in last:
            raise AssertionError("%r lacks %r" % (last, want))


@suite.test
def shard_contradicting_the_manifest_fails_the_job(tmp):
    manifest, roots, whole, allp = make_shards(tmp, "int64", 6)
    with open(manifest, "w") as f:
        f.write("s0.npy 4999\n")
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 30]) as g:
        g.worker("a", "--shard-root", roots["a"])
        rc, out, err = g.wait(timeout=20)
    last = err.strip().splitlines()[-1]
    want = "edgegrid: shard 's0.npy' holds 5000 elements; the manifest says 4999"
    if rc != 2 or last != want:
        raise AssertionError("exit %d, %r, want %r" % (rc, last, want))
    # Shards of different dtypes cannot be one array.
    other = os.path.join(roots["a"], "s1.npy")
    np.save(other, np.zeros(10, np.float32))
    with open(manifest, "w") as f:
        f.write("s0.npy\ns1.npy\n")
    with gu.Grid(tmp, ["--shards", manifest, "--timeout", 30]) as g:
        g.worker("a", "--shard-root", roots["a"])
        rc, out, err = g.wait(timeout=20)
    if rc != 2 or "holds float32 data; the job's other shards hold int64" \
            not in err:
        raise AssertionError("exit %d, %r" % (rc, err[-500:]))


@suite.test
def manifest_errors(tmp):
    ep = ["--tasks", "tcp://127.0.0.1:*", "--results", "tcp://127.0.0.1:*"]
    bad = os.path.join(tmp, "bad.txt")
    with open(bad, "w") as f:
        f.write("ok.npy\n../escape.npy\n")
    cu.expect_fail(["coordinator", *ep, "--shards", bad], 2,
                   contains="bad.txt:2: shard name '../escape.npy'")
    cu.expect_fail(["coordinator", *ep, "--shards",
                    os.path.join(tmp, "none.txt")], 2, contains="none.txt")
    cu.expect_fail(["coordinator", *ep, "--shards", bad, "--ops", "dot",
                    "--with", bad], 2, contains="--shards")
    cu.expect_fail(["grid", "--workers", 1, "--shards", bad], 2,
                   contains="--shard-root")


if __name__ == "__main__":
    suite.main()
