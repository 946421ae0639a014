# The divergence watch and the weight norms (part of _epoch_impl.pxi): how an
# epoch notices that training diverged, and the norms of the final weights.

cpdef enum Status:
    OK = 0
    DIVERGED = 1            # a non-finite loss or weights
    EXPLODED = 2            # the loss grew past Watch.limit
    OVERFLOWED = 3          # an adaptive optimizer's squared-gradient state
    #                         overflowed (its steps became zero)
    INTERRUPTED = 4         # stopped on request (Epoch.stop) or by a signal
    #                         handler that raised (the exception is set)


cdef extern from *:
    """
    /* Seconds on a monotonic clock, without the GIL: when the main thread
       last looked for pending signals. */
    #if defined(_WIN32)
    #include <windows.h>
    static double sgdl_seconds(void) { return 1e-3 * (double) GetTickCount64(); }
    #else
    #include <time.h>
    static double sgdl_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
    }
    #endif
    """
    double sgdl_seconds() noexcept nogil


cdef extern from "Python.h":
    # Declared here without an exception value: a nogil loop calls it under
    # ``with gil`` and leaves the handler's exception set for fit_epoch.
    int PyErr_CheckSignals() noexcept


# The loops look for a stop request after about this many coordinate
# updates (rows x non-zeros x outputs: 0.1 to 1 ms of work), and, on the
# main thread, for pending signals at most every SIGNAL_INTERVAL seconds
# (taking the GIL, which can wait for another thread's switch interval).
cdef Py_ssize_t CHECK_WORK = 1 << 18
cdef double SIGNAL_INTERVAL = 0.05


cdef struct Watch:
    double limit            # mean loss of a window that counts as exploded
    Py_ssize_t window       # updates per window
    Py_ssize_t count
    double loss_sum
    double weight_sum


cdef struct Outcome:
    double sumloss
    Py_ssize_t n_updates
    int status
    Py_ssize_t failed_at
    Watch watch


cdef bint stop_requested(Epoch* ep) noexcept nogil:
    """Whether another thread asked the epoch to stop, or (main thread
    only) a signal handler raised: then the loops return INTERRUPTED and
    fit_epoch raises the handler's exception."""
    cdef double now
    cdef int raised = 0
    if ep.stop != NULL and ep.stop[0]:
        return True
    if not ep.check_signals:
        return False
    now = sgdl_seconds()
    if now < ep.next_signal_check:
        return False
    ep.next_signal_check = now + SIGNAL_INTERVAL
    with gil:
        raised = PyErr_CheckSignals() < 0
    return raised


cdef int raise_pending() except -1:
    """Propagate the exception a signal handler raised in the loops."""
    return -1 if PyErr_Occurred() != NULL else 0


cdef inline bint exploded(Outcome* out, double loss_sum,
                          double weight_sum) noexcept nogil:
    """Account one update's weighted loss; at the end of each window,
    whether the window's mean loss is past the limit."""
    cdef Watch* w = &out.watch
    cdef double mean
    w.loss_sum += loss_sum
    w.weight_sum += weight_sum
    w.count += 1
    if w.count < w.window:
        return False
    mean = w.loss_sum / w.weight_sum if w.weight_sum > 0 else 0.0
    w.count = 0
    w.loss_sum = w.weight_sum = 0.0
    return mean > w.limit


