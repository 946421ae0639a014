"""One model on every core: ``n_shards`` (in-process data-parallel threads).

For each data set, ``GDClassifier(loss="log_loss", optimizer="adam",
eta0=1e-3, alpha=1e-5, max_iter=5, tol=None)`` (on CSR eta0=1e-2,
alpha=1e-6; ``--estimator optimal``:
the default schedule with averaging, as benchmarks/bench_dask.py) is fit
on one thread (``n_shards=None``, today's training) and data-parallel
with ``n_shards`` shards on 1 and on ``n_shards`` threads
(the scaling curve: the first isolates the cost of shards and mixing, the
second adds the threads).  Times are the best of --repeats interleaved
runs in the same process; quality is held-out accuracy and log loss on
fresh rows of the same distribution.

Data: 1M x 100 dense float32 (linear labels with noise) and 1M x 2^18
hashed-text-like CSR float32 (20 non-zeros a row, Zipf-like columns),
binary; and the dense set with 10 classes (multinomial).  The machine
load average is printed at the start and the end: on a shared machine the
threads compete with other processes and the speed-up is lower.

    python benchmarks/bench_data_parallel.py              # 1M rows
    python benchmarks/bench_data_parallel.py --quick      # 100k rows
    python benchmarks/bench_data_parallel.py --threads 1 2 4 8
"""

import os

import numpy as np
from _common import best_of, csr_rows, footer, header, parse_args
from sklearn.metrics import log_loss

from sgdlearn import GDClassifier


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=None,
                        help="training rows (default 1M, 100k with --quick)")
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="shard counts (= threads) to time (default 2)")
    parser.add_argument("--sets", nargs="+",
                        default=["dense", "csr", "multinomial"])
    parser.add_argument("--estimator", choices=["adam", "optimal"],
                        default="adam")


def dense(n, n_test, d=100, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_test, d), dtype=np.float32)
    if n_classes == 2:
        w = rng.standard_normal(d) / np.sqrt(d)
        y = (X @ w + 0.3 * rng.standard_normal(n + n_test) > 0).astype(int)
    else:
        W = rng.standard_normal((d, n_classes)) / np.sqrt(d)
        y = np.argmax(X @ W + 0.3 * rng.standard_normal((n + n_test, n_classes)),
                      axis=1)
    return X[:n], y[:n], X[n:], y[n:]


def hashed(n, n_test, d=2**18, nnz=20, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(d) + 10.0)
    p = p[rng.permutation(d)] / p.sum()
    X = csr_rows(rng, n + n_test, nnz, p).astype(np.float32)
    w = rng.standard_normal(d)
    score = X @ w
    y = (score + 0.3 * rng.standard_normal(n + n_test) > 0).astype(int)
    return X[:n], y[:n], X[n:], y[n:]


def quality(model, X, y):
    return model.score(X, y), log_loss(y, model.predict_proba(X),
                                       labels=model.classes_)


# "adam": per-sample Adam at a constant rate; "optimal": scikit-learn's
# default schedule with averaging (ASGD, as benchmarks/bench_dask.py), whose
# rate 1 / (alpha (t0 + t)) runs on each shard's own clock: after 5 epochs
# each shard is where a fit on its rows alone would be, and the log loss of
# the (still far from converged) average shows it.
ESTIMATORS = {
    "adam": dict(optimizer="adam", eta0=1e-3, alpha=1e-5),
    "optimal": dict(alpha=1e-4, average=True),
}


# Sparse hashed rows: most columns are rare, a larger rate learns them.
SPARSE = {"adam": dict(eta0=1e-2, alpha=1e-6), "optimal": {}}


def run_set(name, data, shard_counts, repeats, estimator, multinomial=False):
    X, y, X_test, y_test = data
    own = SPARSE[estimator] if hasattr(X, "indptr") else {}
    params = dict(ESTIMATORS[estimator] | own, loss="log_loss", max_iter=5,
                  tol=None, random_state=0,
                  multi_class="multinomial" if multinomial else "ovr")
    runs = {"1 thread": lambda: GDClassifier(**params).fit(X, y)}
    for s in shard_counts:
        runs[f"{s} shards, 1 thread"] = (
            lambda s=s: GDClassifier(**params, n_shards=s, n_jobs=1).fit(X, y))
        runs[f"{s} shards, {s} threads"] = (
            lambda s=s: GDClassifier(**params, n_shards=s, n_jobs=s).fit(X, y))
    best, models = best_of(runs, repeats)
    base_time = best["1 thread"]
    base_acc, base_loss = quality(models["1 thread"], X_test, y_test)
    kind = "multinomial 10 classes" if multinomial else "binary"
    print(f"\n## {name}, {kind}: {X.shape[0]:,} x {X.shape[1]:,} "
          f"{type(X).__name__} {X.dtype}, 5 epochs, GDClassifier("
          + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")")
    print(f"{'run':<22} {'seconds':>8} {'speed-up':>9} {'accuracy':>9} "
          f"{'d acc':>8} {'log loss':>9} {'d loss':>8}")
    for run, seconds in best.items():
        acc, loss = quality(models[run], X_test, y_test)
        print(f"{run:<22} {seconds:8.3f} {base_time / seconds:8.2f}x "
              f"{acc:9.4f} {acc - base_acc:+8.4f} {loss:9.4f} "
              f"{(loss - base_loss) / base_loss:+8.2%}")


def main():
    args = parse_args(__doc__, repeats=3, quick_repeats=2,
                      add_arguments=add_arguments)
    header("n_shards: one model, data-parallel threads", args)
    n = args.n or (100_000 if args.quick else 1_000_000)
    n_test = max(n // 10, 1000)
    print(f"# os.cpu_count() = {os.cpu_count()}, load average at start "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if "dense" in args.sets:
        run_set("dense", dense(n, n_test), args.threads, args.repeats,
                args.estimator)
    if "csr" in args.sets:
        run_set("hashed CSR", hashed(n, n_test), args.threads, args.repeats,
                args.estimator)
    if "multinomial" in args.sets:
        run_set("dense", dense(n, n_test, n_classes=10), args.threads,
                args.repeats, args.estimator, multinomial=True)
    footer()


if __name__ == "__main__":
    main()
