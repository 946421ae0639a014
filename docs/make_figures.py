"""Regenerate the user guide's figures and print the numbers it quotes.

Usage (from the repository root, with sgdlearn and matplotlib installed)::

    python docs/make_figures.py            # every figure and measurement
    python docs/make_figures.py optimizers divergence   # only some

Writes PNGs into ``docs/images/``.  The figures use only data that ships
with scikit-learn, every estimator gets a fixed ``random_state``, and
matplotlib runs with the Agg backend, so the figures and the scores printed
are the same on every run; the times printed by ``multiclass`` and ``costs``
(which uses a synthetic ``make_classification`` problem, and makes no
figure) depend on the machine and its load.
"""

import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.callback import ScoringMonitor  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_diabetes,
    load_digits,
    load_linnerud,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sgdlearn import (  # noqa: E402
    DivergenceError,
    DivergenceWarning,
    GDClassifier,
    GDRegressor,
    lr_find,
)

IMAGES = Path(__file__).resolve().parent / "images"
DPI = 100
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
              "amsgrad", "adamw"]
# Half-decades from 1e-4 to 3: the sweep of the optimizer figure.
RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0]


def digits():
    """load_digits split 75/25 (stratified), standardized on the training part."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def save(fig, name):
    IMAGES.mkdir(exist_ok=True)
    path = IMAGES / f"{name}.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


# --------------------------------------------------------------- optimizers
def optimizers():
    """Training loss per epoch of every optimizer on digits, each with the
    constant eta0 of RATES that gives the lowest loss after 50 epochs."""
    X_train, X_test, y_train, y_test = digits()
    print("== optimizers: digits, log_loss, batch_size=32, constant rate, "
          "50 epochs; final training loss (test accuracy) per eta0")
    best = {}
    for optimizer in OPTIMIZERS:
        runs = []
        for eta0 in RATES:
            clf = GDClassifier(loss="log_loss", optimizer=optimizer,
                               learning_rate="constant", eta0=eta0,
                               batch_size=32, max_iter=50, tol=None,
                               random_state=0).fit(X_train, y_train)
            runs.append((clf.loss_curve_[-1], eta0, clf.loss_curve_,
                         clf.score(X_test, y_test)))
        print(f"{optimizer:>9}: " + "  ".join(
            f"{eta0:g}:{loss:.3f}({acc:.3f})" for loss, eta0, _, acc in runs))
        best[optimizer] = min(runs, key=lambda run: run[0])
    print("   chosen:")
    for optimizer, (loss, eta0, _, acc) in best.items():
        print(f"{optimizer:>9}  eta0={eta0:<6g} final loss {loss:.4f}  "
              f"test accuracy {acc:.3f}")

    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = ["-", "--", ":", "-", "--", "-", ":", "-."]
    for (optimizer, (_, eta0, curve, _)), style in zip(best.items(), styles,
                                                          strict=True):
        ax.plot(np.arange(1, len(curve) + 1), curve, style,
                label=f"{optimizer} (eta0={eta0:g})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training objective (loss_curve_)")
    ax.set_title("load_digits, log_loss, batch_size=32, constant rate")
    ax.legend(ncol=2, fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save(fig, "optimizers")


def batch_sizes():
    """Plain SGD on digits with several batch sizes, each at its best rate."""
    X_train, _, y_train, _ = digits()
    rates = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 30.0]
    print("== batch sizes: digits, log_loss, optimizer='sgd', constant rate, "
          "50 epochs")
    results = {}
    n = X_train.shape[0]
    for batch_size in [1, 8, 32, 128, "full"]:
        runs = []
        for eta0 in rates:
            clf = GDClassifier(loss="log_loss", learning_rate="constant",
                               eta0=eta0, batch_size=batch_size, max_iter=50,
                               tol=None, random_state=0).fit(X_train, y_train)
            runs.append((clf.loss_curve_[-1], eta0, clf.loss_curve_))
        loss, eta0, curve = min(runs, key=lambda run: run[0])
        per_epoch = 1 if batch_size == "full" else -(-n // batch_size)
        results[batch_size] = (eta0, curve, per_epoch)
        print(f"batch_size={batch_size!s:>4}: best eta0={eta0:g}, loss after 10 "
              f"epochs {curve[9]:.4f}, after 50 {loss:.4f} "
              f"({per_epoch} updates per epoch)")

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for batch_size, (eta0, curve, per_epoch) in results.items():
        epochs = np.arange(1, len(curve) + 1)
        label = f"batch_size={batch_size} (eta0={eta0:g})"
        left.plot(epochs, curve, label=label)
        right.plot(epochs * per_epoch, curve, label=label)
    left.set_xlabel("epoch")
    right.set_xlabel("updates (log scale)")
    right.set_xscale("log")
    left.set_ylabel("training objective")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    left.legend(fontsize=8)
    fig.suptitle("load_digits, log_loss, plain SGD: each batch size at its best "
                 "constant rate", fontsize=10)
    fig.tight_layout()
    save(fig, "batch_sizes")


# ---------------------------------------------------------------- lr_finder
def lr_finder():
    X_train, X_test, y_train, y_test = digits()
    estimator = GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                             random_state=0)
    result = lr_find(estimator, X_train, y_train, random_state=0)
    print("== lr_find: digits (standardized), GDClassifier(loss='log_loss', "
          "optimizer='adam', batch_size=32)")
    print(f"   {len(result.lrs)} steps, last rate {result.lrs[-1]:.3g}, "
          f"diverged={result.diverged}")
    print("   suggestions: " + ", ".join(
        f"{name}={value:.3g}" for name, value in result.suggestions.items()))

    fig, ax = plt.subplots(figsize=(6.5, 4))
    result.plot(ax=ax)
    for (name, value), color in zip(
            [(k, v) for k, v in result.suggestions.items() if k != result.method],
            ["tab:orange", "tab:green", "tab:purple"], strict=True):
        ax.axvline(value, color=color, linestyle=":", label=f"{name}: {value:.2g}")
    ax.legend()
    ax.set_title("lr_find on load_digits (adam, batch of 32)")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save(fig, "lr_finder")

    # The grid search over result.grid, on the raw training data (the
    # scaler is part of the pipeline).
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    for optimizer in ["adam", "sgd"]:
        result = lr_find(
            GDClassifier(loss="log_loss", optimizer=optimizer, batch_size=32),
            StandardScaler().fit_transform(X_train), y_train, random_state=0)
        pipe = make_pipeline(StandardScaler(), GDClassifier(
            loss="log_loss", optimizer=optimizer, batch_size=32,
            learning_rate="constant", random_state=0))
        grid = {"gdclassifier__eta0": list(result.grid)}
        search = GridSearchCV(pipe, grid, cv=5, scoring="neg_log_loss")
        search.fit(X_train, y_train)
        at_suggestion = make_pipeline(StandardScaler(), GDClassifier(
            loss="log_loss", optimizer=optimizer, batch_size=32,
            learning_rate="constant", eta0=result.suggestion,
            random_state=0)).fit(X_train, y_train)
        default = make_pipeline(StandardScaler(), GDClassifier(
            loss="log_loss", optimizer=optimizer, batch_size=32,
            learning_rate="constant", random_state=0)).fit(X_train, y_train)
        print(f"   GridSearchCV over result.grid, optimizer={optimizer!r}, "
              f"suggestion {result.suggestion:.3g} (valley "
              f"{result.suggestions['valley']:.3g}):")
        for eta0, score in zip(grid["gdclassifier__eta0"],
                               search.cv_results_["mean_test_score"], strict=True):
            print(f"      eta0={eta0:.3g}: CV log loss {-score:.4f}")
        best = search.best_estimator_
        for label, model in [
                (f"best eta0={search.best_params_['gdclassifier__eta0']:.3g}", best),
                (f"suggestion eta0={result.suggestion:.3g}", at_suggestion),
                ("default eta0=0.01", default)]:
            print(f"      {label}: test log loss "
                  f"{log_loss(y_test, model.predict_proba(X_test)):.4f}, "
                  f"accuracy {model.score(X_test, y_test):.4f}")


# --------------------------------------------------------------- monitoring
def monitoring():
    X_train, X_test, y_train, y_test = digits()
    clf = GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                       early_stopping=True, n_iter_no_change=10,
                       random_state=0).fit(X_train, y_train)
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    print("== monitoring: digits, adam, batch_size=32, early_stopping=True, "
          "n_iter_no_change=10")
    print(f"   n_iter_={clf.n_iter_}, best_validation_score_="
          f"{clf.best_validation_score_:.4f} at epoch {best_epoch}, "
          f"best_loss_={clf.best_loss_}, final loss {clf.loss_curve_[-1]:.4f}, "
          f"test accuracy {clf.score(X_test, y_test):.4f}")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    epochs = np.arange(1, clf.n_iter_ + 1)
    ax.plot(epochs, clf.loss_curve_, color="tab:blue", label="loss_curve_")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training objective", color="tab:blue")
    ax.set_yscale("log")
    right = ax.twinx()
    right.plot(epochs, clf.validation_scores_, color="tab:orange",
               label="validation_scores_")
    right.set_ylabel("validation accuracy", color="tab:orange")
    right.axvline(best_epoch, color="gray", linestyle=":")
    right.annotate(f"best_validation_score_ = {clf.best_validation_score_:.3f}",
                   (best_epoch, clf.best_validation_score_),
                   xytext=(-170, -70), textcoords="offset points", fontsize=8,
                   arrowprops={"arrowstyle": "->", "color": "gray"})
    ax.set_title("early_stopping=True, n_iter_no_change=10 on load_digits")
    fig.tight_layout()
    save(fig, "monitoring")

    print("   verbose=1, two epochs:")
    GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                 multi_class="multinomial", max_iter=2, tol=None, verbose=1,
                 random_state=0).fit(X_train, y_train)

    # ScoringMonitor inside a Pipeline.
    X, y = load_digits(return_X_y=True)
    X_fit, X_val, y_fit, y_val = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
    pipe = make_pipeline(StandardScaler(), GDClassifier(
        loss="log_loss", optimizer="adam", batch_size=32, max_iter=5, tol=None,
        random_state=0).set_callbacks(monitor))
    pipe.fit(X_fit, y_fit)
    print("   ScoringMonitor in a Pipeline, 5 epochs:")
    for row in monitor.get_logs().data:
        print(f"      {row['task_id_path']!s:<10} {row['task_name']:<6} "
              f"accuracy {row['accuracy']:.4f}  neg_log_loss "
              f"{row['neg_log_loss']:.4f}")

    # A custom callback that stops training on a held-out plateau.
    X_train, X_test, y_train, y_test = digits()
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=0.2, random_state=0, stratify=y_train)
    stopper = StopOnPlateau(X_val, y_val, patience=5)
    clf = GDClassifier(loss="log_loss", multi_class="multinomial",
                       optimizer="adam", learning_rate="constant", eta0=0.03,
                       batch_size=32, max_iter=500, tol=None, random_state=0)
    clf.set_callbacks(stopper).fit(X_fit, y_fit)
    print(f"   StopOnPlateau(patience=5): n_iter_={clf.n_iter_}, best held-out "
          f"log loss {-stopper.best_score:.4f} at epoch {stopper.best_epoch}; "
          f"test log loss: best model "
          f"{log_loss(y_test, stopper.best_model.predict_proba(X_test)):.4f}, "
          f"last model {log_loss(y_test, clf.predict_proba(X_test)):.4f}")


class StopOnPlateau:
    """Score held-out data after every epoch, keep the best model, stop after
    ``patience`` epochs without improvement (the guide's example)."""

    def __init__(self, X_val, y_val, patience=5):
        self.X_val, self.y_val, self.patience = X_val, y_val, patience

    def setup(self, estimator, context):
        self.scores, self.best_score, self.best_model = [], -np.inf, None
        self.best_epoch, self.waited = 0, 0

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "epoch":
            return False
        score = -log_loss(self.y_val, fitted_estimator.predict_proba(self.X_val),
                          labels=fitted_estimator.classes_)
        self.scores.append(score)
        if score > self.best_score:
            self.best_score, self.best_model = score, fitted_estimator
            self.best_epoch, self.waited = len(self.scores), 0
        else:
            self.waited += 1
        return self.waited >= self.patience


# --------------------------------------------------------------- divergence
def divergence():
    X_raw, y = load_diabetes(return_X_y=True, scaled=False)
    X_std = StandardScaler().fit_transform(X_raw)
    print("== divergence: load_diabetes(scaled=False), GDRegressor(optimizer="
          "'momentum', learning_rate='constant', batch_size=32), partial_fit "
          "per epoch")
    print(f"   loss of the all-zero model: {np.mean(y ** 2) / 2:.4g}")
    runs = [("unscaled", X_raw, 1e-6), ("unscaled", X_raw, 1e-5),
            ("unscaled", X_raw, 1e-4), ("unscaled", X_raw, 1.0),
            ("standardized", X_std, 1e-2)]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for data, X, eta0 in runs:
        reg = GDRegressor(optimizer="momentum", learning_rate="constant",
                          eta0=eta0, batch_size=32, random_state=0)
        error, warned = None, 0
        for _ in range(30):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    reg.partial_fit(X, y)
                except DivergenceError as exc:
                    error = exc
                    break
            warned += any(issubclass(w.category, DivergenceWarning) for w in caught)
        curve = reg.loss_curve_
        epochs = np.arange(1, len(curve) + 1)
        style = "--" if data == "standardized" else "-"
        label = f"{data}, eta0={eta0:g}"
        if error is not None:
            label += " (DivergenceError)"
        elif warned:
            label += " (DivergenceWarning)"
        line, = ax.plot(epochs, curve, style, marker="." if len(curve) < 5 else None,
                        label=label)
        if error is not None:
            ax.plot(len(curve) + 1, curve[-1], "x", color=line.get_color(),
                    markersize=10, mew=2)
        print(f"   {label}: {len(curve)} epochs, final loss {curve[-1]:.3g}, "
              f"R^2 {reg.score(X, y):.3g}, DivergenceWarning in {warned} epochs")
        if error is not None:
            print(f"   DivergenceError at call {len(curve) + 1}: epoch="
                  f"{error.epoch}, update={error.update}, "
                  f"learning_rate={error.learning_rate:g}")
            print(f"   message: {error}")
    zero = np.mean(y ** 2) / 2
    for factor, text, x, align in [
            (1e3, "1e3 x all-zero model's loss: DivergenceWarning", 1, "left"),
            (1e30, "1e30 x: DivergenceError", 30, "right")]:
        ax.axhline(factor * zero, color="gray", linestyle=":", linewidth=1)
        ax.annotate(text, (x, factor * zero), xytext=(0, 3),
                    textcoords="offset points", ha=align, fontsize=7,
                    color="gray")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (one partial_fit call each)")
    ax.set_ylabel("training objective")
    ax.set_title("load_diabetes, momentum, batch_size=32, constant rate")
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1, 0.1))
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save(fig, "divergence")

    # The messages a user sees, and the transactional guarantee.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GDRegressor(optimizer="momentum", learning_rate="constant", eta0=1e-4,
                    batch_size=32, max_iter=5, tol=None,
                    random_state=0).fit(X_raw, y)
    for w in caught:
        if issubclass(w.category, DivergenceWarning):
            print(f"   warning: {w.message}")
    reg = GDRegressor(optimizer="momentum", learning_rate="constant",
                      eta0=1e-2, batch_size=32, random_state=0).fit(X_std, y)
    coef, t, curve = reg.coef_.copy(), reg.t_, list(reg.loss_curve_)
    reg.set_params(eta0=1e8)
    try:
        reg.partial_fit(X_std, y)
    except DivergenceError as exc:
        print(f"   partial_fit(eta0=1e8) on a fitted model: {type(exc).__name__}"
              f" at update {exc.update}")
    print(f"   unchanged after the error: coef_ {np.array_equal(coef, reg.coef_)}, "
          f"t_ {t == reg.t_}, loss_curve_ {curve == reg.loss_curve_}")

    # Adam on the unscaled data: slow, but it does not diverge.
    for eta0 in [0.1, 1.0]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reg = GDRegressor(optimizer="adam", learning_rate="constant",
                              eta0=eta0, batch_size=32, max_iter=30, tol=None,
                              random_state=0).fit(X_raw, y)
        print(f"   adam, unscaled, eta0={eta0:g}, 30 epochs: R^2 "
              f"{reg.score(X_raw, y):.3f}, warnings "
              f"{[w.category.__name__ for w in caught]}")

    # In a grid search, a diverging candidate scores NaN.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearchCV(GDRegressor(
            optimizer="momentum", learning_rate="constant", batch_size=32,
            max_iter=30, tol=None, random_state=0), {"eta0": [1e-6, 1.0]},
            cv=3).fit(X_raw, y)
    print(f"   GridSearchCV eta0=[1e-6, 1]: mean_test_score "
          f"{search.cv_results_['mean_test_score']}, best {search.best_params_}, "
          f"warnings {sorted({w.category.__name__ for w in caught})}")


