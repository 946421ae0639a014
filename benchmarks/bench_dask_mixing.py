"""One averaging round on dask: the star (every copy to one task) vs the tree.

A LocalCluster on 127.0.0.1 with W = 2, 4, 8 and 16 single-threaded worker
processes (oversubscribed on a 2-core machine), one fitted copy per worker,
``GDClassifier(optimizer="adam")`` with d = 100 dense features or d = 2^18
hashed sparse features (coef_ and Adam's two moments: three 2 MB arrays).
Only the averaging round is timed, not training: from submitting the mix to
every shard holding a copy that adopted the mixture (the same adopt task
for both; ``sgdlearn.dask.mix_round``).

Bytes moved are distributed's own accounting: each worker's
``transfer_incoming_log`` (the keys it fetched from other workers and
their sizes by ``dask.sizeof``, which sgdlearn.dask makes exact for
estimators and partials: the bytes of their arrays), cleared before each
round.  Reported per round: max and mean over the workers of the bytes
received, the root's (the star's mix task, the tree's shard W // 2) and
the total, with the critical path in tasks (the tree's is floor(log2 W) +
1 node tasks up, each merging its own copy with its two subtrees', and
floor(log2 W) relays down; the star's one mix task, then one fetch).

Then (``--accuracy``, on by default): test accuracy after data-parallel
training with the tree and with the star, in the same run, on
benchmarks/bench_dask.py's 1M x 100 data with 1 to 16 shards on 2 workers.

    python benchmarks/bench_dask_mixing.py            # ~5 minutes
    python benchmarks/bench_dask_mixing.py --quick    # W = 2, 4; 100k rows
"""

import copy
import importlib
import math
import time

import numpy as np
from _common import header, parse_args

WORKERS = (2, 4, 8, 16)
FEATURES = (100, 2 ** 18)


def add_arguments(parser):
    parser.add_argument("--no-accuracy", action="store_true",
                        help="skip the accuracy section")


def fitted_copy(d, seed):
    """A copy fitted on 200 rows generated here (on the worker): dense for
    small d, 20 hashed features per row otherwise."""
    import scipy.sparse as sp

    from sgdlearn import GDClassifier

    rng = np.random.default_rng(seed)
    if d <= 1000:
        X = rng.standard_normal((200, d))
    else:
        cols = rng.integers(0, d, size=(200, 20))
        X = sp.csr_array((rng.standard_normal(200 * 20), cols.ravel(),
                          np.arange(0, 200 * 20 + 1, 20)), shape=(200, d))
    y = (rng.standard_normal(200) > 0).astype(int)
    return GDClassifier(optimizer="adam", random_state=seed).partial_fit(
        X, y, classes=[0, 1])


def adopted(model, mixed):
    """What a shard does with the mixture before training (as
    ``_train_shard``): a copy of its own model continuing from it."""
    from sgdlearn._dask_mixing import adopt

    return adopt(copy.deepcopy(model), mixed)


def drain(dask_worker):
    total = sum(entry["total"] for entry in dask_worker.transfer_incoming_log)
    count = sum(len(entry["keys"]) for entry in dask_worker.transfer_incoming_log)
    dask_worker.transfer_incoming_log.clear()
    return total, count


def one_round(client, models, places, weights, reduction, mix_round):
    """Time one round on fresh copies of the models (new keys, as after
    training: no worker holds a replica of them yet)."""
    from distributed import wait

    models = [client.submit(copy.deepcopy, model, workers=[place],
                            pure=False)
              for model, place in zip(models, places, strict=True)]
    wait(models)
    client.run(drain)
    start = time.perf_counter()
    _, copies = mix_round(client, models, places, weights, reduction)
    # pinned, as a shard's training task is in effect (it needs its data)
    done = [client.submit(adopted, model, mixed, workers=[place], pure=False)
            for model, mixed, place in zip(models, copies, places, strict=True)]
    wait(done)
    seconds = time.perf_counter() - start
    received = client.run(drain)
    return seconds, received


def critical_path(reduction, n):
    if reduction == "star":
        return "mix + fetch"
    levels = math.floor(math.log2(n))
    return f"{levels + 1} nodes + {levels} relays"


