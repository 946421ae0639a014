"""Parameter mixing: the weighted average of estimator copies' fitted state.

Pure NumPy (no dask): :func:`mix` runs inside the cluster in
:func:`sgdlearn.dask.fit_data_parallel`, and is tested without one.

What is averaged, and why (``docs/guide/dask.rst`` explains it for users):

* weights: ``coef_``/``intercept_`` and, with ``average``, the standard
  iterate (``_standard_*``) and the averaged iterate (``_average_*``)
  separately, each a weighted mean over the copies;
* optimizer state, slot by slot: momentum buffers, Adam's first and second
  moments, AdaGrad's sums, RMSProp's averages and AMSGrad's running maximum
  are all weighted means.  Adam-type moments are stored biased towards zero
  by ``1 - beta ** k`` after ``k`` steps, so copies with different step
  counts are averaged in bias-corrected form and re-biased for the common
  count ``k = max(k_i)``: the mixed state then yields exactly the weighted
  mean of the copies' bias-corrected moments.  Means (not sums) keep each
  copy's step size on its own scale: summing AdaGrad's accumulators would
  shrink every copy's step by sqrt(n_copies) at each mix;
* step counts (``_optimizer_steps``): the maximum, as just said: the
  copies ran side by side, so the moments' age is a copy's count, not the
  total; the optimizer's other running scalars (NAdam's ``mu_product``)
  are those of the copy with the most steps;
* ``t_`` (the schedule's clock): one plus the updates made by all copies,
  which is what one machine would have made over the same data, so that a
  ``partial_fit`` on the result continues with the learning rate of a
  single-machine run; each copy keeps its own clock between mixes;
* ``loss_curve_``: the weighted mean of the copies' curves, epoch by epoch,
  an estimate of the objective over all the data.
"""

import copy

import numpy as np

from sgdlearn._resolve import resolve_optimizer, resolve_rate

_WEIGHTS = ("_standard_coef", "_standard_intercept", "_average_coef",
            "_average_intercept")
_STATE = ("_coef_state", "_intercept_state", "_optimizer_steps",
          "_optimizer_counters")


def mixing_weights(sizes):
    """Normalized weights (summing to 1) from the copies' sample counts."""
    sizes = np.asarray(sizes, dtype=np.float64)
    total = sizes.sum()
    if not total > 0:
        raise ValueError("every shard has zero total sample weight")
    return sizes / total


def weighted_mean(arrays, weights):
    """sum_i weights[i] * arrays[i], in float64, cast back to the dtype of
    ``arrays[0]``; summed in order, so one array with weight 1 comes back
    bit for bit."""
    total = weights[0] * np.asarray(arrays[0], dtype=np.float64)
    for weight, array in zip(weights[1:], arrays[1:], strict=True):
        total += weight * np.asarray(array, dtype=np.float64)
    return total.astype(np.asarray(arrays[0]).dtype)


def _bias_factors(beta, steps, common):
    """(1 - beta^common) / (1 - beta^k) per row: rescales a moment biased for
    ``k`` steps to one biased for ``common`` steps; exactly 1 when equal."""
    steps = np.asarray(steps, dtype=np.float64)
    factors = np.ones_like(steps)
    differ = (steps != common) & (steps > 0)
    factors[differ] = (1 - beta ** common[differ]) / (1 - beta ** steps[differ])
    factors[steps == 0] = 0.0  # a state that saw no step is all zeros
    return factors


def _combine(arrays, weights, mixing):
    """The copies' arrays of one state slot combined by the slot's rule in
    the optimizer table: a weighted mean, the maximum or the sum."""
    if mixing == "mean":
        return weighted_mean(arrays, weights)
    if mixing == "max":
        return np.maximum.reduce([np.asarray(a) for a in arrays])
    if mixing == "sum":
        return np.add.reduce([np.asarray(a) for a in arrays])
    raise ValueError(f"unknown mixing rule {mixing!r} in the optimizer table")


