"""edgegrid from Python: reductions of numeric arrays on the engine's devices.

    import edgegrid as eg
    r = eg.reduce(x, ops="sum,mean,std")      # r["mean"], r.devices, r.seconds
    eg.mean(x), eg.std(x, ddof=1), eg.dot(x, y)

Input is read in place (zero copy) through the buffer protocol when it is
C-contiguous, native-order and of one of the ten dtypes (float32, float64,
int8 .. uint64): numpy arrays, memory maps, memoryview, array.array, bytes.
Other numpy arrays (strided views, Fortran order, big-endian, unaligned)
are copied once into a C-order native array, and the result's notes say so; objects
without the buffer protocol (lists) go through numpy.asarray.

State algebra: partial() gives a reduction's mergeable state as bytes,
merge(a, b) joins two (a covers the lower indices), finalize() gives the
values; merged in any tree they give the one-box answer (in exact mode, its
bits).

Errors: InputError (a ValueError) for bad input or usage, the CLI's exit 2;
EngineError (a RuntimeError) for failures at run time, the CLI's exit 1.
Both carry the library's message and .status (its code's name, "EINPUT").
"""
import os
import threading

import numpy as _np

from . import _edgegrid as _c

InputError = _c.InputError
EngineError = _c.EngineError

__all__ = [
    "InputError", "EngineError", "Result", "Engine", "devices", "reduce",
    "reduce_file", "partial", "merge", "finalize", "sum", "mean", "std",
    "var", "min", "max", "argmin", "argmax", "l1", "l2", "dot",
    "DEFAULT_OPS", "LANE_ELEMS", "quantile", "median", "approx_quantile",
    "histogram",
]

DEFAULT_OPS = "count,sum,mean,min,max,std"
LANE_ELEMS = _c.LANE_ELEMS

_OK_KINDS = "fiu"
_COPY_NOTE = "input copied: not a C-contiguous, aligned, native-order array"


_DEVICE_FIELDS = ("index", "name", "elements", "chunks", "calls", "seconds")


class Result(dict):
    """The values of a reduction, by op name, plus its stats.

    .devices  list of dicts: index, name, elements, chunks, calls, seconds
    .seconds  wall time of the reduction
    .notes    fallbacks the engine took ("" if none)
    .elements, .dtype (numpy's name), .mode
    """

    # The stats stay the C layer's tuple until read: building them costs
    # more than reducing a few KiB.
    __slots__ = ("_stats", "_groups")

    @property
    def groups(self):
        """With by=: the distinct keys, ascending (row i of each array is
        group groups[i]); else None."""
        return getattr(self, "_groups", None)

    @property
    def devices(self):
        return [dict(zip(_DEVICE_FIELDS, d)) for d in self._stats[0]]

    seconds = property(lambda self: self._stats[1])
    notes = property(lambda self: self._stats[2])
    elements = property(lambda self: self._stats[3])
    dtype = property(lambda self: self._stats[4])
    mode = property(lambda self: self._stats[5])

    def __repr__(self):
        return "Result(%s, dtype=%r, mode=%r, seconds=%.3g)" % (
            dict.__repr__(self), self.dtype, self.mode, self.seconds)


def _result(out, note=""):
    """A Result from the C layer's (values, stats)."""
    r = Result(out[0])
    st = out[1]
    if note:
        st = st[:2] + (_join_notes(st[2], note),) + st[3:]
    r._stats = st
    return r


class DeviceList(list):
    """devices(): a list of dicts as `edgegrid devices --json`; .notes."""

    def __init__(self, items, notes=""):
        super().__init__(items)
        self.notes = notes


def _input_error(msg, status="EINPUT"):
    """An InputError raised here, shaped as the C layer's."""
    e = InputError(msg)
    e.status = status
    return e


def _join_notes(a, b):
    return "; ".join(n for n in (a, b) if n)


def _prepare(x, what):
    """(buffer for the C layer, note): x itself when it can be read in
    place, else one C-order native copy."""
    if isinstance(x, _np.ndarray):
        dt = x.dtype
        if dt.kind not in _OK_KINDS or dt.kind == "f" and \
                dt.itemsize not in (4, 8):  # float16, long double
            raise _input_error(
                "%s: unsupported dtype '%s' (edgegrid reads float32, float64 "
                "and 8- to 64-bit integers)" % (what, dt), "EDTYPE")
        flags = x.flags
        if flags.c_contiguous and flags.aligned and dt.isnative:
            return x, ""
        return (_np.array(x, dtype=dt.newbyteorder("="), order="C"),
                _COPY_NOTE)
    try:
        view = memoryview(x)
    except TypeError:  # no buffer protocol: a list, a scalar
        return _prepare(_np.asarray(x), what)
    return _prepare(_np.asarray(view), what)  # numpy's rules, same memory