# --------------------------------------------------------------- multiclass
def multiclass():
    X_train, X_test, y_train, y_test = digits()
    print("== multiclass: digits, log_loss, adam, batch_size=32, eta0=0.01 "
          "(default); times are medians of 5 fits")

    def measure(name, make, timed=True):
        times = []
        for _ in range(5):
            model = make()
            start = time.perf_counter()
            model.fit(X_train, y_train)
            times.append(time.perf_counter() - start)
        proba = model.predict_proba(X_test)
        epochs = getattr(model, "n_iter_", "")
        fit_time = f"fit {1000 * np.median(times):6.1f} ms" if timed else ""
        print(f"   {name:<38} accuracy {model.score(X_test, y_test):.4f}  "
              f"log loss {log_loss(y_test, proba):.4f}  {fit_time}  "
              f"epochs {epochs}")

    for tol, label in [(None, "50 epochs"), (1e-3, "tol=1e-3 (default)")]:
        print(f"   -- {label}")
        common = dict(loss="log_loss", optimizer="adam", batch_size=32,
                      random_state=0, tol=tol, max_iter=50 if tol is None else 1000)
        measure("ovr, n_jobs=None", lambda c=common: GDClassifier(**c))
        measure("ovr, n_jobs=2", lambda c=common: GDClassifier(n_jobs=2, **c))
        measure("multinomial", lambda c=common: GDClassifier(
            multi_class="multinomial", **c))
    measure("LogisticRegression (lbfgs, reference)",
            lambda: LogisticRegression(max_iter=1000), timed=False)

    # predict_proba: one-vs-rest normalizes, multinomial is the softmax.
    ovr = GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                       random_state=0).fit(X_train, y_train)
    multi = GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                         multi_class="multinomial",
                         random_state=0).fit(X_train, y_train)
    sample = X_test[:1]
    np.set_printoptions(precision=3, suppress=True)
    print("   predict_proba of the first test digit "
          f"(true class {y_test[0]}):")
    print(f"      ovr         {ovr.predict_proba(sample)[0]}")
    print(f"      multinomial {multi.predict_proba(sample)[0]}")

    # Multi-output regression.
    X, Y = load_linnerud(return_X_y=True)
    reg = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    reg.fit(X, Y)
    print(f"   linnerud: coef_ {reg[-1].coef_.shape}, intercept_ "
          f"{reg[-1].intercept_.shape}, predict {reg.predict(X).shape}, "
          f"R^2 (uniform average, training data) {reg.score(X, Y):.3f}, "
          f"epochs {reg[-1].n_iter_}; LinearRegression "
          f"{LinearRegression().fit(X, Y).score(X, Y):.3f}")
    # Each output trains as it would alone (same row order, same schedule):
    # the loss and the penalty are sums over outputs.
    X = StandardScaler().fit_transform(X)
    joint = GDRegressor(random_state=0, tol=None, max_iter=50).fit(X, Y)
    alone = [GDRegressor(random_state=0, tol=None, max_iter=50).fit(X, Y[:, k])
             for k in range(Y.shape[1])]
    print("   2-D y equals one fit per output: "
          f"{np.array_equal(joint.coef_, np.array([m.coef_ for m in alone]))}; "
          f"loss_curve_[-1] {joint.loss_curve_[-1]:.6g} = sum of the outputs' "
          f"{sum(m.loss_curve_[-1] for m in alone):.6g}")


