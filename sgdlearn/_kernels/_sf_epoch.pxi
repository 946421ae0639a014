# The epoch-level side of schedule-free SGD and AdamW (part of
# _epoch_impl.pxi; the per-coordinate rules are in _schedulefree.pxd).
#
# Between calls (and epochs) the weights hold x, the point to predict with,
# and the last state slot holds y, the training point.  An epoch trains on y
# in the weights (sf_enter), and ends, once every coordinate is caught up,
# with y back in its slot and x = lerp(y, z, 1 - 1/beta) in the weights
# (sf_leave): validation scores, the penalty and the divergence checks of
# the final weights and the published coef_ all see x, and so does the
# epoch's loss when the stopping test needs it (Task.objective_at_x).  On
# sparse rows the y slot meanwhile holds the weight sum of each
# coordinate's last update (sf_catch_up in _schedulefree.pxd).

cdef inline bint is_schedule_free(int kind) noexcept nogil:
    return kind == SF_SGD or kind == SF_ADAMW


cdef inline Py_ssize_t sf_y_slot(int kind) noexcept nogil:
    """The state slot that keeps y between epochs: after z (and AdamW's v)."""
    return 1 if kind == SF_SGD else 2


cdef void sf_enter(const Epoch* ep, Model* m,
                   const floating* like) noexcept nogil:
    """The weights (and intercepts) take the training point y; on sparse
    rows the y slot then records the weight sum at each coordinate's last
    update (sf_catch_up), all the current one."""
    cdef Py_ssize_t j, k, s, ys = sf_y_slot(ep.opt.kind)
    cdef floating* W = <floating*> m.W
    cdef floating* S = <floating*> m.S
    cdef floating now = ep.upd.sf_wsum
    cdef bint sparse = ep.rows.indptr != NULL
    for k in range(m.K):
        for j in range(m.d):
            s = k * m.srow + ys * m.slot + j * m.sstep
            W[k * m.d + j] = S[s]
            if sparse:
                S[s] = now
        m.b[k] = m.Sb[k * m.srow_b + ys]


cdef void sf_leave(const Epoch* ep, Model* m,
                   const floating* like) noexcept nogil:
    """y (in the weights, every coordinate caught up) back to its slot, and
    the weights x = lerp(y, z, 1 - 1/beta)."""
    cdef Py_ssize_t j, k, s, ys = sf_y_slot(ep.opt.kind)
    cdef double beta = ep.opt.momentum if ep.opt.kind == SF_SGD else ep.opt.beta1
    cdef double w = 1.0 - 1.0 / beta
    cdef floating* W = <floating*> m.W
    cdef floating* S = <floating*> m.S
    cdef floating yj
    cdef double yb
    for k in range(m.K):
        for j in range(m.d):
            s = k * m.srow + j * m.sstep
            yj = W[k * m.d + j]
            S[s + ys * m.slot] = yj
            W[k * m.d + j] = sf_x(yj, S[s], w)
        yb = m.b[k]
        m.Sb[k * m.srow_b + ys] = yb
        m.b[k] = sf_x(yb, m.Sb[k * m.srow_b], w)


cdef double sf_training_loss(Epoch* ep, const Model* m, Scratch* sc,
                             const floating* like) noexcept nogil:
    """The summed weighted loss of the epoch's rows at the current weights
    (x): the objective that ``tol`` judges is the prediction point's."""
    cdef Py_ssize_t s, i
    cdef int nnz
    cdef const floating* x
    cdef const int* xi
    cdef double total = 0.0
    for s in range(ep.n_order):
        i = ep.order[s]
        nnz = get_row(&ep.rows, i, &x, &xi)
        prefetch_ahead(ep, s, x)
        total += row_loss(ep, m, x, xi, nnz, i, sc) * (
            1.0 if ep.sw == NULL else ep.sw[i])
    return total


cdef object sf_weight_table(Epoch* ep, Lazy* lz, Py_ssize_t n_updates):
    """lz.ws[s]: the weight sum after update s of the epoch (ws[0] before
    it), from the same operations as the updates' own (begin_update), for
    the sparse catch-up of y.  Returns the array, which must outlive the
    epoch."""
    cdef double[::1] ws = np.empty(n_updates + 1)
    cdef double lr_max = ep.upd.sf_lr_max, lr_pow = ep.upd.sf_lr_pow
    cdef double wsum = ep.upd.sf_wsum
    cdef Py_ssize_t r
    ws[0] = wsum
    for r in range(1, n_updates + 1):
        sf_advance(ep.upd.step + r, eta_at(&ep.sched, ep.task.t + r - 1),
                   ep.opt.sf_r, ep.opt.sf_power, &lr_max, &lr_pow, &wsum)
        ws[r] = wsum
    lz.ws = &ws[0]
    return ws
