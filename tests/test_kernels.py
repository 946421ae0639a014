"""The compiled kernels against the NumPy reference of docs/algorithm.rst
(``tests/_reference.py``): losses, schedules, and whole trajectories of
every optimizer x batch mode x dtype x layout x penalty x averaging."""


import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn import _kernel_args as kernel_args
from sgdlearn._data import kernel_rows
from sgdlearn._kernels import _loss, _schedule
from sgdlearn._resolve import resolve_optimizer

from .conftest import NO_L1, OPTIMIZER_CASES, load_reference, without_rate

LossKind, py_loss_grad, py_softmax_grad = (
    _loss.LossKind, _loss.py_loss_grad, _loss.py_softmax_grad)
ScheduleKind, py_eta = _schedule.ScheduleKind, _schedule.py_eta




ref = load_reference()

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12),
       np.float32: dict(rtol=1e-4, atol=1e-6)}

OPTIMIZERS = OPTIMIZER_CASES
ADAM_LIKE = ("adam", "amsgrad", "adamw")
REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
CLASSIFICATION_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge",
                         "perceptron")
SCHEDULES = ("constant", "optimal", "invscaling", "adaptive", "step",
             "exponential", "cosine")


# ----------------------------------------------------------------------------
# Data: tiny, weighted; the sparse set has rows touching few of its columns
def _make_data(seed=0, n=36, d=6, density=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.6, (n, d))
    if density is not None:
        X[rng.random((n, d)) >= density] = 0.0
        X[np.arange(n), rng.integers(0, d, n)] = rng.normal(0.0, 0.6, n)
    coef = rng.normal(size=d)
    y_reg = X @ coef + 0.5 + 0.1 * rng.normal(size=n)
    y_clf = (X @ coef + 0.3 * rng.normal(size=n) > 0).astype(int)
    sample_weight = rng.uniform(0.5, 2.0, n)
    return X, y_reg, y_clf, sample_weight


X_DENSE, Y_REG, Y_CLF, SW = _make_data()
XS, YS_REG, YS_CLF, SWS = _make_data(seed=1, n=40, d=12, density=0.2)


def _with_explicit_zeros(X, seed=2, n_zeros=12):
    """CSR of X storing some zeros explicitly: they count as present."""
    rng = np.random.default_rng(seed)
    coo = sp.coo_matrix(X)
    zero_rows, zero_cols = np.nonzero(X == 0)
    pick = rng.choice(len(zero_rows), n_zeros, replace=False)
    rows = np.concatenate([coo.row, zero_rows[pick]])
    cols = np.concatenate([coo.col, zero_cols[pick]])
    data = np.concatenate([coo.data, np.zeros(n_zeros)])
    return sp.csr_matrix((data, (rows, cols)), shape=X.shape)


XS_CSR = _with_explicit_zeros(XS)
assert XS_CSR.nnz == np.count_nonzero(XS) + 12


# ----------------------------------------------------------------------------
# Helpers: the estimator and the reference on the same problem
def _estimator(task, n_epochs, **params):
    Est = GDClassifier if task == "clf" else GDRegressor
    return Est(shuffle=False, tol=None, max_iter=n_epochs, **params)


def _reference_targets(task, X, y):
    if task == "clf":
        return np.where(y == np.unique(y)[1], 1.0, -1.0)
    return np.asarray(y, dtype=X.dtype).astype(np.float64)  # the kernel's y


def _reference(task, X, y, sw, n_epochs, lazy=False, **params):
    """The reference Model after n_epochs epochs on X (of the estimator's
    dtype), rows in order."""
    decay = params.pop("intercept_decay", "auto")
    if decay == "auto":  # 1 on CSR too where the intercept is a feature
        decay = 0.01 if sp.issparse(X) and not _row(params).intercept_feature else 1.0
    model = ref.Model(X.shape[1], lazy=lazy, intercept_decay=decay, **params)
    X64 = X.astype(np.float64)
    y_ref = _reference_targets(task, X, y)
    for _ in range(n_epochs):
        model.epoch(X64, y_ref, sw)
    return model


def _assert_model(est, model, dtype=np.float64):
    assert np.any(model.coef != 0)
    assert_allclose(est.coef_.ravel(), model.coef, **TOL[dtype])
    assert_allclose(est.intercept_[0], model.intercept, **TOL[dtype])
    assert est.t_ == model.t


def check_against_reference(task, X, y, sw, n_epochs=3, lazy=None, **params):
    """Fit the estimator (shuffle=False, tol=None) and compare coef_,
    intercept_ and t_ with the reference."""
    dtype = X.dtype.type
    est = _estimator(task, n_epochs, **params).fit(X, y, sample_weight=sw)
    lazy = sp.issparse(X) if lazy is None else lazy
    model = _reference(task, X, y, sw, n_epochs, lazy=lazy, **params)
    _assert_model(est, model, dtype)
    return est, model


def _params(optimizer, **params):
    base = dict(penalty=None, alpha=0.01, learning_rate="invscaling",
                power_t=0.5, batch_size=1)
    params = {**base, **OPTIMIZERS[optimizer], **params}
    if _row(params).own_average:
        pytest.skip("schedule-free: its NumPy rule and every path in "
                    "tests/test_schedulefree.py")
    if _row(params).own_penalty:
        # FTRL: its penalty is its own (the case's l1, l2), at the case's
        # constant rate.
        params.update(penalty=None, learning_rate="constant")
    return without_rate(params)  # COCOB: no rate


def _row(params):
    return resolve_optimizer(GDRegressor(optimizer=params["optimizer"])).row


