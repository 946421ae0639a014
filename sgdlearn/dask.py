"""Training on dask collections: data-parallel fits and block streaming.

Needs the optional dependencies ``pip install "sgdlearn[dask]"``; importing
:mod:`sgdlearn` itself never imports dask.

* :func:`fit_data_parallel` trains one copy of an estimator per shard of a
  dask array or DataFrame, on the workers that hold the shard, and averages
  the copies' weights and optimizer state every few epochs (iterative
  parameter mixing, McDonald et al. 2010) or once at the end (one-shot
  averaging, Zinkevich et al. 2010), over a spanning tree of the shards:
  only the averaged arrays travel, never the data or an estimator.
* :func:`stream_partial_fit` feeds a dask collection to ``partial_fit``
  block by block, computing one block at a time (out-of-core training on
  one machine).

The user guide page ``docs/guide/dask.rst`` shows both, with dask-ml's
``Incremental`` and distributed hyper-parameter searches.
"""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._base import transactional
from sgdlearn._dask_mixing import (
    Arrays,
    adopt,
    build,
    finalize,
    leaf,
    merge_node,
    mix,
    mixing_weights,
    nbytes,
    tree_nodes,
)

try:
    import dask
    from distributed import get_client
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sgdlearn.dask needs dask and distributed: "
        "pip install 'sgdlearn[dask]'"
    ) from exc

from dask.sizeof import sizeof  # noqa: E402

from sgdlearn._base import BaseGD  # noqa: E402
from sgdlearn._dask_shards import describe, make_shards, row_blocks  # noqa: E402


@sizeof.register(BaseGD)
def _sizeof_estimator(model):
    """The bytes of an estimator's arrays, not ``sys.getsizeof``'s few
    hundred: the scheduler's memory accounting and its transfer log then
    see what a model weighs."""
    return nbytes(vars(model))


@sizeof.register(Arrays)
def _sizeof_arrays(arrays):
    """Exact, where dask samples a plain dict's entries."""
    return nbytes(arrays)

__all__ = ["fit_data_parallel", "stream_partial_fit"]

_MAX_SEED = np.iinfo(np.int32).max


# ----------------------------------------------------------------------
# Training on the workers
def _converged(curve, tol, patience):
    """scikit-learn's stopping rule over a loss curve: ``patience`` epochs
    in a row without an improvement of at least ``tol`` on the best."""
    best, count = np.inf, 0
    for loss in curve:
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count >= patience:
            return True
    return False


def _train_shard(model, shard, mixed, n_epochs, classes, stop):
    """``n_epochs`` epochs of ``partial_fit`` on a shard (runs on a worker),
    from the mixture's state if given; ``stop`` = (tol, patience) ends it
    early by the stopping rule of ``fit``."""
    model = copy.deepcopy(model)  # never modify an object dask holds
    if mixed is not None:
        adopt(model, mixed)
    X, y, sample_weight = shard
    for _ in range(n_epochs):
        kwargs = {}
        if classes is not None and not hasattr(model, "classes_"):
            kwargs["classes"] = classes
        model.partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        if stop is not None and _converged(model.loss_curve_, *stop):
            break
    return model


def _mixture_converged(mixed, tol, patience):
    curve = (mixed["loss_curve_"] if isinstance(mixed, dict)
             else mixed.loss_curve_)
    return _converged(curve, tol, patience)


# ----------------------------------------------------------------------
# One averaging round over a tree of tasks (the default): arrays travel,
# not estimators.
def _node_task(left, model, weight, right, last):
    """One node of the reduction: its subtrees' partials (fetched) and its
    own copy's (local), merged in shard order; finalized at the root."""
    partial = merge_node(left, leaf(model, weight), right)
    return finalize(partial) if last else partial


def _relay(state):
    """The mixture, copied to the worker this task runs on."""
    return state


