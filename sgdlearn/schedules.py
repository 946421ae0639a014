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
"""

from numbers import Integral, Real

from sgdlearn._objects import Hyperparameters
from sgdlearn._sklearn_compat import Interval

__all__ = ["Schedule", "Constant", "Optimal", "InvScaling", "Adaptive", "PA1",
           "PA2", "Step", "Exponential", "Cosine"]

_STEPS = [Interval(Integral, 1, None, closed="left")]
_POSITIVE = [Interval(Real, 0, None, closed="neither")]


class Schedule(Hyperparameters):
    """Base class of the schedule objects."""

    _name = ""

    def _rule(self):
        return self._name, self.get_params(deep=False)


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
