"""Optimizer objects for the ``optimizer`` parameter, named as torch.optim's.

``GDClassifier(optimizer=Adam(beta_2=0.99))`` is the object form of
``GDClassifier(optimizer="adam", beta_2=0.99)`` and trains the same model,
bit for bit.  An object carries its own hyperparameters, so
``GridSearchCV`` can search ``{"optimizer__beta_2": [0.99, 0.999]}`` or
``{"optimizer": [Adam(), SGD(momentum=0.9)]}``.

Precedence: with a string, the optimizer reads the estimator's flat
parameters (``momentum``, ``beta_1``, ``beta_2``, ``eps``, ``rho``,
``centered``); with an object, only the object's.  Setting a flat parameter
the object also has to a non-default value is an error, not a silent
choice.  The learning rate is never an optimizer's: it is ``eta0`` and the
schedule (``learning_rate``), as for the strings.

NAdam, RAdam, Adamax and Adadelta have torch's own defaults (Adadelta's
``rho=0.9, eps=1e-6``), on their objects only: ``optimizer='nadam'`` is
``NAdam()``, and the estimator's flat ``beta_1``, ``beta_2``, ``eps`` and
``rho`` are not read by them (setting one is an error that says so).
"""

from numbers import Real

from sgdlearn._objects import Hyperparameters
from sgdlearn._sklearn_compat import Interval

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam",
           "Adamax", "Adadelta", "FTRL", "Normalized", "COCOB",
           "SGDScheduleFree", "AdamWScheduleFree", "Optimizer"]

_UNIT = [Interval(Real, 0, 1, closed="left")]
_EPS = [Interval(Real, 0, None, closed="left")]


