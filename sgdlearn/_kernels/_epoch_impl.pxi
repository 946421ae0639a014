# The compiled training loops: one epoch per call, per-sample or mini-batch,
# dense or CSR rows, float32 or float64 (fused), every optimizer.
#
# Included by two modules built from it: _epoch (any x86-64 or aarch64) and
# _epoch_avx2 (AVX2 + FMA), chosen at import by _select.py.  Everything the
# loops call is either a ``cdef inline`` function of a .pxd (compiled into
# both, with each build's flags) or one of the files included below, so the
# C compiler sees the whole epoch and can inline across it:
#   _watch.pxi       Status, the divergence watch, the final weights' norms
#   _prefetch.pxi    how far ahead rows, weights and state are asked for
#   _loops.pxi       row loss, one update, the per-sample and batch epochs
#   _lazy_epoch.pxi  averaging and the lazy catch-up tables (see _lazy.pxd)
#   this file        the structs, the shape checks and ``fit_epoch``
#
# Python validates and prepares everything (dtypes, the shuffled row order,
# the state arrays) and calls ``fit_epoch`` by keyword; the kernel only
# loops, without the GIL.
#
# Typed pointers to the model: structs cannot be fused, so the arrays whose
# dtype is the input's (rows, targets, weights, state) are held as
# ``void*``, and every function that reads them takes a ``const floating*
# like`` argument whose only use is to pick the float32 or float64
# specialization (callers pass any pointer of that dtype, e.g. the weights).
# ``at(base, offset, like)`` is the typed, NULL-preserving pointer arithmetic
# on such a ``void*``.
from cpython.exc cimport PyErr_Occurred
from cython cimport floating
from libc.float cimport DBL_MAX, DBL_MIN
from libc.math cimport INFINITY, fabs, fmax, isfinite, log, log1p, sqrt
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

import numpy as np

from sgdlearn._kernels._lazy cimport (
    Lazy, Model, catch_up, clip_l1, fold_scale, tiny_scale)
from sgdlearn._kernels._loss cimport (
    LOG, MULTINOMIAL, SQUARED, loss_grad, softmax_grad)
from sgdlearn._kernels._normalized cimport (
    coord_rate, fexp, floor_x2, fpow, froot, logistic_update, rescale_factor,
    sgdl_norm_dense, squared_update)
from sgdlearn._kernels._optim cimport (
    ADADELTA, MOMENTUM, NADAM, NESTEROV, NORMALIZED, RMSPROP, SF_ADAMW, SF_SGD,
    SGD, Optim, Update, apply_update, begin_update, divisor_slot,
    start_updates)
from sgdlearn._kernels._schedulefree cimport sf_advance, sf_x
from sgdlearn._kernels._rows cimport (
    SGDL_PREFETCH, SGDL_PREFETCH_L2, Rows, dot, get_row, prefetch_row, sq_norm)
from sgdlearn._kernels._schedule cimport (
    PA1, PA2, Schedule, eta_at, eta_momentum_at, momentum_at)
from sgdlearn._kernels._shuffle cimport local_shuffle, shuffle


cdef struct Task:
    # The scalars of an epoch that Python sets (passed as a dict).
    double positive         # >= 0: y holds class indices and the target is
    #                         +1 for this class, -1 otherwise (one-vs-rest
    #                         problems share one label array)
    Py_ssize_t batch_size
    int loss
    double loss_param
    bint fit_intercept
    double intercept_decay
    double l1               # alpha * l1_ratio
    double average          # average updates t >= average; 0 disables
    double explode          # a window's mean loss past this many times the
    #                         all-zero model's (at least 1) is divergence;
    #                         0 disables the check and the reference losses
    #                         (not the non-finite tests)
    double t                # schedule step of the next update (sklearn t_)
    bint objective_at_x     # schedule-free: the epoch's loss is at x, after
    #                         the epoch (one more pass; for the stopping test)


