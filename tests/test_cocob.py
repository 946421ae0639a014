"""COCOB-Backprop (``optimizer='cocob'``, ``sgdlearn.optim.COCOB``): the
kernel against the NumPy rule (``tests/_reference.py``) on every path, the
authors' code (parameterfree 0.0.1, when installed), CSR against dense, the
rate parameters it does not read, starts from given weights, the state
across calls and pickles, and Dask mixing.  The generic tests (every
optimizer of the table) cover it too."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._dask_mixing import mix
from sgdlearn._kernels import _select
from sgdlearn._optim_table import cocob_weights
from sgdlearn.optim import COCOB
from sgdlearn.schedules import Step

from .conftest import assert_same_state, load_reference, snapshot

ref = load_reference()

SLOTS = ("sum_negative_gradients", "grad_norm_sum", "L", "reward", "x0")
TOL64 = dict(rtol=1e-10, atol=1e-13)
TOL32 = dict(rtol=2e-4, atol=2e-5)


def _data(seed=5, n=60, d=10, density=0.4):
    """Unscaled columns (scales 0.1 to 30): COCOB needs no scaling."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, d))
    X[rng.random((n, d)) >= density] = 0.0
    X[np.arange(n), rng.integers(0, d, n)] = rng.normal(0.0, 1.0, n)
    X *= np.logspace(-1, 1.5, d)
    coef = rng.normal(size=d) / np.logspace(-1, 1.5, d)
    y_reg = X @ coef + 0.3 + 0.1 * rng.normal(size=n)
    y_clf = (X @ coef + 0.2 * rng.normal(size=n) > 0).astype(int)
    return X, y_reg, y_clf, rng.uniform(0.5, 2.0, n)


X, Y_REG, Y_CLF, SW = _data()
Y3 = np.digitize(Y_REG, np.quantile(Y_REG, [1 / 3, 2 / 3]))


def _params(**params):
    return {"optimizer": "cocob", "shuffle": False, "tol": None,
            "max_iter": 3, **params}


def _reference(task, X, y, sw, n_epochs=3, **params):
    """The reference Model (tests/_reference.py) after n_epochs epochs."""
    params = {"penalty": "l2", **_params(**params)}  # the estimators' default
    for name in ("shuffle", "tol", "max_iter"):
        params.pop(name)
    params.setdefault("loss", "squared_error" if task == "reg" else "log_loss")
    model = ref.Model(X.shape[1], lazy=sp.issparse(X), **params)
    y = np.where(y == 1, 1.0, -1.0) if task == "clf" else y
    for _ in range(n_epochs):
        model.epoch(X, y, sw)
    return model


# ----------------------------------------------------------------------------
# The kernel is the NumPy rule, on every path
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("task", ["reg", "clf"])
def test_kernel_is_the_numpy_rule(task, batch_size, layout, penalty, dtype):
    """Per-sample, mini-batch and full batch (the rule on the batch's mean
    gradient), dense and CSR (the L2 gradient on the touched coordinates
    only), float64 to 1e-10 and float32 to its rounding."""
    Xl = sp.csr_matrix(X, dtype=dtype) if layout == "csr" else X.astype(dtype)
    Est, y = (GDRegressor, Y_REG) if task == "reg" else (GDClassifier, Y_CLF)
    params = dict(batch_size=batch_size, penalty=penalty, alpha=0.01)
    if task == "clf":
        params["loss"] = "log_loss"
    est = Est(**_params(**params)).fit(Xl, y, sample_weight=SW)
    params.pop("loss", None)
    model = _reference(task, sp.csr_matrix(X) if layout == "csr" else X, y,
                       SW, **params)
    tol = TOL64 if dtype == np.float64 else TOL32
    assert est.coef_.dtype == dtype
    assert_allclose(est.coef_.ravel(), model.coef, **tol)
    assert_allclose(est.intercept_[0], model.intercept, **tol)
    assert est.t_ == model.t
    state = est.optimizer_state_
    opt = model.opt_w
    for name, value in zip(SLOTS, (opt.theta, opt.G, opt.L, opt.reward,
                                   opt.x0), strict=True):
        assert_allclose(state[name].ravel(), value, **tol)


