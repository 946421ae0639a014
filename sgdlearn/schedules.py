"""Learning-rate schedule objects for the ``learning_rate`` parameter.

``GDClassifier(learning_rate=Step(decay_steps=500, decay_rate=0.5))`` is the
object form of ``learning_rate='step', decay_steps=500, decay_rate=0.5`` and
trains the same model, bit for bit.  Each object carries its own
parameters, so ``GridSearchCV`` can search
``{"learning_rate__decay_rate": [0.3, 0.5]}``.  The base rate is always the
estimator's ``eta0``; ``warmup_steps`` stays an estimator parameter and
combines with every schedule.

Precedence: with a string, a schedule reads the estimator's flat parameters
(``power_t``, ``decay_steps``, ``decay_rate``, ``eta_min``); with an object,
only the object's.  Setting a flat parameter the object also has to a
non-default value is an error.  Every schedule counts updates (``t_``),
across ``partial_fit`` calls.

torch.optim.lr_scheduler's schedules are objects only, with torch's names:
``LinearLR``, ``PolynomialLR``, ``OneCycleLR``, ``CyclicLR``,
``CosineAnnealingWarmRestarts`` and ``SequentialLR`` (which chains any of
them and the objects above).  torch's step ``k`` is update ``t = k + 1``,
and the base (or maximum) rate is ``eta0``.
"""

from numbers import Integral, Real

from sgdlearn._objects import Hyperparameters
from sgdlearn._sklearn_compat import Interval, StrOptions

__all__ = ["Schedule", "Constant", "Optimal", "InvScaling", "Adaptive", "PA1",
           "PA2", "Step", "Exponential", "Cosine", "LinearLR", "PolynomialLR",
           "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts",
           "SequentialLR"]

_STEPS = [Interval(Integral, 1, None, closed="left")]
_POSITIVE = [Interval(Real, 0, None, closed="neither")]


class Schedule(Hyperparameters):
    """Base class of the schedule objects."""

    _name = ""

    def _rule(self):
        return self._name, self.get_params(deep=False)

    def _kernel_p(self, total_steps):
        """The values of the kernel's ``p`` (or of a SequentialLR phase's)."""
        return []


class Constant(Schedule):
    """``eta_t = eta0`` (``learning_rate='constant'``)."""

    _name = "constant"


class Optimal(Schedule):
    """Bottou's ``1 / (alpha (t0 + t - 1))`` for plain SGD, and
    ``eta0 t0 / (t0 + t - 1)`` for the other optimizers
    (``learning_rate='optimal'``; needs ``alpha > 0``)."""

    _name = "optimal"


