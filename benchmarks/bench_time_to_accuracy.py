"""Time to accuracy on unscaled, ill-conditioned data: training log loss
reached vs wall-clock seconds, for every sgdlearn optimizer and
scikit-learn's SGDClassifier(loss="log_loss").

Data: make_classification(20000 x 50, 20 informative, random_state=0),
then feature j multiplied by 10**uniform(-3, 3) (condition number of the
features' scales ~1e6).  Every model is per-sample (batch_size=1),
penalty=None, loss="log_loss", trained by one partial_fit call per epoch;
the clock only runs inside partial_fit (best of the repeats per epoch) and
the log loss on the training set is evaluated after each epoch.

Learning rates: learning_rate="constant" for all, eta0 picked per method by
a sweep over 1e-8, 1e-7, ..., 1 on the final log loss (after all the
epochs; diverged runs lose).  scikit-learn's default "optimal" schedule is shown
too.  The reference optimum J* is found by Newton's method on standardized
features; the figure plots J - J* against time.
"""

import os

import numpy as np
from _common import (
    SEED,
    footer,
    header,
    log_loss_accuracy,
    parse_args,
    timed,
    wait_quiet,
)
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
              "amsgrad", "adamw")
GRID = [10.0**k for k in range(-8, 1)]
FIGURE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "time_to_accuracy.png")
CLASSES = np.array([0, 1])


def ill_conditioned(n, d, seed=SEED):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=20,
                               random_state=seed)
    scales = 10.0 ** np.random.default_rng(seed).uniform(-3, 3, d)
    return X * scales, y


def optimum(X, y, iterations=50):
    """Minimal mean log loss (no penalty), by Newton on standardized X."""
    Z = np.column_stack([(X - X.mean(0)) / X.std(0), np.ones(len(X))])
    signs = np.where(y == 1, 1.0, -1.0)
    v = np.zeros(Z.shape[1])

    def loss(v):
        return np.logaddexp(0.0, -signs * (Z @ v)).mean()

    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(signs * (Z @ v)))  # sigma(-y z)
        grad = -(Z * (signs * p)[:, None]).mean(0)
        hess = (Z * (p * (1 - p))[:, None]).T @ Z / len(y)
        step = np.linalg.solve(hess + 1e-12 * np.eye(len(v)), grad)
        size = 1.0
        while loss(v - size * step) > loss(v) and size > 1e-10:
            size /= 2
        v -= size * step
    return loss(v)


def make(method, eta0):
    common = dict(loss="log_loss", penalty=None, random_state=SEED)
    rate = {} if eta0 is None else dict(learning_rate="constant", eta0=eta0)
    if method.startswith("sklearn"):
        return SGDClassifier(**common, **rate)
    return GDClassifier(optimizer=method, batch_size=1, **common, **rate)


def curve(method, eta0, X, y, epochs):
    """Cumulative partial_fit seconds and log losses after each epoch; stops
    at the first divergence (an exception or a non-finite model)."""
    est, seconds, losses, total = make(method, eta0), [], [], 0.0
    for _ in range(epochs):
        try:
            elapsed, _ = timed(lambda: est.partial_fit(X, y, classes=CLASSES))
        except (ValueError, FloatingPointError):
            break
        loss, accuracy = log_loss_accuracy(est.decision_function(X), y)
        if not np.isfinite(loss):
            break
        total += elapsed
        seconds.append(total)
        losses.append(loss)
    return np.array(seconds), np.array(losses), est


def best_curve(method, X, y, epochs, repeats):
    """The curve of the eta0 of GRID with the lowest final log loss (one run
    each; a divergence loses), its times the best of ``repeats`` runs."""
    runs = {eta0: curve(method, eta0, X, y, epochs) for eta0 in GRID}
    eta0 = min(GRID, key=lambda e: runs[e][1][-1] if len(runs[e][1]) == epochs
               else np.inf)
    return eta0, best_times(method, eta0, X, y, epochs, repeats, runs[eta0])


