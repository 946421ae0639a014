# Vowpal Wabbit's default update per sample (part of _epoch_impl.pxi): a
# row-level rule, not a function of a gradient.  Per row: the scores; the
# loss derivatives; one pass that updates the normalizers N (rescaling the
# weights when a larger |x_j| appears) and the running norm S; per output a
# pass that updates G and computes the rates and ppu (the prediction's
# change per unit step); the loss's importance-invariant step u; the weight
# step.  Operations in VW's order (gd.cc) in the kernel's float type; the
# intercept is VW's constant feature (x = 1, last).  Only the row's
# coordinates change, so a CSR row costs O(nnz) with nothing to catch up.
#
# With K outputs (multi-output regression, multinomial) G and the step are
# per output; N, S and W depend on x only and are shared (N is stored for
# every output, equal); a row is skipped when every output's loss is zero.


cdef inline double normalized_loss(const Epoch* ep, double p, double y,
                                   floating* dl, double* d) noexcept nogil:
    """The row's unweighted loss at score p (double, for the objective), and
    in ``dl`` its derivative in the kernel's float type, as VW computes it
    (squared: p - y; logistic: -y / (1 + exp(y p))), 0 where VW skips the
    row because the loss in that type is 0 (logistic margins past ~16.6 in
    float32, ~36.7 in float64); for the log loss, exp(y p) in ``d`` (its
    update's; float64 takes it as 1 / exp(-y p), one exp fewer)."""
    cdef int kind = ep.task.loss
    cdef floating pf = <floating> p
    cdef floating yf = <floating> y
    cdef floating r, yp, e
    cdef floating one = 1  # typed: Cython writes a bare 1 as a double 1.0
    cdef double dd, loss
    if kind == SQUARED:
        r = pf - yf
        dl[0] = r
        return 0.5 * (<double> r) * r
    if kind == LOG:
        yp = yf * pf
        e = fexp(-yp)
        if floating is float:
            d[0] = fexp(yp)
        else:
            d[0] = one / e
        dl[0] = 0 if one + e == one else -yf / (one + <floating> d[0])
        return -p * y if p * y < -18.0 else log1p(<double> e)
    loss = loss_grad(kind, p, y, ep.task.loss_param, &dd)
    dl[0] = 0 if loss == 0 else <floating> min(MAX_DLOSS, max(-MAX_DLOSS, dd))
    return loss


cdef void normalize_row(Epoch* ep, Model* m, const floating* x,
                        const int* xi, int nnz, double h,
                        bint outside) noexcept nogil:
    """N_j = max(N_j, |x_j|) for the row's non-zeros, rescaling each
    output's weight when it grows (w_j *= N_j / |x_j|: the weight the new
    scale would have learned); S += h ||x / N||^2 (the constant's 1
    included) and W += h.  ``outside`` an update (a mini-batch's, before
    its gradient), a rescale leaves the running average as it was."""
    cdef floating* AW = <floating*> m.AW if outside else NULL
    cdef floating before
    cdef int k
    cdef Py_ssize_t jj, j, d = m.d, ss = m.sstep
    cdef floating* W = <floating*> m.W
    cdef floating* N0 = at(m.S, m.slot, W)
    cdef floating* N
    cdef floating xv, ax, nj, f, nx = 0
    cdef bint adaptive = ep.opt.norm_adaptive
    cdef bint sqrt_rate = ep.opt.norm_power == 0.5
    cdef floating nnp = ep.opt.norm_power - 1 if adaptive else -1
    for jj in range(nnz):
        xv = x[jj]
        if xv == 0:
            continue
        j = jj if xi == NULL else xi[jj]
        ax = fabs(xv)
        nj = N0[j * ss]
        if ax > nj:  # a new scale: rare after the first rows
            for k in range(m.K):
                N = at(m.S, k * m.srow + m.slot, W)
                if nj > 0:
                    f = rescale_factor(nj, ax, adaptive, sqrt_rate, nnp)
                    before = W[k * d + j]
                    W[k * d + j] *= f
                    if AW != NULL:
                        AW[k * d + j] -= m.avg_a * (W[k * d + j] - before)
                N[j * ss] = ax
            nj = ax
        nx += floor_x2(xv * xv) / (nj * nj)
    if ep.task.fit_intercept:
        for k in range(m.K):
            m.Sb[k * m.srow_b + 1] = 1.0  # the constant's N: |x| = 1
        nx += 1
    ep.upd.norm_S += h * nx
    ep.upd.norm_W += h


