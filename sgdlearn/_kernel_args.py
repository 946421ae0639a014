"""The Python -> kernel boundary: an estimator's parameters as the kernel's
structs (``Optim``, ``Schedule``, ``Task``; see ``sgdlearn/_kernels``).

Each function takes a validated estimator and returns plain dicts that
Cython converts to the structs of the same fields (a missing or extra field
is an error there).  Only what Python decides goes in: the kernel derives
its per-update values (rates, bias corrections) and keeps the optimizer's
step count in the problem's ``steps`` slot itself.
"""

import numpy as np

from sgdlearn._engine import Settings
from sgdlearn._kernels._loss import LossKind
from sgdlearn._optim_table import HYPERS
from sgdlearn._params import ALL_SCHEDULES, SCHEDULES
from sgdlearn._resolve import resolve_optimizer, resolve_rate
from sgdlearn.schedules import Schedule, kernel_fields, spans_fit

# The kernel's Schedule fields of the torch schedules, for the others.
_NO_TORCH_FIELDS = {"cycle_momentum": False, "momentum0": 0.0,
                    **kernel_fields(Schedule())[0]}

# Training diverged when the mean loss over a window of updates exceeds this
# many times the loss of the all-zero model (at least 1).  Gradients are
# clipped at 1e12, so a diverging run can stay finite for ever; this catches
# it.  It must stay above what scikit-learn's own estimator checks reach on
# unscaled data, where scikit-learn's SGD ends with 1e11 weights and a loss
# 1e27 times the zero model's, and the checks require fit to succeed.
EXPLODE_FACTOR = 1e30


def l1_ratio(estimator):
    """The share of the penalty that is L1: 0 for l2 (or none), 1 for l1."""
    return {None: 0.0, "l2": 0.0, "l1": 1.0}.get(estimator.penalty,
                                                  estimator.l1_ratio)


def kernel_loss(estimator):
    """The kernel's (LossKind, parameter) for the estimator's loss."""
    # getattr, not is_classifier: scikit-learn's tags cost ~5 us per call.
    multinomial = getattr(estimator, "_multinomial", None)
    if multinomial is not None and multinomial():
        return LossKind.MULTINOMIAL, 0.0
    kind, param = estimator._loss_functions[estimator.loss]
    return kind, estimator.epsilon if param == "epsilon" else param


def optim_params(optimizer, l2):
    """The ``Optim`` struct of a resolved optimizer (its table row and
    hyperparameters), and how the L2 penalty ``l2`` (alpha times the L2
    share) reaches it: a multiplicative decay (through the kernel's O(1)
    wscale) for the rows with ``decoupled_decay``, an added gradient for
    the others."""
    # Hyperparameters the optimizer does not read keep their defaults.
    hp = {name: hyper.default for name, hyper in HYPERS.items()}
    hp["momentum_decay"] = 0.0
    hp.update(beta=1.0, l1=0.0, l2=0.0)  # FTRL's own penalties
    hp["alpha"] = 100.0  # COCOB's
    hp.update(r=0.0, weight_lr_power=2.0)  # schedule-free's weighting
    hp.update(adaptive=True, normalized=True, invariant=True, exponent=0.5)
    hp.update(optimizer.hp)
    decoupled = optimizer.row.decoupled(optimizer.hp)
    return {
        "kind": int(optimizer.row.kind),
        "momentum": hp["momentum"],
        "beta1": hp["beta_1"],
        "beta2": hp["beta_2"],
        "eps": hp["eps"],
        "rho": hp["rho"],
        "centered": hp["centered"],
        "l2": 0.0 if decoupled else l2,
        "decay": l2 if decoupled else 0.0,
        "momentum_decay": hp["momentum_decay"],
        "beta1_cycled": False,
        "ftrl_beta": hp["beta"],
        "ftrl_l1": hp["l1"],
        "ftrl_l2": hp["l2"],
        "cocob_alpha": hp["alpha"],
        "sf_r": hp["r"],
        "sf_power": hp["weight_lr_power"],
        "norm_adaptive": hp["adaptive"],
        "norm_normalized": hp["normalized"],
        "norm_invariant": hp["invariant"],
        "norm_power": hp["exponent"],
    }


def cycled_momentum(optimizer):
    """The hyperparameter a cycling schedule sets: 'momentum', 'beta_1', or
    None when the optimizer has neither."""
    for name in ("momentum", "beta_1"):
        if name in optimizer.row.names:
            return name
    return None


def torch_schedule_fields(estimator, optimizer, fit_updates):
    """The Schedule struct's fields of a torch schedule object
    (``kernel_fields``), with OneCycleLR's ``total_steps=None`` as
    ``fit_updates`` (the updates of the whole ``fit``; None in
    ``partial_fit``), with whether it cycles the momentum and the
    optimizer's own value."""
    schedule = estimator.learning_rate
    if type(schedule) is str or schedule._name in SCHEDULES:
        return _NO_TORCH_FIELDS
    if spans_fit(schedule) and fit_updates is None:
        raise ValueError(
            "OneCycleLR(total_steps=None) spans the whole fit, but partial_fit "
            "cannot know how many updates a stream will make: pass "
            "total_steps (the number of updates of the cycle, one per "
            "partial_fit call with batch_size='full', ceil(n_samples / "
            "batch_size) per call otherwise).")
    fields, cycles = kernel_fields(schedule, fit_updates)
    momentum = cycled_momentum(optimizer) if cycles else None
    if cycles and momentum is None:
        raise ValueError(
            f"{type(schedule).__name__} cycles the momentum "
            "(cycle_momentum=True, torch's default), but optimizer "
            f"{optimizer.name!r} has neither a momentum nor a beta_1. Pass "
            "cycle_momentum=False to the schedule, or use an optimizer that "
            "has one ('momentum', 'nesterov', the Adam family; "
            "optimizer='momentum' is what torch's SGD(momentum=0) trains "
            "with under a cycling scheduler).")
    return {"cycle_momentum": cycles,
            "momentum0": float(optimizer.hp[momentum]) if cycles else 0.0,
            **fields}


