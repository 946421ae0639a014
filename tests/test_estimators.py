"""Behaviour of the estimators as scikit-learn users meet it."""

import pickle
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn.optim import FTRL

from .conftest import (
    NO_L1,
    OPTIMIZER_NAMES,
    OWN_AVERAGE,
    OWN_PENALTY,
    per_optimizer,
    without_rate,
)

OPTIMIZERS = OPTIMIZER_NAMES
# A learning rate that suits each optimizer on standardized features, for
# stochastic updates and for full-batch gradient descent.
ETA0 = per_optimizer({
    "sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.5,
    "rmsprop": 0.01, "adam": 0.01, "amsgrad": 0.01, "adamw": 0.01,
    "adadelta": 1.0, "ftrl": 0.5}, default=lambda name: 0.01)
FULL_BATCH_ETA0 = per_optimizer({
    "sgd": 1.0, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.1,
    "rmsprop": 0.01, "adam": 0.1, "amsgrad": 0.1, "adamw": 0.1,
    "adadelta": 1.0, "ftrl": 0.5}, default=lambda name: 0.1)



@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batch_size", [1, 32, "full"])
def test_every_optimizer_learns_digits(digits, optimizer, batch_size):
    X, y = digits
    full = batch_size == "full"
    clf = GDClassifier(**without_rate(dict(
        loss="log_loss", optimizer=optimizer, batch_size=batch_size,
        learning_rate="constant",
        eta0=(FULL_BATCH_ETA0 if full else ETA0)[optimizer],
        max_iter=300 if full else 60, random_state=0))).fit(X, y)
    assert clf.score(X, y) > 0.93


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_learns_diabetes(diabetes, optimizer):
    X, y = diabetes
    reg = GDRegressor(**without_rate(dict(
        optimizer=optimizer, learning_rate="constant", eta0=ETA0[optimizer],
        batch_size=8, random_state=0))).fit(X, y)
    assert reg.score(X, y) > 0.45


def test_pipeline_and_grid_search(digits, diabetes):
    X, y = digits
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GDClassifier(random_state=0,
                                                     learning_rate="constant")),
        {"gdclassifier__eta0": [1e-4, 1e-2, 1.0],
         "gdclassifier__optimizer": ["sgd", "adam"]},
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.9
    assert len(search.cv_results_["params"]) == 6
    assert search.score(X, y) > 0.9
    X, y = diabetes
    search = GridSearchCV(GDRegressor(random_state=0),
                          {"eta0": [1e-5, 1e-2]}, cv=3).fit(X, y)
    assert search.best_params_["eta0"] == 1e-2


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_streaming_with_partial_fit(digits, layout, optimizer):
    X, y = digits
    X = sp.csr_array(X) if layout == "csr" else X
    clf = GDClassifier(loss="log_loss", optimizer=optimizer, batch_size=4,
                       random_state=0, intercept_decay=1.0)
    classes = np.unique(y)
    for epoch in range(5):
        for start in range(0, X.shape[0], 100):
            clf.partial_fit(X[start:start + 100], y[start:start + 100],
                            classes=classes if epoch == start == 0 else None)
    assert clf.score(X, y) > 0.93
    n_batches = sum(-(-min(100, X.shape[0] - s) // 4)
                    for s in range(0, X.shape[0], 100))
    assert clf.t_ == 5 * n_batches + 1
    assert clf.n_iter_ == 1


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("average", [False, True])
def test_pickle_predicts_and_resumes_identically(breast_cancer, layout, dtype,
                                                 optimizer, average):
    X, y = breast_cancer
    X = X.astype(dtype)
    X = sp.csr_array(X) if layout == "csr" else X
    chunks = [slice(0, 200), slice(200, 400), slice(400, None)]
    model = GDClassifier(optimizer=optimizer, average=average, batch_size=3,
                         random_state=0)
    model.partial_fit(X[chunks[0]], y[chunks[0]], classes=[0, 1])
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.decision_function(X), model.decision_function(X))
    for part in chunks[1:]:
        model.partial_fit(X[part], y[part])
        restored.partial_fit(X[part], y[part])
    assert_array_equal(restored.coef_, model.coef_)
    assert_array_equal(restored.intercept_, model.intercept_)
    assert restored.coef_.dtype == dtype


