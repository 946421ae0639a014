"""Property-based tests: over random shapes, dtypes, sparsity, label sets
and hyper-parameters, training either succeeds with finite predictions or
raises one of the documented errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from sgdlearn import DivergenceError, GDClassifier, GDRegressor  # noqa: E402

from .conftest import (  # noqa: E402
    NO_L1,
    OPTIMIZER_NAMES,
    OWN_AVERAGE,
    OWN_PENALTY,
    without_rate,
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

OPTIMIZERS = OPTIMIZER_NAMES
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive", "step",
             "exponential", "cosine"]
LABEL_SETS = [[0, 1], [-1, 1], [0, 1, 2], ["ham", "spam"], [2.0, 7.0, 9.0, 11.0]]
# The errors a valid call may raise, by message (besides DivergenceError).
DOCUMENTED = ("has to be greater than one",)



def _common_params(draw):
    params = _drawn_params(draw)
    if params["optimizer"] in OWN_PENALTY:
        # FTRL: its own penalty at a constant rate (the estimator's penalty
        # and schedule are errors: tests/test_ftrl.py).
        params.update(penalty=None, learning_rate="constant", warmup_steps=0)
    if params["optimizer"] in NO_L1 and params["penalty"] in ("l1", "elasticnet"):
        params["penalty"] = "l2"  # COCOB: no L1 (an error, tests/test_cocob.py)
    if params["optimizer"] in OWN_AVERAGE:
        # Schedule-free: its own average, L2 only (the others are errors:
        # tests/test_schedulefree.py).
        params.update(average=False, penalty="l2" if params["penalty"] else None)
    return without_rate(params)  # COCOB: no rate


def _drawn_params(draw):
    return dict(
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        batch_size=draw(st.sampled_from([1, 2, 7, "full"])),
        penalty=draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        alpha=draw(st.floats(1e-6, 1e-1)),
        learning_rate=draw(st.sampled_from(SCHEDULES)),
        eta0=draw(st.floats(1e-4, 1.0)),
        average=draw(st.sampled_from([False, True, 3])),
        warmup_steps=draw(st.sampled_from([0, 5])),
        max_iter=draw(st.integers(1, 5)),
        tol=None,
        random_state=0,
    )


@st.composite
def problems(draw, classification):
    n = draw(st.integers(2, 30))
    d = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = draw(arrays(dtype, (n, d), elements=st.floats(-1e3, 1e3, width=32)))
    if draw(st.booleans()):
        X[draw(arrays(bool, (n, d)))] = 0
        X = sp.csr_array(X)
    if classification:
        labels = draw(st.sampled_from(LABEL_SETS))
        y = np.array(draw(st.lists(st.sampled_from(labels), min_size=n, max_size=n)))
    else:
        y = draw(arrays(np.float64, n, elements=st.floats(-1e3, 1e3)))
    return X, y, _common_params(draw)


def _check_fit(model, X, y):
    """Fit, then predictions must be finite (and labels seen in y)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(X, y)
        except DivergenceError:
            return None
        except ValueError as error:
            assert any(text in str(error) for text in DOCUMENTED), error
            return None
    return model


@SETTINGS
@given(problems(classification=True), st.sampled_from(
    ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
     "squared_error", "huber"]), st.sampled_from(["ovr", "multinomial"]))
def test_classifier_trains_or_raises_documented_errors(problem, loss, multi_class):
    X, y, params = problem
    if multi_class == "multinomial":
        loss = "log_loss"
    model = _check_fit(GDClassifier(loss=loss, multi_class=multi_class, **params),
                       X, y)
    if model is None:
        return
    assert np.all(np.isfinite(model.decision_function(X)))
    assert set(model.predict(X)) <= set(y)
    if loss in ("log_loss", "modified_huber"):
        proba = model.predict_proba(X)
        assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1)


@SETTINGS
@given(problems(classification=False), st.sampled_from(
    ["squared_error", "huber", "epsilon_insensitive",
     "squared_epsilon_insensitive"]), st.booleans())
def test_regressor_trains_or_raises_documented_errors(problem, loss, two_outputs):
    X, y, params = problem
    if two_outputs:
        y = np.c_[y, -y]
    model = _check_fit(GDRegressor(loss=loss, **params), X, y)
    if model is None:
        return
    prediction = model.predict(X)
    assert prediction.shape == y.shape and np.all(np.isfinite(prediction))


@SETTINGS
@given(problems(classification=True), st.lists(st.integers(1, 8), min_size=1,
                                                max_size=6))
def test_partial_fit_stream(problem, chunk_sizes):
    X, y, params = problem
    params.pop("max_iter")
    params.pop("tol")
    model = GDClassifier(**params)
    classes = np.unique(y)
    start = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in chunk_sizes:
            rows = slice(start % X.shape[0], start % X.shape[0] + size)
            start += size
            if X[rows].shape[0] == 0:
                continue
            try:
                model.partial_fit(X[rows], y[rows], classes=classes)
            except DivergenceError:
                return
            except ValueError as error:
                assert any(text in str(error) for text in DOCUMENTED), error
                return
    if hasattr(model, "coef_"):
        assert np.all(np.isfinite(model.decision_function(X)))
