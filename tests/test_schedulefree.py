"""Schedule-free SGD and AdamW (``optimizer='sgd_schedulefree'`` /
``'adamw_schedulefree'``, ``sgdlearn.optim.SGDScheduleFree`` /
``AdamWScheduleFree``): every kernel path against the NumPy rule
(``tests/_reference_sf.py``), trajectories against the ``schedulefree``
package when installed, CSR against dense (the O(1) catch-up), the
prediction point x, the errors, warm starts, pickling and Dask mixing.  The
generic tests (every optimizer of the table) cover them too."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._dask_mixing import mix
from sgdlearn._kernels import _select
from sgdlearn._optim_table import sf_weights
from sgdlearn.optim import AdamWScheduleFree, SGDScheduleFree
from sgdlearn.schedules import OneCycleLR

from .conftest import load_reference, load_test_module

load_reference()  # registers the module _reference_sf imports from


ref = load_test_module("_reference_sf")
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

RULES = {"sgd": SGDScheduleFree, "adamw": AdamWScheduleFree}
NAMES = {"sgd": "sgd_schedulefree", "adamw": "adamw_schedulefree"}
# Hyperparameters off their defaults (warm-up, r and weight_lr_power too).
HP = {"sgd": dict(momentum=0.8, r=0.5, weight_lr_power=1.0),
      "adamw": dict(beta_1=0.85, beta_2=0.99, eps=1e-6, r=1.0)}
ETA = {"sgd": 0.05, "adamw": 0.02}
TOL64 = dict(rtol=1e-10, atol=1e-12)


def _data(seed=5, n=60, d=10, density=0.4):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.8, (n, d))
    X[rng.random((n, d)) >= density] = 0.0
    X[np.arange(n), rng.integers(0, d, n)] = rng.normal(0.0, 0.8, n)
    coef = rng.normal(size=(d, 2))
    scores = X @ coef + 0.1 * rng.normal(size=(n, 2))
    return (X, scores, (scores[:, 0] > 0).astype(int),
            np.digitize(scores[:, 0], [-0.5, 0.5]), rng.uniform(0.5, 2.0, n))


X, Y2, Y_BIN, Y_THREE, SW = _data()


def _est(Est, rule, **params):
    base = dict(optimizer=RULES[rule](**HP[rule]), eta0=ETA[rule],
                learning_rate="constant", shuffle=False, tol=None, max_iter=3,
                intercept_decay=1.0, warmup_steps=7, alpha=1e-3)
    return Est(**{**base, **params})


def _ref(rule, d, K=1, lazy=False, **params):
    base = dict(rule=rule, eta0=ETA[rule], warmup_steps=7, alpha=1e-3,
                intercept_decay=1.0, lazy=lazy, **HP[rule])
    return ref.SFModel(d, K, **{**base, **params})


def _check_state(est, models, rows_of=None, tol=TOL64):
    """coef_ (x), intercept_, and every state array against the reference
    models (one per problem, stacked in row order)."""
    coef = np.vstack([m.coef for m in models])
    intercept = np.concatenate([m.intercept for m in models])
    assert_allclose(np.atleast_2d(est.coef_), coef, **tol)
    assert_allclose(est.intercept_, intercept, **tol)
    state = est.optimizer_state_
    for name in models[0].state():
        if name in ("step", "lr_max", "weight_sum"):
            assert_allclose(state[name], models[0].state()[name], rtol=1e-13)
            continue
        expected = np.concatenate([np.ravel(m.state()[name]) for m in models])
        assert_allclose(np.ravel(state[name]), expected, **tol, err_msg=name)


# ----------------------------------------------------------------------------
# Every kernel path is the NumPy rule
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_binary_is_the_rule(rule, batch_size, layout):
    """float64, per-sample, mini-batch and full batch, dense and CSR (with
    the L2 decay: touched coordinates only on CSR), sample weights,
    warm-up, r, weight_lr_power; coef_ is x, the state y, z (v)."""
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    est = _est(GDClassifier, rule, loss="log_loss", batch_size=batch_size)
    est.fit(Xl, Y_BIN, sample_weight=SW)
    model = _ref(rule, X.shape[1], lazy=layout == "csr", batch_size=batch_size)
    target = np.where(Y_BIN == 1, 1.0, -1.0)
    at_x, progressive = [], []
    for _ in range(3):
        at_x.append(model.epoch(Xl, target, SW))
        progressive.append(model.progressive)
    _check_state(est, [model])
    # tol=None: the losses the updates met (at y), plus the penalty of x.
    assert_allclose(est.loss_curve_, progressive, rtol=1e-10)
    assert est.t_ == model.t
    # With tol, the stopping test's objective is at x (tol=0 stops nothing
    # here: the objective keeps falling).
    est = _est(GDClassifier, rule, loss="log_loss", batch_size=batch_size,
               tol=0.0, n_iter_no_change=5).fit(Xl, Y_BIN, sample_weight=SW)
    assert_allclose(est.loss_curve_, at_x, rtol=1e-10)
    _check_state(est, [model])


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_one_vs_rest_multinomial_multioutput_are_the_rule(rule, layout):
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    lazy, d = layout == "csr", X.shape[1]
    # One-vs-rest: one independent problem per class.
    est = _est(GDClassifier, rule, loss="hinge").fit(Xl, Y_THREE)
    models = []
    for c in range(3):
        model = _ref(rule, d, lazy=lazy, loss="hinge")
        for _ in range(3):
            model.epoch(Xl, np.where(Y_THREE == c, 1.0, -1.0))
        models.append(model)
    _check_state(est, models)
    # Multinomial: one problem of three rows.
    est = _est(GDClassifier, rule, loss="log_loss", multi_class="multinomial",
               batch_size=4).fit(Xl, Y_THREE)
    model = _ref(rule, d, 3, lazy=lazy, multinomial=True, batch_size=4)
    for _ in range(3):
        model.epoch(Xl, Y_THREE)
    _check_state(est, [model])
    # Multi-output regression: one problem of two rows.
    est = _est(GDRegressor, rule, loss="huber", epsilon=0.5).fit(Xl, Y2)
    model = _ref(rule, d, 2, lazy=lazy, loss="huber", epsilon=0.5)
    for _ in range(3):
        model.epoch(Xl, Y2)
    _check_state(est, [model])


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_float32_follows_the_rule(rule, layout):
    X32 = X.astype(np.float32)
    Xl = sp.csr_matrix(X32) if layout == "csr" else X32
    est = _est(GDRegressor, rule, loss="squared_error", batch_size=3).fit(
        Xl, Y2[:, 0])
    assert est.coef_.dtype == np.float32
    model = _ref(rule, X.shape[1], lazy=layout == "csr", loss="squared_error",
                 batch_size=3)
    X64 = X32.astype(np.float64)
    for _ in range(3):
        model.epoch(sp.csr_matrix(X64) if layout == "csr" else X64, Y2[:, 0])
    _check_state(est, [model], tol=dict(rtol=2e-4, atol=2e-5))


@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_schedules_other_than_constant_enter_as_the_rate(rule):
    """A decaying schedule is allowed: it gives lr_k (and lr_max the
    largest), as a torch scheduler on schedulefree's optimizer would."""
    # (A classifier: the regressor's default 'invscaling' would resolve to
    # the rule's own constant rate, see resolve_rate.)
    est = _est(GDClassifier, rule, learning_rate="invscaling", power_t=0.4,
               loss="log_loss").fit(X, Y_BIN)
    model = _ref(rule, X.shape[1], learning_rate="invscaling", power_t=0.4)
    for _ in range(3):
        model.epoch(X, np.where(Y_BIN == 1, 1.0, -1.0))
    _check_state(est, [model])


