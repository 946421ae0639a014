"""Schedule-free SGD and AdamW: per-sample epoch time against
scikit-learn's SGDClassifier(loss="log_loss") plain SGD, same run, same
data, and the models' quality.

Data (``_common.py``): dense 100,000 x 100 float64, and CSR 100,000 x 2**18
with 50 non-zeros per row (Zipf-like columns).  Models:
GDClassifier(loss="log_loss", optimizer="sgd_schedulefree" /
"adamw_schedulefree") at their default rates (eta0 0.03 / 0.0025,
constant), with the estimator's default L2 (alpha=1e-4; on CSR it decays
only the coordinates an update touches) and with penalty=None; per-sample,
shuffle=True, tol=None.  ``epoch`` = (fit(max_iter=6) - fit(max_iter=1)) /
5, which includes schedule-free's end-of-epoch work: the catch-up of every
coordinate on CSR, forming x, and the objective at x (one more pass over
the rows).  Targets: dense ratio <= 0.6, CSR ratio <= 1.2.
"""

from _common import (
    SEED,
    compare,
    dense_data,
    epochs_against_sgd,
    footer,
    header,
    parse_args,
    qualities,
    quality,
    sparse_data,
    verdict,
)

from sgdlearn import GDClassifier

EPOCHS = 6
TARGETS = {"dense": 0.6, "csr": 1.2}


def main():
    args = parse_args(__doc__, repeats=5, quick_repeats=2)
    header("Schedule-free SGD / AdamW per-sample epoch vs SGDClassifier", args)
    n = 20_000 if args.quick else 100_000
    datasets = {"dense": dense_data(n, 100), "csr": sparse_data(n, 2**18, 50)}
    for layout, data in datasets.items():
        print(f"# {layout}: {data.X.shape[0]} x {data.X.shape[1]} float64")
        for optimizer in ("sgd_schedulefree", "adamw_schedulefree"):
            for penalty in ("l2", None):
                time_epochs(layout, data, optimizer, penalty, args)
    footer()


def time_epochs(layout, data, optimizer, penalty, args):
    X, y = data.X, data.y_class

    def ours(max_iter):
        return GDClassifier(optimizer=optimizer, loss="log_loss",
                            penalty=penalty, max_iter=max_iter, tol=None,
                            shuffle=True, random_state=SEED)

    best, models, epoch = epochs_against_sgd(ours, X, y, args.repeats, EPOCHS)
    epoch_ours, epoch_peer = epoch["ours"], epoch["peer"]
    ratio = epoch_ours / epoch_peer
    label = f"{layout} {optimizer} penalty={penalty}"
    scores = qualities(quality(models["ours_long"], X, y, "log_loss"),
                       quality(models["peer_long"], X, y, "log_loss"))
    print(f"{label:<44} epoch {compare(epoch_ours, epoch_peer)}  "
          f"{verdict(ratio, TARGETS[layout])}  | fit(max_iter=1) "
          f"{compare(best['ours'], best['peer'])}  | {EPOCHS} epochs: {scores}")


if __name__ == "__main__":
    main()
