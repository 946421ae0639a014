"""Vowpal Wabbit's default rule (optimizer="normalized"): per-sample epoch
time against scikit-learn's plain SGD and against Vowpal Wabbit itself.

Data: dense 100k x 100 float64 (``_common.dense_data``) and the CSR hashed
set, 100k x 2**18 with 50 non-zeros per row (``_common.sparse_data``);
log loss, per sample, shuffle=True, tol=None.

* vs scikit-learn: ``epoch`` = (fit(max_iter=6) - fit(max_iter=1)) / 5 of
  GDClassifier(optimizer="normalized", loss="log_loss") and of
  SGDClassifier(loss="log_loss") (its plain SGD).  Targets: ratio <= 0.6
  dense, <= 1.2 CSR.
* vs Vowpal Wabbit (when ``vowpalwabbit`` is installed): one pass of
  ``vw --loss_function logistic`` (its default rule, the same one) over
  examples parsed beforehand (parsing not timed), through its Python API,
  against one sgdlearn epoch (and a whole fit(max_iter=1)).  Targets:
  sgdlearn >= 10x faster dense, >= 4x CSR.  The held-out accuracy of both
  after one pass is printed.
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

from sgdlearn import GDClassifier

EPOCHS = 6


def ours(max_iter):
    return GDClassifier(optimizer="normalized", loss="log_loss",
                        max_iter=max_iter, tol=None, shuffle=True,
                        random_state=SEED)


def vw_examples(vw, X, y):
    """Parsed VW examples of the rows (feature j named j + 1), labels +-1."""
    examples = []
    dense = not hasattr(X, "indptr")
    for i in range(X.shape[0]):
        if dense:
            cols, vals = range(X.shape[1]), X[i]
        else:
            lo, hi = X.indptr[i], X.indptr[i + 1]
            cols, vals = X.indices[lo:hi], X.data[lo:hi]
        line = f"{1 if y[i] else -1} | " + " ".join(
            f"{j + 1}:{v:.9g}" for j, v in zip(cols, vals, strict=True))
        examples.append(vw.parse(line))
    return examples


def vw_pass(X, y, X_test, y_test):
    """(seconds of one learning pass, held-out accuracy), or None without
    vowpalwabbit."""
    try:
        from vowpalwabbit import pyvw
    except ImportError:
        return None
    from _common import timed

    vw = pyvw.Workspace("--loss_function logistic -b 18 --quiet")
    examples = vw_examples(vw, X, y)
    seconds, _ = timed(lambda: [vw.learn(ex) for ex in examples])
    tests = vw_examples(vw, X_test, y_test)
    scores = np.array([vw.predict(ex) for ex in tests])
    for ex in examples + tests:
        vw.finish_example(ex)
    vw.finish()
    return seconds, float(np.mean((scores > 0) == (y_test == 1)))


def run(name, X, y, args, target_sk, target_vw):
    n_test = X.shape[0] // 10
    X_train, y_train = X[n_test:], y[n_test:]
    X_test, y_test = X[:n_test], y[:n_test]

    best, results, epoch = epochs_against_sgd(ours, X_train, y_train,
                                              args.repeats, EPOCHS)
    epoch_ours, epoch_peer = epoch["ours"], epoch["peer"]
    ratio = epoch_ours / epoch_peer
    print(f"{name} epoch  {compare(epoch_ours, epoch_peer)}  "
          f"{verdict(ratio, target_sk)}")
    acc_ours = results["ours"].score(X_test, y_test)
    acc_peer = results["peer"].score(X_test, y_test)
    print(f"{name} held-out acc after 1 epoch: sgdlearn {acc_ours:.4f}  "
          f"sklearn {acc_peer:.4f}")
    timing = [vw_pass(X_train, y_train, X_test, y_test)
              for _ in range(min(args.repeats, 2))]
    if timing[0] is None:
        print(f"{name} vs Vowpal Wabbit: skipped (vowpalwabbit not installed)")
        return
    seconds = min(t for t, _ in timing)
    # Like for like: VW's pass over parsed examples against one sgdlearn
    # epoch (the kernel's pass over validated arrays); the whole
    # fit(max_iter=1), with its validation and setup, is printed too.
    speedup = seconds / epoch_ours
    print(f"{name} one pass  sgdlearn epoch {epoch_ours * 1e3:7.2f} ms  "
          f"vw learn {seconds * 1e3:8.2f} ms  sgdlearn {speedup:5.1f}x faster  "
          f"{verdict(speedup, target_vw, higher_is_better=True)}  (whole "
          f"fit(max_iter=1): {best['ours'] * 1e3:.2f} ms, "
          f"{seconds / best['ours']:.1f}x)")
    print(f"{name} held-out acc after 1 pass: sgdlearn {acc_ours:.4f}  "
          f"vw {timing[0][1]:.4f}")


def main():
    args = parse_args(__doc__, repeats=3, quick_repeats=2)
    header("Vowpal Wabbit's normalized rule: per-sample epochs", args)
    n = 20_000 if args.quick else 100_000
    data = dense_data(n, 100)
    print(f"# dense {n} x 100 float64; CSR {n} x 2**18, 50 non-zeros per row")
    run("dense", data.X, data.y_class, args, 0.6, 10.0)
    data = sparse_data(n, 2 ** 18, 50)
    run("csr  ", data.X, data.y_class, args, 1.2, 4.0)
    footer()


if __name__ == "__main__":
    main()