def test_averaged_cocob_is_the_average_of_its_iterates():
    est = GDRegressor(**_params(average=10)).fit(X, Y_REG, sample_weight=SW)
    model = _reference("reg", X, Y_REG, SW, average=10)
    assert_allclose(est.coef_, model.coef, **TOL64)
    assert_allclose(est.intercept_[0], model.intercept, **TOL64)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_one_vs_rest_is_one_rule_per_class(layout, batch_size):
    y = Y3
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    clf = GDClassifier(**_params(loss="hinge", batch_size=batch_size)).fit(
        Xl, y)
    assert clf.coef_.shape == (3, X.shape[1])
    for k in range(3):
        model = _reference("clf", Xl, (y == k).astype(int), None,
                           loss="hinge", batch_size=batch_size)
        assert_allclose(clf.coef_[k], model.coef, **TOL64)
        assert_allclose(clf.intercept_[k], model.intercept, **TOL64)


def _softmax_reference(X, y, sw, batch_size, epochs, alpha, lazy):
    n, d = X.shape
    K = len(np.unique(y))
    W, b = np.zeros((K, d)), np.zeros(K)
    opt_w, opt_b = ref.Optimizer("cocob", (K, d)), ref.Optimizer("cocob", K)
    size = n if batch_size == "full" else batch_size
    dense = X.toarray() if sp.issparse(X) else X
    for _ in range(epochs):
        for start in range(0, n, size):
            rows = np.arange(start, min(start + size, n))
            C = softmax(dense[rows] @ W.T + b, axis=1)
            C[np.arange(len(rows)), y[rows]] -= 1
            C *= sw[rows, None]
            present = np.ones((K, d), dtype=bool)
            if lazy:
                present[:] = False
                present[:, sp.csr_array(X)[rows].indices] = True
            opt_w.step(W, C.T @ dense[rows] / len(rows), 0.0, 1, alpha,
                       present)
            opt_b.step(b, C.mean(axis=0), 0.0, 1)
    return W, b


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
def test_multinomial_is_the_numpy_softmax_rule(layout, batch_size):
    y = Y3
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    clf = GDClassifier(**_params(loss="log_loss", multi_class="multinomial",
                                 batch_size=batch_size, alpha=0.01)).fit(
        Xl, y, sample_weight=SW)
    W, b = _softmax_reference(Xl, y, SW, batch_size, 3, 0.01,
                              layout == "csr")
    assert_allclose(clf.coef_, W, **TOL64)
    assert_allclose(clf.intercept_, b, **TOL64)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_multi_output_regression_is_one_rule_per_output(layout, batch_size):
    Y = np.c_[Y_REG, -2 * Y_REG + X[:, 0], 0.5 * X[:, 1]]
    Xl = sp.csr_matrix(X) if layout == "csr" else X
    reg = GDRegressor(**_params(batch_size=batch_size)).fit(Xl, Y)
    assert reg.coef_.shape == (3, X.shape[1])
    for k in range(3):
        model = _reference("reg", Xl, Y[:, k], None, batch_size=batch_size)
        assert_allclose(reg.coef_[k], model.coef, **TOL64)
        assert_allclose(reg.intercept_[k], model.intercept, **TOL64)
    assert reg.optimizer_state_["L"].shape == (3, X.shape[1])