cdef inline floating normalized_mult(const Epoch* ep,
                                     const floating* like) noexcept nogil:
    """(S / W)^(power - 1) (adaptive) or W / S: 1 / the running mean of
    ||x / N||^2 to the power, from S and W rounded to the float type."""
    cdef floating S = <floating> ep.upd.norm_S
    cdef floating Wt = <floating> ep.upd.norm_W
    cdef floating avg
    if ep.opt.norm_power == 0.5:
        avg = Wt / S
        return froot(avg) if ep.opt.norm_adaptive else avg
    return fpow(S / Wt, <floating> (ep.opt.norm_power - 1
                                    if ep.opt.norm_adaptive else -1))


cdef floating rate_pass(Epoch* ep, Model* m, Scratch* sc, int k,
                        const floating* x, const int* xi,
                        int nnz) noexcept nogil:
    """Output k's rate pass: G += g2 x^2, the rates r_j, and ppu = sum x^2 r
    (without mult), with x_j r_j in sc.rates[k (nnz + 1) + jj] (the
    constant's at nnz)."""
    cdef Py_ssize_t jj, j, ss = m.sstep
    cdef floating* W = <floating*> m.W
    cdef floating* R = (<floating*> sc.rates) + k * (nnz + 1)
    cdef floating* G = at(m.S, k * m.srow, W)
    cdef floating* N = at(m.S, k * m.srow + m.slot, W)
    cdef double* Sb = m.Sb + k * m.srow_b
    cdef floating g2 = <floating> sc.gscale[k]
    cdef floating xv, x2, r, gb, ppu = 0
    cdef bint adaptive = ep.opt.norm_adaptive
    cdef bint normalized = ep.opt.norm_normalized
    cdef bint sqrt_rate = ep.opt.norm_power == 0.5
    cdef floating power = ep.opt.norm_power
    cdef floating nnp = power - 1 if adaptive else -1
    if adaptive or normalized:
        for jj in range(nnz):
            xv = x[jj]
            if xv == 0:
                R[jj] = 0
                continue
            j = (jj if xi == NULL else xi[jj]) * ss
            x2 = floor_x2(xv * xv)
            if adaptive:
                G[j] += g2 * x2
            r = coord_rate(G[j], N[j], adaptive, normalized, sqrt_rate, power,
                           nnp)
            ppu += x2 * r
            R[jj] = xv * r
        if ep.task.fit_intercept:
            gb = <floating> Sb[0]
            if adaptive:
                gb = gb + g2
                Sb[0] = gb
            r = coord_rate(gb, <floating> Sb[1], adaptive, normalized,
                           sqrt_rate, power, nnp)
            ppu += r
            R[nnz] = r
    else:  # neither: plain SGD steps, ppu = ||x||^2
        for jj in range(nnz):
            xv = x[jj]
            ppu += xv * xv
            R[jj] = xv
        if ep.task.fit_intercept:
            ppu += 1
            R[nnz] = 1
    return ppu


cdef void rescale_new(Model* m, const double* x, const int* xi,
                      int nnz) noexcept nogil:
    """fused_pass's rescales: N_j = |x_j| where it is larger, w_j *= N_j /
    |x_j| (one output, float64, adaptive)."""
    cdef Py_ssize_t jj, j, ss = m.sstep
    cdef double* W = <double*> m.W
    cdef double* N = (<double*> m.S) + m.slot
    cdef double ax
    for jj in range(nnz):
        j = jj if xi == NULL else xi[jj]
        ax = fabs(x[jj])
        if ax > N[j * ss]:
            if N[j * ss] > 0:
                W[j] *= N[j * ss] / ax
            N[j * ss] = ax