def _reduce_tree(client, models, places, weights):
    """The mixture's state dict, computed over a fixed spanning tree of the
    shards (:func:`~sgdlearn._dask_mixing.tree_nodes`; Vowpal Wabbit's
    AllReduce is one too): the middle shard of a range is a node whose
    subtrees are the shards before and after it.  Each node is one task on
    its own shard's worker, which turns its copy into a partial (arrays
    only) and merges it with its subtrees' partials, the only data that
    travels (at most two per node).  floor(log2 n) + 1 levels; the root
    finalizes.  The tree, hence the order of the sums, is a function of the
    shards, not of timing: the tree of
    :func:`~sgdlearn._dask_mixing.reduce_pairwise`."""
    def reduce(lo, hi, last=False):
        if lo >= hi:
            return None
        mid, left, right = tree_nodes(lo, hi)
        return client.submit(_node_task, reduce(*left), models[mid],
                             float(weights[mid]), reduce(*right), last,
                             workers=[places[mid]], allow_other_workers=True,
                             pure=False)

    return reduce(0, len(models), True)


def _broadcast_tree(client, state, places):
    """A copy of the mixture on every shard's worker, sent down the same
    tree: each node's worker gets it from its parent's, so each worker
    receives it once and sends it at most twice, over floor(log2 n) hops.
    A node on its parent's worker uses its parent's copy."""
    copies = [None] * len(places)

    def down(lo, hi, parent, where):
        if lo >= hi:
            return
        mid, left, right = tree_nodes(lo, hi)
        if places[mid] == where:
            copies[mid] = parent
        else:
            copies[mid] = client.submit(_relay, parent, workers=[places[mid]],
                                        allow_other_workers=True, pure=False)
        down(*left, copies[mid], places[mid])
        down(*right, copies[mid], places[mid])

    root, left, right = tree_nodes(0, len(places))
    copies[root] = state
    down(*left, state, places[root])
    down(*right, state, places[root])
    return copies


def mix_round(client, models, places, weights, reduction="tree"):
    """One averaging round of the copies ``models`` (futures, shard i's on
    ``places[i]``): (the mixture, one future of it per shard for the shards
    to adopt).  ``reduction="star"`` is the former path: every copy to one
    ``mix`` task, the mixed estimator to every shard; ``"tree"`` reduces
    and broadcasts arrays over a tree (:func:`_reduce_tree`,
    :func:`_broadcast_tree`)."""
    if reduction == "star":
        mixed = client.submit(mix, models, weights, pure=False)
        return mixed, [mixed] * len(models)
    state = _reduce_tree(client, models, places, weights)
    return state, _broadcast_tree(client, state, places)


# ----------------------------------------------------------------------
# The driver
# scikit-learn's constraints (and messages) for the functions' own
# parameters, checked before anything is computed or modified.
_FIT_CONSTRAINTS = {
    "mixing": [StrOptions({"iterative", "one_shot"})],
    "local_epochs": [Interval(Integral, 1, None, closed="left")],
    "n_shards": [Interval(Integral, 1, None, closed="left"), None],
    "reduction": [StrOptions({"tree", "star"})],
}
_STREAM_CONSTRAINTS = {
    "epochs": [Interval(Integral, 0, None, closed="left")],
    "shuffle_blocks": ["boolean"],
    "random_state": ["random_state"],
}


def _check_estimator(estimator):
    if not isinstance(estimator, GDClassifier | GDRegressor):
        raise TypeError("estimator must be a GDClassifier or GDRegressor, got "
                        f"{type(estimator).__name__}")


def _check_call(estimator, mixing, local_epochs, n_shards, classes,
                reduction="tree"):
    _check_estimator(estimator)
    validate_parameter_constraints(
        _FIT_CONSTRAINTS,
        {"mixing": mixing, "local_epochs": local_epochs, "n_shards": n_shards,
         "reduction": reduction},
        caller_name="fit_data_parallel",
    )
    # the estimator's own parameters, with the messages of its fit
    clone(estimator)._validate_params()
    if estimator.early_stopping:
        raise ValueError("early_stopping=True is not supported by "
                         "fit_data_parallel: use tol on the training loss.")
    if estimator.warm_start:
        raise ValueError(
            "warm_start=True is not supported: fit_data_parallel always "
            "starts from zero. Continue a fitted model with partial_fit or "
            "stream_partial_fit."
        )
    if classes is not None and not is_classifier(estimator):
        raise ValueError("classes is only for classifiers")


