"""What to blame when training diverges: the advice of DivergenceError and
DivergenceWarning, from the settings and data of the failing call.

The learning rate is only one suspect.  A penalty whose own step
``eta_t * alpha`` reaches 1 (a multiplicative decay, plain SGD and AdamW) or
2 (an L2 gradient added to the loss's, the other optimizers) overshoots zero
by itself; so does an L1 step of that size.  Huge inputs, targets or sample
weights multiply every gradient.  Each suspect is named only when its own
evidence is there, with its value and what to do; when none is, the advice
is about the learning rate.
"""

import numpy as np

from sgdlearn._kernels._loss import LossKind
from sgdlearn._kernels._schedule import ScheduleKind, py_eta

# Inputs, regression targets or sample weights beyond this magnitude are
# named as a cause (standardized data stays well below it; 1e3 is also
# where scikit-learn's own estimator checks start failing without scaling).
LARGE_VALUE = 1e3


def _eta(schedule, t):
    """The learning rate of update t, as the kernel computes it, except that
    the 'optimal' schedule's t0 + t - 1 is summed as t0 + (t - 1): for alpha
    above ~1e21, t0 = alpha ** -0.75 is lost in t0 + 1 and the kernel's
    first rate is 1 / 0 (scikit-learn's formula, kept for bit-equality).
    That infinite rate is alpha's doing: the stable value says by how much."""
    eta = py_eta(schedule, t)
    if schedule["kind"] == ScheduleKind.OPTIMAL and not np.isfinite(eta):
        shifted = schedule["t0"] + (t - 1.0)
        if schedule["optimal_absolute"]:
            eta = 1.0 / (schedule["alpha"] * shifted)
        else:
            eta = schedule["eta0"] * schedule["t0"] / shifted
        if t < schedule["warmup_steps"]:
            eta *= t / schedule["warmup_steps"]
    return eta


def _rates(schedule, t_first, t_last):
    """The largest learning rate of updates t_first..t_last and its t (on
    at most 65 points: schedules are monotone or smooth between them)."""
    t_last = max(t_last, t_first)
    ts = np.unique(np.round(np.linspace(t_first, t_last, 65)))
    etas = [_eta(schedule, float(t)) for t in ts]
    best = int(np.argmax(etas))
    return etas[best], float(ts[best])


def _penalty_cause(settings, optim, schedule, eta_max, t_at):
    """A sentence blaming alpha, or None when the penalty's step is fine."""
    if not settings.penalized or settings.alpha <= 0:
        return None
    alpha, l1_ratio = settings.alpha, settings.l1_ratio
    optimal = schedule["kind"] == ScheduleKind.OPTIMAL
    absolute = optimal and schedule["optimal_absolute"]
    # When the rate itself is large, the rate is the suspect (except under
    # the 'optimal' schedule, whose rate alpha sets).
    if not optimal and eta_max >= 1.0:
        return None
    decoupled = optim["decay"] > 0
    parts = []
    if l1_ratio < 1:
        limit = 1.0 if decoupled else 2.0
        parts.append(("L2", 1 - l1_ratio, limit,
                      "shrinks the weights past zero" if decoupled
                      else "makes the L2 gradient alpha * w overshoot zero"))
    if l1_ratio > 0:
        parts.append(("L1", l1_ratio, 1.0,
                      "moves every weight by more than its own scale"))
    for name, share, limit, effect in parts:
        step = eta_max * alpha * share
        if step < limit:
            continue
        factor = "eta_t * alpha"
        if 0 < l1_ratio < 1:
            factor += " * l1_ratio" if name == "L1" else " * (1 - l1_ratio)"
        if absolute:
            # eta_1 * alpha = alpha ** 0.75 (scikit-learn's t0): the step
            # stays below `limit` for alpha below (limit / share) ** (4/3).
            bound = (limit / share) ** (4 / 3)
            how = (f"with learning_rate='optimal' this step is alpha ** 0.75 "
                   f"at the first update, so alpha must be below {bound:.3g}")
        else:
            bound = limit / (eta_max * share)
            how = f"at this learning rate, alpha must be below {bound:.3g}"
        return (
            f"The regularization is too strong, not the learning rate: "
            f"alpha={alpha:.3g} makes the {name} penalty's own step "
            f"{factor} = {step:.3g} at update t={t_at:.0f} (learning rate "
            f"{eta_max:.3g}), and a step of {limit:g} or more {effect}. Lower "
            f"alpha ({how}; typical values are 1e-6 to 1e-2, the default "
            "1e-4)."
        )
    return None


