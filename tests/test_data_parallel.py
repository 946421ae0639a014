"""In-process data-parallel training (``n_shards``, issue 20)."""

import copy
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._dask_mixing import adopt, mix
from sgdlearn._exceptions import DivergenceError
from sgdlearn.optim import FTRL

from .conftest import OPTIMIZER_TABLE, OWN_PENALTY, per_optimizer, without_rate

FITTED = ("coef_", "intercept_", "t_", "n_iter_", "loss_curve_")


def assert_same(a, b, names=FITTED):
    for name in names:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name),
                                      err_msg=name)
    for key, value in a.optimizer_state_.items():
        np.testing.assert_array_equal(value, b.optimizer_state_[key],
                                      err_msg=key)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(1200, 12, n_informative=6, n_classes=3,
                               random_state=0)
    return X, y


# A small fast slice; the rest of the table runs with -m slow.
FAST = ("sgd", "adam", "ftrl")
OPTIMIZERS = per_optimizer({
    "sgd": "sgd",
    "adam": "adam",
    "ftrl": FTRL(l1=0.01, l2=0.1),
    "rmsprop-centered": "rmsprop",
}, default=lambda name: name)


# Rules that predict with their own average (schedule-free) take no average.
OWN_AVERAGE = tuple(name for name, row in OPTIMIZER_TABLE.items()
                    if getattr(row, "own_average", False))


def averaging(name, average):
    return False if name in OWN_AVERAGE else average


def optimizer_params(name):
    params = {"optimizer": OPTIMIZERS[name], "eta0": 0.01}
    if name == "rmsprop-centered":
        params["centered"] = True
    if name == "ftrl" or name in OWN_PENALTY:
        params["eta0"] = 0.5
        params["penalty"] = None
    return without_rate(params)


# The other optimizers: SGDLEARN_SLOW_TESTS=1 (or -m slow) runs them.
_SLOW = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("SGDLEARN_SLOW_TESTS") != "1",
    reason="exhaustive: set SGDLEARN_SLOW_TESTS=1")]


def marked(names):
    return [pytest.param(n, marks=() if n in FAST else _SLOW) for n in names]


@pytest.mark.parametrize("name", marked(OPTIMIZERS))
@pytest.mark.parametrize("kind", ["binary", "multinomial", "ovr"])
def test_one_shard_is_todays_fit(data, name, kind):
    """n_shards=1 trains exactly as without shards, bit for bit."""
    X, y = data
    if kind == "binary":
        y = (y == 0).astype(int)
    params = dict(loss="log_loss", max_iter=4, tol=None, random_state=0,
                  batch_size=8, average=averaging(name, 3),
                  multi_class="multinomial" if kind == "multinomial" else "ovr",
                  **optimizer_params(name))
    plain = GDClassifier(**params).fit(X, y)
    sharded = GDClassifier(**params, n_shards=1).fit(X, y)
    assert_same(plain, sharded)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_shard_regression_multi_output(sparse, dtype):
    X, Y = make_regression(600, 8, n_targets=2, random_state=0)
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    params = dict(max_iter=3, tol=1e-3, random_state=0, optimizer="adam",
                  batch_size=4, n_iter_no_change=2)
    assert_same(GDRegressor(**params).fit(X, Y),
                GDRegressor(**params, n_shards=1).fit(X, Y))


def test_one_shard_early_stopping_is_todays(data):
    X, y = data
    params = dict(loss="log_loss", early_stopping=True, random_state=0,
                  n_iter_no_change=2, max_iter=30)
    plain = GDClassifier(**params).fit(X, y)
    sharded = GDClassifier(**params, n_shards=1).fit(X, y)
    assert_same(plain, sharded)
    assert plain.validation_scores_ == sharded.validation_scores_


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
@pytest.mark.parametrize("sparse", [False, True])
def test_deterministic_whatever_the_threads(data, multi_class, sparse):
    """The same model on 1 or 2 threads and from one run to the next."""
    X, y = data
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    params = dict(loss="log_loss", max_iter=4, tol=None, random_state=3,
                  n_shards=3, local_epochs=2, optimizer="adam", eta0=0.01,
                  average=True, multi_class=multi_class)
    models = [GDClassifier(**params, n_jobs=n_jobs).fit(X, y)
              for n_jobs in (1, 2, 2, -1)]
    for other in models[1:]:
        assert_same(models[0], other)
    # the shards are not one copy: several shards change the model
    assert not np.array_equal(
        models[0].coef_, GDClassifier(**params | {"n_shards": 1}).fit(X, y).coef_)