# ----------------------------------------------------------------------------
# Losses
# estimator name -> (kernel kind, kernel parameter), as the estimator passes
# them (epsilon 0.3 for the epsilon losses)
KERNEL_LOSSES = {
    name: kernel_args.kernel_loss(GDClassifier(loss=name, epsilon=0.3))
    for name in (*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES)
}
P_GRID = np.concatenate([
    np.linspace(-3, 3, 61),
    [-1e3, -40, -18.5, -18, -17.9, 17.9, 18, 18.5, 40, 1e3],
    # exactly on the branch boundaries of the parameters and targets used
    [-2.0, -1.0, -0.5, -0.3, 0.0, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 2.3],
])


@pytest.mark.parametrize("loss", sorted(KERNEL_LOSSES))
def test_loss_grad(loss):
    kind, param = KERNEL_LOSSES[loss]
    ys = (-1.0, 1.0) if loss in CLASSIFICATION_LOSSES else (-1.5, 0.0, 0.5, 2.0)
    for y in ys:
        for p in P_GRID:
            expected = ref.loss_grad(loss, p, y, param)
            assert_allclose(py_loss_grad(kind, p, y, param), expected,
                            rtol=1e-13, atol=1e-300, err_msg=f"p={p}, y={y}")


@pytest.mark.parametrize("threshold", [0.0, 0.5, 2.0])
def test_hinge_thresholds(threshold):
    for kind, loss in [(LossKind.HINGE, "hinge"),
                       (LossKind.SQUARED_HINGE, "squared_hinge")]:
        for y in (-1.0, 1.0):
            for p in np.linspace(-3, 3, 25):
                assert_allclose(py_loss_grad(kind, p, y, threshold),
                                ref.loss_grad(loss, p, y, threshold), rtol=1e-14)


def test_log_loss_is_accurate_for_large_margins():
    """log(1 + exp(-z)) and its derivative stay finite and accurate."""
    for p in [-1e6, -700.0, -40.0, -18.5, 18.5, 40.0, 700.0, 1e6]:
        for y in (-1.0, 1.0):
            z = p * y
            loss, dloss = py_loss_grad(LossKind.LOG, p, y, 0.0)
            assert_allclose(loss, np.logaddexp(0.0, -z), rtol=1e-8)
            assert_allclose(dloss, -y / (1.0 + np.exp(min(z, 700.0))),
                            rtol=1e-8, atol=1e-300)


def test_reference_losses_are_sklearns():
    """The reference's losses are scikit-learn's (which the doc cites)."""
    fast = pytest.importorskip("sklearn.linear_model._sgd_fast")
    objects = {
        "hinge": fast.Hinge(1.0), "perceptron": fast.Hinge(0.0),
        "squared_hinge": fast.SquaredHinge(1.0),
        "modified_huber": fast.ModifiedHuber(),
        "epsilon_insensitive": fast.EpsilonInsensitive(0.3),
        "squared_epsilon_insensitive": fast.SquaredEpsilonInsensitive(0.3),
    }
    for name, obj in objects.items():
        param = KERNEL_LOSSES[name][1]
        for y in (-1.0, 1.0, 0.4):
            for p in np.linspace(-3, 3, 41):
                assert_allclose(ref.loss_grad(name, p, y, param),
                                (obj.py_loss(p, y), obj.py_dloss(p, y)),
                                rtol=1e-14, atol=1e-15)
    for p in np.linspace(-10, 10, 41):
        for y in (-1.0, 1.0):
            assert_allclose(ref.loss_grad("log_loss", p, y),
                            (np.logaddexp(0, -p * y), -y / (1 + np.exp(p * y))),
                            rtol=1e-12)
        r = p - 0.7
        assert_allclose(ref.loss_grad("squared_error", p, 0.7), (r * r / 2, r))
        huber = (r * r / 2, r) if abs(r) <= 1.5 else (1.5 * (abs(r) - 0.75),
                                                       1.5 * np.sign(r))
        assert_allclose(ref.loss_grad("huber", p, 0.7, 1.5), huber)


def test_softmax_grad():
    rng = np.random.default_rng(3)
    for scale in (0.1, 1.0, 30.0, 800.0):
        for n_out in (2, 3, 5):
            p = rng.normal(0, scale, n_out)
            for label in range(n_out):
                loss, grad = py_softmax_grad(p, label)
                expected_loss, expected_grad = ref.softmax_grad(p, label)
                assert np.isfinite(loss) and np.all(np.isfinite(grad))
                assert_allclose(loss, expected_loss, rtol=1e-12, atol=1e-12)
                assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)
                assert_allclose(grad.sum(), 0.0, atol=1e-12)


def test_derivative_is_clipped():
    """dL/dp is clipped to [-1e12, 1e12] before the step."""
    X = np.array([[1.0, -2.0], [0.5, 1.0]])
    y = np.array([1e15, -3e14])
    params = dict(optimizer="sgd", learning_rate="constant", eta0=1e-13,
                  penalty=None, batch_size=1)
    est, model = check_against_reference("reg", X, y, None, n_epochs=1, **params)
    # without clipping, the first step alone would move w[0] by ~1e2
    assert_allclose(model.coef, [0.1 - 0.05, -0.2 - 0.1], rtol=1e-6)


# ----------------------------------------------------------------------------
# Schedules
def _schedule_struct(learning_rate, optimizer="sgd", **hyper):
    """The kernel's Schedule struct, as the estimator builds it."""
    est = GDRegressor(learning_rate=learning_rate, optimizer=optimizer, **hyper)
    return kernel_args.schedule_params(est, resolve_optimizer(est))[0]