cdef struct Epoch:
    # Everything the loops read: the task, pointers to the input, the
    # prefetch distances, the optimizer and its counters, the schedule.
    Task task               # task.t advances with every update
    Rows rows
    const void* y
    Py_ssize_t y_stride
    const double* sw        # per-sample weights (class x sample), or NULL
    const int* order        # rows to visit, in order
    Py_ssize_t n_order
    Py_ssize_t ahead        # rows to prefetch ahead into L1
    Py_ssize_t far          # rows to prefetch ahead into L2 (0: none)
    Py_ssize_t look         # CSR: rows ahead whose coordinates' weights and
    #                         state are prefetched into L2 (0: none)
    Optim opt
    Optim opt_b             # the intercept's when opt's FTRL penalties are
    bint own_b              # set (own_b): opt without them (any other
    #                         optimizer updates the intercept with opt)
    Update upd
    Schedule sched
    const volatile int* stop    # another thread sets stop[0] to end the
    #                             epoch early (INTERRUPTED); or NULL
    bint check_signals      # the main thread's loops run signal handlers
    double next_signal_check    # sgdl_seconds() of the next look


cdef struct Scratch:
    double* p               # (K,) scores of the current row
    double* c               # (K,) weighted loss gradients of the current row
    double* gscale          # (K,) gradient scale per output
    double* gb              # (K,) intercept gradients
    void* G                 # gradient accumulator (K, d) of a dense mini-batch
    void* Gc                # (K, n_touched) gradient of a sparse mini-batch,
    #                         at the touched coordinates' positions
    void* old               # (K, n) weights before the update (averaging)
    int* touched            # coordinates present in a sparse mini-batch
    int* mark               # (d, 2): the rank of column j's last non-zero in
    #                         the current sparse batch, and j's position in
    #                         touched (one cache line; see mark_batch)
    void* rates             # (K + 2, d + 1) NORMALIZED per sample: x_j r_j
    #                         of the current row, per output (and two rows
    #                         of fused_pass's copies)
    double* aux             # (K,) NORMALIZED: the log loss's exp(y p)


cdef struct Result:
    # What fit_epoch returns (as a dict).
    double sumloss          # summed weighted loss of the epoch's rows
    Py_ssize_t n_updates
    int status              # a Status
    Py_ssize_t failed_at    # the update (0-based, in this epoch) that diverged
    double t                # schedule step of the next update
    double reference        # mean loss of the all-zero model and of the
    double final            # final weights over the first rows of the order
    double sq_norm          # ||coef||^2 and ||coef||_1, final weights
    double l1_norm


cdef inline floating* at(void* base, Py_ssize_t offset,
                         const floating* like) noexcept nogil:
    return (<floating*> base) + offset if base != NULL else NULL


include "_watch.pxi"
include "_prefetch.pxi"
include "_normalized_epoch.pxi"
include "_loops.pxi"
include "_lazy_epoch.pxi"
include "_sf_epoch.pxi"