def _classes_and_counts(classes, infos):
    """The classes (given or seen) and the count of each over all shards."""
    seen = np.unique(np.concatenate([info[2] for info in infos]))
    if classes is None:
        classes = seen
    else:
        classes = np.unique(np.asarray(classes))
        unknown = np.setdiff1d(seen, classes)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown.tolist()} that are "
                             f"not in classes {classes.tolist()}")
    counts = np.zeros(len(classes), dtype=np.int64)
    for _, _, labels, label_counts in infos:
        counts[np.searchsorted(classes, labels)] += label_counts
    return classes, counts


def _copies(estimator, n_copies, classes, counts):
    """One unfitted copy per shard, each drawing its own row orders: the
    first keeps ``random_state``, the others get seeds drawn from it."""
    base = clone(estimator)
    seeds = check_random_state(clone(estimator).random_state).randint(
        _MAX_SEED, size=n_copies)
    if is_classifier(base) and base.class_weight == "balanced":
        # every copy weighs classes by their counts over all the data
        seen = counts > 0
        table = np.ones(len(classes))
        table[seen] = counts.sum() / (seen.sum() * counts[seen])
        base.set_params(class_weight=dict(zip(classes.tolist(),
                                              table.tolist(), strict=True)))
    copies = [clone(base)]
    copies += [clone(base).set_params(random_state=int(seed))
               for seed in seeds[1:]]
    return copies


def _train(client, copies, shards, places, weights, classes, estimator, *,
           one_shot, local_epochs, reduction="tree"):
    """Rounds of local epochs, each followed by a mix, until ``max_iter``
    epochs or the stopping rule; returns the final mixture."""
    max_iter, tol = estimator.max_iter, estimator.tol
    stop = None if tol is None else (tol, estimator.n_iter_no_change)
    per_round = max_iter if one_shot else local_epochs
    models, mixed, done, converged = copies, None, 0, False
    adopted = [None] * len(copies)
    while done < max_iter and not converged:
        epochs = min(per_round, max_iter - done)
        models = [
            client.submit(_train_shard, model, shard, start, epochs, classes,
                          stop if one_shot else None, workers=[place],
                          allow_other_workers=True, pure=False)
            for model, shard, start, place in zip(models, shards, adopted,
                                                  places, strict=True)
        ]
        done += epochs
        if done < max_iter or reduction == "star":
            mixed, adopted = mix_round(client, models, places, weights,
                                       reduction)
        else:  # the last round: the mixture is only needed as a model
            mixed = _reduce_tree(client, models, places, weights)
        if stop is not None and not one_shot:
            converged = client.submit(_mixture_converged, mixed, *stop,
                                      pure=False).result()
    if reduction == "star":
        return mixed.result()
    return client.submit(build, models[0], mixed, workers=[places[0]],
                         allow_other_workers=True, pure=False).result()


def _finish(model, estimator, X, classes, counts):
    """The mixture as the user's estimator: its parameters, the feature
    names of a DataFrame, the class counts of ``fit``."""
    model.set_params(**clone(estimator).get_params(deep=False))
    columns = getattr(X, "columns", None)
    if columns is not None and all(isinstance(c, str) for c in columns):
        model.feature_names_in_ = np.asarray(list(columns), dtype=object)
    if classes is not None:
        model._seen_class_counts = counts
    model._warn_if_not_converged()
    return model