@pytest.mark.parametrize("warmup_steps", [0, 1, 6])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("learning_rate", list(SCHEDULES) + ["pa1", "pa2"])
def test_schedule(learning_rate, optimizer, warmup_steps):
    hyper = dict(eta0=0.3, alpha=0.01, power_t=0.4, decay_steps=4,
                 decay_rate=0.5, eta_min=0.01, warmup_steps=warmup_steps)
    struct = _schedule_struct(learning_rate, optimizer, **hyper)
    for t in list(range(1, 40)) + [1000, 123457]:
        expected = ref.schedule(t, learning_rate, optimizer=optimizer, **hyper)
        assert_allclose(py_eta(struct, float(t)), expected, rtol=1e-13)


def test_schedule_struct_fields():
    """The fields the kernel reads, as the estimator documents them."""
    est = GDRegressor(learning_rate="cosine", optimizer="adam", eta0=0.3,
                      alpha=0.01, power_t=0.4, decay_steps=4, decay_rate=0.5,
                      eta_min=0.01, warmup_steps=6)
    settings = kernel_args.kernel_settings(est, kernel_rows(X_DENSE), 10)
    expected = {
        "kind": int(ScheduleKind.COSINE), "eta0": 0.3, "power_t": 0.4,
        "alpha": 0.01, "t0": 0.01 ** -0.75, "optimal_absolute": False,
        "decay_steps": 4.0, "decay_rate": 0.5, "eta_min": 0.01,
        "warmup_steps": 6.0,
    }
    schedule = dict(settings.schedule)
    assert {k: schedule.pop(k) for k in expected} == pytest.approx(expected)
    # The torch schedules' fields (sgdlearn.schedules objects) stay unused.
    assert not schedule.pop("cycle_momentum") and schedule.pop("n_phases") == 0
    assert not any(any(v) if isinstance(v, list) else v
                   for v in schedule.values())


def test_schedule_values():
    """A few values by hand: the reference's schedules are the doc's."""
    s = ref.schedule
    assert s(1, "optimal", alpha=1e-4) == pytest.approx(10.0)  # sklearn's
    assert s(5, "optimal", alpha=1e-4, eta0=0.1, optimizer="adam") == (
        pytest.approx(0.1 * 1000 / 1004))
    assert s(4, "invscaling", eta0=1.0, power_t=0.5) == 0.5
    steps = [s(t, "step", eta0=1, decay_steps=3, decay_rate=0.5)
             for t in range(1, 8)]
    assert steps == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert s(3, "exponential", eta0=1, decay_steps=2, decay_rate=0.81) == (
        pytest.approx(0.81))
    cosine = [s(t, "cosine", eta0=1, decay_steps=4) for t in range(1, 7)]
    assert_allclose(cosine, [1, 0.853553, 0.5, 0.146447, 1, 0.853553], rtol=1e-5)
    warm = [s(t, "constant", eta0=1, warmup_steps=4) for t in range(1, 6)]
    assert warm == [0.25, 0.5, 0.75, 1, 1]


# ----------------------------------------------------------------------------
# Trajectories: every optimizer x batch mode x dtype x layout
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_optimizer_batch_dtype_layout(optimizer, batch_size, dtype, layout):
    """L2 penalty, default intercept_decay ("auto": 0.01 on CSR); CSR is
    compared with the reference's lazy mode."""
    X = XS_CSR.astype(dtype) if layout == "csr" else X_DENSE.astype(dtype)
    y, sw = (YS_REG, SWS) if layout == "csr" else (Y_REG, SW)
    params = _params(optimizer, penalty="l2", batch_size=batch_size)
    check_against_reference("reg", X, y, sw, **params)


# Rows of 40 to 200 non-zeros: a sparse adaptive update runs in chunks of 64
# coordinates (sqrt and division vectorized over each chunk), so its first,
# middle and last chunks, full and partial, must all be right.
XW, YW_REG, _, SWW = _make_data(seed=3, n=30, d=400, density=0.3)
XW_CSR = sp.csr_matrix(XW)
assert XW_CSR.getnnz(axis=1).min() > 64 and XW_CSR.getnnz(axis=1).max() > 128


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "rmsprop_centered",
                                       *ADAM_LIKE, "nadam", "radam", "adamax",
                                       "adadelta"])
def test_sparse_adaptive_update_in_chunks(optimizer, batch_size, dtype):
    params = _params(optimizer, penalty="l2", batch_size=batch_size)
    check_against_reference("reg", XW_CSR.astype(dtype), YW_REG, SWW, **params)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", ["rmsprop_centered", "amsgrad", "adamw"])
