# Per-coordinate optimizer updates, inlined into the epoch loops.
#
# Update rules are torch.optim's (single-tensor code path).  Each optimizer
# has one loop that serves dense rows (``idx == NULL``: contiguous, the
# compiler unswitches and vectorizes it) and sparse rows (gather/scatter
# through ``idx``).  The switch on the optimizer kind sits outside the loops.
from cython cimport floating
from libc.math cimport sqrt

from sgdlearn._kernels._cocob cimport cocob_coords
from sgdlearn._kernels._fmath cimport fsqrt
from sgdlearn._kernels._ftrl cimport ftrl_coords, ftrl_sparse
from sgdlearn._kernels._normalized cimport normalized_coords
from sgdlearn._kernels._optim_torch cimport (
    adadelta_coords, adamax_coords, nadam_coords, radam_coords,
    sparse_adadelta)
from sgdlearn._kernels._rows cimport SGDL_PREFETCH_L2
from sgdlearn._kernels._schedulefree cimport (
    sf_adamw_coords, sf_adamw_sparse, sf_advance, sf_sgd_coords)

cpdef enum OptimKind:
    SGD = 0
    MOMENTUM = 1
    NESTEROV = 2
    ADAGRAD = 3
    RMSPROP = 4
    ADAM = 5
    AMSGRAD = 6
    ADAMW = 7
    NADAM = 8
    RADAM = 9
    ADAMAX = 10
    ADADELTA = 11
    FTRL = 12
    NORMALIZED = 13
    COCOB = 14
    SF_SGD = 16
    SF_ADAMW = 17


# Per-kind properties, asked by name (never by the enum's order), so that a
# new kind can take any value.
cdef inline bint bias_corrected(int kind) noexcept nogil:
    """Adam-style: steps scaled by 1 / (1 - beta ** step)."""
    return (kind == ADAM or kind == AMSGRAD or kind == ADAMW or kind == NADAM
            or kind == RADAM or kind == ADAMAX)


cdef inline bint divides_by_root(int kind) noexcept nogil:
    """The step divides by the square root of a second moment (such sparse
    updates go through sparse_adaptive)."""
    return (kind == ADAGRAD or kind == RMSPROP or kind == ADAM
            or kind == AMSGRAD or kind == ADAMW)


cdef inline int divisor_slot(int kind) noexcept nogil:
    """The state slot whose (root of a) running square or maximum the steps
    divide by, or -1: once it overflows to infinity the coordinate stops
    learning without any weight going non-finite (see _watch.pxi)."""
    if kind == ADAGRAD or kind == RMSPROP or kind == ADADELTA:
        return 0
    if kind == FTRL or kind == SF_ADAMW:
        return 1
    if kind == COCOB:  # grad_norm_sum, the first to overflow
        return 1
    if kind == NORMALIZED:
        return 0  # G (when adaptive; N otherwise, never infinite)
    if kind == AMSGRAD:
        return 2
    if bias_corrected(kind):
        return 1
    return -1


cdef struct Optim:
    # What Python sets: the kind and its hyper-parameters.
    int kind
    double momentum
    double beta1
    double beta2
    double eps
    double rho           # RMSProp smoothing constant (torch's ``alpha``)
    bint centered
    double l2            # coupled L2: added to the gradient (torch weight_decay)
    double decay         # multiplicative decay per unit rate (sgd L2, adamw)
    double momentum_decay  # NAdam's psi
    bint beta1_cycled    # the schedule sets beta1 before every update
    #                      (OneCycleLR, CyclicLR): 1 - beta1 ** step
    double ftrl_beta     # FTRL-Proximal's beta, lambda_1 and lambda_2 (the
    double ftrl_l1       # intercept's Optim, Epoch.opt_b, has l1 = l2 = 0)
    double ftrl_l2
    double cocob_alpha   # COCOB-Backprop's alpha (its first bets' bound)
    double sf_r          # schedule-free: the weights' power of the step and
    double sf_power      # of lr_max (r and weight_lr_power)
    bint norm_adaptive   # Vowpal Wabbit's rule (NORMALIZED): its flags and
    bint norm_normalized  # exponent (VW's --power_t)
    bint norm_invariant
    double norm_power


