"""GDClassifier(multi_class="multinomial"): the softmax cross-entropy of
all classes trained jointly in the kernel."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sgdlearn import GDClassifier

from .conftest import (
    EXACT_ON_CSR,
    OPTIMIZER_NAMES,
    OWN_AVERAGE,
    OWN_PENALTY,
    assert_same_state,
    load_reference,
    snapshot,
    without_rate,
)

ref = load_reference()

RNG = np.random.default_rng(3)
X = RNG.standard_normal((30, 4))
Y = np.repeat([0, 1, 2], 10)
SW = RNG.uniform(0.5, 2.0, 30)


def softmax_reference(X, y, sw, *, optimizer, batch_size, epochs, eta0=0.05,
                      alpha=0.0, lazy=False, **hyper):
    """NumPy transcription of the multinomial rule: scores p = W x + b,
    loss gradient softmax(p) - onehot(y) weighted by s_i, the batch mean,
    then the optimizer (tests/_reference.py) on W (K x d) and b (K)."""
    if optimizer == "normalized":  # a row-level rule
        return normalized_softmax(X, y, sw, batch_size, epochs, eta0, alpha)
    n, d = X.shape
    K = len(np.unique(y))
    W, b = np.zeros((K, d)), np.zeros(K)
    opt_w = ref.Optimizer(optimizer, (K, d), **hyper)
    opt_b = ref.Optimizer(optimizer, K, **hyper)
    size = n if batch_size == "full" else batch_size
    dense = X.toarray() if sp.issparse(X) else X
    k = 0
    for _ in range(epochs):
        for start in range(0, n, size):
            rows = np.arange(start, min(start + size, n))
            P = dense[rows] @ W.T + b
            C = softmax(P, axis=1)
            C[np.arange(len(rows)), y[rows]] -= 1
            C *= sw[rows, None]
            present = np.ones((K, d), dtype=bool)
            if lazy:
                present[:] = False
                present[:, sp.csr_array(X)[rows].indices] = True
            k += 1
            opt_w.step(W, C.T @ dense[rows] / len(rows), eta0, k, alpha, present)
            opt_b.step(b, C.mean(axis=0), eta0, k)
    return W, b


def normalized_softmax(X, y, sw, batch_size, epochs, eta0, alpha):
    """softmax_reference for Vowpal Wabbit's rule: per-class G, shared N,
    S, W (tests/_reference_normalized.py)."""
    dense = X.toarray() if sp.issparse(X) else X
    n, d = dense.shape
    K = len(np.unique(y))
    W, b = np.zeros((K, d)), np.zeros(K)
    rule = ref._load_normalized().NormalizedRule(K, d)
    size = n if batch_size == "full" else batch_size
    for _ in range(epochs):
        for start in range(0, n, size):
            rows = np.arange(start, min(start + size, n))
            if size > 1:
                inv_h = rule.batch_normalize(W, dense[rows], sw[rows], True)
            P = dense[rows] @ W.T + b
            C = softmax(P, axis=1)
            C[np.arange(len(rows)), y[rows]] -= 1
            if size == 1:
                rule.sample(W, b, dense[rows[0]], P[0], None, C[0], sw[rows[0]],
                            eta0, "multinomial", alpha)
            else:
                C *= sw[rows, None]
                rule.batch(W, b, C.T @ dense[rows] / len(rows), C.mean(axis=0),
                           inv_h, eta0, alpha)
    return W, b


OPTIMIZERS = OPTIMIZER_NAMES
# Sparse input equals dense input for these (docs/algorithm.rst).


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_matches_numpy_softmax_rule(optimizer, batch_size, dtype):
    if optimizer in OWN_AVERAGE:
        pytest.skip("schedule-free: tests/test_schedulefree.py")
    # FTRL's penalty is its own: no estimator penalty for it.
    alpha = 0.0 if optimizer in OWN_PENALTY else 0.01
    clf = GDClassifier(**without_rate(dict(
        loss="log_loss", multi_class="multinomial", optimizer=optimizer,
        batch_size=batch_size, penalty="l2" if alpha else None, alpha=0.01,
        learning_rate="constant", eta0=0.05, shuffle=False, max_iter=3,
        tol=None)))
    clf.fit(X.astype(dtype), Y, sample_weight=SW)
    W, b = softmax_reference(X, Y, SW, optimizer=optimizer, batch_size=batch_size,
                             epochs=3, alpha=alpha)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(
        rtol=1e-4, atol=1e-5)
    assert_allclose(clf.coef_, W, **tol)
    assert_allclose(clf.intercept_, b, **tol)
    assert clf.coef_.shape == (3, 4) and clf.coef_.dtype == dtype


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_multinomial_csr(optimizer):
    if optimizer in OWN_AVERAGE:
        pytest.skip("schedule-free: tests/test_schedulefree.py")
    Xs = X.copy()
    Xs[RNG.random(Xs.shape) < 0.5] = 0.0
    params = dict(loss="log_loss", multi_class="multinomial", optimizer=optimizer,
                  batch_size=4, penalty=None, learning_rate="constant", eta0=0.05,
                  shuffle=False, max_iter=2, tol=None,
                  intercept_decay="auto" if optimizer in OWN_PENALTY else 1.0)
    params = without_rate(params)
    sparse = GDClassifier(**params).fit(sp.csr_array(Xs), Y, sample_weight=SW)
    W, b = softmax_reference(sp.csr_array(Xs), Y, SW, optimizer=optimizer,
                             batch_size=4, epochs=2,
                             lazy=optimizer not in EXACT_ON_CSR)
    assert_allclose(sparse.coef_, W, rtol=1e-10, atol=1e-12)
    assert_allclose(sparse.intercept_, b, rtol=1e-10, atol=1e-12)
    if optimizer in EXACT_ON_CSR:
        dense = GDClassifier(**params).fit(Xs, Y, sample_weight=SW)
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)


def test_reaches_lbfgs_objective_on_digits(digits):
    X, y = digits
    n, alpha = len(y), 1e-3

    def objective(W, b):
        S = X @ W.T + b
        return np.mean(logsumexp(S, axis=1) - S[np.arange(n), y]) + (
            0.5 * alpha * np.sum(W ** 2))

    lbfgs = LogisticRegression(C=1 / (alpha * n), max_iter=5000, tol=1e-10)
    best = objective(*(lambda m: (m.coef_, m.intercept_))(lbfgs.fit(X, y)))
    clf = GDClassifier(loss="log_loss", multi_class="multinomial", alpha=alpha,
                       optimizer="adam", batch_size="full",
                       learning_rate="constant", eta0=0.05, max_iter=800,
                       tol=None).fit(X, y)
    assert objective(clf.coef_, clf.intercept_) <= best * (1 + 1e-3)
    assert clf.loss_curve_[-1] == pytest.approx(
        objective(clf.coef_, clf.intercept_), rel=1e-3)


def test_predict_proba_is_softmax(digits):
    X, y = digits
    clf = GDClassifier(loss="log_loss", multi_class="multinomial", batch_size=16,
                       optimizer="adam", random_state=0, max_iter=5).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba, softmax(clf.decision_function(X), axis=1))
    assert_allclose(proba.sum(axis=1), 1)
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, y) > 0.95
    assert set(clf.optimizer_state_) >= {"exp_avg", "exp_avg_sq"}
    assert clf.optimizer_state_["exp_avg"].shape == (10, 64)


def test_two_classes_is_binary_logistic(breast_cancer):
    X, y = breast_cancer
    multinomial = GDClassifier(loss="log_loss", multi_class="multinomial",
                               random_state=0, max_iter=5, tol=None).fit(X, y)
    binary = GDClassifier(loss="log_loss", random_state=0, max_iter=5,
                          tol=None).fit(X, y)
    assert_array_equal(multinomial.coef_, binary.coef_)


def test_multinomial_needs_log_loss(wine):
    clf = GDClassifier(loss="hinge", multi_class="multinomial")
    before = snapshot(clf)
    with pytest.raises(ValueError, match="set loss='log_loss'"):
        clf.fit(*wine)
    assert_same_state(clf, before)


def test_weights_streaming_and_early_stopping(wine):
    X, y = wine
    params = dict(loss="log_loss", multi_class="multinomial", optimizer="adam",
                  random_state=0)
    plain = GDClassifier(**params).fit(X, y)
    rare = GDClassifier(class_weight={0: 1e3, 1: 1e-3, 2: 1e-3}, **params)
    share = [np.mean(m.predict(X) == 0) for m in (plain, rare.fit(X, y))]
    assert share[1] > share[0]
    streamed = GDClassifier(batch_size=8, **params)
    for start in range(0, len(y), 40):
        streamed.partial_fit(X[start:start + 40], y[start:start + 40],
                             classes=[0, 1, 2])
    assert streamed.score(X, y) > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stopped = GDClassifier(early_stopping=True, max_iter=500, **params)
        stopped.fit(X, y)
    assert stopped.n_iter_ < 500
    assert len(stopped.validation_scores_) == stopped.n_iter_