def rounds_table(args):
    from distributed import Client, LocalCluster, wait

    from sgdlearn.dask import mix_round

    workers_list = WORKERS[:2] if args.quick else WORKERS
    print(f"{'W':>3s} {'d':>7s} {'reduction':>9s} {'critical path':>28s} "
          f"{'round (median, min)':>22s} {'max recv':>9s} {'mean recv':>9s} "
          f"{'root recv':>9s} {'total':>9s} {'fetches max/mean':>17s}")
    for n in workers_list:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0",
                          memory_limit="1GiB") as cluster, \
                Client(cluster, timeout="120s") as client:
            client.run(importlib.import_module, "sgdlearn.dask")
            places = sorted(client.nthreads())
            weights = np.full(n, 1.0 / n)
            for d in FEATURES:
                models = [client.submit(fitted_copy, d, i, workers=[w],
                                        pure=False)
                          for i, w in enumerate(places)]
                wait(models)
                results = {"star": [], "tree": []}
                one_round(client, models, places, weights, "tree", mix_round)
                for repeat in range(args.repeats):
                    order = ("star", "tree") if repeat % 2 == 0 else (
                        "tree", "star")
                    for reduction in order:
                        results[reduction].append(one_round(
                            client, models, places, weights, reduction,
                            mix_round))
                for reduction in ("star", "tree"):
                    seconds = [r[0] for r in results[reduction]]
                    received = results[reduction][-1][1]
                    nbytes = np.array([received[w][0] for w in places])
                    fetches = np.array([received[w][1] for w in places])
                    root = (nbytes[n // 2] if reduction == "tree"
                            else nbytes.max())
                    print(f"{n:3d} {d:7d} {reduction:>9s} "
                          f"{critical_path(reduction, n):>28s} "
                          f"{np.median(seconds) * 1e3:10.1f} ms "
                          f"{min(seconds) * 1e3:7.1f} ms "
                          f"{mb(nbytes.max()):>9s} {mb(nbytes.mean()):>9s} "
                          f"{mb(root):>9s} {mb(nbytes.sum()):>9s} "
                          f"{fetches.max():8d}/{fetches.mean():.2f}",
                          flush=True)
                del models


def mb(nbytes):
    return f"{nbytes / 1e6:.3f}M" if nbytes < 1e7 else f"{nbytes / 1e6:.1f}M"


def accuracy_table(args):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from sgdlearn.dask import fit_data_parallel

    bench = importlib.import_module("bench_dask")
    n = 100_000 if args.quick else 1_000_000
    lazy = bench.make_data(da, n, 100, seed=0, chunks=-(-n // bench.BLOCKS))
    test = dask.compute(*bench.make_data(da, 100_000, 100, seed=1,
                                         chunks=50_000), scheduler="threads")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      memory_limit="8GiB") as cluster, \
            Client(cluster) as client:
        X, y = bench.persist(client, lazy)
        print(f"{'shards':>6s} {'tree':>8s} {'star':>8s} {'max |coef diff|':>16s}")
        for n_shards in bench.SHARDS:
            fits = {r: fit_data_parallel(bench.estimator(), X, y,
                                         n_shards=n_shards, reduction=r)
                    for r in ("tree", "star")}
            diff = np.max(np.abs(fits["tree"].coef_ - fits["star"].coef_))
            print(f"{n_shards:6d} {fits['tree'].score(*test):8.4f} "
                  f"{fits['star'].score(*test):8.4f} {diff:16.2e}", flush=True)


def main():
    args = parse_args(__doc__, repeats=5, quick_repeats=2,
                      add_arguments=add_arguments)
    import dask
    import distributed

    header("One averaging round on dask: star vs tree", args, timing=False)
    print(f"# dask {dask.__version__}, distributed {distributed.__version__}; "
          f"{args.repeats} interleaved repeats per cell; bytes from the "
          "workers' transfer_incoming_log (the last repeat)")
    print("\n## 1. one averaging round, GDClassifier(optimizer='adam')")
    rounds_table(args)
    if not args.no_accuracy:
        print("\n## 2. test accuracy after data-parallel training "
              "(bench_dask's estimator, 5 epochs, iterative, 2 workers)")
        accuracy_table(args)


if __name__ == "__main__":
    main()
