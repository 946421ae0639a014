"""Shards of dask collections for :mod:`sgdlearn.dask`: row blocks, their
placement on the workers and their stacking into one array per shard."""

from collections import Counter

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from distributed import wait
from sklearn.utils import check_array

from sgdlearn._data import check_weights


def blocks_of(data, name):
    """The row blocks of a dask array, DataFrame or Series, as Delayed."""
    if isinstance(data, da.Array):
        if data.ndim > 2:
            raise ValueError(f"{name} must be 1- or 2-dimensional, got "
                             f"{data.ndim} dimensions")
        if data.ndim == 2 and data.numblocks[1] > 1:
            data = data.rechunk({1: -1})
        return list(data.to_delayed().ravel())
    if dask.is_dask_collection(data) and hasattr(data, "npartitions"):
        return list(data.to_delayed())
    raise TypeError(
        f"{name} must be a dask array, DataFrame or Series, got "
        f"{type(data).__name__}. For data in memory, call the estimator's "
        "fit or partial_fit."
    )


def _align(X, other):
    """``other`` rechunked to X's row blocks when both are dask arrays of
    known chunk sizes."""
    if (isinstance(X, da.Array) and isinstance(other, da.Array)
            and not np.isnan(X.shape[0]) and not np.isnan(other.shape[0])
            and other.chunks[0] != X.chunks[0]
            and X.shape[0] == other.shape[0]):
        return other.rechunk({0: X.chunks[0]})
    return other


def row_blocks(X, y, sample_weight):
    """Aligned lists of Delayed blocks (xs, ys, ws); ws is None without
    sample weights."""
    xs = blocks_of(X, "X")
    ys = blocks_of(_align(X, y), "y")
    ws = None
    if sample_weight is not None:
        ws = blocks_of(_align(X, sample_weight), "sample_weight")
    for name, blocks in (("y", ys), ("sample_weight", ws)):
        if blocks is not None and len(blocks) != len(xs):
            raise ValueError(
                f"X has {len(xs)} row blocks and {name} has {len(blocks)}: "
                "give them the same partitions (e.g. columns of one "
                "DataFrame, or arrays with the same row chunks)."
            )
    return xs, ys, ws


def _as_array(part):
    """A dense block as a NumPy array, converted as ``fit`` converts it:
    pandas' nullable dtypes (``Float64``, ``Int64``, ``boolean``) become
    floats with NaN for ``pd.NA``, which the estimator then rejects with its
    own message ("Input X contains NaN"), not a TypeError from ``float()``.
    Finiteness is left to the estimator."""
    if isinstance(part, np.ndarray):
        return part
    return check_array(part, dtype=None, ensure_all_finite=False,
                       ensure_2d=False, ensure_min_samples=0,
                       ensure_min_features=0)


def _stack_rows(parts):
    """One C-ordered float array (or CSR matrix) from row blocks; a single
    C-ordered float block is used as it is, without a copy."""
    if any(sp.issparse(part) for part in parts):
        X = sp.vstack([sp.csr_array(part) for part in parts], format="csr")
    elif len(parts) == 1:
        X = _as_array(parts[0])
    else:
        X = np.concatenate([_as_array(part) for part in parts], axis=0)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return X if sp.issparse(X) else np.ascontiguousarray(X)


def _stack(xs, ys, ws):
    """A shard ``(X, y, sample_weight)`` from its blocks (runs on a worker).

    The sample weights are checked as ``fit`` checks them (finite,
    non-negative, one per row, same messages), except that a shard's may
    all be zero: such a shard is left out of training (see
    :func:`describe`), and only all-zero weights over every shard are an
    error."""
    X = _stack_rows(xs)
    y = np.concatenate([np.asarray(block) for block in ys], axis=0)
    w = None
    if ws is not None:
        w = np.concatenate([_as_array(block).astype(np.float64, copy=False)
                            for block in ws])
        if w.shape[0] > 0:
            w = check_weights(w, X, allow_all_zero=True)
    return X, y, w


def describe(shard, classifier):
    """(rows, total sample weight, labels, label counts) of a shard; a
    shard trains only if both are positive (the weights are checked
    non-negative by :func:`_stack`, so a zero total means all zero)."""
    X, y, w = shard
    n = X.shape[0]
    weight = float(n if w is None else np.sum(w))
    labels, counts = np.unique(y, return_counts=True) if classifier else (None,
                                                                           None)
    return n, weight, labels, counts


def _shard_counts(by_worker, nthreads, n_shards):
    """Shards per worker: one per thread (at most one per block) by default;
    else one each, then one more at a time to the worker with the most
    blocks per shard (D'Hondt), never more than its blocks."""
    if n_shards is None:
        return {w: min(nthreads.get(w, 1), len(b)) for w, b in by_worker.items()}
    counts = dict.fromkeys(by_worker, 1)
    for _ in range(n_shards - len(by_worker)):
        worker = max((w for w in by_worker if counts[w] < len(by_worker[w])),
                     key=lambda w: len(by_worker[w]) / counts[w])
        counts[worker] += 1
    return counts


def plan_shards(holders, nthreads, n_shards=None):
    """Which blocks make each shard, and where it is stacked.

    ``holders[i]`` is the worker holding block i.  Each worker's blocks (in
    index order) are split into consecutive groups, so no block moves;
    only with fewer shards than workers holding blocks do groups span
    workers (their blocks then move to the worker holding most of them).
    Returns [(block indices, worker)], ordered by first block.
    """
    by_worker = {}
    for index, worker in enumerate(holders):
        by_worker.setdefault(worker, []).append(index)
    if n_shards is not None and n_shards < len(by_worker):
        ordered = [i for w in sorted(by_worker) for i in by_worker[w]]
        groups = [sorted(g.tolist()) for g in np.array_split(ordered, n_shards)]
        plan = [(g, Counter(holders[i] for i in g).most_common(1)[0][0])
                for g in groups]
    else:
        counts = _shard_counts(by_worker, nthreads, n_shards)
        plan = [(g.tolist(), w) for w in sorted(by_worker)
                for g in np.array_split(by_worker[w], counts[w])]
    return sorted(plan, key=lambda shard: shard[0][0])


def make_shards(client, xs, ys, ws, n_shards):
    """Compute the blocks on the workers, then stack each shard's blocks
    where they are (see :func:`plan_shards`).  Returns (shard futures,
    workers)."""
    n_blocks = len(xs)
    if n_shards is not None and n_shards > n_blocks:
        raise ValueError(
            f"n_shards={n_shards} exceeds the {n_blocks} row blocks of X: "
            "rechunk X into at least n_shards blocks."
        )
    futures = client.compute(xs + ys + (ws or []))
    wait(futures)
    xf, yf = futures[:n_blocks], futures[n_blocks:2 * n_blocks]
    wf = futures[2 * n_blocks:] if ws is not None else None
    nthreads = client.nthreads()
    who_has = client.who_has(xf)
    holders = [min(who_has.get(f.key) or [min(nthreads)]) for f in xf]
    plan = plan_shards(holders, nthreads, n_shards)
    shards = [
        client.submit(
            _stack,
            [xf[i] for i in blocks],
            [yf[i] for i in blocks],
            None if wf is None else [wf[i] for i in blocks],
            workers=[worker], allow_other_workers=True, pure=False,
        )
        for blocks, worker in plan
    ]
    wait(shards)
    return shards, [worker for _, worker in plan]
