"""FTRL-Proximal (``optimizer='ftrl'``, ``sgdlearn.optim.FTRL``): the kernel
against McMahan et al.'s Algorithm 1 (``tests/_reference.py``) on every path,
float32 against Vowpal Wabbit's operation order, CSR against dense, the
weights as a function of the state, the estimator's parameters it does not
read, warm starts, pickling and Dask mixing.  The generic tests (every
optimizer of the table) cover it too, with the cases of ``conftest.py``."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._dask_mixing import mix
from sgdlearn._kernels import _select
from sgdlearn._optim_table import ftrl_weights
from sgdlearn._resolve import resolve_optimizer, resolve_rate
from sgdlearn.optim import FTRL

from .conftest import load_reference

ref = load_reference()

HP = dict(beta=0.7, l1=1.0, l2=0.2)
ETA0 = 0.4
TOL64 = dict(rtol=1e-12, atol=1e-14)


def _data(seed=5, n=60, d=10, density=0.4):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.7, (n, d))
    X[rng.random((n, d)) >= density] = 0.0
    X[np.arange(n), rng.integers(0, d, n)] = rng.normal(0.0, 0.7, n)
    coef = rng.normal(size=d)
    coef[-3:] = 0.0  # noise columns, for FTRL's exact zeros
    y_reg = X @ coef + 0.3 + 0.1 * rng.normal(size=n)
    y_clf = (X @ coef + 0.2 * rng.normal(size=n) > 0).astype(int)
    return X, y_reg, y_clf, rng.uniform(0.5, 2.0, n)


X, Y_REG, Y_CLF, SW = _data()


def _params(**params):
    return {"optimizer": FTRL(**HP), "eta0": ETA0, "shuffle": False,
            "tol": None, "max_iter": 3, **params}


def _reference(task, X, y, sw, n_epochs=3, **params):
    """The reference Model (Algorithm 1 in NumPy) after n_epochs epochs."""
    params = {**_params(**params), "learning_rate": "constant"}
    for name in ("shuffle", "tol", "max_iter"):
        params.pop(name)
    model = ref.Model(X.shape[1], lazy=sp.issparse(X),
                      loss="squared_error" if task == "reg" else "log_loss",
                      **params)
    y = np.where(y == 1, 1.0, -1.0) if task == "clf" else y
    for _ in range(n_epochs):
        model.epoch(X.astype(np.float64), y, sw)
    return model


# ----------------------------------------------------------------------------
# The kernel is Algorithm 1
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("task", ["reg", "clf"])
def test_kernel_is_algorithm_1(task, batch_size, layout, fit_intercept):
    """float64, per-sample, mini-batch (the rule on the batch's mean
    gradient) and full batch, dense and CSR, with and without intercept."""
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    Est, y = (GDRegressor, Y_REG) if task == "reg" else (GDClassifier, Y_CLF)
    # Three full-batch steps of mean gradients need a smaller lambda_1.
    hp = {**HP, "l1": 0.05} if batch_size == "full" else HP
    params = dict(batch_size=batch_size, fit_intercept=fit_intercept,
                  optimizer=FTRL(**hp))
    if task == "clf":
        params["loss"] = "log_loss"
    est = Est(**_params(**params)).fit(Xl, y, sample_weight=SW)
    params.pop("loss", None)
    model = _reference(task, X, y, SW, **params)
    assert np.any(model.coef != 0)
    assert_allclose(est.coef_.ravel(), model.coef, **TOL64)
    assert_array_equal(est.coef_.ravel() == 0, model.coef == 0)
    assert_allclose(est.intercept_[0], model.intercept, **TOL64)
    assert est.t_ == model.t


def test_averaged_ftrl_is_the_average_of_its_iterates():
    est = GDRegressor(**_params(average=10)).fit(X, Y_REG, sample_weight=SW)
    model = _reference("reg", X, Y_REG, SW, average=10)
    assert_allclose(est.coef_, model.coef, **TOL64)
    assert_allclose(est.intercept_[0], model.intercept, **TOL64)


def _vw_order_replay(X32, y, n_epochs, **hp):
    """Per-sample FTRL in VW's float32 operation order, the score as the
    kernel computes it (float64, dense rows of <= 3 columns: in order)."""
    model = ref.FTRLProximalVW(X32.shape[1], ETA0, **hp)
    for _ in range(n_epochs):
        for x, target in zip(X32, y.astype(np.float32), strict=True):
            p = 0.0
            for wj, xj in zip(model.w, x, strict=True):
                p += float(wj) * float(xj)
            model.learn_one(x, p + model.b - float(target))  # squared error
    return model


@pytest.mark.parametrize("kernel", ["baseline", "avx2"])
def test_float32_per_sample_is_vw_order(monkeypatch, kernel):
    """float32 coefficients follow ``vw --ftrl``'s operations (the spec's
    FTRLProximal(f32=True)) given the same loss derivative: bit for bit in
    the baseline build; the AVX2/FMA build may fuse a multiply-add."""
    module = getattr(_select, kernel)
    if module is None or (kernel == "avx2" and not _select.cpu_has_avx2()):
        pytest.skip("no AVX2/FMA build or CPU here")
    monkeypatch.setattr(sgdlearn._engine, "kernel", module)
    X32 = X[:, :3].astype(np.float32)
    hp = dict(beta=1.0, l1=0.05, l2=0.5)
    est = GDRegressor(**_params(optimizer=FTRL(**hp))).fit(X32, Y_REG)
    model = _vw_order_replay(X32, Y_REG, 3, **hp)
    assert est.coef_.dtype == np.float32
    if kernel == "baseline":
        assert_array_equal(est.coef_, model.w)
    else:
        assert_allclose(est.coef_, model.w, rtol=1e-5, atol=1e-7)
    assert_allclose(est.intercept_[0], model.b, rtol=1e-6)


@pytest.mark.parametrize("kernel", ["baseline", "auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_csr_equals_dense_exactly(monkeypatch, dtype, batch_size, kernel):
    """Nothing to catch up: CSR gives the dense result, bit for bit in the
    baseline build (rows of at most two non-zeros, so that the dot products
    add in the same order); the AVX2 build's dense loops fuse multiply-adds
    that its sparse ones do not, a rounding difference only."""
    monkeypatch.setattr(sgdlearn._engine, "kernel", _select.select(kernel))
    rng = np.random.default_rng(7)
    Xd = np.zeros((80, 40))
    for i in range(80):
        Xd[i, rng.choice(40, rng.integers(1, 3), replace=False)] = rng.normal(
            size=1)
    y = (Xd.sum(axis=1) > 0).astype(int)
    Xd = Xd.astype(dtype)
    params = _params(loss="log_loss", batch_size=batch_size)
    dense = GDClassifier(**params).fit(Xd, y)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(Xd), y)
    assert np.count_nonzero(dense.coef_ == 0) > 0
    assert_array_equal(sparse.coef_ == 0, dense.coef_ == 0)
    same = assert_array_equal if kernel == "baseline" else (
        lambda a, b: assert_allclose(a, b, rtol=1e-12 if dtype == np.float64
                                     else 1e-5))
    same(sparse.coef_, dense.coef_)
    same(sparse.intercept_, dense.intercept_)
    for name, value in dense.optimizer_state_.items():
        same(sparse.optimizer_state_[name], value)


# ----------------------------------------------------------------------------
# Weights as a function of the state; exact zeros; the intercept
def test_weights_are_the_function_of_z_and_n(breast_cancer):
    X_, y = breast_cancer
    hp = dict(beta=1.0, l1=30.0, l2=1.0)
    est = GDClassifier(loss="log_loss", optimizer=FTRL(**hp), random_state=0,
                       max_iter=5, tol=None).fit(X_, y)
    state = est.optimizer_state_
    assert set(state) == {"step", "z", "n", "intercept_z", "intercept_n"}
    rate = resolve_rate(est, resolve_optimizer(est))[0]
    assert rate == 0.5
    assert_allclose(est.coef_, ftrl_weights(hp, rate, (state["z"], state["n"])),
                    rtol=1e-12)
    zero = np.abs(state["z"]) <= hp["l1"]
    assert zero.sum() >= 5
    assert_array_equal(est.coef_ == 0, zero)
    # The intercept is a coordinate without the penalties.
    assert_allclose(est.intercept_, ftrl_weights(
        hp, rate, (state["intercept_z"], state["intercept_n"]), False),
        rtol=1e-12)
    assert est.intercept_[0] != 0 and abs(state["intercept_z"][0]) <= hp["l1"]


def test_l1_trades_little_loss_for_many_zeros():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(3000, 60))
    w = np.zeros(60)
    w[:6] = rng.normal(0, 2, 6)
    y = (Xr @ w + rng.logistic(size=3000) > 0).astype(int)
    params = dict(loss="log_loss", random_state=0, max_iter=3, tol=None)
    dense = GDClassifier(optimizer="ftrl", **params).fit(Xr, y)
    sparse = GDClassifier(optimizer=FTRL(l1=20.0), **params).fit(Xr, y)
    assert np.count_nonzero(dense.coef_ == 0) == 0
    assert np.count_nonzero(sparse.coef_ == 0) >= 25  # of 54 noise columns
    assert sparse.score(Xr, y) >= dense.score(Xr, y) - 0.02


# ----------------------------------------------------------------------------
# Estimator parameters
def test_defaults_work(breast_cancer):
    """Every other parameter at its default: the penalty is FTRL's own
    (none by default), at FTRL's default rate (eta0=0.5, constant)."""
    X_, y = breast_cancer
    clf = GDClassifier(optimizer="ftrl", random_state=0).fit(X_, y)
    assert clf.score(X_, y) > 0.97
    for est in (clf, GDRegressor(optimizer="ftrl")):
        assert resolve_rate(est, resolve_optimizer(est))[:2] == (0.5, "constant")
    reg = GDRegressor(optimizer="ftrl", random_state=0).fit(X_, y)
    assert reg.score(X_, y) > 0.6
    assert FTRL().get_params() == dict(beta=1.0, l1=0.0, l2=0.0)
    # The string is the object with its defaults.
    obj = GDClassifier(optimizer=FTRL(), random_state=0).fit(X_, y)
    assert_array_equal(obj.coef_, clf.coef_)