@pytest.mark.parametrize("problem", ["ovr", "multinomial", "multi_output"])
def test_interleaved_state_gives_the_planar_result(problem, optimizer,
                                                   batch_size, monkeypatch):
    """Several weight rows (one-vs-rest in threads, softmax, two outputs)
    share one interleaved state array on CSR input: the kernel must find
    each row's and each slot's state where Python put it.  Forcing the
    planar layout (which the kernel also accepts) must change nothing."""
    import sgdlearn._state

    X = XS_CSR
    if problem == "multi_output":
        y = np.column_stack([YS_REG, -2.0 * YS_REG + 1.0])
        Est, extra = GDRegressor, {}
    else:
        y = np.digitize(YS_REG, np.quantile(YS_REG, [0.33, 0.66]))
        Est = GDClassifier
        extra = ({"n_jobs": 2} if problem == "ovr"
                 else {"multi_class": "multinomial", "loss": "log_loss"})
    params = dict(OPTIMIZERS[optimizer], batch_size=batch_size, max_iter=4,
                  tol=None, random_state=0, penalty="l2", **extra)
    interleaved = Est(**params).fit(X, y)
    assert not interleaved._coef_state.flags.c_contiguous
    state_array = sgdlearn._state._state_array
    monkeypatch.setattr(sgdlearn._state, "_state_array",
                        lambda shape, dtype, sparse, source=None:
                        state_array(shape, dtype, False, source))
    planar = Est(**params).fit(X, y)
    assert planar._coef_state.flags.c_contiguous
    assert_array_equal(interleaved.coef_, planar.coef_)
    assert_array_equal(interleaved.intercept_, planar.intercept_)
    for name, value in planar.optimizer_state_.items():
        assert_array_equal(interleaved.optimizer_state_[name], value,
                           err_msg=name)


@pytest.mark.parametrize("optimizer", ["rmsprop_centered", *ADAM_LIKE])
def test_state_carries_over_between_dense_and_sparse_calls(optimizer):
    """Sparse training keeps the optimizer state interleaved (one cache line
    per coordinate), dense training contiguous per state array: partial_fit
    calls that alternate the two must carry the state across layouts.  On
    a CSR copy of dense data every coordinate is present, so lazy and dense
    rules agree and the result must equal all-dense training."""
    params = dict(OPTIMIZERS[optimizer], penalty=None, intercept_decay=1.0,
                  shuffle=False, learning_rate="constant")
    chunks = np.array_split(np.arange(len(Y_REG)), 3)
    alternating, dense = GDRegressor(**params), GDRegressor(**params)
    for i, rows in enumerate(chunks):
        X = X_DENSE[rows]
        alternating.partial_fit(sp.csr_matrix(X) if i % 2 else X, Y_REG[rows])
        dense.partial_fit(X, Y_REG[rows])
        assert alternating._coef_state.flags.c_contiguous == (i % 2 == 0)
    assert_allclose(alternating.coef_, dense.coef_, rtol=1e-12)
    for name, value in dense.optimizer_state_.items():
        assert_allclose(alternating.optimizer_state_[name], value, rtol=1e-12,
                        atol=1e-300, err_msg=name)


def check_wide_is_narrow(X_csr, y_reg, params, seed):
    """The rows of X_csr spread over 2**18 columns must train to the same
    model at those columns, bit for bit, and to zeros elsewhere."""
    n_wide = 2**18
    # Increasing: each row keeps its order of columns, so its sums too.
    cols = np.sort(np.random.default_rng(seed).choice(n_wide, X_csr.shape[1],
                                                      replace=False))
    wide = sp.csr_matrix((X_csr.data, cols[X_csr.indices], X_csr.indptr),
                         shape=(X_csr.shape[0], n_wide))
    y = np.digitize(y_reg, np.quantile(y_reg, [0.33, 0.66]))
    params = dict(params, max_iter=3, tol=None, shuffle=True, random_state=0,
                  learning_rate="constant")
    narrow_est = GDClassifier(**params).fit(X_csr, y)
    wide_est = GDClassifier(**params).fit(wide, y)
    assert np.count_nonzero(narrow_est.coef_) > X_csr.shape[1]
    assert_array_equal(wide_est.coef_[:, cols], narrow_est.coef_)
    assert np.count_nonzero(wide_est.coef_) == np.count_nonzero(narrow_est.coef_)
    assert_array_equal(wide_est.intercept_, narrow_est.intercept_)


# Past 1 MB of weights and state, the per-sample CSR loop prefetches the
# lines of the rows a few places ahead in the shuffled order (lazy
# counters, weights, state, average, L1 record); below, only the current
# row's state.  The same rows spread over 2**18 columns take that path.
@pytest.mark.parametrize("params", [
    dict(optimizer="sgd", average=True, penalty="elasticnet", l1_ratio=0.3),
    dict(optimizer="momentum", momentum=0.8),
    dict(optimizer="adam"),
    dict(optimizer="amsgrad", multi_class="multinomial", loss="log_loss"),
], ids=["averaged-elasticnet-sgd", "momentum", "adam", "multinomial-amsgrad"])
def test_wide_sparse_model_is_the_narrow_one(params):
    check_wide_is_narrow(XS_CSR, YS_REG, dict(params, eta0=0.05), seed=4)


# Sparse mini-batches past 1 MB of weights and state: mark_batch also
# prefetches each column's lines, and a catch-up over more than 64 columns
# asks for them ahead.  Rows of 100 to 140 non-zeros, 7 to a batch.
@pytest.mark.parametrize("params", [
    dict(optimizer="sgd", average=True, penalty="elasticnet", l1_ratio=0.3),
    dict(optimizer="momentum", momentum=0.8),
    dict(optimizer="rmsprop", centered=True),
    dict(optimizer="adam"),
    dict(optimizer="nesterov", multi_class="multinomial", loss="log_loss"),
], ids=["averaged-elasticnet-sgd", "momentum", "rmsprop-centered", "adam",
        "multinomial-nesterov"])
