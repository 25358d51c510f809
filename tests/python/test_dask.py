"""edgegrid.dask on a distributed.LocalCluster of two worker processes on
127.0.0.1: exact mode gives one box's bits, fast mode stays in the bound,
and a worker killed during the compute is survived by Dask's retries."""
import logging
import os
import signal
import sys
import time
from fractions import Fraction

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402

from conftest import exact_sum, make  # noqa: E402

OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2"

try:  # workers cannot import this file: send its functions by value
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
except (ImportError, AttributeError, ValueError):
    pass


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    c.wait_for_workers(2, timeout=60)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    x = make("float64", 3_000_000, seed=4).reshape(-1, 100)
    x[12_345, 7] = -1e9  # a unique argmin
    cuts = [0, 1, 5_000, 5_001, 17_000, 29_999, 30_000]  # unequal, one empty
    paths = []
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
        p = str(d / ("s%d.npy" % i))
        np.save(p, x[a:b])
        paths.append(p)
    return x, paths


def test_exact_mode_bits_equal_one_box(eg, client, shards):
    import edgegrid.dask as egd
    x, paths = shards
    darr = egd.from_npy(paths)
    assert darr.shape == x.shape and darr.numblocks[0] == len(paths)
    one = eg.reduce(x, ops=OPS, mode="exact", ddof=1)
    for split_every in (2, 3, 8):
        got = client.compute(egd.reduce(darr, ops=OPS, mode="exact", ddof=1,
                                        split_every=split_every)).result(60)
        assert dict(got) == dict(one)
    assert one["argmin"] == int(np.argmin(x))
    # Other chunks (rechunked to whole rows) and dot on a second array.
    d2 = da.from_array(x, chunks=(3_333, 30))
    got = egd.reduce(d2, ops="sum,argmin,dot", y=d2[::-1], mode="exact")
    got = client.compute(got).result(60)
    assert got["sum"] == one["sum"] and got["argmin"] == one["argmin"]
    assert got["dot"] == eg.dot(x, x[::-1].copy(), mode="exact")


def test_fast_mode_within_bound(eg, client):
    import edgegrid.dask as egd
    darr = da.random.RandomState(3).standard_normal(2_000_000,
                                                     chunks=150_000) + 1e3
    x = darr.compute()
    got = client.compute(egd.reduce(darr, ops="sum,mean,std,min,argmax"))
    got = got.result(60)
    bound = 2.0 ** -50 * float(np.abs(x).sum())
    assert abs(Fraction(got["sum"]) - exact_sum(x)) <= bound
    assert got["std"] == pytest.approx(float(np.std(x)), rel=1e-10)
    assert got["min"] == x.min() and got["argmax"] == int(np.argmax(x))


def _slow(block):
    time.sleep(0.25)
    return block


def test_worker_killed_during_compute(eg, client, shards):
    import edgegrid.dask as egd
    x, _ = shards
    darr = da.from_array(x, chunks=(1_500, 100)).map_blocks(_slow)
    one = eg.reduce(x, ops=OPS, mode="exact")
    pids = client.run(os.getpid)
    fut = client.compute(egd.reduce(darr, ops=OPS, mode="exact"))
    time.sleep(1.0)  # 20 blocks of 0.25 s on 2 workers: about 2.5 s
    assert not fut.done()
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    got = fut.result(timeout=120)
    assert dict(got) == dict(one)
    deadline = time.time() + 30
    while time.time() < deadline:  # the nanny restarts the worker
        now = client.run(os.getpid)
        if len(now) == 2 and victim not in now.values():
            break
        time.sleep(0.2)
    assert victim not in client.run(os.getpid).values()


def test_errors_before_compute(eg):
    import edgegrid.dask as egd
    d = da.zeros(10, chunks=5)
    with pytest.raises(eg.InputError):
        egd.reduce(d, ops="nosuchop")
    with pytest.raises(eg.InputError):
        egd.reduce(d.astype(np.complex128))
    with pytest.raises(eg.InputError):
        egd.reduce(d, split_every=1)
    with pytest.raises(eg.InputError):
        egd.reduce(d, ops="dot", y=da.zeros(11, chunks=5))
    with pytest.raises(eg.InputError) as e:
        egd.from_npy(["/nonexistent/a.npy"])
    assert e.value.status == "ENOENT"


def test_from_npy_checks_shards(eg, client, tmp_path):
    import edgegrid.dask as egd
    np.save(tmp_path / "a.npy", np.zeros((3, 4)))
    np.save(tmp_path / "b.npy", np.zeros((3, 5)))
    np.save(tmp_path / "c.npy", np.zeros((3, 4), np.float32))
    with pytest.raises(eg.InputError, match="agree"):
        egd.from_npy([tmp_path / "a.npy", tmp_path / "b.npy"])
    with pytest.raises(eg.InputError, match="agree"):
        egd.from_npy([tmp_path / "a.npy", tmp_path / "c.npy"])
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(eg.InputError, match="not a .npy"):
        egd.from_npy([tmp_path / "bad.npy"])
    got = egd.reduce(egd.from_npy([tmp_path / "a.npy"] * 3), ops="count")
    assert client.compute(got).result(60)["count"] == 36
