"""sgdlearn on dask: data-parallel fits, streaming, dask-ml, searches.

Skipped when dask/distributed are not installed (``pip install -e
".[test]"`` installs them).  One loopback LocalCluster of two thread
workers serves the module; one test starts two worker processes.
"""

import pickle
import subprocess
import sys
import warnings
from copy import deepcopy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn.optim import FTRL

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
sgd_dask = pytest.importorskip("sgdlearn.dask")
from sgdlearn._dask_mixing import adopt, mix  # noqa: E402

STATE = ("coef_", "intercept_", "_coef_state", "_intercept_state",
         "_optimizer_steps", "_standard_coef", "_standard_intercept",
         "_average_coef", "_average_intercept", "t_", "loss_curve_")


def blocked(*arrays, chunk):
    return [da.from_array(a, chunks=(chunk,) + (-1,) * (a.ndim - 1))
            for a in arrays]


def placed(client, *arrays, chunk):
    """Dask arrays whose row block i lives on worker i * n_workers //
    n_blocks (by sorted address), not wherever the scheduler puts it: a
    data-parallel fit depends on which blocks share a worker."""
    workers = sorted(client.nthreads())
    starts = range(0, len(arrays[0]), chunk)
    collections = []
    for array in arrays:
        parts = []
        for i, start in enumerate(starts):
            block = array[start:start + chunk]
            future = client.scatter(
                block, workers=[workers[i * len(workers) // len(starts)]])
            parts.append(da.from_delayed(future, block.shape, block.dtype))
        collections.append(da.concatenate(parts))
    return collections


def assert_same_fit(a, b, exact=True):
    """The fitted state of ``a`` equals ``b``'s (bit for bit if exact)."""
    for name in STATE:
        x, y = getattr(a, name, None), getattr(b, name, None)
        assert (x is None) == (y is None), name
        if x is not None:
            (assert_array_equal if exact else assert_allclose)(
                np.asarray(x), np.asarray(y), err_msg=name)


def local_loop(estimator, X, y, epochs, **kwargs):
    """``epochs`` partial_fit calls on all the data, in this process."""
    est = clone(estimator)
    for _ in range(epochs):
        est.partial_fit(X, y, **kwargs)
    return est


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(2000, 8, n_informative=4, random_state=0)
    return StandardScaler().fit_transform(X), y


# ----------------------------------------------------------------------
# Without a cluster
def test_importing_sgdlearn_does_not_import_dask():
    code = ("import sys, sgdlearn; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'dask_ml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_mix_of_one_model_is_that_model(binary):
    X, y = binary
    model = local_loop(GDClassifier(optimizer="adam", average=True,
                                    random_state=0), X, y, 2, classes=[0, 1])
    assert_same_fit(mix([model], np.array([1.0])), model)


def test_mix_averages_weights_and_sums_clocks(binary):
    X, y = binary
    est = GDClassifier(loss="log_loss", average=True, random_state=0)
    a = local_loop(est, X[:500], y[:500], 2, classes=[0, 1])
    b = local_loop(est, X[500:], y[500:], 1, classes=[0, 1])
    mixed = mix([a, b], np.array([0.25, 0.75]))
    for name in ("_standard_coef", "_average_coef", "_standard_intercept",
                 "_average_intercept"):
        expected = 0.25 * getattr(a, name) + 0.75 * getattr(b, name)
        assert_allclose(getattr(mixed, name), expected, err_msg=name)
    assert mixed.t_ == a.t_ + b.t_ - 1
    assert mixed.coef_ is mixed._average_coef
    assert_allclose(mixed.loss_curve_[0],
                    0.25 * a.loss_curve_[0] + 0.75 * b.loss_curve_[0])
    assert mixed.n_iter_ == 2


@pytest.mark.parametrize("optimizer", ["adam", "amsgrad"])
def test_mix_averages_bias_corrected_adam_moments(binary, optimizer):
    X, y = binary
    est = GDClassifier(loss="log_loss", optimizer=optimizer, eta0=1e-2,
                       batch_size=50, random_state=0)
    a = local_loop(est, X[:300], y[:300], 1, classes=[0, 1])  # 6 steps
    b = local_loop(est, X[300:], y[300:], 1, classes=[0, 1])  # 34 steps
    weights = np.array([0.4, 0.6])
    mixed = mix([a, b], weights)
    steps = mixed._optimizer_steps[0]
    assert steps == max(a._optimizer_steps[0], b._optimizer_steps[0]) == 34
    betas = (est.beta_1, est.beta_2, est.beta_2)
    for slot, beta in enumerate(betas[:a._coef_state.shape[1]]):
        def corrected(m, slot=slot, beta=beta):
            return m._coef_state[:, slot] / (1 - beta ** m._optimizer_steps[0])
        expected = weights[0] * corrected(a) + weights[1] * corrected(b)
        assert_allclose(corrected(mixed), expected, rtol=1e-12, err_msg=slot)
    if optimizer == "amsgrad":  # the running maximum stays >= exp_avg_sq
        assert np.all(mixed._coef_state[:, 2] >= mixed._coef_state[:, 1])


def test_mix_of_torch_rules_reads_the_table(binary):
    """NAdam's mu_product is that of the copy with the most steps (the
    mixture's step count); Adamax's infinity norm mixes by maximum; Adadelta's
    averages by weighted mean."""
    X, y = binary
    for optimizer, rules in (("nadam", ("mean", "mean")),
                             ("adamax", ("mean", "max")),
                             ("adadelta", ("mean", "mean"))):
        est = GDClassifier(loss="log_loss", optimizer=optimizer, eta0=1e-2,
                           batch_size=50, random_state=0)
        a = local_loop(est, X[:300], y[:300], 1, classes=[0, 1])  # 6 steps
        b = local_loop(est, X[300:], y[300:], 1, classes=[0, 1])  # 34 steps
        weights = np.array([0.4, 0.6])
        mixed = mix([a, b], weights)
        assert mixed._optimizer_steps[0] == 34
        assert_array_equal(mixed._optimizer_counters, b._optimizer_counters)
        if optimizer == "nadam":
            assert mixed.optimizer_state_["mu_product"] == (
                b.optimizer_state_["mu_product"]) < a.optimizer_state_[
                "mu_product"]
        slot = 1
        if rules[slot] == "max":
            expected = np.maximum(a._coef_state[:, slot], b._coef_state[:, slot])
        elif optimizer == "adadelta":
            expected = (weights[0] * a._coef_state[:, slot]
                        + weights[1] * b._coef_state[:, slot])
        else:
            continue
        assert_allclose(mixed._coef_state[:, slot], expected, rtol=1e-12)
        mixed.partial_fit(X[:100], y[:100])  # continues from the mixture


def test_adopt_keeps_the_copy_clock_and_row_orders(binary):
    X, y = binary
    est = GDClassifier(optimizer="momentum", learning_rate="constant",
                       random_state=0)
    a = local_loop(est, X[:500], y[:500], 1, classes=[0, 1])
    b = local_loop(est, X, y, 1, classes=[0, 1])
    rng_state = a._row_rngs[0].bit_generator.state
    adopt(a, b)
    assert a.t_ == 501 and a._row_rngs[0].bit_generator.state == rng_state
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a._coef_state, b._coef_state)


@pytest.mark.parametrize("n_shards, expected", [
    (None, [([0, 3, 5, 6], "A"), ([1, 2, 4, 7], "B")]),
    (3, [([0, 3], "A"), ([1, 2, 4, 7], "B"), ([5, 6], "A")]),
    (1, [(list(range(8)), "A")]),
])
def test_shards_are_made_of_the_blocks_each_worker_holds(n_shards, expected):
    from sgdlearn._dask_shards import plan_shards

    assert plan_shards(list("ABBABAAB"), {"A": 1, "B": 1}, n_shards) == expected
    # one shard per thread by default, at most one per block
    plan = plan_shards(list("AAAAB"), {"A": 2, "B": 4})
    assert plan == [([0, 1], "A"), ([2, 3], "A"), ([4], "B")]


def test_stream_partial_fit_equals_a_partial_fit_loop(binary):
    X, y = binary
    w = np.random.default_rng(0).uniform(0.5, 2, len(y))
    Xd, yd, wd = blocked(X, y, w, chunk=300)  # 7 blocks, the last short
    est = GDClassifier(loss="log_loss", optimizer="adagrad", random_state=0)
    streamed = sgd_dask.stream_partial_fit(
        clone(est), Xd, yd, sample_weight=wd, epochs=2, shuffle_blocks=True,
        random_state=1)
    local = clone(est)
    rng = np.random.RandomState(1)
    for _ in range(2):
        for i in rng.permutation(7):
            rows = slice(300 * i, 300 * (i + 1))
            local.partial_fit(X[rows], y[rows], classes=[0, 1],
                              sample_weight=w[rows])
    assert_same_fit(streamed, local)


def test_stream_partial_fit_of_dataframe_blocks(binary):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    labels = pd.Series(np.array(["no", "yes"])[y])
    Xd = dd.from_pandas(frame, npartitions=4)
    yd = dd.from_pandas(labels, npartitions=4)
    reg = sgd_dask.stream_partial_fit(GDClassifier(random_state=0), Xd, yd)
    assert_array_equal(reg.classes_, ["no", "yes"])
    assert list(reg.feature_names_in_) == list(frame.columns)
    local = GDClassifier(random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 4):
        local.partial_fit(frame.iloc[chunk], labels.iloc[chunk],
                          classes=["no", "yes"])
    assert_same_fit(reg, local)


def _snapshot(est):
    """Everything a rollback must restore: the attributes (deep copies),
    the row-order generators' states."""
    state = deepcopy(vars(est))
    rngs = [g.bit_generator.state for g in getattr(est, "_row_rngs", None) or []]
    return state, rngs


def assert_restored(est, snapshot):
    state, rngs = snapshot
    assert sorted(vars(est)) == sorted(state)
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(getattr(est, name), value, err_msg=name)
        elif isinstance(value, tuple):  # the published model's arrays
            for mine, theirs in zip(getattr(est, name), value, strict=True):
                assert_array_equal(mine, theirs, err_msg=name)
        elif name != "_row_rngs":
            assert getattr(est, name) == value, name
    assert [g.bit_generator.state for g in est._row_rngs or []] == rngs


def test_stream_partial_fit_skips_empty_blocks(binary):
    """Boolean filtering leaves a block with no rows (and unknown chunk
    sizes): it is skipped, not an error in partial_fit."""
    X, y = binary
    keep = np.ones(len(y), dtype=bool)
    keep[600:900] = False  # block 2 of 300-row blocks is empty
    keep[950:1000] = False
    Xd, yd, kd = blocked(X, y, keep, chunk=300)
    est = GDClassifier(loss="log_loss", random_state=0)
    streamed = sgd_dask.stream_partial_fit(clone(est), Xd[kd], yd[kd],
                                           epochs=2)
    local = clone(est)
    for _ in range(2):
        for start in range(0, len(y), 300):
            rows = np.arange(start, min(start + 300, len(y)))
            rows = rows[keep[rows]]
            if rows.size:
                local.partial_fit(X[rows], y[rows], classes=[0, 1])
    assert_same_fit(streamed, local)
    assert streamed.t_ == 1 + 2 * keep.sum()
    # nothing at all: the error of partial_fit on no rows, and no model
    none = da.zeros(len(y), dtype=bool, chunks=300)
    unfitted = GDClassifier()
    with pytest.raises(ValueError, match="all its 7 row blocks are empty"):
        sgd_dask.stream_partial_fit(unfitted, Xd[none], yd[none],
                                    classes=[0, 1])
    assert not hasattr(unfitted, "t_")


class _Interrupted(GDClassifier):
    """Ctrl-C during the third partial_fit call (after it trained)."""

    def partial_fit(self, X, y, **kwargs):
        super().partial_fit(X, y, **kwargs)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self


@pytest.mark.parametrize("fitted", [True, False])
def test_stream_partial_fit_failure_rolls_back(binary, fitted):
    """A block failing mid-stream (NaN in block 5 of 7, second pass) leaves
    the estimator exactly as before the call, and the error names the
    block; the same for Ctrl-C."""
    X, y = binary
    X = X.copy()
    X[1600, 3] = np.nan
    Xd, yd = blocked(X, y, chunk=300)
    est = GDClassifier(optimizer="adam", average=True, random_state=0)
    if fitted:
        est.partial_fit(X[:100], y[:100], classes=[0, 1])
    before = _snapshot(est)
    with pytest.raises(ValueError, match="Input X contains NaN") as info:
        sgd_dask.stream_partial_fit(est, Xd, yd, classes=[0, 1], epochs=2,
                                    shuffle_blocks=True, random_state=0)
    if fitted:
        assert_restored(est, before)
    else:
        assert vars(est) == before[0]  # still unfitted, nothing added
    notes = " ".join(getattr(info.value, "__notes__", []))
    if sys.version_info >= (3, 11):
        assert "failed at row block 5 (counting from 0, of 7) in pass 1 " \
            "of 2; the estimator is restored" in notes
    # Ctrl-C after two blocks trained: rolled back too
    est = _Interrupted(random_state=0).partial_fit(X[:100], y[:100],
                                                   classes=[0, 1])
    est.calls = 0
    before = _snapshot(est)
    with pytest.raises(KeyboardInterrupt):
        sgd_dask.stream_partial_fit(est, Xd[:1500], yd[:1500])
    assert_restored(est, before)
    # and the estimator continues as if the failed calls never happened
    est.calls = -10
    continued = sgd_dask.stream_partial_fit(est, Xd[:1500], yd[:1500])
    plain = GDClassifier(random_state=0).partial_fit(X[:100], y[:100],
                                                     classes=[0, 1])
    for start in range(0, 1500, 300):
        plain.partial_fit(X[start:start + 300], y[start:start + 300])
    assert_same_fit(continued, plain)


# ----------------------------------------------------------------------
# Data-parallel training on the thread cluster
def test_cluster_listens_on_loopback_only(client):
    psutil = pytest.importorskip("psutil")
    listening = [c.laddr.ip for c in psutil.Process().net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and set(listening) <= {"127.0.0.1", "::1"}


ONE_SHARD_CASES = {
    "adam-minibatch": (GDClassifier(loss="log_loss", optimizer="adam",
                                    batch_size=16, eta0=1e-3,
                                    learning_rate="constant"), {}),
    "sgd-asgd-multiclass": (GDClassifier(average=10, n_jobs=2),
                            {"multiclass": True, "local_epochs": 2}),
    "amsgrad-regressor-weights": (GDRegressor(optimizer="amsgrad", eta0=1e-2),
                                  {"weights": True}),
    "rmsprop-centered": (GDClassifier(optimizer="rmsprop", centered=True,
                                      eta0=1e-3), {}),
    "nesterov-one-shot": (GDClassifier(optimizer="nesterov", eta0=1e-3,
                                       learning_rate="invscaling"),
                          {"mixing": "one_shot"}),
    "multinomial-adamw": (GDClassifier(loss="log_loss", optimizer="adamw",
                                       multi_class="multinomial", eta0=1e-3,
                                       learning_rate="constant"),
                          {"multiclass": True}),
    "multioutput-regressor-adagrad": (GDRegressor(optimizer="adagrad",
                                                  eta0=0.1, average=True),
                                      {"outputs": 2}),
    # Mixing recomputes FTRL's weights from the mixed (z, n): with one
    # shard, the same weights.
    "ftrl-l1-ovr": (GDClassifier(loss="log_loss", optimizer=FTRL(l1=0.5)),
                    {"multiclass": True}),
}


@pytest.mark.parametrize("case", list(ONE_SHARD_CASES))
def test_one_shard_equals_a_local_partial_fit_loop(client, case):
    """With one shard, every round's mix and restart must be exact: the
    result is the same as partial_fit epochs in this process."""
    est, opts = ONE_SHARD_CASES[case]
    est = clone(est).set_params(max_iter=3, tol=None, random_state=0)
    X, y = make_classification(1200, 6, n_informative=4, n_classes=3
                               if opts.get("multiclass") else 2,
                               random_state=0)
    if isinstance(est, GDRegressor):
        y = X @ np.arange(6.0 * opts.get("outputs", 1)).reshape(6, -1)
        y = y.ravel() if y.shape[1] == 1 else y
    w = np.linspace(0.5, 1.5, len(y)) if opts.get("weights") else None
    Xd, yd, wd = blocked(X, y, np.ones(len(y)) if w is None else w, chunk=400)
    fitted = sgd_dask.fit_data_parallel(
        est, Xd, yd, sample_weight=None if w is None else wd, n_shards=1,
        mixing=opts.get("mixing", "iterative"),
        local_epochs=opts.get("local_epochs", 1))
    kwargs = {} if isinstance(est, GDRegressor) else {"classes": np.unique(y)}
    local = local_loop(est, X, y, 3, sample_weight=w, **kwargs)
    assert_same_fit(fitted, local)
    assert fitted.n_iter_ == 3 and type(fitted) is type(est)


def test_two_shards_equal_a_manual_mix(client, binary):
    """Iterative mixing done by hand: each copy trains one epoch on its
    half, then both restart from the average weighted by sample weight."""
    X, y = binary
    w = np.where(np.arange(len(y)) < 1000, 1.0, 3.0)
    Xd, yd, wd = placed(client, X, y, w, chunk=500)
    est = GDClassifier(loss="hinge", learning_rate="invscaling", eta0=0.05,
                       max_iter=3, tol=None, random_state=7)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd, sample_weight=wd,
                                        n_shards=2)
    seeds = np.random.RandomState(7).randint(np.iinfo(np.int32).max, size=2)
    copies = [clone(est), clone(est).set_params(random_state=int(seeds[1]))]
    halves = [slice(0, 1000), slice(1000, 2000)]
    p = np.array([1000.0, 3000.0]) / 4000
    for _ in range(3):
        for model, rows in zip(copies, halves, strict=True):
            model.partial_fit(X[rows], y[rows], classes=[0, 1],
                              sample_weight=w[rows])
        coef = p[0] * copies[0].coef_ + p[1] * copies[1].coef_
        intercept = p[0] * copies[0].intercept_ + p[1] * copies[1].intercept_
        for model in copies:
            model.coef_, model.intercept_ = coef.copy(), intercept.copy()
    assert_allclose(fitted.coef_, coef, rtol=1e-12)
    assert_allclose(fitted.intercept_, intercept, rtol=1e-12)
    assert fitted.t_ == copies[0].t_ + copies[1].t_ - 1


def _split(X, y, test_size):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _dataset(name):
    if name == "synthetic":
        X, y = make_classification(40_000, 20, n_informative=10,
                                   random_state=0)
        return _split(X, y, 0.25)
    loader = {"digits": load_digits, "breast_cancer": load_breast_cancer}[name]
    return _split(*loader(return_X_y=True), 0.3)


@pytest.mark.parametrize("name, mixing, n_shards, epochs", [
    ("synthetic", "iterative", 4, 30),
    ("synthetic", "one_shot", 4, 30),
    ("digits", "iterative", 2, 60),
    ("digits", "iterative", 4, 60),
    ("breast_cancer", "iterative", 4, 100),
])
def test_accuracy_of_a_single_machine_fit(client, name, mixing, n_shards, epochs):
    """Within 0.5% of a single machine's test accuracy, on average over three
    seeds: on 540 test digits (171 breast-cancer rows) one sample is 0.19%
    (0.58%), and the seed alone moves a single fit by as much.  Each shard
    makes 1/n_shards of the updates per epoch, hence enough epochs."""
    X_train, X_test, y_train, y_test = _dataset(name)
    Xd, yd = placed(client, X_train, y_train, chunk=-(-len(y_train) // 4))
    gaps = []
    for seed in range(3):
        est = GDClassifier(loss="log_loss", alpha=1e-3, average=True,
                           max_iter=epochs, tol=None, random_state=seed)
        single = clone(est).fit(X_train, y_train).score(X_test, y_test)
        fitted = sgd_dask.fit_data_parallel(est, Xd, yd, mixing=mixing,
                                            n_shards=n_shards)
        gaps.append(fitted.score(X_test, y_test) - single)
    assert np.mean(gaps) >= -0.005, gaps


def test_regressor_r2_of_a_single_machine_fit(client):
    X, y = make_regression(20_000, 20, noise=10.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    est = GDRegressor(alpha=1e-4, average=True, max_iter=10, tol=None,
                      random_state=0)
    single = clone(est).fit(X_train, y_train).score(X_test, y_test)
    Xd, yd = placed(client, X_train, y_train, chunk=3750)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd)
    assert fitted.score(X_test, y_test) >= single - 0.005


def test_zero_weight_shards_contribute_nothing(client, binary):
    """A shard whose weights are all zero is valid (a local fit accepts
    such weights): it does not train.  With one shard left, the result is
    that shard's model; with none, fit's error."""
    X, y = binary
    est = GDClassifier(loss="log_loss", max_iter=3, tol=None, random_state=0)
    # half the weights zero, in one of two shards
    w = np.where(np.arange(len(y)) < 1000, 0.0, 2.0)
    Xd, yd, wd = placed(client, X, y, w, chunk=500)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd, sample_weight=wd,
                                        n_shards=2)
    assert_same_fit(fitted, local_loop(est, X[1000:], y[1000:], 3,
                                       sample_weight=w[1000:], classes=[0, 1]))
    # three shards of four all zero: no division by zero, the last shard's model
    w = np.where(np.arange(len(y)) < 1500, 0.0, np.linspace(0.5, 1.5, len(y)))
    Xd, yd, wd = placed(client, X, y, w, chunk=500)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd, sample_weight=wd,
                                        n_shards=4)
    assert_same_fit(fitted, local_loop(est, X[1500:], y[1500:], 3,
                                       sample_weight=w[1500:], classes=[0, 1]))
    # all zero: the message of a local fit
    with pytest.raises(ValueError) as local_error:
        clone(est).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError) as dask_error:
        sgd_dask.fit_data_parallel(est, Xd, yd, n_shards=4,
                                   sample_weight=da.zeros(len(y), chunks=500))
    assert str(dask_error.value) == str(local_error.value)
    assert "at least one non-zero" in str(dask_error.value)
    # negative weights: the message of a local fit
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        sgd_dask.fit_data_parallel(est, Xd, yd, sample_weight=wd - 1.0)


def test_pandas_na_gives_the_message_of_a_local_fit(client, binary):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)]).astype(
        "Float64")
    frame.iloc[1234, 2] = pd.NA
    est = GDClassifier(max_iter=2, tol=None, random_state=0)
    with pytest.raises(ValueError) as local_error:
        clone(est).fit(frame, y)
    with pytest.raises(ValueError) as dask_error:
        sgd_dask.fit_data_parallel(est, dd.from_pandas(frame, npartitions=4),
                                   dd.from_pandas(pd.Series(y), npartitions=4))
    assert str(dask_error.value) == str(local_error.value)
    assert str(dask_error.value).startswith("Input X contains NaN.")
    # nullable dtypes without NA train as their float values
    clean = frame.fillna(0.0)
    expected = X.copy()
    expected[1234, 2] = 0.0
    fitted = sgd_dask.fit_data_parallel(
        est, dd.from_pandas(clean, npartitions=4),
        dd.from_pandas(pd.Series(y), npartitions=4), n_shards=1)
    assert_same_fit(fitted, local_loop(est, expected, y, 2, classes=[0, 1]))


