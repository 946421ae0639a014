"""The main job: sgdlearn beside scikit-learn's SGD on data that ships with
scikit-learn.  Run it with ``python -m sgdlearn``.

It fits GDClassifier and GDRegressor inside Pipelines with StandardScaler,
tunes ``eta0`` with GridSearchCV, streams the training data in chunks
through ``partial_fit``, fits raw (unscaled) data with no tuning at all
(``optimizer="cocob"``), and prints scores and fit times on held-out data.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sgdlearn import GDClassifier, GDRegressor

SEED = 0


def _timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def _pipelines(task):
    """(label, estimator) pairs: scikit-learn's SGD first, then sgdlearn."""
    if task == "classification":
        yield "SGDClassifier (scikit-learn)", SGDClassifier(random_state=SEED)
        yield "GDClassifier (sgd, drop-in)", GDClassifier(random_state=SEED)
        yield "GDClassifier (adam, batch 32)", GDClassifier(
            loss="log_loss", optimizer="adam", batch_size=32, random_state=SEED
        )
        yield "GDClassifier (nesterov, cosine)", GDClassifier(
            loss="log_loss", optimizer="nesterov", learning_rate="cosine",
            eta0=0.01, decay_steps=2000, random_state=SEED,
        )
    else:
        yield "SGDRegressor (scikit-learn)", SGDRegressor(random_state=SEED)
        yield "GDRegressor (sgd, drop-in)", GDRegressor(random_state=SEED)
        # The targets are in the hundreds: adaptive optimizers, whose step
        # does not scale with the gradient, need a larger eta0.
        yield "GDRegressor (adam, batch 16)", GDRegressor(
            optimizer="adam", learning_rate="constant", eta0=1.0,
            batch_size=16, random_state=SEED,
        )
        yield "GDRegressor (momentum, averaged)", GDRegressor(
            optimizer="momentum", learning_rate="constant", eta0=0.001,
            average=True, random_state=SEED,
        )


def compare(name, X, y, task):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED,
        stratify=y if task == "classification" else None,
    )
    rows = []
    for label, estimator in _pipelines(task):
        model, seconds = _timed_fit(
            make_pipeline(StandardScaler(), estimator), X_train, y_train
        )
        rows.append((name, label, model.score(X_test, y_test), seconds))
    return rows


def grid_search(X, y):
    """Tune eta0 and the optimizer of a pipeline with GridSearchCV."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y
    )
    pipe = make_pipeline(
        StandardScaler(), GDClassifier(loss="log_loss", random_state=SEED)
    )
    grid = {
        "gdclassifier__optimizer": ["sgd", "adam"],
        "gdclassifier__learning_rate": ["constant"],
        "gdclassifier__eta0": [1e-3, 1e-2, 1e-1],
    }
    search, seconds = _timed_fit(GridSearchCV(pipe, grid, cv=3), X_train, y_train)
    best = search.best_params_
    label = (
        f"GridSearchCV -> {best['gdclassifier__optimizer']}, "
        f"eta0={best['gdclassifier__eta0']:g}"
    )
    return [("digits", label, search.score(X_test, y_test), seconds)]


def stream(X, y, chunk=50):
    """Stream the training rows in chunks through partial_fit (several
    passes), the way a model is trained on data that does not fit memory."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    classes = np.unique(y)
    rows = []
    for label, model in [
        ("SGDClassifier.partial_fit", SGDClassifier(loss="log_loss",
                                                    random_state=SEED)),
        ("GDClassifier.partial_fit (adam)", GDClassifier(
            loss="log_loss", optimizer="adam", batch_size=8, random_state=SEED)),
    ]:
        start = time.perf_counter()
        for _ in range(5):
            for begin in range(0, len(X_train), chunk):
                model.partial_fit(X_train[begin:begin + chunk],
                                  y_train[begin:begin + chunk], classes=classes)
        seconds = time.perf_counter() - start
        rows.append(("breast_cancer, stream", label,
                     model.score(X_test, y_test), seconds))
    return rows


def no_tuning(name, X, y):
    """Raw features, every parameter at its default: scikit-learn's SGD
    against the coin-betting optimizer, which has no learning rate."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y
    )
    rows = []
    for label, model in [
        ("SGDClassifier(), no scaler", SGDClassifier(random_state=SEED)),
        ('GDClassifier(optimizer="cocob"), no scaler',
         GDClassifier(optimizer="cocob", random_state=SEED)),
    ]:
        model, seconds = _timed_fit(model, X_train, y_train)
        rows.append((f"{name}, raw", label, model.score(X_test, y_test),
                     seconds))
    return rows


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X_digits, y_digits = load_digits(return_X_y=True)
    X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
    X_cancer, y_cancer = load_breast_cancer(return_X_y=True)
    X_wine, y_wine = load_wine(return_X_y=True)
    print("sgdlearn beside scikit-learn's SGD (held-out scores: accuracy for")
    print("classifiers, R^2 for regressors; fit time includes StandardScaler)\n")
    rows = (
        compare("digits", X_digits, y_digits, "classification")
        + grid_search(X_digits, y_digits)
        + compare("diabetes", X_diabetes, y_diabetes, "regression")
        + stream(X_cancer, y_cancer)
        + no_tuning("breast_cancer", X_cancer, y_cancer)
        + no_tuning("wine", X_wine, y_wine)
    )
    print(f"{'data':24s} {'model':44s} {'score':>7s} {'fit time':>9s}")
    print("-" * 87)
    for data, label, score, seconds in rows:
        print(f"{data:24s} {label:44s} {score:7.3f} {seconds:8.3f}s")
