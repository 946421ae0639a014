"""Vowpal Wabbit's default rule (``optimizer='normalized'``,
``sgdlearn.optim.Normalized``): float32 per sample bit for bit against the
spec's VW replay (``tests/_reference_normalized.py``, given the kernel's
prediction), float64 against the same rule, mini-batches against their NumPy
rule, CSR against dense, scale invariance, the defaults on unscaled data,
K outputs, state across calls, Dask mixing, and real VW when installed.
The generic tests (every optimizer of the table) cover it too."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._dask_mixing import mix
from sgdlearn._kernels import _select
from sgdlearn._resolve import resolve_optimizer, resolve_rate
from sgdlearn.optim import Normalized

from .conftest import load_test_module

rn = load_test_module("_reference_normalized")


def _stream(seed=3, n=300, d=5):
    """The spec's stream: feature scales 1e-3 to 1e3, 30% exact zeros."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 1e3, 1e-3, 10.0, 0.1])[:d]
    X[rng.random((n, d)) < 0.3] = 0.0
    wt = np.array([1.0, 2e-3, 500.0, -0.3, 4.0])[:d]
    y_reg = X @ wt + 0.1 * rng.normal(size=n)
    y_clf = np.where(rng.random(n) < 1 / (1 + np.exp(-X @ wt)), 1, -1)
    h = np.exp(rng.normal(size=n)).astype(np.float32).astype(np.float64)
    return X, y_reg, y_clf, h


X, Y_REG, Y_CLF, H = _stream()
D = X.shape[1]
ONE = dict(shuffle=False, max_iter=1, tol=None)

# id -> (task, estimator parameters, VW arguments, importance weights)
CONFIGS = {
    "default": ("reg", dict(penalty=None), "", False),
    "default-weighted": ("reg", dict(penalty=None), "", True),
    "logistic": ("clf", dict(penalty=None), "--loss_function logistic", False),
    "logistic-weighted": ("clf", dict(penalty=None),
                          "--loss_function logistic", True),
    "adaptive-normalized": ("reg", dict(optimizer=Normalized(invariant=False),
                                        penalty=None),
                            "--adaptive --normalized", False),
    "adaptive-normalized-logistic": (
        "clf", dict(optimizer=Normalized(invariant=False), penalty=None),
        "--adaptive --normalized --loss_function logistic", False),
    "adaptive": ("reg", dict(optimizer=Normalized(normalized=False,
                                                  invariant=False),
                             penalty=None, eta0=0.1), "--adaptive -l 0.1", False),
    "exponent-0.4": ("clf", dict(optimizer=Normalized(exponent=0.4),
                                 penalty=None, eta0=2.0),
                     "--power_t 0.4 -l 2 --loss_function logistic", True),
    "rate-50": ("clf", dict(penalty=None, eta0=50.0),
                "-l 50 --loss_function logistic", False),
}


def _fit(task, params, layout, dtype, weighted, fit_intercept=True, **more):
    Xl = X.astype(dtype)
    Xl = sp.csr_matrix(Xl) if layout == "csr" else Xl
    params = {"optimizer": "normalized", **params, **ONE, **more,
              "fit_intercept": fit_intercept}
    if task == "reg":
        est = GDRegressor(**params)
        y = Y_REG
    else:
        est = GDClassifier(loss="log_loss", **params)
        y = Y_CLF
    return est.fit(Xl, y, sample_weight=H if weighted else None)


def _replay(task, args, layout, f32, weighted, fit_intercept=True):
    model = rn.KernelVWGD(D, args + ("" if fit_intercept else " --noconstant"),
                          f32=f32, dense=layout == "dense",
                          intercept=fit_intercept)
    Xr = X.astype(np.float32) if f32 else X
    y = Y_REG if task == "reg" else Y_CLF
    for r in range(len(y)):
        target = float(np.float32(y[r])) if f32 else float(y[r])
        model.learn_row(Xr[r], target, float(H[r]) if weighted else 1.0)
    return model


@pytest.fixture
def baseline(monkeypatch):
    monkeypatch.setattr(sgdlearn._engine, "kernel", _select.baseline)