class InvScaling(Schedule):
    """``eta_t = eta0 / t ** power_t`` (``learning_rate='invscaling'``).

    Parameters
    ----------
    power_t : float, default=0.5
        The exponent.  scikit-learn's classifiers default to 0.5, its
        regressors to 0.25: the object has one default, 0.5.
    """

    _name = "invscaling"
    _parameter_constraints = {"power_t": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def _kernel_p(self, total_steps):
        return [float(self.power_t)]


class Adaptive(Schedule):
    """``eta0``, divided by 5 each time ``n_iter_no_change`` epochs fail to
    improve by ``tol`` (``learning_rate='adaptive'``)."""

    _name = "adaptive"


class PA1(Schedule):
    """Passive-aggressive I steps capped at ``eta0`` (plain SGD, per sample,
    hinge or epsilon-insensitive loss)."""

    _name = "pa1"


class PA2(Schedule):
    """Passive-aggressive II steps scaled by ``eta0`` (plain SGD, per
    sample, hinge or epsilon-insensitive loss)."""

    _name = "pa2"


class _Decay(Schedule):
    """The parameters Step and Exponential share."""

    _parameter_constraints = {"decay_steps": _STEPS, "decay_rate": _POSITIVE}

    def __init__(self, decay_steps=1000, decay_rate=0.1):
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate

    def _kernel_p(self, total_steps):
        return [float(self.decay_steps), float(self.decay_rate)]


class Step(_Decay):
    """``eta0 * decay_rate ** floor((t - 1) / decay_steps)`` (torch's StepLR
    counted in updates).

    Parameters
    ----------
    decay_steps : int, default=1000
        Updates per step.
    decay_rate : float, default=0.1
        The factor applied every ``decay_steps`` updates.
    """

    _name = "step"


class Exponential(_Decay):
    """``eta0 * decay_rate ** ((t - 1) / decay_steps)`` (torch's
    ExponentialLR with ``gamma = decay_rate ** (1 / decay_steps)``).

    Parameters
    ----------
    decay_steps : int, default=1000
        Updates over which the rate is multiplied by ``decay_rate``.
    decay_rate : float, default=0.1
        The factor per ``decay_steps`` updates.
    """

    _name = "exponential"


class Cosine(Schedule):
    """Cosine annealing from ``eta0`` to ``eta_min`` over ``decay_steps``
    updates, restarting (torch's CosineAnnealingWarmRestarts, T_mult=1).

    Parameters
    ----------
    decay_steps : int, default=1000
        Updates per cycle.
    eta_min : float, default=0.0
        The lowest rate.
    """

    _name = "cosine"
    _parameter_constraints = {"decay_steps": _STEPS,
                              "eta_min": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, decay_steps=1000, eta_min=0.0):
        self.decay_steps = decay_steps
        self.eta_min = eta_min

    def _kernel_p(self, total_steps):
        return [float(self.decay_steps), float(self.eta_min)]


# ---------------------------------------------------------------------------
# torch.optim.lr_scheduler's schedules, counted in updates (torch's step k is
# update t = k + 1), with the base (or maximum) rate from the estimator's
# ``eta0``.

_FRACTION = [Interval(Real, 0, 1, closed="both")]
_MOMENTUM = [Interval(Real, 0, 1, closed="both")]


class _Cycling(Schedule):
    """A schedule that may cycle the optimizer's momentum (or beta_1)."""

    def _cycles_momentum(self):
        return bool(self.cycle_momentum)


class LinearLR(Schedule):
    """torch's ``LinearLR``: ``eta0 * (start_factor + (end_factor -
    start_factor) * min(t - 1, total_iters) / total_iters)``.

    Parameters
    ----------
    start_factor : float, default=1/3
        The factor of ``eta0`` at the first update (in (0, 1]).
    end_factor : float, default=1.0
        The factor from update ``total_iters + 1`` on (in [0, 1]).
    total_iters : int, default=5
        Updates over which the factor moves.
    """

    _name = "linear_lr"
    _parameter_constraints = {
        "start_factor": [Interval(Real, 0, 1, closed="right")],
        "end_factor": _FRACTION,
        "total_iters": _STEPS,
    }

    def __init__(self, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters

    def _kernel_p(self, total_steps):
        return [float(self.start_factor), float(self.end_factor),
                float(self.total_iters)]


class PolynomialLR(Schedule):
    """torch's ``PolynomialLR``: ``eta0 * (1 - min(t - 1, total_iters) /
    total_iters) ** power``, zero from update ``total_iters + 1`` on.

    Parameters
    ----------
    total_iters : int, default=5
        Updates until the rate reaches zero.
    power : float, default=1.0
        The polynomial's power.
    """

    _name = "polynomial_lr"
    _parameter_constraints = {"total_iters": _STEPS,
                              "power": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, total_iters=5, power=1.0):
        self.total_iters = total_iters
        self.power = power

    def _kernel_p(self, total_steps):
        return [float(self.total_iters), float(self.power)]


class OneCycleLR(_Cycling):
    """torch's ``OneCycleLR`` with ``max_lr = eta0``: the rate climbs from
    ``eta0 / div_factor`` to ``eta0`` over the first ``pct_start`` of
    ``total_steps`` updates, then anneals to ``eta0 / div_factor /
    final_div_factor``; the momentum (or beta_1) moves the other way,
    ``max_momentum`` -> ``base_momentum`` -> ``max_momentum``.

    Parameters
    ----------
    total_steps : int or None, default=None
        The cycle's length in updates.  None: the whole ``fit``, ``max_iter``
        epochs of ``ceil(n_train / batch_size)`` updates (torch users compute
        that by hand), and then ``fit`` runs every epoch: ``tol`` and
        ``n_iter_no_change`` do not stop it early, since the cycle's end is
        what anneals the rate.  ``partial_fit`` cannot know the length of a
        stream: it requires an int.  Past ``total_steps`` updates the rate
        stays at its final value (torch raises).
    pct_start : float, default=0.3
        The share of the cycle spent climbing.
    anneal_strategy : {"cos", "linear"}, default="cos"
        The shape of each phase.
    div_factor : float, default=25.0
        The first rate is ``eta0 / div_factor``.
    final_div_factor : float, default=1e4
        The last rate is ``eta0 / div_factor / final_div_factor``.
    three_phase : bool, default=False
        Climb, come back down to ``eta0 / div_factor`` symmetrically, then
        anneal to the last rate (the momentum stays at ``max_momentum`` in
        the third phase).
    cycle_momentum : bool, default=True
        Cycle the optimizer's ``momentum`` (``'momentum'``, ``'nesterov'``)
        or ``beta_1`` (the Adam family), as torch does by default.  With an
        optimizer that has neither (``'sgd'``, ``'adagrad'``, ``'rmsprop'``)
        it is an error: pass ``cycle_momentum=False``, or
        ``optimizer='momentum'`` for torch's ``SGD(momentum=0)`` (which torch
        trains with a cycled momentum).
    base_momentum : float, default=0.85
        The lowest momentum, at the peak rate.
    max_momentum : float, default=0.95
        The highest momentum, at the ends.
    """

    _name = "one_cycle_lr"
    _parameter_constraints = {
        "total_steps": [Interval(Integral, 2, None, closed="left"), None],
        "pct_start": [Interval(Real, 0, 1, closed="neither")],
        "anneal_strategy": [StrOptions({"cos", "linear"})],
        "div_factor": _POSITIVE,
        "final_div_factor": _POSITIVE,
        "three_phase": ["boolean"],
        "cycle_momentum": ["boolean"],
        "base_momentum": _MOMENTUM,
        "max_momentum": _MOMENTUM,
    }

    def __init__(self, total_steps=None, pct_start=0.3, anneal_strategy="cos",
                 div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95):
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase
        self.cycle_momentum = cycle_momentum
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum

    def _kernel_p(self, total_steps):
        T = float(total_steps)
        e1 = self.pct_start * T - 1.0
        ends = [0.0, e1] + ([2.0 * self.pct_start * T - 2.0] if self.three_phase
                            else []) + [T - 1.0]
        if e1 == 0 or any(b <= a for a, b in zip(ends[1:-1], ends[2:], strict=True)):
            raise ValueError(
                f"OneCycleLR(pct_start={self.pct_start!r}, "
                f"three_phase={self.three_phase!r}) over {total_steps} updates "
                f"has a phase of no length (its phases end at updates "
                f"{[e + 1 for e in ends[1:]]}): use more total_steps or another "
                "pct_start.")
        return [T, float(self.pct_start),
                1.0 if self.anneal_strategy == "cos" else 0.0,
                float(self.div_factor), float(self.final_div_factor),
                float(self.three_phase), float(self.base_momentum),
                float(self.max_momentum), float(self.cycle_momentum)]


class CyclicLR(_Cycling):
    """torch's ``CyclicLR`` with ``max_lr = eta0``: the rate goes from
    ``base_lr`` up to ``eta0`` in ``step_size_up`` updates and back down in
    ``step_size_down``, again and again; the momentum (or beta_1) moves the
    other way, between ``max_momentum`` and ``base_momentum``.

    Parameters
    ----------
    base_lr : float
        The lowest rate (``eta0`` is the highest).
    step_size_up : int, default=2000
        Updates of the climb.
    step_size_down : int or None, default=None
        Updates of the descent; None: ``step_size_up``.
    mode : {"triangular", "triangular2", "exp_range"}, default="triangular"
        The amplitude: constant, halved every cycle, or multiplied by
        ``gamma ** (t - 1)``.  (torch's custom ``scale_fn`` is not
        supported.)
    gamma : float, default=1.0
        The factor per update of ``'exp_range'``.
    cycle_momentum : bool, default=True
        As :class:`OneCycleLR`'s.
    base_momentum : float, default=0.8
        The lowest momentum, at the peak rate.
    max_momentum : float, default=0.9
        The highest momentum, at ``base_lr``.
    """

    _name = "cyclic_lr"
    _parameter_constraints = {
        "base_lr": [Interval(Real, 0, None, closed="left")],
        "step_size_up": _STEPS,
        "step_size_down": [Interval(Integral, 1, None, closed="left"), None],
        "mode": [StrOptions({"triangular", "triangular2", "exp_range"})],
        "gamma": _POSITIVE,
        "cycle_momentum": ["boolean"],
        "base_momentum": _MOMENTUM,
        "max_momentum": _MOMENTUM,
    }

    def __init__(self, base_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, cycle_momentum=True,
                 base_momentum=0.8, max_momentum=0.9):
        self.base_lr = base_lr
        self.step_size_up = step_size_up
        self.step_size_down = step_size_down
        self.mode = mode
        self.gamma = gamma
        self.cycle_momentum = cycle_momentum
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum

    def _kernel_p(self, total_steps):
        down = self.step_size_up if self.step_size_down is None else self.step_size_down
        mode = {"triangular": 0.0, "triangular2": 1.0, "exp_range": 2.0}[self.mode]
        return [float(self.base_lr), float(self.step_size_up), float(down), mode,
                float(self.gamma), float(self.base_momentum),
                float(self.max_momentum), float(self.cycle_momentum)]


class CosineAnnealingWarmRestarts(Schedule):
    """torch's ``CosineAnnealingWarmRestarts``: cosine annealing from
    ``eta0`` to ``eta_min`` over ``T_0`` updates, then over ``T_0 * T_mult``,
    ``T_0 * T_mult ** 2``, ..., restarting at ``eta0`` each time.

    Parameters
    ----------
    T_0 : int
        Updates of the first cycle.
    T_mult : int, default=1
        The factor of each next cycle's length.
    eta_min : float, default=0.0
        The lowest rate.
    """

    _name = "warm_restarts"
    _parameter_constraints = {"T_0": _STEPS, "T_mult": _STEPS,
                              "eta_min": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, T_0, T_mult=1, eta_min=0.0):
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min

    def _kernel_p(self, total_steps):
        return [float(self.T_0), float(self.T_mult), float(self.eta_min)]


MAX_PHASES = 8


class SequentialLR(Schedule):
    """torch's ``SequentialLR``: ``schedules[0]`` until update
    ``milestones[0]``, then ``schedules[1]`` counting its updates from 1
    again (torch's ``step(0)``), and so on.

    Parameters
    ----------
    schedules : list of Schedule
        Two to eight of :class:`Constant`, :class:`Optimal`,
        :class:`InvScaling`, :class:`Step`, :class:`Exponential`,
        :class:`Cosine`, :class:`LinearLR`, :class:`PolynomialLR`,
        :class:`OneCycleLR` (with an int ``total_steps``), :class:`CyclicLR`
        and :class:`CosineAnnealingWarmRestarts`; each with ``eta0`` as its
        base rate.  (torch calls the parameter ``schedulers``.)
    milestones : list of int
        Increasing update counts at which the next schedule starts: one
        fewer than ``schedules``.

    Notes
    -----
    The momentum (or beta_1) is cycled during the phases of a schedule with
    ``cycle_momentum=True``, and is the optimizer's own in the other phases
    (in torch, whatever the last cycling scheduler wrote stays).
    """

    _name = "sequential_lr"
    _parameter_constraints = {"schedules": [list, tuple],
                              "milestones": [list, tuple]}

    def __init__(self, schedules, milestones):
        self.schedules = schedules
        self.milestones = milestones

    def __hash__(self):
        return hash((type(self), tuple(self.schedules), tuple(self.milestones)))

    def _validated_rule(self):
        name, params = super()._validated_rule()
        schedules, milestones = list(self.schedules), list(self.milestones)
        allowed = (Constant, Optimal, InvScaling, _Decay, Cosine, LinearLR,
                   PolynomialLR, OneCycleLR, CyclicLR,
                   CosineAnnealingWarmRestarts)
        if not 1 <= len(schedules) <= MAX_PHASES:
            raise ValueError(f"SequentialLR takes 1 to {MAX_PHASES} schedules, "
                             f"got {len(schedules)}.")
        for schedule in schedules:
            if not isinstance(schedule, allowed):
                raise ValueError(
                    f"SequentialLR cannot chain {schedule!r}: its schedules are "
                    "Constant, Optimal, InvScaling, Step, Exponential, Cosine, "
                    "LinearLR, PolynomialLR, OneCycleLR, CyclicLR and "
                    "CosineAnnealingWarmRestarts objects.")
            schedule._validated_rule()
            if isinstance(schedule, OneCycleLR) and schedule.total_steps is None:
                raise ValueError(
                    "OneCycleLR(total_steps=None) inside SequentialLR: the "
                    "length of 'the whole fit' is ambiguous there; give "
                    "total_steps as an int.")
        if len(milestones) != len(schedules) - 1:
            raise ValueError(
                f"SequentialLR has {len(schedules)} schedules and "
                f"{len(milestones)} milestones: it needs one milestone fewer "
                "than schedules.")
        previous = 0
        for milestone in milestones:
            if (not isinstance(milestone, Integral) or isinstance(milestone, bool)
                    or milestone <= previous):
                raise ValueError(
                    f"SequentialLR's milestones must be increasing positive "
                    f"ints, got {milestones!r}.")
            previous = milestone
        return name, params


def kernel_fields(schedule, total_steps=None):
    """The ``p``, phase and cycling fields of the kernel's Schedule struct
    for a validated schedule object (``total_steps``: OneCycleLR's when its
    own is None).  Returns (fields, whether it cycles the momentum)."""
    from sgdlearn._params import ALL_SCHEDULES

    n_p, max_phases = 10, MAX_PHASES
    fields = {"p": [0.0] * n_p, "n_phases": 0, "phase_kind": [0] * max_phases,
              "phase_start": [0.0] * max_phases,
              "phase_p": [0.0] * (max_phases * n_p)}
    if isinstance(schedule, SequentialLR):
        starts = [0] + list(schedule.milestones)
        cycles = False
        fields["n_phases"] = len(schedule.schedules)
        for i, (sub, start) in enumerate(zip(schedule.schedules, starts,
                                                  strict=True)):
            p = sub._kernel_p(sub.total_steps if isinstance(sub, OneCycleLR)
                              else None)
            fields["phase_kind"][i] = int(ALL_SCHEDULES[sub._name])
            fields["phase_start"][i] = float(start)
            fields["phase_p"][i * n_p:i * n_p + len(p)] = p
            cycles = cycles or (isinstance(sub, _Cycling) and sub._cycles_momentum())
        return fields, cycles
    if isinstance(schedule, OneCycleLR) and schedule.total_steps is not None:
        total_steps = schedule.total_steps
    p = schedule._kernel_p(total_steps)
    fields["p"][:len(p)] = p
    return fields, isinstance(schedule, _Cycling) and schedule._cycles_momentum()


def spans_fit(schedule):
    """Whether the schedule's length is the whole ``fit``
    (``OneCycleLR(total_steps=None)``)."""
    return isinstance(schedule, OneCycleLR) and schedule.total_steps is None
