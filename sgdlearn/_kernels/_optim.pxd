# Per-coordinate optimizer updates, inlined into the epoch loops.
#
# Update rules are torch.optim's (single-tensor code path).  Each optimizer
# has one loop that serves dense rows (``idx == NULL``: contiguous, the
# compiler unswitches and vectorizes it) and sparse rows (gather/scatter
# through ``idx``).  The switch on the optimizer kind sits outside the loops.
from cython cimport floating
from libc.math cimport sqrt, sqrtf

cpdef enum OptimKind:
    SGD = 0
    MOMENTUM = 1
    NESTEROV = 2
    ADAGRAD = 3
    RMSPROP = 4
    ADAM = 5
    AMSGRAD = 6
    ADAMW = 7


cdef struct Optim:
    int kind
    double momentum
    double beta1
    double beta2
    double eps
    double rho           # RMSProp smoothing constant (torch's ``alpha``)
    bint centered
    double l2            # coupled L2: added to the gradient (torch weight_decay)
    double decay         # multiplicative decay per unit rate (sgd L2, adamw)
    double step          # number of updates applied so far by this optimizer
    double beta1_pow     # beta1 ** step, kept as a running product
    double beta2_pow
    # set by begin_update for the current update:
    double lr
    double step_size     # Adam: lr / (1 - beta1 ** step)
    double inv_sqrt_bc2  # Adam: 1 / sqrt(1 - beta2 ** step)


cdef inline void begin_update(Optim* o, double eta) noexcept nogil:
    o.step += 1.0
    o.lr = eta
    if o.kind >= ADAM:
        o.beta1_pow *= o.beta1
        o.beta2_pow *= o.beta2
        o.step_size = eta / (1.0 - o.beta1_pow)
        o.inv_sqrt_bc2 = 1.0 / sqrt(1.0 - o.beta2_pow)


cdef inline Py_ssize_t col(const int* idx, Py_ssize_t jj) noexcept nogil:
    return jj if idx == NULL else idx[jj]


cdef inline floating fsqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline void apply_update(const Optim* o, double l2, double vscale,
                              floating* w, floating* s0, floating* s1,
                              floating* s2, const floating* g, double gscale,
                              const int* idx, Py_ssize_t n) noexcept nogil:
    """One optimizer update of the coordinates j = idx[jj] (jj when idx is
    NULL), jj < n, for the gradient gscale * g[jj] + l2 * w[j].

    ``vscale`` multiplies the step: 1/wscale when w is stored scaled, the
    intercept decay for the intercept.  s0, s1, s2 are the optimizer's state
    arrays, laid out like w.
    """
    cdef Py_ssize_t jj, j
    cdef floating gj
    cdef floating gs = gscale
    cdef floating cl2 = l2
    cdef floating lrv = o.lr * vscale
    cdef floating mu = o.momentum
    cdef floating eps = o.eps
    cdef floating rho = o.rho
    cdef floating b1c = 1.0 - o.beta1
    cdef floating b2 = o.beta2
    cdef floating b2c = 1.0 - o.beta2
    cdef floating stepv = o.step_size * vscale
    cdef floating ibc2 = o.inv_sqrt_bc2
    cdef int kind = o.kind
    if kind == SGD:
        gs = -o.lr * vscale * gscale
        for jj in range(n):
            w[col(idx, jj)] += gs * g[jj]
    elif kind == MOMENTUM:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] = mu * s0[j] + gj
            w[j] -= lrv * s0[j]
    elif kind == NESTEROV:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] = mu * s0[j] + gj
            w[j] -= lrv * (gj + mu * s0[j])
    elif kind == ADAGRAD:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] += gj * gj
            w[j] -= lrv * gj / (fsqrt(s0[j]) + eps)
    elif kind == RMSPROP and o.centered:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] = rho * s0[j] + (1 - rho) * gj * gj
            s1[j] += (1 - rho) * (gj - s1[j])
            w[j] -= lrv * gj / (fsqrt(s0[j] - s1[j] * s1[j]) + eps)
    elif kind == RMSPROP:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] = rho * s0[j] + (1 - rho) * gj * gj
            w[j] -= lrv * gj / (fsqrt(s0[j]) + eps)
    elif kind == AMSGRAD:
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] += b1c * (gj - s0[j])
            s1[j] = b2 * s1[j] + b2c * gj * gj
            if s1[j] > s2[j]:
                s2[j] = s1[j]
            w[j] -= stepv * s0[j] / (fsqrt(s2[j]) * ibc2 + eps)
    else:  # ADAM, ADAMW (its decay is applied through wscale)
        for jj in range(n):
            j = col(idx, jj)
            gj = gs * g[jj] + cl2 * w[j]
            s0[j] += b1c * (gj - s0[j])
            s1[j] = b2 * s1[j] + b2c * gj * gj
            w[j] -= stepv * s0[j] / (fsqrt(s1[j]) * ibc2 + eps)


cdef inline int n_state_slots(const Optim* o) noexcept nogil:
    """How many arrays shaped like the weights this optimizer keeps."""
    if o.kind == SGD:
        return 0
    if o.kind == RMSPROP:
        return 2 if o.centered else 1
    if o.kind == AMSGRAD:
        return 3
    if o.kind == ADAM or o.kind == ADAMW:
        return 2
    return 1