def test_fit_equals_repeated_partial_fit(wine):
    X, y = wine
    for optimizer in ["sgd", "nesterov", "rmsprop", "adam"]:
        params = dict(optimizer=optimizer, batch_size=5, random_state=3,
                      learning_rate="invscaling", eta0=0.05, max_iter=4, tol=None)
        fitted = GDClassifier(**params).fit(X, y)
        streamed = GDClassifier(**params)
        for _ in range(4):
            streamed.partial_fit(X, y, classes=np.unique(y))
        assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
        assert streamed.t_ == fitted.t_


def test_fresh_permutation_every_epoch(monkeypatch, breast_cancer):
    orders = []
    kernel = sgdlearn._engine.kernel

    def spy(**kwargs):
        result = kernel.fit_epoch(**kwargs)
        orders.append(kwargs["order"].copy())  # shuffled in place: as used
        return result

    monkeypatch.setattr(sgdlearn._engine, "kernel",
                        SimpleNamespace(fit_epoch=spy, Status=kernel.Status))
    X, y = breast_cancer
    GDClassifier(max_iter=6, tol=None, random_state=0).fit(X, y)
    assert len(orders) == 6
    first = orders[0]
    for order in orders[1:]:
        assert sorted(order) == sorted(first)
        assert not np.array_equal(order, first)
    # scikit-learn's reuse of one seed makes epoch k visit first[P^k]; a
    # fresh draw does not compose like that.
    assert not np.array_equal(orders[1], first[first])
    assert len({tuple(order) for order in orders}) == 6


def test_shapes_and_attributes(digits, breast_cancer, diabetes):
    X, y = digits
    clf = GDClassifier(optimizer="adam", random_state=0, max_iter=3).fit(X, y)
    assert clf.coef_.shape == (10, 64) and clf.intercept_.shape == (10,)
    assert clf.decision_function(X).shape == (len(y), 10)
    assert set(clf.optimizer_state_) == {"step", "exp_avg", "exp_avg_sq",
                                         "intercept_exp_avg",
                                         "intercept_exp_avg_sq"}
    assert clf.optimizer_state_["exp_avg"].shape == (10, 64)
    assert clf.optimizer_state_["step"] == clf.n_iter_ * len(y)
    with pytest.raises(ValueError):
        clf.optimizer_state_["exp_avg"][0, 0] = 1.0
    X, y = breast_cancer
    clf = GDClassifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (1, 30) and clf.intercept_.shape == (1,)
    assert clf.decision_function(X).shape == (len(y),)
    assert clf.optimizer_state_ == {"step": clf.n_iter_ * len(y)}
    X, y = diabetes
    reg = GDRegressor(random_state=0).fit(X, y)
    assert reg.coef_.shape == (10,) and reg.intercept_.shape == (1,)
    assert reg.t_ == reg.n_iter_ * len(y) + 1
    assert not hasattr(GDRegressor(), "optimizer_state_")


def test_predict_proba(digits, breast_cancer):
    for X, y in (digits, breast_cancer):
        for loss in ("log_loss", "modified_huber"):
            clf = GDClassifier(loss=loss, random_state=0, max_iter=5).fit(X, y)
            proba = clf.predict_proba(X)
            assert_allclose(proba.sum(axis=1), 1)
            if len(clf.classes_) == 2:
                # (one-vs-rest probabilities saturate and can tie, as
                # scikit-learn's)
                assert_array_equal(clf.classes_[proba.argmax(axis=1)],
                                   clf.predict(X))
            assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
            # scikit-learn's formulas, given the same weights
            sk = SGDClassifier(loss=loss).fit(X, y)
            sk.coef_, sk.intercept_ = clf.coef_, clf.intercept_
            assert_allclose(proba, sk.predict_proba(X))
    clf = GDClassifier(loss="hinge").fit(*breast_cancer)
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError, match="no attribute 'predict_proba'") as info:
        clf.predict_proba(breast_cancer[0])
    assert "not available for loss='hinge'" in str(info.value.__cause__)