@pytest.mark.parametrize("kwargs, message", [
    ({"n_shards": 0}, "The 'n_shards' parameter of fit_data_parallel must be "
     "an int in the range [1, inf) or None. Got 0 instead."),
    ({"n_shards": -1}, "must be an int in the range [1, inf) or None. Got -1"),
    ({"n_shards": 2.5}, "must be an int in the range [1, inf) or None. Got 2.5"),
    ({"n_shards": "2"}, "must be an int in the range [1, inf) or None. Got '2'"),
    ({"local_epochs": 0}, "The 'local_epochs' parameter of fit_data_parallel"),
    ({"mixing": "twice"}, "The 'mixing' parameter of fit_data_parallel must "
     "be a str among"),
    ({"max_iter": 0}, "The 'max_iter' parameter of GDClassifier must be an "
     "int in the range [1, inf). Got 0 instead."),
])
def test_invalid_arguments_fail_before_any_work(client, binary, kwargs,
                                                message):
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    est = GDClassifier()
    if "max_iter" in kwargs:
        est.set_params(**kwargs)
        kwargs = {}
    with distributed.get_task_stream(client) as tasks, \
            pytest.raises(InvalidParameterError) as error:
        sgd_dask.fit_data_parallel(est, Xd, yd, **kwargs)
    assert message in str(error.value)
    assert tasks.data == []  # nothing computed


