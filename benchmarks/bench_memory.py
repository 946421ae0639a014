"""Peak extra memory during fit: is X copied?

For C-contiguous float64/float32 dense input (100k x 100) and CSR input
(100k x 2**18, 50 non-zeros per row, int32 indices), the peak memory
allocated during ``fit`` (hinge, max_iter=1, tol=None) above what was
allocated before it, by sgdlearn and scikit-learn, next to the size of X.
Two inputs that must be converted (Fortran order, int64 CSR indices) show
what a copy looks like.  Each fit runs in a fresh forked process and is
measured twice: Python's tracemalloc (every NumPy buffer) and the growth
of the process's peak resident set size (ru_maxrss, also counts C
allocations, but only pages actually touched).  No timing: not noisy.

Then one-vs-rest with many classes (20k rows x 8.7k classes, 20 dense
features; --quick: 10k x 1k): the peak extra memory must be O(n + n_classes
* d), not one row order (4 bytes per row) per class, sequentially and with
n_jobs=2, for both libraries (and sgdlearn with early stopping).
"""

import multiprocessing
import resource
import tracemalloc

import numpy as np
from _common import SEED, dense_data, footer, header, parse_args, sparse_data
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier

MB = 2**20
CASES = {}  # label -> (X, y), filled before the worker processes fork
ESTIMATORS = {"sgdlearn": GDClassifier, "sklearn": SGDClassifier}


def nbytes(X):
    if hasattr(X, "indptr"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def measure(label, name, params=None):
    """(tracemalloc peak, maxrss growth) in bytes of one fit, or the error."""
    X, y = CASES[label]
    est = ESTIMATORS[name](**{"max_iter": 1, "tol": None, "random_state": SEED,
                              **(params or {})})
    # Import and first-call costs out of the way (at most three classes: the
    # early stopping split needs more rows than classes; three run the
    # one-vs-rest path, with joblib's threads when n_jobs=2).
    est.fit(X[:100], y[:100] % 3)
    tracemalloc.start()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    base = tracemalloc.get_traced_memory()[0]
    try:
        est.fit(X, y)
    except (ValueError, TypeError) as exc:
        return f"{type(exc).__name__}: {str(exc)[:60]}"
    peak = tracemalloc.get_traced_memory()[1] - base
    return peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss


def _child(queue, *args):
    queue.put(measure(*args))


def isolated(ctx, *args):
    """measure(*args) in a fresh forked process: not a daemonic Pool worker,
    in which joblib would run n_jobs=2 sequentially."""
    queue = ctx.SimpleQueue()
    process = ctx.Process(target=_child, args=(queue, *args))
    process.start()
    result = queue.get()
    process.join()
    return result


def main():
    args = parse_args(__doc__, repeats=1, quick_repeats=1)
    n = 20_000 if args.quick else 100_000
    header(f"bench_memory: peak extra memory during fit, n={n}", args, timing=False)
    dense, sparse = dense_data(n, 100), sparse_data(n, 2**18, 50)
    wide = sparse.X.copy()
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    CASES.update({
        "dense float64 C": (dense.X, dense.y_class),
        "dense float32 C": (dense.X.astype(np.float32), dense.y_class),
        "CSR float64 int32-idx": (sparse.X, sparse.y_class),
        "CSR float32 int32-idx": (sparse.X.astype(np.float32), sparse.y_class),
        "dense float64 F (copy)": (np.asfortranarray(dense.X), dense.y_class),
        "CSR float64 int64-idx (copy)": (wide, sparse.y_class),
    })
    ctx = multiprocessing.get_context("fork")
    print(f"{'input':<30} {'X size':>9} | {'tracemalloc peak':^33} | "
          f"{'maxrss growth':^33}")
    print(f"{'':<30} {'':>9} | {'sgdlearn':>16} {'sklearn':>16} | "
          f"{'sgdlearn':>16} {'sklearn':>16}")
    for label, (X, _) in CASES.items():
        cells = {}
        for name in ESTIMATORS:
            cells[name] = isolated(ctx, label, name)
        traced, rss = [], []
        for name in ESTIMATORS:
            if isinstance(cells[name], str):
                traced.append(f"{'rejected':>16}")
                rss.append(f"{'rejected':>16}")
                continue
            peak, grown = cells[name]
            traced.append(f"{peak / MB:6.1f} MB ({peak / nbytes(X):4.0%})")
            rss.append(f"{grown / MB:6.1f} MB ({grown / nbytes(X):4.0%})")
        print(f"{label:<30} {nbytes(X) / MB:6.1f} MB | {' '.join(traced)} | "
              f"{' '.join(rss)}", flush=True)
        for name in ESTIMATORS:
            if isinstance(cells[name], str):
                print(f"    {name}: {cells[name]}")
    print("# (percentage of the size of X; ~100% = a copy of X.  The model itself "
          f"is 8 bytes per feature: {2**18 * 8 / MB:.0f} MB on the CSR inputs)")
    one_vs_rest(args, ctx)
    footer()


OVR_RUNS = [  # (estimator, label, parameters)
    ("sgdlearn", "sequential", {}),
    ("sgdlearn", "n_jobs=2", {"n_jobs": 2}),
    ("sgdlearn", "early stopping (half held out), 2 epochs",
     {"early_stopping": True, "validation_fraction": 0.5, "max_iter": 2}),
    ("sklearn", "sequential", {}),
    ("sklearn", "n_jobs=2", {"n_jobs": 2}),
]


def one_vs_rest(args, ctx):
    """Peak extra memory of one-vs-rest with many classes (few rows each)."""
    n, n_classes, d = (10_000, 1_000, 20) if args.quick else (20_000, 8_700, 20)
    X = dense_data(n, d).X
    y = np.random.default_rng(SEED).permutation(np.arange(n) % n_classes)
    CASES["ovr"] = (X, y)
    coef = n_classes * d * 8
    print(f"\none-vs-rest: {n} x {d} dense float64, {n_classes} classes, "
          f"max_iter=1 (X {nbytes(X) / MB:.1f} MB, coef_ {coef / MB:.1f} MB; "
          f"one int32 row order per class would be {n * n_classes * 4 / MB:.0f} "
          "MB)")
    print(f"{'estimator':<12} {'run':<44} {'tracemalloc peak':>17} "
          f"{'maxrss growth':>14}")
    for name, label, params in OVR_RUNS:
        cell = isolated(ctx, "ovr", name, params)
        if isinstance(cell, str):
            print(f"{name:<12} {label:<44} {cell}")
            continue
        peak, grown = cell
        print(f"{name:<12} {label:<44} {peak / MB:14.1f} MB {grown / MB:11.1f} "
              "MB", flush=True)


if __name__ == "__main__":
    main()