# ----------------------------------------------------------------------------
# The real implementation, when installed
@pytest.mark.parametrize("case", [
    ("sgd", dict(), 0.0, 0),
    ("sgd", dict(momentum=0.5, r=0.5, weight_lr_power=0.0), 1e-2, 9),
    ("adamw", dict(), 0.0, 0),
    ("adamw", dict(beta_1=0.8, beta_2=0.99, r=1.0), 1e-2, 15),
])
def test_trajectory_is_schedulefree(case):
    """Per-sample, rows in order, two epochs: coef_/intercept_ equal
    schedulefree's eval-mode parameters, and y, z its train-mode
    parameters and state, to 1e-10 (float64)."""
    pytest.importorskip("torch")
    pytest.importorskip("schedulefree")
    rule, hp, alpha, warmup = case
    eta0 = 0.5 if rule == "sgd" else 0.05
    est = GDClassifier(optimizer=RULES[rule](**hp), eta0=eta0,
                       learning_rate="constant", loss="log_loss", alpha=alpha,
                       penalty="l2" if alpha else None, warmup_steps=warmup,
                       shuffle=False, tol=None, max_iter=2,
                       intercept_decay=1.0).fit(X, Y_BIN)
    x, xb, y, yb, z, zb = ref.torch_replay(
        rule, X, np.where(Y_BIN == 1, 1.0, -1.0), np.zeros(X.shape[1]),
        np.zeros(1), n_epochs=2, eta0=eta0, alpha=alpha,
        warmup_steps=warmup, **hp)
    state = est.optimizer_state_
    assert_allclose(est.coef_[0], x, **TOL64)
    assert_allclose(est.intercept_, xb, **TOL64)
    assert_allclose(state["y"][0], y, **TOL64)
    assert_allclose(state["intercept_y"], yb, **TOL64)
    assert_allclose(state["z"][0], z, **TOL64)
    assert_allclose(state["intercept_z"], zb, **TOL64)


