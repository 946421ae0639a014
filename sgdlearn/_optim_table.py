"""The optimizer table: every optimizer described once.

Validation, state allocation, the warm-start "same optimizer?" decision,
Dask mixing, the docs' table and the tests' parametrization all read
:data:`OPTIMIZERS`.  Adding an optimizer is one row here, its class in
:mod:`sgdlearn.optim`, its update in the kernel (``_optim.pxd``) and its
NumPy rule in ``tests/_reference.py``.
"""

from dataclasses import dataclass
from numbers import Real

from sgdlearn._kernels._optim import OptimKind
from sgdlearn._sklearn_compat import Interval


@dataclass(frozen=True)
class Hyper:
    """A hyperparameter of one or more optimizers."""

    default: object
    constraint: list  # scikit-learn parameter constraints
    doc: str


@dataclass(frozen=True)
class Slot:
    """One per-coordinate state array."""

    name: str  # torch.optim's name for it (``optimizer_state_`` keys)
    # How copies of a model average it (Dask, data-parallel training):
    # "mean" (weighted), "max" or "sum" of the copies' arrays.
    mixing: str = "mean"
    # The hyperparameter ``beta`` whose power biases the slot towards zero
    # (``1 - beta ** step``): copies are averaged in corrected form.
    bias: str | None = None
    # A boolean hyperparameter that must be true for the slot to exist.
    when: str | None = None


@dataclass(frozen=True)
class Counter:
    """A per-problem running scalar that is not a closed form of the step
    count (NAdam's ``mu_product``), carried across calls like it."""

    name: str  # its ``optimizer_state_`` key
    initial: float
    # The mixture of copies takes the value of the copy that made the most
    # steps (the mixture's step count is their maximum).


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Row:
    """One row of the table."""

    kind: OptimKind
    summary: str  # one line for the docs' table
    hypers: tuple = ()  # names in HYPERS it reads
    # Hyperparameters on its sgdlearn.optim object only (name -> Hyper):
    # the string form uses their defaults.
    own: tuple = ()
    slots: tuple = ()
    counters: tuple = ()
    # The L2 penalty shrinks the weights multiplicatively (through the
    # kernel's O(1) weight scale) instead of adding its gradient; or the
    # name of the boolean hyperparameter that decides it.
    decoupled_decay: bool | str = False
    # Hyperparameters that change what the state means: a change restarts
    # the state, as a change of optimizer does.
    identity: tuple = ()
    # How a sparse update treats the coordinates it skips: "exact" (no
    # drift to catch up, or a closed form), or "lazy" (untouched; see the
    # guide).
    sparse: str = "exact"
    # 'optimal' is Bottou's absolute rate 1 / (alpha (t0 + t - 1)), which
    # assumes steps on the gradient's scale; otherwise eta0 * t0 / (t0 + t - 1).
    absolute_optimal: bool = False
    # The base rate and schedule used when the user leaves ``eta0`` and
    # ``learning_rate`` at the estimator's defaults (made for plain SGD);
    # None keeps the estimator's.  A rule whose natural rate differs (torch's
    # Adadelta: lr=1) sets them here.
    default_eta0: float | None = None
    default_schedule: str | None = None
    # The rule runs with a constant rate only (FTRL: the rate is part of
    # its per-coordinate state's meaning): another schedule is an error.
    constant_rate: bool = False
    # The penalty is the optimizer's own hyperparameters (FTRL's l1, l2):
    # the estimator's penalty, alpha and l1_ratio must stay at their
    # defaults (an error otherwise), and the kernel's penalties are off.
    own_penalty: bool = False
    # The published weights are the rule's own average of its iterates
    # (schedule-free's x): ``average``, the L1 and elastic-net penalties
    # and a schedule that cycles the momentum are errors.
    own_average: bool = False
    # Weights that are a function of the state (FTRL): ``weights(hp, rate,
    # slots, penalized)`` gives them from the state slots (a tuple of
    # arrays, the table's order); mixed copies recompute their weights so,
    # and ``state_of(hp, rate, w, penalized)`` gives a state whose weights
    # are ``w`` (for a start from coef_init or another optimizer's fit).
    weights: object = None
    state_of: object = None
    # The fresh state of zero weights is all zeros (state_of is then not
    # called); False when it is not (COCOB's L starts at eps).
    zero_start: bool = True
    # The rule has no learning rate (COCOB): eta0, learning_rate,
    # warmup_steps, power_t and intercept_decay set by the user are errors,
    # and the kernel gets a constant rate it does not read.
    rate_free: bool = False
    # The estimator's L1 penalty (cumulative truncation of the weights)
    # applies; False: a penalty with an L1 share is an error (a rule whose
    # weights are a function of its state would undo the truncation).
    l1_truncation: bool = True
    torch: str = ""  # the torch.optim equivalent, for the docs
    # The sgdlearn.optim class, when it is not named by ``torch``.
    cls: str = ""
    # The intercept is one more coordinate of the rule, with x = 1 (Vowpal
    # Wabbit's constant feature): intercept_decay="auto" is 1 on CSR too (a
    # number still multiplies the intercept's steps).
    intercept_feature: bool = False

    def slots_for(self, hp):
        """The slots that exist with hyperparameters ``hp``."""
        return tuple(s for s in self.slots if s.when is None or hp[s.when])

    def decoupled(self, hp):
        """Whether the L2 penalty is a decoupled decay with ``hp``."""
        if isinstance(self.decoupled_decay, str):
            return bool(hp[self.decoupled_decay])
        return self.decoupled_decay

    @property
    def names(self):
        """Every hyperparameter it reads: flat ones, then its own."""
        return self.hypers + tuple(name for name, _ in self.own)

    def default(self, name):
        """The default of hyperparameter ``name``."""
        return dict(self.own)[name].default if name in dict(self.own) else (
            HYPERS[name].default)