# ----------------------------------------------------------------------------
# The authors' code
def _parameterfree_replay(X, y, loss, weight_decay, alpha=100.0):
    """Per-sample COCOB over the rows in order with parameterfree.COCOB on
    [w, b] (the intercept without the weight decay: its own group)."""
    torch = pytest.importorskip("torch")
    parameterfree = pytest.importorskip("parameterfree")
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = parameterfree.COCOB([{"params": [w], "weight_decay": weight_decay},
                               {"params": [b], "weight_decay": 0.0}],
                              alpha=alpha)
    for x, target in zip(X, y, strict=True):
        p = float(w.detach().numpy() @ x + b.detach().numpy()[0])
        dloss = ref.loss_grad(loss, p, target)[1]
        w.grad = torch.tensor(dloss * x, dtype=torch.float64)
        b.grad = torch.tensor([dloss], dtype=torch.float64)
        opt.step()
    return w.detach().numpy(), b.detach().numpy()[0]


@pytest.mark.parametrize("alpha", [100.0, 7.0])
@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("task", ["reg", "clf"])
def test_parameterfree_oracle(task, penalty, alpha):
    """One epoch in order equals parameterfree.COCOB (Orabona's code) fed the
    same per-sample gradients; the estimator's L2 penalty is its
    weight_decay."""
    Est, y = (GDRegressor, Y_REG) if task == "reg" else (GDClassifier, Y_CLF)
    loss = "squared_error" if task == "reg" else "log_loss"
    est = Est(**_params(loss=loss, penalty=penalty, alpha=0.01, max_iter=1,
                        optimizer=COCOB(alpha=alpha))).fit(X, y)
    yy = np.where(y == 1, 1.0, -1.0) if task == "clf" else y
    w, b = _parameterfree_replay(X, yy, loss, 0.01 if penalty else 0.0, alpha)
    assert_allclose(est.coef_.ravel(), w, rtol=1e-12, atol=1e-15)
    assert_allclose(est.intercept_[0], b, rtol=1e-12)


def test_first_update_bets_one_over_alpha():
    """The first update moves every coordinate with a gradient by exactly
    -sign(g) / alpha (from x0), whatever the gradient's size."""
    x = np.array([[1e-3, -5.0, 0.0, 300.0]])
    est = GDRegressor(**_params(optimizer=COCOB(alpha=20.0), max_iter=1,
                                penalty=None)).fit(
        x, [10.0], coef_init=[0.5, 0.5, 0.5, 0.5])
    dloss = x[0] @ np.full(4, 0.5) - 10.0  # p - y > 0
    g_sign = np.sign(dloss * x[0])
    expected = np.where(x[0] == 0, 0.5, 0.5 - g_sign / 20.0)
    assert_allclose(est.coef_, expected, rtol=1e-14)
    assert_allclose(est.intercept_, [-1 / 20.0], rtol=1e-14)


# ----------------------------------------------------------------------------
# Sparse input
@pytest.mark.parametrize("kernel", ["baseline", "auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_csr_equals_dense_without_penalty(monkeypatch, dtype, batch_size,
                                          kernel):
    """Without a penalty nothing drifts: CSR gives the dense result, bit for
    bit in the baseline build (rows of at most two non-zeros, so the dot
    products add in the same order); the AVX2 build's dense loops fuse
    multiply-adds that its sparse ones do not."""
    monkeypatch.setattr(sgdlearn._engine, "kernel", _select.select(kernel))
    rng = np.random.default_rng(7)
    Xd = np.zeros((80, 40))
    for i in range(80):
        Xd[i, rng.choice(40, rng.integers(1, 3), replace=False)] = rng.normal(
            size=1)
    y = (Xd.sum(axis=1) > 0).astype(int)
    Xd = Xd.astype(dtype)
    params = _params(loss="log_loss", batch_size=batch_size, penalty=None)
    dense = GDClassifier(**params).fit(Xd, y)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(Xd), y)
    same = assert_array_equal if kernel == "baseline" else (
        lambda a, b: assert_allclose(a, b, rtol=1e-12 if dtype == np.float64
                                     else 1e-5))
    same(sparse.coef_, dense.coef_)
    same(sparse.intercept_, dense.intercept_)
    for name, value in dense.optimizer_state_.items():
        same(sparse.optimizer_state_[name], value)


