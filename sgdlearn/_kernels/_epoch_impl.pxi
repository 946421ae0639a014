# The compiled training loops: one epoch per call, per-sample or mini-batch,
# dense or CSR rows, float32 or float64 (fused), every optimizer.
#
# Included by two modules built from it: _epoch (any x86-64 or aarch64) and
# _epoch_avx2 (AVX2 + FMA), chosen at import by _select.py.
#
# Python validates and prepares everything (dtypes, the shuffled row order,
# the state arrays) and calls ``fit_epoch`` by keyword; this module only
# loops, without the GIL.
from cython cimport floating
from libc.float cimport DBL_MAX
from libc.math cimport INFINITY, fabs, isfinite, log
from libc.string cimport memset

import numpy as np

from sgdlearn._kernels._loss cimport loss_grad, softmax_grad, MULTINOMIAL
from sgdlearn._kernels._schedule cimport Schedule, eta_at, PA1, PA2
from sgdlearn._kernels._optim cimport (
    Optim, begin_update, apply_update, SGD, MOMENTUM, NESTEROV, RMSPROP)
from sgdlearn._kernels._rows cimport (
    Rows, SGDL_PREFETCH, SGDL_PREFETCH_L2, get_row, prefetch_row, dot, sq_norm)
from sgdlearn._kernels._lazy cimport (
    Model, Lazy, catch_up, clip_l1, fold_scale)
from sgdlearn._kernels._shuffle cimport shuffle
from libc.stdint cimport uint64_t

cdef double MAX_DLOSS = 1e12
# Bytes of upcoming rows to keep in flight: enough to hide DRAM latency on
# shuffled rows, small enough not to evict the weights from L1/L2.  CSR rows
# (100k x 2**18, 50 non-zeros): 4 KiB into L1.  Dense rows are asked for in
# two steps, 12 KiB ahead into L2 (more miss buffers than L1) and 2 KiB
# ahead from there into L1: on 100k x 100 float64 this took the shuffled
# plain-SGD epoch from 20 to 15 ms and mini-batch-256 Adam's from 20 to 14
# (one ask, 4 KiB ahead, into L1 had been the best of that kind: 1 row
# ahead 14.4 ms, 4 KiB 10.7 ms on an earlier, quieter day).
cdef Py_ssize_t SPARSE_PREFETCH_BYTES = 4096
cdef Py_ssize_t DENSE_PREFETCH_BYTES = 2048
cdef Py_ssize_t DENSE_L2_PREFETCH_BYTES = 12288
# Above this many bytes of weights and optimizer state, a CSR update's
# lines are prefetched a few rows ahead into L2 (prefetch_coordinates);
# below, they mostly sit in L2 already and only the current row's state is
# prefetched into L1.  Per-sample epochs on 100k rows of 50 non-zeros,
# lookahead / current row, paired in one process: 2**18 columns, lazy Adam
# 0.62 and 0.75, momentum 0.62, plain SGD 0.85 (rows of 10 and 25
# non-zeros: 0.73 to 0.92; of 100 and 200: 0.87 and 0.79); 65536 columns
# 1.03; 16384 and 4096 columns 1.15 and 1.23 to 1.33.
cdef Py_ssize_t L2_RESIDENT_BYTES = 1 << 20

cpdef enum Status:
    OK = 0
    DIVERGED = 1            # a non-finite loss or weights
    EXPLODED = 2            # the loss grew past Watch.limit


cdef struct Task:
    Rows rows
    const void* y
    Py_ssize_t y_stride
    double positive         # >= 0: y holds class indices and the target is
    #                         +1 for this class, -1 otherwise (one-vs-rest
    #                         problems share one label array)
    const double* sw        # per-sample weights (class x sample), or NULL
    const int* order        # rows to visit, in order
    Py_ssize_t n_order
    Py_ssize_t ahead        # rows to prefetch ahead into L1
    Py_ssize_t far          # rows to prefetch ahead into L2 (0: none)
    Py_ssize_t look         # CSR: rows ahead whose coordinates' weights and
    #                         state are prefetched into L2 (0: none)
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
    Optim opt
    Schedule sched


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


cdef inline floating* at(void* base, Py_ssize_t offset,
                         const floating* like) noexcept nogil:
    return (<floating*> base) + offset if base != NULL else NULL


