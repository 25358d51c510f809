"""Every error path of the binding: the exception type (InputError for the
CLI's exit 2, EngineError for exit 1), the code's name and the message."""
import numpy as np
import pytest

X = np.arange(10_000, dtype=np.float64)


def raises(eg, exc, status, text, fn, *args, **kw):
    with pytest.raises(exc) as e:
        fn(*args, **kw)
    assert e.value.status == status, str(e.value)
    assert text in str(e.value)
    return e.value


def test_exception_types(eg):
    assert issubclass(eg.InputError, ValueError)
    assert issubclass(eg.EngineError, RuntimeError)
    assert not issubclass(eg.InputError, eg.EngineError)


@pytest.mark.parametrize("bad", [
    X.astype(np.complex128), np.array([1, "a", None], dtype=object),
    X.astype(np.float16), X.astype(np.longdouble), np.zeros(3, dtype=bool),
    np.array(["ab", "c"]),
    np.zeros(3, dtype="M8[s]")])
def test_unsupported_dtypes(eg, bad):
    raises(eg, eg.InputError, "EDTYPE", "unsupported dtype", eg.sum, bad)


def test_unsupported_buffer_formats(eg):
    import array
    raises(eg, eg.InputError, "EDTYPE", "'float16'", eg.sum,
           memoryview(X.astype(np.float16)))
    raises(eg, eg.InputError, "EDTYPE", "unsupported dtype", eg.sum,
           array.array("u", "abc"))
    # The C layer's own check, beneath the package's numpy names.
    c = eg.Engine(devices="host")._c
    raises(eg, eg.InputError, "EDTYPE", "buffer format 'e'", c._reduce,
           memoryview(X.astype(np.float16)), None, "sum", "fast",
           "propagate", 0, 0, False)
    raises(eg, eg.InputError, "EINPUT", "not a C-contiguous buffer",
           c._reduce, memoryview(X)[::2], None, "sum", "fast", "propagate",
           0, 0, False)
    raises(eg, eg.InputError, "EINPUT", "not aligned", c._reduce,
           memoryview(X.view(np.uint8))[1:81].cast("d"), None, "sum", "fast",
           "propagate", 0, 0, False)


def test_mismatched_y(eg):
    raises(eg, eg.InputError, "EINPUT", "same count", eg.dot, X, X[:5])
    raises(eg, eg.InputError, "EINPUT", "one dtype", eg.dot, X,
           X.astype(np.float32))
    raises(eg, eg.InputError, "EUSAGE", "second operand", eg.reduce, X,
           ops="dot")


def test_unknown_ops_modes_policies(eg):
    raises(eg, eg.InputError, "EUSAGE", "unknown op 'median'", eg.reduce, X,
           ops="sum,median")
    raises(eg, eg.InputError, "EUSAGE", "mode", eg.reduce, X, mode="slow")
    raises(eg, eg.InputError, "EUSAGE", "nan", eg.reduce, X, nan="drop")
    raises(eg, eg.InputError, "EUSAGE", "ddof", eg.std, X, ddof=-1)
    raises(eg, eg.InputError, "EUSAGE", "multiple of 4096", eg.reduce, X,
           chunk=1000)
    raises(eg, eg.InputError, "EUSAGE", "chunk", eg.reduce, X, chunk=-4096)


def test_unknown_devices(eg):
    raises(eg, eg.InputError, "ENODEV", "no device 99", eg.Engine, "99")
    raises(eg, eg.InputError, "EUSAGE", "expected all", eg.reduce, X,
           devices="nonsense")


def test_closed_engine(eg):
    e = eg.Engine(devices="host")
    e.close()
    e.close()  # a second close is harmless
    assert e.closed
    for call in (lambda: e.reduce(X), lambda: e.partial(X),
                 lambda: e.reduce_file("x.npy"), lambda: e.devices):
        raises(eg, eg.InputError, "EUSAGE", "after close", call)


def test_files(eg, tmp_path):
    raises(eg, eg.InputError, "ENOENT", "no such file", eg.reduce_file,
           str(tmp_path / "missing.npy"))
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00garbage")
    raises(eg, eg.InputError, "EINPUT", str(bad), eg.reduce_file, str(bad))
    c = tmp_path / "c.npy"
    np.save(c, X.astype(np.complex64))
    raises(eg, eg.InputError, "EDTYPE", "unsupported dtype", eg.reduce_file,
           str(c))


def test_partials(eg):
    p = eg.partial(X, ops="sum,mean")
    raises(eg, eg.InputError, "EINPUT", "bytes", eg.merge, p, p[:-1])
    raises(eg, eg.InputError, "EINPUT", "is not a partial", eg.merge, p, 5)
    raises(eg, eg.InputError, "EINPUT", "bad magic", eg.finalize,
           b"XXXX" + p[4:])
    raises(eg, eg.InputError, "EINPUT", "version", eg.finalize,
           p[:4] + b"\x09\x00" + p[6:])
    raises(eg, eg.InputError, "EINPUT", "ops", eg.finalize,
           p[:8] + b"\x00\x00\x00\x00" + p[12:])
    # A forged header asking for sums the state never computed.
    std_ops = eg.partial(X, ops="std")[8:12]
    raises(eg, eg.InputError, "EINPUT", "groups", eg.finalize,
           p[:8] + std_ops + p[12:])
    # The state's own checks (the grid's decoder) behind the header.
    raises(eg, eg.InputError, "EINPUT", "state", eg.finalize,
           p[:16] + b"EGSX" + p[20:])
    raises(eg, eg.InputError, "EINPUT", "dtype byte", eg.finalize,
           p[:22] + b"\x77" + p[23:])


def test_mismatched_partials(eg):
    p = eg.partial(X, ops="sum,mean")
    raises(eg, eg.InputError, "EINPUT", "float32", eg.merge, p,
           eg.partial(X.astype(np.float32), ops="sum,mean"))
    raises(eg, eg.InputError, "EINPUT", "different ops", eg.merge, p,
           eg.partial(X, ops="sum,std"))
    raises(eg, eg.InputError, "EINPUT", "different ops", eg.merge, p,
           eg.partial(X, ops="sum"))
    raises(eg, eg.InputError, "EINPUT", "exact", eg.merge, p,
           eg.partial(X, ops="sum,mean", mode="exact"))
    i = np.arange(10, dtype=np.int32)
    raises(eg, eg.InputError, "EINPUT", "mode", eg.merge,
           eg.partial(i, ops="sum"), eg.partial(i, ops="sum", mode="exact"))
    raises(eg, eg.InputError, "EINPUT", "nan policy", eg.merge, p,
           eg.partial(X, ops="sum,mean", nan="omit"))


def test_engine_error_class(eg):
    e = raises(eg, eg.EngineError, "EOVERFLOW", "overflows", eg.sum,
               np.full(3, 2**63, dtype=np.uint64))
    assert isinstance(e, RuntimeError)


def test_engine_without_init(eg):
    bare = eg._c.Engine.__new__(eg._c.Engine)
    assert bare.closed
    for call in (lambda: bare._reduce(X, None, "sum", "fast", "propagate", 0,
                                      0, False),
                 lambda: bare._reduce_file("x.npy", "", "sum", "fast",
                                           "propagate", 0, 0),
                 bare._devices):
        raises(eg, eg.InputError, "EUSAGE", "after close", call)
    bare.close()
