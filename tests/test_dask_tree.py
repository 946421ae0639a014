"""Tree-reduced mixing (issue 19): the pairwise mixture of arrays equals
``mix``, is computed in a fixed order whatever the placement and timing,
moves arrays and not estimators, and survives a worker killed mid-round.

Skipped without dask/distributed.  Loopback clusters only.
"""

import os
import signal
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn.optim import FTRL

from .conftest import OWN_AVERAGE, per_optimizer, without_rate

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
sgd_dask = pytest.importorskip("sgdlearn.dask")
from sgdlearn._dask_mixing import (  # noqa: E402
    adopt,
    finalize,
    leaf,
    merge,
    mix,
    reduce_pairwise,
    tree_mix,
)

STATE = ("coef_", "intercept_", "_coef_state", "_intercept_state",
         "_optimizer_steps", "_optimizer_counters", "_standard_coef",
         "_standard_intercept", "_average_coef", "_average_intercept", "t_",
         "loss_curve_", "n_iter_", "best_loss_")


def relative_error(a, b):
    """max |a - b| / |a| over the fitted state (0 where both are 0)."""
    worst = 0.0
    for name in STATE:
        x, y = getattr(a, name, None), getattr(b, name, None)
        assert (x is None) == (y is None), name
        if x is None:
            continue
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        assert x.shape == y.shape, name
        scale = np.maximum(np.abs(x), np.finfo(np.float64).tiny)
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y) / scale)))
    return worst


def assert_same_fit(a, b):
    for name in STATE:
        x, y = getattr(a, name, None), getattr(b, name, None)
        assert (x is None) == (y is None), name
        if x is not None:
            assert_array_equal(np.asarray(x), np.asarray(y), err_msg=name)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(2000, 8, n_informative=4, n_classes=3,
                               random_state=0)
    return StandardScaler().fit_transform(X), y


BOUNDS = (0, 150, 500, 900, 1300, 2000)  # shards of unequal sizes


def fitted_copies(est, X, y, n, classes=(0, 1, 2)):
    """``n`` copies fitted on unequal shards, some for two epochs: they
    differ in step count, clock and loss-curve length."""
    copies = []
    for i in range(n):
        model = clone(est).set_params(random_state=i)
        rows = slice(BOUNDS[i], BOUNDS[i + 1])
        for _ in range(1 + i % 2):
            kwargs = {} if isinstance(model, GDRegressor) else {
                "classes": list(classes)}
            model.partial_fit(X[rows], y[rows], **kwargs)
        copies.append(model)
    sizes = np.diff(BOUNDS[:n + 1]).astype(float)
    return copies, sizes / sizes.sum()


# Every optimizer of the table (per_optimizer gives a new one its defaults).
OPTIMIZERS = per_optimizer({
    "adam": "adam",
    "amsgrad": "amsgrad",
    "adamax": "adamax",
    "nadam": "nadam",
    "ftrl": FTRL(l1=0.01, l2=0.1),
    "adagrad": "adagrad",
    "rmsprop-centered": "rmsprop",
    "momentum": "momentum",
    "sgd": "sgd",
}, default=lambda name: name)


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("multinomial", [False, True])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_tree_mix_equals_mix(data, name, multinomial, average):
    """The pairwise mixture equals ``mix`` to 1e-12 relative, over 2, 3 and
    5 copies (a full tree and odd ones out), with bias-corrected, maximum
    and recomputed (FTRL) slots and counters; one copy bit for bit."""
    if average and name in OWN_AVERAGE:
        pytest.skip("schedule-free publishes its own average (an error)")
    X, y = data
    params = {"loss": "log_loss", "multi_class": "multinomial"} \
        if multinomial else {}
    if name == "rmsprop-centered":
        params["centered"] = True
    params = without_rate({"optimizer": OPTIMIZERS[name], "eta0": 0.01,
                           **params})
    if name == "ftrl":
        params["eta0"] = 0.5
    est = GDClassifier(average=average, batch_size=50, random_state=0,
                       **params)
    copies, weights = fitted_copies(est, X, y, 5)
    steps = {int(c._optimizer_steps[0]) for c in copies}
    assert len(steps) > 1  # the bias correction is exercised
    for n in (2, 3, 5):
        w = weights[:n] / weights[:n].sum()
        error = relative_error(mix(copies[:n], w), tree_mix(copies[:n], w))
        assert error <= 1e-12, (n, error)
    assert_same_fit(tree_mix(copies[:1], [1.0]), mix(copies[:1], [1.0]))


