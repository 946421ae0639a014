"""The one table of user-facing names -> kernel enums, and their defaults."""

from sgdlearn._kernels._loss import LossKind
from sgdlearn._kernels._optim import OptimKind
from sgdlearn._kernels._schedule import ScheduleKind

# loss name -> (kernel kind, fixed parameter or "epsilon" to use the
# estimator's ``epsilon``)
REGRESSION_LOSSES = {
    "squared_error": (LossKind.SQUARED, 0.0),
    "huber": (LossKind.HUBER, "epsilon"),
    "epsilon_insensitive": (LossKind.EPSILON_INSENSITIVE, "epsilon"),
    "squared_epsilon_insensitive": (
        LossKind.SQUARED_EPSILON_INSENSITIVE,
        "epsilon",
    ),
}
CLASSIFICATION_LOSSES = {
    "hinge": (LossKind.HINGE, 1.0),
    "log_loss": (LossKind.LOG, 0.0),
    "modified_huber": (LossKind.MODIFIED_HUBER, 0.0),
    "squared_hinge": (LossKind.SQUARED_HINGE, 1.0),
    "perceptron": (LossKind.HINGE, 0.0),
    **REGRESSION_LOSSES,
}

# optimizer name -> (kernel kind, names of its per-coordinate state arrays,
# as torch.optim calls them)
OPTIMIZERS = {
    "sgd": (OptimKind.SGD, ()),
    "momentum": (OptimKind.MOMENTUM, ("momentum_buffer",)),
    "nesterov": (OptimKind.NESTEROV, ("momentum_buffer",)),
    "adagrad": (OptimKind.ADAGRAD, ("sum",)),
    "rmsprop": (OptimKind.RMSPROP, ("square_avg", "grad_avg")),
    "adam": (OptimKind.ADAM, ("exp_avg", "exp_avg_sq")),
    "amsgrad": (OptimKind.AMSGRAD, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    "adamw": (OptimKind.ADAMW, ("exp_avg", "exp_avg_sq")),
}

SCHEDULES = {
    "constant": ScheduleKind.CONSTANT,
    "optimal": ScheduleKind.OPTIMAL,
    "invscaling": ScheduleKind.INVSCALING,
    "adaptive": ScheduleKind.ADAPTIVE,
    "pa1": ScheduleKind.PA1,
    "pa2": ScheduleKind.PA2,
    "step": ScheduleKind.STEP,
    "exponential": ScheduleKind.EXPONENTIAL,
    "cosine": ScheduleKind.COSINE,
}

PENALTIES = ("l2", "l1", "elasticnet", None)

# Optimizers whose weights move although their gradient is zero; on sparse
# input the kernel catches them up in closed form.
DRIFTING = ("momentum", "nesterov")


def state_names(optimizer, centered=False):
    """Names of the state arrays ``optimizer`` keeps per coordinate."""
    names = OPTIMIZERS[optimizer][1]
    if optimizer == "rmsprop" and not centered:
        return names[:1]
    return names
