# Prefetch policy of the epoch loops (part of _epoch_impl.pxi): how far
# ahead to ask for rows, targets, weights and optimizer state.  Shuffled rows
# defeat the hardware prefetcher, so the loops ask for what comes next
# themselves.  The measurements behind these choices are in
# benchmarks/README.md, "Kernel tuning history".

# Bytes of upcoming rows to keep in flight: enough to hide DRAM latency on
# shuffled rows, small enough not to evict the weights from L1/L2.  CSR rows
# go to L1; dense rows in two steps, into L2 (more miss buffers than L1) and
# from there into L1.
cdef Py_ssize_t SPARSE_PREFETCH_BYTES = 4096
cdef Py_ssize_t DENSE_PREFETCH_BYTES = 2048
cdef Py_ssize_t DENSE_L2_PREFETCH_BYTES = 12288
# Rows ahead, at most, in L1 and in L2.
cdef Py_ssize_t MAX_AHEAD = 16
cdef Py_ssize_t MAX_FAR = 64
# Above this many bytes of weights and optimizer state, a CSR update's
# lines are prefetched a few rows ahead into L2 (prefetch_coordinates);
# below, they mostly sit in L2 already and only the current row's state is
# prefetched into L1.
cdef Py_ssize_t L2_RESIDENT_BYTES = 1 << 20


cdef void prefetch_policy(Epoch* ep, Py_ssize_t n_rows, Py_ssize_t n_values,
                          Py_ssize_t value_bytes,
                          Py_ssize_t model_bytes) noexcept nogil:
    """Set ep.ahead, ep.far and ep.look from the mean row size (``n_values``
    stored values of ``value_bytes`` each, with an int index when sparse)
    and the bytes of weights and state."""
    cdef bint sparse = ep.rows.indptr != NULL
    cdef Py_ssize_t row_bytes = n_values * (value_bytes + sparse * sizeof(int))
    row_bytes = max(row_bytes // max(n_rows, 1), 1)
    if sparse:
        ep.ahead = max(1, min(MAX_AHEAD, SPARSE_PREFETCH_BYTES // row_bytes))
        ep.far = 0
        # Half way: the row's own indices, prefetched ``ahead`` rows
        # earlier, must have arrived.
        ep.look = max(1, ep.ahead // 2)
        if model_bytes <= L2_RESIDENT_BYTES:
            ep.look = 0
    else:
        ep.ahead = max(1, min(MAX_AHEAD, DENSE_PREFETCH_BYTES // row_bytes))
        ep.far = max(ep.ahead + 2,
                     min(MAX_FAR, DENSE_L2_PREFETCH_BYTES // row_bytes))
        ep.look = 0


cdef inline void prefetch_sample(const Epoch* ep, Py_ssize_t s,
                                 const floating* like) noexcept nogil:
    """Prefetch what visiting ``order[s]`` needs.  A CSR row's address is
    itself loaded from ``indptr[order[s]]``: that entry is prefetched twice
    as far ahead, so finding the row never waits on memory."""
    cdef Py_ssize_t i = ep.order[s]
    if ep.rows.indptr != NULL and s + ep.ahead < ep.n_order:
        SGDL_PREFETCH(ep.rows.indptr + ep.order[s + ep.ahead])
    prefetch_row(&ep.rows, i, like)
    SGDL_PREFETCH((<const floating*> ep.y) + i * ep.y_stride)
    if ep.sw != NULL:
        SGDL_PREFETCH(ep.sw + i)


cdef inline void prefetch_ahead(const Epoch* ep, Py_ssize_t s,
                                const floating* like) noexcept nogil:
    """While visiting ``order[s]``, prefetch the rows to come.  Their
    targets and weights go to L2 with the far rows too: y is read at random
    and the rows streaming through L2 evict it."""
    cdef Py_ssize_t i
    if s + ep.ahead < ep.n_order:
        prefetch_sample(ep, s + ep.ahead, like)
    if ep.far and s + ep.far < ep.n_order:
        i = ep.order[s + ep.far]
        prefetch_row(&ep.rows, i, like, True)
        SGDL_PREFETCH_L2((<const floating*> ep.y) + i * ep.y_stride)
        if ep.sw != NULL:
            SGDL_PREFETCH_L2(ep.sw + i)


cdef inline void prefetch_coordinate(const Model* m, const Lazy* lz,
                                     Py_ssize_t j,
                                     const floating* like) noexcept nogil:
    """Ask for the lines an update will touch at column j: weights,
    optimizer state, average, L1 record, last-update counter.  Into L2
    only: asking for them in L1 too filled L1's miss buffers."""
    cdef int k
    if lz.last != NULL:
        SGDL_PREFETCH_L2(lz.last + j)
    for k in range(m.K):
        SGDL_PREFETCH_L2(at(m.W, k * m.d + j, like))
        if m.S != NULL:
            SGDL_PREFETCH_L2(at(m.S, k * m.srow + j * m.sstep, like))
            if m.sstep > 4:  # a record of 5 slots straddles two lines
                #              one time in two (COCOB's; AMSGrad's 3-slot
                #              records gained nothing from it)
                SGDL_PREFETCH_L2(at(m.S, k * m.srow + (j + 1) * m.sstep - 1,
                                    like))
        if m.AW != NULL:
            SGDL_PREFETCH_L2(at(m.AW, k * m.d + j, like))
        if m.Q != NULL:
            SGDL_PREFETCH_L2(at(m.Q, k * m.d + j, like))


cdef inline void prefetch_coordinates(const Epoch* ep, const Model* m,
                                      const Lazy* lz, Py_ssize_t i,
                                      const floating* like) noexcept nogil:
    """prefetch_coordinate at each column of CSR row i."""
    cdef const floating* x
    cdef const int* xi
    cdef int nnz = get_row(&ep.rows, i, &x, &xi)
    cdef Py_ssize_t jj
    for jj in range(nnz):
        prefetch_coordinate(m, lz, xi[jj], like)