def test_tree_mix_of_a_multi_output_regressor():
    X, y = make_regression(2000, 6, n_targets=3, random_state=0)
    est = GDRegressor(optimizer="adam", average=True, eta0=0.01,
                      batch_size=50, random_state=0)
    copies, weights = fitted_copies(est, X / 10, y / 100, 5)
    assert relative_error(mix(copies, weights),
                          tree_mix(copies, weights)) <= 1e-12


def test_merge_rules(data):
    """Counters from the copy with the most steps (the left one on ties),
    steps by maximum, clocks summed, curves padded with their last value."""
    X, y = data
    est = GDClassifier(optimizer="nadam", loss="log_loss", batch_size=50,
                       eta0=0.01, random_state=0)
    a, b, c = fitted_copies(est, X, y, 3)[0]
    pa, pb = leaf(a, 0.5), leaf(b, 0.5)
    merged = merge(pa, pb)
    assert_array_equal(merged["steps"], np.maximum(a._optimizer_steps,
                                                   b._optimizer_steps))
    later = b if b._optimizer_steps[0] > a._optimizer_steps[0] else a
    assert_array_equal(merged["counters"], later._optimizer_counters)
    assert merged["clock"] == a.t_ + b.t_ - 2
    curve = finalize(merged)["loss_curve_"]
    longest = max(len(a.loss_curve_), len(b.loss_curve_))
    padded = [list(m.loss_curve_) + [m.loss_curve_[-1]] * (
        longest - len(m.loss_curve_)) for m in (a, b)]
    np.testing.assert_allclose(curve, 0.5 * np.add(*padded), rtol=1e-15)
    tie = merge(leaf(a, 0.5), leaf(a, 0.5))  # ties keep the left copy
    assert_array_equal(tie["counters"], a._optimizer_counters)
    # the fixed tree of 5: node 2, subtrees (0 <- 1) and (3 <- 4), merged
    # in shard order
    parts = [leaf(m, 0.2) for m in (a, b, c, a, b)]
    expected = merge(merge(merge(parts[0], parts[1]), parts[2]),
                     merge(parts[3], parts[4]))
    got = reduce_pairwise(parts)
    for name in expected["sums"]:
        assert_array_equal(got["sums"][name], expected["sums"][name])


def test_adopt_a_state_dict(data):
    X, y = data
    est = GDClassifier(optimizer="adam", average=True, batch_size=50,
                       random_state=0)
    copies, weights = fitted_copies(est, X, y, 3)
    state = finalize(reduce_pairwise(
        [leaf(m, w) for m, w in zip(copies, weights, strict=True)]))
    model = clone(copies[1])
    model.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    t, rng = model.t_, model._row_rngs[0].bit_generator.state
    adopt(model, state)
    assert model.t_ == t and model._row_rngs[0].bit_generator.state == rng
    for name in ("_coef_state", "_standard_coef", "_average_coef",
                 "_optimizer_steps"):
        assert_array_equal(getattr(model, name), state[name])
        assert getattr(model, name) is not state[name]  # a copy
    model.partial_fit(X[:100], y[:100])  # continues


# ----------------------------------------------------------------------
# On a cluster
def test_round_on_the_cluster_equals_tree_mix_whatever_the_placement(
        client, data):
    """The cluster's tree computes exactly ``tree_mix``: the same bits with
    the copies spread over the workers or all on one (the order is a
    function of the shards, not of placement or timing)."""
    X, y = data
    est = GDClassifier(optimizer="amsgrad", average=True, batch_size=50,
                       eta0=0.01, random_state=0)
    copies, weights = fitted_copies(est, X, y, 5)
    expected = tree_mix(copies, weights)
    workers = sorted(client.nthreads())
    for places in ([workers[i % 2] for i in range(5)], [workers[0]] * 5,
                   [workers[1], workers[0], workers[0], workers[1],
                    workers[1]]):
        models = [client.scatter(m, workers=[p]) for m, p in
                  zip(copies, places, strict=True)]
        state, copies_of_state = sgd_dask.mix_round(client, models, places,
                                                    weights)
        got = client.submit(sgd_dask.build, models[0], state,
                            workers=[places[0]]).result()
        assert_same_fit(got, expected)
        # every shard adopts the same arrays
        for shard_state in client.gather(copies_of_state):
            assert_array_equal(shard_state["_coef_state"],
                               expected._coef_state)