class Engine:
    """An engine on a set of devices; kernels are built once and reused.

    devices: "all" (default), "opencl", "cpu", "gpu", "host", or a comma
    list of indices from devices().  An Engine may be shared between
    threads: calls take turns on it (the GIL is released meanwhile); give
    each thread its own Engine to run them in parallel.
    """

    def __init__(self, devices="all"):
        self._c = _c.Engine(devices)

    def close(self):
        """Releases the devices; later calls raise InputError."""
        self._c.close()

    @property
    def closed(self):
        return self._c.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def devices(self):
        """The engine's devices, as devices() lists them; .notes."""
        items, notes = self._c._devices()
        return DeviceList(items, notes)

    def _run(self, x, y, ops, mode, nan, ddof, chunk, partial):
        """The C layer's (values or partial, stats), and a note when the
        input had to be copied."""
        chunk = 0 if chunk is None else chunk
        try:  # the common case first: a buffer read in place
            return self._c._reduce(x, y, ops, mode, nan, ddof, chunk,
                                   partial), ""
        except _c.Unreadable:
            px, nx = _prepare(x, "x")
            py, ny = (None, "") if y is None else _prepare(y, "y")
            if px is x and py is y:  # nothing numpy can fix
                raise
        out = self._c._reduce(px, py, ops, mode, nan, ddof, chunk, partial)
        return out, _join_notes(nx, ny)

    def reduce(self, x, ops=DEFAULT_OPS, mode="fast", nan="propagate",
               ddof=0, chunk=None, y=None, axis=None, keepdims=False,
               by=None):
        """Reduces every element of x (flattened in C order), or along axes.

        ops: comma list of count sum mean min max argmin argmax var std l1 l2
        dot (dot needs y, of x's dtype and size).  mode: "fast" or "exact".
        nan: "propagate" or "omit".  chunk: elements per chunk (a multiple
        of LANE_ELEMS; fixes the merge tree) or None.  Returns a Result.

        axis (an int or a tuple, negatives from the end), keepdims and by
        (one integer key per row of axis 0; not with axis) make each value a
        numpy array shaped as numpy's x.sum(axis=..., keepdims=...) or, with
        by, [groups, ...] with the keys in Result.groups; argmin/argmax
        index along the reduced axes (in C order, numpy's for one axis);
        an op with no value anywhere (argmin of an empty axis) is NaN.
        """
        if axis is None and not keepdims and by is None:
            return _result(*self._run(x, y, ops, mode, nan, ddof, chunk,
                                      False))
        return self._structured(x, y, ops, mode, nan, ddof, chunk, axis,
                                keepdims, by)

    def _structured(self, x, y, ops, mode, nan, ddof, chunk, axis, keepdims,
                    by):
        px, note = _prepare(x, "x")
        py, ny = (None, "") if y is None else _prepare(y, "y")
        keys, nk = _keys(by, axis, with_note=True)
        note = _join_notes(note, nk)
        scalar = px.ndim == 0
        if scalar:  # numpy's keepdims of a 0-d array is 0-d
            px = px.reshape(1)
        axes = _axes(axis, px.ndim, keys is not None)
        (vals, shape, groups, gu), st = self._c._reduce_structured(
            px, py, ops, mode, nan, ddof, 0 if chunk is None else chunk,
            tuple(px.shape), axes, bool(keepdims), keys)
        r = _result(({}, st), _join_notes(note, ny))
        _fill(r, vals, shape, groups, gu, px.dtype, scalar)
        return r

    def _structured_quant(self, x, qop, q, method, nan, axis, keepdims, by,
                          rel_err=0.01, bins=10, rng=None):
        """The quantile ops per axis or group: ((arrays dict, result
        shape), input dtype, scalar input, groups or None)."""
        px, _ = _prepare(x, "x")
        keys = _keys(by, axis)
        scalar = px.ndim == 0
        if scalar:
            px = px.reshape(1)
        axes = _axes(axis, px.ndim, keys is not None)
        (d, shape, groups, gu), _st = self._c._quant_structured(
            px, tuple(px.shape), axes, bool(keepdims), keys, qop, q, method,
            nan, float(rel_err), bins, rng)
        if groups is not None:
            groups = _np.frombuffer(groups, dtype="u8" if gu else "i8").copy()
        return d, (() if scalar else shape), px.dtype, groups

    def quantile(self, x, q, method="linear", nan="propagate", axis=None,
                 keepdims=False, by=None):
        """numpy.quantile(x, q, method=...) over every element: a float for
        a scalar q, else an array shaped as q (at most 64 values).

        axis (an int or a tuple) and keepdims give numpy.quantile(x, q,
        axis=..., keepdims=...): q's shape first, then the kept axes, in
        numpy's dtype (the input's for lower, higher and nearest, else
        float64); by (one integer key per row) gives [q..., groups,
        ...] for the groups of reduce(..., by=keys).groups.  nan="omit" is
        numpy.nanquantile.  A column with no value is NaN."""
        if axis is None and not keepdims and by is None:
            return self._q(x, _c.QOP_QUANTILE, q, method, nan, "quantile")
        qa, qt = _qtuple(q)
        d, shape, dt, _ = self._structured_quant(x, _c.QOP_QUANTILE, qt,
                                                 method, nan, axis, keepdims,
                                                 by)
        # numpy 1.24: the picking methods keep the input's dtype, the
        # interpolating ones give float64 (q is float64), float32 too
        keep = method in ("lower", "higher", "nearest")
        a = _qvalues(d["quantile"], (len(qt),) + tuple(shape),
                     dt if keep else _np.float64)
        return a.reshape(qa.shape + tuple(shape))[()]

    def median(self, x, nan="propagate", axis=None, keepdims=False,
               by=None):
        """numpy.median(x) over every element; axis, keepdims and by as in
        quantile (float input keeps its dtype, as numpy's)."""
        if axis is None and not keepdims and by is None:
            px, _ = _prepare(x, "x")
            return self._quant(px, _c.QOP_MEDIAN, (), "linear",
                               nan)["median"]
        d, shape, dt, _ = self._structured_quant(x, _c.QOP_MEDIAN, (),
                                                 "linear", nan, axis,
                                                 keepdims, by)
        return _qvalues(d["median"], shape,
                        dt if dt.kind == "f" else _np.float64)[()]

    def approx_quantile(self, x, q, rel_err=0.01, nan="propagate",
                        axis=None, keepdims=False, by=None):
        """Within rel_err (relative) of numpy.quantile(x, q,
        method="lower"), from one pass of a log-bucket sketch; axis,
        keepdims and by as in quantile (float64 values)."""
        if axis is None and not keepdims and by is None:
            return self._q(x, _c.QOP_APPROX, q, "lower", nan, "approx",
                           rel_err=rel_err)
        qa, qt = _qtuple(q)
        d, shape, _, _ = self._structured_quant(x, _c.QOP_APPROX, qt,
                                                "lower", nan, axis, keepdims,
                                                by, rel_err=rel_err)
        a = _qvalues(d["approx"], (len(qt),) + tuple(shape), _np.float64)
        return a.reshape(qa.shape + tuple(shape))[()]

    def histogram(self, x, bins=10, range=None):
        """numpy.histogram(x, bins, range): (counts, edges); bins an int."""
        if isinstance(bins, bool) or not isinstance(bins, int):
            raise _input_error("bins: expected an int (edgegrid makes "
                               "equal-width bins)", "EUSAGE")
        if bins < 1:
            raise _input_error("bins: %d (expected 1 or more)" % bins,
                               "EUSAGE")
        px, _ = _prepare(x, "x")
        rng = None if range is None else (float(range[0]), float(range[1]))
        out = self._quant(px, _c.QOP_HIST, (), "linear", "propagate",
                          bins=bins, rng=rng)
        counts = _np.frombuffer(out["counts"], dtype="u8").astype(_np.int64)
        # numpy's bin dtype: float32 input keeps float32 edges
        edt = _np.result_type(px.dtype, 1.0) if px.dtype.kind == "f" \
            else _np.float64
        edges = _np.frombuffer(out["edges"], dtype="f8").astype(edt)
        return counts, edges

    def _q(self, x, qop, q, method, nan, key, rel_err=0.01):
        px, _ = _prepare(x, "x")
        qa = _np.asarray(q, dtype=_np.float64)
        out = self._quant(px, qop, tuple(float(v) for v in qa.ravel()),
                          method, nan, rel_err=rel_err)[key]
        if qa.ndim == 0:
            return out[0]
        return _np.array(out, dtype=_np.float64).reshape(qa.shape)

    def _quant(self, px, qop, q, method, nan, rel_err=0.01, bins=10,
               rng=None):
        return self._c._quant(px, qop, q, method, nan, float(rel_err),
                              bins, rng)

    def reduce_file(self, path, ops=DEFAULT_OPS, mode="fast", nan="propagate",
                    ddof=0, chunk=None, y=None, axis=None, keepdims=False,
                    by=None):
        """Reduces a .npy file, memory-mapped as the CLI does; y: the path
        of dot's second operand.  axis, keepdims and by as in reduce (the
        file is then read whole, as `reduce --axis/--by`); by may also be
        the path of a .npy file of keys."""
        chunk = 0 if chunk is None else chunk
        y = "" if y is None else y
        if axis is None and not keepdims and by is None:
            return _result(self._c._reduce_file(path, y, ops, mode, nan,
                                                ddof, chunk))
        keys, keys_path, note = None, "", ""
        if isinstance(by, (str, bytes, os.PathLike)):
            if axis is not None:
                raise _input_error("by: not with axis (groups are of rows)",
                                   "EUSAGE")
            keys_path = by
        else:
            keys, note = _keys(by, axis, with_note=True)
        if axis is None and keys is None and not keys_path:
            # keepdims over every axis: the header's ndim (nothing read)
            axes = tuple(range(_np.load(path, mmap_mode="r").ndim))
        else:  # () with keys: the rows
            axes = _axes(axis, 0, True)
        (vals, shape, groups, gu), st = self._c._reduce_file_structured(
            path, y, ops, mode, nan, ddof, chunk, axes, bool(keepdims), keys,
            keys_path)
        r = _result(({}, st), note)
        _fill(r, vals, shape, groups, gu, _np.dtype(r.dtype), False)
        return r

    def partial(self, x, ops=DEFAULT_OPS, mode="fast", nan="propagate",
                ddof=0, chunk=None, y=None):
        """The mergeable state of reduce(x, ...) as bytes (see merge)."""
        return self._run(x, y, ops, mode, nan, ddof, chunk, True)[0][0]