def _mix_optimizer_state(models, weights):
    """(coef_state, intercept_state, steps) of the mixture, slot by slot as
    the optimizer table says (``Slot.mixing`` and ``Slot.bias``)."""
    first = models[0]
    optimizer = resolve_optimizer(first)
    steps = np.max([m._optimizer_steps for m in models], axis=0)
    coef_state = np.zeros_like(first._coef_state)
    intercept_state = np.zeros_like(first._intercept_state)
    for index, slot in enumerate(optimizer.row.slots_for(optimizer.hp)):
        beta = optimizer.hp[slot.bias] if slot.bias else None
        coefs, intercepts = [], []
        for model in models:
            factor = (np.ones_like(steps) if beta is None
                      else _bias_factors(beta, model._optimizer_steps, steps))
            coefs.append(model._coef_state[:, index, :] * factor[:, None])
            intercepts.append(model._intercept_state[:, index] * factor)
        coef_state[:, index, :] = _combine(coefs, weights, slot.mixing)
        intercept_state[:, index] = _combine(intercepts, weights, slot.mixing)
    return coef_state, intercept_state, steps


def _mix_counters(models):
    """The optimizer's running scalars (NAdam's mu_product) of the mixture:
    per problem, those of the copy that made the most steps, whose step
    count the mixture takes."""
    steps = np.array([m._optimizer_steps for m in models])  # (copies, P)
    counters = np.array([m._optimizer_counters for m in models])
    latest = np.argmax(steps, axis=0)
    return counters[latest, np.arange(steps.shape[1])].copy()


def _weights_from_state(mixed):
    """A rule whose weights are a function of its state (FTRL's (z, n)):
    the mixture's current weights are those of its mixed state, not the
    mean of the copies' weights (an averaged iterate stays a mean).  In
    float64 NumPy: they may differ from the kernel's in the last bit (FMA
    build, float32 models)."""
    optimizer = resolve_optimizer(mixed)
    row = optimizer.row
    if row.weights is None:
        return
    rate = resolve_rate(mixed, optimizer)[0]
    n_slots = len(row.slots_for(optimizer.hp))
    coef = row.weights(optimizer.hp, rate, tuple(
        mixed._coef_state[:, i, :] for i in range(n_slots)))
    intercept = row.weights(optimizer.hp, rate, tuple(
        mixed._intercept_state[:, i] for i in range(n_slots)), False)
    averaging = getattr(mixed, "_average_coef", None) is not None
    names = (("_standard_coef", "_standard_intercept") if averaging
             else ("coef_", "intercept_"))
    for name, value in zip(names, (coef, intercept), strict=True):
        old = np.asarray(getattr(mixed, name))
        setattr(mixed, name, value.reshape(old.shape).astype(old.dtype))


def _padded(curves):
    """Equal-length curves, each padded with its last value."""
    length = max(len(curve) for curve in curves)
    return [list(curve) + list(curve[-1:]) * (length - len(curve))
            for curve in curves]


def _publish(model):
    """Set ``coef_``/``intercept_`` from the standard or averaged iterate,
    by the rule of ``BaseGD._commit`` (the average once ``average <= t_ - 1``).
    """
    if getattr(model, "_average_coef", None) is None:
        return
    use_average = model.average and model.average <= model.t_ - 1
    kind = "_average" if use_average else "_standard"
    model.coef_ = getattr(model, kind + "_coef")
    model.intercept_ = getattr(model, kind + "_intercept")


def mix(models, weights):
    """The weighted average of fitted copies of one estimator.

    Parameters
    ----------
    models : list of GDClassifier or GDRegressor
        Copies of one estimator, fitted by ``partial_fit`` on different
        data; not modified.
    weights : array-like of shape (n_models,)
        Non-negative mixing weights summing to 1.

    Returns
    -------
    mixed : GDClassifier or GDRegressor
        A copy of ``models[0]`` holding the averaged state (see the module
        docstring for what is averaged and how).
    """
    weights = np.asarray(weights, dtype=np.float64)
    mixed = copy.deepcopy(models[0])
    for name in ("coef_", "intercept_") + _WEIGHTS:
        if getattr(mixed, name, None) is not None:
            setattr(mixed, name, weighted_mean(
                [getattr(m, name) for m in models], weights))
    (mixed._coef_state, mixed._intercept_state,
     mixed._optimizer_steps) = _mix_optimizer_state(models, weights)
    mixed._optimizer_counters = _mix_counters(models)
    if len(models) > 1:  # one copy's weights are its state's already
        _weights_from_state(mixed)
    mixed.t_ = 1.0 + sum(m.t_ - 1.0 for m in models)
    curves = _padded([m.loss_curve_ for m in models])
    mixed.loss_curve_ = [float(v) for v in weights @ np.asarray(curves)]
    mixed.n_iter_ = len(mixed.loss_curve_)  # epochs run by the copies
    mixed.best_loss_ = min(mixed.loss_curve_) if mixed.loss_curve_ else None
    _publish(mixed)
    return mixed