@pytest.mark.parametrize("kwargs", [{"epochs": -1}, {"epochs": 1.5},
                                    {"shuffle_blocks": "yes"},
                                    {"random_state": "seed"}])
def test_stream_partial_fit_invalid_arguments(binary, kwargs):
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    est = GDClassifier()
    name = next(iter(kwargs))
    with pytest.raises(InvalidParameterError,
                       match=f"The '{name}' parameter of stream_partial_fit"):
        sgd_dask.stream_partial_fit(est, Xd, yd, **kwargs)
    assert not hasattr(est, "t_")


def test_dataframe_input_equals_array_input(client, binary):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    Xf = dd.from_pandas(frame, npartitions=4)
    yf = dd.from_pandas(pd.Series(y), npartitions=4)
    Xd, yd = blocked(X, y, chunk=500)
    est = GDClassifier(max_iter=3, tol=None, random_state=0)
    from_frame = sgd_dask.fit_data_parallel(est, Xf, yf, n_shards=1)
    from_array = sgd_dask.fit_data_parallel(est, Xd, yd, n_shards=1)
    assert_same_fit(from_frame, from_array)
    assert list(from_frame.feature_names_in_) == list(frame.columns)
    assert_array_equal(from_frame.predict(frame), from_array.predict(X))


def test_result_is_a_plain_picklable_estimator(client, binary):
    X, y = binary
    Xd, yd = blocked(X, np.array(["a", "b"])[y], chunk=500)
    est = GDClassifier(loss="log_loss", optimizer="adam", eta0=1e-3,
                       max_iter=2, tol=None, random_state=0)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd)
    assert type(fitted) is GDClassifier
    assert fitted.get_params() == est.get_params()
    assert_array_equal(fitted.classes_, ["a", "b"])
    allowed = (np.ndarray, np.random.Generator, list, dict, float, int, str,
               np.integer, type(None), tuple, bool)
    assert all(isinstance(v, allowed) for v in vars(fitted).values())
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    restored.partial_fit(X, np.array(["a", "b"])[y])  # continues locally
    assert restored.t_ == fitted.t_ + len(y)
    assert not hasattr(clone(fitted), "coef_")