class Optimizer(Hyperparameters):
    """Base class of the optimizer objects."""


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (torch's SGD).

    ``SGD()`` is ``optimizer='sgd'`` (scikit-learn's plain SGD: the L2
    penalty shrinks the weights multiplicatively); ``SGD(momentum=m)`` is
    ``optimizer='momentum'`` and ``SGD(momentum=m, nesterov=True)`` is
    ``optimizer='nesterov'``, with ``momentum=m``.

    Parameters
    ----------
    momentum : float in [0, 1), default=0.0
        Momentum factor; 0 is plain SGD.
    nesterov : bool, default=False
        Nesterov momentum (needs ``momentum > 0``, as in torch).
    """

    _parameter_constraints = {"momentum": _UNIT, "nesterov": ["boolean"]}

    def __init__(self, momentum=0.0, nesterov=False):
        self.momentum = momentum
        self.nesterov = nesterov

    def _rule(self):
        if self.momentum == 0:
            if self.nesterov:
                raise ValueError("SGD(nesterov=True) needs a momentum > 0, "
                                 "e.g. SGD(momentum=0.9, nesterov=True).")
            return "sgd", {}
        return ("nesterov" if self.nesterov else "momentum",
                {"momentum": self.momentum})


class Adagrad(Optimizer):
    """AdaGrad (torch's Adagrad with ``lr_decay=0``).

    Parameters
    ----------
    eps : float, default=1e-8
        Added to the square root of the summed squared gradients.  torch's
        default is 1e-10; 1e-8 is the estimator's ``eps`` default, so that
        ``Adagrad()`` and ``optimizer='adagrad'`` are the same model.
    """

    _parameter_constraints = {"eps": _EPS}

    def __init__(self, eps=1e-8):
        self.eps = eps

    def _rule(self):
        return "adagrad", {"eps": self.eps}


class RMSprop(Optimizer):
    """RMSProp (torch's RMSprop without momentum).

    Parameters
    ----------
    rho : float in [0, 1), default=0.99
        Smoothing constant of the squared gradients (torch's ``alpha``).
    eps : float, default=1e-8
        Added to the square root of the average.
    centered : bool, default=False
        Normalize by the gradient's estimated variance (Graves, 2013).
        Changing it restarts the optimizer state on a warm start.
    """

    _parameter_constraints = {"rho": _UNIT, "eps": _EPS, "centered": ["boolean"]}

    def __init__(self, rho=0.99, eps=1e-8, centered=False):
        self.rho = rho
        self.eps = eps
        self.centered = centered

    def _rule(self):
        return "rmsprop", {"rho": self.rho, "eps": self.eps,
                           "centered": self.centered}


class Adam(Optimizer):
    """Adam, or AMSGrad with ``amsgrad=True`` (torch's Adam).

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
        Decay of the first-moment estimate (torch's ``betas[0]``).
    beta_2 : float in [0, 1), default=0.999
        Decay of the second-moment estimate (torch's ``betas[1]``).
    eps : float, default=1e-8
        Added to the bias-corrected square root of the second moment.
    amsgrad : bool, default=False
        Divide by the running maximum of the second moment
        (``optimizer='amsgrad'``).
    """

    _parameter_constraints = {"beta_1": _UNIT, "beta_2": _UNIT, "eps": _EPS,
                              "amsgrad": ["boolean"]}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8, amsgrad=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.amsgrad = amsgrad

    def _rule(self):
        return ("amsgrad" if self.amsgrad else "adam",
                {"beta_1": self.beta_1, "beta_2": self.beta_2, "eps": self.eps})


class AdamW(Optimizer):
    """Adam with decoupled weight decay (torch's AdamW).

    The decay is the estimator's L2 penalty: the weights shrink by
    ``1 - lr * alpha * (1 - l1_ratio)`` before each step (torch's
    ``weight_decay`` is ``alpha`` here).

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
        Decay of the first-moment estimate.
    beta_2 : float in [0, 1), default=0.999
        Decay of the second-moment estimate.
    eps : float, default=1e-8
        Added to the bias-corrected square root of the second moment.
    """

    _parameter_constraints = {"beta_1": _UNIT, "beta_2": _UNIT, "eps": _EPS}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps

    def _rule(self):
        return "adamw", {"beta_1": self.beta_1, "beta_2": self.beta_2,
                         "eps": self.eps}


class NAdam(Optimizer):
    """Adam with Nesterov momentum, torch's NAdam (Dozat, 2016).

    The momentum follows torch's schedule ``mu_t = beta_1 (1 - 0.5 *
    0.96 ** (t * momentum_decay))`` and the step weighs the current gradient
    and the first moment by it; ``optimizer_state_["mu_product"]`` is the
    product of ``mu_t`` so far (kept in float64: torch keeps it in its
    default dtype, float32 unless changed, and so drifts from a float64 rule
    by about 1e-10 relative).

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
        Momentum factor (torch's ``betas[0]``).
    beta_2 : float in [0, 1), default=0.999
        Decay of the second-moment estimate (torch's ``betas[1]``).
    eps : float, default=1e-8
        Added to the bias-corrected root of the second moment.
    momentum_decay : float, default=4e-3
        torch's ``momentum_decay`` (psi).
    decoupled_weight_decay : bool, default=False
        The L2 penalty as a decoupled decay of the weights (as AdamW,
        torch's NAdamW) instead of an added gradient.
    """

    _parameter_constraints = {"beta_1": _UNIT, "beta_2": _UNIT, "eps": _EPS,
                              "momentum_decay": _EPS,
                              "decoupled_weight_decay": ["boolean"]}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8,
                 momentum_decay=4e-3, decoupled_weight_decay=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.momentum_decay = momentum_decay
        self.decoupled_weight_decay = decoupled_weight_decay

    def _rule(self):
        return "nadam", self.get_params()


class RAdam(Optimizer):
    """Rectified Adam, torch's RAdam (Liu et al., 2020).

    While the variance of the adaptive rate is intractable (torch's
    ``rho_t <= 5``: the first five steps with ``beta_2=0.999``) the step is
    bias-corrected momentum SGD, ``lr * m / (1 - beta_1 ** t)``; then
    Adam's step times the rectification term, with ``eps`` added to the
    uncorrected root of the second moment (torch's placement).

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
        Decay of the first-moment estimate.
    beta_2 : float in [0, 1), default=0.999
        Decay of the second-moment estimate; with ``beta_2 <= 2/3`` the
        rule never leaves its momentum phase.
    eps : float, default=1e-8
        Added to the root of the second moment.
    decoupled_weight_decay : bool, default=False
        The L2 penalty as a decoupled decay of the weights (as AdamW)
        instead of an added gradient.
    """

    _parameter_constraints = {"beta_1": _UNIT, "beta_2": _UNIT, "eps": _EPS,
                              "decoupled_weight_decay": ["boolean"]}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8,
                 decoupled_weight_decay=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.decoupled_weight_decay = decoupled_weight_decay

    def _rule(self):
        return "radam", self.get_params()


class Adamax(Optimizer):
    """Adam with the infinity norm, torch's Adamax (Kingma & Ba, 2015).

    ``u = max(beta_2 u, |g| + eps)`` (torch puts ``eps`` inside the
    maximum) and ``w -= lr / (1 - beta_1 ** t) * m / u``.

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
        Decay of the first-moment estimate.
    beta_2 : float in [0, 1), default=0.999
        Decay of the infinity norm.
    eps : float, default=1e-8
        Added to ``|g|`` inside the maximum.
    """

    _parameter_constraints = {"beta_1": _UNIT, "beta_2": _UNIT, "eps": _EPS}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps

    def _rule(self):
        return "adamax", self.get_params()


class Adadelta(Optimizer):
    """Adadelta, torch's rule (Zeiler, 2012).

    ``v = rho v + (1 - rho) g**2``, ``dx = sqrt(a + eps) / sqrt(v + eps)
    * g``, ``a = rho a + (1 - rho) dx**2``, ``w -= lr * dx``.  With the
    estimator's ``eta0`` and ``learning_rate`` left at their defaults, the
    rate is torch's ``lr=1.0``, constant.  The first steps are about
    ``sqrt(eps / (1 - rho))`` = 3e-3 per coordinate whatever the gradient's
    size: Adadelta starts slowly.

    Parameters
    ----------
    rho : float in [0, 1), default=0.9
        Decay of both running averages (torch's default; Zeiler suggests
        0.95).
    eps : float, default=1e-6
        Added inside both square roots.
    """

    _parameter_constraints = {"rho": _UNIT, "eps": _EPS}

    def __init__(self, rho=0.9, eps=1e-6):
        self.rho = rho
        self.eps = eps

    def _rule(self):
        return "adadelta", self.get_params()


class FTRL(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013, Algorithm 1): per-coordinate
    rates and exact zeros from its own L1; Vowpal Wabbit's ``--ftrl``.

    State per coordinate: ``z`` and ``n`` (``optimizer_state_["z"]``,
    ``["n"]``).  With ``g`` the loss gradient of the update,
    ``sigma = (sqrt(n + g**2) - sqrt(n)) / eta0``, ``z += g - sigma * w``,
    ``n += g**2``, and then the weight is a function of the state:
    ``w = 0`` if ``|z| <= l1``, else ``-(z - sign(z) l1) / ((beta +
    sqrt(n)) / eta0 + l2)``.  The estimator's ``eta0`` is the paper's
    alpha (default for FTRL: 0.5, Vowpal Wabbit's, at a constant rate;
    another schedule is an error).  Only the coordinates an update touches
    change, so a sparse update costs O(non-zeros) and a CSR fit equals the
    dense one.

    The penalty is this object's ``l1`` and ``l2``, the paper's lambda_1
    and lambda_2 on the *summed* loss (per update, not averaged over the
    rows as the estimator's ``alpha`` is): the estimator's ``penalty``,
    ``alpha`` and ``l1_ratio`` are not read and must stay at their defaults.
    The intercept is one more coordinate with ``x = 1`` and no penalty.
    A mini-batch update applies the rule once to the batch's mean gradient
    (FTRL has no batch form of its own).  FTRL is not scale-invariant:
    ``n`` sums squared gradients, so scale the features.

    Parameters
    ----------
    beta : float > 0, default=1.0
        The per-coordinate rate is ``eta0 / (beta + sqrt(n))``.
    l1 : float >= 0, default=0.0
        lambda_1: weights whose ``|z| <= l1`` are exactly zero.
    l2 : float >= 0, default=0.0
        lambda_2: L2 shrinkage.
    """

    _parameter_constraints = {
        "beta": [Interval(Real, 0, None, closed="neither")],
        "l1": _EPS, "l2": _EPS}

    def __init__(self, beta=1.0, l1=0.0, l2=0.0):
        self.beta = beta
        self.l1 = l1
        self.l2 = l2

    def _rule(self):
        return "ftrl", self.get_params()


class COCOB(Optimizer):
    """COCOB-Backprop (Orabona & Tommasi, 2017, Algorithm 2): coin betting,
    without a learning rate; the authors' code (``parameterfree.COCOB``).

    Each coordinate bets on its gradients' signs.  State per coordinate
    (``optimizer_state_``, torch's names): ``sum_negative_gradients``
    (theta), ``grad_norm_sum`` (G, the sum of ``|g|``), ``L`` (the largest
    ``|g|`` seen, from ``eps``), ``reward`` and ``x0`` (the weight it
    started from).  With ``g`` the update's gradient::

        L = max(L, |g|);  theta -= g;  G += |g|
        reward = max(reward - g (w - x0), 0)
        w = x0 + (reward + L) theta / (L max(G + L, alpha L))

    The first update moves each weight by ``-sign(g) / alpha`` whatever the
    gradient's size (for ``alpha >= 2``), and the ``max(G + L, alpha L)``
    keeps the bets small for about ``alpha`` updates, like a warm-up.

    **No learning rate.**  The estimator's ``eta0``, ``learning_rate``,
    ``power_t``, ``warmup_steps`` and ``intercept_decay`` are not read:
    left at their defaults they are ignored, set to anything else they are
    an error (a value that would silently do nothing).
    ``GDClassifier(optimizer="cocob")`` needs no other parameter.

    **Penalty.**  The estimator's L2 penalty is coupled, as
    ``parameterfree.COCOB(weight_decay=alpha)``: ``alpha * w`` (the
    estimator's ``alpha``, the L2 share of it) is added to the gradient of
    every coordinate the update touches (all on dense input; on CSR input
    the row's stored columns only, so a sparse fit with ``alpha > 0``
    differs from the dense one: the row's ``sparse="lazy"``).  With
    ``penalty=None`` (or ``alpha=0``) a sparse update is exact and costs
    O(non-zeros): a zero gradient leaves the state and the weight as they
    are.  The intercept is one more coordinate with ``x = 1`` and no
    penalty.  An L1 share (``penalty='l1'``, ``'elasticnet'``) is an error:
    the weights are a function of the state, which would undo the
    truncation.

    **Batches.**  A mini-batch (or full-batch) update feeds the batch's
    mean gradient to the same rule once (COCOB is defined per sample; there
    is no reference for batches).

    **Starts.**  ``x0`` is the starting weights: zeros, ``coef_init``, or
    the weights of another optimizer's fit on a warm start.  Changing
    ``alpha`` or ``eps`` restarts the betting from the current weights.

    Parameters
    ----------
    alpha : float >= 0, default=100.0
        Bounds the first bets: roughly the number of warm-up updates.  (Not
        the estimator's ``alpha``, the penalty's strength.)
    eps : float > 0, default=1e-8
        The starting value of ``L``.
    """

    _parameter_constraints = {
        "alpha": _EPS, "eps": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, alpha=100.0, eps=1e-8):
        self.alpha = alpha
        self.eps = eps

    def _rule(self):
        return "cocob", self.get_params()


_OPEN_UNIT = [Interval(Real, 0, 1, closed="neither")]

_SF_COMMON = """
    The estimator's weights ``coef_``/``intercept_`` (what ``predict``,
    ``decision_function`` and ``score`` use) are **x**, the weighted average
    of the base iterates z; gradients are taken at **y** = (1 - beta) z +
    beta x.  z, y (and AdamW's v) are optimizer state
    (``optimizer_state_["z"]``, ``["y"]``), carried across ``partial_fit``,
    pickled, mixed under Dask as means; the running scalars ``lr_max`` and
    ``weight_sum`` with them.  Per update k (from 1) at rate lr_k, lr_max =
    max(lr_max, lr_k), the average's weight is ``k ** r * lr_max **
    weight_lr_power`` and c = weight / weight_sum.

    The rate is ``eta0`` at a constant schedule when ``eta0`` and
    ``learning_rate`` are left at the estimator's defaults (the point of the
    method: no decay to tune); its warm-up is the estimator's
    ``warmup_steps`` (the same linear ramp, update t at ``t /
    warmup_steps``).  Another schedule is allowed and gives lr_k, as a torch
    scheduler on schedulefree's optimizer would, except one that cycles the
    momentum (an error: beta must stay fixed for x to be recovered from y
    and z).  ``average`` is an error (x already is an average), as are the
    L1 and elastic-net penalties.

    The L2 penalty (``alpha``) is schedulefree's ``weight_decay``, taken at
    y.  On sparse input a step costs O(non-zeros): skipped coordinates are
    caught up in closed form when next touched and at the end of each call
    (y = z + (S_last / S_now)(y - z), S the weight sum), exactly, except
    that the decay applies only to the coordinates an update touches (with
    ``alpha > 0`` a CSR fit differs from the dense one; with ``penalty=None``
    or ``alpha=0`` they are equal).  With ``tol`` set, the objective of each
    epoch (what ``tol`` judges, and ``loss_curve_``) is the training
    objective at x after the epoch, which costs one more pass over the rows
    (with ``tol=None``, the losses the updates met at y, as for every
    optimizer); early stopping scores x.  A start from ``coef_init`` (or from another
    optimizer's fit on a warm start) sets z = y = x to it."""


class SGDScheduleFree(Optimizer):
    __doc__ = """Schedule-free SGD (Defazio et al. 2024, "The Road Less
    Scheduled"): the ``schedulefree`` package's ``SGDScheduleFree``.

    Per update, with g the gradient at y (plus ``alpha * y``)::

        y = lerp(y, z, c) + lr * (momentum * (1 - c) - 1) * g
        z = z - lr * g

    and x = lerp(y, z, 1 - 1/momentum) is the model.
    """ + _SF_COMMON + """

    The string form is ``optimizer='sgd_schedulefree'``.  Its rate, when
    ``eta0`` is left at the estimator's default, is ``eta0=0.03``:
    schedulefree's lr=1.0 is tuned for deep networks; on linear models of
    standardized features 0.03 gave the best 5-fold accuracy on
    breast_cancer, digits and wine (1.0 was 0.3 to 1.7 points worse; see the
    guide).

    Parameters
    ----------
    momentum : float in (0, 1), default=0.9
        beta, the interpolation between z and x where gradients are taken.
        Changing it restarts the state on a warm start.
    r : float >= 0, default=0.0
        The k-th iterate's weight in the average grows as ``k ** r``.
    weight_lr_power : float >= 0, default=2.0
        ... and as ``lr_max ** weight_lr_power``.
    """

    _parameter_constraints = {"momentum": _OPEN_UNIT, "r": _EPS,
                              "weight_lr_power": _EPS}

    def __init__(self, momentum=0.9, r=0.0, weight_lr_power=2.0):
        self.momentum = momentum
        self.r = r
        self.weight_lr_power = weight_lr_power

    def _rule(self):
        return "sgd_schedulefree", self.get_params()


class AdamWScheduleFree(Optimizer):
    __doc__ = """Schedule-free AdamW (Defazio et al. 2024, "The Road Less
    Scheduled"): the ``schedulefree`` package's ``AdamWScheduleFree``.

    Per update k, with g the loss gradient at y::

        v = beta_2 * v + (1 - beta_2) * g**2
        n = g / (sqrt(v / (1 - beta_2**k)) + eps) + alpha * y
        y = lerp(y, z, c) + lr * (beta_1 * (1 - c) - 1) * n
        z = z - lr * n

    (no first moment: beta_1 is the interpolation), and x = lerp(y, z, 1 -
    1/beta_1) is the model.
    """ + _SF_COMMON + """

    The string form is ``optimizer='adamw_schedulefree'``.  Its rate, when
    ``eta0`` is left at the estimator's default, is schedulefree's
    ``lr=0.0025``, which also gave the best 5-fold accuracy on standardized
    breast_cancer, digits and wine (see the guide).

    Parameters
    ----------
    beta_1 : float in (0, 1), default=0.9
        beta, the interpolation between z and x where gradients are taken.
        Changing it restarts the state on a warm start.
    beta_2 : float in [0, 1), default=0.999
        Decay of the second-moment estimate.
    eps : float >= 0, default=1e-8
        Added to the bias-corrected root of the second moment.
    r : float >= 0, default=0.0
        The k-th iterate's weight in the average grows as ``k ** r``.
    weight_lr_power : float >= 0, default=2.0
        ... and as ``lr_max ** weight_lr_power``.
    """

    _parameter_constraints = {"beta_1": _OPEN_UNIT, "beta_2": _UNIT,
                              "eps": _EPS, "r": _EPS, "weight_lr_power": _EPS}

    def __init__(self, beta_1=0.9, beta_2=0.999, eps=1e-8, r=0.0,
                 weight_lr_power=2.0):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.r = r
        self.weight_lr_power = weight_lr_power

    def _rule(self):
        return "adamw_schedulefree", self.get_params()


class Normalized(Optimizer):
    """Vowpal Wabbit's default update rule: adaptive, normalized and
    importance-invariant (Ross, Mineiro & Langford, "Normalized Online
    Learning", 2013; Karampatziakis & Langford, 2011) -- ``vw`` with no
    update flag, ``optimizer='normalized'``.

    State per coordinate: ``G``, the sum of ``h dl**2 x_j**2`` (``h`` the
    sample weight, VW's importance weight; ``optimizer_state_
    ["sum_sq_grad"]``), and ``N``, the largest ``|x_j|`` seen
    (``["max_abs_x"]``); per problem ``S``, the sum of ``h ||x / N||**2``,
    and ``W``, the sum of ``h`` (``["sum_norm_x"]``, ``["total_weight"]``).
    Per sample, with the rate ``r_j = G_j**-exponent *
    N_j**(2 (exponent - 1))`` (``1 / (sqrt(G_j) N_j)`` by default) and the
    multiplier ``mult = (S / W)**(exponent - 1)``: when a larger ``|x_j|``
    appears the weight is rescaled (``w_j *= N_j / |x_j|``) so that the
    model is as if that scale had been known from the start; the step
    moves the prediction along ``x_j r_j`` by the loss's
    importance-invariant amount for the "time" ``eta0 * h`` (for
    ``squared_error`` and ``log_loss``; a plain gradient step for the other
    losses and for the multinomial loss).  The result does not depend on the
    scale of each feature (after its first non-zero value), so the rule
    needs no feature scaling, and large ``eta0`` or ``h`` cannot overshoot.
    The exact rule is in the algorithm notes (``docs/algorithm.rst``).

    The rate: ``eta0`` and ``learning_rate`` left at the estimator's
    defaults give VW's ``-l 0.5`` at a constant rate (the adaptive rates
    decay by themselves; VW applies no time decay with them).  Another
    schedule multiplies ``eta0`` as for the other rules.  The estimator's
    L2 penalty (default ``alpha=1e-4``) is VW's ``--l2 alpha``: the weights
    shrink by ``1 - alpha * eta_bar`` per update, ``eta_bar`` the update's
    effective rate, through the kernel's O(1) weight scale; ``penalty=None``
    is VW's default (no penalty).  The intercept is VW's constant feature
    (``x = 1``), not penalized, and ``intercept_decay`` is not read.  A
    sparse update costs O(non-zeros) exactly: every state of an absent
    coordinate stays as it is, so CSR input gives the dense result.

    Mini-batches (``batch_size > 1``) take one plain step of the batch's
    mean gradient through the rates, as one example of the batch's mean
    weight ``H`` (``G += g**2 / H``; ``N``, ``S`` and ``W`` from the batch's
    rows); the importance-invariant step needs one prediction, so
    ``invariant`` does not apply to them.

    Parameters
    ----------
    adaptive : bool, default=True
        Per-coordinate AdaGrad rates from ``G`` (VW's ``--adaptive``).
    normalized : bool, default=True
        Normalization by ``N`` and the global multiplier (VW's
        ``--normalized``).  Without it the rule is not scale-invariant.
    invariant : bool, default=True
        Importance-invariant steps (VW's ``--invariant``).
    exponent : float in [0, 1], default=0.5
        VW's ``--power_t``: the exponent of ``G`` and of the normalizers
        (not the estimator's ``power_t``, the invscaling schedule's).

    Notes
    -----
    Differences from VW itself, all deliberate: predictions are not clipped
    to the range of the labels seen (VW does it for the squared loss); the
    squared loss is scikit-learn's ``(p - y)**2 / 2``, whose steps with the
    adaptive rate are VW's exactly (without it, VW's ``-l eta`` is
    ``eta0=2 eta`` here); VW's ``--sgd``-style time decay of the
    non-adaptive variants and its default ``-l 10`` for them are not
    applied (set ``learning_rate`` and ``eta0``); VW's ``--initial_t`` is 0.
    In float32 the per-sample updates use VW's operations in its order: given
    the same prediction, the portable build reproduces VW 9.11.9 bit for bit.
    """

    _parameter_constraints = {
        "adaptive": ["boolean"], "normalized": ["boolean"],
        "invariant": ["boolean"],
        "exponent": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, adaptive=True, normalized=True, invariant=True,
                 exponent=0.5):
        self.adaptive = adaptive
        self.normalized = normalized
        self.invariant = invariant
        self.exponent = exponent

    def _rule(self):
        return "normalized", self.get_params()
