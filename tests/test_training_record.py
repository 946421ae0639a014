"""Divergence, callbacks and the training record (loss_curve_ & co.)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.callback import ScoringMonitor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sgdlearn import DivergenceError, DivergenceWarning, GDClassifier, GDRegressor

from .conftest import OPTIMIZER_NAMES, RATE_FREE, assert_same_state, snapshot

OPTIMIZERS = OPTIMIZER_NAMES


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ---------------------------------------------------------------- divergence
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batch_size", [1, 16, "full"])
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_divergence_is_caught(digits, diabetes, optimizer, batch_size, estimator):
    """A rate far too large raises a DivergenceError naming the update, the
    rate and the remedies, and leaves the estimator as it was, for fit
    (unfitted stays unfitted) and partial_fit (the previous fit stays)."""
    if optimizer in RATE_FREE:
        pytest.skip("COCOB has no rate to set too large")
    if optimizer == "normalized" and batch_size == 1 and estimator == "regressor":
        pytest.skip("importance-invariant squared-loss steps never pass the "
                    "target, whatever the rate (tests/test_normalized.py)")
    X, y = digits if estimator == "classifier" else diabetes
    Model = GDClassifier if estimator == "classifier" else GDRegressor
    params = dict(optimizer=optimizer, batch_size=batch_size, random_state=0,
                  learning_rate="constant", max_iter=5, tol=None)
    extra = {"classes": np.unique(y)} if estimator == "classifier" else {}
    fresh = Model(eta0=1e32, **params)
    before = snapshot(fresh)
    with pytest.raises(DivergenceError) as info:
        fresh.fit(X, y)
    assert_same_state(fresh, before)
    message = str(info.value)
    assert "Floating-point under-/overflow occurred at epoch #" in message
    assert f"update t={info.value.update}" in message
    assert info.value.learning_rate == pytest.approx(1e32)
    assert "lower eta0" in message and "StandardScaler" in message
    fitted = Model(eta0=1e-3, **params).partial_fit(X, y, **extra)
    before = snapshot(fitted)
    fitted.set_params(eta0=1e32)
    with pytest.raises(DivergenceError):
        fitted.partial_fit(X, y)
    fitted.set_params(eta0=1e-3)
    assert_same_state(fitted, before)


def test_divergence_is_a_value_error(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        GDRegressor(eta0=1e30, learning_rate="constant").fit(X, y)


@pytest.mark.parametrize("sparse", [False, True])
def test_weights_overflowing_in_the_last_update_are_caught(sparse):
    """The last update's effect is in no loss the epoch saw: only the check
    of the final weights can catch an overflow there."""
    import scipy.sparse as sp

    X = np.array([[1e300]])
    X = sp.csr_matrix(X) if sparse else X
    model = GDRegressor(learning_rate="constant", eta0=1e10, penalty=None,
                        fit_intercept=False, max_iter=1, tol=None)
    with pytest.raises(DivergenceError, match="the weights became non-finite"):
        model.fit(X, [1.0])
    assert not hasattr(model, "coef_")


def test_finite_divergence_warns(diabetes):
    """scikit-learn's SGD silently returns 1e13 weights for eta0=10 on
    diabetes (clipped gradients keep them finite); sgdlearn warns, at the
    caller's line."""
    X, y = diabetes
    with pytest.warns(DivergenceWarning, match="Training diverged.*lower eta0") as w:
        GDRegressor(eta0=10, learning_rate="constant").fit(X * 10, y * 100)
    assert w[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        GDRegressor(random_state=0).fit(X, y)
        GDClassifier(random_state=0).fit(X, y > 0)


# ------------------------------------------------------------------ history
def test_loss_curve_fit_and_partial_fit(breast_cancer, digits):
    X, y = breast_cancer
    clf = GDClassifier(max_iter=6, tol=None, random_state=0).fit(X, y)
    assert len(clf.loss_curve_) == 6 and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == 8
    clf.fit(X, y)
    assert len(clf.loss_curve_) == 6
    X, y = digits  # one-vs-rest: the mean over the binary problems
    ovr = GDClassifier(max_iter=4, tol=None, random_state=0).fit(X, y)
    per_class = np.array(ovr._loss_curves if hasattr(ovr, "_loss_curves") else [])
    assert len(ovr.loss_curve_) == 4
    if per_class.size:
        assert_allclose(ovr.loss_curve_, per_class.mean(axis=0))


def test_loss_curve_decreases_and_validation_scores(digits):
    X, y = digits
    clf = GDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                       early_stopping=True, random_state=0, max_iter=300).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    assert clf.best_loss_ is None
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