def test_csr_with_l2_is_lazy():
    """With the L2 penalty a dense update adds alpha * w to every
    coordinate's gradient; a CSR update to the row's stored columns only
    (untouched coordinates keep their state and weight)."""
    Xs = sp.csr_matrix(X)
    params = _params(alpha=0.05, max_iter=2)
    sparse = GDRegressor(**params).fit(Xs, Y_REG)
    dense = GDRegressor(**params).fit(X, Y_REG)
    assert not np.allclose(sparse.coef_, dense.coef_, rtol=1e-6)
    model = _reference("reg", Xs, Y_REG, None, alpha=0.05, n_epochs=2)
    assert_allclose(sparse.coef_, model.coef, **TOL64)
    # A column no row stores never moves, penalty or not.
    Xz = X.copy()
    Xz[:, 3] = 0.0
    est = GDRegressor(**params).fit(sp.csr_matrix(Xz), Y_REG,
                                    coef_init=np.ones(X.shape[1]))
    assert est.coef_[3] == 1.0
    assert est.optimizer_state_["grad_norm_sum"][3] == 0.0


def test_a_sparse_update_costs_the_rows_non_zeros():
    """Hashed features: 2**18 columns, 20 rows of 5 non-zeros per call; a
    partial_fit call touches 100 columns and leaves the others' state as it
    started (L at eps, x0 zero)."""
    rng = np.random.default_rng(0)
    d = 2 ** 18
    rows = [rng.choice(d, 5, replace=False) for _ in range(20)]
    Xs = sp.csr_matrix((rng.normal(size=100), np.concatenate(rows),
                        np.arange(0, 101, 5)), shape=(20, d))
    y = rng.integers(0, 2, 20)
    clf = GDClassifier(optimizer="cocob", penalty=None).partial_fit(
        Xs, y, classes=[0, 1])
    touched = np.unique(Xs.indices)
    state = clf.optimizer_state_
    untouched = np.setdiff1d(np.arange(d), touched)
    assert np.all(state["L"][0, untouched] == 1e-8)
    assert np.all(state["grad_norm_sum"][0, untouched] == 0)
    assert np.all(clf.coef_[0, untouched] == 0)
    assert np.count_nonzero(clf.coef_) == len(touched)


# ----------------------------------------------------------------------------
# No learning rate; the penalties it takes
def test_defaults_just_work(request):
    X_, y = request.getfixturevalue("breast_cancer")
    clf = GDClassifier(optimizer="cocob", random_state=0).fit(X_, y)
    assert clf.score(X_, y) > 0.97
    obj = GDClassifier(optimizer=COCOB(), random_state=0).fit(X_, y)
    assert_array_equal(obj.coef_, clf.coef_)
    assert COCOB().get_params() == dict(alpha=100.0, eps=1e-8)
    Xd, yd = request.getfixturevalue("diabetes")
    reg = GDRegressor(optimizer="cocob", random_state=0).fit(Xd, yd)
    assert reg.score(Xd, yd) > 0.45
    # The estimator's alpha is the penalty's: not COCOB's.
    est = GDClassifier(optimizer="cocob", alpha=1e-3).fit(X_, y)
    assert est.score(X_, y) > 0.95


def test_unscaled_features_train(request):
    """Raw breast cancer (feature scales 1e-3 to 1e3): no rate to tune."""
    from sklearn.datasets import load_breast_cancer

    X_, y = load_breast_cancer(return_X_y=True)
    clf = GDClassifier(optimizer="cocob", random_state=0).fit(X_, y)
    assert clf.score(X_, y) > 0.9