def test_stopping_rule_and_convergence_warning(client, binary):
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = sgd_dask.fit_data_parallel(GDClassifier(random_state=0),
                                            Xd, yd, local_epochs=2)
    assert 5 < fitted.n_iter_ < 1000 and fitted.n_iter_ % 2 == 0
    with pytest.warns(ConvergenceWarning):
        fitted = sgd_dask.fit_data_parallel(
            GDClassifier(max_iter=3, random_state=0), Xd, yd)
    assert fitted.n_iter_ == 3


def test_shards_draw_their_own_row_orders(client, binary):
    """Two identical shards: with the same row orders the mix would be
    each copy's model; with their own orders it differs."""
    X, y = binary
    Xd, yd = blocked(np.vstack([X, X]), np.concatenate([y, y]), chunk=2000)
    est = GDClassifier(max_iter=1, tol=None, random_state=0)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd, n_shards=2)
    alone = clone(est).partial_fit(X, y, classes=[0, 1])
    assert fitted.t_ == 2 * alone.t_ - 1
    assert not np.allclose(fitted.coef_, alone.coef_)


def test_copies_weigh_classes_by_the_counts_of_all_shards():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.repeat([0, 1, 2], [10, 30, 60])
    classes = np.array([0, 1, 2])
    copies = sgd_dask._copies(GDClassifier(class_weight="balanced",
                                           random_state=3), 3, classes,
                              np.bincount(y))
    expected = compute_class_weight("balanced", classes=classes, y=y)
    for copy in copies:
        assert_allclose([copy.class_weight[c] for c in classes], expected)
    seeds = [copy.random_state for copy in copies]
    assert seeds[0] == 3 and len(set(seeds)) == 3


