"""COCOB-Backprop's per-sample epoch time against scikit-learn's
SGDClassifier(loss="log_loss") (plain SGD, its defaults), same run, same
data, and its accuracy without a learning rate.

Data (``_common``): dense 100k x 100 float64 standard normal rows, and CSR
100k x 2**18 with 50 non-zeros per row (Zipf-like column frequencies, as
hashed text features); float64, then float32 input (which COCOB trains in
float32 and scikit-learn converts to float64).

Models: GDClassifier(optimizer="cocob", loss="log_loss") with every other
parameter at its default (penalty='l2', alpha=1e-4: on CSR the L2 gradient
reaches the row's stored columns only), per sample, shuffle=True, tol=None.

Timing: ``epoch`` = (fit(max_iter=6) - fit(max_iter=1)) / 5, best of
``--repeats``, in the process's CPU time by default (``--clock wall`` for
wall time): on a shared machine the time other processes hold the core is
then not counted.  Targets: dense ratio <= 0.6, CSR ratio <= 1.2.
"""

import numpy as np
from _common import (
    SEED,
    compare,
    dense_data,
    epochs_against_sgd,
    footer,
    header,
    parse_args,
    sparse_data,
    verdict,
)
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier

EPOCHS = 6
TARGETS = {"dense": 0.6, "csr": 1.2}


def ours(max_iter):
    return GDClassifier(optimizer="cocob", loss="log_loss", max_iter=max_iter,
                        tol=None, shuffle=True, random_state=SEED)


def time_epochs(name, X, y, args):
    _, _, epoch = epochs_against_sgd(ours, X, y, args.repeats, EPOCHS)
    epoch_ours, epoch_peer = epoch["ours"], epoch["peer"]
    label = f"{name} {np.dtype(X.dtype).name}"
    ratio = epoch_ours / epoch_peer
    print(f"{label:<13} epoch  {compare(epoch_ours, epoch_peer)}  "
          f"{verdict(ratio, TARGETS[name])}")
    acc = ours(3).fit(X, y).score(X, y)
    acc_peer = SGDClassifier(loss="log_loss", max_iter=3, tol=None,
                             random_state=SEED).fit(X, y).score(X, y)
    print(f"{label:<13} train accuracy after 3 epochs: cocob {acc:.4f}, "
          f"sklearn SGD (optimal rate) {acc_peer:.4f}")


def main():
    args = parse_args(__doc__, repeats=3, quick_repeats=2, clock="cpu")
    header("COCOB-Backprop: per-sample epoch time vs SGDClassifier", args)
    n = 20_000 if args.quick else 100_000
    dense = dense_data(n, 100)
    sparse = sparse_data(n, 2 ** 18, 50)
    print(f"# dense {n} x 100; CSR {n} x 2**18, 50 non-zeros per row; "
          f"{args.clock} time")
    for dtype in (np.float64, np.float32):
        time_epochs("dense", dense.X.astype(dtype), dense.y_class, args)
        time_epochs("csr", sparse.X.astype(dtype), sparse.y_class, args)
    footer()


if __name__ == "__main__":
    main()
