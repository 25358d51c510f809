"""edgegrid on Dask: each block to a partial state, a tree of merges, one
finalize, as a Dask graph the user's scheduler runs (threads, processes or a
distributed cluster; Dask's own retries cover lost workers).

    import edgegrid.dask as egd
    r = egd.reduce(darr, ops="mean,std", mode="exact").compute()
    darr = egd.from_npy(["part0.npy", "part1.npy"])   # headers read only

Blocks are taken in the C order of the array's flattening, so argmin and
argmax are numpy's flat indices: an array chunked along any axis but the
first is rechunked to whole rows first (Dask moves data for that).  In
exact mode the result has the bits of one eg.reduce(mode="exact") of the
whole array, whatever the chunks or split_every.
"""
import os

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

import edgegrid as _eg

__all__ = ["reduce", "from_npy"]


def _block_partial(block, y_block, ops, mode, nan, ddof, devices):
    return _eg.partial(block, ops=ops, mode=mode, nan=nan, ddof=ddof,
                       devices=devices, y=y_block)


def _merge_run(states):
    """Merges a run of neighbouring states, left to right."""
    acc = states[0]
    for s in states[1:]:
        acc = _eg.merge(acc, s)
    return acc


def _row_blocks(darr):
    """darr with blocks that are runs of the C-order flattening."""
    if darr.ndim > 1 and any(len(c) > 1 for c in darr.chunks[1:]):
        darr = darr.rechunk({i: -1 for i in range(1, darr.ndim)})
    return darr


def _flat_keys(keys):
    out = []
    stack = [keys]
    while stack:  # depth-first, in order: C order of the block grid
        k = stack.pop()
        if isinstance(k, list):
            stack.extend(reversed(k))
        else:
            out.append(k)
    return out


def reduce(darr, ops=_eg.DEFAULT_OPS, mode="fast", nan="propagate", ddof=0,
           split_every=8, devices="all", y=None):
    """A Delayed whose compute() gives the edgegrid Result of darr.

    Options as edgegrid.reduce; y: dot's second operand (same shape, any
    chunks: it is rechunked to darr's).  split_every: states merged per
    task of the merge tree (2 or more).  Bad options, dtypes or shapes raise
    InputError here, before anything runs."""
    darr = _row_blocks(da.asarray(darr))
    if int(split_every) < 2:
        raise _eg._input_error("split_every: %r (expected 2 or more)"
                               % (split_every,), "EUSAGE")
    split_every = int(split_every)
    probe_y = None
    if y is not None:
        y = da.asarray(y)
        if y.shape != darr.shape:
            raise _eg._input_error(
                "y has shape %s but x has %s; dot needs the same shape"
                % (y.shape, darr.shape))
        y = y.rechunk(darr.chunks)
        probe_y = np.empty(0, dtype=y.dtype)
    # The options and dtypes, checked by the engine on no data.
    _eg.partial(np.empty(0, dtype=darr.dtype), ops=ops, mode=mode, nan=nan,
                ddof=ddof, devices="host", y=probe_y)
    token = tokenize(darr, y, ops, mode, nan, ddof, split_every, devices)
    xkeys = _flat_keys(darr.__dask_keys__())
    ykeys = _flat_keys(y.__dask_keys__()) if y is not None else \
        [None] * len(xkeys)
    name = "edgegrid-reduce-" + token
    layer = {}
    level = []
    for i, (xk, yk) in enumerate(zip(xkeys, ykeys)):
        key = (name + "-partial", i)
        layer[key] = (_block_partial, xk, yk, ops, mode, nan, ddof, devices)
        level.append(key)
    depth = 0
    while len(level) > 1:
        runs = [level[j:j + split_every]
                for j in range(0, len(level), split_every)]
        level = []
        for j, run in enumerate(runs):
            key = (name + "-merge%d" % depth, j)
            layer[key] = (_merge_run, run)
            level.append(key)
        depth += 1
    layer[name] = (_eg.finalize, level[0])
    deps = [darr] if y is None else [darr, y]
    graph = HighLevelGraph.from_collections(name, layer, dependencies=deps)
    return Delayed(name, graph)


def _npy_header(path):
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    return shape, dtype


def _load_npy(path):
    return np.load(path, mmap_mode="r")


def from_npy(paths):
    """A dask array over .npy shards joined along their first axis, one
    block per file; only the headers are read here, each block memory-maps
    its file where it runs.  Shards must agree in dtype and in every axis
    but the first."""
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise _eg._input_error("from_npy: no paths given", "EUSAGE")
    heads = []
    for p in paths:
        try:
            heads.append(_npy_header(p))
        except FileNotFoundError:
            raise _eg._input_error("%s: no such file" % p, "ENOENT")
        except (ValueError, OSError) as e:
            raise _eg._input_error("%s: not a .npy file (%s)" % (p, e))
    shape0, dtype0 = heads[0]
    for p, (shape, dtype) in zip(paths, heads):
        if len(shape) == 0:
            raise _eg._input_error("%s: a 0-d array cannot be a shard" % p)
        if dtype != dtype0 or shape[1:] != shape0[1:]:
            raise _eg._input_error(
                "%s is %s of shape %s but %s is %s of shape %s; shards must "
                "agree in dtype and in every axis but the first"
                % (p, dtype, shape, paths[0], dtype0, shape0))
    stamps = [(p, os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in paths]
    name = "edgegrid-npy-" + tokenize(stamps)
    tail = (0,) * (len(shape0) - 1)
    dsk = {(name, i) + tail: (_load_npy, p) for i, p in enumerate(paths)}
    chunks = (tuple(s[0] for s, _ in heads),) + tuple((n,) for n in shape0[1:])
    return da.Array(dsk, name, chunks, dtype=dtype0)
