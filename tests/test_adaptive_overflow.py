"""Adaptive optimizers on gradients past sqrt(DBL_MAX): their squared-gradient
state overflows to infinity and every step becomes zero, which used to return
an untrained model without a word.  Now a DivergenceError names the cause and
the estimator is left as it was."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sgdlearn import DivergenceError, GDClassifier, GDRegressor

from .conftest import as_layout, assert_same_state, snapshot

ADAPTIVE = [("adagrad", {}), ("rmsprop", {}), ("rmsprop", {"centered": True}),
            ("adam", {}), ("amsgrad", {}), ("adamw", {})]
IDS = ["adagrad", "rmsprop", "rmsprop-centered", "adam", "amsgrad", "adamw"]
MESSAGE = "squared-gradient state overflowed"


@pytest.fixture(scope="module")
def problem():
    return make_classification(400, 8, random_state=0)


@pytest.mark.parametrize("optimizer, extra", ADAPTIVE, ids=IDS)
@pytest.mark.parametrize("how", ["X", "sample_weight"])
@pytest.mark.parametrize("batch_size", [1, 32])
def test_overflow_raises_and_restores(problem, layout, optimizer, extra, how,
                                      batch_size):
    X, y = problem
    sample_weight = np.full(len(y), 1e160) if how == "sample_weight" else None
    X_huge = as_layout(X * 1e160 if how == "X" else X, layout)
    clf = GDClassifier(optimizer=optimizer, loss="log_loss",
                       batch_size=batch_size, random_state=0, **extra)
    clf.partial_fit(as_layout(X, layout), y, classes=[0, 1])
    before = snapshot(clf)
    with pytest.raises(DivergenceError, match=MESSAGE):
        clf.partial_fit(X_huge, y, sample_weight=sample_weight)
    assert_same_state(clf, before)
    with pytest.raises(DivergenceError, match=MESSAGE):
        GDClassifier(optimizer=optimizer, loss="log_loss",
                     batch_size=batch_size, random_state=0,
                     **extra).fit(X_huge, y, sample_weight=sample_weight)


@pytest.mark.parametrize("optimizer", ["adagrad", "adam"])
def test_overflow_float32_and_regressor(problem, optimizer):
    # float32 state overflows past 1.8e19.
    X, y = problem
    with pytest.raises(DivergenceError, match=MESSAGE):
        GDClassifier(optimizer=optimizer, random_state=0).fit(
            (X * 1e25).astype(np.float32), y)
    with pytest.raises(DivergenceError, match=MESSAGE):
        GDRegressor(optimizer=optimizer, random_state=0).fit(
            X, y.astype(float), sample_weight=np.full(len(y), 1e160))


@pytest.mark.parametrize("optimizer, extra", ADAPTIVE, ids=IDS)
def test_large_but_representable_gradients_train(problem, optimizer, extra):
    # Below the overflow, Adam-like steps ignore a uniform gradient scale:
    # weights of 1e100 sample weights still learn the problem.
    X, y = problem
    clf = GDClassifier(optimizer=optimizer, loss="log_loss", random_state=0,
                       **extra).fit(X, y, sample_weight=np.full(len(y), 1e100))
    assert np.all(np.isfinite(clf.coef_))
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("optimizer, extra", ADAPTIVE, ids=IDS)
@pytest.mark.parametrize("batch_size", [1, 4])
def test_overflow_in_a_few_rows_of_wide_sparse_data(optimizer, extra, batch_size):
    """A partial_fit of a few CSR rows over many columns checks only the
    columns it touched (not all 4096): an overflow there is still seen."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    n, d = 6, 4096
    cols = rng.choice(d, size=(n, 3), replace=False)
    X = sp.csr_array((rng.normal(size=3 * n), cols.ravel(),
                      np.arange(0, 3 * n + 1, 3)), shape=(n, d))
    y = np.arange(n) % 2
    clf = GDClassifier(optimizer=optimizer, loss="log_loss", batch_size=batch_size,
                       random_state=0, **extra).partial_fit(X, y, classes=[0, 1])
    before = snapshot(clf)
    with pytest.raises(DivergenceError, match=MESSAGE):
        # flipped labels: every row misclassified, so gradients of 1e160
        clf.partial_fit(X * 1e160, 1 - y)
    assert_same_state(clf, before)
    clf.partial_fit(X, y)  # the check does not fire on healthy data