cdef struct Update:
    # What the kernel derives: counters carried through the epoch, and the
    # current update's rates (set by begin_update).
    double step          # number of updates applied so far by this optimizer
    double beta1_pow     # beta1 ** step, kept as a running product
    double beta2_pow
    double lr
    double step_size     # Adam: lr / (1 - beta1 ** step)
    double inv_sqrt_bc2  # Adam: 1 / sqrt(1 - beta2 ** step)
    double mu_product    # NAdam: product of its momentum schedule so far
    double decay_pow     # NAdam: 0.96 ** (step * psi), a running product
    double decay_base    # NAdam: 0.96 ** psi
    double step_g        # NAdam: the current gradient's share of the step
    double inv_bc2       # NAdam: 1 / (1 - beta2 ** step)
    bint rectified       # RAdam: the variance is tractable (rho_t > 5)
    double sf_lr_max     # schedule-free: the largest rate so far, its
    double sf_lr_pow     # power sf_power, the weight sum (carried in the
    double sf_wsum       # problem's counters) and the update's c
    double sf_c
    double norm_S        # NORMALIZED: the problem's sum of h ||x / N||^2
    double norm_W        # and of h (its counters), the current multiplier
    double norm_mult     # sqrt(W / S) and a mini-batch's 1 / mean weight
    double norm_inv_h


cdef inline void start_updates(const Optim* o, Update* u, double step,
                               double mu_product) noexcept nogil:
    """The counters of an optimizer that has made ``step`` updates; NAdam's
    ``mu_product`` is not a closed form of the step (its momentum may
    follow a schedule), so it is carried by the caller."""
    u.step = step
    u.beta1_pow = o.beta1 ** step
    u.beta2_pow = o.beta2 ** step
    u.mu_product = mu_product
    u.decay_base = 0.96 ** o.momentum_decay
    u.decay_pow = 0.96 ** (step * o.momentum_decay)
    u.lr = u.step_size = u.inv_sqrt_bc2 = u.step_g = u.inv_bc2 = 0.0
    u.rectified = False
    u.sf_lr_max = -1.0
    u.sf_lr_pow = 1.0
    u.sf_wsum = u.sf_c = 0.0
    u.norm_S = u.norm_W = 0.0
    u.norm_mult = u.norm_inv_h = 1.0


cdef inline double flush_tiny(double x) noexcept nogil:
    """0 for a running product of factors in [0, 1) that fell below 1e-300:
    1 - x is then exactly 1, as it is for 0, and the product never reaches
    the denormals, where it would stay for ever (5e-324 times a factor
    above 0.5 rounds to 5e-324) and every multiplication by it costs a
    microcode assist of ~150 cycles: NAdam's mu_product, per-sample on 100
    features, made the epoch 1.5 times slower."""
    return x if x >= 1e-300 else 0.0


