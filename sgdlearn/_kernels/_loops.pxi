# The epoch loops (part of _epoch_impl.pxi): the loss gradient of a row, one
# update, the per-sample and the mini-batch epochs.

# Loss gradients are clipped to +-MAX_DLOSS (as scikit-learn's SGD does).
cdef double MAX_DLOSS = 1e12

cdef inline double target(const Epoch* ep, const floating* y,
                          int k) noexcept nogil:
    if ep.task.positive < 0:
        return y[k]
    return 1.0 if y[0] == ep.task.positive else -1.0


cdef double row_loss(const Epoch* ep, const Model* m, const floating* x,
                     const int* xi, int nnz, Py_ssize_t i,
                     Scratch* sc) noexcept nogil:
    """Scores of row i, weighted and clipped loss gradients in sc.c, and the
    unweighted loss."""
    cdef int k
    cdef const floating* W = <const floating*> m.W
    cdef const floating* y = (<const floating*> ep.y) + i * ep.y_stride
    cdef double loss = 0.0, sw = 1.0 if ep.sw == NULL else ep.sw[i]
    cdef double* p = sc.p
    cdef double* c = sc.c
    for k in range(m.K):
        p[k] = dot(W + k * m.d, x, xi, nnz) * m.wscale + m.b[k]
    if ep.task.loss == MULTINOMIAL:
        loss = softmax_grad(p, m.K, <int> y[0], c)
    else:
        for k in range(m.K):
            loss += loss_grad(ep.task.loss, p[k], target(ep, y, k),
                              ep.task.loss_param, &c[k])
    for k in range(m.K):
        c[k] = min(MAX_DLOSS, max(-MAX_DLOSS, c[k])) * sw
    return loss


cdef void update(Epoch* ep, Model* m, Lazy* lz, Scratch* sc, const floating* G,
                 Py_ssize_t g_stride, const int* idx, Py_ssize_t n,
                 Py_ssize_t s) noexcept nogil:
    """Update number s of the epoch on coordinates idx[:n] (all when NULL):
    row k's loss gradient is sc.gscale[k] * G[k * g_stride + jj]."""
    cdef int k
    cdef Py_ssize_t jj, j, d = m.d, slot = m.slot, sr
    cdef double eta, mom, one = 1.0, n_avg = 0.0
    cdef floating* W = <floating*> m.W
    cdef floating* old = <floating*> sc.old
    if ep.sched.cycle_momentum:  # OneCycleLR, CyclicLR: torch's group value
        eta = eta_momentum_at(&ep.sched, ep.task.t, &mom)
        ep.opt.momentum = ep.opt.beta1 = mom
    else:
        eta = eta_at(&ep.sched, ep.task.t)
    begin_update(&ep.opt, &ep.upd, eta)
    if ep.opt.decay > 0:
        # Never a negative scale when eta * alpha is large: zero instead.
        m.wscale *= max(0.0, 1.0 - ep.opt.decay * eta)
        if m.wscale < tiny_scale(W):
            fold_scale(m, W)
    if ep.task.average > 0 and ep.task.t >= ep.task.average:
        n_avg = ep.task.t - ep.task.average + 1
        for k in range(m.K):
            for jj in range(n):
                j = jj if idx == NULL else idx[jj]
                old[k * n + jj] = W[k * d + j]
    for k in range(m.K):
        if ep.opt.kind == SGD and sc.gscale[k] == 0:
            continue
        sr = k * m.srow
        apply_update(&ep.opt, &ep.upd, ep.opt.l2, 1.0 / m.wscale, W + k * d,
                     at(m.S, sr, W), at(m.S, sr + slot, W),
                     at(m.S, sr + 2 * slot, W), slot, m.sstep,
                     G + k * g_stride,
                     sc.gscale[k], idx, n)
    if ep.task.fit_intercept:
        for k in range(m.K):
            apply_update(&ep.opt_b if ep.own_b else &ep.opt, &ep.upd, 0.0,
                         ep.task.intercept_decay,
                         &m.b[k], at(m.Sb, k * m.srow_b, &one),
                         at(m.Sb, k * m.srow_b + 1, &one),
                         at(m.Sb, k * m.srow_b + 2, &one), 1, 1,
                         &one, sc.gb[k], NULL, 1)
    if ep.task.l1 > 0:
        m.u += ep.task.l1 * eta
        clip_l1(m, idx, n, False, W)
    if n_avg >= 1:
        average_update(ep, m, idx, n, old, n_avg)
    if lz.last != NULL:
        for jj in range(n):
            lz.last[idx[jj]] = <int> s
    ep.task.t += 1