@pytest.mark.parametrize("n_shards", [3, 4])
def test_fit_is_deterministic_and_equals_the_star(client, data, n_shards):
    X, y = data
    Xd, yd = (da.from_array(a, chunks=(250,) + (-1,) * (a.ndim - 1))
              for a in (X, y))
    Xd, yd = client.persist([Xd, yd])
    for est in (GDClassifier(optimizer="adam", average=True, eta0=0.01,
                             max_iter=4, tol=None, random_state=0),
                GDClassifier(optimizer=FTRL(l1=0.01), loss="log_loss",
                             multi_class="multinomial", max_iter=3,
                             tol=None, random_state=0)):
        fits = [sgd_dask.fit_data_parallel(est, Xd, yd, n_shards=n_shards,
                                           reduction=reduction)
                for reduction in ("tree", "tree", "star")]
        assert_same_fit(fits[0], fits[1])
        assert relative_error(fits[2], fits[0]) <= 1e-12


def test_invalid_reduction_fails_before_any_work(client, data):
    X, y = data
    with pytest.raises(Exception, match="reduction"):
        sgd_dask.fit_data_parallel(GDClassifier(), da.from_array(X),
                                   da.from_array(y), reduction="ring")


# ----------------------------------------------------------------------
# Worker processes: what travels, and a worker killed mid-round
def _received(client):
    """{worker: [(key, bytes)]} from each worker's transfer log, then
    cleared: distributed's own accounting of what each worker fetched."""
    def drain(dask_worker):
        log = [(str(key), nbytes) for entry in dask_worker.transfer_incoming_log
               for key, nbytes in entry["keys"].items()]
        dask_worker.transfer_incoming_log.clear()
        return log
    return client.run(drain)


@pytest.fixture(scope="module")
def processes():
    with distributed.LocalCluster(n_workers=4, threads_per_worker=1,
                                  processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0",
                                  memory_limit="1GiB") as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        yield cluster, client


def test_only_arrays_travel_in_a_tree_round(processes):
    """A tree round fetches partials and mixture states (dicts of arrays),
    never a trained copy: over 4 workers, the root (shard 2) receives its
    two subtrees' partials, shard 1 shard 0's partial and the mixture,
    shards 0 and 3 the mixture; the star fetches every copy into one
    worker."""
    _, client = processes
    X, y = make_classification(400, 1000, random_state=0)
    est = GDClassifier(optimizer="adam", random_state=0)
    workers = sorted(client.nthreads())
    models = [client.submit(GDClassifier.partial_fit, clone(est), X, y,
                            classes=[0, 1], workers=[w], pure=False)
              for w in workers]
    distributed.wait(models)
    weights = np.full(4, 0.25)
    _received(client)
    state, copies = sgd_dask.mix_round(client, models, workers, weights)
    distributed.wait(copies)
    tree = _received(client)
    keys = [key for log in tree.values() for key, _ in log]
    assert keys and not any("_train_shard" in k or "partial_fit" in k
                            for k in keys)
    assert {k.split("-")[0] for k in keys} <= {"_node_task", "_relay"}
    model_bytes = 8 * 1000 * 3  # coef_ and Adam's two moments
    counts = {w: len(log) for w, log in tree.items()}
    assert [counts[w] for w in workers] == [1, 2, 2, 1]
    assert all(nbytes >= model_bytes for log in tree.values()
               for _, nbytes in log)
    mixed, _ = sgd_dask.mix_round(client, models, workers, weights, "star")
    distributed.wait(mixed)
    star = _received(client)
    fetched = {k for log in star.values() for k, _ in log}
    assert sum("partial_fit" in k for k in fetched) == 3  # 3 copies move