def _axes(axis, ndim, grouped):
    """numpy's axis argument as the engine's tuple: () with keys (the
    rows), every axis for None."""
    if axis is None:
        return () if grouped else tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(_index(a, "axis") for a in axis)
    return (_index(axis, "axis"),)


def _keys(by, axis, with_note=False):
    """by= as an integer buffer for the engine (or None)."""
    keys, note = None, ""
    if by is not None:
        if axis is not None:
            raise _input_error("by: not with axis (groups are of rows)",
                               "EUSAGE")
        keys, note = _prepare(by, "by")
        if keys.dtype.kind not in "iu":
            raise _input_error("by: keys must be integers, not %s"
                               % keys.dtype, "EDTYPE")
    return (keys, note) if with_note else keys


def _fill(r, vals, shape, groups, gu, dtype, scalar):
    """A structured Result's arrays from the C layer's (kind, bytes)."""
    for op, (kind, data) in vals.items():
        if kind is None:  # no value anywhere (argmin of an empty axis)
            a = _np.full(shape, _np.nan)
        else:
            a = _np.frombuffer(data, dtype=kind).reshape(shape)
            if op in ("min", "max"):  # numpy keeps the input's dtype
                a = a.astype(dtype)
        dict.__setitem__(r, op, a.reshape(()) if scalar else a)
    if groups is not None:
        r._groups = _np.frombuffer(groups, dtype="u8" if gu else "i8").copy()