def adopt(model, mixed):
    """Continue ``model`` (a copy, modified in place) from the mixture's
    weights and optimizer state (``mixed`` an estimator, or the state dict
    of :func:`finalize`), keeping its own clock ``t_``, row order
    generators and training record.  ``partial_fit`` continues from the
    standard iterate and republishes ``coef_`` by the model's own ``t_``."""
    get = mixed.get if isinstance(mixed, dict) else (
        lambda name, default: getattr(mixed, name, default))
    for name in ("coef_", "intercept_") + _WEIGHTS + _STATE:
        value = get(name, None)
        if value is not None:
            setattr(model, name, np.array(value, copy=True))
    return model


# ----------------------------------------------------------------------
# The same mixture, reduced pairwise over arrays (issue 19)
#
# ``mix`` needs every copy in one process.  The functions below compute the
# same mixture from small dicts of arrays ("partials") merged two at a time,
# so that a cluster can reduce them over a tree of tasks placed where the
# inputs are, and only arrays travel, never estimators:
#
#   leaf(model, weight) -> partial      (on the worker holding the copy)
#   merge(left, right)  -> partial      (associative; the order is fixed:
#                                        merge_node, reduce_pairwise)
#   finalize(partial)   -> state        (the mixture's arrays and scalars)
#   adopt(model, state) / build(model, state)
#
# A partial holds, for the copies under it: the weighted sums
# sum_i w_i x_i of the weights (float64), every state slot combined by its
# table rule (``Slot.mixing``: weighted sum, maximum or sum) and, for a
# slot biased by ``1 - beta ** k`` (``Slot.bias``), re-biased for the
# partial's step count ``K = max k_i`` per problem: merging two partials
# rescales each slot by (1 - beta^K_new) / (1 - beta^K_old), a positive
# factor, so sums, weighted sums and maxima all stay exact up to rounding
# and the final slot is today's sum_i w_i m_i (1 - beta^K) / (1 - beta^k_i).
# Counters come from the copy with the most steps (the first such, as
# ``np.argmax`` in ``_mix_counters``: the left one on ties); the clock
# carries sum_i (t_i - 1); the loss curve the weighted sum of the padded
# curves plus ``tail`` = sum_i w_i (last value of curve i), which pads it.
# The result equals ``mix`` to rounding (the tests ask <= 1e-12 relative),
# and one partial alone finalizes to ``mix([model], [1.0])`` bit for bit.

class Arrays(dict):
    """A partial or a mixture's state: a plain dict, whose type lets
    :mod:`sgdlearn.dask` tell dask its exact size (dask's ``sizeof`` of a
    plain dict of more than 10 entries extrapolates from a random sample)."""


def nbytes(value, seen=None):
    """The bytes of the arrays in ``value`` (through dicts, lists and
    tuples; an array met twice counts once), plus the other objects'
    ``sys.getsizeof``."""
    import sys

    if seen is None:
        seen = set()
    if id(value) in seen:  # pickled once (coef_ is one of the iterates)
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(nbytes(v, seen) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v, seen) for v in value)
    return sys.getsizeof(value)


def _slot_rules(model):
    """(mixing rule, beta or None) of each state slot, from the table."""
    optimizer = resolve_optimizer(model)
    return tuple((slot.mixing, optimizer.hp[slot.bias] if slot.bias else None)
                 for slot in optimizer.row.slots_for(optimizer.hp))


def _context(model):
    """What ``finalize`` needs of the estimator's parameters: how the slots
    mix, whether weights are a function of the state (the table's
    ``Row.weights``, FTRL), the base rate, and ``average``."""
    optimizer = resolve_optimizer(model)
    return {
        "rules": _slot_rules(model),
        "optimizer": optimizer.name,
        "hp": dict(optimizer.hp),
        "rate": resolve_rate(model, optimizer)[0],
        "average": model.average,
        "averaging": getattr(model, "_average_coef", None) is not None,
    }