cdef void pa_rescale(Epoch* ep, Scratch* sc, const floating* x, int nnz,
                     double loss) noexcept nogil:
    """Passive-aggressive step (Crammer et al. 2006): the rate comes from the
    loss, expressed as a rescaled gradient under the constant rate eta0."""
    cdef double xnorm = sq_norm(x, nnz), step
    if ep.sched.kind == PA1:
        step = min(ep.sched.eta0, loss / xnorm)
    else:
        step = loss / (xnorm + 0.5 / ep.sched.eta0)
    sc.c[0] *= step / ep.sched.eta0


cdef void run_per_sample(Epoch* ep, Model* m, Lazy* lz, Scratch* sc,
                         Outcome* out, const floating* like) noexcept nogil:
    cdef Py_ssize_t s, i, jj
    cdef int nnz, k
    cdef const floating* x
    cdef const int* xi
    cdef double loss, sw
    cdef bint is_pa = ep.sched.kind == PA1 or ep.sched.kind == PA2
    cdef Py_ssize_t budget = CHECK_WORK
    for s in range(ep.n_order):
        i = ep.order[s]
        nnz = get_row(&ep.rows, i, &x, &xi)
        budget -= (nnz + 1) * m.K
        if budget < 0:
            budget = CHECK_WORK
            if stop_requested(ep):
                out.status = INTERRUPTED
                out.failed_at = s
                return
        prefetch_ahead(ep, s, x)
        if xi != NULL:
            if ep.look and s + ep.look < ep.n_order:
                prefetch_coordinates(ep, m, lz, ep.order[s + ep.look], x)
            elif m.S != NULL:
                # The state lines then arrive while the dot product waits
                # for the weights'.
                for k in range(m.K):
                    for jj in range(nnz):
                        SGDL_PREFETCH(at(m.S, k * m.srow + xi[jj] * m.sstep, x))
            catch_up(m, lz, &ep.opt, xi, nnz, s, x)
            if ep.task.l1 > 0:
                clip_l1(m, xi, nnz, True, x)
        if ep.opt.kind == NORMALIZED:  # a row-level rule, which updates
            loss = normalized_row(ep, m, sc, x, xi, nnz, i)  # (its file)
        else:
            loss = row_loss(ep, m, x, xi, nnz, i, sc)
        if not (isfinite(loss) and isfinite(sc.p[0])):
            out.status = DIVERGED
            out.failed_at = s
            return
        out.sumloss += loss * (1.0 if ep.sw == NULL else ep.sw[i])
        if is_pa:
            if ep.sched.kind == PA1 and sq_norm(x, nnz) == 0:
                continue
            pa_rescale(ep, sc, x, nnz, loss)
        if ep.opt.kind != NORMALIZED:
            for k in range(m.K):
                sc.gscale[k] = sc.c[k]
                sc.gb[k] = sc.c[k]
            update(ep, m, lz, sc, x, 0, xi, nnz, s + 1)
        out.n_updates += 1
        sw = 1.0 if ep.sw == NULL else ep.sw[i]
        if exploded(out, loss * sw, sw):
            out.status = EXPLODED
            out.failed_at = s
            return


