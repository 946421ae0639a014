# Exposes ScheduleKind to Python and wraps eta_at for tests.


def py_eta(Schedule schedule, double t):
    """The learning rate of update t (1-based) under ``schedule``."""
    return eta_at(&schedule, t)


def py_momentum(Schedule schedule, double t):
    """The momentum (or beta_1) of update t (1-based) under a ``schedule``
    that cycles it."""
    return momentum_at(&schedule, t)
