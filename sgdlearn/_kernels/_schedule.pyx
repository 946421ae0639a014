# Exposes ScheduleKind to Python and wraps eta_at for tests; the torch
# schedules' closed forms (torch_eta, declared in _schedule.pxd).
from libc.math cimport pow, cos, floor, fmod, M_PI


cdef inline double anneal(double start, double end, double pct,
                          bint cosine) noexcept nogil:
    """OneCycleLR's interpolation, in torch's operation order."""
    if cosine:
        return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1.0)
    return (end - start) * pct + start


cdef inline double one_cycle(const double* p, double eta0, double k,
                             double* mom) noexcept nogil:
    """OneCycleLR at torch's step k (held at its last value, k = T - 1,
    after the end); with cycle_momentum, its momentum in mom[0]."""
    cdef double T = p[0], init = eta0 / p[3], e1, e2, pct, m, lr
    cdef double lo = init / p[4], base_m = p[6], max_m = p[7]
    cdef bint c = p[2] != 0
    if k > T - 1.0:
        k = T - 1.0
    e1 = p[1] * T - 1.0
    if p[5] != 0:
        e2 = 2.0 * p[1] * T - 2.0
        if k <= e1:
            pct = k / e1
            m = anneal(max_m, base_m, pct, c)
            lr = anneal(init, eta0, pct, c)
        elif k <= e2:
            pct = (k - e1) / (e2 - e1)
            m = anneal(base_m, max_m, pct, c)
            lr = anneal(eta0, init, pct, c)
        else:
            pct = (k - e2) / (T - 1.0 - e2)
            m = anneal(max_m, max_m, pct, c)
            lr = anneal(init, lo, pct, c)
    elif k <= e1:
        pct = k / e1
        m = anneal(max_m, base_m, pct, c)
        lr = anneal(init, eta0, pct, c)
    else:
        pct = (k - e1) / (T - 1.0 - e1)
        m = anneal(base_m, max_m, pct, c)
        lr = anneal(eta0, lo, pct, c)
    if p[8] != 0:
        mom[0] = m
    return lr


cdef inline double cyclic(const double* p, double eta0, double k,
                          double* mom) noexcept nogil:
    """CyclicLR at torch's step k (eta0 is max_lr); with cycle_momentum,
    its momentum in mom[0]."""
    cdef double total = p[1] + p[2], ratio = p[1] / total
    cdef double cycle = floor(1.0 + k / total)
    cdef double x = 1.0 + k / total - cycle, f, scale
    if x <= ratio:
        f = x / ratio
    else:
        f = (x - 1.0) / (ratio - 1.0)
    if p[3] == 1.0:  # triangular2
        scale = 1.0 / pow(2.0, cycle - 1.0)
    elif p[3] == 2.0:  # exp_range
        scale = pow(p[4], k)
    else:
        scale = 1.0
    if p[7] != 0:
        mom[0] = p[6] - (p[6] - p[5]) * f * scale
    return p[0] + (eta0 - p[0]) * f * scale


cdef inline double warm_restarts(const double* p, double eta0,
                                 double k) noexcept nogil:
    """CosineAnnealingWarmRestarts after k steps of its integer
    bookkeeping (T_cur, T_i)."""
    cdef double T_i = p[0], T_cur = k
    if p[1] == 1.0:
        T_cur = fmod(k, T_i)
    else:
        while T_cur >= T_i:
            T_cur -= T_i
            T_i *= p[1]
    return p[2] + (eta0 - p[2]) * (1.0 + cos(M_PI * T_cur / T_i)) / 2.0


cdef inline double phase_eta(const Schedule* s, int kind, const double* p,
                             double t, double* mom) noexcept nogil:
    """The rate of update t (1-based, counted from the schedule's start) of
    one schedule of kind ``kind`` with parameters p, without warmup; the
    momentum it cycles in mom[0] (left alone when it cycles none)."""
    cdef double k = t - 1.0
    if kind == LINEAR_LR:
        return s.eta0 * (p[0] + (p[1] - p[0]) * min(p[2], k) / p[2])
    if kind == POLYNOMIAL_LR:
        return s.eta0 * pow(1.0 - min(p[0], k) / p[0], p[1])
    if kind == ONE_CYCLE_LR:
        return one_cycle(p, s.eta0, k, mom)
    if kind == CYCLIC_LR:
        return cyclic(p, s.eta0, k, mom)
    if kind == WARM_RESTARTS:
        return warm_restarts(p, s.eta0, k)
    # Today's schedules inside a SequentialLR (their parameters in p).
    if kind == OPTIMAL:
        if s.optimal_absolute:
            return 1.0 / (s.alpha * (s.t0 + t - 1.0))
        return s.eta0 * s.t0 / (s.t0 + t - 1.0)
    if kind == INVSCALING:
        return s.eta0 / pow(t, p[0])
    if kind == STEP:
        return s.eta0 * pow(p[1], floor((t - 1.0) / p[0]))
    if kind == EXPONENTIAL:
        return s.eta0 * pow(p[1], (t - 1.0) / p[0])
    if kind == COSINE:
        return p[1] + (s.eta0 - p[1]) * 0.5 * (
            1.0 + cos(M_PI * fmod(t - 1.0, p[0]) / p[0]))
    return s.eta0


cdef double torch_eta(const Schedule* s, double t,
                             double* mom) noexcept nogil:
    """The rate (and cycled momentum) of the kinds from LINEAR_LR on."""
    cdef int i = 0
    cdef const double* p
    if s.kind != SEQUENTIAL_LR:
        return phase_eta(s, s.kind, s.p, t, mom)
    while i + 1 < s.n_phases and t > s.phase_start[i + 1]:
        i += 1
    p = &s.phase_p[i * N_P]
    return phase_eta(s, s.phase_kind[i], p, t - s.phase_start[i], mom)




def py_eta(Schedule schedule, double t):
    """The learning rate of update t (1-based) under ``schedule``."""
    return eta_at(&schedule, t)


def py_momentum(Schedule schedule, double t):
    """The momentum (or beta_1) of update t (1-based) under a ``schedule``
    that cycles it."""
    return momentum_at(&schedule, t)