# The hyperparameters of today's optimizers are also flat estimator
# parameters (string optimizers read them); new optimizers' hyperparameters
# live on their sgdlearn.optim objects only.
HYPERS = {
    "momentum": Hyper(0.9, [Interval(Real, 0, 1, closed="left")],
                      "momentum factor (torch's ``momentum``)"),
    "beta_1": Hyper(0.9, [Interval(Real, 0, 1, closed="left")],
                    "decay of the first-moment estimate"),
    "beta_2": Hyper(0.999, [Interval(Real, 0, 1, closed="left")],
                    "decay of the second-moment estimate"),
    "eps": Hyper(1e-8, [Interval(Real, 0, None, closed="left")],
                 "stabilizer added to the denominator"),
    "rho": Hyper(0.99, [Interval(Real, 0, 1, closed="left")],
                 "smoothing constant (torch's ``alpha``)"),
    "centered": Hyper(False, ["boolean"],
                      "normalize by the gradient's estimated variance"),
}

_ADAM_SLOTS = (Slot("exp_avg", bias="beta_1"), Slot("exp_avg_sq", bias="beta_2"))

_UNIT = [Interval(Real, 0, 1, closed="left")]
_EPS = [Interval(Real, 0, None, closed="left")]
_BETAS = (("beta_1", Hyper(0.9, _UNIT, "decay of the first-moment estimate")),
          ("beta_2", Hyper(0.999, _UNIT, "decay of the second-moment estimate")))
_DECOUPLED = ("decoupled_weight_decay", Hyper(
    False, ["boolean"], "the L2 penalty as AdamW's decoupled decay"))


def _eps(default):
    return ("eps", Hyper(default, _EPS, "stabilizer of the denominator"))

def ftrl_weights(hp, rate, slots, penalized=True):
    """FTRL-Proximal's weights from its state (z, n): 0 where |z| <= l1,
    else -(z - sgn(z) l1) / ((beta + sqrt(n)) / rate + l2); the intercept
    (``penalized=False``) has l1 = l2 = 0.  In float64, cast back to z's
    dtype (the kernel's float32 results may differ in the last bit)."""
    import numpy as np

    z, n = (np.asarray(a, dtype=np.float64) for a in slots)
    l1, l2 = (hp["l1"], hp["l2"]) if penalized else (0.0, 0.0)
    step = 1.0 / (l2 + (hp["beta"] + np.sqrt(n)) / rate)
    w = np.where(np.abs(z) <= l1, 0.0,
                 step * np.sign(z) * (l1 - np.abs(z)))
    return w.astype(np.asarray(slots[0]).dtype)


