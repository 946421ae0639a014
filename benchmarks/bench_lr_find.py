"""lr_find: does refitting at the suggestion come close to the best rate of
a grid? (issue 16)

For every dataset x (optimizer, batch_size) configuration and each of 3
seeds: a stratified 75/25 train/test split drawn with that seed, features
standardized on the training part; ``lr_find(estimator, X_train, y_train,
random_state=seed)``; then the estimator (``learning_rate="constant"``,
``max_iter=EPOCHS``, ``tol=None``, ``random_state=seed``) refitted at the
suggestion and at each of the 9 rates of a fixed log grid, 10**-4 to 1
(half-decades), scored on the test part.  Scores are averaged over the
seeds for each rate (paired: the same splits and seeds for every rate);
the grid's best is the best seed-averaged score.

gap = (grid's best) - (score at the suggestion), seed-averaged: accuracy
points (x100) for classifiers, with the relative excess test log loss in
percent beside it; regression (diabetes): the relative excess test mean
squared error in percent (goal 2%) and R^2 points.  Goal (issue 16): gap
<= 0.5 accuracy points or <= 2% log loss / MSE.

``--epochs`` changes the training length (the estimators' ``max_iter``,
which lr_find's default rule reads), ``--suggest`` the rule.

Datasets: breast_cancer, digits, wine, iris (log_loss), diabetes
(squared_error), and ``dense``: the 100k x 100 synthetic set of
``_common.dense_data``, of which ``--dense-rows`` rows are used (default
20,000; ``--quick``: 5,000).  A rate at which training diverges scores
accuracy 0 (infinite log loss / MSE).

Also printed: ``spread``, the largest suggestion over the smallest across
the seeds, and the grid of rates ``result.grid`` that lr_find returns (when
it has one), and how close the best of that grid comes ("grid gap").
"""

import warnings

import numpy as np
from _common import dense_data, footer, header, parse_args
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sgdlearn import GDClassifier, GDRegressor, lr_find

EPOCHS = 20
SEEDS = (0, 1, 2)
GRID = np.logspace(-4, 0, 9)
CONFIGS = [("sgd", 1), ("sgd", 32), ("adam", 1), ("adam", 32)]
GOAL_ACC, GOAL_REL = 0.5, 2.0
SUGGEST = None  # lr_find's default rule unless --suggest


def datasets(dense_rows):
    def real(loader):
        return lambda: loader(return_X_y=True)

    def dense():
        data = dense_data(100_000, 100)
        return data.X[:dense_rows], data.y_class[:dense_rows]

    return {"breast_cancer": real(load_breast_cancer), "digits": real(load_digits),
            "wine": real(load_wine), "iris": real(load_iris),
            "diabetes": real(load_diabetes), "dense": dense}


def split(X, y, seed, regression):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed,
        stratify=None if regression else y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def estimator(regression, optimizer, batch_size, seed, **params):
    """The estimator as it will be trained (lr_find reads its max_iter)."""
    params = {"max_iter": EPOCHS, "tol": None, **params}
    if regression:
        return GDRegressor(optimizer=optimizer, batch_size=batch_size,
                           random_state=seed, **params)
    return GDClassifier(loss="log_loss", optimizer=optimizer,
                        batch_size=batch_size, random_state=seed, **params)


def score(model, eta0, parts, regression):
    """(primary, secondary) test scores at ``eta0``: (accuracy, log loss)
    for classifiers, (MSE, R^2) for regressors; diverged: the worst."""
    X_train, X_test, y_train, y_test = parts
    model = model.set_params(learning_rate="constant", eta0=float(eta0),
                             max_iter=EPOCHS, tol=None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_train, y_train)
            if regression:
                mse = float(np.mean((model.predict(X_test) - y_test) ** 2))
                if not np.isfinite(mse):
                    raise ValueError("diverged")
                return mse, 1 - mse / float(np.var(y_test))
            proba = np.clip(model.predict_proba(X_test), 1e-15, 1)
            if not np.all(np.isfinite(proba)):
                raise ValueError("diverged")
            index = np.searchsorted(model.classes_, y_test)
            logloss = float(-np.mean(np.log(proba[np.arange(len(y_test)), index])))
            return float(np.mean(model.predict(X_test) == y_test)), logloss
    except (ValueError, FloatingPointError, ArithmeticError):
        return (np.inf, -np.inf) if regression else (0.0, np.inf)


