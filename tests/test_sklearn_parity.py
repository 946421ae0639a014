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
# L1 and elastic-net keep the cumulative penalty (Tsuruoka et al.'s u and
# q) over all the epochs of a call, as scikit-learn does: compared over 20
# epochs.  Averaging and L2 compare over several epochs.
PENALTIES = [("l2", False, 3), (None, False, 3), ("l2", True, 3), ("l2", 7, 3),
             ("l1", False, 20), ("elasticnet", False, 20)]
# On CSR input scikit-learn penalizes a coordinate only when a row touches
# it, and leaves what absent coordinates accrued pending at the end;
# sgdlearn settles it every epoch (so that CSR equals dense).  The two agree
# where every row touches every column, which the standardized sets here do.
CASES = [("dense", *p) for p in PENALTIES] + [("csr", *p) for p in PENALTIES]


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


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_keeps_the_sparsity_of_scikit_learn(loss, penalty):
    """The cumulative penalty runs over every epoch of the call: after 20
    epochs the weights, and so the exact zeros, are scikit-learn's.  (The
    features are scaled by 0.3: at unit scale modified_huber's quadratic
    region amplifies the summation order's rounding, with or without L1.)"""
    from sklearn.datasets import make_classification

    X, y = make_classification(1000, 50, n_informative=10, random_state=0)
    X *= 0.3
    params = dict(loss=loss, penalty=penalty, l1_ratio=0.5, alpha=1e-3,
                  learning_rate="constant", eta0=0.01, shuffle=False,
                  tol=None, max_iter=20)
    a, b = _fit_both(GDClassifier, SGDClassifier, X, y, **params)
    _assert_same_model(a, b, rtol=1e-10)
    assert np.count_nonzero(a.coef_ == 0) > 0
    assert np.count_nonzero(b.coef_ == 0) == np.count_nonzero(a.coef_ == 0)


def test_l1_on_sparse_rows_settles_what_scikit_learn_leaves_pending():
    """Where rows leave columns out, scikit-learn applies the L1 penalty a
    coordinate accrued only when a row touches it again, and never what is
    pending at the end; sgdlearn settles every coordinate at the end of each
    epoch, so its CSR model equals its dense one (with the same intercept
    decay), and differs from scikit-learn's."""
    from sklearn.datasets import make_classification

    X, y = make_classification(1000, 50, n_informative=10, random_state=0)
    X *= 0.3
    X[np.random.default_rng(0).random(X.shape) < 0.7] = 0.0
    params = dict(loss="hinge", penalty="l1", alpha=1e-3, shuffle=False,
                  learning_rate="constant", eta0=0.01, tol=None, max_iter=20)
    ours_csr = GDClassifier(**params).fit(sp.csr_array(X), y)
    ours_dense = GDClassifier(**params, intercept_decay=0.01).fit(X, y)
    theirs = SGDClassifier(**params).fit(sp.csr_array(X), y)
    assert_allclose(ours_csr.coef_, ours_dense.coef_, rtol=1e-10, atol=1e-12)
    assert np.abs(ours_csr.coef_ - theirs.coef_).max() > 1e-4