def ftrl_state_of(hp, rate, w, penalized=True):
    """The FTRL state (z, n = 0) whose weights are ``w``: z = -(beta / rate
    + l2) w - sgn(w) l1."""
    import numpy as np

    w = np.asarray(w, dtype=np.float64)
    l1, l2 = (hp["l1"], hp["l2"]) if penalized else (0.0, 0.0)
    z = -(hp["beta"] / rate + l2) * w - np.sign(w) * l1
    return z, np.zeros_like(z)


def cocob_weights(hp, rate, slots, penalized=True):
    """COCOB-Backprop's weights from its state (theta, G, L, reward, x0):
    (reward + L) theta / (max(G + L, alpha L) L) + x0 (``rate`` and
    ``penalized`` are not read).  In float64, cast back to theta's dtype."""
    import numpy as np

    theta, G, L, reward, x0 = (np.asarray(a, dtype=np.float64) for a in slots)
    w = (reward + L) * theta / (np.maximum(G + L, hp["alpha"] * L) * L) + x0
    return w.astype(np.asarray(slots[0]).dtype)


def cocob_state_of(hp, rate, w, penalized=True):
    """The fresh COCOB state betting from weights ``w``: x0 = w, L = eps,
    the sums and the reward zero (its weights are then exactly ``w``)."""
    import numpy as np

    w = np.asarray(w, dtype=np.float64)
    zero = np.zeros_like(w)
    return zero, zero, np.full_like(w, hp["eps"]), zero, w


def _sf_beta(hp):
    return hp["momentum"] if "momentum" in hp else hp["beta_1"]


def sf_weights(hp, rate, slots, penalized=True):
    """Schedule-free's point to predict with from its state (z, [v,] y): x =
    lerp(y, z, 1 - 1/beta), torch's lerp as schedulefree's ``eval()``
    computes it.  In float64, cast back to z's dtype (the kernel's results
    may differ in the last bit)."""
    import numpy as np

    z, y = (np.asarray(slots[i], dtype=np.float64) for i in (0, -1))
    w = 1.0 - 1.0 / _sf_beta(hp)
    x = y + w * (z - y) if abs(w) < 0.5 else z - (z - y) * (1.0 - w)
    return x.astype(np.asarray(slots[0]).dtype)


def sf_state_of(hp, rate, w, penalized=True):
    """The fresh schedule-free state at weights ``w``: z = y = x = w (and
    AdamW's v = 0), as schedulefree initializes z to the parameters."""
    import numpy as np

    w = np.asarray(w, dtype=np.float64)
    return (w, w) if "momentum" in hp else (w, np.zeros_like(w), w)


_OPEN_UNIT = [Interval(Real, 0, 1, closed="neither")]
_SF_WEIGHTING = (
    ("r", Hyper(0.0, _EPS, "the average weights the k-th iterate by "
                "k ** r (0: uniform)")),
    ("weight_lr_power", Hyper(2.0, _EPS, "... and by lr_max ** "
                              "weight_lr_power (warm-up iterates count less)")))
_SF_COUNTERS = (Counter("lr_max", -1.0), Counter("weight_sum", 0.0))
_SF_TORCH = "no torch.optim equivalent; the ``schedulefree`` package's "

