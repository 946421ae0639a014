# The model state an epoch mutates, and what makes sparse updates O(nnz):
# the scaled representation w = wscale * v (L2 decay in O(1)), cumulative L1
# truncation, Bottou's lazy averaging, and closed-form catch-up of the
# coordinates an update skipped (momentum drift, RMSProp's and Adadelta's
# decay).
from cython cimport floating
from libc.math cimport exp, fabs

from sgdlearn._kernels._optim cimport (
    ADADELTA, Optim, MOMENTUM, NESTEROV, RMSPROP, SF_ADAMW, SF_SGD, col)
from sgdlearn._kernels._schedulefree cimport sf_catch_up
from sgdlearn._kernels._rows cimport SGDL_PREFETCH_L2

# Coordinates ahead whose lines a long sparse catch-up asks for.
cdef enum:
    CATCH_UP_AHEAD = 16


cdef struct Model:
    void* W                 # (K, d) weights, stored as v with w = wscale * v
    void* S                 # (K, n_slots, d) optimizer state, or (K, d, n_slots)
    #                         ("interleaved": a sparse update then finds a
    #                         coordinate's whole state in one cache line)
    void* AW                # (K, d) averaging accumulator, or NULL
    void* Q                 # (K, d) L1 penalty applied so far, or NULL
    double* b               # (K,) intercepts
    double* Sb              # (K, n_slots) intercept optimizer state
    double* Ab              # (K,) averaged intercepts
    int K
    Py_ssize_t d
    Py_ssize_t slot         # elements between two state arrays of S: d, or 1
    #                         when interleaved
    Py_ssize_t sstep        # elements between coordinates j and j + 1 of a
    #                         state array: 1, or n_slots when interleaved
    Py_ssize_t srow         # elements between two rows of S: n_slots * d
    Py_ssize_t srow_b       # elements between two rows of Sb: n_slots
    double wscale
    double avg_a            # average = (AW + avg_a * v) / avg_b
    double avg_b
    double u                # L1 penalty accumulated so far (Tsuruoka et al.)


cdef struct Lazy:
    int* last               # (d,) last update applied to each coordinate,
    #                         NULL when nothing needs catching up
    const double* F         # F[s] = sum_{r>s} eta_r mu^(r-s): momentum drift
    #                         (mu_(s+1) ... mu_r for a cycled momentum)
    const double* H         # the same weighted by avg_a before update r
    const double* pow_lo    # base ** i, i < 1024 (base: momentum or rho)
    const double* pow_hi    # base ** (1024 i)
    const double* log_mu    # momentum cycled by the schedule: sum of log mu_r
    #                         over the epoch's updates r <= s; else NULL
    const double* ws        # schedule-free: the weight sum after update s of
    #                         the epoch (ws[0]: before the epoch); AdamW's
    #                         last (for v's decay) only, SGD's last is NULL


cdef inline double lazy_pow(const Lazy* lz, Py_ssize_t k) noexcept nogil:
    return lz.pow_hi[k >> 10] * lz.pow_lo[k & 1023]


cdef inline double decayed_away(const floating* like) noexcept nogil:
    """A catch-up factor below this is taken as 0.  The decay of a long gap
    (rho ** k, momentum ** k) lands in the denormals, and every multiplication
    by a denormal, or store of one into float32 state, costs a microcode
    assist of ~150 cycles: on hashed 2**18 columns with Zipf frequencies
    most catch-ups span thousands of updates.  0 is what the dense rule
    reaches too, one underflow later."""
    if floating is float:
        return 1e-30
    else:
        return 1e-290


cdef inline void catch_up_cycled(Model* m, const Lazy* lz, const int* idx,
                                 Py_ssize_t n, Py_ssize_t T,
                                 const floating* like) noexcept nogil:
    """catch_up's momentum drift when the schedule cycles the momentum
    (OneCycleLR, CyclicLR): the buffer shrinks by the product of the skipped
    updates' own momenta, exp(log_mu[T] - log_mu[L]), and F and H hold
    each update's momentum (and Nesterov's extra factor mu_r)."""
    cdef Py_ssize_t jj, j, k, L, d = m.d, r, ja
    cdef int kk
    cdef bint ahead = idx != NULL and n > 64
    cdef double pk, drift, avg_drift, buf
    cdef floating* W = <floating*> m.W
    cdef floating* S = <floating*> m.S
    cdef floating* AW = <floating*> m.AW
    for jj in range(n):
        j = col(idx, jj)
        if ahead and jj + CATCH_UP_AHEAD < n:
            ja = idx[jj + CATCH_UP_AHEAD]
            SGDL_PREFETCH_L2(lz.last + ja)
            for kk in range(m.K):
                SGDL_PREFETCH_L2(W + kk * d + ja)
                SGDL_PREFETCH_L2(S + kk * m.srow + ja * m.sstep)
        L = lz.last[j]
        k = T - L
        if k <= 0:
            continue
        lz.last[j] = <int> T
        pk = exp(lz.log_mu[T] - lz.log_mu[L])
        drift = lz.F[L] - pk * lz.F[T]
        if AW != NULL:
            avg_drift = lz.H[L] - pk * lz.H[T]
        for kk in range(m.K):
            r = kk * d + j
            buf = S[kk * m.srow + j * m.sstep]
            W[r] -= buf * drift
            if AW != NULL:
                AW[r] += buf * avg_drift
            S[kk * m.srow + j * m.sstep] = buf * pk