cdef inline void prefetch_sample(const Task* tk, Py_ssize_t s,
                                 const floating* like) noexcept nogil:
    """Prefetch what visiting ``order[s]`` needs.  A CSR row's address is
    itself loaded from ``indptr[order[s]]``: that entry is prefetched twice
    as far ahead, so finding the row never waits on memory (a wait here was
    a third of the loop's own time with lazy Adam on 2**18 features)."""
    cdef Py_ssize_t i = tk.order[s]
    if tk.rows.indptr != NULL and s + tk.ahead < tk.n_order:
        SGDL_PREFETCH(tk.rows.indptr + tk.order[s + tk.ahead])
    prefetch_row(&tk.rows, i, like)
    SGDL_PREFETCH((<const floating*> tk.y) + i * tk.y_stride)
    if tk.sw != NULL:
        SGDL_PREFETCH(tk.sw + i)


cdef inline void prefetch_ahead(const Task* tk, Py_ssize_t s,
                                const floating* like) noexcept nogil:
    """While visiting ``order[s]``, prefetch the rows to come.  Their
    targets and weights go to L2 with the far rows too: y is read at random
    and the rows streaming through L2 evict it (plain SGD on 100k x 100
    float64: paired 0.96 in two A/Bs)."""
    cdef Py_ssize_t i
    if s + tk.ahead < tk.n_order:
        prefetch_sample(tk, s + tk.ahead, like)
    if tk.far and s + tk.far < tk.n_order:
        i = tk.order[s + tk.far]
        prefetch_row(&tk.rows, i, like, True)
        SGDL_PREFETCH_L2((<const floating*> tk.y) + i * tk.y_stride)
        if tk.sw != NULL:
            SGDL_PREFETCH_L2(tk.sw + i)


cdef inline void prefetch_coordinate(const Model* m, const Lazy* lz,
                                     Py_ssize_t j,
                                     const floating* like) noexcept nogil:
    """Ask for the lines an update will touch at column j: weights,
    optimizer state, average, L1 record, last-update counter.  Into L2
    only: prefetcht0 of the same lines filled L1's miss buffers and was
    slower (lazy Adam on 2**18 columns, next row into L1: +3%, into L2:
    -25%)."""
    cdef int k
    if lz.last != NULL:
        SGDL_PREFETCH_L2(lz.last + j)
    for k in range(m.K):
        SGDL_PREFETCH_L2(at(m.W, k * m.d + j, like))
        if m.S != NULL:
            SGDL_PREFETCH_L2(at(m.S, k * m.srow + j * m.sstep, like))
        if m.AW != NULL:
            SGDL_PREFETCH_L2(at(m.AW, k * m.d + j, like))
        if m.Q != NULL:
            SGDL_PREFETCH_L2(at(m.Q, k * m.d + j, like))


cdef inline void prefetch_coordinates(const Task* tk, const Model* m,
                                      const Lazy* lz, Py_ssize_t i,
                                      const floating* like) noexcept nogil:
    """prefetch_coordinate at each column of CSR row i."""
    cdef const floating* x
    cdef const int* xi
    cdef int nnz = get_row(&tk.rows, i, &x, &xi)
    cdef Py_ssize_t jj
    for jj in range(nnz):
        prefetch_coordinate(m, lz, xi[jj], like)


cdef inline double target(const Task* tk, const floating* y,
                          int k) noexcept nogil:
    if tk.positive < 0:
        return y[k]
    return 1.0 if y[0] == tk.positive else -1.0


cdef double row_loss(const Task* tk, const Model* m, const floating* x,
                     const int* xi, int nnz, Py_ssize_t i,
                     Scratch* sc) noexcept nogil:
    """Scores of row i, weighted and clipped loss gradients in sc.c, and the
    unweighted loss."""
    cdef int k
    cdef const floating* W = <const floating*> m.W
    cdef const floating* y = (<const floating*> tk.y) + i * tk.y_stride
    cdef double loss = 0.0, sw = 1.0 if tk.sw == NULL else tk.sw[i]
    cdef double* p = sc.p
    cdef double* c = sc.c
    for k in range(m.K):
        p[k] = dot(W + k * m.d, x, xi, nnz) * m.wscale + m.b[k]
    if tk.loss == MULTINOMIAL:
        loss = softmax_grad(p, m.K, <int> y[0], c)
    else:
        for k in range(m.K):
            loss += loss_grad(tk.loss, p[k], target(tk, y, k), tk.loss_param,
                              &c[k])
    for k in range(m.K):
        c[k] = min(MAX_DLOSS, max(-MAX_DLOSS, c[k])) * sw
    return loss