def schedule_params(estimator, optimizer, fit_updates=None):
    """The ``Schedule`` struct, and the schedule's name.  ``fit_updates``:
    the number of updates of the whole ``fit`` (None in ``partial_fit``)."""
    eta0, name, params = resolve_rate(estimator, optimizer)
    fields = torch_schedule_fields(estimator, optimizer, fit_updates)
    alpha = estimator.alpha
    # Bottou's heuristic exactly as scikit-learn evaluates it: the max(1,
    # dloss) of its formula is always 1, so eta_1 = alpha ** -0.25.  The
    # same expression (not alpha ** -0.75) keeps results bit-compatible.
    typw = np.sqrt(1.0 / np.sqrt(alpha)) if alpha > 0 else 1.0
    t0 = 1.0 / (typw * alpha) if alpha > 0 else 1.0
    return {
        "kind": int(ALL_SCHEDULES[name]),
        "eta0": eta0,
        "power_t": params["power_t"],
        "alpha": alpha,
        "t0": t0,
        "optimal_absolute": optimizer.row.absolute_optimal,
        "decay_steps": float(params["decay_steps"]),
        "decay_rate": params["decay_rate"],
        "eta_min": params["eta_min"],
        "warmup_steps": float(estimator.warmup_steps),
        **fields,
    }, name


def penalized(estimator, optimizer):
    """Whether the estimator's penalty applies: not with an optimizer whose
    penalty is its own (FTRL's l1 and l2)."""
    return estimator.penalty is not None and not optimizer.row.own_penalty


def task_params(estimator, rows, n_train, optimizer=None):
    """The ``Task`` struct, but for ``t`` and ``positive``, which each
    problem's Trainer sets before every epoch."""
    loss_kind, loss_param = kernel_loss(estimator)
    if optimizer is None:
        optimizer = resolve_optimizer(estimator)
    is_penalized = penalized(estimator, optimizer)
    if estimator.intercept_decay == "auto" and optimizer.row.intercept_feature:
        intercept_decay = 1.0  # a coordinate of the rule (x = 1) on CSR too
    elif estimator.intercept_decay == "auto":
        intercept_decay = 0.01 if rows.sparse else 1.0
    else:
        intercept_decay = estimator.intercept_decay
    batch_size = estimator.batch_size
    if batch_size is None or batch_size == "full":
        batch_size = max(n_train, 1)
    return {
        "batch_size": int(batch_size),
        "loss": int(loss_kind),
        "loss_param": float(loss_param),
        "fit_intercept": estimator.fit_intercept,
        "intercept_decay": float(intercept_decay),
        "l1": estimator.alpha * l1_ratio(estimator) if is_penalized else 0.0,
        "average": float(estimator.average),
        "explode": EXPLODE_FACTOR,
        # Schedule-free: the stopping test judges x, the point it predicts
        # with (one more pass over the rows per epoch, only when needed).
        "objective_at_x": (estimator.tol is not None
                           and not estimator.early_stopping),
    }


def kernel_settings(estimator, rows, n_train, validation=None, fit_epochs=None):
    """Everything the epochs of one call need besides the problem arrays:
    the kernel's structs and the stopping rule's parameters.
    ``fit_epochs``: the epochs of a ``fit`` (None in ``partial_fit``)."""
    optimizer = resolve_optimizer(estimator)
    is_penalized = penalized(estimator, optimizer)
    ratio = l1_ratio(estimator)
    l2 = estimator.alpha * (1 - ratio) if is_penalized else 0.0
    task = task_params(estimator, rows, n_train, optimizer)
    fit_updates = None
    if fit_epochs is not None:
        fit_updates = fit_epochs * -(-max(n_train, 1) // task["batch_size"])
    schedule, schedule_name = schedule_params(estimator, optimizer, fit_updates)
    optim = optim_params(optimizer, l2)
    optim["beta1_cycled"] = schedule["cycle_momentum"]
    # A schedule that spans the fit (OneCycleLR(total_steps=None)) runs it to
    # its end: stopping at tol would leave the rate high, unannealed.
    whole = spans_fit(estimator.learning_rate)
    return Settings(
        optim=optim,
        schedule=schedule,
        task=task,
        alpha=estimator.alpha,
        l1_ratio=ratio,
        penalized=is_penalized,
        shuffle=estimator.shuffle,
        tol=-np.inf if estimator.tol is None or whole else estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change,
        adaptive=schedule_name == "adaptive",
        verbose=estimator.verbose,
        validation=validation,
    )