# ----------------------------------------------------------------------------
# Per sample: Vowpal Wabbit's rule
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_float32_per_sample_is_vw_bit_for_bit(baseline, config, layout):
    """The portable build's float32 weights, intercept, N, G (VW's G is 4
    times this squared loss's), S and W are VW 9.11.9's bit for bit, given
    the kernel's prediction (KernelVWGD)."""
    task, params, args, weighted = CONFIGS[config]
    est = _fit(task, params, layout, np.float32, weighted)
    model = _replay(task, args, layout, True, weighted)
    state = est.optimizer_state_
    assert est.coef_.dtype == np.float32
    assert_array_equal(est.coef_.ravel(), model.w[:D])
    assert float(est.intercept_[0]) == float(model.w[D])
    factor = 4 if task == "reg" else 1  # (p - y)^2 vs (p - y)^2 / 2
    if "adaptive" in args or not args.startswith("--"):
        assert_array_equal(state["sum_sq_grad"].ravel() * factor, model.G[:D])
    if "normalized" in args or not args.startswith("--adaptive "):
        assert_array_equal(state["max_abs_x"].ravel(), model.N[:D])
        assert state["sum_norm_x"] == model.S
        assert state["total_weight"] == model.W


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("config", sorted(set(CONFIGS) - {"rate-50"}))
def test_float64_per_sample_is_the_same_rule(baseline, config, layout):
    """The float64 kernel (for the default flags: one division and one root
    per coordinate, rounded otherwise) against VWGD(f32=False).  Not '-l 50
    logistic': that stream is chaotic (the spec measures 0.16 between VW's
    float32 and a float64 replay)."""
    task, params, args, weighted = CONFIGS[config]
    est = _fit(task, params, layout, np.float64, weighted)
    model = _replay(task, args, layout, False, weighted)
    assert_allclose(est.coef_.ravel(), model.w[:D], rtol=1e-12, atol=1e-300)
    assert_allclose(est.intercept_[0], model.w[D], rtol=1e-12)
    assert_allclose(est.optimizer_state_["max_abs_x"].ravel(), model.N[:D],
                    rtol=0)