@pytest.mark.parametrize("layout", ["dense", "csr", "sparse_coef"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("problem", ["binary", "ovr", "multinomial",
                                     "regression", "two_outputs"])
def test_plainly_valid_input_skips_validation_with_the_same_predictions(
        problem, dtype, layout, wine, monkeypatch):
    """The prediction methods take a C-ordered float ndarray or a CSR as
    given (scikit-learn's validation is most of a small call): they must
    return what the validated path returns, bit for bit."""
    import sgdlearn._base

    X, y = wine
    X = X.astype(dtype)
    if problem in ("regression", "two_outputs"):
        y = X[:, :2] @ [1.0, -2.0] if problem == "regression" else X[:, :2]
        est = GDRegressor(max_iter=5, tol=None, random_state=0)
        methods = ["predict"]
    else:
        y = (y == y[0]).astype(int) if problem == "binary" else y
        multi_class = "multinomial" if problem == "multinomial" else "ovr"
        est = GDClassifier(loss="log_loss", multi_class=multi_class,
                           max_iter=5, tol=None, random_state=0)
        methods = ["decision_function", "predict", "predict_proba"]
    est.fit(X, y)
    if layout == "sparse_coef":
        est.sparsify()
    Xp = sp.csr_array(X) if layout == "csr" else X

    def no_validation(*args, **kwargs):
        raise AssertionError("validate_data called on plainly valid input")

    with monkeypatch.context() as patch:
        patch.setattr(sgdlearn._base, "validate_data", no_validation)
        fast = {name: getattr(est, name)(Xp) for name in methods}
    monkeypatch.setattr(sgdlearn._base, "quick_array", lambda *args: None)
    for name, value in fast.items():
        assert_array_equal(getattr(est, name)(Xp), value, err_msg=name)
    assert fast["predict"].shape[0] == X.shape[0]


def test_sparsify_densify(digits):
    X, y = digits
    clf = GDClassifier(penalty="l1", alpha=1e-3, random_state=0).fit(X, y)
    expected = clf.predict(X)
    clf.sparsify()
    assert sp.issparse(clf.coef_)
    assert_array_equal(clf.predict(X), expected)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict(X), expected)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)
    assert np.mean(clf.coef_ == 0) > 0.1  # L1 gives exact zeros


def test_early_stopping_holds_out_sklearns_split(breast_cancer):
    X, y = breast_cancer
    params = dict(shuffle=False, max_iter=3, n_iter_no_change=10, tol=None,
                  random_state=42, validation_fraction=0.2)
    held_out = GDClassifier(early_stopping=True, **params).fit(X, y)
    split = StratifiedShuffleSplit(test_size=0.2, random_state=42)
    train, _ = next(split.split(np.zeros((len(y), 1)), y))
    manual = GDClassifier(**params).fit(X[np.sort(train)], y[np.sort(train)])
    assert_array_equal(held_out.coef_, manual.coef_)


def test_early_stopping_stops(breast_cancer):
    X, y = breast_cancer
    clf = GDClassifier(early_stopping=True, max_iter=1000, random_state=0).fit(X, y)
    assert clf.n_iter_ < 1000
    assert clf.n_iter_ >= clf.n_iter_no_change + 1


def test_tol_and_convergence_warning(breast_cancer):
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        warnings.simplefilter("always", ConvergenceWarning)
        GDClassifier(max_iter=2, random_state=0).fit(X, y)
    short = GDClassifier(tol=1e-1, random_state=0).fit(X, y)
    long = GDClassifier(tol=1e-6, random_state=0).fit(X, y)
    assert short.n_iter_ < long.n_iter_


def test_adaptive_schedule_runs_longer(breast_cancer):
    X, y = breast_cancer
    adaptive = GDClassifier(learning_rate="adaptive", eta0=0.1, random_state=0)
    constant = GDClassifier(learning_rate="constant", eta0=0.1, random_state=0)
    assert adaptive.fit(X, y).n_iter_ > constant.fit(X, y).n_iter_


def test_class_weight(digits, breast_cancer):
    X, y = breast_cancer
    lopsided = GDClassifier(class_weight={0: 1000, 1: 1e-4}, random_state=0)
    assert np.mean(lopsided.fit(X, y).predict(X) == 0) > 0.9
    X, y = digits
    mask = (y != 3) | (np.arange(len(y)) % 10 == 0)  # make class 3 rare
    X, y = X[mask], y[mask]
    plain = GDClassifier(random_state=0).fit(X, y)
    balanced = GDClassifier(class_weight="balanced", random_state=0).fit(X, y)
    recall = [np.mean(m.predict(X[y == 3]) == 3) for m in (plain, balanced)]
    assert recall[1] >= recall[0]