@pytest.mark.parametrize("params, match", [
    (dict(eta0=0.1), "eta0=0.1 is set on GDClassifier, but optimizer='cocob' "
     "has no learning rate"),
    (dict(learning_rate="constant"), "learning_rate='constant' is set"),
    (dict(learning_rate=Step()), "learning_rate=Step"),
    (dict(power_t=0.3), "power_t=0.3"),
    (dict(warmup_steps=10), "warmup_steps=10"),
    (dict(intercept_decay=0.5), "intercept_decay=0.5"),
    (dict(penalty="l1"), "penalty='l1' is set .* takes no L1 penalty"),
    (dict(penalty="elasticnet"), "penalty='elasticnet'"),
    (dict(optimizer=COCOB(alpha=-1.0)), "alpha"),
    (dict(optimizer=COCOB(eps=0.0)), "eps"),
    (dict(eps=1e-3), "eps=0.001 is set .*COCOB"),
    (dict(optimizer=COCOB(), eta0=1.0), "eta0=1.0 .* has no learning rate"),
])
def test_parameters_it_does_not_read_are_errors(params, match):
    clf = GDClassifier(**{"optimizer": "cocob", **params})
    before = snapshot(clf)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y_CLF)
    assert_same_state(clf, before)


def test_penalties_it_accepts():
    """penalty=None, 'l2', and 'elasticnet' without an L1 share (or with
    alpha=0) are accepted; 'l2' adds alpha * w to the gradient."""
    none = GDRegressor(**_params(penalty=None)).fit(X, Y_REG)
    zero = GDRegressor(**_params(penalty="l1", alpha=0.0)).fit(X, Y_REG)
    assert_array_equal(none.coef_, zero.coef_)
    l2 = GDRegressor(**_params(alpha=0.05)).fit(X, Y_REG)
    net = GDRegressor(**_params(penalty="elasticnet", l1_ratio=0.0,
                                alpha=0.05)).fit(X, Y_REG)
    assert_array_equal(l2.coef_, net.coef_)
    assert np.linalg.norm(l2.coef_) < np.linalg.norm(none.coef_)


def test_failed_partial_fit_leaves_the_model():
    clf = GDClassifier(**_params()).partial_fit(X, Y_CLF, classes=[0, 1])
    before = pickle.dumps(clf)
    coef, state = clf.coef_.copy(), clf.optimizer_state_["reward"].copy()
    clf.set_params(eta0=0.5)
    with pytest.raises(ValueError, match="eta0=0.5"):
        clf.partial_fit(X, Y_CLF)
    clf.set_params(eta0=GDClassifier().eta0)
    assert_array_equal(clf.coef_, coef)
    assert_array_equal(clf.optimizer_state_["reward"], state)
    clf.partial_fit(X, Y_CLF)
    again = pickle.loads(before).partial_fit(X, Y_CLF)
    assert_array_equal(clf.coef_, again.coef_)


def test_lr_find_says_there_is_no_rate():
    from sgdlearn import lr_find

    with pytest.raises(ValueError, match="has no learning rate to find"):
        lr_find(GDClassifier(optimizer="cocob"), X, Y_CLF)


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
    state = calls.optimizer_state_
    assert set(state) == {"step", *SLOTS, *("intercept_" + s for s in SLOTS)}
    for name in state:
        assert_array_equal(state[name], fit.optimizer_state_[name])
    assert state["step"] == 2 * len(Y_REG)


def test_weights_are_the_function_of_the_state():
    est = GDClassifier(**_params(loss="log_loss", alpha=0.01)).fit(X, Y_CLF)
    state = est.optimizer_state_
    hp = dict(alpha=100.0, eps=1e-8)
    assert_allclose(est.coef_, cocob_weights(hp, None, tuple(
        state[s] for s in SLOTS)), rtol=1e-13, atol=1e-15)
    assert_allclose(est.intercept_, cocob_weights(hp, None, tuple(
        state["intercept_" + s] for s in SLOTS)), rtol=1e-13)
    assert np.all(state["L"] >= 1e-8) and np.all(state["reward"] >= 0)
    assert np.all(state["grad_norm_sum"] >= np.abs(
        state["sum_negative_gradients"]))