cdef Py_ssize_t mark_batch(Epoch* ep, const Model* m, const Lazy* lz,
                           Scratch* sc, Py_ssize_t start, Py_ssize_t stop,
                           const floating* like) noexcept nogil:
    """Collect the distinct columns of rows order[start:stop] in sc.touched,
    with each one's position there in sc.mark[2 j + 1].

    Two passes.  Each occurrence of a column writes its rank among the
    batch's non-zeros to mark[2 j]; then the occurrence that still finds its
    own rank there is its column's last, and appends it.  (Marks left by
    earlier batches are never read: the first pass overwrites those of this
    batch's columns.)  No load waits on the stores before it, as it did in
    one pass that asked "seen already?" and appended (each load of mark
    waited for the address of the previous append).  The first pass is the
    batch's first look at its rows and columns, so it also asks for them:
    the rows ahead and, when the model outgrows L2 (ep.look > 0), the
    weights and state of each column, for the dot products and the
    update."""
    cdef Py_ssize_t r, jj, n_touched = 0, q = 0
    cdef int nnz, j
    cdef int* mark = sc.mark
    cdef int* touched = sc.touched
    cdef const floating* x
    cdef const int* xi
    for r in range(start, stop):
        if r + ep.ahead < ep.n_order:
            prefetch_sample(ep, r + ep.ahead, like)
        nnz = get_row(&ep.rows, ep.order[r], &x, &xi)
        for jj in range(nnz):
            mark[2 * xi[jj]] = <int> (q + jj)
            if ep.look:
                prefetch_coordinate(m, lz, xi[jj], like)
        q += nnz
    q = 0
    for r in range(start, stop):
        nnz = get_row(&ep.rows, ep.order[r], &x, &xi)
        for jj in range(nnz):
            # Unconditional stores: an earlier occurrence's are overwritten
            # by the last one's.
            j = xi[jj]
            touched[n_touched] = j
            mark[2 * j + 1] = <int> n_touched
            n_touched += mark[2 * j] == <int> (q + jj)
        q += nnz
    return n_touched


cdef void run_batches(Epoch* ep, Model* m, Lazy* lz, Scratch* sc,
                      Outcome* out, const floating* like) noexcept nogil:
    """Mini-batch (or full-batch) updates: the loss gradient of a batch is
    the mean of its rows' weighted gradients; penalties apply once."""
    cdef Py_ssize_t start, stop, r, i, jj, n_touched = 0, s = 0
    cdef Py_ssize_t d = m.d
    cdef int nnz, k
    cdef const floating* x
    cdef const int* xi
    cdef floating* G = <floating*> sc.G
    cdef floating* Gc = <floating*> sc.Gc
    cdef floating* Gk
    cdef floating ck
    cdef double loss, sw, batch_loss, batch_weight
    cdef bint sparse = ep.rows.indptr != NULL
    cdef Py_ssize_t budget = CHECK_WORK
    start = 0
    while start < ep.n_order:
        stop = min(start + ep.task.batch_size, ep.n_order)
        batch_loss = batch_weight = 0.0
        if sparse:
            n_touched = mark_batch(ep, m, lz, sc, start, stop, like)
            memset(Gc, 0, m.K * n_touched * sizeof(floating))
            catch_up(m, lz, &ep.opt, sc.touched, n_touched, s, like)
            if ep.task.l1 > 0:
                clip_l1(m, sc.touched, n_touched, True, like)
        else:
            memset(G, 0, m.K * d * sizeof(floating))
        for k in range(m.K):
            sc.gb[k] = 0.0
        if ep.opt.kind == NORMALIZED:  # the batch's N, S, W first
            normalize_batch(ep, m, start, stop, like)
        for r in range(start, stop):
            i = ep.order[r]
            nnz = get_row(&ep.rows, i, &x, &xi)
            budget -= (nnz + 1) * m.K
            if budget < 0:
                budget = CHECK_WORK
                if stop_requested(ep):
                    out.status = INTERRUPTED
                    out.failed_at = s
                    return
            if not sparse:
                prefetch_ahead(ep, r, x)  # across batches too
            loss = row_loss(ep, m, x, xi, nnz, i, sc)
            if not (isfinite(loss) and isfinite(sc.p[0])):
                out.status = DIVERGED
                out.failed_at = s
                return
            sw = 1.0 if ep.sw == NULL else ep.sw[i]
            out.sumloss += loss * sw
            batch_loss += loss * sw
            batch_weight += sw
            for k in range(m.K):
                sc.gb[k] += sc.c[k]
                ck = sc.c[k]
                if ck == 0:
                    continue
                if sparse:
                    Gk = Gc + k * n_touched
                    for jj in range(nnz):
                        Gk[sc.mark[2 * xi[jj] + 1]] += ck * x[jj]
                else:
                    Gk = G + k * d
                    for jj in range(nnz):
                        Gk[jj] += ck * x[jj]
        for k in range(m.K):
            sc.gscale[k] = 1.0 / (stop - start)
            sc.gb[k] /= stop - start
        s += 1
        if sparse:
            update(ep, m, lz, sc, Gc, n_touched, sc.touched, n_touched, s)
        else:
            update(ep, m, lz, sc, G, d, NULL, d, s)
        out.n_updates += 1
        if exploded(out, batch_loss, batch_weight):
            out.status = EXPLODED
            out.failed_at = s - 1
            return
        start = stop

