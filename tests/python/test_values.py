"""Every op and dtype against independent references (math.fsum, exact
integers, numpy), fast and exact mode; memory maps, views, buffers."""
import array
import math
from fractions import Fraction

import numpy as np
import pytest

from conftest import DTYPES, exact_sum, fsum, make

ALL_OPS = "count,sum,mean,min,max,argmin,argmax,var,std,l1,l2,dot"
N = 50_000  # a few chunks' worth of lanes and a ragged tail


def check_all(eg, x, mode):
    r = eg.reduce(x, ops=ALL_OPS, mode=mode, y=x[::-1].copy())
    flat = x.ravel()
    n = flat.size
    absum = fsum(np.abs(flat.astype(np.float64)))
    assert r["count"] == n
    assert r.elements == n and r.dtype == x.dtype.name and r.mode == mode
    if x.dtype.kind == "f":
        exact = exact_sum(flat)
        bound = 2.0 ** -50 * absum
        if mode == "exact":
            assert r["sum"] == float(exact)
            assert r["mean"] == float(exact / n)
        else:
            assert abs(Fraction(r["sum"]) - exact) <= bound
            assert abs(r["mean"] - float(exact / n)) <= bound / n + 1e-300
    else:
        assert r["sum"] == exact_sum(flat) and isinstance(r["sum"], int)
        assert r["mean"] == pytest.approx(exact_sum(flat) / n, rel=1e-15)
    ref = flat.astype(np.float64)
    assert r["min"] == flat.min() and r["max"] == flat.max()
    assert r["argmin"] == int(np.argmin(x)) and r["argmax"] == int(np.argmax(x))
    assert r["var"] == pytest.approx(float(np.var(ref)), rel=1e-12)
    assert r["std"] == pytest.approx(float(np.std(ref)), rel=1e-12)
    assert r["l1"] == pytest.approx(absum, rel=1e-15)
    assert r["l2"] == pytest.approx(math.sqrt(fsum(ref * ref)), rel=1e-14)
    assert r["dot"] == pytest.approx(fsum(ref * ref[::-1]), rel=1e-13,
                                     abs=1e-13 * fsum(np.abs(ref * ref[::-1])))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_every_op_and_dtype(eg, dtype, mode):
    check_all(eg, make(dtype, N), mode)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_like_functions(eg, dtype):
    x = make(dtype, 9_999, seed=3)
    ref = x.astype(np.float64)
    assert eg.min(x) == x.min() and eg.max(x) == x.max()
    assert eg.argmin(x) == x.argmin() and eg.argmax(x) == x.argmax()
    assert eg.std(x, ddof=1) == pytest.approx(np.std(ref, ddof=1), rel=1e-12)
    assert eg.var(x, ddof=1) == pytest.approx(np.var(ref, ddof=1), rel=1e-12)
    assert eg.mean(x) == pytest.approx(np.mean(ref), rel=1e-13)
    assert eg.l1(x) == pytest.approx(fsum(np.abs(ref)), rel=1e-15)
    assert eg.l2(x) == pytest.approx(np.linalg.norm(ref), rel=1e-13)
    assert eg.dot(x, x) == pytest.approx(fsum(ref * ref), rel=1e-13)
    if x.dtype.kind != "f":
        assert eg.sum(x) == exact_sum(x)


def test_exact_mode_var_is_correctly_rounded(eg):
    x = make("float64", 5_000, seed=11)
    n = x.size
    xs = [Fraction(float(v)) for v in x]
    mean = sum(xs, Fraction(0)) / n
    m2 = sum(((v - mean) ** 2 for v in xs), Fraction(0))
    r = eg.reduce(x, ops="var,std", mode="exact", ddof=1)
    assert r["var"] == float(m2 / (n - 1))
    assert abs(r["std"] - math.sqrt(float(m2 / (n - 1)))) <= \
        math.ulp(r["std"])


def test_integer_sum_past_2_53_is_exact(eg):
    # Partial sums leave int64; the total comes back into it.
    x = np.array([2**62, 2**62, 2**62, -2**62 - 5], dtype=np.int64)
    assert eg.sum(x) == 2**63 - 5
    u = np.array([2**63, 2**62, 2**62 - 1], dtype=np.uint64)
    assert eg.sum(u) == 2**64 - 1


def test_integer_sum_overflow_is_engine_error(eg):
    u = np.full(5, 2**62, dtype=np.uint64)
    with pytest.raises(eg.EngineError) as e:
        eg.sum(u)
    assert e.value.status == "EOVERFLOW"
    assert "overflows" in str(e.value)
    with pytest.raises(eg.EngineError):
        eg.sum(np.array([2**62, 2**62], dtype=np.int64))


def test_nan_propagate_and_omit(eg):
    x = make("float64", 20_000)
    x[1234] = np.nan
    x[17] = -np.inf
    r = eg.reduce(x, ops="sum,min,argmin,argmax,mean")
    assert math.isnan(r["sum"]) and math.isnan(r["min"])
    assert r["argmin"] == np.argmin(x) == 1234 and r["argmax"] == 1234
    r = eg.reduce(x, ops="count,sum,argmin,max,std", nan="omit")
    assert r["count"] == x.size - 1
    assert r["sum"] == -math.inf and r["argmin"] == np.nanargmin(x) == 17
    assert r["max"] == np.nanmax(x)
    with np.errstate(invalid="ignore"):
        assert math.isnan(r["std"]) and math.isnan(np.nanstd(x))


