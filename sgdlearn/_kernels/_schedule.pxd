# Learning-rate schedules: the base rate eta_t of update number t (1-based).
# Evaluated once per update, outside the coordinate loops.
from libc.math cimport pow, cos, floor, fmod, M_PI

cpdef enum ScheduleKind:
    CONSTANT = 0
    OPTIMAL = 1
    INVSCALING = 2
    ADAPTIVE = 3
    STEP = 4
    EXPONENTIAL = 5
    COSINE = 6
    PA1 = 7
    PA2 = 8


cdef struct Schedule:
    int kind
    double eta0           # base rate (the current rate for "adaptive")
    double power_t
    double alpha          # regularization strength, for "optimal"
    double t0             # Bottou's offset, for "optimal"
    bint optimal_absolute  # sklearn's 1/(alpha (t0 + t - 1)), ignoring eta0
    double decay_steps
    double decay_rate
    double eta_min
    double warmup_steps


cdef inline double eta_at(const Schedule* s, double t) noexcept nogil:
    cdef double eta
    cdef int kind = s.kind
    if kind == OPTIMAL:
        if s.optimal_absolute:
            eta = 1.0 / (s.alpha * (s.t0 + t - 1.0))
        else:
            eta = s.eta0 * s.t0 / (s.t0 + t - 1.0)
    elif kind == INVSCALING:
        eta = s.eta0 / pow(t, s.power_t)
    elif kind == STEP:
        eta = s.eta0 * pow(s.decay_rate, floor((t - 1.0) / s.decay_steps))
    elif kind == EXPONENTIAL:
        eta = s.eta0 * pow(s.decay_rate, (t - 1.0) / s.decay_steps)
    elif kind == COSINE:
        eta = s.eta_min + (s.eta0 - s.eta_min) * 0.5 * (
            1.0 + cos(M_PI * fmod(t - 1.0, s.decay_steps) / s.decay_steps))
    else:
        eta = s.eta0
    if t < s.warmup_steps:
        eta *= t / s.warmup_steps
    return eta
