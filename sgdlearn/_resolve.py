"""From the estimator's ``optimizer`` and ``learning_rate`` (strings with
flat parameters, or objects) to one description the rest of the code reads.
"""

import functools
import inspect
from dataclasses import dataclass

from sgdlearn._optim_table import HYPERS, OPTIMIZERS, Row

# The flat schedule parameters, and the names of the flat parameters each
# string schedule reads.
SCHEDULE_PARAMS = ("power_t", "decay_steps", "decay_rate", "eta_min")


@dataclass(frozen=True)
class Resolved:
    name: str  # the table's name, e.g. "amsgrad" for Adam(amsgrad=True)
    row: Row
    hp: dict  # every hyperparameter the row reads
    slot_names: tuple  # the state arrays that exist with these values
    # What must be equal for a state to continue: the optimizer, and the
    # hyperparameters that change what its state means.
    identity: tuple


@functools.lru_cache(maxsize=256)
def _resolved(name, row, values):
    """One Resolved per (name, row, values): partial_fit asks several times
    per call, and a stream asks the same question every call.  ``row`` is in
    the key so that a replaced table row is never answered from the cache."""
    hp = dict(zip(row.names, values, strict=True))
    slots = tuple(slot.name for slot in row.slots_for(hp))
    return Resolved(name, row, hp, slots,
                    (name,) + tuple(hp[n] for n in row.identity))


def _defaults(estimator):
    cls = type(estimator)
    found = cls.__dict__.get("_init_defaults")
    if found is None:
        found = {name: p.default for name, p in
                 inspect.signature(cls.__init__).parameters.items()}
        cls._init_defaults = found
    return found


def _check_flat_unset(estimator, names, obj, what):
    defaults = _defaults(estimator)
    for name in names:
        value = getattr(estimator, name)
        if name in defaults and value != defaults[name]:
            raise ValueError(
                f"{name}={value!r} is set on {type(estimator).__name__}, but "
                f"{what}={obj!r} is an object, whose parameters come from the "
                f"object only: set {name} on the object (if it has one) and "
                f"leave the estimator's {name} at its default "
                f"({defaults[name]!r}).")


def resolve_optimizer(estimator):
    """The optimizer's table row and hyperparameters.  Raises ValueError for
    an invalid object or a flat parameter that conflicts with it."""
    optimizer = estimator.optimizer
    if isinstance(optimizer, str):
        row = OPTIMIZERS[optimizer]
        if row.own:
            _check_own_unset(estimator, optimizer, row)
        _check_own_rules(estimator, optimizer, row)
        return _resolved(optimizer, row,
                         tuple(getattr(estimator, name) for name in row.hypers)
                         + tuple(hyper.default for _, hyper in row.own))
    name, hp = optimizer._validated_rule()
    row = OPTIMIZERS[name]
    _check_own_rules(estimator, f"{optimizer!r}", row)
    _check_flat_unset(estimator, [n for n in HYPERS if n in row.hypers
                                  or n in hp], optimizer, "optimizer")
    return _resolved(name, row, tuple(hp.get(n, row.default(n))
                                      for n in row.names))


def _check_own_unset(estimator, name, row):
    """A string optimizer whose hyperparameters live on its object only
    does not read the flat parameters of the same names: setting one is an
    error, not a silent default.  Only the flat optimizer hyperparameters
    (HYPERS) count: an estimator parameter that merely shares a name (its
    penalty's ``alpha``) means something else."""
    defaults = _defaults(estimator)
    for hyper, _ in row.own:
        if hyper not in HYPERS:
            continue
        value = getattr(estimator, hyper, None)
        if hyper in defaults and value != defaults[hyper]:
            cls = row.cls or row.torch.split("(")[0]
            raise ValueError(
                f"{hyper}={value!r} is set on {type(estimator).__name__}, but "
                f"optimizer={name!r} does not read the estimator's {hyper}: "
                f"its hyperparameters are those of sgdlearn.optim.{cls} "
                f"(default {hyper}={row.default(hyper)!r}). Pass "
                f"optimizer={cls}({hyper}={value!r}) and leave {hyper} at "
                f"its default ({defaults[hyper]!r}).")