@pytest.mark.parametrize("task", ["reg", "clf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_l2_is_vws_contraction(baseline, task, dtype):
    """The estimator's L2 penalty is VW's --l2: the weight scale shrinks by
    1 - alpha eta_bar per update (no constant: VW's contraction scales it,
    sgdlearn's intercept is not penalized)."""
    alpha = float(np.float32(1e-3))  # VW's float lambda
    args = "--l2 1e-3" + (" --loss_function logistic" if task == "clf" else "")
    est = _fit(task, dict(alpha=alpha), "dense", dtype, False,
               fit_intercept=False)
    model = _replay(task, args, "dense", dtype == np.float32, False,
                    fit_intercept=False)
    effective = model.w[:D] * model.contraction
    assert model.contraction < 0.9
    # float64: 3.5e-9 on this stream, whose 1e3 feature scales amplify
    # rounding (without the penalty: 0, see above).
    rtol = 1e-6 if dtype == np.float32 else 1e-8
    assert_allclose(est.coef_.ravel(), effective, rtol=rtol)


def test_normalized_only_with_invscaling_is_vws_time_decay():
    """--normalized alone decays VW's rate by (t + h)^-power_t: with unit
    weights, learning_rate='invscaling' (power_t 0.5)."""
    params = dict(optimizer=Normalized(adaptive=False, invariant=False),
                  penalty=None, eta0=0.1, learning_rate="invscaling")
    args = "--normalized -l 0.1 --loss_function logistic"
    est = _fit("clf", params, "dense", np.float64, False)
    model = _replay("clf", args, "dense", False, False)
    assert_allclose(est.coef_.ravel(), model.w[:D], rtol=1e-12)


@pytest.mark.parametrize("config", ["default", "logistic-weighted"])
def test_avx2_build_agrees_to_rounding(monkeypatch, config):
    if _select.avx2 is None or not _select.cpu_has_avx2():
        pytest.skip("no AVX2/FMA build or CPU here")
    monkeypatch.setattr(sgdlearn._engine, "kernel", _select.avx2)
    task, params, args, weighted = CONFIGS[config]
    est = _fit(task, params, "dense", np.float32, weighted)
    model = _replay(task, args, "dense", True, weighted)
    assert_allclose(est.coef_.ravel(), model.w[:D], rtol=1e-4)


def test_vowpal_wabbit_itself():
    """vw 9.11.9 on the same stream (its text parser's floats; wide
    prediction bounds: sgdlearn does not clip): the float32 kernel agrees to
    float32 rounding of the prediction (VW sums it in float32)."""
    pytest.importorskip("vowpalwabbit")
    Xv = np.vectorize(lambda v: rn.vw_text_float(f"{v:.9g}"))(X)
    yv = np.array([rn.vw_text_float(f"{v:.9g}") for v in Y_REG])
    rows = [(list(np.flatnonzero(x)), list(x[np.flatnonzero(x)])) for x in Xv]
    for task, y, args in [("reg", yv, "--min_prediction -1e30 --max_prediction 1e30"),
                          ("clf", Y_CLF, "--loss_function logistic")]:
        _, w, const = rn.vw_replay(args, rows, y, D)
        Est = GDRegressor if task == "reg" else GDClassifier
        extra = {} if task == "reg" else {"loss": "log_loss"}
        est = Est(optimizer="normalized", penalty=None, **ONE, **extra).fit(
            Xv.astype(np.float32), y)
        assert_allclose(est.coef_.ravel(), w, rtol=2e-3)
        assert_allclose(est.intercept_[0], const, rtol=2e-3, atol=1e-5)


# ----------------------------------------------------------------------------
# Mini-batches, CSR, K outputs
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [7, "full"])
@pytest.mark.parametrize("task", ["reg", "clf"])
def test_mini_batch_is_the_batch_rule(task, batch_size, layout, fit_intercept):
    """float64, two epochs: the batch's mean gradient through the rates, G +=
    g^2 / mean(h), N, S, W from its rows first (batch_epoch)."""
    est = _fit(task, dict(penalty=None, batch_size=batch_size), layout,
               np.float64, True, fit_intercept=fit_intercept, max_iter=2)
    state = dict(w=np.zeros(D), b=0.0, G=np.zeros(D), Gb=0.0, N=np.zeros(D),
                 Nb=0.0, S=0.0, W=0.0)
    size = len(H) if batch_size == "full" else batch_size
    y = Y_REG if task == "reg" else Y_CLF
    for _ in range(2):
        rn.batch_epoch(state, X, y, H, 0.5, size,
                       "squared" if task == "reg" else "logistic", fit_intercept)
    assert_allclose(est.coef_.ravel(), state["w"], rtol=1e-11)
    assert_allclose(est.intercept_[0], state["b"], rtol=1e-11, atol=1e-300)
    got = est.optimizer_state_
    assert_allclose(got["sum_sq_grad"].ravel(), state["G"], rtol=1e-11)
    assert_array_equal(got["max_abs_x"].ravel(), state["N"])
    assert_allclose([got["sum_norm_x"], got["total_weight"]],
                    [state["S"], state["W"]], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_csr_equals_dense_exactly(baseline, dtype, batch_size):
    """Nothing to catch up: bit for bit on rows of at most two non-zeros
    (the dot products then add in the same order)."""
    rng = np.random.default_rng(7)
    Xd = np.zeros((80, 40))
    for i in range(80):
        cols = rng.choice(40, rng.integers(1, 3), replace=False)
        Xd[i, cols] = rng.normal(size=len(cols)) * 10.0 ** rng.integers(-2, 3)
    y = (Xd.sum(axis=1) > 0).astype(int)
    Xd = Xd.astype(dtype)
    params = dict(optimizer="normalized", loss="log_loss", batch_size=batch_size,
                  max_iter=3, tol=None, random_state=0)
    dense = GDClassifier(**params).fit(Xd, y)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(Xd), y)
    assert_array_equal(sparse.coef_, dense.coef_)
    assert_array_equal(sparse.intercept_, dense.intercept_)
    for name, value in dense.optimizer_state_.items():
        assert_array_equal(sparse.optimizer_state_[name], value, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multi_output_regression_is_independent_outputs(baseline, dtype):
    """With the squared loss no output skips a row, so the shared N, S, W are
    each output's own: every output is its single-output fit (bit for bit
    in float32; float64's single output takes the fused pass)."""
    noise = np.random.default_rng(4).normal(size=len(Y_REG))
    Y = np.column_stack([Y_REG, -2 * Y_REG + X[:, 0],
                         X[:, 3] + noise]).astype(dtype)
    params = dict(optimizer="normalized", penalty=None, **ONE)
    Xd = X.astype(dtype)
    both = GDRegressor(**params).fit(Xd, Y)
    same = (assert_array_equal if dtype == np.float32 else
            lambda a, b: assert_allclose(a, b, rtol=1e-12))
    for k in range(Y.shape[1]):
        one = GDRegressor(**params).fit(Xd, Y[:, k])
        same(both.coef_[k], one.coef_)
        same(both.intercept_[k], one.intercept_[0])
    assert_array_equal(both.optimizer_state_["max_abs_x"][0],
                       np.abs(Xd).max(axis=0))


@pytest.mark.parametrize("batch_size", [1, 16])
def test_one_vs_rest_and_multinomial_train_unscaled_digits(batch_size):
    Xd, y = load_digits(return_X_y=True)
    for multi in ("ovr", "multinomial"):
        clf = GDClassifier(optimizer="normalized", loss="log_loss",
                           multi_class=multi, batch_size=batch_size,
                           random_state=0, max_iter=20).fit(Xd, y)
        assert clf.score(Xd, y) > 0.93, (multi, clf.score(Xd, y))


# ----------------------------------------------------------------------------
# What the rule buys
@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("batch_size", [1, 10])
def test_scale_invariance(penalty, batch_size):
    """Multiplying each column by its own constant leaves the predictions
    unchanged (to rounding): the weights come out divided by it.  The L2
    penalty's shrink is the same for every weight, so it keeps this."""
    rng = np.random.default_rng(1)
    scales = 10.0 ** rng.uniform(-3, 3, D)
    params = dict(optimizer="normalized", loss="log_loss", penalty=penalty,
                  batch_size=batch_size, random_state=0, max_iter=5, tol=None)
    a = GDClassifier(**params).fit(X, Y_CLF)
    b = GDClassifier(**params).fit(X * scales, Y_CLF)
    assert_allclose(b.decision_function(X * scales), a.decision_function(X),
                    rtol=1e-9, atol=1e-12)
    assert_allclose(b.coef_.ravel() * scales, a.coef_.ravel(), rtol=1e-9)


def test_large_rates_do_not_overshoot():
    """Importance-invariant squared-loss steps never pass the target."""
    rng = np.random.default_rng(2)
    Xs = rng.normal(size=(200, 4)) * [1e-3, 1.0, 1e3, 10.0]
    y = Xs @ [1e3, -1.0, 2e-3, 0.5]
    for eta0 in (0.5, 1e3, 1e8):
        reg = GDRegressor(optimizer="normalized", penalty=None, eta0=eta0,
                          random_state=0, max_iter=20).fit(Xs, y)
        assert np.all(np.isfinite(reg.coef_))
        assert reg.score(Xs, y) > 0.99


def test_zero_weight_rows_change_nothing():
    sw = H.copy()
    sw[::3] = 0.0
    keep = sw > 0
    params = dict(optimizer="normalized", penalty=None, **ONE)
    a = GDRegressor(**params).fit(X, Y_REG, sample_weight=sw)
    b = GDRegressor(**params).fit(X[keep], Y_REG[keep], sample_weight=sw[keep])
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.optimizer_state_["max_abs_x"],
                       b.optimizer_state_["max_abs_x"])


# ----------------------------------------------------------------------------
# Estimator parameters
@pytest.mark.parametrize("loader, minimum", [(load_breast_cancer, 0.93),
                                             (load_wine, 0.95),
                                             (load_digits, 0.95)])
def test_defaults_train_unscaled_data(loader, minimum):
    """Every other parameter at its default, on the raw features (scales
    1e-3 to 4e3 for breast_cancer): VW's -l 0.5, constant, the default L2."""
    Xr, y = loader(return_X_y=True)
    clf = GDClassifier(optimizer="normalized", random_state=0).fit(Xr, y)
    assert clf.score(Xr, y) >= minimum
    for est in (clf, GDRegressor(optimizer="normalized")):
        assert resolve_rate(est, resolve_optimizer(est))[:2] == (0.5, "constant")
    obj = GDClassifier(optimizer=Normalized(), random_state=0).fit(Xr, y)
    assert_array_equal(obj.coef_, clf.coef_)
    assert Normalized().get_params() == dict(
        adaptive=True, normalized=True, invariant=True, exponent=0.5)


@pytest.mark.parametrize("params, match", [
    (dict(optimizer=Normalized(exponent=1.5)), "exponent"),
    (dict(optimizer=Normalized(adaptive="yes")), "adaptive"),
])
def test_bad_parameters_are_errors(params, match):
    clf = GDClassifier(**params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y_CLF)
    assert not hasattr(clf, "coef_")


@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_and_pickle_continue_the_state(sparse):
    Xl = sp.csr_matrix(X) if sparse else X
    params = dict(optimizer="normalized", shuffle=False, tol=None)
    fit = GDRegressor(max_iter=2, **params).fit(Xl, Y_REG, sample_weight=H)
    calls = GDRegressor(**params).partial_fit(Xl, Y_REG, sample_weight=H)
    calls = pickle.loads(pickle.dumps(calls)).partial_fit(Xl, Y_REG,
                                                          sample_weight=H)
    assert_array_equal(calls.coef_, fit.coef_)
    assert_array_equal(calls.intercept_, fit.intercept_)
    state, expected = calls.optimizer_state_, fit.optimizer_state_
    assert set(state) == {"step", "sum_norm_x", "total_weight", "sum_sq_grad",
                          "intercept_sum_sq_grad", "max_abs_x",
                          "intercept_max_abs_x"}
    for name, value in expected.items():
        assert_array_equal(state[name], value, err_msg=name)
    assert state["total_weight"] == pytest.approx(2 * H.sum(), rel=1e-12)
    assert state["step"] == 2 * len(Y_REG)
    assert state["intercept_max_abs_x"][0] == 1.0


def test_changed_flags_restart_the_state():
    est = GDRegressor(optimizer="normalized").partial_fit(X, Y_REG)
    est.set_params(optimizer=Normalized(exponent=0.4))
    est.partial_fit(X, Y_REG)
    assert est.optimizer_state_["step"] == len(Y_REG)
    est.set_params(optimizer=Normalized(exponent=0.4, invariant=False))
    est.partial_fit(X, Y_REG)  # invariance is no state's meaning
    assert est.optimizer_state_["step"] == 2 * len(Y_REG)


def test_dask_mixing_means_g_and_takes_the_largest_n():
    halves = (slice(0, 150), slice(150, 300))
    models = [GDClassifier(optimizer="normalized", loss="log_loss").partial_fit(
        X[h], Y_CLF[h], classes=[-1, 1]) for h in halves]
    mixed = mix(models, [0.5, 0.5])
    states = [m.optimizer_state_ for m in models]
    assert_allclose(mixed.optimizer_state_["sum_sq_grad"],
                    (states[0]["sum_sq_grad"] + states[1]["sum_sq_grad"]) / 2)
    assert_array_equal(mixed.optimizer_state_["max_abs_x"],
                       np.maximum(states[0]["max_abs_x"], states[1]["max_abs_x"]))
    latest = int(np.argmax([s["step"] for s in states]))
    assert mixed.optimizer_state_["sum_norm_x"] == states[latest]["sum_norm_x"]
    mixed.partial_fit(X, Y_CLF)
    assert np.all(np.isfinite(mixed.coef_))