def test_start_from_given_weights():
    """coef_init (x0 = coef_init), or another optimizer's weights on a warm
    start (x0 = its weights): a column no row touches keeps its weight."""
    Xz = X.copy()
    Xz[:, 0] = 0.0
    coef_init = np.linspace(-1.0, 1.0, X.shape[1])
    est = GDRegressor(**_params(penalty=None)).fit(
        Xz, Y_REG, coef_init=coef_init, intercept_init=0.7)
    assert_array_equal(est.optimizer_state_["x0"], coef_init)
    assert est.optimizer_state_["intercept_x0"][0] == 0.7
    assert est.coef_[0] == coef_init[0]
    model = ref.Model(X.shape[1], optimizer="cocob", coef=coef_init,
                      intercept=0.7)
    for _ in range(3):
        model.epoch(Xz, Y_REG)
    assert_allclose(est.coef_, model.coef, **TOL64)
    sgd = GDRegressor(optimizer="sgd", learning_rate="constant", eta0=0.001,
                      max_iter=3, tol=None, random_state=0).fit(
        Xz, Y_REG, coef_init=coef_init)
    start, start_b = sgd.coef_.copy(), sgd.intercept_.copy()
    sgd.set_params(optimizer="cocob", warm_start=True, penalty=None,
                   learning_rate=GDRegressor().learning_rate,
                   eta0=GDRegressor().eta0)
    sgd.fit(Xz, Y_REG)
    assert_array_equal(sgd.optimizer_state_["x0"], start)
    assert_array_equal(sgd.optimizer_state_["intercept_x0"], start_b)
    assert sgd.coef_[0] == start[0] != 0


def test_changed_alpha_restarts_from_the_current_weights():
    est = GDRegressor(**_params()).partial_fit(X, Y_REG)
    current = est.coef_.copy()
    est.set_params(optimizer=COCOB(alpha=10.0))
    est.partial_fit(X, Y_REG)
    assert_array_equal(est.optimizer_state_["x0"], current)
    assert est.optimizer_state_["step"] == len(Y_REG)


# ----------------------------------------------------------------------------
# Dask mixing: L by maximum, the other slots by mean; weights recomputed
def test_mixing_combines_the_slots_and_recomputes_the_weights():
    halves = (slice(0, 30), slice(30, 60))
    models = [GDClassifier(**_params(alpha=0.01)).partial_fit(
        X[h], Y_CLF[h], classes=[0, 1]) for h in halves]
    mixed = mix(models, [0.25, 0.75])
    states = [m.optimizer_state_ for m in models]
    for prefix in ("", "intercept_"):
        for name in SLOTS:
            a, b = (s[prefix + name] for s in states)
            expected = np.maximum(a, b) if name == "L" else 0.25 * a + 0.75 * b
            assert_allclose(mixed.optimizer_state_[prefix + name], expected,
                            rtol=1e-15)
    hp = dict(alpha=100.0, eps=1e-8)
    state = mixed.optimizer_state_
    assert_allclose(mixed.coef_, cocob_weights(hp, None, tuple(
        state[s] for s in SLOTS)), rtol=1e-15)
    assert_allclose(mixed.intercept_, cocob_weights(hp, None, tuple(
        state["intercept_" + s] for s in SLOTS)), rtol=1e-15)
    mixed.partial_fit(X, Y_CLF)
    assert np.all(np.isfinite(mixed.coef_))


def test_divergence_advice_names_no_rate():
    """Inputs near the float64 limit overflow the gradients: the error's
    advice is about the data, not a learning rate COCOB does not have."""
    from sgdlearn import DivergenceError

    Xh = X * 1e300
    with pytest.raises(DivergenceError) as info:
        GDRegressor(**_params(max_iter=1)).fit(Xh, Y_REG * 1e300)
    message = str(info.value)
    assert "has no learning rate" in message and "StandardScaler" in message
    assert "lower eta0" not in message