def test_balanced_class_weight_counts_all_shards(client, binary):
    X, y = binary
    order = np.argsort(y, kind="stable")  # shard 0 mostly class 0
    X, y = X[order][:1500], y[order][:1500]
    Xd, yd = blocked(X, y, chunk=750)
    est = GDClassifier(class_weight="balanced", max_iter=2, tol=None,
                       random_state=0)
    fitted = sgd_dask.fit_data_parallel(est, Xd, yd, n_shards=1)
    assert_same_fit(fitted, local_loop(est, X, y, 2, classes=[0, 1]),
                    exact=False)
    assert fitted.class_weight == "balanced"
    assert_array_equal(fitted._seen_class_counts, np.bincount(y))


@pytest.mark.parametrize("change, kwargs, error", [
    ("numpy", {}, TypeError),
    ("", {"mixing": "twice"}, ValueError),
    ("", {"local_epochs": 0}, ValueError),
    ("", {"n_shards": 5}, ValueError),
    ("", {"classes": [0]}, ValueError),
    ("early_stopping", {}, ValueError),
    ("warm_start", {}, ValueError),
    ("regressor", {"classes": [0, 1]}, ValueError),
    ("misaligned", {}, ValueError),
])
def test_invalid_calls(client, binary, change, kwargs, error):
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    est = GDClassifier()
    if change == "numpy":
        Xd = X
    elif change in ("early_stopping", "warm_start"):
        est.set_params(**{change: True})
    elif change == "regressor":
        est = GDRegressor()
    elif change == "misaligned":
        yd = da.from_array(np.concatenate([y, y]), chunks=500)
    with pytest.raises(error):
        sgd_dask.fit_data_parallel(est, Xd, yd, **kwargs)