cdef void start_watch(const Epoch* ep, const Model* m, Scratch* sc,
                      Outcome* out, Result* res, Py_ssize_t n_updates,
                      const floating* like) noexcept nogil:
    """A fresh outcome and result; the watch's window (a quarter of the
    epoch, 1 to 256 updates) and its limit, from the all-zero model's loss."""
    memset(out, 0, sizeof(Outcome))
    memset(res, 0, sizeof(Result))
    out.watch.window = max(1, min(256, n_updates // 4))
    out.watch.limit = INFINITY
    if ep.task.explode > 0:
        res.reference = reference_loss(ep, m, sc, True, like)
        out.watch.limit = ep.task.explode * max(1.0, res.reference)


cdef double reference_loss(const Epoch* ep, const Model* m, Scratch* sc,
                           bint zero_model, const floating* like) noexcept nogil:
    """Mean weighted loss over the first rows of the order (1/64 of them,
    8 to 256), of the all-zero model or of the current weights: the scale
    against which an exploding loss is judged, and the loss the epoch ended
    at.  Few rows, so that the two evaluations of an epoch stay a small
    fraction of its forward work."""
    cdef Py_ssize_t s, i, n = min(ep.n_order, min(256, max(8, ep.n_order // 64)))
    cdef int k, nnz
    cdef double total = 0.0, weights = 0.0, sw, dloss, row
    cdef const floating* y
    cdef const floating* x
    cdef const int* xi
    if zero_model and ep.task.loss == MULTINOMIAL:
        return log(<double> m.K)
    for s in range(n):
        i = ep.order[s]
        sw = 1.0 if ep.sw == NULL else ep.sw[i]
        if zero_model:
            y = (<const floating*> ep.y) + i * ep.y_stride
            row = 0.0
            for k in range(m.K):
                row += loss_grad(ep.task.loss, 0.0, target(ep, y, k),
                                 ep.task.loss_param, &dloss)
        else:
            nnz = get_row(&ep.rows, i, &x, &xi)
            row = row_loss(ep, m, x, xi, nnz, i, sc)
        total += sw * row
        weights += sw
    return total / weights if weights > 0 else 0.0


cdef inline bint all_finite(const floating* v, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        if not isfinite(v[j]):
            return False
    return True


cdef inline bint finite_norms(const floating* v, Py_ssize_t n, double* sq,
                              double* l1) noexcept nogil:
    """all_finite, and ||v||^2 and ||v||_1 in double from the same pass
    (the objective's penalty: one pass over the weights instead of two,
    which partial_fit on 2**18 hashed features pays on every call).  No
    early exit and two lanes per sum, so the loop pipelines.  Finiteness is
    |x| <= DBL_MAX, false for inf and NaN: the AVX2 build's
    -fassociative-math folds the shorter x - x == 0 test to true."""
    cdef Py_ssize_t j = 0
    cdef double x, y, a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0
    cdef bint ok = True
    while j + 2 <= n:
        x = v[j]
        y = v[j + 1]
        a0 += x * x
        a1 += y * y
        b0 += fabs(x)
        b1 += fabs(y)
        ok = ok & (fabs(x) <= DBL_MAX) & (fabs(y) <= DBL_MAX)
        j += 2
    if j < n:
        x = v[j]
        a0 += x * x
        b0 += fabs(x)
        ok = ok & (fabs(x) <= DBL_MAX)
    sq[0] = a0 + a1
    l1[0] = b0 + b1
    return ok


cdef bint second_moment_finite(const Epoch* ep, const Model* m,
                               const floating* like) noexcept nogil:
    """Whether the squared-gradient state an adaptive optimizer divides by
    (AdaGrad's sum, RMSProp's, Adadelta's and the Adam family's second
    moment, AMSGrad's and Adamax's maximum) is finite.  Gradients past sqrt(DBL_MAX) = 1.3e154 (float32: 1.8e19)
    make it infinite, and every later step of the coordinate zero: the
    weights stay finite and untrained, so their check cannot see it.  It
    stays infinite once it is (sums, decays and maxima of infinity), so
    looking at the end of the epoch suffices; an epoch that diverged
    earlier looks too, to name this cause."""
    cdef int k, nnz, kind = ep.opt.kind
    cdef Py_ssize_t j, s, jj, slot = 0, touched = 0
    cdef const floating* v
    cdef const floating* x
    cdef const int* xi
    cdef bint ok = True
    slot = divisor_slot(kind)
    if slot < 0 or m.S == NULL:
        return True
    if ep.rows.indptr != NULL:
        # On CSR only the epoch's columns changed (the lazy catch-ups only
        # decay): look at those when they are fewer than all (partial_fit
        # of a few rows on 2**18 hashed columns: 500 checks, not 262144).
        for s in range(ep.n_order):
            touched += ep.rows.indptr[ep.order[s] + 1] - ep.rows.indptr[ep.order[s]]
    for k in range(m.K):
        v = at(m.S, k * m.srow + slot * m.slot, like)
        if 0 < touched < m.d:
            for s in range(ep.n_order):
                nnz = get_row(&ep.rows, ep.order[s], &x, &xi)
                for jj in range(nnz):
                    ok = ok & (fabs(v[xi[jj] * m.sstep]) <= DBL_MAX)
        else:
            for j in range(m.d):
                ok = ok & (fabs(v[j * m.sstep]) <= DBL_MAX)
        if m.Sb != NULL:
            ok = ok & (fabs(m.Sb[k * m.srow_b + slot]) <= DBL_MAX)
    return ok


cdef void settle(Epoch* ep, Model* m, Lazy* lz, Scratch* sc, Outcome* out,
                 Result* res, const floating* like) noexcept nogil:
    """After the loops: settle what was left lazy and fold the scale, so the
    arrays hold true values; then judge the final weights and take their
    norms."""
    cdef floating* W = <floating*> m.W
    if out.status != OK:
        if out.status != INTERRUPTED and not second_moment_finite(ep, m, W):
            out.status = OVERFLOWED  # the cause, when it is that
        return
    if ep.rows.indptr != NULL:
        catch_up(m, lz, &ep.opt, NULL, m.d, out.n_updates, W)
        if ep.task.l1 > 0:
            clip_l1(m, NULL, m.d, True, W)
    fold_scale(m, W)
    if is_schedule_free(ep.opt.kind):  # the weights become x (_sf_epoch.pxi)
        sf_leave(ep, m, W)
    if not second_moment_finite(ep, m, W):
        out.status = OVERFLOWED
        out.failed_at = out.n_updates
    elif not (finite_norms(W, m.K * m.d, &res.sq_norm, &res.l1_norm)
            and all_finite(m.b, m.K)):
        out.status = DIVERGED
        out.failed_at = out.n_updates
    elif ep.task.explode > 0:
        # The last updates' effect is not in any loss seen so far.
        res.final = reference_loss(ep, m, sc, False, W)
        if not isfinite(res.final) or res.final > out.watch.limit:
            out.status = EXPLODED
            out.failed_at = out.n_updates