def test_wide_sparse_batches_are_the_narrow_ones(params):
    check_wide_is_narrow(XW_CSR, YW_REG, dict(params, eta0=0.01, batch_size=7),
                         seed=5)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_penalty(penalty, optimizer, batch_size):
    # The L1 truncation moves eta0 * alpha per update: Adadelta's nominal
    # rate (1.0) is some 300 times its early steps, so it gets less alpha.
    alpha = 0.02 if OPTIMIZERS[optimizer].get("eta0", 0) < 0.5 else 0.001
    if _row(OPTIMIZERS[optimizer]).own_penalty and penalty is not None:
        pytest.skip("FTRL's penalty is its own l1, l2 (tests/test_ftrl.py)")
    if optimizer in NO_L1 and penalty in ("l1", "elasticnet"):
        pytest.skip("COCOB takes no L1 penalty (tests/test_cocob.py)")
    params = _params(optimizer, penalty=penalty, alpha=alpha, l1_ratio=0.4,
                     batch_size=batch_size)
    est, model = check_against_reference("reg", X_DENSE, Y_REG, SW, **params)
    if penalty in ("l1", "elasticnet"):  # the truncation must be active
        unpenalized = _reference("reg", X_DENSE, Y_REG, SW, 3,
                                 **{**params, "penalty": None})
        assert not np.allclose(model.coef, unpenalized.coef, rtol=1e-3)


def test_l1_truncation_zeroes_coordinates():
    params = _params("sgd", penalty="l1", alpha=0.2, batch_size=1)
    est, model = check_against_reference("reg", X_DENSE, Y_REG, SW, **params)
    assert np.any(model.coef == 0) and np.any(model.coef != 0)
    assert_allclose(est.coef_ == 0, model.coef == 0)


@pytest.mark.parametrize("warmup_steps", [0, 5])
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("learning_rate", SCHEDULES)
def test_schedule_trajectory(learning_rate, optimizer, warmup_steps):
    params = _params(optimizer, learning_rate=learning_rate, loss="log_loss",
                     penalty="l2", alpha=0.01, batch_size=5, power_t=0.3,
                     decay_steps=3, decay_rate=0.6, eta_min=0.002,
                     warmup_steps=warmup_steps)
    check_against_reference("clf", X_DENSE, Y_CLF, SW, n_epochs=4, **params)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adaptive_divides_eta0_by_5():
    """With a huge tol no epoch improves: after n_iter_no_change=1 epochs
    (from the second epoch on) eta0 is divided by 5."""
    params = _params("momentum", learning_rate="adaptive", batch_size=4)
    est = GDRegressor(shuffle=False, tol=1e10, n_iter_no_change=1, max_iter=4,
                      **params).fit(X_DENSE, Y_REG, sample_weight=SW)
    model = ref.Model(X_DENSE.shape[1], **params)
    for epoch in range(4):
        model.schedule_params["eta0"] = params["eta0"] / 5 ** max(0, epoch - 1)
        model.epoch(X_DENSE, Y_REG, SW)
    _assert_model(est, model)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regression_loss_trajectory(loss, optimizer, batch_size):
    params = _params(optimizer, loss=loss, epsilon=0.3, penalty="l2",
                     batch_size=batch_size)
    check_against_reference("reg", X_DENSE, Y_REG, SW, **params)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer",
                         ["sgd", "nesterov", "rmsprop", "amsgrad", "adamw"])
@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
def test_classification_loss_trajectory(loss, optimizer, batch_size):
    params = _params(optimizer, loss=loss, penalty="l2", batch_size=batch_size)
    check_against_reference("clf", X_DENSE, Y_CLF, SW, **params)


@pytest.mark.parametrize("batch_size", [1, "full"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("average", [True, 2, 4, 50])
def test_averaging(average, optimizer, batch_size):
    """average=4 and 50 are reached per sample (108 updates), never with the
    3 full-batch updates: then coef_ is the plain weights."""
    params = _params(optimizer, penalty="l2", average=average,
                     batch_size=batch_size)
    est, model = check_against_reference("reg", X_DENSE, Y_REG, SW, **params)
    if average <= model.t - 1:
        assert not np.allclose(model.coef, model.w, rtol=1e-6)
    else:
        assert_allclose(model.coef, model.w)


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop_centered"])
def test_averaging_with_l1(optimizer, average):
    params = _params(optimizer, penalty="elasticnet", l1_ratio=0.5,
                     average=average, batch_size=3)
    check_against_reference("reg", X_DENSE, Y_REG, SW, **params)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
@pytest.mark.parametrize("task", ["clf", "reg"])
def test_passive_aggressive(task, learning_rate, layout):
    X = XS_CSR if layout == "csr" else X_DENSE
    y, sw = (YS_REG if task == "reg" else YS_CLF, SWS) if layout == "csr" else (
        Y_REG if task == "reg" else Y_CLF, SW)
    loss = "hinge" if task == "clf" else "epsilon_insensitive"
    params = dict(optimizer="sgd", batch_size=1, loss=loss, epsilon=0.2,
                  penalty=None, learning_rate=learning_rate, eta0=0.3)
    check_against_reference(task, X, y, sw, **params)


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adagrad", "adamw"])
def test_no_intercept(optimizer):
    params = _params(optimizer, fit_intercept=False, batch_size=3)
    est, model = check_against_reference("reg", X_DENSE, Y_REG, SW, **params)
    assert est.intercept_[0] == 0.0


@pytest.mark.parametrize("intercept_decay", [0.3, 2.0])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "amsgrad"])
def test_intercept_decay(optimizer, intercept_decay):
    params = _params(optimizer, intercept_decay=intercept_decay, batch_size=5)
    check_against_reference("clf", X_DENSE, Y_CLF, SW,
                            **{**params, "loss": "modified_huber"})


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_class_weight(optimizer):
    """s_i = sample_weight_i * class_weight[y_i]."""
    params = _params(optimizer, loss="log_loss", batch_size=4)
    class_weight = {0: 3.0, 1: 0.5}
    est = _estimator("clf", 3, class_weight=class_weight, **params)
    est.fit(X_DENSE, Y_CLF, sample_weight=SW)
    s = SW * np.where(Y_CLF == 1, 0.5, 3.0)
    model = _reference("clf", X_DENSE, Y_CLF, s, 3, **params)
    _assert_model(est, model)


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adam"])
def test_coef_init(optimizer):
    params = _params(optimizer, penalty="l2", batch_size=5)
    coef0, intercept0 = np.linspace(-1, 1, X_DENSE.shape[1]), 0.7
    est = _estimator("reg", 2, **params).fit(X_DENSE, Y_REG, coef_init=coef0,
                                            intercept_init=[intercept0],
                                            sample_weight=SW)
    model = ref.Model(X_DENSE.shape[1], coef=coef0, intercept=intercept0,
                      intercept_decay=1.0, **params)
    for _ in range(2):
        model.epoch(X_DENSE, Y_REG, SW)
    _assert_model(est, model)


