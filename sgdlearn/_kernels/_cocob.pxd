# COCOB-Backprop's per-coordinate loop (Orabona & Tommasi 2017, Algorithm 2,
# as the authors' code runs it: parameterfree 0.0.1, cocob.py), called by
# apply_update in _optim.pxd.
#
# State per coordinate, in five slots (the table's order): theta (the sum of
# the negative gradients, torch's ``sum_negative_gradients``), G (the sum of
# their absolute values, ``grad_norm_sum``), L (the largest |g| seen, from
# eps), the reward and x0 (the starting weight).  No learning rate:
#
#     L = max(L, |g|);  theta -= g;  G += |g|
#     reward = max(reward - g (w - x0), 0)
#     w = (reward + L) theta / (max(G + L, alpha L) L) + x0
#
# The weight is a function of the state, stored in coef after each update.
# A zero gradient leaves every slot as it was (reward >= 0) and so the
# weight: a sparse update touches the row's coordinates only, with nothing
# to catch up (the coupled L2 gradient, l2 * w, is then added on the
# touched coordinates only: the row's sparse="lazy").
#
# Slot k of coordinate j is at S[k * slot + j * ss]: dense rows have the
# (slot, feature) layout, ss == 1 (apply_update passes a literal 1 and NULL,
# so the inlined dense copy has a unit stride and vectorizes); sparse rows
# the interleaved (feature, slot) one, slot == 1, ss == 5: a coordinate's
# state then lies in one or two cache lines.
from cython cimport floating
from libc.math cimport fabs

# Coordinates per chunk of an update (the gradients of a chunk are kept in a
# local buffer).
cdef enum:
    COCOB_CHUNK = 64


cdef inline void cocob_dense(floating* w, floating* S, Py_ssize_t slot,
                             const floating* g, floating gs, floating l2,
                             Py_ssize_t n, floating alpha) noexcept nogil:
    """cocob_coords of a dense row (coordinates 0..n-1, unit stride), in
    four passes per chunk, each touching few arrays: a loop over the
    weights and the five state arrays at once needs more run-time alias
    checks than gcc makes, and stays scalar (per-sample epoch on 100
    features: 35 ms against 21 ms in passes).  The same operations per
    coordinate as the one-pass rule."""
    cdef floating gq[COCOB_CHUNK]
    cdef Py_ssize_t start, q, cn
    cdef floating ag, r, lj, den
    cdef floating* wc
    cdef floating* tc
    cdef floating* nc
    cdef floating* lc
    cdef floating* rc
    cdef floating* xc
    cdef const floating* gc
    start = 0
    while start < n:
        cn = min(<Py_ssize_t> COCOB_CHUNK, n - start)
        wc = w + start
        tc = S + start
        nc = S + slot + start
        lc = S + 2 * slot + start
        rc = S + 3 * slot + start
        xc = S + 4 * slot + start
        gc = g + start
        for q in range(cn):
            gq[q] = gs * gc[q] + l2 * wc[q]
        for q in range(cn):  # L, theta, G
            ag = fabs(gq[q])
            lc[q] = lc[q] if lc[q] >= ag else ag
            tc[q] = tc[q] - gq[q]
            nc[q] = nc[q] + ag
        for q in range(cn):  # the reward, with the weight before the update
            r = rc[q] - gq[q] * (wc[q] - xc[q])
            rc[q] = r if r > 0 else 0
        for q in range(cn):  # the new bet
            lj = lc[q]
            den = nc[q] + lj
            den = (den if den >= alpha * lj else alpha * lj) * lj
            wc[q] = (rc[q] + lj) * tc[q] / den + xc[q]
        start += cn


cdef inline void cocob_coords(floating* w, floating* S, Py_ssize_t slot,
                              Py_ssize_t ss, const floating* g, floating gs,
                              floating l2, const int* idx, Py_ssize_t n,
                              floating alpha) noexcept nogil:
    """One COCOB-Backprop update of coordinates j = idx[jj] (jj when idx is
    NULL), jj < n, for the gradient gs * g[jj] + l2 * w[j]; torch's
    operations in its order (parameterfree's results).  Sparse rows in one
    pass (gathering the chunk into buffers first, for vector divisions,
    measured no faster: the update waits on the state's cache lines)."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, ag, lj, th, gsum, r, den
    cdef floating* theta = S
    cdef floating* G = S + slot
    cdef floating* L = S + 2 * slot
    cdef floating* reward = S + 3 * slot
    cdef floating* x0 = S + 4 * slot
    if idx == NULL:
        cocob_dense(w, S, slot, g, gs, l2, n, alpha)
        return
    for jj in range(n):
        j = idx[jj]
        s = j * ss
        gj = gs * g[jj] + l2 * w[j]
        ag = fabs(gj)
        lj = L[s] if L[s] >= ag else ag
        th = theta[s] - gj
        gsum = G[s] + ag
        r = reward[s] - gj * (w[j] - x0[s])
        r = r if r > 0 else 0
        L[s] = lj
        theta[s] = th
        G[s] = gsum
        reward[s] = r
        den = gsum + lj
        den = (den if den >= alpha * lj else alpha * lj) * lj
        w[j] = (r + lj) * th / den + x0[s]