cdef check_shapes(const floating[::1] X_data, const int[::1] X_indices,
                  const int[::1] X_indptr, Py_ssize_t d, const floating[::1] y,
                  Py_ssize_t y_stride, const double[::1] sample_weight,
                  const int[::1] order, floating[:, ::1] coef,
                  double[::1] intercept, floating[:, :, ::1] coef_state,
                  bint interleaved, double[:, ::1] intercept_state,
                  floating[:, ::1] avg_coef, double[::1] avg_intercept,
                  double[::1] step, double[::1] counters, int kind):
    """The loops index through raw pointers: make sure every index they will
    follow is in range (O(n), once per epoch), whatever the build."""
    cdef Py_ssize_t n, s, n_slots, state_d, K = coef.shape[0]
    cdef int lo = 0, hi = 0
    if X_indptr.shape[0]:
        n = X_indptr.shape[0] - 1
        if X_indices.shape[0] != X_data.shape[0] or X_indptr[n] > X_data.shape[0]:
            raise ValueError("inconsistent CSR arrays")
    else:
        n = X_data.shape[0] // d if d else 0
        if n * d != X_data.shape[0]:
            raise ValueError("X_data is not n_samples x n_features")
    for s in range(order.shape[0]):
        lo = min(lo, order[s])
        hi = max(hi, order[s])
    if order.shape[0] and (lo < 0 or hi >= n):
        raise ValueError(f"row order has indices outside [0, {n})")
    if y.shape[0] < n * y_stride or (sample_weight.shape[0] not in (0, n)):
        raise ValueError("y or sample_weight do not match the rows of X")
    if coef.shape[1] != d or intercept.shape[0] != K:
        raise ValueError("coef or intercept do not match n_features / outputs")
    n_slots = coef_state.shape[2 if interleaved else 1]
    state_d = coef_state.shape[1 if interleaved else 2]
    if interleaved and not X_indptr.shape[0]:
        raise ValueError("interleaved optimizer state needs sparse X")
    if n_slots and (coef_state.shape[0] != K or state_d != d
                    or intercept_state.shape[0] != K
                    or intercept_state.shape[1] != n_slots):
        raise ValueError("optimizer state does not match coef")
    if avg_coef.shape[0] and (avg_coef.shape[0] != K or avg_coef.shape[1] != d
                              or avg_intercept.shape[0] != K):
        raise ValueError("averaged weights do not match coef")
    if step.shape[0] != 1:
        raise ValueError("step must be a float64 array of one element")
    if kind == NADAM and (counters is None or counters.shape[0] != 1):
        raise ValueError("NAdam needs counters: its mu_product, a float64 "
                         "array of one element")
    if is_schedule_free(kind) and (counters is None or counters.shape[0] != 2
                                   or n_slots != sf_y_slot(kind) + 1):
        raise ValueError("schedule-free needs counters (lr_max, weight_sum), "
                         "a float64 array of two elements, and its state "
                         "slots (z, [v,] y)")
    if kind == NORMALIZED and (counters is None or counters.shape[0] != 2):
        raise ValueError("the normalized rule needs counters: its S and W, a "
                         "float64 array of two elements")


def py_shuffle(int[::1] order, uint64_t seed, Py_ssize_t block=0,
               Py_ssize_t window=0):
    """Test hook: the in-place shuffle fit_epoch applies."""
    shuffle_order(order, seed, block, window)


cdef shuffle_order(int[::1] order, uint64_t seed, Py_ssize_t block,
                   Py_ssize_t window):
    """A full permutation (Fisher-Yates) of ``order`` in place, or with
    ``block`` > 0 the local shuffle of ``block``-row blocks permuted within
    windows of ``window`` blocks (_shuffle.pxd)."""
    cdef Py_ssize_t n = order.shape[0], nb
    cdef int* buf
    if n <= 1:
        return
    if block <= 0:
        with nogil:
            shuffle(&order[0], n, seed)
        return
    if window < 1:
        raise ValueError("a local shuffle needs a window of at least 1 block")
    nb = (n + block - 1) // block
    buf = <int*> malloc((n + nb) * sizeof(int))
    if buf == NULL:
        raise MemoryError("no memory for the shuffled row order")
    with nogil:
        local_shuffle(&order[0], buf, buf + n, n, block, window, seed)
    free(buf)


cdef void set_input(Epoch* ep, const floating[::1] X_data,
                    const int[::1] X_indices, const int[::1] X_indptr,
                    Py_ssize_t d, const floating[::1] y, Py_ssize_t y_stride,
                    const double[::1] sample_weight, const int[::1] order):
    """Point ``ep`` at the rows, targets, sample weights and row order."""
    cdef bint sparse = X_indptr.shape[0] > 0
    ep.rows.data = <const void*> &X_data[0] if X_data.shape[0] else NULL
    ep.rows.indices = &X_indices[0] if sparse and X_indices.shape[0] else NULL
    ep.rows.indptr = &X_indptr[0] if sparse else NULL
    ep.rows.n_features = d
    ep.y = <const void*> &y[0] if y.shape[0] else NULL
    ep.y_stride = y_stride
    ep.sw = &sample_weight[0] if sample_weight.shape[0] else NULL
    ep.order = &order[0] if order.shape[0] else NULL
    ep.n_order = order.shape[0]


