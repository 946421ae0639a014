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
    # torch.optim.lr_scheduler's, counted in updates: torch's step k = t - 1.
    # Their parameters are in ``p`` (the layouts below).
    LINEAR_LR = 9           # start_factor, end_factor, total_iters
    POLYNOMIAL_LR = 10      # total_iters, power
    ONE_CYCLE_LR = 11       # total_steps, pct_start, cos, div_factor,
    #                         final_div_factor, three_phase, base_momentum,
    #                         max_momentum, cycle_momentum
    CYCLIC_LR = 12          # base_lr, step_size_up, step_size_down, mode,
    #                         gamma, base_momentum, max_momentum, cycle_momentum
    WARM_RESTARTS = 13      # T_0, T_mult, eta_min
    SEQUENTIAL_LR = 14      # phases: phase_kind, phase_start, phase_p


cdef enum:
    N_P = 10                # parameters of one schedule
    MAX_PHASES = 8          # schedules of one SequentialLR


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
    # The torch schedules (kinds from LINEAR_LR on).
    double p[N_P]         # the kind's parameters
    bint cycle_momentum   # momentum_at gives the momentum (or beta_1) of
    #                       each update
    double momentum0      # the optimizer's own momentum or beta_1 (phases of
    #                       a SequentialLR that do not cycle it)
    int n_phases          # SEQUENTIAL_LR: phase i is schedule phase_kind[i]
    int phase_kind[MAX_PHASES]  # with parameters phase_p[i * N_P:], from
    double phase_start[MAX_PHASES]  # update phase_start[i] + 1 on, counting
    double phase_p[MAX_PHASES * N_P]  # its own updates from 1 (torch's
    #                                   milestones; phase_start[0] = 0)


# The torch schedules' rates, compiled once in _schedule.pyx and called
# through a pointer: inlined into the epoch loops they would bloat the
# update of every other schedule.
cdef double torch_eta(const Schedule* s, double t, double* mom) noexcept nogil


cdef inline double eta_at(const Schedule* s, double t) noexcept nogil:
    cdef double eta, mom
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
    elif kind >= LINEAR_LR:
        eta = torch_eta(s, t, &mom)
    else:
        eta = s.eta0
    if t < s.warmup_steps:
        eta *= t / s.warmup_steps
    return eta


cdef inline double eta_momentum_at(const Schedule* s, double t,
                                   double* mom) noexcept nogil:
    """eta_at for a schedule that cycles the momentum (``cycle_momentum``),
    with the momentum (or beta_1) of update t in mom[0]: the cycling
    schedule's, or the optimizer's own (``momentum0``) in the phases of a
    SequentialLR that cycle none."""
    cdef double eta
    mom[0] = s.momentum0
    eta = torch_eta(s, t, mom)
    if t < s.warmup_steps:
        eta *= t / s.warmup_steps
    return eta


cdef inline double momentum_at(const Schedule* s, double t) noexcept nogil:
    """The momentum (or beta_1) of update t when the schedule cycles it."""
    cdef double mom
    eta_momentum_at(s, t, &mom)
    return mom