cdef inline void catch_up(Model* m, const Lazy* lz, const Optim* o,
                          const int* idx, Py_ssize_t n, Py_ssize_t T,
                          const floating* like) noexcept nogil:
    """Bring coordinates idx[:n] (all when NULL) up to date through update T,
    as if each skipped update had a zero loss gradient.

    Over a mini-batch's columns (more than a row's), each coordinate's lines
    are asked for CATCH_UP_AHEAD coordinates ahead: they were prefetched when
    the batch was marked, but a large batch's columns overflow L2 before
    they are caught up (momentum, batches of 256 on 2**18 columns)."""
    cdef Py_ssize_t jj, j, k, L, d = m.d, r, ja
    cdef int kk
    cdef bint ahead = idx != NULL and n > 64
    cdef double pk, drift, avg_drift, buf, nest
    cdef floating* W = <floating*> m.W
    cdef floating* S = <floating*> m.S
    cdef floating* AW = <floating*> m.AW
    if o.kind == SF_SGD or o.kind == SF_ADAMW:  # _schedulefree.pxd
        sf_catch_up(W, S, lz.last, lz.ws[T], lz.pow_lo, lz.pow_hi,
                    o.kind == SF_ADAMW, m.K, d, m.srow, m.slot, m.sstep,
                    1 if o.kind == SF_SGD else 2, idx, n, T)
        return
    if lz.last == NULL:
        return
    if lz.log_mu != NULL:
        catch_up_cycled(m, lz, idx, n, T, like)
        return
    nest = o.momentum if o.kind == NESTEROV else 1.0
    for jj in range(n):
        j = col(idx, jj)
        if ahead and jj + CATCH_UP_AHEAD < n:
            ja = idx[jj + CATCH_UP_AHEAD]
            SGDL_PREFETCH_L2(lz.last + ja)
            for kk in range(m.K):
                SGDL_PREFETCH_L2(W + kk * d + ja)
                SGDL_PREFETCH_L2(S + kk * m.srow + ja * m.sstep)
        L = lz.last[j]
        k = T - L
        if k <= 0:
            continue
        lz.last[j] = <int> T
        pk = lazy_pow(lz, k)
        if pk < decayed_away(like):
            pk = 0.0
        if o.kind == MOMENTUM or o.kind == NESTEROV:
            drift = nest * (lz.F[L] - pk * lz.F[T])
            if AW != NULL:
                avg_drift = nest * (lz.H[L] - pk * lz.H[T])
            for kk in range(m.K):
                r = kk * d + j
                buf = S[kk * m.srow + j * m.sstep]
                W[r] -= buf * drift
                if AW != NULL:
                    AW[r] += buf * avg_drift
                S[kk * m.srow + j * m.sstep] = buf * pk
        elif o.kind == RMSPROP:
            for kk in range(m.K):
                r = kk * m.srow + j * m.sstep
                S[r] *= pk
                if o.centered:
                    S[m.slot + r] *= pk
        elif o.kind == ADADELTA:
            # A zero gradient leaves the weight; both averages decay.
            for kk in range(m.K):
                r = kk * m.srow + j * m.sstep
                S[r] *= pk
                S[m.slot + r] *= pk


cdef inline void clip_l1(Model* m, const int* idx, Py_ssize_t n,
                         bint lazy, const floating* like) noexcept nogil:
    """Cumulative L1 truncation of coordinates idx[:n] (all when NULL): move
    each weight toward zero by the penalty accrued since it was last clipped,
    never across zero (Tsuruoka, Tsujii and Ananiadou, 2009).

    ``lazy``: this is a catch-up of truncations skipped while the coordinate
    was absent, which the running average must also see (an update's own
    changes reach the average through ``average_update``).
    """
    cdef Py_ssize_t jj, j, r
    cdef int kk
    cdef double z, s = m.wscale, u = m.u
    cdef floating* W = <floating*> m.W
    cdef floating* Q = <floating*> m.Q
    cdef floating* AW = <floating*> m.AW if lazy else NULL
    for jj in range(n):
        j = col(idx, jj)
        for kk in range(m.K):
            r = kk * m.d + j
            z = W[r]
            if s * z > 0.0:
                W[r] = max(0.0, z - (u + Q[r]) / s)
            elif s * z < 0.0:
                W[r] = min(0.0, z + (u - Q[r]) / s)
            Q[r] += s * (W[r] - z)
            if AW != NULL:
                AW[r] -= m.avg_a * (W[r] - z)


cdef inline double tiny_scale(const floating* like) noexcept nogil:
    """Below this wscale, fold it into the weights before precision goes."""
    if floating is float:
        return 1e-6
    else:
        return 1e-9


cdef inline void fold_scale(Model* m, const floating* like) noexcept nogil:
    """Materialize wscale into v (and the lazy average into AW): O(K d)."""
    cdef Py_ssize_t j, n = m.K * m.d
    cdef floating* W = <floating*> m.W
    cdef floating* AW = <floating*> m.AW
    if AW != NULL:
        for j in range(n):
            AW[j] = (AW[j] + m.avg_a * W[j]) / m.avg_b
        m.avg_a = 0.0
        m.avg_b = 1.0
    if m.wscale != 1.0:
        for j in range(n):
            W[j] *= m.wscale
        m.wscale = 1.0