cdef void set_model(Model* m, floating[:, ::1] coef, double[::1] intercept,
                    floating[:, :, ::1] coef_state, bint interleaved,
                    double[:, ::1] intercept_state, floating[:, ::1] avg_coef,
                    double[::1] avg_intercept):
    """Point ``m`` at the state arrays; a fresh scale, average and L1 sum."""
    cdef Py_ssize_t d = coef.shape[1]
    cdef Py_ssize_t n_slots = coef_state.shape[2 if interleaved else 1]
    cdef bint averaging = avg_coef.shape[0] > 0
    m.W = <void*> &coef[0, 0]
    m.S = <void*> &coef_state[0, 0, 0] if n_slots else NULL
    m.AW = <void*> &avg_coef[0, 0] if averaging else NULL
    m.Q = NULL
    m.b = &intercept[0]
    m.Sb = &intercept_state[0, 0] if intercept_state.shape[1] else NULL
    m.Ab = &avg_intercept[0] if averaging else NULL
    m.K = <int> coef.shape[0]
    m.d = d
    m.slot = 1 if interleaved else d
    m.sstep = n_slots if interleaved else 1
    m.srow = n_slots * d
    m.srow_b = intercept_state.shape[1]
    m.wscale = 1.0
    m.avg_a = 0.0
    m.avg_b = 1.0
    m.u = 0.0


cdef object make_scratch(Epoch* ep, Model* m, Scratch* sc, const floating* like):
    """Allocate the epoch's work arrays (and the L1 record Q unless the
    caller keeps one); returns them, and they must outlive the epoch."""
    cdef Py_ssize_t K = m.K, d = m.d
    cdef bint sparse = ep.rows.indptr != NULL
    cdef double[::1] p, c, gscale, gb, aux
    cdef floating[:, ::1] G, Gc, old, Q, rates
    cdef int[::1] touched, mark
    dtype = np.float32 if floating is float else np.float64
    p, c, gscale, gb, aux = [np.zeros(K) for _ in range(5)]
    keep = [p, c, gscale, gb, aux]
    sc.p, sc.c, sc.gscale, sc.gb = &p[0], &c[0], &gscale[0], &gb[0]
    sc.aux = &aux[0]
    sc.G = sc.Gc = sc.old = NULL
    sc.touched = sc.mark = NULL
    sc.rates = NULL
    if ep.opt.kind == NORMALIZED:
        rates = np.zeros((K + 2, d + 1), dtype=dtype)
        sc.rates = <void*> &rates[0, 0]
        keep.append(rates)
    if ep.task.batch_size > 1 and sparse:
        Gc = np.empty((K, d), dtype=dtype)
        touched = np.empty(d, dtype=np.intc)
        mark = np.empty(2 * d, dtype=np.intc)
        sc.Gc, sc.touched, sc.mark = <void*> &Gc[0, 0], &touched[0], &mark[0]
        keep += [Gc, touched, mark]
    elif ep.task.batch_size > 1:
        G = np.zeros((K, d), dtype=dtype)
        sc.G = <void*> &G[0, 0]
        keep.append(G)
    if m.AW != NULL:
        old = np.zeros((K, d), dtype=dtype)
        sc.old = <void*> &old[0, 0]
        keep.append(old)
    if ep.task.l1 > 0 and m.Q == NULL:
        Q = np.zeros((K, d), dtype=dtype)
        m.Q = <void*> &Q[0, 0]
        keep.append(Q)
    return keep


cdef object make_lazy(Epoch* ep, Model* m, Lazy* lz, Py_ssize_t n_updates):
    """Sparse optimizers whose skipped updates move a coordinate (momentum
    drift, RMSProp's and Adadelta's decay) are caught up in closed form: the per-coordinate
    last-update record and the epoch's tables, kept alive by the result."""
    cdef int[::1] last
    memset(lz, 0, sizeof(Lazy))
    if ep.rows.indptr == NULL or ep.opt.kind not in (
            MOMENTUM, NESTEROV, RMSPROP, ADADELTA, SF_SGD, SF_ADAMW):
        return None
    if ep.opt.kind == SF_SGD:  # its last updates' weight sums are in S
        return lazy_tables(ep, m, lz, n_updates)
    last = np.zeros(m.d, dtype=np.intc)
    lz.last = &last[0]
    return [last, lazy_tables(ep, m, lz, n_updates)]