@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop", "adam", "amsgrad"])
def test_warm_start_keeps_optimizer_state(optimizer):
    """With warm_start a second fit keeps the weights, the optimizer state
    and k; t restarts at 1."""
    params = _params(optimizer, penalty="l2", batch_size=6)
    est = _estimator("reg", 2, warm_start=True, **params)
    est.fit(X_DENSE, Y_REG, sample_weight=SW)
    est.set_params(max_iter=3).fit(X_DENSE, Y_REG, sample_weight=SW)
    model = _reference("reg", X_DENSE, Y_REG, SW, 2, **params)
    model.t = 1
    for _ in range(3):
        model.epoch(X_DENSE, Y_REG, SW)
    _assert_model(est, model)


@pytest.mark.parametrize("average", [False, 5])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_partial_fit_sequence(optimizer, average):
    """partial_fit on successive chunks continues the weights, optimizer
    state, t and average, as the reference does."""
    penalty = "l2" if optimizer in NO_L1 else "elasticnet"
    params = _params(optimizer, penalty=penalty, l1_ratio=0.3,
                     batch_size=4, average=average, loss="squared_hinge")
    est = GDClassifier(shuffle=False, **params)
    model = ref.Model(X_DENSE.shape[1], **params)
    y_ref = _reference_targets("clf", X_DENSE, Y_CLF)
    for chunk in np.array_split(np.arange(len(Y_CLF)), 3):
        est.partial_fit(X_DENSE[chunk], Y_CLF[chunk], classes=[0, 1],
                        sample_weight=SW[chunk])
        model.epoch(X_DENSE[chunk], y_ref[chunk], SW[chunk], new_call=True)
        _assert_model(est, model)


@pytest.mark.parametrize("average", [False, 5])
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "rmsprop", "adam"])
def test_partial_fit_sequence_csr(optimizer, average):
    """The same on CSR: lazy state is settled at the end of every call."""
    params = _params(optimizer, penalty="l2", batch_size=4, average=average,
                     intercept_decay=1.0)
    est = GDRegressor(shuffle=False, **params)
    model = ref.Model(XS_CSR.shape[1], lazy=True, **params)
    for chunk in np.array_split(np.arange(len(YS_REG)), 3):
        est.partial_fit(XS_CSR[chunk], YS_REG[chunk], sample_weight=SWS[chunk])
        model.epoch(XS_CSR[chunk], YS_REG[chunk], SWS[chunk], new_call=True)
        _assert_model(est, model)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alpha", [0.5, 3.0])
@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_strong_decay(optimizer, alpha, dtype, layout):
    """max(0, 1 - eta lambda): with eta0 alpha = 0.25 the weight scale of
    the decay falls below the precision limit within an epoch; with 1.5 it
    is clamped to zero every update."""
    X = XS_CSR if layout == "csr" else XS
    params = dict(optimizer=optimizer, learning_rate="constant", eta0=0.5,
                  penalty="l2", alpha=alpha, batch_size=1, intercept_decay=1.0)
    check_against_reference("reg", X.astype(dtype), YS_REG, SWS, **params)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize(
    "task, optimizer, penalty, average",
    [("reg", "sgd", "elasticnet", False), ("reg", "adam", "l2", 3),
     ("clf", "momentum", "l1", False), ("clf", "rmsprop", None, 3)],
)
def test_objective_is_loss_curve(task, optimizer, penalty, average, layout):
    """loss_curve_ holds, per epoch, 1/n sum_i s_i L(p_i, y_i) with p_i
    from step 2, plus the penalty of the weights at the end of the epoch
    (the non-averaged ones)."""
    X, y, sw = (XS_CSR, YS_REG if task == "reg" else YS_CLF, SWS) if (
        layout == "csr") else (X_DENSE, Y_REG if task == "reg" else Y_CLF, SW)
    loss = "huber" if task == "reg" else "log_loss"
    params = _params(optimizer, loss=loss, penalty=penalty, average=average,
                     batch_size=5, intercept_decay=1.0)
    est = _estimator(task, 4, **params).fit(X, y, sample_weight=sw)
    model = ref.Model(X.shape[1], lazy=layout == "csr", **params)
    y_ref = _reference_targets(task, X, y)
    objectives = [model.epoch(X, y_ref, sw) for _ in range(4)]
    assert_allclose(est.loss_curve_, objectives, rtol=1e-10)


