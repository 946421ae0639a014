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
    Returns the arrays, which must outlive the epoch."""
    cdef int kind = ep.opt.kind
    cdef double base = (ep.opt.rho if kind == RMSPROP or kind == ADADELTA
                        else ep.opt.momentum)
    cdef double avg_a = m.avg_a, avg_b = m.avg_b, n, t
    cdef Py_ssize_t r, N = n_updates
    cdef double[::1] lo, hi, F, H, eta, a_before
    keep = [np.power(base, np.arange(1024.0)),
            np.power(base, 1024.0 * np.arange(N // 1024 + 2))]
    lo, hi = keep
    lz.pow_lo = &lo[0]
    lz.pow_hi = &hi[0]
    if kind != MOMENTUM and kind != NESTEROV:
        return keep
    eta = np.empty(N + 1)
    a_before = np.zeros(N + 1)
    for r in range(1, N + 1):
        t = ep.task.t + r - 1
        eta[r] = eta_at(&ep.sched, t)
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
    for r in range(N - 1, -1, -1):
        F[r] = base * (eta[r + 1] + F[r + 1])
        H[r] = base * (a_before[r + 1] * eta[r + 1] + H[r + 1])
    lz.F = &F[0]
    lz.H = &H[0]
    keep += [F, H]
    return keep
