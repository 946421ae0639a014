"""FTRL-Proximal on hashed-text-like data: sparsity from its L1, and its
epoch time against scikit-learn's SGDClassifier(loss="log_loss").

Data: CSR, 2**18 columns, exactly 50 distinct non-zeros per row with
Zipf-like column frequencies (``_common.sparse_data``'s generator), labels
drawn from a *sparse* truth: 2,000 informative columns among the 20,000
most frequent, y ~ Bernoulli(sigmoid(x . w)).  Train on n rows, report the
held-out log loss on 20% more.

Models: GDClassifier(loss="log_loss", optimizer=FTRL(l1=L1)), eta0 (the
paper's alpha) 0.5, per-sample, 3 epochs, against the same model with
l1=0.  Targets: with l1 > 0, >= 90% exact zeros at a held-out log loss
within 1% of the l1=0 model's.

Timing: ``epoch`` = (fit(max_iter=6) - fit(max_iter=1)) / 5 of FTRL
(l1 > 0) and of scikit-learn's plain SGDClassifier(loss="log_loss") (its
defaults), tol=None, shuffle=True.  Target: ratio <= 1.0.
"""

import numpy as np
from _common import (
    SEED,
    best_of,
    compare,
    csr_rows,
    footer,
    header,
    log_loss_accuracy,
    parse_args,
    verdict,
)
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier
from sgdlearn.optim import FTRL

D = 2 ** 18
NNZ = 50
EPOCHS = 6


def hashed_sparse_truth(n, d=D, nnz=NNZ, n_frequent=20_000, n_informative=2_000,
                        seed=SEED):
    """(X, y): _common.sparse_data's rows, labels from 2,000 informative
    columns among the 20,000 most frequent."""
    rng = np.random.default_rng(seed)
    ranks = rng.permutation(d)  # column j has frequency rank ranks[j]
    p = 1.0 / (ranks + 10.0)
    p /= p.sum()
    X = csr_rows(rng, n, nnz, p)
    frequent = np.flatnonzero(ranks < n_frequent)
    informative = rng.choice(frequent, n_informative, replace=False)
    w = np.zeros(d)
    w[informative] = rng.standard_normal(n_informative)
    score = X @ w
    score *= 2.0 / score.std()
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-score))).astype(np.int64)
    return X, y


def main():
    args = parse_args(__doc__, repeats=3, quick_repeats=2,
                      add_arguments=lambda p: p.add_argument(
                          "--l1", type=float, default=1.0,
                          help="FTRL's lambda_1 (default 1.0)"))
    header("FTRL-Proximal: sparsity and epoch time on hashed-text data", args)
    n_train = 20_000 if args.quick else 100_000
    X, y = hashed_sparse_truth(n_train + n_train // 5)
    X_train, y_train = X[:n_train], y[:n_train]
    X_test, y_test = X[n_train:], y[n_train:]
    print(f"# CSR {n_train} x 2**18 train (+{n_train // 5} held out), "
          f"{NNZ} non-zeros per row; 2,000 informative columns among the "
          f"20,000 most frequent; positives {y.mean():.3f}")

    # Sparsity at a held-out log loss.
    params = dict(loss="log_loss", eta0=0.5, max_iter=3, tol=None,
                  shuffle=True, random_state=SEED)
    base = GDClassifier(optimizer="ftrl", **params).fit(X_train, y_train)
    sparse = GDClassifier(optimizer=FTRL(l1=args.l1), **params).fit(
        X_train, y_train)
    base_loss, base_acc = log_loss_accuracy(
        base.decision_function(X_test), y_test)
    loss, acc = log_loss_accuracy(sparse.decision_function(X_test), y_test)
    zeros = float(np.mean(sparse.coef_ == 0))
    excess = loss / base_loss - 1.0
    print(f"ftrl l1=0         held-out log loss {base_loss:.4f}  acc "
          f"{base_acc:.4f}  zeros {np.mean(base.coef_ == 0):.3%}")
    print(f"ftrl l1={args.l1:<8g} held-out log loss {loss:.4f}  acc {acc:.4f}  "
          f"zeros {zeros:.3%}  log loss {excess:+.2%} vs l1=0")
    print(f"  zeros: {verdict(zeros, 0.90, higher_is_better=True)}; "
          f"log loss excess: {verdict(excess, 0.01)}")

    # Epoch time against scikit-learn's plain SGD, same run, same data
    # (float64; then float32 input, which FTRL trains in float32 and
    # scikit-learn converts to float64).
    for dtype in (np.float64, np.float32):
        time_epochs(X_train.astype(dtype), y_train, args)
    footer()


def time_epochs(X_train, y_train, args):
    def fit(make, max_iter):
        return lambda: make(max_iter).fit(X_train, y_train)

    def ours(max_iter):
        return GDClassifier(optimizer=FTRL(l1=args.l1), loss="log_loss",
                            eta0=0.5, max_iter=max_iter, tol=None,
                            shuffle=True, random_state=SEED)

    def peer(max_iter):
        return SGDClassifier(loss="log_loss", max_iter=max_iter, tol=None,
                             shuffle=True, random_state=SEED)

    best, _ = best_of({"ours": fit(ours, 1), "peer": fit(peer, 1),
                       "ours_long": fit(ours, EPOCHS),
                       "peer_long": fit(peer, EPOCHS)}, args.repeats)
    epoch_ours = (best["ours_long"] - best["ours"]) / (EPOCHS - 1)
    epoch_peer = (best["peer_long"] - best["peer"]) / (EPOCHS - 1)
    label = np.dtype(X_train.dtype).name
    print(f"{label} fit    {compare(best['ours'], best['peer'])}")
    ratio = epoch_ours / epoch_peer
    print(f"{label} epoch  {compare(epoch_ours, epoch_peer)}  "
          f"{verdict(ratio, 1.0)}")


if __name__ == "__main__":
    main()