# ----------------------------------------------------------------------
# Public API
def fit_data_parallel(estimator, X, y, *, classes=None, sample_weight=None,
                      mixing="iterative", local_epochs=1, n_shards=None,
                      reduction="tree", client=None):
    """Fit a copy of ``estimator`` on a dask collection, data-parallel.

    The row blocks are computed on the workers (or found there, if the
    collection was persisted) and grouped into shards where they lie: each
    worker's blocks, in index order, are stacked into one array per shard
    on that worker.  Each shard trains its own copy of the estimator with
    ``partial_fit`` epochs in the compiled kernel, drawing its own row
    orders.  The copies
    are averaged, weighted by their total sample weight, every
    ``local_epochs`` epochs, and continue from the average (iterative
    parameter mixing); or only once, at the end (one-shot averaging).
    Weights and optimizer state are averaged; see :ref:`dask-guide` for how.
    The average is reduced over a fixed spanning tree of tasks placed on
    the workers holding the copies, and sent back down the same tree: only the
    averaged arrays (weights, optimizer state, counters) travel, never the
    data or a pickled estimator, and the order of the sums is a function
    of the shards, not of timing.

    The number of epochs and the stopping rule are the estimator's, as in
    ``fit``: up to ``max_iter`` epochs per shard; with ``tol`` set, the
    iterative mode stops at the first mix after ``n_iter_no_change`` epochs
    without an improvement of ``tol`` in the averaged training loss, and
    one-shot shards stop on their own loss.  The learning-rate schedule is
    that of ``partial_fit`` ('adaptive' keeps ``eta0``).

    Parameters
    ----------
    estimator : GDClassifier or GDRegressor
        The estimator to fit; it is cloned, not modified.  ``warm_start``
        and ``early_stopping`` must be False.
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Training data, chunked along the rows only (column chunks are
        merged).  Its blocks are computed on the workers, or reused if
        ``X`` was persisted.
    y : dask array or dask Series of shape (n_samples,)
        Targets, with the same row blocks as ``X`` (dask arrays of known
        chunk sizes are rechunked to match).
    classes : array-like of shape (n_classes,), default=None
        Every class label, for a classifier.  Found from ``y`` if None
        (the labels are counted on the workers; no extra pass).
    sample_weight : dask array or dask Series of shape (n_samples,), \
default=None
        Non-negative sample weights, blocked as ``y``, checked as ``fit``
        checks them.  A shard whose weights are all zero contributes
        nothing (it does not train; its mixing weight is zero); all-zero
        weights overall raise ``fit``'s ValueError.
    mixing : {'iterative', 'one_shot'}, default='iterative'
        'iterative' averages every ``local_epochs`` epochs (McDonald et al.
        2010); 'one_shot' trains each shard alone and averages once
        (Zinkevich et al. 2010).
    local_epochs : int, default=1
        Epochs each shard runs between two averages ('iterative' only).
    n_shards : int >= 1, default=None
        Number of shards, at most the number of row blocks of ``X``.  None
        makes one shard per worker thread (at most one per block).  Shards
        are spread over the workers in proportion to the blocks they hold;
        no block moves unless ``n_shards`` is smaller than the number of
        workers holding blocks.  The result depends on ``random_state`` and
        on which blocks make each shard, hence on where dask placed them
        (the same for a persisted collection); with ``n_shards=1`` it does
        not.
    reduction : {'tree', 'star'}, default='tree'
        How a round's average is computed.  'tree': over a spanning tree of
        the shards, floor(log2 n_shards) + 1 levels deep, whose nodes merge
        their own copy's arrays with their two subtrees' on their own
        worker, then sent down the same tree (each worker receives at most
        three sets of arrays per round, whatever the number of shards).
        'star': the former path, kept for comparison: every copy's
        estimator to one task, and the mixed estimator from it to every
        shard.  Both give the same model up to rounding (<= 1e-12
        relative).
    client : distributed.Client, default=None
        The client to use; the default client if None.

    Returns
    -------
    estimator : GDClassifier or GDRegressor
        A fitted estimator of the same class and parameters, holding the
        averaged state.  It needs no cluster to predict, score, pickle or
        continue with ``partial_fit``.

    See Also
    --------
    stream_partial_fit : Out-of-core training on one machine.

    Notes
    -----
    The copies' weights (with ``average``, the current and the averaged
    iterates), momentum buffers and first and second moments are weighted
    means; Adam-type moments are averaged bias-corrected and re-biased for
    the largest step count, which the mixture keeps.  Each copy keeps its
    own schedule clock; the result's ``t_`` counts the updates of all
    copies (what one machine would have made), ``n_iter_`` the epochs each
    shard ran, and ``loss_curve_`` is the weighted mean of the copies'.

    References
    ----------
    R. McDonald, K. Hall and G. Mann. Distributed Training Strategies for
    the Structured Perceptron. NAACL-HLT 2010.

    M. Zinkevich, M. Weimer, A. Smola and L. Li. Parallelized Stochastic
    Gradient Descent. NeurIPS 2010.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from sgdlearn import GDClassifier
    >>> from sgdlearn.dask import fit_data_parallel
    >>> with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
    ...                   dashboard_address="127.0.0.1:0",
    ...                   worker_dashboard_address="127.0.0.1:0") as cluster, \\
    ...         Client(cluster) as client:
    ...     rng = da.random.default_rng(0)
    ...     X = rng.standard_normal((20_000, 10), chunks=(5_000, 10))
    ...     y = (X[:, 0] + X[:, 1] > 0).astype(int)
    ...     clf = fit_data_parallel(
    ...         GDClassifier(loss="log_loss", max_iter=5, tol=None,
    ...                      random_state=0), X, y)
    >>> clf.coef_.shape
    (1, 10)
    """
    _check_call(estimator, mixing, local_epochs, n_shards, classes, reduction)
    classifier = is_classifier(estimator)
    client = get_client() if client is None else client
    xs, ys, ws = row_blocks(X, y, sample_weight)
    shards, places = make_shards(client, xs, ys, ws, n_shards)
    infos = client.gather([
        client.submit(describe, shard, classifier, workers=[place],
                      allow_other_workers=True, pure=False)
        for shard, place in zip(shards, places, strict=True)
    ])
    if not any(info[0] > 0 for info in infos):
        raise ValueError("X has no rows")
    counts = None
    if classifier:  # every labelled row counts, whatever its weight (as fit)
        classes, counts = _classes_and_counts(
            classes, [info for info in infos if info[0] > 0])
    # A shard whose weights are all zero would only make updates of weight
    # zero: it is left out, and its mixing weight is zero.
    keep = [i for i, info in enumerate(infos) if info[0] > 0 and info[1] > 0]
    if not keep:  # the message of fit
        raise ValueError("Sample weights must contain at least one non-zero "
                         "number.")
    shards = [shards[i] for i in keep]
    places = [places[i] for i in keep]
    infos = [infos[i] for i in keep]
    weights = mixing_weights([info[1] for info in infos])
    copies = _copies(estimator, len(shards), classes, counts)
    mixed = _train(client, copies, shards, places, weights, classes,
                   estimator, one_shot=mixing == "one_shot",
                   local_epochs=int(local_epochs), reduction=reduction)
    return _finish(mixed, estimator, X, classes, counts)