def test_a_worker_killed_mid_round_is_survived(processes):
    """SIGKILL, from round 2 on, a worker holding a subtree's partial for
    a node that waits for its other inputs (the reduction is under way);
    its nanny restarts it, the lost keys are recomputed from their lineage
    (the data is generated by dask, not scattered), and the fit equals the
    undisturbed one bit for bit."""
    cluster, client = processes
    rng = da.random.default_rng(0)
    X = rng.standard_normal((4000, 10), chunks=(500, 10))
    y = (X[:, 0] + 0.5 * rng.standard_normal(4000, chunks=500) > 0).astype(int)
    X, y = client.persist([X, y])  # the same shards for both fits
    distributed.wait([X, y])
    est = GDClassifier(loss="log_loss", optimizer="adam", eta0=1e-2,
                       average=True, max_iter=12, tol=None, random_state=0)
    undisturbed = sgd_dask.fit_data_parallel(est, X, y, classes=[0, 1],
                                             n_shards=4, client=client)
    pids = client.run(os.getpid)
    killed, errors, done = [], [], threading.Event()

    def victim(scheduler, seen):
        """The holder of a node's ready subtree partial while the node
        waits for its other input."""
        nodes = [ts for ts in list(scheduler.tasks.values())
                 if str(ts.key).startswith("_node_task")]
        seen.update(ts.key for ts in nodes)
        for ts in nodes if len(seen) > 4 else ():  # from round 2 on
            ready = [dep for dep in list(ts.dependencies)
                     if str(dep.key).startswith("_node_task")
                     and dep.state == "memory" and dep.who_has]
            if ts.state in ("waiting", "processing") and ready:
                return next(iter(ready[0].who_has)).address
        return None

    def killer():
        seen = set()
        while not done.is_set() and not killed:
            try:
                address = victim(cluster.scheduler, seen)
            except RuntimeError:  # changed while read
                continue
            except BaseException as exc:  # reported by the test
                errors.append(exc)
                return
            if address is not None:
                os.kill(pids[address], signal.SIGKILL)
                killed.append(address)
            time.sleep(0.0005)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        survived = sgd_dask.fit_data_parallel(est, X, y, classes=[0, 1],
                                              n_shards=4, client=client)
    finally:
        done.set()
        thread.join()
    assert not errors, errors
    assert killed, "no merge was caught running: nothing was killed"
    assert_same_fit(survived, undisturbed)


class _Recorder:
    """A stand-in client recording each task's function, arguments, place
    and depth (1 + the deepest input), without a cluster."""

    def __init__(self):
        self.tasks = []

    def submit(self, fn, *args, workers, allow_other_workers, pure):
        assert allow_other_workers and not pure
        depth = 1 + max((a.depth for a in args if isinstance(a, _Task)),
                        default=0)
        task = _Task(fn.__name__, args, workers[0], depth)
        self.tasks.append(task)
        return task


class _Task:
    def __init__(self, name, args, place, depth):
        self.name, self.args, self.place, self.depth = name, args, place, depth


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13, 16])
def test_tree_shape(n):
    """One node task per shard, on its worker, floor(log2 n) + 1 levels
    deep; a node receives at most two partials; the broadcast reaches each
    other worker once, over at most floor(log2 n) relays, each worker
    sending at most two; a node on its parent's worker needs no relay."""
    import math

    client = _Recorder()
    places = [f"w{i}" for i in range(n)]
    models = [f"m{i}" for i in range(n)]
    state = sgd_dask._reduce_tree(client, models, places, np.full(n, 1.0 / n))
    levels = math.floor(math.log2(n)) + 1
    assert state.depth == levels and state.place == f"w{n // 2}"
    nodes = [t for t in client.tasks if t.name == "_node_task"]
    assert sorted(t.args[1] for t in nodes) == sorted(models)
    for t in nodes:
        assert t.place == places[models.index(t.args[1])]
        assert sum(isinstance(a, _Task) for a in t.args) <= 2
    assert [t.args[-1] for t in nodes].count(True) == 1  # finalized once
    copies = sgd_dask._broadcast_tree(client, state, places)
    relays = [t for t in client.tasks if t.name == "_relay"]
    assert sorted(t.place for t in relays) == sorted(set(places) - {
        state.place})
    assert all(c.place == p for c, p in zip(copies, places, strict=True))
    assert max(c.depth for c in copies) - state.depth <= levels - 1
    sends = [sum(r.args[0] is c for r in relays) for c in [state] + relays]
    assert max(sends) <= 2
    # the tree's order is the shards': the same tree as reduce_pairwise
    order = []
    _in_order(client, state, order)
    assert order == models
    # two shards per worker: a node on its parent's worker needs no relay
    client = _Recorder()
    places = [f"w{i // 2}" for i in range(n)]
    state = sgd_dask._reduce_tree(client, models, places, np.full(n, 1.0 / n))
    copies = sgd_dask._broadcast_tree(client, state, places)
    assert all(c.place == p for c, p in zip(copies, places, strict=True))
    relays = [t for t in client.tasks if t.name == "_relay"]
    assert len(relays) <= len(set(places)) + math.floor(math.log2(n))


def _in_order(client, task, order):
    """The models of a recorded reduction, in the order they are merged."""
    left, model, _, right, _ = task.args
    if left is not None:
        _in_order(client, left, order)
    order.append(model)
    if right is not None:
        _in_order(client, right, order)