# -------------------------------------------------------------------- costs
def costs():
    """Time per epoch against batch size on a wider (synthetic) problem."""
    X, y = make_classification(n_samples=20000, n_features=1000, random_state=0)
    print("== costs: make_classification(20000 x 1000), log_loss, 5 epochs, "
          "median of 3 fits, ms per epoch")
    for optimizer in ["sgd", "adam"]:
        cells = []
        for batch_size in [1, 8, 32, 256, "full"]:
            times = []
            for _ in range(3):
                clf = GDClassifier(loss="log_loss", optimizer=optimizer,
                                   learning_rate="constant", batch_size=batch_size,
                                   max_iter=5, tol=None, random_state=0)
                start = time.perf_counter()
                clf.fit(X, y)
                times.append((time.perf_counter() - start) / 5)
            cells.append(f"{batch_size}: {1000 * np.median(times):.0f}")
        print(f"   {optimizer:>5}  " + "  ".join(cells))


# ---------------------------------------------------------------- schedules
def schedules():
    """The learning rate (and the cycled momentum) of every update of one
    ``fit`` under each schedule: momentum SGD, batches of 32 on digits, 20
    epochs; each panel's title gives the test accuracy of that fit."""
    from sgdlearn._kernels._schedule import py_eta, py_momentum

    from sgdlearn._data import kernel_rows
    from sgdlearn._kernel_args import kernel_settings
    from sgdlearn.schedules import (
        Cosine,
        CosineAnnealingWarmRestarts,
        CyclicLR,
        Exponential,
        LinearLR,
        OneCycleLR,
        PolynomialLR,
        SequentialLR,
        Step,
    )

    X_train, X_test, y_train, y_test = digits()
    epochs, batch = 20, 32
    per_epoch = -(-len(y_train) // batch)
    total = epochs * per_epoch
    cases = {
        "'constant'": "constant",
        "'invscaling'": "invscaling",
        "'optimal'": "optimal",
        "Step(decay_steps=200, decay_rate=0.5)": Step(200, 0.5),
        "Exponential(decay_steps=400, decay_rate=0.1)": Exponential(400, 0.1),
        "Cosine(decay_steps=300)": Cosine(300),
        "LinearLR(0.1, 1.0, total_iters=300)": LinearLR(0.1, 1.0, 300),
        f"PolynomialLR(total_iters={total}, power=2)": PolynomialLR(total, 2.0),
        "OneCycleLR()  (total_steps=None: the fit)": OneCycleLR(),
        "CyclicLR(0.005, step_size_up=100, mode='triangular2')":
            CyclicLR(0.005, step_size_up=100, mode="triangular2"),
        "CosineAnnealingWarmRestarts(T_0=60, T_mult=2)":
            CosineAnnealingWarmRestarts(60, T_mult=2),
        "SequentialLR([LinearLR(0.05, total_iters=100), Cosine(760)], [100])":
            SequentialLR([LinearLR(0.05, total_iters=100), Cosine(760)], [100]),
    }
    fig, axes = plt.subplots(4, 3, figsize=(12, 11), sharex=True)
    t = np.arange(1, total + 1, dtype=float)
    for ax, (label, schedule) in zip(axes.flat, cases.items(), strict=True):
        clf = GDClassifier(loss="log_loss", optimizer="momentum", momentum=0.9,
                           eta0=0.05, learning_rate=schedule, batch_size=batch,
                           max_iter=epochs, tol=None, alpha=1e-4,
                           random_state=0)
        clf.fit(X_train, y_train)
        settings = kernel_settings(clf, kernel_rows(X_train), len(y_train),
                                   fit_epochs=epochs)
        eta = [py_eta(settings.schedule, k) for k in t]
        ax.plot(t, eta, color="C0")
        ax.set_title(f"{label}\ntest accuracy {clf.score(X_test, y_test):.3f}",
                     fontsize=8)
        if settings.schedule["cycle_momentum"]:
            twin = ax.twinx()
            twin.plot(t, [py_momentum(settings.schedule, k) for k in t],
                      color="C1", linestyle="--", linewidth=1)
            twin.set_ylabel("momentum (dashed)", fontsize=8, color="C1")
            twin.tick_params(labelsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel(f"update t ({epochs} epochs of {per_epoch})", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("learning rate", fontsize=8)
    fig.suptitle("The learning rate of every update of one fit (eta0=0.05, "
                 "momentum SGD, digits)", fontsize=10)
    fig.tight_layout()
    save(fig, "schedules")


FIGURES = {
    "optimizers": optimizers,
    "schedules": schedules,
    "batch_sizes": batch_sizes,
    "lr_finder": lr_finder,
    "monitoring": monitoring,
    "divergence": divergence,
    "multiclass": multiclass,
    "costs": costs,
}


def main(names):
    warnings.simplefilter("ignore", ConvergenceWarning)
    unknown = set(names) - set(FIGURES)
    if unknown:
        sys.exit(f"unknown: {sorted(unknown)}; choose among {sorted(FIGURES)}")
    for name in names or FIGURES:
        FIGURES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