def _unique_labels(ys):
    """The sorted labels of Delayed blocks (computes only the labels)."""
    labels = dask.compute(*[dask.delayed(np.unique)(block) for block in ys])
    return np.unique(np.concatenate(labels))


def _n_rows(data):
    return np.shape(data)[0] if data is not None else 0


@transactional
def _stream(estimator, xs, ys, ws, orders, kwargs):
    """The ``partial_fit`` calls of :func:`stream_partial_fit`, one per
    non-empty block; any exception restores ``estimator`` (the ``self`` of
    :func:`~sgdlearn._base.transactional`) as it was before the first."""
    n_rows = 0
    for epoch, order in enumerate(orders):
        for index in order:
            try:
                block = (xs[index], ys[index], None if ws is None else ws[index])
                X_block, y_block, w_block = dask.compute(*block)
                if _n_rows(X_block) == 0 and _n_rows(y_block) == 0:
                    continue  # e.g. made empty by boolean filtering
                n_rows += _n_rows(X_block)
                estimator.partial_fit(X_block, y_block, sample_weight=w_block,
                                      **kwargs)
            except BaseException as exc:
                if hasattr(exc, "add_note"):  # Python >= 3.11
                    exc.add_note(
                        f"stream_partial_fit: failed at row block {index} "
                        f"(counting from 0, of {len(xs)}) in pass {epoch + 1} "
                        f"of {len(orders)}; the estimator is restored to its "
                        "state before the call."
                    )
                raise
    if orders and n_rows == 0:
        raise ValueError(
            f"X has no rows: all its {len(xs)} row blocks are empty, and "
            f"{type(estimator).__name__}.partial_fit needs at least one sample."
        )
    return estimator