def _qtuple(q):
    """q as numpy's array (its shape shapes the result) and a tuple."""
    qa = _np.asarray(q, dtype=_np.float64)
    return qa, tuple(float(v) for v in qa.ravel())


def _qvalues(kd, shape, dtype):
    """A quantile array from the C layer's (kind, bytes), in numpy's dtype;
    NaN (a column with no value) keeps float64 for integer dtypes."""
    kind, data = kd
    a = _np.frombuffer(data, dtype=kind).reshape(shape)
    if kind == "f8" and _np.dtype(dtype).kind in "iu":
        return a.copy()
    return a.astype(dtype)


def _index(a, what):
    """An axis as a Python int; bools and floats are refused as numpy does."""
    if isinstance(a, bool) or not isinstance(a, (int, _np.integer)):
        raise _input_error("%s: %r is not an int" % (what, a), "EUSAGE")
    return int(a)


_engines = {}
_engines_lock = threading.Lock()


def _forget_engines_after_fork():
    """A forked child has none of its parent's engine threads (nor an
    OpenCL runtime's): it opens engines of its own.  The inherited ones are
    dropped unclosed, as closing them could wait on those threads."""
    global _engines_lock
    _engines_lock = threading.Lock()
    _abandoned.extend(_engines.values())  # never freed: see above
    _engines.clear()


