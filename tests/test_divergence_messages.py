"""DivergenceError and DivergenceWarning name the actual cause: the penalty
(alpha), huge inputs, targets or sample weights, or the learning rate; and
the estimator is left as it was."""

import warnings

import numpy as np
import pytest

from sgdlearn import DivergenceError, DivergenceWarning, GDClassifier, GDRegressor

from .conftest import assert_same_state, snapshot

BLAMES_ALPHA = "The regularization is too strong, not the learning rate"


def _fails(model, X, y, match, **fit_params):
    """fit raises a DivergenceError matching ``match``; an unfitted model
    stays unfitted, and a fitted one keeps its state after partial_fit."""
    before = snapshot(model)
    with pytest.raises(DivergenceError, match=match) as info:
        model.fit(X, y, **fit_params)
    assert_same_state(model, before)
    assert not hasattr(model, "coef_")
    return str(info.value)


@pytest.mark.parametrize("alpha", [1e300, 1e100, 1e30])
def test_huge_alpha_blames_alpha_not_eta0(breast_cancer, alpha):
    X, y = breast_cancer
    message = _fails(GDClassifier(alpha=alpha, random_state=0), X, y,
                     BLAMES_ALPHA)
    assert f"alpha={alpha:.3g}" in message
    assert "L2 penalty's own step eta_t * alpha = " in message
    # The 'optimal' schedule's step is alpha ** 0.75: alpha must be below 1.
    assert "alpha ** 0.75 at the first update, so alpha must be below 1;" in message
    assert "eta0" not in message and "inf" not in message


def test_huge_alpha_adam_blames_alpha(breast_cancer):
    X, y = breast_cancer
    message = _fails(GDClassifier(optimizer="adam", alpha=1e300, random_state=0),
                     X, y, BLAMES_ALPHA)
    assert "a step of 2 or more makes the L2 gradient alpha * w overshoot" in message
    assert "lower eta0" not in message


def test_l1_and_elasticnet_name_their_part(breast_cancer):
    X, y = breast_cancer
    message = _fails(GDClassifier(penalty="l1", alpha=1e300, random_state=0),
                     X, y, BLAMES_ALPHA)
    assert "L1 penalty's own step eta_t * alpha = " in message
    message = _fails(GDClassifier(penalty="elasticnet", l1_ratio=0.5, alpha=1e300,
                                  random_state=0), X, y, BLAMES_ALPHA)
    assert "eta_t * alpha * (1 - l1_ratio)" in message


def test_coupled_penalty_at_constant_rate_gives_a_bound(breast_cancer):
    """momentum adds alpha * w to the gradient: eta0 * alpha = 1000 > 2."""
    X, y = breast_cancer
    message = _fails(GDClassifier(optimizer="momentum", alpha=1e5,
                                  learning_rate="constant", eta0=0.01,
                                  random_state=0), X, y, BLAMES_ALPHA)
    assert "alpha must be below 200;" in message


def test_partial_fit_with_huge_alpha_keeps_the_model(breast_cancer):
    X, y = breast_cancer
    model = GDClassifier(optimizer="momentum", learning_rate="constant",
                         eta0=0.01, random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    before = snapshot(model)
    model.set_params(alpha=1e5)
    with pytest.raises(DivergenceError, match=BLAMES_ALPHA):
        model.partial_fit(X, y)
    model.set_params(alpha=1e-4)
    assert_same_state(model, before)


def test_huge_eta0_still_blames_the_learning_rate(breast_cancer):
    X, y = breast_cancer
    message = _fails(GDClassifier(learning_rate="constant", eta0=1e200,
                                  random_state=0), X, y,
                     "The learning rate is too large for this data: lower eta0")
    assert "alpha" not in message


def test_huge_sample_weights_are_named(breast_cancer):
    X, y = breast_cancer
    message = _fails(GDClassifier(learning_rate="constant", random_state=0), X, y,
                     "sample_weight reaches 1e\\+300",
                     sample_weight=np.full(len(y), 1e300))
    assert "Divide the weights by their mean" in message


def test_huge_targets_are_named(diabetes):
    X, y = diabetes
    message = _fails(GDRegressor(random_state=0), X, y * 1e300,
                     r"The targets reach \|y\| = ")
    assert "TransformedTargetRegressor" in message


def test_huge_inputs_under_optimal_do_not_advise_eta0(breast_cancer):
    """Plain SGD's 'optimal' rate ignores eta0: the advice says so."""
    X, y = breast_cancer
    message = _fails(GDClassifier(loss="squared_hinge", random_state=0), X * 1e200,
                     y, "X has values up to 1.21e\\+201")
    assert "eta0 is not used" in message and "lower eta0" not in message


def test_classification_labels_are_not_huge_targets(digits):
    """Class indices are not regression targets, whatever their values."""
    X, y = digits
    message = _fails(GDClassifier(learning_rate="constant", eta0=1e200,
                                  random_state=0), X, y * 1000,
                     "The learning rate is too large")
    assert "targets" not in message


def test_warning_names_the_rate_of_the_schedule(diabetes):
    """The finite-divergence warning gives the largest rate in force, not
    eta0, and names huge targets."""
    X, y = diabetes
    with pytest.warns(DivergenceWarning, match="Training diverged") as w:
        GDRegressor(eta0=10, learning_rate="constant").fit(X * 10, y * 1e4)
    message = str(w[0].message)
    assert "The targets reach |y| = " in message
    assert "Otherwise the learning rate (up to 10) is too large" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        GDRegressor(random_state=0, alpha=1e-4).fit(X, y)