# ----------------------------------------------------------------------------
# CSR: the O(1) catch-up
def _sparse_data(n=300, d=400, nnz=5, seed=3):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz)
    cols = np.concatenate([rng.choice(d, nnz, replace=False) for _ in range(n)])
    Xs = sp.csr_matrix((rng.normal(size=n * nnz), (rows, cols)), shape=(n, d))
    y = (Xs @ rng.normal(size=d) > 0).astype(int)
    return Xs, y


@pytest.mark.parametrize("kernel", ["baseline", "auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 8])
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_csr_equals_dense_without_decay(monkeypatch, rule, batch_size, dtype,
                                        kernel):
    """Coordinates untouched for many updates (5 of 400 columns per row):
    with penalty=None the sparse result is the dense one to round-off,
    state included, in both builds; partial_fit continues it."""
    monkeypatch.setattr(sgdlearn._engine, "kernel", _select.select(kernel))
    Xs, y = _sparse_data()
    Xs = Xs.astype(dtype)
    params = dict(penalty=None, batch_size=batch_size, random_state=0)
    dense = _est(GDClassifier, rule, **params).fit(Xs.toarray(), y)
    sparse = _est(GDClassifier, rule, **params).fit(Xs, y)
    dense.partial_fit(Xs[:50].toarray(), y[:50])
    sparse.partial_fit(Xs[:50], y[:50])
    tol = dict(rtol=1e-10, atol=1e-13) if dtype == np.float64 else dict(
        rtol=1e-4, atol=1e-6)
    assert_allclose(sparse.coef_, dense.coef_, **tol)
    assert_allclose(sparse.intercept_, dense.intercept_, **tol)
    for name, value in dense.optimizer_state_.items():
        assert_allclose(sparse.optimizer_state_[name], value, **tol,
                        err_msg=name)


@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_csr_decay_applies_to_touched_coordinates_only(rule):
    """With alpha > 0 there is no O(1) catch-up of the decay: on CSR only
    the coordinates an update touches decay (the lazy reference), which
    differs from the dense fit."""
    Xs, y = _sparse_data(n=120, d=60)
    params = dict(alpha=0.05, max_iter=2, loss="log_loss")
    sparse = _est(GDClassifier, rule, **params).fit(Xs, y)
    dense = _est(GDClassifier, rule, **params).fit(Xs.toarray(), y)
    target = np.where(y == 1, 1.0, -1.0)
    lazy = _ref(rule, 60, lazy=True, alpha=0.05)
    full = _ref(rule, 60, alpha=0.05)
    for _ in range(2):
        lazy.epoch(Xs, target)
        full.epoch(Xs.toarray(), target)
    _check_state(sparse, [lazy])
    _check_state(dense, [full])
    assert np.abs(sparse.coef_ - dense.coef_).max() > 1e-4


# ----------------------------------------------------------------------------
# x is the model; the state carries y, z
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_coef_is_x_of_the_state(rule, breast_cancer):
    Xb, yb = breast_cancer
    est = GDClassifier(optimizer=NAMES[rule], random_state=0).fit(Xb, yb)
    state = est.optimizer_state_
    hp = dict(momentum=0.9) if rule == "sgd" else dict(beta_1=0.9)
    slots = ((state["z"], state["y"]) if rule == "sgd" else
             (state["z"], state["exp_avg_sq"], state["y"]))
    assert_allclose(est.coef_, sf_weights(hp, 0.0, slots), rtol=1e-12)
    assert not np.allclose(est.coef_, state["y"])
    decision = Xb @ est.coef_.ravel() + est.intercept_
    assert_allclose(est.decision_function(Xb), decision)
    assert est.score(Xb, yb) > 0.95


@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_fit_is_repeated_partial_fit_and_pickles(rule):
    params = dict(loss="log_loss", max_iter=1)
    one = _est(GDClassifier, rule, **params).fit(X, Y_BIN)
    for _ in range(2):
        one.partial_fit(X, Y_BIN)
    fitted = _est(GDClassifier, rule, **{**params, "max_iter": 3}).fit(X, Y_BIN)
    assert_array_equal(one.coef_, fitted.coef_)
    copy = pickle.loads(pickle.dumps(one))
    copy.partial_fit(X, Y_BIN)
    one.partial_fit(X, Y_BIN)
    assert_array_equal(copy.coef_, one.coef_)
    for name, value in one.optimizer_state_.items():
        assert_array_equal(copy.optimizer_state_[name], value)
    assert one.optimizer_state_["step"] == 4 * X.shape[0]


@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_starts_from_given_weights(rule):
    """coef_init (and another optimizer's fit on a warm start) give z = y =
    x = the start; with the same optimizer a warm start continues y, z."""
    w0 = np.linspace(-1, 1, X.shape[1])
    est = _est(GDClassifier, rule, loss="log_loss").fit(
        X, Y_BIN, coef_init=w0, intercept_init=[0.3])
    model = _ref(rule, X.shape[1], coef=w0, intercept=[0.3])
    target = np.where(Y_BIN == 1, 1.0, -1.0)
    for _ in range(3):
        model.epoch(X, target)
    _check_state(est, [model])
    # Warm start from another optimizer's fit: z = y = its coef_.
    est = GDClassifier(optimizer="adam", eta0=0.01, shuffle=False, tol=None,
                       max_iter=2, warm_start=True).fit(X, Y_BIN)
    start, b = est.coef_.copy(), est.intercept_.copy()
    est.set_params(**{k: v for k, v in _est(GDClassifier, rule).get_params()
                      .items() if k not in ("warm_start", "loss")})
    est.fit(X, Y_BIN)
    model = _ref(rule, X.shape[1], coef=start, intercept=b, loss="hinge")
    for _ in range(3):
        model.epoch(X, target)
    _check_state(est, [model])
    # Same optimizer, warm start: continues the state; fit restarts the
    # schedule's clock t_ (so the warm-up), as for every optimizer.
    cont = est.fit(X, Y_BIN)
    model.t = 1
    for _ in range(3):
        model.epoch(X, target)
    _check_state(cont, [model])
    # Explicit coef_init beside a warm start: a fresh state from it.
    cont.fit(X, Y_BIN, coef_init=w0, intercept_init=[0.3])
    fresh = _ref(rule, X.shape[1], coef=w0, intercept=[0.3], loss="hinge")
    for _ in range(3):
        fresh.epoch(X, target)
    _check_state(cont, [fresh])


def test_tol_and_early_stopping_judge_x(breast_cancer):
    """With tol, the objective in loss_curve_ is the training objective at
    x after each epoch (what tol compares), and early stopping scores x."""
    Xb, yb = breast_cancer
    est = GDClassifier(optimizer="sgd_schedulefree", loss="log_loss",
                       random_state=0, max_iter=4, tol=0.0,
                       n_iter_no_change=10).fit(Xb, yb)
    p = Xb @ est.coef_.ravel() + est.intercept_[0]
    target = np.where(yb == 1, 1.0, -1.0)
    objective = np.mean(np.logaddexp(0, -target * p)) + 0.5e-4 * (
        est.coef_ ** 2).sum()
    assert_allclose(est.loss_curve_[-1], objective, rtol=1e-10)
    stopped = GDClassifier(optimizer="adamw_schedulefree", random_state=0,
                           early_stopping=True, n_iter_no_change=2,
                           max_iter=50).fit(Xb, yb)
    assert stopped.n_iter_ < 50
    assert max(stopped.validation_scores_) == stopped.best_validation_score_


# ----------------------------------------------------------------------------
# What schedule-free does not take, and the defaults
@pytest.mark.parametrize("rule", ["sgd_schedulefree", "adamw_schedulefree"])
@pytest.mark.parametrize("params, message", [
    (dict(average=True), "already predicts with an average"),
    (dict(average=10), "already predicts with an average"),
    (dict(penalty="l1"), "takes the L2 penalty only"),
    (dict(penalty="elasticnet", l1_ratio=0.5), "takes the L2 penalty only"),
    (dict(learning_rate=OneCycleLR(total_steps=100)),
     "cycles the momentum"),
    (dict(learning_rate="pa1", loss="hinge"), "passive-aggressive"),
    (dict(momentum=0.5), "does not read the estimator's momentum"),
    (dict(beta_2=0.9), "does not read the estimator's beta_2"),
])
def test_errors_leave_the_model_unchanged(rule, params, message):
    if "momentum" in params and rule != "sgd_schedulefree":
        params = dict(beta_1=0.5)
        message = "does not read the estimator's beta_1"
    if "beta_2" in params and rule == "sgd_schedulefree":
        pytest.skip("SGD-SF has no beta_2 (the flat one is simply not read)")
    est = GDClassifier(optimizer=rule, max_iter=2, tol=None).fit(X, Y_BIN)
    est.set_params(**params)
    before = pickle.dumps(est.__dict__)
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y_BIN)
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X, Y_BIN)
    assert pickle.dumps(est.__dict__) == before


