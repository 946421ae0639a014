"""A/B of two builds of the epoch kernel in one process, beside scikit-learn.

On a shared machine two runs minutes apart can differ by 30% or more, so a
kernel change is judged here by alternating, round by round, the working
tree's kernel ("B") with another tree's build of it ("A", e.g. a
``git worktree`` of the previous commit built with ``python setup.py
build_ext --inplace``), and scikit-learn's SGDClassifier as the reference.
Both builds are driven by the working tree's Python code, so the other
tree's ``fit_epoch`` must accept the same keywords.  Printed: min, lower
quartile and median epoch time of each, and the paired ratio B/A per round.

    git worktree add /tmp/prev HEAD~1
    (cd /tmp/prev && python setup.py build_ext --inplace)
    python benchmarks/ab_kernels.py /tmp/prev --optimizer adam --data sparse

``epoch`` is (fit(max_iter=4) - fit(max_iter=1)) / 3, as in the other
scripts; the kernel build is the one chosen at import (``SGDLEARN_KERNEL``).
"""

import argparse
import gc
import glob
import importlib.util
import os
import time

import numpy as np
from _common import SEED, dense_data, sparse_data
from sklearn.linear_model import SGDClassifier

import sgdlearn._engine as engine
from sgdlearn import GDClassifier

DATA = {
    "sparse": lambda: sparse_data(100_000, 2**18, 50),
    "sparse4096": lambda: sparse_data(100_000, 4096, 50),
    "dense": lambda: dense_data(100_000, 100),
}


def load_kernel(tree):
    """The other tree's build of the kernel module in use, under a name of
    its own (so both builds live in this process)."""
    name = engine.kernel.__name__.rsplit(".", 1)[1]
    paths = glob.glob(os.path.join(tree, "sgdlearn", "_kernels", name + ".*.so"))
    if not paths:
        raise SystemExit(f"no {name} build in {tree}: run python setup.py "
                         "build_ext --inplace there")
    spec = importlib.util.spec_from_file_location(f"ab_other.{name}", paths[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("other", help="path of the other (already built) tree")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--data", choices=sorted(DATA), default="sparse")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    kernels = {"A": load_kernel(args.other), "B": engine.kernel}
    data = DATA[args.data]()
    X, y = data.X, data.y_class
    common = dict(loss="log_loss", tol=None, random_state=SEED)
    ours = dict(common, optimizer=args.optimizer, batch_size=args.batch_size)
    if args.optimizer != "sgd":
        ours.update(learning_rate="constant", eta0=1e-3)

    def fit(name, max_iter):
        if name == "sklearn":
            return SGDClassifier(max_iter=max_iter, **common).fit(X, y)
        engine.kernel = kernels[name]
        return GDClassifier(max_iter=max_iter, **ours).fit(X, y)

    names = ["sklearn", "A", "B"]
    epochs = {name: [] for name in names}
    try:
        for round_ in range(args.rounds):
            gc.collect()
            for name in names if round_ % 2 == 0 else names[::-1]:
                start = time.perf_counter()
                fit(name, 1)
                one = time.perf_counter() - start
                start = time.perf_counter()
                fit(name, 4)
                epochs[name].append((time.perf_counter() - start - one) / 3)
    finally:
        engine.kernel = kernels["B"]
    print(f"# {args.optimizer}, batch_size={args.batch_size}, {args.data}, "
          f"{args.rounds} rounds; A = {args.other}, B = this tree")
    for name in names:
        ms = np.array(epochs[name]) * 1e3
        print(f"{name:8s} epoch min {ms.min():7.2f}  q25 "
              f"{np.percentile(ms, 25):7.2f}  median {np.median(ms):7.2f} ms")
    a, b = np.array(epochs["A"]), np.array(epochs["B"])
    print(f"paired B/A per round: median {np.median(b / a):.3f}, "
          f"B faster in {int(np.sum(b < a))} of {len(a)} rounds")


if __name__ == "__main__":
    main()