def _data_causes(rows, y, regression, sample_weight, eta_max):
    """Sentences naming huge inputs, regression targets or sample weights."""
    causes = []
    x_max = float(np.max(np.abs(rows.data))) if rows.data.size else 0.0
    if x_max > LARGE_VALUE:
        causes.append(
            f"X has values up to {x_max:.3g} in magnitude, and every gradient "
            "grows with them: scale the input data with StandardScaler or "
            "MinMaxScaler."
        )
    if regression and y.size:
        y_max = float(np.max(np.abs(y)))
        if y_max > LARGE_VALUE:
            causes.append(
                f"The targets reach |y| = {y_max:.3g}, and the loss's gradient "
                "grows with them: scale y, e.g. TransformedTargetRegressor("
                "regressor=GDRegressor(), transformer=StandardScaler())."
            )
    if sample_weight.size:
        w_max = float(np.max(sample_weight))
        if w_max > LARGE_VALUE:
            causes.append(
                f"sample_weight reaches {w_max:.3g}: a sample's step is the "
                f"learning rate times its weight ({eta_max * w_max:.3g} here). "
                "Divide the weights by their mean (their ratios stay the "
                "same), or lower the learning rate by the same factor."
            )
    return causes


def _rate_advice(schedule, eta_max, others):
    """The advice about the learning rate itself."""
    absolute = (schedule["kind"] == ScheduleKind.OPTIMAL
                and schedule["optimal_absolute"])
    if absolute:
        lower = ("learning_rate='optimal' sets the rate from alpha alone "
                 "(eta0 is not used): use learning_rate='constant' or "
                 "'invscaling' with a smaller eta0 (try sgdlearn.lr_find)")
    else:
        lower = "lower eta0 (try sgdlearn.lr_find)"
    if others:
        return (f"Otherwise the learning rate (up to {eta_max:.3g}) is too "
                f"large for this data: {lower}, or use an adaptive optimizer "
                "such as optimizer='adam'.")
    return (f"The learning rate is too large for this data: {lower}, scale "
            "the input data with StandardScaler or MinMaxScaler, or use an "
            "adaptive optimizer such as optimizer='adam'.")


def _rate_free(kind):
    """Whether the optimizer of kernel kind ``kind`` has no learning rate."""
    from sgdlearn._optim_table import OPTIMIZERS

    return any(row.rate_free and int(row.kind) == int(kind)
               for row in OPTIMIZERS.values())


def explain(trainer, t_first, t_last):
    """Why the updates t_first..t_last of ``trainer`` diverged, and what to
    do: a few sentences naming the parameter the evidence points to."""
    problem, settings = trainer.problem, trainer.settings
    if _rate_free(trainer.optim["kind"]):
        # COCOB: no learning rate to blame, and its rate-shaped penalty
        # step does not exist.
        regression = (problem.positive < 0
                      and trainer.task["loss"] != LossKind.MULTINOMIAL)
        data = _data_causes(trainer.rows, problem.y, regression,
                            problem.sample_weight, 1.0)
        advice = ("This optimizer has no learning rate to lower (its bets "
                  "are normalized by each coordinate's largest gradient): "
                  "the gradients themselves overflowed.")
        if not data:
            advice += (" Scale the input data with StandardScaler or "
                       "MinMaxScaler.")
        return " ".join([*data, advice])
    eta_max, t_at = _rates(trainer.schedule, t_first, t_last)
    penalty = _penalty_cause(settings, trainer.optim, trainer.schedule,
                             eta_max, t_at)
    regression = (problem.positive < 0
                  and trainer.task["loss"] != LossKind.MULTINOMIAL)
    data = _data_causes(trainer.rows, problem.y, regression,
                        problem.sample_weight, eta_max)
    if penalty is not None:
        return " ".join([penalty, *data])
    return " ".join([*data, _rate_advice(trainer.schedule, eta_max, data)])