@pytest.mark.parametrize("params", [dict(momentum=0.0), dict(momentum=1.0),
                                    dict(r=-1.0)])
def test_bad_hyperparameters(params):
    with pytest.raises(ValueError):
        GDClassifier(optimizer=SGDScheduleFree(**params)).fit(X, Y_BIN)
    with pytest.raises(ValueError):
        GDClassifier(optimizer=AdamWScheduleFree(
            **{("beta_1" if k == "momentum" else k): v
               for k, v in params.items()})).fit(X, Y_BIN)


def test_string_is_the_object_with_defaults():
    a = GDClassifier(optimizer="adamw_schedulefree", random_state=0).fit(X, Y_BIN)
    b = GDClassifier(optimizer=AdamWScheduleFree(), random_state=0).fit(X, Y_BIN)
    assert_array_equal(a.coef_, b.coef_)
    c = GDClassifier(optimizer="sgd_schedulefree", random_state=0).fit(X, Y_BIN)
    d = GDClassifier(optimizer=SGDScheduleFree(), random_state=0).fit(X, Y_BIN)
    assert_array_equal(c.coef_, d.coef_)


@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_changing_beta_restarts_the_state(rule):
    est = _est(GDClassifier, rule, warm_start=True).fit(X, Y_BIN)
    start, b = est.coef_.copy(), est.intercept_.copy()
    hp = dict(HP[rule])
    hp["momentum" if rule == "sgd" else "beta_1"] = 0.7
    est.set_params(optimizer=RULES[rule](**hp)).fit(X, Y_BIN)
    model = ref.SFModel(X.shape[1], 1, rule=rule, eta0=ETA[rule],
                        warmup_steps=7, alpha=1e-3, loss="hinge",
                        coef=start, intercept=b, **hp)
    target = np.where(Y_BIN == 1, 1.0, -1.0)
    for _ in range(3):
        model.epoch(X, target)
    _check_state(est, [model])


# ----------------------------------------------------------------------------
# Dask mixing
@pytest.mark.parametrize("rule", ["sgd", "adamw"])
def test_mixing_means_y_z_v_and_recomputes_x(rule):
    a = _est(GDClassifier, rule).fit(X[:30], Y_BIN[:30])
    b = _est(GDClassifier, rule).fit(X[30:], Y_BIN[30:])
    mixed = mix([a, b], np.array([0.25, 0.75]))
    sa, sb, sm = a.optimizer_state_, b.optimizer_state_, mixed.optimizer_state_
    for name in ("z", "y"):
        assert_allclose(sm[name], 0.25 * sa[name] + 0.75 * sb[name], rtol=1e-12)
    assert_allclose(mixed.coef_, 0.25 * a.coef_ + 0.75 * b.coef_, rtol=1e-10,
                    atol=1e-14)
    assert sm["step"] == max(sa["step"], sb["step"])
    assert sm["weight_sum"] in (sa["weight_sum"], sb["weight_sum"])
    mixed.partial_fit(X, Y_BIN)  # continues from the mixed state
    assert np.isfinite(mixed.coef_).all()