def _combine_pair(a, b, mixing):
    if mixing == "mean" or mixing == "sum":  # weighted at the leaf for means
        return a + b
    if mixing == "max":
        return np.maximum(a, b)
    raise ValueError(f"unknown mixing rule {mixing!r} in the optimizer table")


def leaf(model, weight, context=None):
    """The partial of one fitted copy with mixing weight ``weight``: only
    arrays and scalars (its size is that of the copy's weights and state).
    ``context``: that of :func:`_context`, when ``model`` is not an
    estimator but a namespace of its arrays (``sgdlearn._data_parallel``)."""
    weight = float(weight)
    steps = np.asarray(model._optimizer_steps).copy()
    if context is None:
        context = _context(model)
    slots = []
    for index, (mixing, beta) in enumerate(context["rules"]):
        factor = (np.ones(steps.shape) if beta is None
                  else _bias_factors(beta, steps, steps))  # 0 where k = 0
        if mixing == "mean":
            factor = weight * factor
        coef = model._coef_state[:, index, :]
        intercept = model._intercept_state[:, index]
        slots.append((np.multiply(coef, factor[:, None], dtype=np.float64),
                      np.multiply(intercept, factor, dtype=np.float64)))
    curve = np.asarray(model.loss_curve_, dtype=np.float64)
    # with ``average``, coef_ is one of the two iterates (republished by
    # finalize): it is not sent twice
    names = [name for name in (() if context["averaging"] else (
        "coef_", "intercept_")) + _WEIGHTS
        if getattr(model, name, None) is not None]
    return Arrays({
        "n": 1,
        "weight": weight,
        "sums": {name: weight * np.asarray(getattr(model, name),
                                           dtype=np.float64)
                 for name in names},
        "dtypes": {name: np.asarray(getattr(model, name)).dtype
                   for name in names},
        "layout": (model._coef_state.shape, model._coef_state.dtype,
                   model._intercept_state.shape,
                   model._intercept_state.dtype),
        "slots": slots,
        "steps": steps,
        "counters": np.asarray(model._optimizer_counters).copy(),
        "clock": float(model.t_) - 1.0,
        "curve": weight * curve,
        "tail": weight * curve[-1] if curve.size else 0.0,
        "context": context,
    })


def _rebias(slots, rules, steps, common):
    """The slots of a partial at step counts ``steps``, re-biased for
    ``common`` (unchanged where equal, and for unbiased slots)."""
    out = []
    for (coef, intercept), (_, beta) in zip(slots, rules, strict=True):
        if beta is None or np.array_equal(steps, common):
            out.append((coef, intercept))
            continue
        factor = _bias_factors(beta, steps, common)
        out.append((coef * factor[:, None], intercept * factor))
    return out


def _padded_sum(a, tail_a, b, tail_b):
    length = max(a.size, b.size)
    a = np.concatenate([a, np.full(length - a.size, tail_a)])
    b = np.concatenate([b, np.full(length - b.size, tail_b)])
    return a + b


def merge(left, right):
    """The partial of the copies of ``left`` then ``right`` (in that order:
    the order decides ties between counters and the rounding)."""
    rules = left["context"]["rules"]
    steps = np.maximum(left["steps"], right["steps"])
    a = _rebias(left["slots"], rules, left["steps"], steps)
    b = _rebias(right["slots"], rules, right["steps"], steps)
    slots = [(_combine_pair(ca, cb, mixing), _combine_pair(ia, ib, mixing))
             for (ca, ia), (cb, ib), (mixing, _) in zip(a, b, rules,
                                                         strict=True)]
    later = right["steps"] > left["steps"]
    counters = np.where(later[:, None], right["counters"], left["counters"])
    return Arrays({
        "n": left["n"] + right["n"],
        "weight": left["weight"] + right["weight"],
        "sums": {name: left["sums"][name] + right["sums"][name]
                 for name in left["sums"]},
        "dtypes": left["dtypes"],
        "layout": left["layout"],
        "slots": slots,
        "steps": steps,
        "counters": counters,
        "clock": left["clock"] + right["clock"],
        "curve": _padded_sum(left["curve"], left["tail"], right["curve"],
                             right["tail"]),
        "tail": left["tail"] + right["tail"],
        "context": left["context"],
    })