# ----------------------------------------------------------------------
# dask-ml's Incremental (out-of-core, sequential) and searches
def test_incremental_equals_a_partial_fit_loop(client, binary):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    est = GDClassifier(loss="log_loss", optimizer="adam", eta0=1e-3,
                       random_state=0)
    inc = wrappers.Incremental(est, shuffle_blocks=False, scoring="accuracy")
    inc.fit(Xd, yd, classes=[0, 1])
    inc.partial_fit(Xd, yd, classes=[0, 1])  # a second epoch
    local = clone(est)
    for _ in range(2):
        for rows in np.array_split(np.arange(len(y)), 4):
            local.partial_fit(X[rows], y[rows], classes=[0, 1])
    assert_same_fit(inc.estimator_, local)
    assert_array_equal(inc.predict(Xd).compute(), local.predict(X))
    assert inc.score(Xd, yd) == pytest.approx(local.score(X, y), abs=1e-12)


def test_incremental_scores_a_classifier_lazily_by_default(client, binary):
    """GDClassifier.score is scikit-learn's ClassifierMixin.score, which is
    what dask-ml checks before scoring lazily (no scoring= needed)."""
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = binary
    Xd, yd = blocked(X, y, chunk=500)
    inc = wrappers.Incremental(GDClassifier(random_state=0), shuffle_blocks=False)
    inc.fit(Xd, yd, classes=[0, 1])
    assert inc.score(Xd, yd) == pytest.approx(inc.estimator_.score(X, y),
                                              abs=1e-12)


