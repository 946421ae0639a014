"""Reading a model while another thread refits it: each prediction comes
from the old model or the new one, never a mix; the fitted attributes are
published together; and the published bundle keeps scikit-learn's
behaviour (hand-assigned coef_, sparsify, pickles of the previous layout)."""

import pickle
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from sgdlearn import GDClassifier, GDRegressor


def _data(n_classes, n_features, seed):
    X, y = make_classification(200, n_features, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=seed)
    return X, y + 10 * seed  # different labels too


def _reader(model, X, outcomes, stop, errors, method):
    try:
        while not stop.is_set():
            try:
                outcomes.append(getattr(model, method)(X))
            except ValueError as error:  # X's width is the other model's
                outcomes.append(str(error))
    except BaseException as error:  # noqa: BLE001 - reported to the test
        errors.append(error)


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predict_during_refits_sees_old_or_new_model(method):
    """A thread predicts in a loop while the main thread refits the same
    estimator, alternately on 3 classes x 4 features and 5 classes x 4
    features, then 2 classes x 6 features: no IndexError or shape error,
    and every answer equals one of the models' answers (or, for the model
    of the other width, the feature-count error)."""
    datasets = [_data(3, 4, 0), _data(5, 4, 1), _data(2, 6, 2)]
    params = dict(loss="log_loss", max_iter=3, tol=None, random_state=0)
    X_probe = datasets[0][0][:10]
    expected = []
    for X, y in datasets:
        reference = GDClassifier(**params).fit(X, y)
        if X.shape[1] == X_probe.shape[1]:
            expected.append(getattr(reference, method)(X_probe))
    model = GDClassifier(**params).fit(*datasets[0])
    outcomes, errors, stop = [], [], threading.Event()
    reader = threading.Thread(target=_reader,
                              args=(model, X_probe, outcomes, stop, errors, method))
    reader.start()
    try:
        for round_ in range(30):
            model.fit(*datasets[round_ % 3])
    finally:
        stop.set()
        reader.join()
    assert not errors, errors
    assert len(outcomes) > 10
    for outcome in outcomes:
        if isinstance(outcome, str):
            assert "X has 4 features, but GDClassifier is expecting 6" in outcome
        else:
            assert any(outcome.shape == e.shape and np.array_equal(outcome, e)
                       for e in expected), outcome


def test_regressor_predict_during_refits_with_outputs_changing():
    X, y = make_regression(200, 5, n_targets=2, random_state=0)
    fits = [(X, y[:, 0]), (X, y)]  # coef_ (5,) then (2, 5)
    params = dict(max_iter=3, tol=None, random_state=0)
    expected = [GDRegressor(**params).fit(*f).predict(X[:10]) for f in fits]
    model = GDRegressor(**params).fit(*fits[0])
    outcomes, errors, stop = [], [], threading.Event()
    reader = threading.Thread(target=_reader, args=(model, X[:10], outcomes, stop,
                                                    errors, "predict"))
    reader.start()
    try:
        for round_ in range(30):
            model.fit(*fits[round_ % 2])
    finally:
        stop.set()
        reader.join()
    assert not errors, errors
    for outcome in outcomes:
        assert any(outcome.shape == e.shape and np.array_equal(outcome, e)
                   for e in expected)


def test_attributes_are_published_only_when_the_call_succeeds(digits):
    """During a refit (seen from a callback-free hook: a failing fit), the
    public attributes keep the old model; a failed refit leaves them."""
    X, y = digits
    model = GDClassifier(max_iter=2, tol=None, random_state=0).fit(X[:, :10], y < 5)
    before = (model.classes_, model.coef_, model.intercept_, model.n_features_in_)
    seen = {}

    def spy(*args, **kwargs):
        seen["classes"] = model.classes_
        seen["n_features"] = model.n_features_in_
        raise KeyboardInterrupt

    model._commit = spy
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)  # 10 classes, 64 features
    assert_array_equal(seen["classes"], [False, True])
    assert seen["n_features"] == 10
    after = (model.classes_, model.coef_, model.intercept_, model.n_features_in_)
    assert all(a is b for a, b in zip(before, after, strict=True))


def test_hand_assigned_attributes_are_honoured(breast_cancer):
    X, y = breast_cancer
    model = GDClassifier(random_state=0).fit(X, y)
    model.coef_ = -model.coef_
    model.intercept_ = -model.intercept_
    assert_array_equal(model.decision_function(X), -(X @ -model.coef_.T).ravel()
                       + model.intercept_)
    model.classes_ = np.array(["benign", "malignant"])
    assert set(model.predict(X)) <= {"benign", "malignant"}
    # sparsify()/densify() assign coef_
    dense = model.predict(X)
    assert sp.issparse(model.sparsify().coef_)
    assert_array_equal(model.predict(X), dense)
    assert isinstance(model.densify().coef_, np.ndarray)
    # An estimator built by hand, never fitted.
    manual = GDClassifier()
    manual.coef_, manual.intercept_ = model.coef_, model.intercept_
    manual.classes_ = model.classes_
    assert_array_equal(manual.predict(X), dense)


def test_pickles_of_plain_attributes_load(breast_cancer):
    """A model pickled when the fitted attributes were plain attributes
    (the previous layout) publishes them as one model when loaded."""
    X, y = breast_cancer
    model = GDClassifier(random_state=0).fit(X, y)
    state = model.__getstate__()
    published = state.pop("_model")
    state.update(coef_=published.coef, intercept_=published.intercept,
                 classes_=published.classes, n_features_in_=published.n_features_in)
    old = GDClassifier.__new__(GDClassifier)
    old.__setstate__(state)
    assert_array_equal(old.predict(X), model.predict(X))
    assert old.n_features_in_ == X.shape[1] and not hasattr(old, "feature_names_in_")
    loaded = pickle.loads(pickle.dumps(old))
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert clone(loaded).get_params() == model.get_params()
    assert "_training" not in loaded.__dict__


def test_unfitted_and_staged_values_are_not_visible(breast_cancer):
    X, y = breast_cancer
    model = GDClassifier()
    for name in ("coef_", "intercept_", "classes_", "n_features_in_",
                 "feature_names_in_"):
        assert not hasattr(model, name)
    model.partial_fit(X, y, classes=[0, 1])
    assert "_staged" not in model.__dict__ and "_training" not in model.__dict__