cdef double fused_pass(Epoch* ep, Model* m, Scratch* sc, const floating* x,
                       const int* xi, int nnz, double h) noexcept nogil:
    """normalize_row and rate_pass in one pass, for one output, float64 and
    the default flags (adaptive, normalized, exponent 0.5): one division
    and one root per coordinate (t = 1 / (N^2 sqrt(G)): 1 / N^2 = t sqrt(G),
    r = t N) instead of three and one, branch-free (it vectorizes on dense
    rows, sgdl_norm_dense); the same rule, rounded otherwise than VW's
    float32 order; CSR rows through contiguous copies of their G and N.
    The rare rescales (a new largest |x_j|) are found by the pass, which
    then runs again after them, so that N_j >= |x_j| in the pass that
    counts: where N_j = 0,
    x_j = 0 and the DBL_MIN floor makes every term 0 (where x_j = 0 and
    N_j > 0, r_j is finite and its terms are 0 too).  Returns ppu without
    mult."""
    cdef Py_ssize_t jj, j, ss = m.sstep
    cdef double* W = <double*> m.W
    cdef double* G = <double*> m.S
    cdef double* N = G + m.slot
    cdef double* R = <double*> sc.rates
    cdef double* Gq = R + m.d + 1  # CSR: the row's G and N, contiguous
    cdef double* Nq = Gq + m.d + 1
    cdef double g2 = sc.gscale[0]
    cdef double gj, r, nx = 0.0, ppu = 0.0
    if xi == NULL:  # one vectorized pass; again after a rare rescale
        if sgdl_norm_dense(<const double*> x, G, N, R, g2, nnz, True, &nx,
                           &ppu):
            rescale_new(m, <const double*> x, xi, nnz)
            sgdl_norm_dense(<const double*> x, G, N, R, g2, nnz, False, &nx,
                            &ppu)
    else:  # the same on contiguous copies of the row's G and N
        for jj in range(nnz):
            j = xi[jj] * ss
            Gq[jj] = G[j]
            Nq[jj] = N[j]
        if sgdl_norm_dense(<const double*> x, Gq, Nq, R, g2, nnz, True, &nx,
                           &ppu):
            rescale_new(m, <const double*> x, xi, nnz)
            for jj in range(nnz):
                Nq[jj] = N[xi[jj] * ss]
            sgdl_norm_dense(<const double*> x, Gq, Nq, R, g2, nnz, False,
                            &nx, &ppu)
        for jj in range(nnz):
            G[xi[jj] * ss] = Gq[jj]
    if ep.task.fit_intercept:
        m.Sb[1] = 1.0
        gj = m.Sb[0] + g2
        m.Sb[0] = gj
        r = 1.0 / sqrt(gj)
        ppu += r
        R[nnz] = r
        nx += 1.0
    ep.upd.norm_S += h * nx
    ep.upd.norm_W += h
    return ppu


cdef floating loss_step(Epoch* ep, Scratch* sc, int k, floating ppu,
                        floating s, floating tgt) noexcept nogil:
    """Output k's step u for ppu (mult included), time s = eta h and target
    tgt: the loss's importance-invariant one, or the plain -dl s."""
    cdef floating dl = <floating> sc.c[k]
    cdef int loss = ep.task.loss
    if loss == SQUARED:
        return squared_update(-dl, s, ppu, ep.opt.norm_invariant)
    if loss == LOG:
        return logistic_update(<floating> sc.p[k], tgt, <floating> sc.aux[k],
                               s, ppu, ep.opt.norm_invariant)
    return -dl * s


