# The epoch-level side of _lazy.pxd (part of _epoch_impl.pxi): Bottou's lazy
# averaging, and the tables that sparse catch-up reads during an epoch.

cdef void average_update(Epoch* ep, Model* m, const int* idx, Py_ssize_t n,
                         const floating* old, double n_avg) noexcept nogil:
    """Bottou's lazy averaging: only the coordinates that changed are
    touched; the average is (AW + avg_a * v) / avg_b."""
    cdef int k
    cdef Py_ssize_t jj, j, d = m.d
    cdef floating* W = <floating*> m.W
    cdef floating* AW = <floating*> m.AW
    cdef double mu = 1.0 / n_avg
    if n_avg == 1:
        # A fresh average starts at the current weights.
        memset(AW, 0, m.K * d * sizeof(floating))
        for k in range(m.K):
            m.Ab[k] = 0.0
        m.avg_a = 0.0
        m.avg_b = 1.0
    else:
        for k in range(m.K):
            for jj in range(n):
                j = jj if idx == NULL else idx[jj]
                AW[k * d + j] -= m.avg_a * (W[k * d + j] - old[k * n + jj])
        m.avg_b /= 1.0 - mu
    m.avg_a += mu * m.avg_b * m.wscale
    for k in range(m.K):
        m.Ab[k] += (m.b[k] - m.Ab[k]) * mu


cdef object lazy_tables(Epoch* ep, Model* m, Lazy* lz, Py_ssize_t n_updates):
    """Precompute what sparse catch-up needs for this epoch: powers of the
    decay base and, for momentum, the drift sums F (and H when averaging).
    With a momentum the schedule cycles (OneCycleLR, CyclicLR), F and H
    multiply each update's own momentum mu_r (and Nesterov's extra mu_r),
    and a skipped span's product of momenta comes from prefix sums of
    log mu_r.  Returns the arrays, which must outlive the epoch."""
    cdef int kind = ep.opt.kind
    cdef double base = (ep.opt.rho if kind == RMSPROP or kind == ADADELTA
                        else ep.opt.beta2 if kind == SF_ADAMW
                        else ep.opt.momentum)
    cdef double avg_a = m.avg_a, avg_b = m.avg_b, n, t
    cdef Py_ssize_t r, N = n_updates
    cdef bint cycled = ep.sched.cycle_momentum and kind != RMSPROP
    cdef double[::1] lo, hi, F, H, eta, a_before, mu, log_mu
    keep = [np.power(base, np.arange(1024.0)),
            np.power(base, 1024.0 * np.arange(N // 1024 + 2))]
    lo, hi = keep
    lz.pow_lo = &lo[0]
    lz.pow_hi = &hi[0]
    lz.log_mu = NULL
    if is_schedule_free(kind):  # _sf_epoch.pxi
        keep.append(sf_weight_table(ep, lz, N))
        return keep
    if kind != MOMENTUM and kind != NESTEROV:
        return keep
    eta = np.empty(N + 1)
    a_before = np.zeros(N + 1)
    mu = np.full(N + 1, base)
    for r in range(1, N + 1):
        t = ep.task.t + r - 1
        eta[r] = eta_at(&ep.sched, t)
        if cycled:
            mu[r] = momentum_at(&ep.sched, t)
            if kind == NESTEROV:
                eta[r] *= mu[r]
        a_before[r] = avg_a
        if ep.task.average > 0 and t >= ep.task.average:
            n = t - ep.task.average + 1
            if n == 1:
                avg_a, avg_b = 0.0, 1.0
            else:
                avg_b /= 1.0 - 1.0 / n
            avg_a += avg_b / n
    F = np.zeros(N + 1)
    H = np.zeros(N + 1)
    if cycled:
        for r in range(N - 1, -1, -1):
            F[r] = mu[r + 1] * (eta[r + 1] + F[r + 1])
            H[r] = mu[r + 1] * (a_before[r + 1] * eta[r + 1] + H[r + 1])
        # log_mu[s] = log mu_1 + ... + log mu_s; a zero momentum zeroes the
        # product (exp(-690) ~ 1e-300).
        log_mu = np.concatenate(([0.0], np.cumsum(
            np.log(np.maximum(np.asarray(mu)[1:], 1e-300)))))
        lz.log_mu = &log_mu[0]
        keep.append(log_mu)
    else:
        for r in range(N - 1, -1, -1):
            F[r] = base * (eta[r + 1] + F[r + 1])
            H[r] = base * (a_before[r + 1] * eta[r + 1] + H[r + 1])
    lz.F = &F[0]
    lz.H = &H[0]
    keep += [F, H]
    return keep