@pytest.mark.parametrize("params, match", [
    (dict(alpha=0.01), "alpha=0.01 is set on .* its own l1 and l2"),
    (dict(penalty="l1"), "penalty='l1' is set .*FTRL\\(l1=..., l2=...\\)"),
    (dict(penalty="elasticnet"), "penalty='elasticnet'"),
    (dict(learning_rate="invscaling"), "constant rate only"),
    (dict(learning_rate="adaptive", eta0=0.1), "constant rate only"),
    (dict(warmup_steps=10), "warmup_steps=10 .* does not read it"),
    (dict(intercept_decay=0.5), "intercept_decay=0.5 .* does not read it"),
    (dict(optimizer=FTRL(beta=0.0)), "beta"),
    (dict(optimizer=FTRL(l1=-1.0)), "l1"),
])
def test_parameters_it_does_not_read_are_errors(params, match):
    clf = GDClassifier(**{"optimizer": "ftrl", **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y_CLF)


def test_penalty_none_and_its_inert_alpha_are_accepted():
    a = GDClassifier(**_params(penalty=None, alpha=0.3)).fit(X, Y_CLF)
    b = GDClassifier(**_params()).fit(X, Y_CLF)
    assert_array_equal(a.coef_, b.coef_)


def test_failed_partial_fit_leaves_the_model():
    clf = GDClassifier(**_params()).partial_fit(X, Y_CLF, classes=[0, 1])
    before = pickle.dumps(clf)
    coef, state = clf.coef_.copy(), clf.optimizer_state_["z"].copy()
    clf.set_params(alpha=0.5)
    with pytest.raises(ValueError, match="alpha=0.5"):
        clf.partial_fit(X, Y_CLF)
    clf.set_params(alpha=1e-4)
    assert_array_equal(clf.coef_, coef)
    assert_array_equal(clf.optimizer_state_["z"], state)
    clf.partial_fit(X, Y_CLF)
    again = pickle.loads(before).partial_fit(X, Y_CLF)
    assert_array_equal(clf.coef_, again.coef_)


# ----------------------------------------------------------------------------
# State across calls: partial_fit, pickle, warm starts
@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_and_pickle_continue_the_state(sparse):
    Xl = sp.csr_matrix(X) if sparse else X
    fit = GDRegressor(**_params(max_iter=2)).fit(Xl, Y_REG)
    calls = GDRegressor(**_params()).partial_fit(Xl, Y_REG)
    calls = pickle.loads(pickle.dumps(calls)).partial_fit(Xl, Y_REG)
    assert_array_equal(calls.coef_, fit.coef_)
    assert_array_equal(calls.intercept_, fit.intercept_)
    for name in ("z", "n", "intercept_z", "intercept_n"):
        assert_array_equal(calls.optimizer_state_[name],
                           fit.optimizer_state_[name])
    assert calls.optimizer_state_["step"] == 2 * len(Y_REG)


def test_start_from_given_weights():
    """coef_init, or another optimizer's weights on a warm start: the fresh
    state (z, n=0) gives those weights, so a coordinate no row touches
    keeps its weight (without it, its first touch would reset it)."""
    Xz = X.copy()
    Xz[:, 0] = 0.0
    coef_init = np.linspace(-1.0, 1.0, X.shape[1])
    est = GDRegressor(**_params()).fit(Xz, Y_REG, coef_init=coef_init,
                                       intercept_init=0.7)
    assert_allclose(est.coef_[0], coef_init[0], rtol=1e-12)
    sgd = GDRegressor(optimizer="sgd", learning_rate="constant", eta0=0.01,
                      max_iter=3, tol=None, random_state=0).fit(
        Xz, Y_REG, coef_init=coef_init)
    sgd.set_params(optimizer=FTRL(**HP), eta0=ETA0, warm_start=True, alpha=1e-4)
    start = sgd.coef_.copy()
    sgd.fit(Xz, Y_REG)
    assert start[0] != 0
    assert_allclose(sgd.coef_[0], start[0], rtol=1e-12)


def test_changed_penalty_restarts_the_state_from_the_weights():
    est = GDRegressor(**_params()).partial_fit(X, Y_REG)
    est.set_params(optimizer=FTRL(beta=0.7, l1=0.0, l2=0.2))
    est.partial_fit(X, Y_REG)
    assert est.optimizer_state_["step"] == len(Y_REG)


# ----------------------------------------------------------------------------
# Dask mixing averages (z, n), not the weights
def test_mixing_averages_the_state_and_recomputes_the_weights():
    halves = (slice(0, 30), slice(30, 60))
    models = [GDClassifier(**_params()).partial_fit(X[h], Y_CLF[h],
                                                    classes=[0, 1])
              for h in halves]
    mixed = mix(models, [0.5, 0.5])
    z = (models[0].optimizer_state_["z"] + models[1].optimizer_state_["z"]) / 2
    n = (models[0].optimizer_state_["n"] + models[1].optimizer_state_["n"]) / 2
    assert_allclose(mixed.optimizer_state_["z"], z, rtol=1e-15)
    coef = ftrl_weights(HP, ETA0, (z, n))
    assert_allclose(mixed.coef_, coef, rtol=1e-12)
    assert not np.allclose(mixed.coef_, (models[0].coef_ + models[1].coef_) / 2)
    zb = (models[0].optimizer_state_["intercept_z"]
          + models[1].optimizer_state_["intercept_z"]) / 2
    nb = (models[0].optimizer_state_["intercept_n"]
          + models[1].optimizer_state_["intercept_n"]) / 2
    assert_allclose(mixed.intercept_, ftrl_weights(HP, ETA0, (zb, nb), False),
                    rtol=1e-12)
    # Training continues from the mixed state.
    mixed.partial_fit(X, Y_CLF)
    assert np.all(np.isfinite(mixed.coef_))


def test_vowpal_wabbit_replay_transcription_is_the_spec():
    """The float32 transcription follows the spec's formulas: a hand check
    of one update (z = g - sigma w with w = 0, n = g^2)."""
    model = ref.FTRLProximalVW(2, 0.5, beta=1.0, l1=0.1, l2=0.0)
    model.learn_one(np.array([1.0, 0.0], np.float32), 0.4)
    g = np.float32(0.4)
    assert model.z[0] == g and model.n[0] == g * g and model.z[1] == 0
    expected = -(g - np.float32(0.1)) / ((np.float32(1) + np.sqrt(g * g))
                                         / np.float32(0.5))
    assert_allclose(model.w[0], expected, rtol=1e-6)
    assert math.isclose(model.b, -0.4 / ((1.0 + 0.4) / 0.5))


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.5, 0.3), (20.0, 1.0)])
def test_vowpal_wabbit_oracle(l1, l2):
    """``vw --ftrl`` (Vowpal Wabbit 9.11.9, when installed): one pass in
    order, logistic loss, no constant feature (fit_intercept=False; VW
    would penalize it).  VW computes its scores in float32 and parses text
    features, so the margins agree to float32 rounding, not bit for bit."""
    vowpalwabbit = pytest.importorskip("vowpalwabbit")
    rng = np.random.default_rng(0)
    X32 = rng.normal(0, 1, (300, 5)).astype(np.float32)
    X32[rng.random(X32.shape) < 0.3] = 0
    y = (X32 @ rng.normal(size=5) + 0.3 * rng.normal(size=300) > 0).astype(int)
    vw = vowpalwabbit.Workspace(
        f"--ftrl --ftrl_alpha 0.5 --ftrl_beta 1 --l1 {l1} --l2 {l2} "
        "--loss_function logistic --noconstant --quiet")
    lines = [f"{2 * label - 1} |f " + " ".join(
        f"c{j}:{float(v)!r}" for j, v in enumerate(x) if v != 0)
        for x, label in zip(X32, y, strict=True)]
    try:
        for line in lines:
            vw.learn(line)
        margins = np.array([vw.predict(line) for line in lines])
    finally:
        vw.finish()
    est = GDClassifier(loss="log_loss", optimizer=FTRL(l1=l1, l2=l2), eta0=0.5,
                       fit_intercept=False, shuffle=False, max_iter=1,
                       tol=None).fit(X32, y)
    ours = est.decision_function(X32)
    assert_allclose(ours, margins, rtol=0, atol=2e-6 * np.abs(margins).max())
    if l1 == 20.0:
        assert np.count_nonzero(est.coef_ == 0) == 1