cdef inline void begin_torch_update(const Optim* o, Update* u,
                                    double eta) noexcept nogil:
    """NAdam's, RAdam's and Adamax's scalars of update u.step (torch 2.13's
    expressions; beta1_pow and beta2_pow are already advanced)."""
    cdef double mu, mu_next, rho_inf, rho_t
    if o.kind == NADAM:
        # Running products, not pow: two pow calls per update cost a fifth
        # of a per-sample epoch on 100 features (they agree with torch's
        # pow to ~1e-16 per update).
        u.decay_pow = flush_tiny(u.decay_pow * u.decay_base)
        mu = o.beta1 * (1.0 - 0.5 * u.decay_pow)
        mu_next = o.beta1 * (1.0 - 0.5 * u.decay_pow * u.decay_base)
        u.mu_product = flush_tiny(u.mu_product * mu)
        u.step_g = eta * (1.0 - mu) / (1.0 - u.mu_product)
        u.step_size = eta * mu_next / (1.0 - u.mu_product * mu_next)
        u.inv_bc2 = 1.0 / (1.0 - u.beta2_pow)
    elif o.kind == RADAM:
        rho_inf = 2.0 / (1.0 - o.beta2) - 1.0
        rho_t = rho_inf - 2.0 * u.step * u.beta2_pow / (1.0 - u.beta2_pow)
        u.rectified = rho_t > 5.0
        u.step_size = eta / (1.0 - u.beta1_pow)
        if u.rectified:
            u.step_size *= sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / (
                (rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) * sqrt(
                1.0 - u.beta2_pow)


cdef inline void begin_update(const Optim* o, Update* u,
                              double eta) noexcept nogil:
    u.step += 1.0
    u.lr = eta
    if o.kind == SF_SGD or o.kind == SF_ADAMW:
        u.sf_c = sf_advance(u.step, eta, o.sf_r, o.sf_power, &u.sf_lr_max,
                            &u.sf_lr_pow, &u.sf_wsum)
        if o.kind == SF_ADAMW:  # torch's 1 - beta2 ** (k + 1), k from 0
            u.beta2_pow = flush_tiny(u.beta2_pow * o.beta2)
            u.inv_bc2 = 1.0 / (1.0 - u.beta2_pow)
        return
    if bias_corrected(o.kind):
        if o.beta1_cycled:  # torch's 1 - beta1 ** step, beta1 the current
            u.beta1_pow = flush_tiny(o.beta1 ** u.step)
        else:
            u.beta1_pow = flush_tiny(u.beta1_pow * o.beta1)
        u.beta2_pow = flush_tiny(u.beta2_pow * o.beta2)
        # Only the scalars the rule reads: a division waits ~15 cycles, and
        # per-sample updates on 100 features take ~250.
        if o.kind == NADAM or o.kind == RADAM:
            begin_torch_update(o, u, eta)
        else:
            u.step_size = eta / (1.0 - u.beta1_pow)
            if o.kind != ADAMAX:
                u.inv_sqrt_bc2 = 1.0 / sqrt(1.0 - u.beta2_pow)


cdef inline Py_ssize_t col(const int* idx, Py_ssize_t jj) noexcept nogil:
    return jj if idx == NULL else idx[jj]


# Coordinates per chunk of a sparse adaptive update: the sqrt and division
# run over a contiguous buffer of this many, so they vectorize.
cdef enum:
    CHUNK = 64


cdef inline void sparse_adaptive(const Optim* o, const Update* u, double l2,
                                 double vscale,
                                 floating* w, floating* s0, floating* s1,
                                 floating* s2, Py_ssize_t ss,
                                 const floating* g, double gscale,
                                 const int* idx, Py_ssize_t n) noexcept nogil:
    """apply_update for sparse rows and the optimizers that divide by a
    square root (AdaGrad, RMSProp, Adam, AMSGrad, AdamW), in three passes
    per chunk: gather the coordinates and update their moments (scalar),
    then numerator / (sqrt(denominator) * scale + eps) over the chunk
    (contiguous: vector sqrt and division, which a scalar loop pays for on
    every coordinate), then scatter the steps into w.  The result
    is the same as the one-pass loop's, because a sparse update's indices
    are distinct (CSR duplicates are summed before training; a mini-batch's
    touched columns are distinct by construction).

    Each chunk first asks for the next chunk's weights and state (into L2):
    a mini-batch update's coordinates were last seen a whole batch ago.  A
    per-sample update's row fits in one chunk and was prefetched before."""
    cdef floating num[CHUNK]
    cdef floating den[CHUNK]
    cdef Py_ssize_t start, q, cn, j
    cdef floating gj, a, b
    cdef floating gs = gscale
    cdef floating cl2 = l2
    cdef floating lrv = u.lr * vscale
    cdef floating eps = o.eps
    cdef floating rho = o.rho
    cdef floating b1c = 1.0 - o.beta1
    cdef floating b2 = o.beta2
    cdef floating b2c = 1.0 - o.beta2
    cdef floating stepv = u.step_size * vscale
    cdef floating scale = u.inv_sqrt_bc2 if bias_corrected(o.kind) else 1.0
    cdef int kind = o.kind
    cdef bint centered = o.centered
    start = 0
    while start < n:
        cn = min(<Py_ssize_t> CHUNK, n - start)
        for q in range(start + cn, min(start + 2 * cn, n)):
            SGDL_PREFETCH_L2(w + idx[q])
            SGDL_PREFETCH_L2(s0 + idx[q] * ss)
        if kind == ADAGRAD:
            for q in range(cn):
                j = idx[start + q] * ss
                gj = gs * g[start + q] + cl2 * w[idx[start + q]]
                a = s0[j] + gj * gj
                s0[j] = a
                num[q] = lrv * gj
                den[q] = a
        elif kind == RMSPROP:
            for q in range(cn):
                j = idx[start + q] * ss
                gj = gs * g[start + q] + cl2 * w[idx[start + q]]
                a = rho * s0[j] + (1 - rho) * gj * gj
                s0[j] = a
                if centered:
                    b = s1[j] + (1 - rho) * (gj - s1[j])
                    s1[j] = b
                    a = a - b * b
                num[q] = lrv * gj
                den[q] = a
        elif kind == AMSGRAD:
            # Not merged with Adam's loop below: a flag inside it slows Adam.
            for q in range(cn):
                j = idx[start + q] * ss
                gj = gs * g[start + q] + cl2 * w[idx[start + q]]
                a = s0[j] + b1c * (gj - s0[j])
                s0[j] = a
                b = b2 * s1[j] + b2c * gj * gj
                s1[j] = b
                if b > s2[j]:
                    s2[j] = b
                num[q] = stepv * a
                den[q] = s2[j]
        else:  # ADAM, ADAMW
            for q in range(cn):
                j = idx[start + q] * ss
                gj = gs * g[start + q] + cl2 * w[idx[start + q]]
                a = s0[j] + b1c * (gj - s0[j])
                s0[j] = a
                b = b2 * s1[j] + b2c * gj * gj
                s1[j] = b
                num[q] = stepv * a
                den[q] = b
        for q in range(cn):
            num[q] = num[q] / (fsqrt(den[q]) * scale + eps)
        for q in range(cn):
            w[idx[start + q]] -= num[q]
        start += cn


cdef inline void torch_update(const Optim* o, const Update* u, double l2,
                              double vscale, floating* w, floating* s0,
                              floating* s1, Py_ssize_t sstep,
                              const floating* g, double gscale,
                              const int* idx, Py_ssize_t n) noexcept nogil:
    """apply_update of NAdam, RAdam, Adamax and Adadelta (_optim_torch.pxd):
    dense rows with literal NULL and unit stride, so that the inlined copy
    vectorizes."""
    cdef floating b1c = 1.0 - o.beta1
    cdef floating b2c = 1.0 - o.beta2
    cdef floating step = u.step_size * vscale
    if o.kind == NADAM:
        if idx == NULL:
            nadam_coords(w, s0, s1, 1, g, gscale, l2, NULL, n, b1c, o.beta2,
                         b2c, u.inv_bc2, u.step_g * vscale, step, o.eps)
        else:
            nadam_coords(w, s0, s1, sstep, g, gscale, l2, idx, n, b1c,
                         o.beta2, b2c, u.inv_bc2, u.step_g * vscale, step,
                         o.eps)
    elif o.kind == RADAM:
        if idx == NULL:
            radam_coords(w, s0, s1, 1, g, gscale, l2, NULL, n, b1c, o.beta2,
                         b2c, u.rectified, step, o.eps)
        else:
            radam_coords(w, s0, s1, sstep, g, gscale, l2, idx, n, b1c,
                         o.beta2, b2c, u.rectified, step, o.eps)
    elif o.kind == ADAMAX:
        if idx == NULL:
            adamax_coords(w, s0, s1, 1, g, gscale, l2, NULL, n, b1c, o.beta2,
                          step, o.eps)
        else:
            adamax_coords(w, s0, s1, sstep, g, gscale, l2, idx, n, b1c,
                          o.beta2, step, o.eps)
    else:  # ADADELTA
        if idx == NULL:
            adadelta_coords(w, s0, s1, 1, g, gscale, l2, NULL, n, o.rho,
                            u.lr * vscale, o.eps)
        else:
            sparse_adadelta(w, s0, s1, sstep, g, gscale, l2, idx, n, o.rho,
                            u.lr * vscale, o.eps)


cdef inline void sf_update(const Optim* o, const Update* u, double l2,
                           double vscale, floating* w, floating* s0,
                           floating* s1, floating* s2, Py_ssize_t sstep,
                           const floating* g, double gscale, const int* idx,
                           Py_ssize_t n) noexcept nogil:
    """apply_update of schedule-free SGD and AdamW (_schedulefree.pxd): w
    is the training point y, s0 its z, s1 AdamW's v, and the last slot (s1,
    or AdamW's s2) y's between epochs, which sparse rows use during one
    for the weight sum of each coordinate's last update; dense rows with
    literal NULL and unit stride, so that the inlined copy vectorizes."""
    cdef double lr = u.lr * vscale
    cdef double beta = o.momentum if o.kind == SF_SGD else o.beta1
    cdef double a = lr * (beta * (1.0 - u.sf_c) - 1.0)
    if o.kind == SF_SGD:
        if idx == NULL:
            sf_sgd_coords(w, s0, NULL, 1, g, gscale, l2, NULL, n, u.sf_c, a,
                          lr, 0.0)
        else:
            sf_sgd_coords(w, s0, s1, sstep, g, gscale, l2, idx, n, u.sf_c, a,
                          lr, u.sf_wsum)
    elif idx == NULL:
        sf_adamw_coords(w, s0, s1, NULL, 1, g, gscale, l2, NULL, n, u.sf_c,
                        a, lr, o.beta2, 1.0 - o.beta2, u.inv_bc2, o.eps, 0.0)
    else:
        sf_adamw_sparse(w, s0, s1, s2, sstep, g, gscale, l2, idx, n, u.sf_c,
                        a, lr, o.beta2, 1.0 - o.beta2, u.inv_bc2, o.eps,
                        u.sf_wsum)


cdef inline void apply_update(const Optim* o, const Update* u, double l2,
                              double vscale,
                              floating* w, floating* s0, floating* s1,
                              floating* s2, Py_ssize_t slot, Py_ssize_t sstep,
                              const floating* g, double gscale,
                              const int* idx, Py_ssize_t n) noexcept nogil:
    """One optimizer update of the coordinates j = idx[jj] (jj when idx is
    NULL), jj < n, for the gradient gscale * g[jj] + l2 * w[j].

    ``vscale`` multiplies the step: 1/wscale when w is stored scaled, the
    intercept decay for the intercept.  s0, s1, s2 are the optimizer's state
    arrays: coordinate j's state is at s0[j * sstep], s1[j * sstep], ...;
    more slots (COCOB's five) follow s0 at steps of ``slot`` elements
    (s1 == s0 + slot, s2 == s0 + 2 slot).  (sstep > 1 only for sparse
    updates: state interleaved so that one cache line holds all of a
    coordinate's.)  Dense loops index s0[j] (contiguous,
    they vectorize; a runtime stride there does not), and so
    do the sparse SGD, momentum and Nesterov loops, whose single state array
    is the same in both layouts; the other sparse updates go to
    sparse_adaptive.
    """
    cdef Py_ssize_t jj, j
    cdef floating gj
    cdef floating gs = gscale
    cdef floating cl2 = l2
    cdef floating lrv = u.lr * vscale
    cdef floating mu = o.momentum
    cdef floating eps = o.eps
    cdef floating rho = o.rho
    cdef floating b1c = 1.0 - o.beta1
    cdef floating b2 = o.beta2
    cdef floating b2c = 1.0 - o.beta2
    cdef floating stepv = u.step_size * vscale
    cdef floating ibc2 = u.inv_sqrt_bc2
    cdef int kind = o.kind
    if idx != NULL and divides_by_root(kind):
        sparse_adaptive(o, u, l2, vscale, w, s0, s1, s2, sstep, g, gscale,
                        idx, n)
        return
    if (kind == NADAM or kind == RADAM or kind == ADAMAX
            or kind == ADADELTA):
        torch_update(o, u, l2, vscale, w, s0, s1, sstep, g, gscale, idx, n)
        return
    if kind == SF_SGD or kind == SF_ADAMW:
        sf_update(o, u, l2, vscale, w, s0, s1, s2, sstep, g, gscale, idx, n)
        return
    if kind == FTRL:  # _ftrl.pxd; its penalties are o's, not l2 / vscale
        if idx == NULL:
            ftrl_coords(w, s0, s1, 1, g, gscale, NULL, n, u.lr, o.ftrl_beta,
                        o.ftrl_l1, o.ftrl_l2)
        else:
            ftrl_sparse(w, s0, s1, sstep, g, gscale, idx, n, u.lr,
                        o.ftrl_beta, o.ftrl_l1, o.ftrl_l2)
        return
    if kind == COCOB:  # _cocob.pxd; no rate (u.lr, vscale: wscale stays 1)
        if idx == NULL:
            cocob_coords(w, s0, slot, 1, g, gscale, l2, NULL, n,
                         o.cocob_alpha)
        else:
            cocob_coords(w, s0, slot, sstep, g, gscale, l2, idx, n,
                         o.cocob_alpha)
        return
    if kind == NORMALIZED:  # its mini-batch form; per sample: the row rule
        if idx == NULL:     # (_normalized_epoch.pxi)
            normalized_coords(w, s0, s1, 1, g, gscale, NULL, n,
                              u.lr * vscale * u.norm_mult, u.norm_inv_h,
                              o.norm_adaptive, o.norm_normalized, o.norm_power)
        else:
            normalized_coords(w, s0, s1, sstep, g, gscale, idx, n,
                              u.lr * vscale * u.norm_mult, u.norm_inv_h,
                              o.norm_adaptive, o.norm_normalized, o.norm_power)
        return
    if kind == SGD:
        gs = -u.lr * vscale * gscale
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