cdef void average_update(Task* tk, Model* m, const int* idx, Py_ssize_t n,
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


cdef inline double tiny_scale(const floating* like) noexcept nogil:
    """Below this wscale, fold it into the weights before precision goes."""
    if floating is float:
        return 1e-6
    else:
        return 1e-9


cdef void update(Task* tk, Model* m, Lazy* lz, Scratch* sc, const floating* G,
                 Py_ssize_t g_stride, const int* idx, Py_ssize_t n,
                 Py_ssize_t s) noexcept nogil:
    """Update number s of the epoch on coordinates idx[:n] (all when NULL):
    row k's loss gradient is sc.gscale[k] * G[k * g_stride + jj]."""
    cdef int k
    cdef Py_ssize_t jj, j, d = m.d, slot = m.slot, sr
    cdef double eta = eta_at(&tk.sched, tk.t), one = 1.0, n_avg = 0.0
    cdef floating* W = <floating*> m.W
    cdef floating* old = <floating*> sc.old
    begin_update(&tk.opt, eta)
    if tk.opt.decay > 0:
        # Never a negative scale when eta * alpha is large: zero instead.
        m.wscale *= max(0.0, 1.0 - tk.opt.decay * eta)
        if m.wscale < tiny_scale(W):
            fold_scale(m, W)
    if tk.average > 0 and tk.t >= tk.average:
        n_avg = tk.t - tk.average + 1
        for k in range(m.K):
            for jj in range(n):
                j = jj if idx == NULL else idx[jj]
                old[k * n + jj] = W[k * d + j]
    for k in range(m.K):
        if tk.opt.kind == SGD and sc.gscale[k] == 0:
            continue
        sr = k * m.srow
        apply_update(&tk.opt, tk.opt.l2, 1.0 / m.wscale, W + k * d,
                     at(m.S, sr, W), at(m.S, sr + slot, W),
                     at(m.S, sr + 2 * slot, W), m.sstep, G + k * g_stride,
                     sc.gscale[k], idx, n)
    if tk.fit_intercept:
        for k in range(m.K):
            apply_update(&tk.opt, 0.0, tk.intercept_decay, &m.b[k],
                         at(m.Sb, k * m.srow_b, &one),
                         at(m.Sb, k * m.srow_b + 1, &one),
                         at(m.Sb, k * m.srow_b + 2, &one), 1,
                         &one, sc.gb[k], NULL, 1)
    if tk.l1 > 0:
        m.u += tk.l1 * eta
        clip_l1(m, idx, n, False, W)
    if n_avg >= 1:
        average_update(tk, m, idx, n, old, n_avg)
    if lz.last != NULL:
        for jj in range(n):
            lz.last[idx[jj]] = <int> s
    tk.t += 1


cdef void pa_rescale(Task* tk, Scratch* sc, const floating* x, int nnz,
                     double loss) noexcept nogil:
    """Passive-aggressive step (Crammer et al. 2006): the rate comes from the
    loss, expressed as a rescaled gradient under the constant rate eta0."""
    cdef double xnorm = sq_norm(x, nnz), step
    if tk.sched.kind == PA1:
        step = min(tk.sched.eta0, loss / xnorm)
    else:
        step = loss / (xnorm + 0.5 / tk.sched.eta0)
    sc.c[0] *= step / tk.sched.eta0


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


cdef double reference_loss(const Task* tk, const Model* m, Scratch* sc,
                           bint zero_model, const floating* like) noexcept nogil:
    """Mean weighted loss over the first rows of the order (1/64 of them,
    8 to 256), of the all-zero model or of the current weights: the scale
    against which an exploding loss is judged, and the loss the epoch ended
    at.  From 512 rows up, the two evaluations of an epoch cost ~3% of its
    forward work (on fewer rows, 16 rows' worth: microseconds)."""
    cdef Py_ssize_t s, i, n = min(tk.n_order, min(256, max(8, tk.n_order // 64)))
    cdef int k, nnz
    cdef double total = 0.0, weights = 0.0, sw, dloss, row
    cdef const floating* y
    cdef const floating* x
    cdef const int* xi
    if zero_model and tk.loss == MULTINOMIAL:
        return log(<double> m.K)
    for s in range(n):
        i = tk.order[s]
        sw = 1.0 if tk.sw == NULL else tk.sw[i]
        if zero_model:
            y = (<const floating*> tk.y) + i * tk.y_stride
            row = 0.0
            for k in range(m.K):
                row += loss_grad(tk.loss, 0.0, target(tk, y, k), tk.loss_param,
                                 &dloss)
        else:
            nnz = get_row(&tk.rows, i, &x, &xi)
            row = row_loss(tk, m, x, xi, nnz, i, sc)
        total += sw * row
        weights += sw
    return total / weights if weights > 0 else 0.0


cdef void run_per_sample(Task* tk, Model* m, Lazy* lz, Scratch* sc,
                         Outcome* out, const floating* like) noexcept nogil:
    cdef Py_ssize_t s, i, jj
    cdef int nnz, k
    cdef const floating* x
    cdef const int* xi
    cdef double loss, sw
    cdef bint is_pa = tk.sched.kind == PA1 or tk.sched.kind == PA2
    for s in range(tk.n_order):
        i = tk.order[s]
        nnz = get_row(&tk.rows, i, &x, &xi)
        prefetch_ahead(tk, s, x)
        if xi != NULL:
            if tk.look and s + tk.look < tk.n_order:
                prefetch_coordinates(tk, m, lz, tk.order[s + tk.look], x)
            elif m.S != NULL:
                # The state lines then arrive while the dot product waits
                # for the weights'.
                for k in range(m.K):
                    for jj in range(nnz):
                        SGDL_PREFETCH(at(m.S, k * m.srow + xi[jj] * m.sstep, x))
            catch_up(m, lz, &tk.opt, xi, nnz, s, x)
            if tk.l1 > 0:
                clip_l1(m, xi, nnz, True, x)
        loss = row_loss(tk, m, x, xi, nnz, i, sc)
        if not (isfinite(loss) and isfinite(sc.p[0])):
            out.status = DIVERGED
            out.failed_at = s
            return
        out.sumloss += loss * (1.0 if tk.sw == NULL else tk.sw[i])
        if is_pa:
            if tk.sched.kind == PA1 and sq_norm(x, nnz) == 0:
                continue
            pa_rescale(tk, sc, x, nnz, loss)
        for k in range(m.K):
            sc.gscale[k] = sc.c[k]
            sc.gb[k] = sc.c[k]
        update(tk, m, lz, sc, x, 0, xi, nnz, s + 1)
        out.n_updates += 1
        sw = 1.0 if tk.sw == NULL else tk.sw[i]
        if exploded(out, loss * sw, sw):
            out.status = EXPLODED
            out.failed_at = s
            return


cdef Py_ssize_t mark_batch(Task* tk, const Model* m, const Lazy* lz,
                           Scratch* sc, Py_ssize_t start, Py_ssize_t stop,
                           const floating* like) noexcept nogil:
    """Collect the distinct columns of rows order[start:stop] in sc.touched,
    with each one's position there in sc.mark[2 j + 1].

    Two passes.  Each occurrence of a column writes its rank among the
    batch's non-zeros to mark[2 j]; then the occurrence that still finds its
    own rank there is its column's last, and appends it.  (Marks left by
    earlier batches are never read: the first pass overwrites those of this
    batch's columns.)  No load waits on the stores before it: one pass that
    asked "seen already?" and appended ran at ~16 cycles per non-zero even
    with everything in L1, each load of mark waiting for the address of the
    previous append.  The first pass is the batch's first look at its rows
    and columns, so it also asks for them: the rows ahead and, when the
    model outgrows L2 (tk.look > 0), the weights and state of each column,
    for the dot products and the update."""
    cdef Py_ssize_t r, jj, n_touched = 0, q = 0
    cdef int nnz, j
    cdef int* mark = sc.mark
    cdef int* touched = sc.touched
    cdef const floating* x
    cdef const int* xi
    for r in range(start, stop):
        if r + tk.ahead < tk.n_order:
            prefetch_sample(tk, r + tk.ahead, like)
        nnz = get_row(&tk.rows, tk.order[r], &x, &xi)
        for jj in range(nnz):
            mark[2 * xi[jj]] = <int> (q + jj)
            if tk.look:
                prefetch_coordinate(m, lz, xi[jj], like)
        q += nnz
    q = 0
    for r in range(start, stop):
        nnz = get_row(&tk.rows, tk.order[r], &x, &xi)
        for jj in range(nnz):
            # Unconditional stores: an earlier occurrence's are overwritten
            # by the last one's.
            j = xi[jj]
            touched[n_touched] = j
            mark[2 * j + 1] = <int> n_touched
            n_touched += mark[2 * j] == <int> (q + jj)
        q += nnz
    return n_touched


cdef void run_batches(Task* tk, Model* m, Lazy* lz, Scratch* sc,
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
    cdef bint sparse = tk.rows.indptr != NULL
    start = 0
    while start < tk.n_order:
        stop = min(start + tk.batch_size, tk.n_order)
        batch_loss = batch_weight = 0.0
        if sparse:
            n_touched = mark_batch(tk, m, lz, sc, start, stop, like)
            memset(Gc, 0, m.K * n_touched * sizeof(floating))
            catch_up(m, lz, &tk.opt, sc.touched, n_touched, s, like)
            if tk.l1 > 0:
                clip_l1(m, sc.touched, n_touched, True, like)
        else:
            memset(G, 0, m.K * d * sizeof(floating))
        for k in range(m.K):
            sc.gb[k] = 0.0
        for r in range(start, stop):
            i = tk.order[r]
            nnz = get_row(&tk.rows, i, &x, &xi)
            if not sparse:
                prefetch_ahead(tk, r, x)  # across batches too
            loss = row_loss(tk, m, x, xi, nnz, i, sc)
            if not (isfinite(loss) and isfinite(sc.p[0])):
                out.status = DIVERGED
                out.failed_at = s
                return
            sw = 1.0 if tk.sw == NULL else tk.sw[i]
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
            update(tk, m, lz, sc, Gc, n_touched, sc.touched, n_touched, s)
        else:
            update(tk, m, lz, sc, G, d, NULL, d, s)
        out.n_updates += 1
        if exploded(out, batch_loss, batch_weight):
            out.status = EXPLODED
            out.failed_at = s - 1
            return
        start = stop


cdef object lazy_tables(Task* tk, Model* m, Lazy* lz, Py_ssize_t n_updates):
    """Precompute what sparse catch-up needs for this epoch: powers of the
    decay base and, for momentum, the drift sums F (and H when averaging).
    Returns the arrays, which must outlive the epoch."""
    cdef int kind = tk.opt.kind
    cdef double base = tk.opt.rho if kind == RMSPROP else tk.opt.momentum
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
        t = tk.t + r - 1
        eta[r] = eta_at(&tk.sched, t)
        a_before[r] = avg_a
        if tk.average > 0 and t >= tk.average:
            n = t - tk.average + 1
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


cdef check_shapes(const floating[::1] X_data, const int[::1] X_indices,
                  const int[::1] X_indptr, Py_ssize_t d, const floating[::1] y,
                  Py_ssize_t y_stride, const double[::1] sample_weight,
                  const int[::1] order, floating[:, ::1] coef,
                  double[::1] intercept, floating[:, :, ::1] coef_state,
                  bint interleaved, double[:, ::1] intercept_state,
                  floating[:, ::1] avg_coef, double[::1] avg_intercept):
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


def py_shuffle(int[::1] order, uint64_t seed):
    """Test hook: the in-place shuffle fit_epoch applies."""
    if order.shape[0] > 1:
        shuffle(&order[0], order.shape[0], seed)


def fit_epoch(*, const floating[::1] X_data, const int[::1] X_indices,
              const int[::1] X_indptr, Py_ssize_t n_features,
              const floating[::1] y, Py_ssize_t y_stride,
              const double[::1] sample_weight, int[::1] order,
              floating[:, ::1] coef, double[::1] intercept,
              floating[:, :, ::1] coef_state, double[:, ::1] intercept_state,
              bint state_interleaved=False,
              floating[:, ::1] avg_coef, double[::1] avg_intercept,
              Optim optim, Schedule schedule, dict task, object shuffle_seed=None):
    """Run one epoch over the rows ``order`` and update the state in place.

    With a ``shuffle_seed`` (a 64-bit integer), ``order`` is first shuffled
    in place (Fisher-Yates), so it holds the order the epoch used.

    Dense X is passed flattened, with empty ``X_indices`` and ``X_indptr``.
    An empty ``sample_weight``, ``coef_state`` or ``avg_coef`` means unit
    weights, a stateless optimizer, no averaging.  ``coef_state`` is (K,
    n_slots, d), or (K, d, n_slots) with ``state_interleaved`` (sparse X
    only: a sparse update then reads one cache line per coordinate).  ``task`` holds the other
    scalars of ``Task``.  Returns ``(sumloss, n_updates, status, failed_at,
    t, step, reference, final, sq_norm, l1_norm)``: the summed weighted
    loss, the updates made, a ``Status``, the update at which training
    diverged, the schedule and optimizer counters to carry over, the mean
    loss of the all-zero model and of the final weights over the first rows
    of the order (1/64 of them, 8 to 256), and the squared L2 and the L1 norm
    of the final coef.
    """
    cdef Task tk
    cdef Model m
    cdef Lazy lz
    cdef Scratch sc
    cdef Outcome out
    cdef Py_ssize_t K = coef.shape[0], d = n_features, n_updates
    cdef Py_ssize_t n_rows, row_bytes, n_slots, coef_slots
    cdef double reference, final = 0.0, sq_norm_w = 0.0, l1_norm_w = 0.0
    cdef bint sparse = X_indptr.shape[0] > 0
    cdef bint averaging = avg_coef.shape[0] > 0
    cdef double[::1] p, c, gscale, gb
    cdef floating[:, ::1] G, Gc, old, Q
    cdef int[::1] touched, mark, last
    check_shapes(X_data, X_indices, X_indptr, n_features, y, y_stride,
                 sample_weight, order, coef, intercept, coef_state,
                 state_interleaved, intercept_state, avg_coef, avg_intercept)
    cdef uint64_t seed = 0
    if shuffle_seed is not None and order.shape[0] > 1:
        seed = <uint64_t> shuffle_seed
        with nogil:
            shuffle(&order[0], order.shape[0], seed)
    memset(&lz, 0, sizeof(Lazy))
    memset(&out, 0, sizeof(Outcome))
    dtype = np.float32 if floating is float else np.float64

    tk.rows.data = <const void*> &X_data[0] if X_data.shape[0] else NULL
    tk.rows.indices = &X_indices[0] if sparse and X_indices.shape[0] else NULL
    tk.rows.indptr = &X_indptr[0] if sparse else NULL
    tk.rows.n_features = d
    tk.y = <const void*> &y[0] if y.shape[0] else NULL
    tk.y_stride = y_stride
    tk.positive = task["positive"]
    tk.sw = &sample_weight[0] if sample_weight.shape[0] else NULL
    tk.order = &order[0] if order.shape[0] else NULL
    tk.n_order = order.shape[0]
    coef_slots = coef_state.shape[2 if state_interleaved else 1]
    n_rows = X_indptr.shape[0] - 1 if sparse else X_data.shape[0] // max(d, 1)
    row_bytes = X_data.shape[0] * (sizeof(floating) + sparse * sizeof(int))
    row_bytes = max(row_bytes // max(n_rows, 1), 1)
    if sparse:
        tk.ahead = max(1, min(16, SPARSE_PREFETCH_BYTES // row_bytes))
        tk.far = 0
        # Half way: the row's own indices, prefetched ``ahead`` rows
        # earlier, must have arrived (at ``ahead`` it was 35% slower).
        tk.look = max(1, tk.ahead // 2)
        if (coef.shape[0] * d * (1 + coef_slots) * sizeof(floating)
                <= L2_RESIDENT_BYTES):
            tk.look = 0
    else:
        tk.ahead = max(1, min(16, DENSE_PREFETCH_BYTES // row_bytes))
        tk.far = max(tk.ahead + 2,
                     min(64, DENSE_L2_PREFETCH_BYTES // row_bytes))
        tk.look = 0
    tk.batch_size = task["batch_size"]
    tk.loss = task["loss"]
    tk.loss_param = task["loss_param"]
    tk.fit_intercept = task["fit_intercept"]
    tk.intercept_decay = task["intercept_decay"]
    tk.l1 = task["l1"]
    tk.average = task["average"] if averaging else 0.0
    tk.explode = task["explode"]
    tk.t = task["t"]
    tk.opt = optim
    tk.opt.beta1_pow = optim.beta1 ** optim.step
    tk.opt.beta2_pow = optim.beta2 ** optim.step
    tk.sched = schedule

    m.W = <void*> &coef[0, 0]
    n_slots = coef_state.shape[2 if state_interleaved else 1]
    m.S = <void*> &coef_state[0, 0, 0] if n_slots else NULL
    m.AW = <void*> &avg_coef[0, 0] if averaging else NULL
    m.Q = NULL
    m.b = &intercept[0]
    m.Sb = &intercept_state[0, 0] if intercept_state.shape[1] else NULL
    m.Ab = &avg_intercept[0] if averaging else NULL
    m.K = <int> K
    m.d = d
    m.slot = 1 if state_interleaved else d
    m.sstep = n_slots if state_interleaved else 1
    m.srow = n_slots * d
    m.srow_b = intercept_state.shape[1]
    m.wscale = 1.0
    m.avg_a = 0.0
    m.avg_b = 1.0
    m.u = 0.0

    p = np.zeros(K)
    c = np.zeros(K)
    gscale = np.zeros(K)
    gb = np.zeros(K)
    sc.p, sc.c, sc.gscale, sc.gb = &p[0], &c[0], &gscale[0], &gb[0]
    sc.G = sc.Gc = sc.old = NULL
    sc.touched = sc.mark = NULL
    if tk.batch_size > 1 and sparse:
        Gc = np.empty((K, d), dtype=dtype)
        touched = np.empty(d, dtype=np.intc)
        mark = np.empty(2 * d, dtype=np.intc)
        sc.Gc, sc.touched, sc.mark = <void*> &Gc[0, 0], &touched[0], &mark[0]
    elif tk.batch_size > 1:
        G = np.zeros((K, d), dtype=dtype)
        sc.G = <void*> &G[0, 0]
    if averaging:
        old = np.zeros((K, d), dtype=dtype)
        sc.old = <void*> &old[0, 0]
    if tk.l1 > 0:
        Q = np.zeros((K, d), dtype=dtype)
        m.Q = <void*> &Q[0, 0]

    n_updates = tk.n_order
    if tk.batch_size > 1:
        n_updates = (tk.n_order + tk.batch_size - 1) // tk.batch_size
    out.watch.window = max(1, min(256, n_updates // 4))
    out.watch.limit = INFINITY
    reference = 0.0
    if tk.explode > 0:
        reference = reference_loss(&tk, &m, &sc, True, &coef[0, 0])
        out.watch.limit = tk.explode * max(1.0, reference)
    keep = None
    if sparse and tk.opt.kind in (MOMENTUM, NESTEROV, RMSPROP):
        last = np.zeros(d, dtype=np.intc)
        lz.last = &last[0]
        keep = lazy_tables(&tk, &m, &lz, n_updates)

    with nogil:
        if tk.batch_size > 1:
            run_batches(&tk, &m, &lz, &sc, &out, &coef[0, 0])
        else:
            run_per_sample(&tk, &m, &lz, &sc, &out, &coef[0, 0])
        if out.status == OK:
            if sparse:
                # Settle what was left lazy, so the arrays hold true values.
                catch_up(&m, &lz, &tk.opt, NULL, d, out.n_updates, &coef[0, 0])
                if tk.l1 > 0:
                    clip_l1(&m, NULL, d, True, &coef[0, 0])
            fold_scale(&m, &coef[0, 0])
            if not (finite_norms(&coef[0, 0], K * d, &sq_norm_w, &l1_norm_w)
                    and all_finite(&intercept[0], K)):
                out.status = DIVERGED
                out.failed_at = out.n_updates
            elif tk.explode > 0:
                # The last updates' effect is not in any loss seen so far.
                final = reference_loss(&tk, &m, &sc, False, &coef[0, 0])
                if not isfinite(final) or final > out.watch.limit:
                    out.status = EXPLODED
                    out.failed_at = out.n_updates
    return (out.sumloss, out.n_updates, out.status, out.failed_at, tk.t,
            tk.opt.step, reference, final, sq_norm_w, l1_norm_w)
