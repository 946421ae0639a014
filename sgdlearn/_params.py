"""User-facing loss and schedule names -> kernel enums.  The optimizers
have a table of their own: ``_optim_table.py``."""

from sgdlearn._kernels._loss import LossKind
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

# Schedules that exist as objects only (sgdlearn.schedules): torch's.
OBJECT_SCHEDULES = {
    "linear_lr": ScheduleKind.LINEAR_LR,
    "polynomial_lr": ScheduleKind.POLYNOMIAL_LR,
    "one_cycle_lr": ScheduleKind.ONE_CYCLE_LR,
    "cyclic_lr": ScheduleKind.CYCLIC_LR,
    "warm_restarts": ScheduleKind.WARM_RESTARTS,
    "sequential_lr": ScheduleKind.SEQUENTIAL_LR,
}
ALL_SCHEDULES = {**SCHEDULES, **OBJECT_SCHEDULES}