OPTIMIZERS = {
    "sgd": Row(
        OptimKind.SGD, "plain SGD, scikit-learn's rule",
        decoupled_decay=True, absolute_optimal=True,
        torch="SGD()"),
    "momentum": Row(
        OptimKind.MOMENTUM, "heavy-ball momentum",
        hypers=("momentum",), slots=(Slot("momentum_buffer"),),
        torch="SGD(momentum=m)"),
    "nesterov": Row(
        OptimKind.NESTEROV, "Nesterov momentum",
        hypers=("momentum",), slots=(Slot("momentum_buffer"),),
        torch="SGD(momentum=m, nesterov=True)"),
    "adagrad": Row(
        OptimKind.ADAGRAD, "AdaGrad: per-coordinate rates from summed squares",
        hypers=("eps",), slots=(Slot("sum"),),
        torch="Adagrad()"),
    "rmsprop": Row(
        OptimKind.RMSPROP, "RMSProp, optionally centered",
        hypers=("rho", "eps", "centered"),
        slots=(Slot("square_avg"), Slot("grad_avg", when="centered")),
        identity=("centered",), torch="RMSprop(alpha=rho)"),
    "adam": Row(
        OptimKind.ADAM, "Adam", hypers=("beta_1", "beta_2", "eps"),
        slots=_ADAM_SLOTS, sparse="lazy", torch="Adam()"),
    "amsgrad": Row(
        OptimKind.AMSGRAD, "Adam with the running maximum of the second moment",
        hypers=("beta_1", "beta_2", "eps"),
        slots=_ADAM_SLOTS + (Slot("max_exp_avg_sq", bias="beta_2"),),
        sparse="lazy", torch="Adam(amsgrad=True)"),
    "adamw": Row(
        OptimKind.ADAMW, "Adam with decoupled weight decay",
        hypers=("beta_1", "beta_2", "eps"), slots=_ADAM_SLOTS,
        decoupled_decay=True, sparse="lazy", torch="AdamW()"),
    "nadam": Row(
        OptimKind.NADAM, "Adam with Nesterov momentum (Dozat), torch's rule",
        own=_BETAS + (_eps(1e-8), ("momentum_decay", Hyper(
            4e-3, [Interval(Real, 0, None, closed="left")],
            "psi of the momentum schedule")), _DECOUPLED),
        slots=_ADAM_SLOTS, counters=(Counter("mu_product", 1.0),),
        decoupled_decay="decoupled_weight_decay", sparse="lazy",
        torch="NAdam()"),
    "radam": Row(
        OptimKind.RADAM, "rectified Adam: momentum SGD until the variance is "
        "tractable",
        own=_BETAS + (_eps(1e-8), _DECOUPLED), slots=_ADAM_SLOTS,
        decoupled_decay="decoupled_weight_decay", sparse="lazy",
        torch="RAdam()"),
    "adamax": Row(
        OptimKind.ADAMAX, "Adam with the infinity norm",
        own=_BETAS + (_eps(1e-8),),
        slots=(Slot("exp_avg", bias="beta_1"), Slot("exp_inf", mixing="max")),
        sparse="lazy", torch="Adamax()"),
    "adadelta": Row(
        OptimKind.ADADELTA, "Adadelta: rates from running averages of squared "
        "gradients and steps",
        own=(("rho", Hyper(0.9, _UNIT, "decay of both running averages")),
             _eps(1e-6)),
        slots=(Slot("square_avg"), Slot("acc_delta")),
        default_eta0=1.0, default_schedule="constant", torch="Adadelta()"),
    "ftrl": Row(
        OptimKind.FTRL, "FTRL-Proximal (McMahan et al. 2013): per-coordinate "
        "rates and exact zeros from its own L1",
        own=(("beta", Hyper(1.0, [Interval(Real, 0, None, closed="neither")],
                            "beta of the per-coordinate rate "
                            "eta0 / (beta + sqrt(n))")),
             ("l1", Hyper(0.0, _EPS, "lambda_1: L1 strength (exact zeros), "
                          "on the summed loss")),
             ("l2", Hyper(0.0, _EPS, "lambda_2: L2 strength, on the summed "
                          "loss"))),
        slots=(Slot("z"), Slot("n")),
        identity=("beta", "l1", "l2"),
        default_eta0=0.5, default_schedule="constant", constant_rate=True,
        own_penalty=True, weights=ftrl_weights, state_of=ftrl_state_of,
        torch="no torch equivalent; Vowpal Wabbit's ``--ftrl``", cls="FTRL"),
    "cocob": Row(
        OptimKind.COCOB, "COCOB-Backprop (Orabona & Tommasi 2017): coin "
        "betting, no learning rate",
        own=(("alpha", Hyper(100.0, _EPS,
                             "bounds the first bets (the first update moves "
                             "a weight by 1/alpha): roughly the number of "
                             "warm-up updates")),
             ("eps", Hyper(1e-8, [Interval(Real, 0, None, closed="neither")],
                           "the starting value of L (the largest |g| seen)"))),
        slots=(Slot("sum_negative_gradients"), Slot("grad_norm_sum"),
               Slot("L", mixing="max"), Slot("reward"), Slot("x0")),
        identity=("alpha", "eps"), sparse="lazy",
        default_eta0=1.0, default_schedule="constant", rate_free=True,
        l1_truncation=False, weights=cocob_weights, state_of=cocob_state_of,
        zero_start=False,
        torch="no torch.optim equivalent; ``parameterfree.COCOB``",
        cls="COCOB"),
    "sgd_schedulefree": Row(
        OptimKind.SF_SGD, "schedule-free SGD (Defazio et al. 2024): "
        "predicts with the average of its iterates, at a constant rate",
        own=(("momentum", Hyper(0.9, _OPEN_UNIT,
                                "beta: gradients are taken at y = (1 - beta) "
                                "z + beta x")),) + _SF_WEIGHTING,
        slots=(Slot("z"), Slot("y")), counters=_SF_COUNTERS,
        identity=("momentum",),
        default_eta0=0.03, default_schedule="constant",
        own_average=True, weights=sf_weights, state_of=sf_state_of,
        torch=_SF_TORCH + "``SGDScheduleFree``", cls="SGDScheduleFree"),
    "adamw_schedulefree": Row(
        OptimKind.SF_ADAMW, "schedule-free AdamW (Defazio et al. 2024): "
        "Adam's normalization, no first moment, the average of the iterates",
        own=(("beta_1", Hyper(0.9, _OPEN_UNIT,
                              "beta: gradients are taken at y = (1 - beta) z "
                              "+ beta x")),
             ("beta_2", Hyper(0.999, _UNIT,
                              "decay of the second-moment estimate")),
             _eps(1e-8)) + _SF_WEIGHTING,
        slots=(Slot("z"), Slot("exp_avg_sq", bias="beta_2"), Slot("y")),
        counters=_SF_COUNTERS, identity=("beta_1",),
        default_eta0=0.0025, default_schedule="constant",
        own_average=True, weights=sf_weights, state_of=sf_state_of,
        torch=_SF_TORCH + "``AdamWScheduleFree``", cls="AdamWScheduleFree"),
    "normalized": Row(
        OptimKind.NORMALIZED, "Vowpal Wabbit's default rule: adaptive, "
        "normalized (scale-free) and importance-invariant updates",
        own=(("adaptive", Hyper(True, ["boolean"], "AdaGrad-style rates "
                                "from the summed h dl^2 x^2 (VW's "
                                "--adaptive)")),
             ("normalized", Hyper(True, ["boolean"], "per-coordinate "
                                  "normalization by the largest |x_j| seen "
                                  "(VW's --normalized)")),
             ("invariant", Hyper(True, ["boolean"], "importance-invariant "
                                 "(safe) steps (VW's --invariant)")),
             ("exponent", Hyper(0.5, [Interval(Real, 0, 1, closed="both")],
                                "VW's --power_t: the rates' exponent"))),
        slots=(Slot("sum_sq_grad"), Slot("max_abs_x", mixing="max")),
        counters=(Counter("sum_norm_x", 0.0), Counter("total_weight", 0.0)),
        decoupled_decay=True,
        identity=("adaptive", "normalized", "exponent"),
        default_eta0=0.5, default_schedule="constant",
        intercept_feature=True,
        torch="no torch equivalent; Vowpal Wabbit's default (``vw`` without "
        "update flags)", cls="Normalized"),
}