def test_empty_array(eg):
    r = eg.reduce(np.zeros(0), ops="count,sum,mean,argmin,l2")
    assert r["count"] == 0 and r["sum"] == 0.0 and r["l2"] == 0.0
    assert math.isnan(r["mean"]) and r["argmin"] is None


def test_memory_map_and_reduce_file(eg, tmp_path):
    x = make("float32", 300_000, seed=5).reshape(600, 500)
    path = tmp_path / "x.npy"
    np.save(path, x)
    m = np.load(path, mmap_mode="r")
    assert not m.flags.writeable
    r = eg.reduce(m, ops="sum,argmax,std", mode="exact")
    f = eg.reduce_file(str(path), ops="sum,argmax,std", mode="exact")
    assert r["sum"] == f["sum"] == float(exact_sum(x.astype(np.float64)))
    assert r["argmax"] == f["argmax"] == int(np.argmax(x))
    assert r["std"] == f["std"]
    assert r.notes == ""  # read in place
    y = tmp_path / "y.npy"
    np.save(y, x[::-1].copy())
    d = eg.reduce_file(path, ops="dot", y=str(y), mode="exact")
    assert d["dot"] == eg.reduce(x, ops="dot", y=x[::-1].copy(),
                                 mode="exact")["dot"]
    # np.memmap (the subclass) too.
    mm = np.memmap(tmp_path / "raw.bin", dtype=np.int16, mode="w+",
                   shape=(70_000,))
    mm[:] = np.arange(70_000) % 1000 - 500
    assert eg.sum(mm) == int(mm.astype(np.int64).sum())


def test_views_and_noncontiguous_input(eg):
    x = make("float64", 100_000, seed=9)
    v = x[1000:90_000]  # a contiguous view: in place
    assert eg.reduce(v, ops="sum").notes == ""
    assert eg.argmax(v) == v.argmax()
    s = x[::3]  # strided: copied once, with a note, right values
    r = eg.reduce(s, ops="sum,argmin", mode="exact")
    assert "copied" in r.notes
    assert r["sum"] == float(exact_sum(s)) and r["argmin"] == s.argmin()
    f = np.asfortranarray(x.reshape(250, 400))  # argmin in C order
    r = eg.reduce(f, ops="argmin,argmax")
    assert "copied" in r.notes
    assert r["argmin"] == np.argmin(f) and r["argmax"] == np.argmax(f)
    b = x.astype(">f8")  # big-endian: swapped copy
    assert eg.reduce(b, ops="sum", mode="exact")["sum"] == \
        eg.reduce(x, ops="sum", mode="exact")["sum"]
    nd = x.reshape(100, 10, 100)[:, 3, :]
    assert eg.argmin(nd) == np.argmin(nd)


def test_other_buffers(eg):
    a = array.array("i", range(-500, 4000))
    assert eg.sum(a) == sum(range(-500, 4000))
    assert eg.reduce(a).dtype == "int32"
    mv = memoryview(np.arange(10_000, dtype=np.uint16))
    assert eg.sum(mv) == sum(range(10_000))
    assert eg.sum(b"\x01\x02\xff") == 258
    assert eg.sum(memoryview(b"abcdef")[::2]) == ord("a") + ord("c") + ord("e")
    assert eg.sum([1, 2, 3]) == 6
    assert eg.mean(np.float32(2.5)) == 2.5  # 0-d


def test_result_and_devices(eg):
    devs = eg.devices()
    assert devs and devs[-1]["type"] == "host"
    assert all(d["index"] == i for i, d in enumerate(devs))
    assert isinstance(devs.notes, str)
    x = make("float64", 2_000_000, seed=1)
    r = eg.reduce(x, devices="host", chunk=eg.LANE_ELEMS * 64)
    assert set(r) == {"count", "sum", "mean", "min", "max", "std"}
    assert r.seconds > 0
    assert sum(d["elements"] for d in r.devices) == x.size
    # "host" asks no OpenCL, so the host is named, not indexed
    assert r.devices[0]["index"] == "host"
    with eg.Engine(devices="host") as e:
        assert [d["type"] for d in e.devices] == ["host"]
        assert e.reduce(x, ops="max")["max"] == x.max()
    assert e.closed


def test_unaligned_input_is_copied(eg):
    raw = np.zeros(8 * 5001 + 1, dtype=np.uint8)
    x = np.frombuffer(raw.data, dtype=np.float64, count=5000, offset=1)
    assert not x.flags.aligned
    x2 = make("float64", 5000, seed=4)
    raw[1:1 + x.nbytes] = x2.view(np.uint8)
    r = eg.reduce(x, ops="sum,argmax", mode="exact")
    assert "copied" in r.notes
    assert r["sum"] == float(exact_sum(x2)) and r["argmax"] == x2.argmax()
    mv = memoryview(raw)[1:1 + x.nbytes].cast("d")  # not numpy: copied too
    assert eg.sum(mv, mode="exact") == r["sum"]


def test_result_pickles_and_copies(eg):
    import copy
    import pickle
    r = eg.reduce(make("float64", 70_000), ops="sum,argmin", devices="host")
    for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert dict(back) == dict(r) and isinstance(back, eg.Result)
        assert back.devices == r.devices and back.seconds == r.seconds
        assert (back.elements, back.dtype, back.mode) == (70_000, "float64",
                                                          "fast")