def best_times(method, eta0, X, y, epochs, repeats, first=None):
    runs = [first or curve(method, eta0, X, y, epochs)]
    for _ in range(repeats - 1):
        wait_quiet()
        runs.append(curve(method, eta0, X, y, epochs))
    return np.min([r[0] for r in runs], axis=0), runs[0][1], runs[0][2]


def plot(results, j_star, path, shape):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    top = 10.0
    for label, (seconds, losses) in results.items():
        gaps = np.maximum(losses - j_star, 1e-6)
        if len(gaps) and gaps.min() > top:
            label += f" (off the chart, >= {gaps.min():.3g})"
        style = "--" if label.startswith("sklearn") else "-"
        ax.loglog(seconds, gaps, style, marker=".", label=label)
    ax.set_ylim(top=top)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("wall-clock seconds in partial_fit (one call per epoch)")
    ax.set_ylabel("training log loss - optimum")
    ax.set_title("Per-sample training on unscaled, ill-conditioned data\n"
                 f"{shape[0]} x {shape[1]}, feature scales 10**U(-3, 3), "
                 "log_loss, no penalty")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    def more(parser):
        parser.add_argument("--figure", default=None,
                            help=f"where to save the figure (default {FIGURE}; "
                                 "none with --quick unless given)")
        parser.add_argument("--epochs", type=int, default=None)

    args = parse_args(__doc__, repeats=3, quick_repeats=1, add_arguments=more)
    n, epochs = (5_000, 10) if args.quick else (20_000, 40)
    epochs = args.epochs or epochs
    figure = args.figure or (None if args.quick else FIGURE)
    header(f"bench_time_to_accuracy: {n} x 50 ill-conditioned, {epochs} epochs",
           args)
    X, y = ill_conditioned(n, 50)
    j_star = optimum(X, y)
    print(f"# optimum J* = {j_star:.5f} (Newton); eta0 swept over 1e-8..1, "
          f"the one with the lowest log loss after {epochs} epochs kept")
    print(f"{'method':<26} {'eta0':>7} {'epochs':>6} {'s/epoch':>9} "
          f"{'final J':>9} {'J - J*':>9} {'t(J-J*<0.1)':>12} {'t(<0.01)':>9} "
          f"{'acc':>6}")
    for method in ("sgd", "sklearn-sgd"):  # first calls out of the way
        curve(method, 1e-8, X, y, 2)
    results = {}
    for method in (*OPTIMIZERS, "sklearn-sgd", "sklearn-sgd-optimal"):
        if method.endswith("optimal"):
            eta0, (seconds, losses, est) = None, best_times(
                "sklearn-sgd", None, X, y, epochs, args.repeats)
        else:
            eta0, (seconds, losses, est) = best_curve(method, X, y, epochs,
                                                      args.repeats)
        label = f"{method} eta0={eta0:g}" if eta0 else "sklearn-sgd 'optimal'"
        results[label] = (seconds, losses)
        reach = []
        for gap in (0.1, 0.01):
            hit = np.flatnonzero(losses - j_star < gap)
            reach.append(f"{seconds[hit[0]]:.4f}" if len(hit) else "never")
        done = len(losses)
        final = losses[-1] if done else np.inf
        acc = log_loss_accuracy(est.decision_function(X), y)[1] if done else 0.0
        print(f"{label.split()[0]:<26} {eta0 if eta0 else 'optimal':>7} {done:>6} "
              f"{seconds[-1] / max(done, 1) if done else np.nan:9.5f} "
              f"{final:9.4f} {final - j_star:9.4f} {reach[0]:>12} "
              f"{reach[1]:>9} {acc:6.3f}", flush=True)
    if figure:
        plot(results, j_star, figure, X.shape)
        print(f"# figure: {figure}")
    footer()


if __name__ == "__main__":
    main()