_abandoned = []
os.register_at_fork(after_in_child=_forget_engines_after_fork)


def _engine(devices):
    """One shared Engine per device spec for the module-level functions."""
    with _engines_lock:
        eng = _engines.get(devices)
        if eng is None or eng.closed:
            eng = _engines[devices] = Engine(devices)
        return eng


def devices():
    """Every device of the box, the host backend last (DeviceList)."""
    items, notes = _c.devices()
    return DeviceList(items, notes)


def reduce(x, ops=DEFAULT_OPS, mode="fast", nan="propagate", ddof=0,
           devices="all", chunk=None, y=None, axis=None, keepdims=False,
           by=None):
    """Engine(devices).reduce(x, ...) on a shared engine; see Engine.reduce."""
    return _engine(devices).reduce(x, ops, mode, nan, ddof, chunk, y, axis,
                                   keepdims, by)


def quantile(x, q, method="linear", nan="propagate", devices="all",
             axis=None, keepdims=False, by=None):
    """numpy.quantile(x, q, axis=..., method=..., keepdims=...), exact;
    see Engine.quantile."""
    return _engine(devices).quantile(x, q, method, nan, axis, keepdims, by)


def median(x, nan="propagate", devices="all", axis=None, keepdims=False,
           by=None):
    """numpy.median(x, axis=..., keepdims=...), exact."""
    return _engine(devices).median(x, nan, axis, keepdims, by)


def approx_quantile(x, q, rel_err=0.01, nan="propagate", devices="all",
                    axis=None, keepdims=False, by=None):
    """quantile(x, q, method="lower") within rel_err, in one pass; per axis
    or group as quantile."""
    return _engine(devices).approx_quantile(x, q, rel_err, nan, axis,
                                            keepdims, by)


def histogram(x, bins=10, range=None, devices="all"):
    """numpy.histogram(x, bins, range): (counts, edges)."""
    return _engine(devices).histogram(x, bins, range)


def reduce_file(path, ops=DEFAULT_OPS, mode="fast", nan="propagate", ddof=0,
                devices="all", chunk=None, y=None, axis=None, keepdims=False,
                by=None):
    """Reduces a .npy file (memory-mapped); see Engine.reduce_file."""
    return _engine(devices).reduce_file(path, ops, mode, nan, ddof, chunk, y,
                                        axis, keepdims, by)


def partial(x, ops=DEFAULT_OPS, mode="fast", nan="propagate", ddof=0,
            devices="all", chunk=None, y=None):
    """The mergeable state of reduce(x, ...) as bytes: the engine's wire
    form, with the ops, mode, nan policy and ddof it was asked for."""
    return _engine(devices).partial(x, ops, mode, nan, ddof, chunk, y)


def merge(a, b):
    """The state of a's elements followed by b's.  States of different
    dtypes, ops, modes, nan policies or ddof raise InputError."""
    return _c.merge(a, b)


def finalize(state):
    """The Result of a state (no device stats: they stay with partial)."""
    return _result(_c.finalize(state))


# numpy-like functions: one op each, on the shared engine.  Keyword
# arguments: axis, keepdims, by (then the value is a numpy array; the
# groups are reduce(...).groups), mode, nan, devices, chunk (and ddof for
# var and std).
def _one(op, x, y=None, ddof=0, **kw):
    return reduce(x, ops=op, ddof=ddof, y=y, **kw)[op]


def sum(x, **kw):
    """The sum of every element (exact integers for integer input)."""
    return _one("sum", x, **kw)


def mean(x, **kw):
    return _one("mean", x, **kw)


def var(x, ddof=0, **kw):
    return _one("var", x, ddof=ddof, **kw)


def std(x, ddof=0, **kw):
    return _one("std", x, ddof=ddof, **kw)


def min(x, **kw):
    return _one("min", x, **kw)


def max(x, **kw):
    return _one("max", x, **kw)


def argmin(x, **kw):
    """Index of the first minimum in the C-order flattening (numpy's)."""
    return _one("argmin", x, **kw)


def argmax(x, **kw):
    return _one("argmax", x, **kw)


def l1(x, **kw):
    """sum(|x|)"""
    return _one("l1", x, **kw)


def l2(x, **kw):
    """sqrt(sum(x*x)), without overflow (Blue's algorithm)."""
    return _one("l2", x, **kw)


def dot(x, y, **kw):
    return _one("dot", x, y=y, **kw)