def merge_node(left, own, right):
    """One node of the spanning tree: the partial of the copies of its left
    subtree, its own copy's and its right subtree's, in that order (either
    subtree may be None)."""
    partial = own if left is None else merge(left, own)
    return partial if right is None else merge(partial, right)


def tree_nodes(lo, hi):
    """The spanning tree over shards ``lo..hi-1``: (node, left range, right
    range), the node the middle shard, its subtrees the shards before and
    after it (a balanced binary search tree on the shard indices, so each
    subtree is a contiguous range and the merge order is the shards')."""
    mid = (lo + hi) // 2
    return mid, (lo, mid), (mid + 1, hi)


def reduce_pairwise(partials):
    """The partials merged over the fixed spanning tree of
    :func:`tree_nodes`, floor(log2 n) + 1 levels deep; the cluster runs the
    same tree, one task per node."""
    partials = list(partials)

    def reduce(lo, hi):
        if lo >= hi:
            return None
        mid, left, right = tree_nodes(lo, hi)
        return merge_node(reduce(*left), partials[mid], reduce(*right))

    return reduce(0, len(partials))


def finalize(partial):
    """The mixture's arrays and scalars (a dict of the attributes ``mix``
    sets), from the partial of every copy."""
    context = partial["context"]
    state = Arrays({name: value.astype(partial["dtypes"][name])
                    for name, value in partial["sums"].items()})
    coef_shape, coef_dtype, icpt_shape, icpt_dtype = partial["layout"]
    coef_state = np.zeros(coef_shape, dtype=coef_dtype)
    intercept_state = np.zeros(icpt_shape, dtype=icpt_dtype)
    for index, (coef, intercept) in enumerate(partial["slots"]):
        coef_state[:, index, :] = coef
        intercept_state[:, index] = intercept
    state["_coef_state"] = coef_state
    state["_intercept_state"] = intercept_state
    state["_optimizer_steps"] = partial["steps"].copy()
    state["_optimizer_counters"] = partial["counters"].copy()
    if partial["n"] > 1:  # one copy's weights are its state's already
        _weights_from_state_of(state, context)
    state["t_"] = 1.0 + partial["clock"]
    curve = [float(v) for v in partial["curve"]]
    state["loss_curve_"] = curve
    state["n_iter_"] = len(curve)
    state["best_loss_"] = min(curve) if curve else None
    if context["averaging"]:  # coef_ by the rule of _publish
        average = context["average"]
        kind = ("_average" if average and average <= state["t_"] - 1
                else "_standard")
        state["coef_"] = state[kind + "_coef"]
        state["intercept_"] = state[kind + "_intercept"]
    return state


def _weights_from_state_of(state, context):
    """``_weights_from_state`` on a state dict (the table's ``Row.weights``)."""
    from sgdlearn._optim_table import OPTIMIZERS

    row = OPTIMIZERS[context["optimizer"]]
    if row.weights is None:
        return
    hp, rate, n_slots = context["hp"], context["rate"], len(context["rules"])
    coef = row.weights(hp, rate, tuple(
        state["_coef_state"][:, i, :] for i in range(n_slots)))
    intercept = row.weights(hp, rate, tuple(
        state["_intercept_state"][:, i] for i in range(n_slots)), False)
    names = (("_standard_coef", "_standard_intercept") if context["averaging"]
             else ("coef_", "intercept_"))
    for name, value in zip(names, (coef, intercept), strict=True):
        old = state[name]
        state[name] = value.reshape(old.shape).astype(old.dtype)


def build(model, state):
    """A copy of ``model`` holding the mixture ``state``: what ``mix`` returns
    when ``model`` is its first copy."""
    mixed = copy.deepcopy(model)
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            value = value.copy()
        setattr(mixed, name, value)
    _publish(mixed)
    return mixed


def tree_mix(models, weights):
    """``mix`` computed as the cluster's tree computes it (for tests and the
    documentation): leaves, pairwise merges, finalize, build."""
    partials = [leaf(m, w) for m, w in zip(models, weights, strict=True)]
    return build(models[0], finalize(reduce_pairwise(partials)))
