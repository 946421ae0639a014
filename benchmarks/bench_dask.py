"""Data-parallel training on dask: time, accuracy and the cost of mixing.

Two worker processes (one thread each) on loopback.  The training data,
1M x 100 dense float64 by default, is generated on the workers with
``da.random`` and persisted there; the single-process baseline computes
the same graph in this process (same numbers, no cluster).  Labels are
linear with noise (the Bayes accuracy is about 0.852), so accuracy has room
to differ.  The estimator is ``GDClassifier(loss="log_loss", alpha=1e-5,
average=True, max_iter=5, tol=None)``; test accuracy on 100k fresh rows.

Prints: (1) data-parallel vs single-process fit, time (best of --repeats,
interleaved) and accuracy, with the data in 16 blocks (each worker stacks
its 8 blocks into one shard, a copy) and in 2 blocks (one per worker, no
copy); (2) the cost of one averaging round; (3) accuracy vs number of
shards (1, 2, 4, 8, 16), iterative and one-shot, on the 1M rows and on 20k
rows (shards of 20k / 16 = 1,250 rows stand for very many machines).

    python benchmarks/bench_dask.py            # 1M x 100, ~3 minutes
    python benchmarks/bench_dask.py --quick    # 100k x 100
"""

import importlib
import time

import numpy as np
from _common import header, parse_args

from sgdlearn import GDClassifier

BLOCKS = 16
SHARDS = (1, 2, 4, 8, 16)
SMALL_N = 20_000


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=None,
                        help="training rows (default 1M, 100k with --quick)")
    parser.add_argument("--d", type=int, default=100, help="features")


def make_data(da, n, d, seed, chunks):
    """X ~ N(0, 1); y = 1[X @ w + 0.5 noise > 0] with |w| = 1: dask arrays
    generated wherever they are computed."""
    w = np.random.default_rng(12345).standard_normal(d)
    w /= np.linalg.norm(w)
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(chunks, d))
    noise = rng.standard_normal(n, chunks=chunks)
    y = (X @ w + 0.5 * noise > 0).astype(np.int64)
    return X, y


def estimator():
    return GDClassifier(loss="log_loss", alpha=1e-5, average=True, max_iter=5,
                        tol=None, random_state=0)