def stream_partial_fit(estimator, X, y, *, classes=None, sample_weight=None,
                       epochs=1, shuffle_blocks=False, random_state=None):
    """Train an estimator with ``partial_fit``, one dask block at a time.

    Each block is computed (by the active dask scheduler, a cluster or
    not), passed to ``estimator.partial_fit`` in this process and dropped,
    so at most one block is in memory at a time.  This is out-of-core
    training on one machine, exactly as a loop of ``partial_fit`` calls
    over the blocks; to train on the workers instead, use dask-ml's
    ``Incremental`` or :func:`fit_data_parallel`.

    Empty blocks (boolean filtering makes them) are skipped; a stream whose
    blocks are all empty raises ValueError, as ``partial_fit`` does on no
    rows.  The call is all or nothing, as ``partial_fit`` is: if any
    block fails (its computation or its ``partial_fit``, KeyboardInterrupt
    included), the estimator is restored bit for bit to its state before
    the call (unfitted if it was), and the exception, re-raised, says
    which block failed.

    Parameters
    ----------
    estimator : GDClassifier or GDRegressor
        The estimator to train, fitted or not; modified in place.
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Training data; each row block is one ``partial_fit`` call.
    y : dask array or dask Series of shape (n_samples,)
        Targets, with the same row blocks as ``X``.
    classes : array-like of shape (n_classes,), default=None
        Every class label, for a classifier's first ``partial_fit``.  If
        None and the classifier is not fitted yet, the labels of ``y`` are
        computed first (one pass over ``y``).
    sample_weight : dask array or dask Series of shape (n_samples,), \
default=None
        Sample weights, blocked as ``y``.
    epochs : int, default=1
        Passes over the blocks.
    shuffle_blocks : bool, default=False
        Visit the blocks in a new random order every pass.
    random_state : int, RandomState instance or None, default=None
        Seeds the block order when ``shuffle_blocks`` is True.

    Returns
    -------
    estimator : GDClassifier or GDRegressor
        The same estimator, trained.

    See Also
    --------
    fit_data_parallel : Training on the workers, in parallel.

    Examples
    --------
    >>> import dask.array as da
    >>> from sgdlearn import GDRegressor
    >>> from sgdlearn.dask import stream_partial_fit
    >>> rng = da.random.default_rng(0)
    >>> X = rng.standard_normal((10_000, 5), chunks=(1_000, 5))
    >>> y = X @ da.from_array([1.0, 2.0, 0.0, 0.0, -1.0])
    >>> reg = stream_partial_fit(GDRegressor(random_state=0), X, y, epochs=2)
    >>> len(reg.loss_curve_)
    20
    """
    _check_estimator(estimator)
    validate_parameter_constraints(
        _STREAM_CONSTRAINTS,
        {"epochs": epochs, "shuffle_blocks": shuffle_blocks,
         "random_state": random_state},
        caller_name="stream_partial_fit",
    )
    xs, ys, ws = row_blocks(X, y, sample_weight)
    kwargs = {}
    if is_classifier(estimator) and not hasattr(estimator, "classes_"):
        kwargs["classes"] = _unique_labels(ys) if classes is None else classes
    elif classes is not None:
        kwargs["classes"] = classes
    rng = check_random_state(random_state)
    orders = [rng.permutation(len(xs)) if shuffle_blocks else range(len(xs))
              for _ in range(epochs)]
    return _stream(estimator, xs, ys, ws, orders, kwargs)