def test_incremental_regressor_scoring_workarounds(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    from sklearn.metrics import mean_squared_error, r2_score

    X, y = make_regression(2000, 5, noise=1.0, random_state=0)
    Xd, yd = blocked(X, y, chunk=500)
    # dask-ml's lazy r2 scorer fails (dask/dask-ml#1012): score with MSE, or
    # compute the predictions and use scikit-learn's r2_score
    inc = wrappers.Incremental(GDRegressor(random_state=0),
                               shuffle_blocks=False,
                               scoring="neg_mean_squared_error")
    inc.fit(Xd, yd)
    predicted = inc.predict(Xd).compute()
    assert_allclose(inc.score(Xd, yd), -mean_squared_error(y, predicted))
    assert r2_score(y, predicted) == inc.estimator_.score(X, y) > 0.9


def _cv_search(search, X, y):
    joblib = pytest.importorskip("joblib")
    serial = clone(search).fit(X, y)
    with distributed.get_task_stream() as tasks, \
            joblib.parallel_config(backend="dask"):
        parallel = clone(search).set_params(n_jobs=-1).fit(X, y)
    assert tasks.data, "no task ran on the cluster"
    assert parallel.best_params_ == serial.best_params_
    assert_array_equal(parallel.cv_results_["mean_test_score"],
                       serial.cv_results_["mean_test_score"])


def test_grid_search_under_the_dask_backend(client):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDClassifier(random_state=0))
    grid = {"gdclassifier__alpha": [1e-4, 1e-3, 1e-2],
            "gdclassifier__optimizer": ["sgd", "adam"]}
    _cv_search(GridSearchCV(pipe, grid, cv=3), X, y)