def run_case(name, load, optimizer, batch_size):
    X, y = load()
    regression = name == "diabetes"
    grid_scores, sugg_scores, suggestions, own_grid_best = [], [], [], []
    for seed in SEEDS:
        parts = split(X, y, seed, regression)

        def make(seed=seed):
            return estimator(regression, optimizer, batch_size, seed)

        result = lr_find(make(), parts[0], parts[2], random_state=seed,
                         **({} if SUGGEST is None else {"suggest": SUGGEST}))
        suggestions.append(result.suggestion)
        grid_scores.append([score(make(), eta0, parts, regression) for eta0 in GRID])
        sugg_scores.append(score(make(), result.suggestion, parts, regression))
        own = getattr(result, "grid", None)
        if own is not None:
            own_grid_best.append([score(make(), eta0, parts, regression)
                                  for eta0 in own])
    grid = np.asarray(grid_scores)  # seeds x rates x 2
    sugg = np.asarray(sugg_scores)  # seeds x 2
    mean_grid = grid.mean(axis=0)
    mean_sugg = sugg.mean(axis=0)
    if regression:
        best = int(np.argmin(mean_grid[:, 0]))
        gap = 100 * (mean_sugg[0] / mean_grid[best, 0] - 1)  # % MSE
        second = 100 * (mean_grid[best, 1] - mean_sugg[1])  # R^2 points
        ok = gap <= GOAL_REL
    else:
        best = int(np.argmax(mean_grid[:, 0]))
        gap = 100 * (mean_grid[best, 0] - mean_sugg[0])  # accuracy points
        best_ll = float(np.min(mean_grid[:, 1]))
        second = 100 * (mean_sugg[1] / best_ll - 1)  # % log loss
        ok = gap <= GOAL_ACC or second <= GOAL_REL
    own_gap = None
    if own_grid_best:
        own = np.asarray(own_grid_best)  # seeds x k x 2
        if regression:
            own_gap = 100 * (own[:, :, 0].min(axis=1).mean() / mean_grid[best, 0] - 1)
        else:
            own_gap = 100 * (mean_grid[best, 0] - own[:, :, 0].max(axis=1).mean())
    return dict(name=name, optimizer=optimizer, batch_size=batch_size,
                suggestions=suggestions, best_rate=GRID[best], gap=gap,
                second=second, ok=ok, own_gap=own_gap, regression=regression)


def add_arguments(parser):
    parser.add_argument("--dense-rows", type=int, default=None,
                        help="rows of the 100k x 100 dense set used (default "
                             "20000, --quick 5000)")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help=f"max_iter of every fit (default {EPOCHS})")
    parser.add_argument("--suggest", default=None,
                        help="lr_find's rule (default: its default)")


def main():
    global EPOCHS, SUGGEST
    args = parse_args(__doc__, add_arguments=add_arguments)
    EPOCHS, SUGGEST = args.epochs, args.suggest
    rows = args.dense_rows or (5_000 if args.quick else 20_000)
    header(f"lr_find suggestion ({SUGGEST or 'default rule'}) vs the best of a "
           f"9-point grid, {EPOCHS} epochs, seeds {SEEDS}, dense rows {rows}",
           args, timing=False)
    print(f"{'dataset':<14} {'optimizer':<5} {'batch':>5}  {'suggestions':<26} "
          f"{'spread':>6} {'grid best':>9}  {'gap':>7}  {'other':>9}  "
          f"{'grid gap':>8}  goal")
    results = []
    for name, load in datasets(rows).items():
        for optimizer, batch_size in CONFIGS:
            r = run_case(name, load, optimizer, batch_size)
            results.append(r)
            unit, other = (("%mse", "R2 pts") if r["regression"]
                           else ("pts", "%logloss"))
            own = "" if r["own_gap"] is None else f"{r['own_gap']:6.2f}"
            print(f"{name:<14} {optimizer:<5} {batch_size:>5}  "
                  f"{' '.join(f'{s:.2g}' for s in r['suggestions']):<26} "
                  f"{max(r['suggestions']) / min(r['suggestions']):6.1f} "
                  f"{r['best_rate']:>9.2g}  {r['gap']:5.2f}{unit:<5} "
                  f"{r['second']:6.2f}{other:<8} {own:>8}  "
                  f"{'ok' if r['ok'] else 'MISS'}", flush=True)
    classifiers = [r for r in results if not r["regression"]]
    print(f"# mean accuracy gap over the {len(classifiers)} classification "
          f"cases: {np.mean([r['gap'] for r in classifiers]):.2f} points; "
          f"worst {max(r['gap'] for r in classifiers):.2f}; "
          f"{sum(r['ok'] for r in results)} of {len(results)} cases meet the goal")
    owns = [r["own_gap"] for r in classifiers if r["own_gap"] is not None]
    if owns:
        print(f"# result.grid: mean accuracy gap {np.mean(owns):.2f} points, "
              f"worst {max(owns):.2f}")
    footer()


if __name__ == "__main__":
    main()