# ----------------------------------------------------------------------------
# Sparse input
@pytest.mark.parametrize(
    "optimizer, penalty, average",
    [("sgd", p, a) for p in (None, "l2", "l1") for a in (False,)]
    + [("sgd", p, a) for p in (None, "l2") for a in (True, 9)]
    + [(o, None, a) for o in ("momentum", "nesterov", "adagrad", "rmsprop",
                              "rmsprop_centered") for a in (False, True, 9)],
)
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
def test_sparse_equals_dense(optimizer, penalty, average, batch_size):
    """Where the doc says the lazy update is exact, CSR gives the dense
    model (intercept_decay=1.0 for both)."""
    params = _params(optimizer, penalty=penalty, average=average,
                     batch_size=batch_size, intercept_decay=1.0)
    sparse_est = _estimator("reg", 3, **params).fit(XS_CSR, YS_REG,
                                                    sample_weight=SWS)
    dense_est, _ = check_against_reference("reg", XS, YS_REG, SWS, **params)
    assert_allclose(sparse_est.coef_, dense_est.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(sparse_est.intercept_, dense_est.intercept_, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("average", [False, 3])
@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", ADAM_LIKE)
def test_lazy_adam(optimizer, batch_size, penalty, average, dtype):
    """Absent coordinates keep their weights and moments; the bias correction
    uses the global k; AdamW's decay reaches every coordinate."""
    params = _params(optimizer, penalty=penalty, average=average,
                     batch_size=batch_size, intercept_decay=1.0)
    check_against_reference("reg", XS_CSR.astype(dtype), YS_REG, SWS, **params)
    if dtype is np.float64:  # lazy Adam really differs from dense Adam
        dense = _reference("reg", XS, YS_REG, SWS, 3, **params)
        lazy = _reference("reg", XS_CSR, YS_REG, SWS, 3, lazy=True, **params)
        assert not np.allclose(lazy.coef, dense.coef, rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adagrad",
                                       "rmsprop", "rmsprop_centered", "adam",
                                       "amsgrad"])
def test_lazy_coupled_l2(optimizer, batch_size, average, dtype):
    """With a coupled L2 penalty only present coordinates are regularized;
    absent ones evolve with a zero gradient (momentum drift, RMSProp decay)."""
    params = _params(optimizer, penalty="l2", alpha=0.05, average=average,
                     batch_size=batch_size, intercept_decay=1.0)
    check_against_reference("reg", XS_CSR.astype(dtype), YS_REG, SWS, **params)
    if dtype is np.float64:
        dense = _reference("reg", XS, YS_REG, SWS, 3, **params)
        lazy = _reference("reg", XS_CSR, YS_REG, SWS, 3, lazy=True, **params)
        assert not np.allclose(lazy.coef, dense.coef, rtol=1e-4)


def test_explicit_zeros_are_present():
    """An explicitly stored zero makes its coordinate present (so lazy Adam
    moves its moments and coupled L2 shrinks it)."""
    params = _params("adam", penalty="l2", alpha=0.05, batch_size=1,
                     intercept_decay=1.0)
    with_zeros = _estimator("reg", 3, **params).fit(XS_CSR, YS_REG,
                                                    sample_weight=SWS)
    without = XS_CSR.copy()
    without.eliminate_zeros()
    est, _ = check_against_reference("reg", without, YS_REG, SWS, **params)
    assert not np.allclose(with_zeros.coef_, est.coef_, rtol=1e-6)


@pytest.mark.parametrize(
    "optimizer, penalty",
    [("sgd", "elasticnet"), ("momentum", "l1"), ("nesterov", "elasticnet"),
     ("rmsprop", "l1"), ("adagrad", "elasticnet"), ("adam", "l1"),
     ("adamw", "elasticnet")],
)
@pytest.mark.parametrize("batch_size", [1, 7])
def test_lazy_l1(optimizer, penalty, batch_size):
    """L1 truncation on CSR is applied lazily: a coordinate is truncated by
    what accrued since its last truncation when next present (before its
    use), and every coordinate at the end of the epoch."""
    params = _params(optimizer, penalty=penalty, alpha=0.02, l1_ratio=0.5,
                     batch_size=batch_size, intercept_decay=1.0)
    check_against_reference("reg", XS_CSR, YS_REG, SWS, **params)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad"])
def test_lazy_l1_with_averaging_is_close(optimizer):
    """L1 with averaging on CSR: "close to, not equal to" the dense model
    (within 1% of the largest weight; averaging itself moves them by 12-60%
    here).  Truncations caught up lazily reach the average at the update
    that catches them up, not at the one that skipped them."""
    params = _params(optimizer, penalty="l1", alpha=0.02, average=True,
                     batch_size=1, intercept_decay=1.0)
    est = _estimator("reg", 3, **params).fit(XS_CSR, YS_REG, sample_weight=SWS)
    dense = _reference("reg", XS, YS_REG, SWS, 3, **params)
    scale = np.abs(dense.coef).max()
    assert_allclose(est.coef_, dense.coef, atol=0.01 * scale)
    assert_allclose(est.intercept_[0], dense.intercept, atol=0.01 * scale)


# ----------------------------------------------------------------------------
# fit == repeated partial_fit; one-vs-rest
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_fit_equals_partial_fits(optimizer, batch_size, layout):
    params = _params(optimizer, penalty="l2", batch_size=batch_size,
                     average=10, random_state=7, loss="hinge")
    X, y, sw = (XS_CSR, YS_CLF, SWS) if layout == "csr" else (X_DENSE, Y_CLF, SW)
    fitted = GDClassifier(shuffle=True, tol=None, max_iter=4, **params)
    fitted.fit(X, y, sample_weight=sw)
    streamed = GDClassifier(shuffle=True, **params)
    for _ in range(4):
        streamed.partial_fit(X, y, classes=[0, 1], sample_weight=sw)
    assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-12)
    assert streamed.t_ == fitted.t_
    if batch_size != "full":  # the shuffle did something
        in_order = GDClassifier(shuffle=False, tol=None, max_iter=4, **params)
        in_order.fit(X, y, sample_weight=sw)
        assert not np.allclose(in_order.coef_, fitted.coef_, rtol=1e-6)