def best_of(runs, repeats):
    """Best time of each callable, interleaved (reversed every other
    repeat); returns ({name: seconds}, {name: last result})."""
    best, results = dict.fromkeys(runs, np.inf), {}
    names = list(runs)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            results[name] = runs[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def persist(client, arrays):
    from distributed import wait

    arrays = client.persist(list(arrays))
    wait(arrays)
    return arrays


def one_block_per_worker(client, arrays):
    """The arrays, with row block i computed and kept on worker i (the
    scheduler may put both blocks of a 2-block array on one worker)."""
    import dask.array as da

    workers = sorted(client.nthreads())
    placed = []
    for array in arrays:
        blocks = array.to_delayed().ravel()
        futures = [client.compute(block, workers=[worker])
                   for block, worker in zip(blocks, workers, strict=True)]
        shapes = [(rows,) + array.shape[1:] for rows in array.chunks[0]]
        placed.append(da.concatenate([
            da.from_delayed(future, shape, array.dtype)
            for future, shape in zip(futures, shapes, strict=True)]))
    return persist(client, placed)


def compare_fits(client, lazy, X, y, test, args, fit_data_parallel):
    """Single-process fit vs data-parallel fits on the two workers; ``lazy``
    is the unpersisted (X, y), computed in this process for the baseline."""
    import dask
    import dask.array as da

    start = time.perf_counter()
    X_local, y_local = dask.compute(*lazy, scheduler="threads")
    print(f"# the same data computed in this process in "
          f"{time.perf_counter() - start:.2f} s (not timed)")
    X2, y2 = one_block_per_worker(client, make_data(
        da, args.n, args.d, seed=0, chunks=-(-args.n // 2)))
    runs = {
        "single process, fit": lambda: estimator().fit(X_local, y_local),
        "2 workers, iterative, 16 blocks": lambda: fit_data_parallel(
            estimator(), X, y),
        "2 workers, one-shot, 16 blocks": lambda: fit_data_parallel(
            estimator(), X, y, mixing="one_shot"),
        "2 workers, iterative, 2 blocks": lambda: fit_data_parallel(
            estimator(), X2, y2),
        "2 workers, one-shot, 2 blocks": lambda: fit_data_parallel(
            estimator(), X2, y2, mixing="one_shot"),
    }
    times, models = best_of(runs, args.repeats)
    base = times["single process, fit"]
    print(f"{'':34s} {'time':>8s} {'speed-up':>9s} {'test acc':>9s}")
    for name, seconds in times.items():
        print(f"{name:34s} {seconds:7.2f}s {base / seconds:8.2f}x "
              f"{models[name].score(*test):9.4f}")
    return times


def mixing_cost(client, times, args, fit_data_parallel):
    """Per-round cost: iterative (5 mixes) minus one-shot (1 mix), / 4; and
    the time per round on tiny shards, where a round is all overhead."""
    import dask.array as da

    rounds = estimator().max_iter
    for blocks in (16, 2):
        per_round = (times[f"2 workers, iterative, {blocks} blocks"]
                     - times[f"2 workers, one-shot, {blocks} blocks"])
        print(f"one averaging round on {args.n:,} x {args.d}, {blocks} "
              f"blocks ((iterative - one-shot) / {rounds - 1}): "
              f"{per_round / (rounds - 1) * 1e3:.0f} ms")
    X, y = persist(client, make_data(da, 2000, args.d, seed=3, chunks=1000))
    runs = {n: lambda n=n: fit_data_parallel(
        estimator().set_params(max_iter=n), X, y) for n in (1, 41)}
    seconds, _ = best_of(runs, args.repeats)
    print(f"one averaging round on 2 shards of 1,000 rows ((41 rounds - 1) "
          f"/ 40): {(seconds[41] - seconds[1]) / 40 * 1e3:.0f} ms")


def shards_table(X, y, test, fit_data_parallel):
    print(f"{'shards':>6s} {'rows/shard':>10s} {'iterative':>10s} "
          f"{'one-shot':>9s}")
    for n_shards in SHARDS:
        accuracy = [fit_data_parallel(estimator(), X, y, n_shards=n_shards,
                                      mixing=mixing).score(*test)
                    for mixing in ("iterative", "one_shot")]
        print(f"{n_shards:6d} {X.shape[0] // n_shards:10,d} "
              f"{accuracy[0]:10.4f} {accuracy[1]:9.4f}")


def main():
    args = parse_args(__doc__, repeats=5, quick_repeats=1,
                      add_arguments=add_arguments)
    if args.n is None:
        args.n = 100_000 if args.quick else 1_000_000
    import dask
    import dask.array as da
    import distributed
    from distributed import Client, LocalCluster

    from sgdlearn.dask import fit_data_parallel

    header("Data-parallel training on dask", args, timing=False)
    print(f"# dask {dask.__version__}, distributed {distributed.__version__}; "
          f"{args.n:,} x {args.d} training rows; best of {args.repeats}")
    lazy = make_data(da, args.n, args.d, seed=0, chunks=-(-args.n // BLOCKS))
    test = dask.compute(*make_data(da, 100_000, args.d, seed=1,
                                   chunks=50_000), scheduler="threads")
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      memory_limit="8GiB") as cluster, Client(cluster) as client:
        client.run(importlib.import_module, "sgdlearn.dask")
        print(f"# LocalCluster (2 processes) up in "
              f"{time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        X, y = persist(client, lazy)
        print(f"# data generated on the workers in "
              f"{time.perf_counter() - start:.2f} s")
        print("\n## 1. data-parallel vs single-process fit (5 epochs)")
        times = compare_fits(client, lazy, X, y, test, args, fit_data_parallel)
        print("\n## 2. the cost of one averaging round")
        mixing_cost(client, times, args, fit_data_parallel)
        print(f"\n## 3. test accuracy vs number of shards, {args.n:,} rows "
              f"in {BLOCKS} blocks (5 epochs)")
        shards_table(X, y, test, fit_data_parallel)
        small = persist(client, make_data(da, SMALL_N, args.d, seed=2,
                                          chunks=SMALL_N // BLOCKS))
        print(f"\n## 3b. the same on {SMALL_N:,} rows: small shards")
        shards_table(*small, test, fit_data_parallel)


if __name__ == "__main__":
    main()