cdef void set_run(Epoch* ep, Optim optim, Schedule schedule, Task task,
                  bint averaging, double step, double mu_product,
                  const int[::1] stop, bint check_signals):
    """The structs, the optimizer's counters from ``step`` updates, and the
    interruption: the loops return early (status INTERRUPTED) once
    ``stop[0]`` (set by another thread) is non-zero, and with
    ``check_signals`` (main thread only) run Python's signal handlers every
    50 ms."""
    ep.task = task
    if not averaging:
        ep.task.average = 0.0
    ep.opt = optim
    ep.opt_b = optim
    ep.opt_b.ftrl_l1 = ep.opt_b.ftrl_l2 = 0.0
    ep.own_b = optim.ftrl_l1 != 0 or optim.ftrl_l2 != 0
    start_updates(&ep.opt, &ep.upd, step, mu_product)
    ep.sched = schedule
    ep.stop = &stop[0] if stop is not None and stop.shape[0] else NULL
    ep.check_signals = check_signals
    ep.next_signal_check = 0.0


cdef set_l1_record(Model* m, floating[:, ::1] coef, floating[:, ::1] applied,
                   double[::1] accrued, bint l1):
    """With an L1 penalty, ``applied`` (shaped like coef) and ``accrued``
    (one float64) carry the cumulative penalty (Tsuruoka et al.'s q and u)
    from epoch to epoch of one call, updated in place; without them a lone
    epoch starts from zeros (make_scratch)."""
    if not l1 or applied is None:
        return
    if (applied.shape[0] != coef.shape[0] or applied.shape[1] != coef.shape[1]
            or accrued is None or accrued.shape[0] != 1):
        raise ValueError("l1_applied must be shaped like coef, with a "
                         "one-element l1_accrued")
    m.Q = <void*> &applied[0, 0]
    m.u = accrued[0]