def explicit_loop(est, X, y, n_shards, local_epochs, max_iter, classes):
    """Shard copies trained by partial_fit on their rows, mixed by the dask
    path's ``mix`` every ``local_epochs`` epochs, each continuing from it."""
    bounds = np.linspace(0, X.shape[0], n_shards + 1).astype(int)
    parts = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    copies = [copy.deepcopy(est) for _ in parts]
    weights = np.diff(bounds) / X.shape[0]
    done = 0
    mixed = None
    while done < max_iter:
        n = min(local_epochs, max_iter - done)
        for model, rows in zip(copies, parts, strict=True):
            if mixed is not None:
                adopt(model, mixed)
            for _ in range(n):
                model.partial_fit(X[rows], y[rows], classes=classes)
        done += n
        mixed = mix(copies, weights)
    return mixed


@pytest.mark.parametrize("name", marked(OPTIMIZERS))
@pytest.mark.parametrize("local_epochs", [1, 2])
def test_equals_the_dask_mixture_loop(data, name, local_epochs):
    """Without shuffling (the shards' row orders then agree), fit with
    n_shards equals partial_fit copies on the shards' rows mixed by
    ``sgdlearn._dask_mixing.mix``, to rounding (the pairwise tree)."""
    X, y = data
    params = dict(loss="log_loss", shuffle=False, random_state=0,
                  batch_size=4, multi_class="multinomial",
                  average=averaging(name, 5), **optimizer_params(name),
                  learning_rate="constant" if name == "ftrl" else "invscaling")
    params = without_rate(params)
    expected = explicit_loop(GDClassifier(**params), X, y, 3, local_epochs,
                             5, np.unique(y))
    got = GDClassifier(**params, max_iter=5, tol=None, n_shards=3,
                       local_epochs=local_epochs, n_jobs=2).fit(X, y)
    assert got.t_ == expected.t_
    assert got.n_iter_ == expected.n_iter_ == 5
    if name not in OWN_AVERAGE:  # (schedule-free: fit and partial_fit
        # record different objectives for the same weights, without shards)
        np.testing.assert_allclose(got.loss_curve_, expected.loss_curve_,
                                   rtol=1e-12)
    attrs = ("coef_", "intercept_") + (
        ("_standard_coef", "_average_coef") if params["average"] else ())
    for attr in attrs:
        np.testing.assert_allclose(getattr(got, attr), getattr(expected, attr),
                                   rtol=1e-10, atol=1e-13, err_msg=attr)
    for key, value in got.optimizer_state_.items():
        np.testing.assert_allclose(value, expected.optimizer_state_[key],
                                   rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("name", marked(OPTIMIZERS))
def test_every_optimizer_trains_on_shards(data, name):
    X, y = data
    params = dict(loss="log_loss", max_iter=5, tol=None, random_state=0,
                  batch_size=16, **optimizer_params(name))
    one = GDClassifier(**params).fit(X, y)
    two = GDClassifier(**params, n_shards=2, n_jobs=2).fit(X, y)
    assert np.all(np.isfinite(two.coef_))
    # the updates of both shards (each ends its epoch on a partial batch)
    assert one.t_ == 1 + 5 * -(-1200 // 16)
    assert two.t_ == 1 + 5 * 2 * -(-600 // 16)
    assert two.score(X, y) > one.score(X, y) - 0.05


def test_partial_fit_mixes_at_the_end_of_every_call(data):
    """Repeated partial_fit equals fit (l2: no per-call L1 record), and
    pickling between calls changes nothing."""
    X, y = data
    params = dict(loss="log_loss", random_state=0, n_shards=3, n_jobs=2,
                  optimizer="adam", eta0=0.01, learning_rate="constant")
    fit = GDClassifier(**params, max_iter=3, tol=None).fit(X, y)
    stream = GDClassifier(**params)
    for call in range(3):
        stream.partial_fit(X, y, classes=np.unique(y))
        if call == 1:
            stream = pickle.loads(pickle.dumps(stream))
    # (n_iter_ counts the epochs of the last call, as scikit-learn's)
    assert_same(fit, stream, [n for n in FITTED if n != "n_iter_"])


def test_local_epochs_longer_than_a_partial_fit_call(data):
    X, y = data
    est = GDClassifier(loss="log_loss", n_shards=2, local_epochs=5,
                       random_state=0)
    est.partial_fit(X, y, classes=np.unique(y))
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1


def test_one_shot_mixes_once(data):
    X, y = data
    params = dict(loss="log_loss", max_iter=4, tol=None, random_state=0,
                  n_shards=2)
    once = GDClassifier(**params, mixing="one_shot").fit(X, y)
    long = GDClassifier(**params, local_epochs=4).fit(X, y)
    assert_same(once, long)
    every = GDClassifier(**params).fit(X, y)
    assert not np.array_equal(once.coef_, every.coef_)
    # each shard stops by its own rule, as sgdlearn.dask's one-shot
    stopped = GDClassifier(**params | {"max_iter": 300, "tol": 1e-2},
                           n_iter_no_change=2, mixing="one_shot").fit(X, y)
    assert stopped.n_iter_ < 300
    assert len(stopped.loss_curve_) == stopped.n_iter_


def test_early_stopping_on_the_mixture(data):
    X, y = data
    est = GDClassifier(loss="log_loss", n_shards=3, n_jobs=2,
                       early_stopping=True, n_iter_no_change=2,
                       random_state=0, max_iter=200).fit(X, y)
    assert est.n_iter_ < 200
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_tol_stops_the_mixture(data):
    X, y = data
    est = GDClassifier(loss="log_loss", n_shards=2, random_state=0,
                       max_iter=500, tol=1e-2, n_iter_no_change=2).fit(X, y)
    assert est.n_iter_ < 500


def test_divergence_names_the_shard_and_changes_nothing(data):
    X, y = data
    est = GDClassifier(loss="log_loss", random_state=0, max_iter=2, tol=None,
                       n_shards=2).fit(X, y)
    before = copy.deepcopy(est)
    est.set_params(learning_rate="constant", eta0=1e30, loss="squared_error",
                   warm_start=True, n_jobs=2)
    X_big = X * 1e20
    with pytest.raises(DivergenceError, match=r"Shard [01] of 2 \(training rows"):
        est.fit(X_big, y)
    est.set_params(**before.get_params())
    assert_same(before, est)


@pytest.mark.parametrize("bad, error", [
    ({"n_shards": 0}, ValueError),
    ({"n_shards": 1.5}, ValueError),
    ({"local_epochs": 0}, ValueError),
    ({"mixing": "tree"}, ValueError),
])
def test_bad_parameters(data, bad, error):
    X, y = data
    with pytest.raises(error):
        GDClassifier(**bad).fit(X, y)
    with pytest.raises(error):
        GDRegressor(**bad).fit(X, y.astype(float))


def test_more_shards_than_rows_fails_before_any_change(data):
    X, y = data
    est = GDClassifier(loss="log_loss", random_state=0, max_iter=2,
                       tol=None).fit(X, y)
    before = copy.deepcopy(est)
    est.set_params(n_shards=11, warm_start=True)
    with pytest.raises(ValueError, match="n_shards=11 is more than the 10"):
        est.partial_fit(X[:10], y[:10])
    est.set_params(n_shards=None, warm_start=False)
    assert_same(before, est)
    # early stopping: the held-out rows do not count
    with pytest.raises(ValueError, match="training rows"):
        GDClassifier(n_shards=1100, early_stopping=True).fit(X, y)


def test_binary_two_shards_accuracy(data):
    X, y = data
    y = (y == 0).astype(int)
    params = dict(loss="log_loss", max_iter=5, tol=None, random_state=0,
                  optimizer="adam", eta0=0.01, batch_size=8)
    one = GDClassifier(**params).fit(X, y)
    two = GDClassifier(**params, n_shards=2, n_jobs=2).fit(X, y)
    assert abs(two.score(X, y) - one.score(X, y)) < 0.02


class Recorder:
    """A FitCallback recording the epoch events and each event's model."""

    def __init__(self, stop_after=None):
        self.names, self.coefs = [], []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        self.names.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, X=None, y=None,
                        fitted_estimator=None):
        if fitted_estimator is not None and context.task_name == "epoch":
            self.coefs.append(fitted_estimator.coef_.copy())
        return (self.stop_after is not None
                and len(self.coefs) >= self.stop_after)


def test_callbacks_one_event_per_mixed_round(data):
    X, y = data
    recorder = Recorder()
    clf = GDClassifier(loss="log_loss", max_iter=6, tol=None, random_state=0,
                       n_shards=2, local_epochs=2, n_jobs=2)
    clf.set_callbacks(recorder).fit(X, y)
    assert recorder.names == ["fit"] + ["epoch"] * 3
    np.testing.assert_array_equal(recorder.coefs[-1], clf.coef_)
    # a callback that stops after the first mix: the model of that mix
    stopper = Recorder(stop_after=1)
    first = GDClassifier(**clf.get_params()).set_callbacks(stopper).fit(X, y)
    np.testing.assert_array_equal(first.coef_, recorder.coefs[0])
    assert first.n_iter_ == 2


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_kill"),
                    reason="needs POSIX signals")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_stops_the_shards_and_changes_nothing(n_jobs):
    from .test_interrupt import assert_interrupted

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 50))
    y = (X[:, 0] > 0).astype(int)
    clf = GDClassifier(loss="log_loss", optimizer="adam", random_state=0,
                       n_shards=2, n_jobs=n_jobs)
    clf.partial_fit(X[:500], y[:500], classes=[0, 1])
    clf.set_params(max_iter=1000, tol=None, warm_start=True)
    assert_interrupted(clf, lambda: clf.fit(X, y))