# The estimator parameters a rule with its own penalty (FTRL) does not read.
_PENALTY_PARAMS = ("penalty", "alpha")


def _check_own_rules(estimator, shown, row):
    """A rule whose penalty is its own (the table's ``own_penalty``) does not
    read the estimator's penalty, alpha and l1_ratio, and one that runs at a
    constant rate only (``constant_rate``) takes no other schedule, warm-up
    or intercept decay: setting one is an error, raised before any state
    changes (FTRL)."""
    if not (row.own_penalty or row.constant_rate):
        return
    defaults = _defaults(estimator)
    cls = row.cls or row.torch.split("(")[0]
    est = type(estimator).__name__
    if row.own_penalty and estimator.penalty is not None:
        # penalty=None is no estimator penalty, nothing to conflict (alpha
        # and l1_ratio are then inert); with the default 'l2' l1_ratio is.
        for param in _PENALTY_PARAMS:
            value = getattr(estimator, param)
            if param in defaults and value != defaults[param]:
                raise ValueError(
                    f"{param}={value!r} is set on {est}, but optimizer="
                    f"{shown} does not read the estimator's penalty: its "
                    f"penalty is its own l1 and l2 (lambda_1 and lambda_2 of "
                    f"McMahan et al., on the summed loss, not alpha's "
                    f"per-sample mean scale). Pass optimizer=sgdlearn.optim."
                    f"{cls}(l1=..., l2=...) and leave penalty and alpha at "
                    f"their defaults ({defaults['penalty']!r}, "
                    f"{defaults['alpha']!r}) or set penalty=None.")
    if not row.constant_rate:
        return
    name, _ = resolve_schedule(estimator)
    default_rate = (isinstance(estimator.learning_rate, str)
                    and estimator.learning_rate == defaults["learning_rate"])
    if name != "constant" and not default_rate:
        raise ValueError(
            f"learning_rate={estimator.learning_rate!r} is set on {est}, but "
            f"optimizer={shown} runs at a constant rate only: eta0 is its "
            f"per-coordinate alpha, which its state (z, n) was accumulated "
            f"with. Use learning_rate='constant' (or leave learning_rate at "
            f"its default) and set the rate with eta0 (default for it: "
            f"{row.default_eta0}).")
    for param in ("warmup_steps", "intercept_decay"):
        value = getattr(estimator, param, None)
        if param in defaults and value != defaults[param]:
            raise ValueError(
                f"{param}={value!r} is set on {est}, but optimizer={shown} "
                f"does not read it (a constant rate; the intercept is one "
                f"more FTRL coordinate, without the penalties): leave "
                f"{param} at its default ({defaults[param]!r}).")


def resolve_schedule(estimator):
    """(schedule name, its flat parameters) of ``learning_rate``."""
    schedule = estimator.learning_rate
    if isinstance(schedule, str):
        return schedule, {n: getattr(estimator, n) for n in SCHEDULE_PARAMS}
    name, params = schedule._validated_rule()
    _check_flat_unset(estimator, [n for n in SCHEDULE_PARAMS if n in params],
                      schedule, "learning_rate")
    defaults = _defaults(estimator)
    return name, {n: params.get(n, defaults[n]) for n in SCHEDULE_PARAMS}


def resolve_rate(estimator, optimizer):
    """(eta0, schedule name, schedule parameters) of a call: the
    estimator's, or the optimizer's own defaults (the table's
    ``default_eta0``/``default_schedule``) for whichever of ``eta0`` and
    ``learning_rate`` the user left at the estimator's default value."""
    name, params = resolve_schedule(estimator)
    eta0 = estimator.eta0
    defaults = _defaults(estimator)
    row = optimizer.row
    if row.default_eta0 is not None and eta0 == defaults["eta0"]:
        eta0 = row.default_eta0
    if (row.default_schedule is not None
            and isinstance(estimator.learning_rate, str)
            and estimator.learning_rate == defaults["learning_rate"]):
        name = row.default_schedule
    return eta0, name, params


__all__ = ["Resolved", "resolve_optimizer", "resolve_rate", "resolve_schedule"]
