"""A/B of two complete sgdlearn trees (Python and kernel), paired round by round.

On a shared machine two runs minutes apart can differ by 30% or more, so a
kernel change is judged here by alternating, round by round, the working
tree ("B") with another tree ("A", e.g. a ``git worktree`` of the previous
commit built with ``python setup.py build_ext --inplace``).  Each tree runs
in a worker process of its own that imports that tree's whole package (so
the two may differ in the kernel's signature as well as in its code) and
makes the data once; the driver asks them in turn, reversing the order
every other round, and only one works at a time.  Printed: the epoch time
of each (min, median), and the paired ratio B/A per round: median, range,
and in how many rounds B was faster.

    git worktree add --detach /tmp/ab-old ae16adc
    (cd /tmp/ab-old && python setup.py build_ext --inplace)
    python benchmarks/ab_kernels.py /tmp/ab-old --optimizer adam --data sparse

``epoch`` is (fit(max_iter=1 + E) - fit(max_iter=1)) / E, with E =
``--epochs`` (3, as in the other scripts, by default), each fit timed
``--repeats`` times per round and the least kept.
By default the time is the worker's CPU time (``time.process_time``): on a
shared machine, the time others' processes hold the core is then not
counted (their cache and memory traffic still is); ``--clock wall`` for
wall time.  The kernel build is the one chosen at import
(``SGDLEARN_KERNEL``, passed on to both workers).  ``--sklearn`` also times
scikit-learn's SGDClassifier (in B's worker) as a reference.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
THIS_TREE = HERE.parent


def _data(name):
    from _common import dense_data, sparse_data

    return {
        "sparse": lambda: sparse_data(100_000, 2**18, 50),
        "sparse4096": lambda: sparse_data(100_000, 4096, 50),
        "dense": lambda: dense_data(100_000, 100),
    }[name]()


def worker(args):
    """Answer "<name> <max_iter>" lines with the fit's seconds, as JSON."""
    from _common import SEED
    from sklearn.linear_model import SGDClassifier

    import sgdlearn
    from sgdlearn import GDClassifier

    data = _data(args.data)
    X, y = data.X, data.y_class
    common = dict(loss="log_loss", tol=None, random_state=SEED)
    ours = dict(common, optimizer=args.optimizer, batch_size=args.batch_size)
    if args.optimizer not in ("sgd", "cocob"):  # COCOB has no rate
        ours.update(learning_rate="constant", eta0=1e-3)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(json.dumps({"package": sgdlearn.__file__}), flush=True)
    for line in sys.stdin:
        name, max_iter = line.split()
        Model = SGDClassifier if name == "sklearn" else GDClassifier
        params = common if name == "sklearn" else ours
        gc.collect()
        start = clock()
        Model(max_iter=int(max_iter), **params).fit(X, y)
        print(json.dumps({"seconds": clock() - start}), flush=True)


class Worker:
    def __init__(self, tree, args):
        env = dict(os.environ, PYTHONPATH=str(tree))
        command = [sys.executable, str(Path(__file__).resolve()), "--worker",
                   str(tree), "--optimizer", args.optimizer, "--batch-size",
                   str(args.batch_size), "--data", args.data,
                   "--clock", args.clock]
        # cwd outside both trees: the worker imports sgdlearn from ``tree``.
        self.process = subprocess.Popen(command, env=env, cwd=HERE,
                                        stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.package = self._read()["package"]

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("a worker died; see its traceback above")
        return json.loads(line)

    def fit(self, name, max_iter):
        self.process.stdin.write(f"{name} {max_iter}\n")
        self.process.stdin.flush()
        return self._read()["seconds"]

    def epoch(self, repeats, epochs, name="sgdlearn"):
        one = min(self.fit(name, 1) for _ in range(repeats))
        more = min(self.fit(name, 1 + epochs) for _ in range(repeats))
        return (more - one) / epochs

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("other", help="path of the other (already built) tree")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--data", choices=["dense", "sparse", "sparse4096"],
                        default="sparse")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=2,
                        help="fits of each kind per round; the least counts")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--sklearn", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    workers = {"A": Worker(Path(args.other).resolve(), args),
               "B": Worker(THIS_TREE, args)}
    names = ["A", "B"] + (["sklearn"] if args.sklearn else [])
    epochs = {name: [] for name in names}
    try:
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                if name == "sklearn":
                    epochs[name].append(workers["B"].epoch(
                        args.repeats, args.epochs, "sklearn"))
                else:
                    epochs[name].append(workers[name].epoch(args.repeats,
                                                            args.epochs))
    finally:
        for w in workers.values():
            w.close()
    print(f"# {args.optimizer}, batch_size={args.batch_size}, {args.data}, "
          f"{args.rounds} rounds of best of {args.repeats}, {args.epochs} "
          f"epochs, {args.clock} time, "
          f"kernel {os.environ.get('SGDLEARN_KERNEL', 'auto')}; "
          f"A = {workers['A'].package}, B = {workers['B'].package}")
    for name in names:
        ms = np.array(epochs[name]) * 1e3
        print(f"{name:8s} epoch min {ms.min():7.2f}  median {np.median(ms):7.2f} ms")
    ratio = np.array(epochs["B"]) / np.array(epochs["A"])
    print(f"paired B/A per round: median {np.median(ratio):.3f}, range "
          f"{ratio.min():.3f} to {ratio.max():.3f}, B faster in "
          f"{int(np.sum(ratio < 1))} of {len(ratio)} rounds")


if __name__ == "__main__":
    main()
