"""GDRegressor with 2-D y: one kernel pass updates every output."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import r2_score

from sgdlearn import GDRegressor

from .conftest import assert_same_state, snapshot


@pytest.fixture(scope="module")
def targets(diabetes):
    X, y = diabetes
    return X, np.c_[y, -2 * y + X[:, 0], X[:, 1] * 3 + 0.5]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize(("penalty", "average"), [("l2", False), ("l1", True),
                                                  ("elasticnet", False)])
def test_equals_one_fit_per_output(targets, layout, optimizer, batch_size,
                                   penalty, average):
    X, Y = targets
    X = sp.csr_array(X) if layout == "csr" else X
    params = dict(optimizer=optimizer, batch_size=batch_size, penalty=penalty,
                  average=average, learning_rate="constant", eta0=0.01,
                  max_iter=4, tol=None, random_state=0)
    joint = GDRegressor(**params).fit(X, Y)
    assert joint.coef_.shape == (3, X.shape[1]) and joint.intercept_.shape == (3,)
    for k in range(3):
        single = GDRegressor(**params).fit(X, Y[:, k])
        assert_allclose(joint.coef_[k], single.coef_, rtol=1e-12, atol=1e-14)
        assert_allclose(joint.intercept_[k], single.intercept_[0], rtol=1e-12)


def test_predict_score_and_partial_fit(targets):
    X, Y = targets
    reg = GDRegressor(optimizer="adam", learning_rate="constant", eta0=0.05,
                      random_state=0).fit(X, Y)
    assert reg.predict(X).shape == Y.shape
    assert reg.score(X, Y) == pytest.approx(r2_score(Y, reg.predict(X)))
    assert reg.score(X, Y) > 0.5
    streamed = GDRegressor(optimizer="adam", eta0=0.05, learning_rate="constant",
                           random_state=0)
    for start in range(0, len(X), 100):
        streamed.partial_fit(X[start:start + 100], Y[start:start + 100])
    assert streamed.coef_.shape == (3, X.shape[1])
    before = snapshot(streamed)
    with pytest.raises(ValueError, match="every call must give the same number"):
        streamed.partial_fit(X, Y[:, :2])
    assert_same_state(streamed, before)
    with pytest.raises(ValueError, match="every call must give the same number"):
        streamed.partial_fit(X, Y[:, 0])
    assert_same_state(streamed, before)


def test_column_vector_targets(diabetes):
    X, y = diabetes
    column = GDRegressor(random_state=0, max_iter=3, tol=None).fit(X, y[:, None])
    flat = GDRegressor(random_state=0, max_iter=3, tol=None).fit(X, y)
    assert column.coef_.shape == (1, X.shape[1])  # as Ridge does
    assert column.predict(X).shape == (len(y), 1)
    assert_array_equal(column.coef_[0], flat.coef_)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        flat.partial_fit(X, y[:, None])
    assert flat.coef_.shape == (X.shape[1],)


def test_early_stopping_scores_every_output(targets):
    X, Y = targets
    reg = GDRegressor(early_stopping=True, random_state=0, max_iter=200).fit(X, Y)
    assert reg.n_iter_ < 200
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