def _splitmix64_shuffle(order, seed):
    """Python transcription of the kernel's shuffle (_shuffle.pxd):
    Fisher-Yates driven by splitmix64, bounded draws by Lemire's method."""
    mask = (1 << 64) - 1
    state = seed
    order = list(order)

    def next64():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    for i in range(len(order) - 1, 0, -1):
        bound = i + 1
        m = (next64() >> 32) * bound
        if (m & 0xFFFFFFFF) < bound:
            threshold = (-bound) % (1 << 32) % bound
            while (m & 0xFFFFFFFF) < threshold:
                m = (next64() >> 32) * bound
        j = m >> 32
        order[i], order[j] = order[j], order[i]
    return np.array(order)


def test_kernel_shuffle_matches_its_transcription_and_is_uniform():
    from sgdlearn._kernels._epoch import py_shuffle

    for seed in (0, 1, 2**63 - 1, 12345678901234):
        order = np.arange(50, dtype=np.intc)
        py_shuffle(order, seed)
        assert_array_equal(order, _splitmix64_shuffle(range(50), seed))
    counts = {}
    for seed in range(6000):
        order = np.arange(3, dtype=np.intc)
        py_shuffle(order, seed)
        counts[tuple(order)] = counts.get(tuple(order), 0) + 1
    assert len(counts) == 6  # every permutation of 3, about equally often
    assert max(counts.values()) - min(counts.values()) < 200


def test_shuffle_draws_a_fresh_order_every_epoch():
    """Epoch k does not reuse epoch 1's permutation (scikit-learn does).
    Replays the orders with the seeding of ``BaseGD._rngs`` and the engine:
    one Generator per problem, seeded from ``random_state``; every epoch it
    draws a 64-bit seed with which the kernel shuffles the previous order."""
    params = _params("sgd", batch_size=1, random_state=3)
    est = GDRegressor(shuffle=True, **params)
    coefs = []
    for _ in range(3):
        est.partial_fit(X_DENSE, Y_REG, sample_weight=SW)
        coefs.append(est.coef_.copy())
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max, size=1)[0]
    rng = np.random.default_rng(seed)
    orders, order = [], np.arange(len(Y_REG))
    for _ in range(3):
        # each partial_fit call starts from the rows in their order
        order = _splitmix64_shuffle(np.arange(len(Y_REG)),
                                    int(rng.integers(2**63, dtype=np.int64)))
        orders.append(order)
    assert len({tuple(o) for o in orders}) == 3
    del params["random_state"]
    model = ref.Model(X_DENSE.shape[1], **params)
    for order, coef in zip(orders, coefs, strict=True):
        model.epoch(X_DENSE, Y_REG, SW, order=order)
        assert_allclose(coef, model.coef, rtol=1e-10)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 6])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_one_vs_rest(optimizer, batch_size, layout):
    """Each row of coef_ is the binary problem "class i vs rest"."""
    X, y_cont, sw = (XS_CSR, YS_REG, SWS) if layout == "csr" else (
        X_DENSE, Y_REG, SW)
    y = np.digitize(y_cont, np.quantile(y_cont, [0.25, 0.5, 0.75]))
    y = np.array(["a", "b", "c", "d"])[y]
    class_weight = {"a": 1.5, "b": 1.0, "c": 0.7, "d": 1.2}
    params = _params(optimizer, loss="log_loss", penalty="l2", average=20,
                     batch_size=batch_size)
    est = _estimator("clf", 3, class_weight=class_weight, **params)
    est.fit(X, y, sample_weight=sw)
    assert est.coef_.shape == (4, X.shape[1])
    s = sw * np.array([class_weight[label] for label in y])
    for i, label in enumerate(est.classes_):
        model = _reference("clf", X, (y == label).astype(int), s, 3,
                           lazy=layout == "csr", **params)
        assert_allclose(est.coef_[i], model.coef, rtol=1e-10, atol=1e-12)
        assert_allclose(est.intercept_[i], model.intercept, rtol=1e-10,
                        atol=1e-12)
    assert est.t_ == model.t


def test_reference_by_hand():
    """Sanity of the reference itself on one hand-computed update."""
    model = ref.Model(2, optimizer="momentum", eta0=0.5, momentum=0.9,
                      learning_rate="constant", penalty="l2", alpha=0.1)
    X, y = np.array([[1.0, 2.0]]), np.array([1.0])
    model.epoch(X, y)  # p = 0, dloss = -1, g = [-1, -2], m = g
    assert_allclose(model.w, [0.5, 1.0])
    assert_allclose(model.b, [0.5])
    model.epoch(X, y)  # p = 3, dloss = 2, g = [2, 4] + 0.1 w
    m = 0.9 * np.array([-1.0, -2.0]) + np.array([2.05, 4.1])
    assert_allclose(model.w, [0.5, 1.0] - 0.5 * m)
    assert model.t == 3 and model.k == 2