# ----------------------------------------------------------------- callbacks
class Recorder:
    """A FitCallback that counts its hooks and scores each fitted model."""

    def __init__(self, stop_after=None, fail_at=None, error=RuntimeError):
        self.begins = self.ends = self.setups = self.teardowns = 0
        self.scores, self.names = [], []
        self.stop_after, self.fail_at, self.error = stop_after, fail_at, error

    def setup(self, estimator, context):
        self.setups += 1

    def teardown(self, estimator, context):
        self.teardowns += 1

    def on_fit_task_begin(self, estimator, context):
        self.begins += 1
        self.names.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, X=None, y=None,
                        fitted_estimator=None):
        self.ends += 1
        if self.fail_at is not None and self.ends == self.fail_at:
            raise self.error("callback failed")
        if fitted_estimator is not None and context.task_name == "epoch":
            self.scores.append(fitted_estimator.score(X, y))
        return self.stop_after is not None and self.ends >= self.stop_after


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_callbacks_fire_per_epoch(digits, multi_class):
    X, y = digits
    recorder = Recorder()
    clf = GDClassifier(loss="log_loss", multi_class=multi_class, max_iter=5,
                       tol=None, random_state=0).set_callbacks(recorder)
    clf.fit(X, y)
    assert (recorder.begins, recorder.ends) == (6, 6)  # root task + 5 epochs
    assert (recorder.setups, recorder.teardowns) == (1, 1)
    assert recorder.names == ["fit"] + ["epoch"] * 5
    assert len(recorder.scores) == 5 and recorder.scores[-1] == clf.score(X, y)
    clf.partial_fit(X, y)
    assert recorder.names[-2:] == ["partial_fit", "epoch"]
    assert not hasattr(clf, "_callback_fit_ctx")


def test_callbacks_see_the_averaged_model(breast_cancer):
    X, y = breast_cancer
    seen = []

    class Keep(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "epoch":
                seen.append(fitted_estimator.coef_.copy())

    clf = GDClassifier(average=True, max_iter=5, tol=None, random_state=0)
    clf.set_callbacks(Keep()).fit(X, y)
    assert_array_equal(seen[-1], clf.coef_)
    assert not np.array_equal(seen[-1], clf._standard_coef)


def test_callback_stops_training(breast_cancer):
    recorder = Recorder(stop_after=3)
    clf = GDRegressor(max_iter=50, tol=None).set_callbacks(recorder)
    clf.fit(*breast_cancer)
    assert clf.n_iter_ == 3


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failing_callback_leaves_state_unchanged(breast_cancer, error):
    X, y = breast_cancer
    clf = GDClassifier(optimizer="adam", random_state=0).partial_fit(X, y,
                                                                    classes=[0, 1])
    recorder = Recorder(fail_at=2, error=error)  # after the first epoch
    clf.set_callbacks(recorder)
    before = snapshot(clf)
    with pytest.raises(error, match="callback failed"):
        clf.partial_fit(X, y)
    assert_same_state(clf, before)
    assert recorder.teardowns == 1
    fresh = GDRegressor(max_iter=5).set_callbacks(Recorder(fail_at=3, error=error))
    before = snapshot(fresh)
    with pytest.raises(error):
        fresh.fit(X, y)
    assert_same_state(fresh, before)


def test_scoring_monitor_through_pipeline_and_grid_search(breast_cancer):
    X, y = breast_cancer
    monitor = ScoringMonitor(scoring="accuracy")
    pipe = make_pipeline(StandardScaler(), GDClassifier(
        max_iter=4, tol=None, random_state=0).set_callbacks(monitor))
    pipe.fit(X, y)
    log = monitor.get_logs()
    assert len(log.data) >= 4
    monitor = ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(GDClassifier(max_iter=3, tol=None, random_state=0)
                          .set_callbacks(monitor), {"alpha": [1e-4, 1e-2]}, cv=2)
    search.fit(X, y)
    entries = sum(len(run.data) for run in monitor.get_logs(select="all"))
    assert entries == 5 * (3 + 1)  # 2 x 2 folds + refit, each 3 epochs + fit


def test_progress_bar(breast_cancer):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    clf = GDClassifier(max_iter=3, tol=None).set_callbacks(ProgressBar())
    clf.fit(*breast_cancer)
    assert clf.n_iter_ == 3


def test_callbacks_off_by_default(breast_cancer):
    X, y = breast_cancer
    a = GDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    b = GDClassifier(random_state=0, max_iter=3, tol=None).set_callbacks(
        Recorder()).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