def test_balanced_class_weight_in_partial_fit(breast_cancer):
    X, y = breast_cancer
    clf = GDClassifier(class_weight="balanced", random_state=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    clf.partial_fit(X[100:], y[100:])
    assert_array_equal(clf._seen_class_counts, np.bincount(y))
    assert clf.score(X, y) > 0.9


def test_sample_weight(breast_cancer):
    X, y = breast_cancer
    weights = np.where(y == 0, 50.0, 1.0)
    weighted = GDClassifier(random_state=0).fit(X, y, sample_weight=weights)
    plain = GDClassifier(random_state=0).fit(X, y)
    assert np.mean(weighted.predict(X) == 0) >= np.mean(plain.predict(X) == 0)
    ones = GDClassifier(random_state=0).fit(X, y, sample_weight=np.ones(len(y)))
    assert_array_equal(ones.coef_, plain.coef_)


@pytest.mark.parametrize("learning_rate", ["constant", "optimal", "invscaling"])
def test_warm_start_explicit_equals_implicit(breast_cancer, learning_rate):
    X, y = breast_cancer
    first = GDClassifier(alpha=0.01, eta0=0.01, shuffle=False,
                         learning_rate=learning_rate).fit(X, y)
    explicit = GDClassifier(alpha=0.001, eta0=0.01, shuffle=False,
                            learning_rate=learning_rate)
    explicit.fit(X, y, coef_init=first.coef_.copy(),
                 intercept_init=first.intercept_.copy())
    implicit = GDClassifier(alpha=0.01, eta0=0.01, shuffle=False, warm_start=True,
                            learning_rate=learning_rate).fit(X, y)
    implicit.set_params(alpha=0.001).fit(X, y)
    assert_array_equal(implicit.coef_, explicit.coef_)


def test_warm_start_keeps_optimizer_state(breast_cancer):
    X, y = breast_cancer
    clf = GDClassifier(optimizer="adam", warm_start=True, max_iter=2, tol=None,
                       random_state=0).fit(X, y)
    steps = clf.optimizer_state_["step"]
    moments = clf.optimizer_state_["exp_avg_sq"].copy()
    clf.fit(X, y)
    assert clf.optimizer_state_["step"] == 2 * steps
    assert clf.t_ == steps + 1  # the schedule restarted, as scikit-learn's
    assert not np.array_equal(clf.optimizer_state_["exp_avg_sq"], moments)
    cold = GDClassifier(optimizer="adam", max_iter=2, tol=None,
                        random_state=0).fit(X, y)
    assert cold.optimizer_state_["step"] == steps


def test_averaging_attributes(diabetes):
    X, y = diabetes
    plain = GDRegressor(random_state=0).fit(X, y)
    assert not hasattr(plain, "_average_coef")
    avg = GDRegressor(average=True, random_state=0).fit(X, y)
    assert_array_equal(avg.coef_, avg._average_coef)
    assert not np.array_equal(avg.coef_, avg._standard_coef)
    late = GDRegressor(average=10**9, random_state=0).fit(X, y)
    assert_array_equal(late.coef_, late._standard_coef)
    plain.set_params(average=True).partial_fit(X, y)  # averaging turned on
    assert hasattr(plain, "_average_coef")


def test_verbose(capsys, breast_cancer):
    GDClassifier(verbose=1, max_iter=2, tol=None, random_state=0).fit(*breast_cancer)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == 2
    assert "Norm:" in out and "Avg. loss:" in out
    assert "T: 569," in out and "T: 1138," in out  # updates so far in the call


def test_n_jobs_gives_the_same_model(digits):
    X, y = digits
    one = GDClassifier(n_jobs=1, random_state=0, max_iter=5).fit(X, y)
    two = GDClassifier(n_jobs=2, random_state=0, max_iter=5).fit(X, y)
    assert_array_equal(one.coef_, two.coef_)


def test_random_state(breast_cancer):
    X, y = breast_cancer
    a = GDClassifier(random_state=1, max_iter=3, tol=None).fit(X, y)
    b = GDClassifier(random_state=1, max_iter=3, tol=None).fit(X, y)
    c = GDClassifier(random_state=2, max_iter=3, tol=None).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_float32_stays_float32(digits, layout):
    X, y = digits
    X32 = X.astype(np.float32)
    X32 = sp.csr_array(X32) if layout == "csr" else X32
    clf = GDClassifier(optimizer="adam", random_state=0, max_iter=5, tol=None)
    clf.fit(X32, y)
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32
    assert clf.optimizer_state_["exp_avg"].dtype == np.float32
    X64 = sp.csr_array(X) if layout == "csr" else X
    clf64 = GDClassifier(optimizer="adam", random_state=0, max_iter=5,
                         tol=None).fit(X64, y)
    assert_allclose(clf.coef_, clf64.coef_, rtol=1e-2, atol=1e-3)


def test_memory_order_and_sparse_formats(breast_cancer):
    X, y = breast_cancer
    ref = GDClassifier(random_state=0, max_iter=3, tol=None,
                       intercept_decay=1.0).fit(X, y)
    for variant in (np.asfortranarray(X), sp.csc_matrix(X), sp.coo_array(X),
                    sp.csr_matrix(X), X.tolist()):
        model = GDClassifier(random_state=0, max_iter=3, tol=None,
                             intercept_decay=1.0).fit(variant, y)
        assert_allclose(model.coef_, ref.coef_, rtol=1e-10)


def test_sparse_intercept_decay(breast_cancer):
    X, y = breast_cancer
    dense = GDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    auto = GDClassifier(random_state=0, max_iter=3, tol=None).fit(
        sp.csr_array(X), y)
    same = GDClassifier(random_state=0, max_iter=3, tol=None,
                        intercept_decay=1.0).fit(sp.csr_array(X), y)
    assert not np.allclose(auto.intercept_, dense.intercept_)
    assert_allclose(same.coef_, dense.coef_, rtol=1e-10)


def test_pandas_feature_names(breast_cancer):
    pd = pytest.importorskip("pandas")
    X, y = breast_cancer
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = GDClassifier(random_state=0).fit(frame, pd.Series(y))
    assert list(clf.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)
    reg = GDRegressor(random_state=0).partial_fit(frame, y)
    assert list(reg.feature_names_in_) == list(frame.columns)


@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_passive_aggressive_schedules(breast_cancer, learning_rate):
    X, y = breast_cancer
    clf = GDClassifier(learning_rate=learning_rate, eta0=1.0, penalty=None,
                       random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    with pytest.raises(ValueError, match="only works with loss 'hinge'"):
        GDClassifier(learning_rate=learning_rate, loss="log_loss").fit(X, y)
    with pytest.raises(ValueError, match="needs optimizer='sgd' and batch_size=1"):
        GDClassifier(learning_rate=learning_rate, optimizer="adam").fit(X, y)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_strong_l1_gives_exact_zeros_with_every_optimizer(breast_cancer, optimizer,
                                                         layout):
    """Cumulative truncation follows every optimizer's step: a strong L1
    penalty leaves most weights exactly zero, and a weak one few (FTRL: its
    own l1, on the summed loss)."""
    if optimizer in NO_L1:
        pytest.skip("COCOB takes no L1 penalty (tests/test_cocob.py)")
    if optimizer in OWN_AVERAGE:
        pytest.skip("schedule-free takes no L1 penalty (an error)")
    X, y = breast_cancer
    X = sp.csr_array(X) if layout == "csr" else X
    params = dict(loss="log_loss", optimizer=optimizer, penalty="l1",
                  learning_rate="constant", eta0=ETA0[optimizer], max_iter=10,
                  tol=None, random_state=0)
    strong, weak = dict(alpha=0.05), dict(alpha=1e-6)
    if optimizer in OWN_PENALTY:
        params["penalty"] = None
        strong, weak = (dict(optimizer=FTRL(l1=l1)) for l1 in (50.0, 1e-4))
    strong = GDClassifier(**{**params, **strong}).fit(X, y)
    weak = GDClassifier(**{**params, **weak}).fit(X, y)
    assert np.count_nonzero(strong.coef_ == 0) >= 10  # of 30 (measured 11-30)
    assert np.count_nonzero(weak.coef_ == 0) <= 2