def fit_epoch(*, const floating[::1] X_data, const int[::1] X_indices,
              const int[::1] X_indptr, Py_ssize_t n_features,
              const floating[::1] y, Py_ssize_t y_stride,
              const double[::1] sample_weight, int[::1] order,
              floating[:, ::1] coef, double[::1] intercept,
              floating[:, :, ::1] coef_state, double[:, ::1] intercept_state,
              bint state_interleaved=False,
              floating[:, ::1] avg_coef, double[::1] avg_intercept,
              double[::1] step, double[::1] counters=None, Optim optim,
              Schedule schedule, Task task,
              object shuffle_seed=None, Py_ssize_t shuffle_block=0,
              Py_ssize_t shuffle_window=0, floating[:, ::1] l1_applied=None,
              double[::1] l1_accrued=None, const int[::1] stop=None,
              bint check_signals=False):
    """Run one epoch over the rows ``order`` and update the state in place.

    With a ``shuffle_seed`` (a 64-bit integer), ``order`` is first shuffled
    in place (Fisher-Yates), so it holds the order the epoch used; with
    ``shuffle_block`` > 0 too, by blocks of that many rows permuted within
    windows of ``shuffle_window`` blocks (``shuffle="local"``).

    Dense X is passed flattened, with empty ``X_indices`` and ``X_indptr``.
    An empty ``sample_weight``, ``coef_state`` or ``avg_coef`` means unit
    weights, a stateless optimizer, no averaging.  ``coef_state`` is (K,
    n_slots, d), or (K, d, n_slots) with ``state_interleaved`` (sparse X
    only: a sparse update then reads one cache line per coordinate).
    ``step`` (one float64) is the optimizer's update count, advanced in
    place; ``counters`` the optimizer's other running scalars (NAdam: its
    mu_product), advanced in place.  ``optim``, ``schedule`` and ``task`` are the Optim, Schedule and
    Task structs.  ``l1_applied`` and ``l1_accrued``: see set_l1_record.
    ``stop`` and ``check_signals``: see set_run; an interrupted epoch leaves
    the arrays partly updated (the caller discards them) and raises what a
    signal handler raised.  Returns the Result struct as a dict.
    """
    cdef Epoch ep
    cdef Model m
    cdef Lazy lz
    cdef Scratch sc
    cdef Outcome out
    cdef Result res
    cdef Py_ssize_t d = n_features, n_updates
    cdef Py_ssize_t n_slots = coef_state.shape[2 if state_interleaved else 1]
    cdef bint sparse = X_indptr.shape[0] > 0
    check_shapes(X_data, X_indices, X_indptr, n_features, y, y_stride,
                 sample_weight, order, coef, intercept, coef_state,
                 state_interleaved, intercept_state, avg_coef, avg_intercept,
                 step, counters, optim.kind)
    if shuffle_seed is not None:
        shuffle_order(order, <uint64_t> shuffle_seed, shuffle_block,
                      shuffle_window)
    set_input(&ep, X_data, X_indices, X_indptr, d, y, y_stride,
              sample_weight, order)
    set_run(&ep, optim, schedule, task, avg_coef.shape[0] > 0, step[0],
            counters[0] if optim.kind == NADAM else 1.0,
            stop, check_signals)
    if optim.kind == NORMALIZED:
        ep.upd.norm_S = counters[0]
        ep.upd.norm_W = counters[1]
    set_model(&m, coef, intercept, coef_state, state_interleaved,
              intercept_state, avg_coef, avg_intercept)
    if is_schedule_free(optim.kind):  # _sf_epoch.pxi: train on y
        ep.upd.sf_lr_max, ep.upd.sf_wsum = counters[0], counters[1]
        ep.upd.sf_lr_pow = ep.upd.sf_lr_max ** optim.sf_power
        sf_enter(&ep, &m, &coef[0, 0])
    set_l1_record(&m, coef, l1_applied, l1_accrued, ep.task.l1 > 0)
    prefetch_policy(&ep, X_indptr.shape[0] - 1 if sparse else
                    X_data.shape[0] // max(d, 1), X_data.shape[0],
                    sizeof(floating),
                    coef.shape[0] * d * (1 + n_slots) * sizeof(floating))
    keep = make_scratch(&ep, &m, &sc, &coef[0, 0])
    n_updates = ep.n_order
    if ep.task.batch_size > 1:
        n_updates = (ep.n_order + ep.task.batch_size - 1) // ep.task.batch_size
    start_watch(&ep, &m, &sc, &out, &res, n_updates, &coef[0, 0])
    lazy_keep = make_lazy(&ep, &m, &lz, n_updates)
    with nogil:
        if ep.task.batch_size > 1:
            run_batches(&ep, &m, &lz, &sc, &out, &coef[0, 0])
        else:
            run_per_sample(&ep, &m, &lz, &sc, &out, &coef[0, 0])
        settle(&ep, &m, &lz, &sc, &out, &res, &coef[0, 0])
        if (is_schedule_free(optim.kind) and out.status == OK
                and ep.task.objective_at_x):
            out.sumloss = sf_training_loss(&ep, &m, &sc, &coef[0, 0])
    if out.status == INTERRUPTED:
        raise_pending()
    step[0] = ep.upd.step
    if optim.kind == NADAM:
        counters[0] = ep.upd.mu_product
    elif is_schedule_free(optim.kind):
        counters[0], counters[1] = ep.upd.sf_lr_max, ep.upd.sf_wsum
    elif optim.kind == NORMALIZED:
        counters[0] = ep.upd.norm_S
        counters[1] = ep.upd.norm_W
    if m.Q != NULL and l1_accrued is not None:
        l1_accrued[0] = m.u
    res.sumloss, res.n_updates = out.sumloss, out.n_updates
    res.status, res.failed_at = out.status, out.failed_at
    res.t = ep.task.t
    return res
