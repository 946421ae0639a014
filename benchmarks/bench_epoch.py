"""Seconds per epoch: sgdlearn vs scikit-learn's SGD, per-sample plain SGD.

Both get scikit-learn's default hyperparameters with max_iter=1, tol=None,
shuffle=True, random_state=0 (sgdlearn: optimizer="sgd", batch_size=1), on
dense 100k x 100 and CSR 100k x 2**18 (50 non-zeros per row), float64 and
float32, for hinge and log_loss (binary GDClassifier / SGDClassifier) and
squared_error (GDRegressor / SGDRegressor).

Per configuration: ``fit`` = time of fit(max_iter=1), input validation
included; ``epoch`` = (fit(max_iter=6) - fit(max_iter=1)) / 5, the
kernel-dominated time of one more epoch.  Quality: training objective and
accuracy (R^2 for the regressor) of the max_iter=1 models.
Targets: ratio <= 0.33 on dense input, <= 0.5 on sparse input.
"""

import numpy as np
from _common import (
    SEED,
    best_of,
    compare,
    dense_data,
    footer,
    header,
    parse_args,
    qualities,
    quality,
    sparse_data,
    verdict,
)
from sklearn.linear_model import SGDClassifier, SGDRegressor

from sgdlearn import GDClassifier, GDRegressor

# loss -> (sgdlearn class, scikit-learn class, target attribute, score name)
LOSSES = {
    "hinge": (GDClassifier, SGDClassifier, "y_class", "acc"),
    "log_loss": (GDClassifier, SGDClassifier, "y_class", "acc"),
    "squared_error": (GDRegressor, SGDRegressor, "y_reg", "R2"),
}
TARGETS = {"dense": 0.33, "sparse": 0.5}
EPOCHS = 6


def bench(label, data, loss, repeats, target):
    ours, peer, y_name, score_name = LOSSES[loss]
    y = getattr(data, y_name)
    params = dict(loss=loss, tol=None, shuffle=True, random_state=SEED)

    def fit(cls, max_iter, **extra):
        return lambda: cls(max_iter=max_iter, **params, **extra).fit(data.X, y)

    sgd = dict(optimizer="sgd", batch_size=1)
    best, models = best_of(
        {
            "ours": fit(ours, 1, **sgd),
            "peer": fit(peer, 1),
            "ours_long": fit(ours, EPOCHS, **sgd),
            "peer_long": fit(peer, EPOCHS),
        },
        repeats,
    )
    epoch = {who: (best[f"{who}_long"] - best[who]) / (EPOCHS - 1)
             for who in ("ours", "peer")}
    q_ours = quality(models["ours"], data.X, y, loss)
    q_peer = quality(models["peer"], data.X, y, loss)
    fit_ratio = best["ours"] / best["peer"]
    epoch_ratio = epoch["ours"] / epoch["peer"]
    print(f"{label:<28} fit   {compare(best['ours'], best['peer'])} | "
          f"epoch {compare(epoch['ours'], epoch['peer'])} | "
          f"{qualities(q_ours, q_peer, score_name)} | "
          f"fit {verdict(fit_ratio, target)}, epoch "
          f"{verdict(epoch_ratio, target).split(': ')[1]}", flush=True)


def main():
    args = parse_args(__doc__, repeats=7)
    n = 20_000 if args.quick else 100_000
    header(f"bench_epoch: per-sample plain SGD, seconds per epoch, n={n}", args)
    datasets = {"dense": dense_data(n, 100), "sparse": sparse_data(n, 2**18, 50)}
    for kind, data64 in datasets.items():
        for dtype in (np.float64, np.float32):
            data = data64.astype(dtype)
            for loss in LOSSES:
                label = f"{kind} {np.dtype(dtype).name} {loss}"
                bench(label, data, loss, args.repeats, TARGETS[kind])
    footer()


if __name__ == "__main__":
    main()