cdef double normalized_row(Epoch* ep, Model* m, Scratch* sc,
                           const floating* x, const int* xi, int nnz,
                           Py_ssize_t i) noexcept nogil:
    """One per-sample update of row i; returns its unweighted loss (its
    scores, before the update, are in sc.p)."""
    cdef int k, K = m.K, n_bar = 0
    cdef Py_ssize_t jj, d = m.d
    cdef floating* W = <floating*> m.W
    cdef floating* old = <floating*> sc.old
    cdef floating* R
    cdef const floating* y = (<const floating*> ep.y) + i * ep.y_stride
    cdef double h = 1.0 if ep.sw == NULL else ep.sw[i]
    cdef double loss = 0.0, eta, n_avg = 0.0, bar = 0.0, scale
    cdef floating dl, g2, s, u, uw, ub, ppu, mult = 1
    cdef bint active = False
    cdef bint squared = ep.task.loss == SQUARED
    for k in range(K):
        sc.p[k] = dot(W + k * d, x, xi, nnz) * m.wscale + m.b[k]
    eta = eta_at(&ep.sched, ep.task.t)
    begin_update(&ep.opt, &ep.upd, eta)
    if ep.task.loss == MULTINOMIAL:
        loss = softmax_grad(sc.p, K, <int> y[0], sc.c)
        for k in range(K):
            sc.c[k] = <floating> sc.c[k]
    else:
        for k in range(K):
            loss += normalized_loss(ep, sc.p[k], target(ep, y, k), &dl,
                                    &sc.aux[k])
            sc.c[k] = dl
    for k in range(K):
        dl = <floating> sc.c[k]
        g2 = <floating> h * (dl * dl)
        sc.gscale[k] = g2  # 0: output k learns nothing from this row
        active = active or g2 != 0
    if ep.task.average > 0 and ep.task.t >= ep.task.average:
        n_avg = ep.task.t - ep.task.average + 1
        for k in range(K):
            for jj in range(nnz):
                old[k * nnz + jj] = W[k * d + (jj if xi == NULL else xi[jj])]
    if active:
        s = <floating> eta * <floating> h
        if (floating is double and K == 1 and ep.opt.norm_adaptive
                and ep.opt.norm_normalized and ep.opt.norm_power == 0.5):
            ppu = <floating> fused_pass(ep, m, sc, x, xi, nnz, h)
            mult = normalized_mult(ep, W)
            sc.gb[0] = loss_step(ep, sc, 0, ppu * mult, s,
                                 <floating> target(ep, y, 0))
        else:
            if ep.opt.norm_normalized:
                normalize_row(ep, m, x, xi, nnz, h, False)
                mult = normalized_mult(ep, W)
            for k in range(K):
                u = 0
                if sc.gscale[k] != 0:
                    ppu = rate_pass(ep, m, sc, k, x, xi, nnz)
                    if ep.opt.norm_normalized:
                        ppu = ppu * mult
                    u = loss_step(ep, sc, k, ppu, s,
                                  <floating> target(ep, y, k))
                sc.gb[k] = u
        for k in range(K):
            u = <floating> sc.gb[k]
            dl = <floating> sc.c[k]
            # VW's L2 (--l2): the scale shrinks by 1 - l2 eta_bar, eta_bar =
            # -u / dl the update's effective rate (VW's tests on its own
            # squared loss, whose u and dl are twice these).
            if (ep.opt.decay > 0 and fabs(u) * (2 if squared else 1) > 1e-8
                    and fabs(dl) * (2 if squared else 1) > 1e-8):
                bar += -(<double> u) / dl
                n_bar += 1
        if n_bar:
            m.wscale *= max(0.0, 1.0 - ep.opt.decay * bar / n_bar)
            if m.wscale < tiny_scale(W):
                fold_scale(m, W)
        for k in range(K):
            u = <floating> sc.gb[k]
            if u == 0:
                continue
            uw = u
            if m.wscale != 1.0:
                uw = u / <floating> m.wscale
            ub = u
            if ep.opt.norm_normalized:
                uw = uw * mult
                ub = u * mult
            if ep.task.intercept_decay != 1.0:
                ub = ub * <floating> ep.task.intercept_decay
            R = (<floating*> sc.rates) + k * (nnz + 1)
            if xi == NULL:
                for jj in range(nnz):
                    W[k * d + jj] += uw * R[jj]
            else:
                for jj in range(nnz):
                    W[k * d + xi[jj]] += uw * R[jj]
            if ep.task.fit_intercept:
                m.b[k] = <floating> (<floating> m.b[k] + ub * R[nnz])
    if ep.task.l1 > 0:
        m.u += ep.task.l1 * eta
        clip_l1(m, xi, nnz, False, W)
    if n_avg >= 1:
        average_update(ep, m, xi, nnz, old, n_avg)
    ep.task.t += 1
    return loss


cdef void normalize_batch(Epoch* ep, Model* m, Py_ssize_t start,
                          Py_ssize_t stop, const floating* like) noexcept nogil:
    """Before a mini-batch's gradient: the normalizers N from its rows, row
    by row (rescaling the weights as per sample), S and W by the batch's
    means of h ||x / N||^2 and of h (one example of the batch's mean
    weight), the multiplier and 1 / that weight (G adds g^2 / it)."""
    cdef Py_ssize_t r, i
    cdef int nnz
    cdef const floating* x
    cdef const int* xi
    cdef double S0 = ep.upd.norm_S, W0 = ep.upd.norm_W, h, total = 0.0
    cdef double B = stop - start
    for r in range(start, stop):
        i = ep.order[r]
        nnz = get_row(&ep.rows, i, &x, &xi)
        h = 1.0 if ep.sw == NULL else ep.sw[i]
        total += h
        if ep.opt.norm_normalized:
            normalize_row(ep, m, x, xi, nnz, h, True)
    if ep.opt.norm_normalized:
        ep.upd.norm_S = S0 + (ep.upd.norm_S - S0) / B
        ep.upd.norm_W = W0 + (ep.upd.norm_W - W0) / B
        if ep.upd.norm_S > 0:
            ep.upd.norm_mult = normalized_mult(ep, like)
    ep.upd.norm_inv_h = B / total if total > 0 else 0.0
