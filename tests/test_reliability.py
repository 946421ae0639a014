"""Persistence, threads and memory: a saved model resumes exactly, threads
do not interfere, and training does not copy X or grow over a stream."""

import gc
import io
import pickle
import threading
import tracemalloc

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

import sgdlearn._base
from sgdlearn import GDClassifier, GDRegressor, InconsistentVersionWarning

from .conftest import OPTIMIZER_NAMES, OWN_AVERAGE

OPTIMIZERS = OPTIMIZER_NAMES



def _joblib_roundtrip(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("Model", [GDClassifier, GDRegressor])
@pytest.mark.parametrize("roundtrip", [lambda m: pickle.loads(pickle.dumps(m)),
                                       _joblib_roundtrip], ids=["pickle", "joblib"])
def test_saved_model_predicts_and_resumes_exactly(digits, diabetes, layout, dtype,
                                                  optimizer, Model, roundtrip):
    X, y = digits if Model is GDClassifier else diabetes
    X = X.astype(dtype)
    X = sp.csr_array(X) if layout == "csr" else X
    extra = {"classes": np.unique(y)} if Model is GDClassifier else {}
    # Schedule-free publishes its own average (no average=True).
    model = Model(optimizer=optimizer, batch_size=4,
                  average=optimizer not in OWN_AVERAGE,
                  random_state=0).partial_fit(X[:300], y[:300], **extra)
    restored = roundtrip(model)
    assert_array_equal(restored.predict(X), model.predict(X))
    for start in (300, 340):
        model.partial_fit(X[start:start + 40], y[start:start + 40])
        restored.partial_fit(X[start:start + 40], y[start:start + 40])
    assert_array_equal(restored.coef_, model.coef_)
    assert_array_equal(restored.intercept_, model.intercept_)
    assert restored.coef_.dtype == dtype
    assert restored.optimizer_state_["step"] == model.optimizer_state_["step"]


def test_pickle_from_another_version_warns(monkeypatch, breast_cancer):
    saved = pickle.dumps(GDClassifier(max_iter=2).fit(*breast_cancer))
    monkeypatch.setattr(sgdlearn._base, "__version__", "99.0")
    with pytest.warns(InconsistentVersionWarning,
                      match="pickled by sgdlearn 0.1.0 and is unpickled by "
                            "sgdlearn 99.0"):
        pickle.loads(saved)


def test_concurrent_predict(digits):
    X, y = digits
    model = GDClassifier(loss="log_loss", random_state=0, max_iter=5).fit(X, y)
    expected = (model.predict(X), model.predict_proba(X))
    failures = []

    def predict():
        for _ in range(20):
            if not (np.array_equal(model.predict(X), expected[0])
                    and np.array_equal(model.predict_proba(X), expected[1])):
                failures.append(1)

    threads = [threading.Thread(target=predict) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_concurrent_training_equals_alone(digits, diabetes):
    jobs = [(GDClassifier(optimizer="adam", random_state=0, max_iter=20), *digits),
            (GDRegressor(optimizer="nesterov", batch_size=8, random_state=0,
                         learning_rate="constant", eta0=0.001), *diabetes)]
    alone = [type(m)(**m.get_params()).fit(X, y).coef_ for m, X, y in jobs]
    threads = [threading.Thread(target=m.fit, args=(X, y)) for m, X, y in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (model, _, _), coef in zip(jobs, alone, strict=True):
        assert_array_equal(model.coef_, coef)


def _peak_extra_bytes(fit):
    gc.collect()
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["float64", "float32", "csr"])
@pytest.mark.parametrize("Model", [GDClassifier, GDRegressor])
def test_fit_does_not_copy_X(kind, Model):
    """Extra peak memory of fit is a few int32/float per row plus O(d): X
    itself (8 MB here) is never copied."""
    rng = np.random.default_rng(0)
    n, d = 40_000, 50
    X = rng.standard_normal((n, d)).astype(np.float32 if kind == "float32"
                                           else np.float64)
    if kind == "csr":
        X[rng.random((n, d)) < 0.8] = 0
        X = sp.csr_array(X)
    y = (rng.random(n) > 0.5).astype(float)
    model = Model(max_iter=2, tol=None, random_state=0)
    model.fit(X, y)  # warm-up: imports, first-call caches
    peak = _peak_extra_bytes(lambda: model.fit(X, y))
    x_bytes = (X.data.nbytes if sp.issparse(X) else X.nbytes)
    assert peak <= 6 * n * 4 + 64 * d * 8 + 256 * 1024, (peak, x_bytes)
    assert peak < x_bytes / 2


@pytest.mark.parametrize("params", [{}, {"early_stopping": True},
                                    {"n_jobs": 2}],
                         ids=["sequential", "early_stopping", "n_jobs=2"])
def test_one_vs_rest_memory_does_not_grow_with_n_samples_times_classes(params):
    """One-vs-rest holds one row-order buffer per running problem and shares
    the (validation) labels: peak extra memory O(n + n_classes * d), not one
    int32 per row and class (40 MB here; it was 42 MB, 46 with early
    stopping).  Per class: its coef rows and a few KB of Python objects."""
    rng = np.random.default_rng(0)
    n, n_classes, d = 10_000, 1_000, 5
    X = rng.standard_normal((n, d))
    y = np.arange(n) % n_classes
    model = GDClassifier(max_iter=1, tol=None, random_state=0, **params)
    model.fit(X, y % 20)  # warm-up: imports, first-call caches
    peak = _peak_extra_bytes(lambda: model.fit(X, y))
    assert model.coef_.shape == (n_classes, d)
    assert peak <= 64 * n + n_classes * (6 * 1024 + 64 * d * 8), peak
    assert peak < n * n_classes * 4 / 4


class _NoOpCallback:
    """A scikit-learn callback that only forces lockstep epochs."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        return False


@pytest.mark.parametrize("params", [{}, {"shuffle": False},
                                    {"early_stopping": True, "tol": 1e-2},
                                    {"optimizer": "adam", "batch_size": 8}])
def test_one_vs_rest_same_model_with_threads_and_callbacks(digits, params):
    """Each problem draws its epochs' orders from its own generator, whatever
    runs when: n_jobs and lockstep epochs (callbacks) change no bit."""
    X, y = digits
    models = {}
    for n_jobs in (1, 2):
        for callbacks in (False, True):
            model = GDClassifier(n_jobs=n_jobs, max_iter=6, n_iter_no_change=2,
                                 random_state=0, **params)
            if callbacks:
                model.set_callbacks(_NoOpCallback())
            model.fit(X, y)
            model.partial_fit(X[:500], y[:500])
            models[n_jobs, callbacks] = model
    reference = models[1, False]
    for model in models.values():
        assert_array_equal(model.coef_, reference.coef_)
        assert_array_equal(model.intercept_, reference.intercept_)
        assert model.n_iter_ == reference.n_iter_
        assert model.loss_curve_ == reference.loss_curve_


def test_partial_fit_memory_does_not_grow():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 20))
    y = np.arange(10) % 3
    model = GDClassifier(optimizer="adam", class_weight="balanced",
                         loss="log_loss")
    model.partial_fit(X, y, classes=[0, 1, 2])
    for _ in range(50):  # settle caches
        model.partial_fit(X, y)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            model.partial_fit(X, y)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    # loss_curve_ gains one float per call (~8 KB over 1000 calls).
    assert growth < 64 * 1024, growth
    assert len(model.loss_curve_) == 1051