def test_halving_random_search_under_the_dask_backend(client):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = load_digits(return_X_y=True)
    X = X / 16
    space = {"alpha": np.logspace(-6, -1, 12), "loss": ["hinge", "log_loss"]}
    search = HalvingRandomSearchCV(
        GDClassifier(max_iter=20, tol=None, random_state=0), space,
        n_candidates=16, cv=3, random_state=0)
    _cv_search(search, X, y)


# ----------------------------------------------------------------------
# Worker processes
def test_worker_processes(client, binary):
    """A model hops between two worker processes and resumes exactly; a
    data-parallel fit there equals the same fit on the thread cluster."""
    X, y = binary
    est = GDClassifier(loss="log_loss", optimizer="adam", eta0=1e-3,
                       average=True, max_iter=3, tol=None, random_state=0)
    on_threads = sgd_dask.fit_data_parallel(
        est, *placed(client, X, y, chunk=500), client=client)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0",
                                  memory_limit="1GiB") as cluster, \
            distributed.Client(cluster, timeout="60s") as processes:
        workers = sorted(processes.nthreads())
        assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
        model = clone(est)
        for i, rows in enumerate(np.array_split(np.arange(len(y)), 4)):
            model = processes.submit(
                GDClassifier.partial_fit, model, X[rows], y[rows],
                classes=[0, 1], workers=[workers[i % 2]], pure=False)
        hopped = model.result(timeout=60)
        on_processes = sgd_dask.fit_data_parallel(
            est, *placed(processes, X, y, chunk=500), client=processes)
    local = clone(est)
    for rows in np.array_split(np.arange(len(y)), 4):
        local.partial_fit(X[rows], y[rows], classes=[0, 1])
    assert_same_fit(hopped, local)
    assert hopped._row_rngs[0].bit_generator.state == \
        local._row_rngs[0].bit_generator.state
    assert_same_fit(on_processes, on_threads)
