"""Drop-in compatibility with scikit-learn's SGD.

Where the two compute the same thing (plain per-sample SGD in a fixed row
order) the weights must agree to round-off; elsewhere the scores must be
comparable on real data.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor

from sgdlearn import GDClassifier, GDRegressor

CLASSIFICATION_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge",
                         "perceptron", "squared_error", "huber",
                         "epsilon_insensitive", "squared_epsilon_insensitive"]
REGRESSION_LOSSES = ["squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive"]
# L1 and elastic-net: scikit-learn resets the cumulative penalty per call,
# sgdlearn per epoch (so that fit equals repeated partial_fit); one epoch
# compares them exactly.  Averaging and L2 compare over several epochs.
PENALTIES = [("l2", False, 3), (None, False, 3), ("l2", True, 3), ("l2", 7, 3),
             ("l1", False, 1), ("elasticnet", False, 1)]
# On CSR input scikit-learn leaves the L1 penalty of absent features pending
# until they reappear; sgdlearn settles it (so that CSR equals dense).
CASES = [("dense", *p) for p in PENALTIES] + [
    ("csr", *p) for p in PENALTIES if p[0] not in ("l1", "elasticnet")
]


def _fit_both(ours, theirs, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = theirs(**params).fit(X, y)
        b = ours(**params).fit(X, y)
    return a, b


def _assert_same_model(a, b, rtol=1e-9):
    scale = max(np.abs(a.coef_).max(), 1.0)
    assert_allclose(b.coef_, a.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(b.intercept_, a.intercept_, rtol=rtol, atol=rtol * scale)
    assert b.t_ == a.t_
    assert b.n_iter_ == a.n_iter_
    assert b.coef_.shape == a.coef_.shape and b.intercept_.shape == a.intercept_.shape


@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize(("layout", "penalty", "average", "epochs"), CASES)
def test_classifier_matches_sklearn(breast_cancer, wine, layout, loss,
                                    learning_rate, penalty, average, epochs):
    for X, y in (breast_cancer, wine):
        X = sp.csr_array(X) if layout == "csr" else X
        a, b = _fit_both(GDClassifier, SGDClassifier, X, y, loss=loss,
                         learning_rate=learning_rate, penalty=penalty,
                         average=average, shuffle=False, max_iter=epochs,
                         tol=None, eta0=0.01)
        _assert_same_model(a, b)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize(("layout", "penalty", "average", "epochs"), CASES)
def test_regressor_matches_sklearn(diabetes, layout, loss, learning_rate,
                                   penalty, average, epochs):
    X, y = diabetes
    X = sp.csr_array(X) if layout == "csr" else X
    a, b = _fit_both(GDRegressor, SGDRegressor, X, y, loss=loss,
                     learning_rate=learning_rate, penalty=penalty,
                     average=average, shuffle=False, max_iter=epochs, tol=None)
    _assert_same_model(a, b)


@pytest.mark.parametrize("loss", ["hinge", "modified_huber", "squared_hinge",
                                  "perceptron", "log_loss"])
def test_optimal_schedule_matches_sklearn(breast_cancer, loss):
    # eta_1 = alpha**-0.25 = 10: large steps amplify the rounding of the dot
    # product (four accumulators here, one in scikit-learn) for log loss.
    X, y = breast_cancer
    a, b = _fit_both(GDClassifier, SGDClassifier, X, y, loss=loss,
                     shuffle=False, max_iter=3, tol=None)
    _assert_same_model(a, b, rtol=1e-9 if loss != "log_loss" else 1e-5)


def test_defaults_are_sklearns():
    for ours, theirs in [(GDClassifier, SGDClassifier), (GDRegressor, SGDRegressor)]:
        mine = ours().get_params()
        for name, value in theirs().get_params().items():
            assert mine[name] == value, name


@pytest.mark.parametrize("dataset", ["digits", "breast_cancer", "wine"])
@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber"])
def test_classifier_scores_like_sklearn_on_real_data(request, dataset, loss):
    X, y = request.getfixturevalue(dataset)
    scores = []
    for seed in range(3):
        a, b = _fit_both(GDClassifier, SGDClassifier, X, y, loss=loss,
                         random_state=seed)
        scores.append((a.score(X, y), b.score(X, y)))
    theirs, ours = np.mean(scores, axis=0)
    assert ours > theirs - 0.02, (ours, theirs)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regressor_scores_like_sklearn_on_real_data(diabetes, loss):
    X, y = diabetes
    a, b = _fit_both(GDRegressor, SGDRegressor, X, y, loss=loss, random_state=0)
    assert b.score(X, y) > a.score(X, y) - 0.02


def test_objective_comparable_to_sklearn(breast_cancer):
    """Same data and regularization, 30 shuffled epochs, mean over three
    seeds: the drop-in default matches scikit-learn's regularized objective,
    and the optimizers it lacks, with averaged iterates or an annealed rate
    (a constant rate ends in its noise ball), do at least as well."""
    X, y = breast_cancer

    def objective(model):
        margin = (2 * y - 1) * model.decision_function(X)
        return np.mean(np.logaddexp(0, -margin)) + 0.5 * 1e-3 * np.sum(
            model.coef_ ** 2)

    def mean_objective(make):
        return np.mean([objective(make(seed).fit(X, y)) for seed in range(3)])

    common = dict(loss="log_loss", alpha=1e-3, max_iter=30, tol=None)
    theirs = mean_objective(lambda seed: SGDClassifier(random_state=seed, **common))
    for extra in [dict(), dict(optimizer="adam", learning_rate="constant",
                               eta0=0.01, average=True),
                  dict(optimizer="nesterov", learning_rate="constant",
                       eta0=0.01, average=True),
                  dict(optimizer="adam", learning_rate="cosine", eta0=0.01,
                       decay_steps=30 * len(y))]:
        ours = mean_objective(lambda seed, e=extra: GDClassifier(
            random_state=seed, **common, **e))
        assert ours < 1.02 * theirs, extra


@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_passive_aggressive_matches_sklearn(breast_cancer, diabetes, learning_rate):
    X, y = breast_cancer
    a, b = _fit_both(GDClassifier, SGDClassifier, X, y, loss="hinge",
                     learning_rate=learning_rate, eta0=1.0, penalty=None,
                     shuffle=False, max_iter=3, tol=None)
    _assert_same_model(a, b)
    X, y = diabetes
    a, b = _fit_both(GDRegressor, SGDRegressor, X, y, loss="epsilon_insensitive",
                     learning_rate=learning_rate, eta0=0.1, shuffle=False,
                     max_iter=3, tol=None)
    _assert_same_model(a, b)
